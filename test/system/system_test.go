package system_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
)

// The test policy: limits short enough that an idle close takes well under
// a minute. Line 2 is the rule the idle records cite.
const (
	testPolicy = `# sshwarden system test (test/system): short limits
IdleTimeout 30s
WarnBefore 10s
CloseNoTTY yes
ScanInterval 2s
`
	idleTimeout  = 30 * time.Second
	warnBefore   = 10 * time.Second
	scanInterval = 2 * time.Second
	idleRule     = "/etc/sshwarden/policy.conf:2"
	policyPath   = "/etc/sshwarden/policy.conf"
	testSummary  = "globally IdleTimeout 30s, WarnBefore 10s, MaxSessionTime none"
)

// maxExposure is the goal for systemd-analyze security.
const maxExposure = 1.5

// The MESSAGE_IDs of the records the test reads (packaging/sshwarden.catalog;
// they never change).
const (
	idWarn       = "610b2d2974864cc9bf4a310ea5cdb6da"
	idWarnFailed = "84f97a72c57a4eeeb78484514dcabb66"
	idClose      = "d5a4999b3ce94f82a5408f9294bffc55"
)

func suites() []string {
	if s := os.Getenv("SSHWARDEN_SYSTEM_SUITES"); s != "" {
		return strings.Fields(s)
	}
	return []string{"bookworm", "trixie"}
}

// TestSystem installs the package in booted Debian 12 and 13 containers
// and checks it as an admin would. Each suite runs two containers at once:
// one for the agent's checks, one for upgrade and purge.
func TestSystem(t *testing.T) {
	need(t)
	start := time.Now()
	repo := repoRoot(t)
	times := &timings{}
	t.Cleanup(func() {
		t.Logf("timings (LAB_COPY=%s):\n%s\ntotal: %.1fs", labCopy(), times, time.Since(start).Seconds())
	})
	l := &lab{script: filepath.Join(repo, "test", "system", "lab.sh"), times: times}
	first := firstPackage(t, repo)
	next := nextPackage(t, repo, first)
	t.Logf("package %s (%s), upgrade to %s (%s)", first.version, first.path, next.version, next.path)
	for _, suite := range suites() {
		t.Run(suite, func(t *testing.T) {
			t.Parallel()
			l.root(t, suite)
			t.Run("agent", func(t *testing.T) {
				t.Parallel()
				testAgent(t, l, suite, first)
			})
			t.Run("upgrade-purge", func(t *testing.T) {
				t.Parallel()
				testUpgradePurge(t, l, suite, first, next)
			})
		})
	}
}

func labCopy() string {
	if s := os.Getenv("LAB_COPY"); s != "" {
		return s
	}
	return "overlay"
}

// testAgent installs the package and checks the running agent.
func testAgent(t *testing.T, l *lab, suite string, p pkg) {
	c := l.boot(t, suite)
	c.install(t, p)
	// alice: a user with a key (root's is made by lab.sh); '*' is no
	// password, not a locked account.
	c.sh(t, `useradd -m -s /bin/bash alice
usermod -p '*' alice
ssh-keygen -q -t ed25519 -N '' -C alice -f /root/.ssh/alice
install -d -m 700 -o alice -g alice /home/alice/.ssh
install -m 600 -o alice -g alice /root/.ssh/alice.pub /home/alice/.ssh/authorized_keys`)

	t.Run("service", func(t *testing.T) { checkService(t, c) })
	t.Run("security", func(t *testing.T) { checkSecurity(t, c) })

	// The test policy, in force from a restart on.
	c.write(t, policyPath, testPolicy)
	mark := time.Now()
	c.run(t, "systemctl", "restart", "sshwarden")
	if _, ok := c.waitRecord(t, mark, 20*time.Second, "agent-started with the test policy", func(r entry) bool {
		return r["SSHWARDEN_ACTION"] == "agent-started" && strings.Contains(r["MESSAGE"], testSummary)
	}); !ok {
		t.FailNow()
	}

	t.Run("sessions", func(t *testing.T) { checkSessions(t, c, sessionSpecs, nil) })
	t.Run("ssh-restart", func(t *testing.T) {
		// The sessions open while ssh.service restarts: their monitors
		// are left running, reparented to PID 1 (OPENSSH.md).
		checkSessions(t, c, restartSpecs, func(t *testing.T) {
			before := c.waitActive(t, "ssh.service", 10*time.Second)
			c.run(t, "systemctl", "restart", "ssh.service")
			after := c.waitActive(t, "ssh.service", 30*time.Second)
			if after["MainPID"] == before["MainPID"] {
				t.Fatalf("ssh.service MainPID %s after systemctl restart ssh, want a new one", after["MainPID"])
			}
		})
	})
	t.Run("reload", func(t *testing.T) { checkReload(t, c) })
	t.Run("enforce-config", func(t *testing.T) { checkEnforceConfig(t, c) })
	t.Run("watchdog", func(t *testing.T) { checkWatchdog(t, c) })
	t.Run("evidence", func(t *testing.T) { checkEvidence(t, c) })
}

