// Package packaging_test builds the .deb and the .rpm with `make package`
// and puts them through what a Debian or RHEL admin's tools do to them:
// lintian, dpkg install, upgrade, remove and purge, rpm install and erase
// with the scriptlets run, systemd-analyze on the installed unit, man on
// the installed pages, and the installed agent run with no more
// capabilities than the unit gives it.
//
// It installs on this host (the issue allows it; CI machines are fresh),
// so it refuses to run where sshwarden is already installed, and it
// removes what it installed.
package packaging_test

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
)

// unitCaps is the unit's CapabilityBoundingSet, as setpriv spells it.
const unitCaps = "-all,+kill,+sys_ptrace,+dac_override"

// maxExposure is the goal for systemd-analyze security.
const maxExposure = 1.5

var tools = []string{"make", "dpkg", "dpkg-deb", "lintian", "rpm", "systemd-analyze", "man", "setpriv", "unshare", "journalctl", "deb-systemd-helper", "systemctl"}

func need(t *testing.T) {
	t.Helper()
	// Installing on this host changes what other tests see (the default
	// policy file): `make test` runs this package alone, after the others.
	if os.Getenv("SSHWARDEN_PACKAGE_TEST") != "1" {
		msg := "the package tests install sshwarden on this host: make test runs them alone (SSHWARDEN_PACKAGE_TEST=1)"
		sshdtest.Missing(t, msg)
	}
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "the package tests need " + strings.Join(missing, ", ") + " (apt-get install dpkg-dev lintian rpm man-db systemd util-linux)"
	sshdtest.Missing(t, msg)
}

// run runs a command and returns its combined output; it fails the test
// when the command fails.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := try(name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func try(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C.UTF-8")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// build runs `make package` for version and arches into a folder of its
// own and returns the packages it printed, by file name.
func build(t *testing.T, version, arches string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	out := run(t, "make", "-s", "-C", "..", "package", "VERSION="+version, "ARCHES="+arches,
		"BUILD="+filepath.Join(dir, "build"), "DIST="+filepath.Join(dir, "dist"))
	pkgs := map[string]string{}
	for _, l := range strings.Fields(out) {
		pkgs[filepath.Base(l)] = l
	}
	return pkgs
}

func pkgVersion(t *testing.T, version string) string {
	return strings.TrimSpace(run(t, "../packaging/pkgversion", version))
}

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

const (
	bin       = "/usr/sbin/sshwarden"
	policy    = "/etc/sshwarden/policy.conf"
	debUnit   = "/lib/systemd/system/sshwarden.service"
	rpmUnit   = "/usr/lib/systemd/system/sshwarden.service"
	wantsLink = "/etc/systemd/system/multi-user.target.wants/sshwarden.service"
	catalog   = "/usr/lib/systemd/catalog/sshwarden.catalog"
)

func TestPackages(t *testing.T) {
	need(t)
	if _, err := try("dpkg", "-s", "sshwarden"); err == nil || exists(bin) || exists(policy) {
		t.Fatalf("sshwarden is installed on this host (%s or %s exists, or dpkg knows it): the package tests install and purge it, so they refuse to run here", bin, policy)
	}
	arch := runtime.GOARCH
	v1, v2 := "v0.1.0", "v0.1.1"
	old := build(t, v1, arch)
	cur := build(t, v2, "amd64 arm64")
	pv1, pv2 := pkgVersion(t, v1), pkgVersion(t, v2)
	deb1 := old[fmt.Sprintf("sshwarden_%s_%s.deb", pv1, arch)]
	deb2 := cur[fmt.Sprintf("sshwarden_%s_%s.deb", pv2, arch)]
	rpm2 := cur[fmt.Sprintf("sshwarden_%s_%s.rpm", pv2, arch)]
	for _, a := range []string{"amd64", "arm64"} {
		for _, f := range []string{"deb", "rpm"} {
			if name := fmt.Sprintf("sshwarden_%s_%s.%s", pv2, a, f); cur[name] == "" {
				t.Fatalf("make package did not print %s; it printed %v", name, cur)
			}
		}
	}
	if deb1 == "" || deb2 == "" || rpm2 == "" {
		t.Fatalf("missing packages: %v %v", old, cur)
	}

	t.Run("contents", func(t *testing.T) { testContents(t, cur, pv2) })
	t.Run("lintian", func(t *testing.T) {
		out, err := try("lintian", "--fail-on", "error,warning", "--display-info", deb2)
		if err != nil {
			t.Errorf("lintian --fail-on error,warning: %v\n%s", err, out)
		}
		t.Logf("lintian:\n%s", out)
	})
	t.Run("deb", func(t *testing.T) { testDeb(t, deb1, deb2, v1, v2) })
	t.Run("rpm", func(t *testing.T) { testRPM(t, rpm2, v2) })
}

