package sshdtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Debian roots for [Options.Root].
const (
	// RootsEnv names the environment variable that overrides DefaultRoots.
	RootsEnv = "SSHWARDEN_ROOTS"
	// DefaultRoots holds one Debian root per suite, ROOTS/SUITE, kept
	// between test runs.
	DefaultRoots = "/var/cache/sshwarden-test/roots"
	// RootScript, relative to the module's root, builds a Debian root.
	RootScript = "test/lab/debian-root.sh"

	buildTimeout = 15 * time.Minute // one debootstrap: about a minute, more on a slow mirror
)

// DebianRoot returns the Debian root of suite ("trixie", "forky"): a
// debootstrap minbase tree with Debian's openssh-server, for
// [Options.Root]. It is ROOTS/SUITE, where ROOTS is $SSHWARDEN_ROOTS or
// DefaultRoots; when it is missing or unfinished, DebianRoot builds it
// first with RootScript (about a minute and 220 MB each, from
// deb.debian.org), one build at a time across test processes. Without
// root, DebianRoot skips the test; with CI=true it fails it instead, and
// also when the build fails (without CI=true, a failed build skips).
func DebianRoot(t testing.TB, suite string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "sshdtest: a Debian root needs root")
	}
	if suite == "" || strings.ContainsAny(suite, "/.") {
		t.Fatalf("sshdtest: bad suite %q", suite)
	}
	roots := os.Getenv(RootsEnv)
	if roots == "" {
		roots = DefaultRoots
	}
	dir := filepath.Join(roots, suite)
	if rootReady(dir) {
		return dir
	}
	if err := os.MkdirAll(roots, 0o755); err != nil {
		t.Fatalf("sshdtest: %v", err)
	}
	var log string
	err := withFileLock(filepath.Join(roots, "."+suite+".lock"), buildTimeout, func() error {
		if rootReady(dir) { // another process built it meanwhile
			return nil
		}
		script, err := findScript()
		if err != nil {
			return err
		}
		log = filepath.Join(roots, suite+".log")
		return buildRoot(script, suite, dir, log)
	})
	if err != nil {
		tail := ""
		if b, rerr := os.ReadFile(log); rerr == nil {
			lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
			tail = strings.Join(lines[max(0, len(lines)-20):], "\n")
		}
		Missing(t, fmt.Sprintf("sshdtest: building the Debian %s root in %s: %v\n%s (last lines):\n%s", suite, dir, err, log, tail))
	}
	if !rootReady(dir) {
		t.Fatalf("sshdtest: %s built %s, but it lacks %s or the mark of a finished build", RootScript, dir, SSHD)
	}
	return dir
}

// rootReady reports whether dir is a finished root: the script's mark,
// not the mark of an unfinished run, and an sshd.
func rootReady(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, ".debian-root-ok")); err != nil {
		return false
	}
	if _, err := os.Stat(filepath.Join(dir, ".debian-root-started")); err == nil {
		return false
	}
	st, err := os.Stat(filepath.Join(dir, SSHD))
	return err == nil && st.Mode().IsRegular()
}

// findScript finds RootScript above the working directory (a package
// directory of the module, under go test).
func findScript() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			p := filepath.Join(d, RootScript)
			if _, err := os.Stat(p); err != nil {
				return "", err
			}
			return p, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s, so no %s", wd, RootScript)
		}
	}
}

// buildRoot runs the script, its output in log, at most buildTimeout.
func buildRoot(script, suite, dir, log string) error {
	for _, tool := range []string{"bash", "chroot"} {
		if _, err := exec.LookPath(toolPath(tool)); err != nil {
			return fmt.Errorf("%s is missing", tool)
		}
	}
	f, err := os.Create(log)
	if err != nil {
		return err
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, toolPath("bash"), script, suite, dir)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), "PATH=/usr/sbin:/usr/bin:/sbin:/bin")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) } // debootstrap's children too
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	err = cmd.Run()
	if ctx.Err() != nil {
		return fmt.Errorf("%s %s %s: killed after %v", script, suite, dir, buildTimeout)
	}
	if err != nil {
		return fmt.Errorf("%s %s %s: %w", script, suite, dir, err)
	}
	fmt.Fprintf(f, "sshdtest: built in %v\n", time.Since(start).Round(time.Second))
	return nil
}

// withFileLock runs f holding an exclusive flock on path, waiting for it
// at most wait.
func withFileLock(path string, wait time.Duration, f func() error) error {
	l, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer l.Close()
	deadline := time.Now().Add(wait)
	for {
		err := syscall.Flock(int(l.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("locking %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s still locked after %v (another build?)", path, wait)
		}
		time.Sleep(time.Second)
	}
	defer syscall.Flock(int(l.Fd()), syscall.LOCK_UN)
	return f()
}

// SFTPServer is Debian's sftp-server, on the host and in the roots.
const SFTPServer = "/usr/lib/openssh/sftp-server"

// StartRelease starts the sshd of a Debian suite's root ("" for the
// host's) for the release tests: root logins, an sftp subsystem in a
// process of its own (SFTPServer), and passwords offered to the test user
// (for a pre-auth client, which never answers, and which sshd keeps for
// LoginGraceTime).
func StartRelease(t testing.TB, suite string) *Server {
	t.Helper()
	root := ""
	if suite != "" {
		root = DebianRoot(t, suite)
	}
	s := Start(t, Options{Root: root, RootLogin: true, Extra: []string{
		"Subsystem sftp " + SFTPServer,
		"LoginGraceTime 10m", // the pre-auth client outlives the test
		"Match User " + DefaultUser,
		"\tPasswordAuthentication yes",
	}})
	t.Logf("sshd %s (sshd -V), root %q, port %d, listener %d", s.Release, root, s.Port, s.PID)
	return s
}