// checkService: the packaged unit runs, Type=notify (so active means
// READY=1 came), with a STATUS line, enabled.
func checkService(t *testing.T, c *container) {
	props := c.waitActive(t, "sshwarden.service", 30*time.Second)
	got := c.show(t, "sshwarden.service", "Type", "NotifyAccess", "ActiveState", "SubState", "UnitFileState", "WatchdogUSec", "NRestarts", "StatusText", "FragmentPath")
	want := map[string]string{
		"Type":          "notify",
		"NotifyAccess":  "main",
		"ActiveState":   "active",
		"SubState":      "running",
		"UnitFileState": "enabled",
		"WatchdogUSec":  "2min",
		"NRestarts":     "0",
		"FragmentPath":  got["FragmentPath"],
		"StatusText":    got["StatusText"],
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: systemctl show sshwarden (-want +got):\n%s", c.suite, diff)
	}
	// The packaged unit, as systemd names it: /lib/... on Debian 12,
	// /usr/lib/... (/lib is a link to it) on Debian 13.
	if got, want := strings.TrimSpace(c.run(t, "realpath", got["FragmentPath"])), strings.TrimSpace(c.run(t, "realpath", "/lib/systemd/system/sshwarden.service")); got != want {
		t.Errorf("%s: FragmentPath is %s, want the packaged %s", c.suite, got, want)
	}
	if re := regexp.MustCompile(`^watching \d+ SSH sessions \(\d+ pty, \d+ notty, \d+ -N\)$`); !re.MatchString(got["StatusText"]) {
		t.Errorf("%s: StatusText=%q, want it to match %s", c.suite, got["StatusText"], re)
	}
	if pid := props["MainPID"]; pid == "0" || pid == "" {
		t.Errorf("%s: MainPID=%q", c.suite, pid)
	}
	recs := c.records(t, time.Now().Add(-10*time.Minute))
	started := 0
	for _, r := range recs {
		if r["SSHWARDEN_ACTION"] == "agent-started" && r["_PID"] == props["MainPID"] {
			started++
		}
	}
	if started != 1 {
		t.Errorf("%s: %d agent-started records from MainPID %s, want 1:\n%s", c.suite, started, props["MainPID"], messages(recs))
	}
}