// testContents: both formats carry the same files with the right types,
// for both architectures, and the binary is static for its architecture.
func testContents(t *testing.T, pkgs map[string]string, pv string) {
	want := []string{bin, policy, catalog, "/usr/share/man/man8/sshwarden.8.gz", "/usr/share/man/man5/sshwarden-policy.5.gz"}
	machines := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	debArch := map[string]string{"amd64": "amd64", "arm64": "arm64"}
	rpmArch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}
	for a, machine := range machines {
		deb := pkgs[fmt.Sprintf("sshwarden_%s_%s.deb", pv, a)]
		rpm := pkgs[fmt.Sprintf("sshwarden_%s_%s.rpm", pv, a)]
		list := run(t, "dpkg-deb", "-c", deb)
		for _, p := range append(want, debUnit, "/usr/share/doc/sshwarden/copyright", "/usr/share/doc/sshwarden/changelog.Debian.gz") {
			if !strings.Contains(list, "."+p+"\n") {
				t.Errorf("%s lacks %s:\n%s", deb, p, list)
			}
		}
		if got := strings.TrimSpace(run(t, "dpkg-deb", "-f", deb, "Architecture")); got != debArch[a] {
			t.Errorf("%s: Architecture %q, want %q", deb, got, debArch[a])
		}
		if got := strings.TrimSpace(run(t, "dpkg-deb", "-f", deb, "Version")); got != pv+"-1" {
			t.Errorf("%s: Version %q, want %q", deb, got, pv+"-1")
		}
		ctl := t.TempDir()
		run(t, "dpkg-deb", "-e", deb, ctl)
		if b, _ := os.ReadFile(filepath.Join(ctl, "conffiles")); strings.TrimSpace(string(b)) != policy {
			t.Errorf("%s: conffiles %q, want only %s", deb, b, policy)
		}
		for _, s := range []string{"postinst", "prerm", "postrm"} {
			if fi, err := os.Stat(filepath.Join(ctl, s)); err != nil || fi.Mode()&0o111 == 0 {
				t.Errorf("%s: maintainer script %s missing or not executable", deb, s)
			}
		}

		rlist := run(t, "rpm", "-qlp", rpm)
		for _, p := range append(want, rpmUnit) {
			if !strings.Contains(rlist, p+"\n") {
				t.Errorf("%s lacks %s:\n%s", rpm, p, rlist)
			}
		}
		if got := strings.TrimSpace(run(t, "rpm", "-qp", "--qf", "%{ARCH}", rpm)); got != rpmArch[a] {
			t.Errorf("%s: ARCH %q, want %q", rpm, got, rpmArch[a])
		}
		if got := strings.TrimSpace(run(t, "rpm", "-qp", "--configfiles", rpm)); got != policy {
			t.Errorf("%s: config files %q, want only %s", rpm, got, policy)
		}
		if got := run(t, "rpm", "-qp", "--qf", "[%{FILEFLAGS:fflags} %{FILENAMES}\n]", rpm); !strings.Contains(got, "cn "+policy) {
			t.Errorf("%s: %s is not %%config(noreplace):\n%s", rpm, policy, got)
		}
		scripts := run(t, "rpm", "-qp", "--scripts", rpm)
		for _, s := range []string{"postinstall scriptlet", "preuninstall scriptlet", "postuninstall scriptlet", "preset sshwarden.service", "disable --now sshwarden.service", "try-restart sshwarden.service"} {
			if !strings.Contains(scripts, s) {
				t.Errorf("%s: scriptlets lack %q:\n%s", rpm, s, scripts)
			}
		}

		// The binary itself, out of the deb.
		root := t.TempDir()
		run(t, "dpkg-deb", "-x", deb, root)
		f, err := elf.Open(filepath.Join(root, bin))
		if err != nil {
			t.Fatal(err)
		}
		if f.Machine != machine {
			t.Errorf("%s: binary for %v, want %v", deb, f.Machine, machine)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s: binary has an ELF interpreter: it is not static", deb)
			}
		}
		f.Close()
	}
}

