package system_test

// The harness: lab.sh for roots and containers, commands inside a
// container, the journal, bounded waits, and what the test needs to run.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
)

// need skips the test, or with CI=true fails it, unless it was asked for
// and everything it uses is here.
func need(t *testing.T) {
	t.Helper()
	if os.Getenv("SSHWARDEN_SYSTEM_TEST") != "1" {
		missing(t, "the system test boots Debian containers and takes minutes: run it with SSHWARDEN_SYSTEM_TEST=1 (as root)")
	}
	var miss []string
	if os.Geteuid() != 0 {
		miss = append(miss, "root")
	}
	for _, tool := range []string{"debootstrap", "systemd-nspawn", "nsenter", "unshare", "setsid", "flock", "findmnt", "ps", "make", "dpkg", "dpkg-deb"} {
		if _, err := exec.LookPath(tool); err != nil {
			miss = append(miss, tool)
		}
	}
	if len(miss) > 0 {
		missing(t, "the system test needs "+strings.Join(miss, ", ")+" (apt-get install debootstrap systemd-container util-linux procps make dpkg)")
	}
}

func missing(t *testing.T, msg string) {
	t.Helper()
	sshdtest.Missing(t, msg)
}

// repoRoot is the repository's top folder (the test runs in test/system).
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "nfpm.yaml")); err != nil {
		t.Fatalf("repository root %s: %v", dir, err)
	}
	return dir
}

// pkg is a .deb and its version.
type pkg struct{ path, version string }

// firstPackage is the package under test: SSHWARDEN_DEB, or the newest
// dist/sshwarden_*_amd64.deb that `make package` made.
func firstPackage(t *testing.T, repo string) pkg {
	t.Helper()
	path := os.Getenv("SSHWARDEN_DEB")
	if path == "" {
		found, _ := filepath.Glob(filepath.Join(repo, "dist", "sshwarden_*_amd64.deb"))
		if len(found) == 0 {
			missing(t, "no dist/sshwarden_*_amd64.deb: run make package first (or set SSHWARDEN_DEB)")
		}
		sort.Slice(found, func(i, j int) bool { return modTime(found[i]).After(modTime(found[j])) })
		path = found[0]
	}
	return pkg{path, debVersion(t, path)}
}

// nextPackage is a package of a higher version than first, for the
// upgrade: SSHWARDEN_DEB_NEXT, or one built here with make package.
func nextPackage(t *testing.T, repo string, first pkg) pkg {
	t.Helper()
	path := os.Getenv("SSHWARDEN_DEB_NEXT")
	if path == "" {
		version, pv := nextVersion(t, repo, first)
		dir := t.TempDir()
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "make", "-C", repo, "package", "VERSION="+version, "ARCHES=amd64",
			"BUILD="+filepath.Join(dir, "build"), "DIST="+filepath.Join(dir, "dist"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make package VERSION=%s: %v\n%s", version, err, out)
		}
		path = filepath.Join(dir, "dist", "sshwarden_"+pv+"_amd64.deb")
		t.Logf("timing: make package VERSION=%s ARCHES=amd64: %.1fs", version, time.Since(start).Seconds())
	}
	next := pkg{path, debVersion(t, path)}
	if err := exec.Command("dpkg", "--compare-versions", next.version, "gt", first.version).Run(); err != nil {
		t.Fatalf("the upgrade needs a higher version: %s (%s) is not above %s (%s)", next.version, next.path, first.version, first.path)
	}
	return next
}

// nextVersion is a VERSION for make package whose package version is
// above first's, and that package version. v99.0.0 is, for every tag below
// it, but not for an untagged commit whose hash starts with digits:
// packaging/pkgversion makes "0768a0b" of it, not "0.0.0+git0768a0b", and
// dpkg sorts 0768a0b (768) above 99.0.0; then first's own version with
// ".1" appended is.
func nextVersion(t *testing.T, repo string, first pkg) (version, pkgVersion string) {
	t.Helper()
	upstream, _, _ := strings.Cut(first.version, "-") // nfpm adds the release "-1"
	for _, v := range []string{"v99.0.0", "v" + upstream + ".1"} {
		out, err := exec.Command(filepath.Join(repo, "packaging", "pkgversion"), v).Output()
		if err != nil {
			continue
		}
		pv := strings.TrimSpace(string(out))
		if exec.Command("dpkg", "--compare-versions", pv+"-1", "gt", first.version).Run() == nil {
			return v, pv
		}
	}
	t.Fatalf("found no VERSION for make package above %s: set SSHWARDEN_DEB_NEXT", first.version)
	return "", ""
}

func modTime(path string) time.Time {
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

func debVersion(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("dpkg-deb", "-f", path, "Version").Output()
	if err != nil {
		t.Fatalf("dpkg-deb -f %s Version: %v", path, err)
	}
	return strings.TrimSpace(string(out))
}

// timings collects how long the steps took, for the summary at the end.
type timings struct {
	mu   sync.Mutex
	rows []string
}

func (tm *timings) add(format string, args ...any) {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	tm.rows = append(tm.rows, fmt.Sprintf(format, args...))
}

func (tm *timings) String() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return strings.Join(tm.rows, "\n")
}