// checkSecurity: systemd-analyze security rates the installed unit at
// most maxExposure.
func checkSecurity(t *testing.T, c *container) {
	out := c.run(t, "systemd-analyze", "security", "--no-pager", "sshwarden.service")
	m := regexp.MustCompile(`Overall exposure level for sshwarden\.service: (\d+\.\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("%s: systemd-analyze security printed no exposure level:\n%s", c.suite, out)
	}
	level, _ := strconv.ParseFloat(m[1], 64)
	t.Logf("%s: exposure %.1f", c.suite, level)
	if level > maxExposure {
		t.Errorf("%s: systemd-analyze security sshwarden.service: exposure %.1f, want at most %.1f:\n%s", c.suite, level, maxExposure, out)
	}
}

// checkReload: systemctl reload with a good policy exits 0 once the new
// policy is in force; with a broken one it exits non-zero, and the last
// good policy stays (the agent keeps running, the same process).
//
// The agent also watches the file and reloads it when it changes, so the
// policy may be in force before systemctl reload runs; what is checked is
// that it is by the time reload returns, and the exit status.
func checkReload(t *testing.T, c *container) {
	good := strings.Replace(testPolicy, "IdleTimeout 30s", "IdleTimeout 45s", 1)
	broken := strings.Replace(testPolicy, "IdleTimeout 30s", "IdleTimeout soon", 1)
	for _, tc := range []struct {
		name    string
		policy  string
		wantOK  bool
		summary string // the policy-loaded record's, when wantOK
	}{
		{"good", good, true, "globally IdleTimeout 45s, WarnBefore 10s, MaxSessionTime none"},
		{"broken", broken, false, ""},
		{"restore", testPolicy, true, testSummary},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := c.waitActive(t, "sshwarden.service", 10*time.Second)
			written := time.Now()
			c.write(t, policyPath, tc.policy)
			out, errout, err := c.try(nil, time.Minute, "systemctl", "reload", "sshwarden")
			returned := time.Now()
			rc := exitCode(err)
			switch {
			case tc.wantOK && rc != 0:
				t.Errorf("%s: systemctl reload sshwarden with a good policy: exit %d, want 0\n%s%s", c.suite, rc, out, errout)
			case !tc.wantOK && rc == 0:
				t.Errorf("%s: systemctl reload sshwarden with a broken policy: exit 0, want non-zero (the agent refuses the policy: reload must say so)", c.suite)
			}
			want := "policy-error"
			if tc.wantOK {
				want = "policy-loaded"
			}
			r, ok := c.waitRecord(t, written, 10*time.Second, want, func(r entry) bool {
				return r["SSHWARDEN_ACTION"] == want && r["_PID"] == before["MainPID"] && strings.Contains(r["MESSAGE"], tc.summary)
			})
			if ok {
				t.Logf("%s: %s record %+.3fs from systemctl reload's return: %s", c.suite, want, r.at().Sub(returned).Seconds(), r["MESSAGE"])
				// journald's reception time, and the agent's records
				// are queued: a little after the switch.
				if tc.wantOK && r.at().After(returned.Add(time.Second)) {
					t.Errorf("%s: the new policy came into force %.1fs after systemctl reload returned: reload does not wait for it", c.suite, r.at().Sub(returned).Seconds())
				}
				if !tc.wantOK {
					got := map[string]string{"SSHWARDEN_FILE": r["SSHWARDEN_FILE"], "SSHWARDEN_LINE": r["SSHWARDEN_LINE"], "PRIORITY": r["PRIORITY"]}
					want := map[string]string{"SSHWARDEN_FILE": policyPath, "SSHWARDEN_LINE": "2", "PRIORITY": "3"}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("%s: policy-error record (-want +got):\n%s", c.suite, diff)
					}
				}
			}
			after := c.waitActive(t, "sshwarden.service", 10*time.Second)
			if after["MainPID"] != before["MainPID"] {
				t.Errorf("%s: MainPID %s after the reload, was %s: a reload must not restart the agent", c.suite, after["MainPID"], before["MainPID"])
			}
		})
	}
}

// checkEnforceConfig: with EnforceConfig yes the agent fixes sshd_config
// when it breaks the policy, and reloads the real ssh.service: at start,
// and when a drop-in drifts.
func checkEnforceConfig(t *testing.T, c *container) {
	policy := testPolicy + "EnforceConfig yes\nClientAliveInterval 300\nClientAliveCountMax 3\n"
	sshd := c.waitActive(t, "ssh.service", 10*time.Second)
	effective := func() string {
		out := c.run(t, "sshd", "-T", "-C", "user=root,host=localhost,addr=127.0.0.1,laddr=127.0.0.1,lport=22")
		m := regexp.MustCompile(`(?m)^clientaliveinterval (\S+)$`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("%s: sshd -T printed no clientaliveinterval:\n%s", c.suite, out)
		}
		return m[1]
	}
	for _, step := range []struct {
		name  string
		drift func(t *testing.T)
	}{
		// Debian's sshd_config leaves ClientAliveInterval at 0: the
		// policy's requirement is broken as soon as it is loaded.
		{"policy", func(t *testing.T) {
			c.write(t, policyPath, policy)
			c.run(t, "systemctl", "reload", "sshwarden")
		}},
		// A drop-in read first (sshd_config includes sshd_config.d at
		// its top) breaks it again.
		{"drift", func(t *testing.T) {
			c.write(t, "/etc/ssh/sshd_config.d/00-drift.conf", "ClientAliveInterval 0\n")
			if got := effective(); got != "0" {
				t.Fatalf("%s: clientaliveinterval %s after the drift, want 0", c.suite, got)
			}
		}},
	} {
		t.Run(step.name, func(t *testing.T) {
			mark := time.Now()
			step.drift(t)
			r, ok := c.waitRecord(t, mark, 30*time.Second, "config-fixed", func(r entry) bool {
				return r["SSHWARDEN_ACTION"] == "config-fixed" || r["SSHWARDEN_ACTION"] == "config-fix-failed"
			})
			if !ok {
				return
			}
			if r["SSHWARDEN_ACTION"] != "config-fixed" {
				t.Fatalf("%s: %s: %s", c.suite, r["SSHWARDEN_ACTION"], r["MESSAGE"])
			}
			t.Logf("%s: %s", c.suite, r["MESSAGE"])
			if got := effective(); got != "300" {
				t.Errorf("%s: sshd -T: clientaliveinterval %s after config-fixed, want 300", c.suite, got)
			}
			// ssh.service was reloaded, not restarted: the same sshd,
			// and the reload in its journal.
			now := c.waitActive(t, "ssh.service", 10*time.Second)
			if now["ExecMainPID"] != sshd["ExecMainPID"] {
				t.Errorf("%s: ssh.service ExecMainPID %s, was %s: the fix restarted sshd instead of reloading it", c.suite, now["ExecMainPID"], sshd["ExecMainPID"])
			}
			ok, _ = sshdtest.WaitFor(10*time.Second, pollEvery, func() (bool, string) {
				for _, e := range c.journal(t, mark, "-u", "ssh.service") {
					if strings.Contains(e["MESSAGE"], "Received SIGHUP") || (e["JOB_TYPE"] == "reload" && e["JOB_RESULT"] == "done") {
						return true, ""
					}
				}
				return false, ""
			})
			if !ok {
				t.Errorf("%s: no reload of ssh.service in its journal after the fix:\n%s", c.suite, c.run(t, "journalctl", "--no-pager", "-u", "ssh.service", "-n", "20"))
			}
			if out, errout, err := c.try(nil, 30*time.Second, "ssh", "-o", "BatchMode=yes", "root@127.0.0.1", "true"); err != nil {
				t.Errorf("%s: a new login after the fix: %v\n%s%s", c.suite, err, out, errout)
			}
		})
	}
	t.Logf("%s: ClientAliveInterval lines after the fixes:\n%s", c.suite,
		c.sh(t, `grep -rn -i '^ *ClientAliveInterval' /etc/ssh/sshd_config /etc/ssh/sshd_config.d/ || true`))
	// The later checks run with the plain test policy.
	mark := time.Now()
	c.write(t, policyPath, testPolicy)
	if out, errout, err := c.try(nil, time.Minute, "systemctl", "reload", "sshwarden"); err != nil {
		t.Errorf("%s: systemctl reload sshwarden back to the test policy (without EnforceConfig): %v (after %.1fs)\n%s%s\n%s", c.suite, err,
			time.Since(mark).Seconds(), out, errout, c.run(t, "journalctl", "--no-pager", "-u", "sshwarden", "-n", "15"))
	}
	c.waitRecord(t, mark, 10*time.Second, "policy-loaded", func(r entry) bool {
		return r["SSHWARDEN_ACTION"] == "policy-loaded" && strings.Contains(r["MESSAGE"], testSummary)
	})
}

// watchdogDropIn is the test's drop-in: a watchdog period short enough to
// see it fire within the test (the unit ships WatchdogSec=2min).
const watchdogDropIn = "/etc/systemd/system/sshwarden.service.d/50-system-test-watchdog.conf"

// checkWatchdog: a hung agent (SIGSTOP: no more WATCHDOG=1) is restarted
// by systemd's watchdog.
func checkWatchdog(t *testing.T, c *container) {
	c.write(t, watchdogDropIn, "# system test: see the watchdog fire within the test\n[Service]\nWatchdogSec=10s\n")
	t.Cleanup(func() {
		c.run(t, "rm", "-f", watchdogDropIn)
		c.run(t, "systemctl", "daemon-reload")
		c.run(t, "systemctl", "restart", "sshwarden")
	})
	c.run(t, "systemctl", "daemon-reload")
	c.run(t, "systemctl", "restart", "sshwarden")
	before := c.waitActive(t, "sshwarden.service", 30*time.Second)
	if got := c.show(t, "sshwarden.service", "WatchdogUSec")["WatchdogUSec"]; got != "10s" {
		t.Fatalf("%s: WatchdogUSec=%s with the drop-in, want 10s", c.suite, got)
	}
	// Two periods with pings: the healthy agent is not restarted.
	time.Sleep(20 * time.Second) // nothing to wait for: the test is that nothing happens
	if now := c.show(t, "sshwarden.service", "MainPID", "NRestarts"); now["MainPID"] != before["MainPID"] || now["NRestarts"] != before["NRestarts"] {
		t.Fatalf("%s: the healthy agent was restarted: %v, was %v", c.suite, now, before)
	}
	stopped := time.Now()
	c.run(t, "kill", "-STOP", before["MainPID"])
	restarts, _ := strconv.Atoi(before["NRestarts"])
	var after map[string]string
	ok, why := sshdtest.WaitFor(4*time.Minute, pollEvery, func() (bool, string) {
		after = c.show(t, "sshwarden.service", "ActiveState", "SubState", "MainPID", "NRestarts")
		return after["ActiveState"] == "active" && after["MainPID"] != before["MainPID"] && after["MainPID"] != "0" &&
			after["NRestarts"] == strconv.Itoa(restarts+1), fmt.Sprint(after)
	})
	if !ok {
		t.Fatalf("%s: SIGSTOP to the agent (pid %s): not restarted within 4m: %s\n%s", c.suite, before["MainPID"], why,
			c.run(t, "journalctl", "--no-pager", "-u", "sshwarden", "-n", "30"))
	}
	t.Logf("%s: SIGSTOP to pid %s at %s; active again as pid %s after %.1fs", c.suite, before["MainPID"],
		stopped.Format("15:04:05"), after["MainPID"], time.Since(stopped).Seconds())
	var timeout bool
	for _, e := range c.journal(t, stopped, "-u", "sshwarden.service") {
		if strings.Contains(e["MESSAGE"], "Watchdog timeout") {
			timeout = true
			t.Logf("%s: %s %s", c.suite, e.at().Format("15:04:05.000"), e["MESSAGE"])
		}
	}
	if !timeout {
		t.Errorf("%s: no \"Watchdog timeout\" in the unit's journal: the restart was not the watchdog's", c.suite)
	}
}

// testUpgradePurge: an upgrade keeps the admin's edit of policy.conf and
// restarts the agent; purge removes every file of the package and stops
// the service.
func testUpgradePurge(t *testing.T, l *lab, suite string, first, next pkg) {
	c := l.boot(t, suite)
	c.install(t, first)
	c.waitActive(t, "sshwarden.service", 30*time.Second)

	t.Run("upgrade", func(t *testing.T) {
		before := c.waitActive(t, "sshwarden.service", 10*time.Second)
		orig := c.run(t, "cat", policyPath)
		edited := strings.Replace(orig, "\nIdleTimeout 15m\n", "\nIdleTimeout 20m\n", 1) + "# edited by the system test\n"
		if edited == orig+"# edited by the system test\n" {
			t.Fatalf("%s: the shipped policy has no \"IdleTimeout 15m\" line to edit:\n%s", c.suite, orig)
		}
		c.write(t, policyPath, edited)
		mark := time.Now()
		c.install(t, next)
		if got := c.run(t, "cat", policyPath); got != edited {
			t.Errorf("%s: %s after the upgrade to %s (-edited +now):\n%s", c.suite, policyPath, next.version, cmp.Diff(edited, got))
		}
		// dpkg keeps the edit and, when the shipped policy changed between
		// the two packages, puts the new one beside it as .dpkg-dist.
		want := ""
		if shipped := shippedPolicy(t, next); shipped != shippedPolicy(t, first) {
			want = "policy.conf.dpkg-dist"
			if got := c.run(t, "cat", policyPath+".dpkg-dist"); got != shipped {
				t.Errorf("%s: %s.dpkg-dist is not the policy %s ships (-shipped +got):\n%s", c.suite, policyPath, next.version, cmp.Diff(shipped, got))
			}
		}
		if left := strings.TrimSpace(c.sh(t, `ls -A /etc/sshwarden | grep -v '^policy.conf$' || true`)); left != want {
			t.Errorf("%s: /etc/sshwarden holds %q besides policy.conf after the upgrade, want %q", c.suite, left, want)
		}
		after := c.waitActive(t, "sshwarden.service", 30*time.Second)
		if after["MainPID"] == before["MainPID"] {
			t.Errorf("%s: the agent was not restarted by the upgrade (MainPID %s)", c.suite, after["MainPID"])
		}
		// The agent that runs is the new binary, with the edited policy.
		version := strings.Fields(c.run(t, "sshwarden", "version"))
		if len(version) < 2 {
			t.Fatalf("%s: sshwarden version printed %q", c.suite, version)
		}
		if r, ok := c.waitRecord(t, mark, 20*time.Second, "agent-started", func(r entry) bool {
			return r["SSHWARDEN_ACTION"] == "agent-started" && r["_PID"] == after["MainPID"]
		}); ok {
			if r["SSHWARDEN_VERSION"] != version[1] || !strings.Contains(r["MESSAGE"], "globally IdleTimeout 20m0s") {
				t.Errorf("%s: the agent started after the upgrade: version %q, want %q (sshwarden version); %s", c.suite, r["SSHWARDEN_VERSION"], version[1], r["MESSAGE"])
			}
		}
	})

	t.Run("purge", func(t *testing.T) {
		// Every path the package installed that is not a folder.
		files := strings.Fields(c.sh(t, `dpkg-query -L sshwarden | while read -r f; do [ -d "$f" ] || echo "$f"; done`))
		want := []string{"/usr/sbin/sshwarden", policyPath, "/lib/systemd/system/sshwarden.service"}
		for _, f := range want {
			if !slices.Contains(files, f) {
				t.Fatalf("%s: dpkg -L sshwarden has no %s:\n%s", c.suite, f, strings.Join(files, "\n"))
			}
		}
		if out, errout, err := c.try(nil, 5*time.Minute, "apt-get", "purge", "-y", "sshwarden"); err != nil {
			t.Fatalf("%s: apt-get purge sshwarden: %v\n%s%s", c.suite, err, out, errout)
		}
		// Left by the package: its files, its folder, the enable link and
		// deb-systemd-helper's state.
		gone := append(files, "/etc/sshwarden",
			"/etc/systemd/system/multi-user.target.wants/sshwarden.service",
			"/var/lib/systemd/deb-systemd-helper-enabled/sshwarden.service.dsh-also",
			"/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/sshwarden.service",
			"/var/lib/systemd/deb-systemd-helper-masked/sshwarden.service")
		left := strings.Fields(c.run(t, append([]string{"sh", "-c", `for f; do [ ! -e "$f" ] && [ ! -L "$f" ] || echo "$f"; done`, "_"}, gone...)...))
		if len(left) > 0 {
			t.Errorf("%s: left after apt-get purge sshwarden:\n%s", c.suite, strings.Join(left, "\n"))
		}
		got := c.show(t, "sshwarden.service", "LoadState", "ActiveState")
		if diff := cmp.Diff(map[string]string{"LoadState": "not-found", "ActiveState": "inactive"}, got); diff != "" {
			t.Errorf("%s: systemctl show sshwarden after purge (-want +got):\n%s", c.suite, diff)
		}
		if out, _, err := c.try(nil, 10*time.Second, "pgrep", "-a", "-x", "sshwarden"); exitCode(err) != 1 {
			t.Errorf("%s: sshwarden still runs after purge: %v %s", c.suite, err, out)
		}
		if out, _, err := c.try(nil, 10*time.Second, "dpkg-query", "-W", "-f", "${db:Status-Status}", "sshwarden"); err == nil && strings.TrimSpace(out) != "not-installed" {
			t.Errorf("%s: dpkg status %q after purge, want not-installed", c.suite, out)
		}
	})
}

// shippedPolicy is the policy.conf that package p ships.
func shippedPolicy(t *testing.T, p pkg) string {
	t.Helper()
	out, err := exec.Command("sh", "-c", `dpkg-deb --fsys-tarfile "$1" | tar -xO ./etc/sshwarden/policy.conf`, "sh", p.path).Output()
	if err != nil {
		t.Fatalf("reading policy.conf from %s: %v", p.path, err)
	}
	return string(out)
}