// testDeb installs the older package, edits the policy, upgrades, checks
// the installed files with systemd-analyze, man, journalctl and the agent
// itself, then removes and purges.
func testDeb(t *testing.T, deb1, deb2, v1, v2 string) {
	t.Cleanup(func() {
		if _, err := try("dpkg", "-s", "sshwarden"); err == nil {
			if out, err := try("dpkg", "-P", "sshwarden"); err != nil {
				t.Errorf("cleanup: dpkg -P sshwarden: %v\n%s", err, out)
			}
		}
	})
	run(t, "dpkg", "-i", deb1)
	if out := run(t, bin, "version"); !strings.HasPrefix(out, "sshwarden "+v1+" ") {
		t.Errorf("installed %s: sshwarden version = %q, want %s", deb1, out, v1)
	}
	// No systemd as PID 1 here: postinst enabled the unit (links only) and
	// started nothing.
	if target, err := os.Readlink(wantsLink); err != nil || target != debUnit {
		t.Errorf("after install, %s -> %q (%v), want %s", wantsLink, target, err, debUnit)
	}

	// The admin edits the policy; the upgrade keeps the edit.
	orig, err := os.ReadFile(policy)
	if err != nil {
		t.Fatal(err)
	}
	edited := []byte(strings.Replace(string(orig), "\nIdleTimeout 15m", "\n# edited by the admin\nIdleTimeout 20m", 1))
	if bytes.Equal(edited, orig) {
		t.Fatalf("%s has no IdleTimeout 15m line to edit", policy)
	}
	if err := os.WriteFile(policy, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "dpkg", "-i", deb2)
	if out := run(t, bin, "version"); !strings.HasPrefix(out, "sshwarden "+v2+" ") {
		t.Errorf("after the upgrade, sshwarden version = %q, want %s", out, v2)
	}
	if b, _ := os.ReadFile(policy); !bytes.Equal(b, edited) {
		t.Errorf("the upgrade did not keep the edited %s:\n%s", policy, b)
	}
	if exists(policy+".dpkg-new") || exists(policy+".dpkg-dist") {
		t.Errorf("the upgrade left %s.dpkg-new or .dpkg-dist", policy)
	}
	// The shipped policy is builtin:default: the installed binary reads it
	// and reports the same limits as the built-in profile.
	if err := os.WriteFile(policy, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(t.TempDir(), "sshd_config")
	if err := os.WriteFile(conf, []byte("ClientAliveInterval 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	lintFile, _ := try(bin, "lint", "--format", "json", "--policy", policy, "-f", conf)
	lintBuiltin, _ := try(bin, "lint", "--format", "json", "--policy", "builtin:default", "-f", conf)
	if !strings.Contains(lintBuiltin, `"check": "policy"`) || !strings.Contains(lintBuiltin, "builtin:default:") {
		t.Errorf("lint with builtin:default found no policy finding with its rule in ClientAliveInterval 0:\n%s", lintBuiltin)
	}
	if strings.ReplaceAll(lintFile, policy, "builtin:default") != lintBuiltin {
		t.Errorf("lint with the shipped %s differs from builtin:default:\n%s\nwant\n%s", policy, lintFile, lintBuiltin)
	}

	t.Run("unit", func(t *testing.T) { testUnit(t, debUnit) })
	t.Run("man", testMan)
	t.Run("catalog", testCatalog)
	t.Run("hardened-agent", testHardenedAgent)
	t.Run("reload", func(t *testing.T) { testReload(t, debUnit) })
	t.Run("hardened-fix", testHardenedFix)

	run(t, "dpkg", "-r", "sshwarden")
	if exists(bin) || exists(debUnit) {
		t.Errorf("after dpkg -r, %s or %s is still there", bin, debUnit)
	}
	if !exists(policy) {
		t.Errorf("dpkg -r removed the conffile %s (only purge may)", policy)
	}
	run(t, "dpkg", "-P", "sshwarden")
	for _, p := range []string{policy, "/etc/sshwarden", wantsLink, "/etc/systemd/system/sshwarden.service", "/var/lib/systemd/deb-systemd-helper-enabled/sshwarden.service.dsh-also"} {
		if exists(p) {
			t.Errorf("after dpkg -P, %s is still there", p)
		}
	}
	if _, err := try("dpkg", "-s", "sshwarden"); err == nil {
		t.Errorf("after dpkg -P, dpkg -s sshwarden still succeeds")
	}
}

// testUnit: systemd-analyze verify prints nothing, and the exposure is at
// most maxExposure.
func testUnit(t *testing.T, unit string) {
	out, err := try("systemd-analyze", "verify", unit)
	if err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("systemd-analyze verify %s: %v\n%s", unit, err, out)
	}
	out = run(t, "systemd-analyze", "security", "--offline=true", unit)
	m := regexp.MustCompile(`Overall exposure level for sshwarden.service: ([0-9.]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security printed no exposure:\n%s", out)
	}
	if x, _ := strconv.ParseFloat(m[1], 64); x > maxExposure {
		t.Errorf("exposure %s, want at most %.1f:\n%s", m[1], maxExposure, out)
	}
	t.Logf("systemd-analyze security --offline=true: exposure %s", m[1])
}

// execReload is the unit's ExecReload=: the installed agent's --reload,
// given the main pid, so that systemctl reload reports what the agent did.
const execReload = "ExecReload=" + bin + " agent --reload $MAINPID"

// testReload runs the installed unit's ExecReload= as systemd would (the
// main pid for $MAINPID, RUNTIME_DIRECTORY) against the installed agent,
// both with only the unit's capabilities; the command also in a read-only
// file system with no network, as ProtectSystem=strict and PrivateNetwork=
// leave it. A good policy is reloaded (exit 0); a broken one is refused
// (exit 1, its file:line on stderr) and the agent keeps the old one.
func testReload(t *testing.T, unit string) {
	b, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for l := range strings.Lines(string(b)) {
		if strings.HasPrefix(l, "ExecReload=") {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	if len(lines) != 1 || lines[0] != execReload {
		t.Fatalf("%s: ExecReload lines %q, want %q", unit, lines, execReload)
	}
	dir := t.TempDir()
	runDir := filepath.Join(dir, "run")
	if err := os.Mkdir(runDir, 0o755); err != nil {
		t.Fatal(err)
	}
	pol := filepath.Join(dir, "policy.conf")
	conf := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(conf, []byte("ClientAliveInterval 300\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Exempt yes: the agent touches no session of this host.
	if err := os.WriteFile(pol, []byte("Exempt yes\nScanInterval 1s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	agent := exec.CommandContext(ctx, "unshare", "--mount", "--propagation", "private", "sh", "-c",
		`mkdir -p /run/systemd/journal && mount -t tmpfs none /run/systemd/journal && exec setpriv --clear-groups --bounding-set `+unitCaps+` --inh-caps -all -- "$@"`,
		"sh", bin, "agent", "--policy", pol, "-f", conf)
	agent.Env = append(os.Environ(), "RUNTIME_DIRECTORY="+runDir)
	var agentErr sshdtest.Buffer
	agent.Stdout, agent.Stderr = &agentErr, &agentErr
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = agent.Process.Signal(os.Interrupt)
		_ = agent.Wait()
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !exists(filepath.Join(runDir, "reload")) {
		if time.Now().After(deadline) {
			t.Fatalf("the agent wrote no reload state in %s within 20s:\n%s", runDir, agentErr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	argv := strings.Fields(strings.ReplaceAll(strings.TrimPrefix(execReload, "ExecReload="), "$MAINPID", strconv.Itoa(agent.Process.Pid)))
	reload := func() (string, int) {
		cmd := exec.CommandContext(ctx, "unshare", append([]string{"--mount", "--net", "--propagation", "private", "sh", "-c",
			`mount -o bind,remount,ro / && exec setpriv --bounding-set ` + unitCaps + ` --inh-caps -all -- "$@"`, "sh"}, argv...)...)
		cmd.Env = append(os.Environ(), "RUNTIME_DIRECTORY="+runDir)
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	good := "Exempt yes\nScanInterval 1s\nMatch User sshwarden-nosuch\n    IdleTimeout 1h\n"
	if err := os.WriteFile(pol, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := reload(); code != 0 || !strings.Contains(out, "policy "+pol+" ") || !strings.Contains(out, "1 Match block") && !strings.Contains(out, "unchanged") {
		t.Errorf("%s with a good policy: exit %d, want 0:\n%s\nagent:\n%s", strings.Join(argv, " "), code, out, agentErr.String())
	}
	if err := os.WriteFile(pol, []byte(good+"    MaxSessionTime 15x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := reload(); code != 1 || !strings.Contains(out, pol+":5:5: MaxSessionTime") || !strings.Contains(out, "not reloaded") {
		t.Errorf("%s with a broken policy: exit %d, want 1 with its file:line:\n%s\nagent:\n%s", strings.Join(argv, " "), code, out, agentErr.String())
	}
}

// testMan: both installed pages render with no warning.
func testMan(t *testing.T) {
	for _, page := range []string{"/usr/share/man/man8/sshwarden.8.gz", "/usr/share/man/man5/sshwarden-policy.5.gz"} {
		cmd := exec.Command("man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", page)
		cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "MANWIDTH=80", "MANROFFSEQ=")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 || stdout.Len() < 1000 {
			t.Errorf("man -l %s: %v, %d bytes out, warnings:\n%s", page, err, stdout.Len(), stderr.String())
		}
	}
}

// testCatalog: journalctl takes the installed catalog, with an entry for
// each MESSAGE_ID in it.
func testCatalog(t *testing.T) {
	b, err := os.ReadFile(catalog)
	if err != nil {
		t.Fatal(err)
	}
	ids := regexp.MustCompile(`(?m)^-- ([0-9a-f]{32})`).FindAllStringSubmatch(string(b), -1)
	if len(ids) < 10 {
		t.Fatalf("%s has %d entries", catalog, len(ids))
	}
	run(t, "journalctl", "--update-catalog")
	out := run(t, "journalctl", "--list-catalog")
	for _, id := range ids {
		if !strings.Contains(out, id[1]) {
			t.Errorf("journalctl --list-catalog lacks %s", id[1])
		}
	}
}

// testHardenedAgent runs the installed agent with only the unit's
// capabilities (its bounding set), against a throwaway sshd: it must still
// see the session with its peer, warn on its terminal and close it.
func testHardenedAgent(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{})
	pol := filepath.Join(t.TempDir(), "policy.conf")
	if err := os.WriteFile(pol, fmt.Appendf(nil, "ScanInterval 1s\nExempt yes\nMatch LocalPort %d\n    Exempt no\n    MaxSessionTime 4s\n    WarnBefore 2s\n    WarnMessage sshwarden-test: closing in %%t\n", s.Port), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	client := s.SSH(ctx, "-tt", "sleep 605")
	var clientOut sshdtest.Buffer
	client.Stdout, client.Stderr = &clientOut, &clientOut
	if err := client.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- client.Wait() }()
	// An exec session: its warning goes to the command's stderr, a pipe of
	// the user's that only CAP_DAC_OVERRIDE opens.
	execClient := s.SSH(ctx, "sleep 606")
	var execErr sshdtest.Buffer
	execClient.Stdout, execClient.Stderr = io.Discard, &execErr
	if err := execClient.Start(); err != nil {
		t.Fatal(err)
	}
	execDone := make(chan error, 1)
	go func() { execDone <- execClient.Wait() }()
	// No journald in this mount namespace: the records go to stderr.
	agent := exec.CommandContext(ctx, "unshare", "--mount", "--propagation", "private", "sh", "-c",
		`mkdir -p /run/systemd/journal && mount -t tmpfs none /run/systemd/journal && exec setpriv --clear-groups --bounding-set `+unitCaps+` --inh-caps -all -- "$@"`,
		"sh", bin, "agent", "--policy", pol, "-f", s.ConfigPath)
	var agentErr sshdtest.Buffer
	agent.Stdout, agent.Stderr = &agentErr, &agentErr
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = agent.Process.Signal(os.Interrupt)
		_ = agent.Wait()
	}()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatalf("the session was not closed within 60s\nagent:\n%s\nclient:\n%s", agentErr.String(), clientOut.String())
	}
	select {
	case <-execDone:
	case <-ctx.Done():
		t.Fatalf("the exec session was not closed within 60s\nagent:\n%s\nclient:\n%s", agentErr.String(), execErr.String())
	}
	if !strings.Contains(clientOut.String(), "sshwarden-test: closing in") {
		t.Errorf("the warning did not reach the terminal; client saw:\n%s", clientOut.String())
	}
	if !strings.Contains(execErr.String(), "sshwarden-test: closing in") {
		t.Errorf("the warning did not reach the exec session's stderr; client saw:\n%s", execErr.String())
	}
	// Records by action and session kind.
	deadline := time.Now().Add(10 * time.Second)
	var records map[string]map[string]any
	for time.Now().Before(deadline) {
		records = map[string]map[string]any{}
		for line := range strings.Lines(agentErr.String()) {
			var r map[string]any
			if json.Unmarshal([]byte(line), &r) == nil {
				records[fmt.Sprintf("%v/%v", r["SSHWARDEN_ACTION"], r["SSHWARDEN_KIND"])] = r
			}
		}
		if records["close/pty"] != nil && records["close/notty"] != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, a := range []string{"agent-started/<nil>", "warn/pty", "close/pty", "warn/notty", "close/notty"} {
		if records[a] == nil {
			t.Errorf("no %s record from the hardened agent:\n%s", a, agentErr.String())
		}
	}
	// Peer (socket inodes in /proc/PID/fd) and tty (fdinfo of the pty
	// master) need the capabilities the unit keeps.
	if r := records["close/pty"]; r != nil {
		if r["SSHWARDEN_USER"] != s.User || r["SSHWARDEN_REMOTE_ADDR"] != "127.0.0.1" || !strings.HasPrefix(fmt.Sprint(r["SSHWARDEN_TTY"]), "pts/") {
			t.Errorf("close record %v: want user %s, remote address 127.0.0.1 and a pts", r, s.User)
		}
	}
	if r := records["close/notty"]; r != nil && r["SSHWARDEN_COMMAND"] != "sleep 606" {
		t.Errorf("close record %v: want the command sleep 606", r)
	}
}

// testHardenedFix runs the installed `fix -w` with only the unit's
// capabilities: no mount namespace can be made, and sshd -t must still
// check the change (on a rewritten copy) before it is written.
func testHardenedFix(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "hostkey")
	run(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key)
	drop := filepath.Join(dir, "sshd_config.d")
	if err := os.Mkdir(drop, 0o755); err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(main, fmt.Appendf(nil, "Include %s/*.conf\nHostKey %s\n", drop, key), 0o644); err != nil {
		t.Fatal(err)
	}
	cloud := filepath.Join(drop, "50-cloud-init.conf")
	if err := os.WriteFile(cloud, []byte("ClientAliveInterval 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Exit status 3: there were changes to make (and -w made them).
	out, err := try("setpriv", "--bounding-set", unitCaps, "--inh-caps", "-all", "--", bin, "fix", "-w", "-f", main, "--policy", "builtin:default")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
		t.Fatalf("fix -w with the unit's capabilities: %v, want exit status 3\n%s", err, out)
	}
	if !strings.Contains(out, "sshd -t accepted the new configuration before it was written") {
		t.Errorf("fix -w with the unit's capabilities did not have sshd -t check the change:\n%s", out)
	}
	if b, _ := os.ReadFile(cloud); !strings.Contains(string(b), "ClientAliveInterval 300") {
		t.Errorf("%s after fix -w:\n%s", cloud, b)
	}
}

// testRPM installs and erases the rpm with a database of its own (this is
// a Debian host), with the scriptlets run: %post presets the unit (which
// enables it here, since Debian has no preset file), %preun disables it.
func testRPM(t *testing.T, rpm, v string) {
	db := t.TempDir()
	t.Cleanup(func() {
		if _, err := try("rpm", "--dbpath", db, "-q", "sshwarden"); err == nil {
			if out, err := try("rpm", "--dbpath", db, "-e", "--nodeps", "sshwarden"); err != nil {
				t.Errorf("cleanup: rpm -e: %v\n%s", err, out)
			}
		}
	})
	run(t, "rpm", "--dbpath", db, "--initdb")
	run(t, "rpm", "--dbpath", db, "-i", "--nodeps", rpm)
	if out := run(t, bin, "version"); !strings.HasPrefix(out, "sshwarden "+v+" ") {
		t.Errorf("installed %s: sshwarden version = %q, want %s", rpm, out, v)
	}
	for _, p := range []string{rpmUnit, policy, catalog, "/usr/share/licenses/sshwarden/LICENSE"} {
		if !exists(p) {
			t.Errorf("after rpm -i, %s is missing", p)
		}
	}
	if !exists(wantsLink) {
		t.Errorf("after rpm -i, %s is missing: %%post did not preset the unit", wantsLink)
	}
	if out, err := try("rpm", "--dbpath", db, "-V", "--nodeps", "sshwarden"); err != nil {
		t.Errorf("rpm -V: %v\n%s", err, out)
	}
	t.Run("unit", func(t *testing.T) { testUnit(t, rpmUnit) })
	// A local edit of the policy survives the erase as .rpmsave.
	if err := os.WriteFile(policy, []byte("# edited\nIdleTimeout 20m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "rpm", "--dbpath", db, "-e", "--nodeps", "sshwarden")
	for _, p := range []string{bin, rpmUnit, policy, catalog, wantsLink} {
		if exists(p) {
			t.Errorf("after rpm -e, %s is still there", p)
		}
	}
	if b, err := os.ReadFile(policy + ".rpmsave"); err != nil || !strings.Contains(string(b), "# edited") {
		t.Errorf("after rpm -e, the edited policy was not kept as %s.rpmsave: %v", policy, err)
	}
	os.Remove(policy + ".rpmsave")
	os.Remove("/etc/sshwarden")
}