// lab runs lab.sh.
type lab struct {
	script string
	times  *timings
}

// do runs lab.sh ARGS within timeout; its stderr lines are logged, and
// its timing lines ("lab: ...") kept for the summary.
func (l *lab) do(t *testing.T, timeout time.Duration, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, l.script, args...)
	// lab.sh stops what it booted once this process is gone, also when
	// it never runs its cleanups (a panic at go test's -timeout, a kill).
	cmd.Env = append(os.Environ(), "LAB_OWNER="+strconv.Itoa(os.Getpid()))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if line == "" {
			continue
		}
		t.Log(line)
		if strings.HasPrefix(line, "lab: ") {
			l.times.add("%s", strings.TrimPrefix(line, "lab: "))
		}
	}
	if err != nil {
		return stdout.String(), fmt.Errorf("lab.sh %s: %w", strings.Join(args, " "), err)
	}
	return stdout.String(), nil
}

// root makes sure the suite's cached root exists (debootstrap, once).
func (l *lab) root(t *testing.T, suite string) {
	t.Helper()
	start := time.Now()
	out, err := l.do(t, 40*time.Minute, "root", suite)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("root %s: %s (%.1fs)", suite, strings.TrimSpace(out), time.Since(start).Seconds())
}

// container is a booted throwaway copy of a suite's cached root.
type container struct {
	suite  string
	dir    string // lab.sh's RUN folder
	leader int    // the container's PID 1, as the host sees it
	times  *timings
}

// boot boots a container for the test; it is stopped, and its copy
// removed, when the test ends, whether it passed or not.
func (l *lab) boot(t *testing.T, suite string) *container {
	t.Helper()
	// The folder's name is the machine's (and its cgroup's) name.
	run, err := os.MkdirTemp("", "sw-"+suite+"-")
	if err != nil {
		t.Fatal(err)
	}
	c := &container{suite: suite, dir: run, times: l.times}
	t.Cleanup(func() {
		if err := os.RemoveAll(run); err != nil {
			t.Errorf("removing %s: %v", run, err)
		}
	})
	t.Cleanup(func() { // before the folder goes: cleanups run last first
		if _, err := l.do(t, 3*time.Minute, "stop", run); err != nil {
			t.Errorf("stopping the %s container: %v", suite, err)
		}
	})
	out, err := l.do(t, 5*time.Minute, "boot", suite, run)
	if err != nil {
		t.Fatalf("booting %s: %v", suite, err)
	}
	if c.leader, err = strconv.Atoi(strings.TrimSpace(out)); err != nil {
		t.Fatalf("lab.sh boot printed %q, want the container's PID 1", out)
	}
	return c
}

// command is CMD inside the container with a clean environment, as root.
func (c *container) command(ctx context.Context, args ...string) *exec.Cmd {
	a := []string{"-t", strconv.Itoa(c.leader), "-a", "--", "/usr/bin/env", "-i",
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8",
		"TERM=dumb", "DEBIAN_FRONTEND=noninteractive", "SYSTEMD_COLORS=0", "SYSTEMD_PAGER=", "PAGER=cat"}
	cmd := exec.CommandContext(ctx, "nsenter", append(a, args...)...)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// try runs a command inside within timeout, with stdin (or none).
func (c *container) try(stdin io.Reader, timeout time.Duration, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := c.command(ctx, args...)
	cmd.Stdin = stdin
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// run runs a command inside and returns its stdout; it fails the test when
// the command fails.
func (c *container) run(t *testing.T, args ...string) string {
	t.Helper()
	out, errout, err := c.try(nil, 3*time.Minute, args...)
	if err != nil {
		t.Fatalf("%s: %s: %v\nstdout:\n%s\nstderr:\n%s", c.suite, strings.Join(args, " "), err, out, errout)
	}
	return out
}

// sh runs a bash script inside.
func (c *container) sh(t *testing.T, script string) string {
	t.Helper()
	return c.run(t, "bash", "-euo", "pipefail", "-c", script)
}

// exitCode is a command's exit status, -1 when it did not exit.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// write replaces a file inside, as an editor does (a new file renamed over
// the old one), mode 0644.
func (c *container) write(t *testing.T, path, data string) {
	t.Helper()
	c.writeFrom(t, strings.NewReader(data), path)
}

func (c *container) writeFrom(t *testing.T, r io.Reader, path string) {
	t.Helper()
	script := `umask 022; mkdir -p "$(dirname "$1")"; cat > "$1.new" && mv -f "$1.new" "$1"`
	if out, errout, err := c.try(r, time.Minute, "sh", "-c", script, "_", path); err != nil {
		t.Fatalf("%s: writing %s: %v\n%s%s", c.suite, path, err, out, errout)
	}
}

// copyIn copies a host file into the container.
func (c *container) copyIn(t *testing.T, host, path string) {
	t.Helper()
	f, err := os.Open(host)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c.writeFrom(t, f, path)
}

// show is `systemctl show UNIT -p PROP...` as a map.
func (c *container) show(t *testing.T, unit string, props ...string) map[string]string {
	t.Helper()
	out := c.run(t, "systemctl", "show", unit, "-p", strings.Join(props, ","))
	m := make(map[string]string, len(props))
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

// entry is one journal entry, each field as a string.
type entry map[string]string

// at is when journald received the entry.
func (e entry) at() time.Time {
	us, _ := strconv.ParseInt(e["__REALTIME_TIMESTAMP"], 10, 64)
	return time.UnixMicro(us)
}

// journal is `journalctl -o json ARGS...` from since on.
func (c *container) journal(t *testing.T, since time.Time, args ...string) []entry {
	t.Helper()
	a := append([]string{"journalctl", "--no-pager", "-o", "json", "--since", fmt.Sprintf("@%d", since.Unix()-1)}, args...)
	out := c.run(t, a...)
	var entries []entry
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var raw map[string]any
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			t.Fatalf("journalctl -o json: %v: %s", err, sc.Text())
		}
		e := make(entry, len(raw))
		for k, v := range raw {
			switch v := v.(type) {
			case string:
				e[k] = v
			case []any: // a value that is not text: its bytes
				b := make([]byte, 0, len(v))
				for _, x := range v {
					if f, ok := x.(float64); ok {
						b = append(b, byte(f))
					}
				}
				e[k] = string(b)
			}
		}
		if !e.at().Before(since) {
			entries = append(entries, e)
		}
	}
	return entries
}

// records are the agent's audit records from since on, as an admin reads
// them: journalctl -u sshwarden -o json.
func (c *container) records(t *testing.T, since time.Time) []entry {
	t.Helper()
	var recs []entry
	for _, e := range c.journal(t, since, "-u", "sshwarden.service") {
		if e["SSHWARDEN_ACTION"] != "" {
			recs = append(recs, e)
		}
	}
	return recs
}

// pollEvery is how often a wait polls (sshdtest.WaitFor): each poll may
// run a command in a container.
const pollEvery = 200 * time.Millisecond

// waitRecord waits for the first record from since on that match accepts.
func (c *container) waitRecord(t *testing.T, since time.Time, timeout time.Duration, what string, match func(entry) bool) (entry, bool) {
	t.Helper()
	var found entry
	ok, _ := sshdtest.WaitFor(timeout, pollEvery, func() (bool, string) {
		for _, r := range c.records(t, since) {
			if match(r) {
				found = r
				return true, ""
			}
		}
		return false, ""
	})
	if !ok {
		t.Errorf("%s: no %s record within %v; the agent's records since %s:\n%s", c.suite, what, timeout, since.Format(time.TimeOnly), messages(c.records(t, since)))
	}
	return found, ok
}

// messages prints records one a line, for failure messages.
func messages(recs []entry) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "  %s %s: %s\n", r.at().Format("15:04:05.000"), r["SSHWARDEN_ACTION"], r["MESSAGE"])
	}
	return b.String()
}

// waitActive waits until the unit is active (running).
func (c *container) waitActive(t *testing.T, unit string, timeout time.Duration) map[string]string {
	t.Helper()
	var props map[string]string
	ok, why := sshdtest.WaitFor(timeout, pollEvery, func() (bool, string) {
		props = c.show(t, unit, "ActiveState", "SubState", "MainPID", "NRestarts", "StatusText", "ExecMainPID")
		return props["ActiveState"] == "active" && props["SubState"] == "running", fmt.Sprint(props)
	})
	if !ok {
		t.Fatalf("%s: %s not active within %v: %s", c.suite, unit, timeout, why)
	}
	return props
}

// install installs a package as an admin's automation does (apt-get
// install ./file, unattended): an edited conffile whose shipped version
// changed is kept (--force-confold), instead of a prompt that fails
// without a terminal.
func (c *container) install(t *testing.T, p pkg) {
	t.Helper()
	start := time.Now()
	dst := "/root/" + filepath.Base(p.path)
	c.copyIn(t, p.path, dst)
	out, errout, err := c.try(nil, 5*time.Minute, "apt-get", "install", "-y",
		"-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold", dst)
	if err != nil {
		t.Fatalf("%s: apt-get install %s: %v\n%s%s", c.suite, dst, err, out, errout)
	}
	if got := strings.TrimSpace(c.run(t, "dpkg-query", "-W", "-f", "${Version}", "sshwarden")); got != p.version {
		t.Fatalf("%s: installed sshwarden %s, want %s", c.suite, got, p.version)
	}
	c.times.add("install %s %s: %.1fs", c.suite, p.version, time.Since(start).Seconds())
}
