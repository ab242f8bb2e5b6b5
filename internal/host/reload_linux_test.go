package host

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
	"github.com/sshwarden/sshwarden/watcher"
)

// Bounds on the waits of these tests.
const (
	clientTimeout = 15 * time.Second // one ssh client run
	appearTimeout = 10 * time.Second // a pid file, a session's processes
	// settle is how long a refused Reload is given to have done harm: a
	// listener that got SIGHUP re-executes (and, with a bad
	// configuration, exits) within milliseconds.
	settle = 300 * time.Millisecond
)

// sighupLine is what sshd 9.2 logs (level INFO) when SIGHUP makes it
// re-execute.
const sighupLine = "Received SIGHUP; restarting."

// viaSignal is ReloadOptions.Systemd for the signal path.
func viaSignal() *bool { b := false; return &b }

// TestReloadSignal reloads a real sshd through its PidFile: afterwards a
// new connection follows the new configuration (PermitTTY no), the
// listener is the same process, and a session opened before the reload
// keeps its pty and runs to its end.
func TestReloadSignal(t *testing.T) {
	t.Parallel()
	s := sshdtest.Start(t, sshdtest.Options{})
	pidFile := waitPidFile(t, s)
	ctx := t.Context()

	if r := s.Run(ctx, clientTimeout, "-tt", "tty"); r.Exit != 0 || !strings.HasPrefix(r.Stdout, "/dev/pts/") {
		t.Fatalf("before the reload: ssh -tt tty: %v, want a /dev/pts/N", r)
	}
	// A session open across the reload: it prints its tty, sleeps past
	// the reload, and then must still be there to print again.
	old, err := s.StartClient(ctx, "-tt", "tty; sleep 3; echo still-here")
	if err != nil {
		t.Fatal(err)
	}
	waitProcess(t, s, func(p sshdtest.Process) bool { return strings.HasPrefix(p.Title, "sshd: "+s.User+"@pts/") })
	before := listenerSockets(t, s.PID)

	setConfig(t, s.ConfigPath, "PermitTTY no")
	msg, err := Reload(ctx, ReloadOptions{Config: s.ConfigPath, PidFile: pidFile, Systemd: viaSignal()})
	if err != nil {
		t.Fatalf("Reload: %v\nsshd log:\n%s", err, s.Log())
	}
	want := fmt.Sprintf("sent SIGHUP to the sshd listener, pid %d (%s), which listens again; %s", s.PID, pidFile, SessionsNote)
	if msg != want {
		t.Errorf("Reload = %q, want %q", msg, want)
	}
	if !sshdtest.Alive(s.PID) {
		t.Fatalf("listener %d is gone after the reload", s.PID)
	}
	if n := strings.Count(s.Log(), sighupLine); n != 1 {
		t.Errorf("sshd logged %q %d times, want 1", sighupLine, n)
	}
	after := listenerSockets(t, s.PID)
	if slices.ContainsFunc(after, func(i uint64) bool { return slices.Contains(before, i) }) {
		t.Errorf("listener sockets %v after the reload share one with %v before: it did not re-execute", after, before)
	}

	r := s.Run(ctx, clientTimeout, "-tt", "tty")
	if !strings.Contains(r.Stderr, "PTY allocation request failed") && !strings.Contains(r.Stdout, "not a tty") {
		t.Errorf("after the reload: ssh -tt tty: %v, want no pty", r)
	}

	r = old.Wait(clientTimeout)
	if r.Exit != 0 || !strings.HasPrefix(r.Stdout, "/dev/pts/") || !strings.Contains(r.Stdout, "still-here") {
		t.Errorf("session opened before the reload: %v, want its pty and still-here", r)
	}
}

// TestReloadSignalRefused gives Reload what it must not signal, and checks
// each time that nothing was signalled: the listener keeps its listening
// sockets (a SIGHUP makes it re-execute and open new ones), logged no
// SIGHUP and still follows its old configuration; other targets are
// still running (SIGHUP would have ended them).
func TestReloadSignalRefused(t *testing.T) {
	t.Parallel()
	s := sshdtest.Start(t, sshdtest.Options{})
	pidFile := waitPidFile(t, s)
	ctx := t.Context()
	dir := t.TempDir()
	lpid := strconv.Itoa(s.PID)

	// writePid writes a PidFile as sshd does: root's, mode 0644.
	writePid := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	refused := func(pid, file, why string) string {
		return fmt.Sprintf("refusing to signal pid %s from %s: %s", pid, file, why)
	}

	sleeper := startChild(t, "sleep", "60")
	inetd := startSSHDInetd(t, s.ConfigPath)
	deleted := startDeletedSSHD(t, s.ConfigPath)

	// A session, to point at its privileged monitor (a child of the
	// listener, run as root) and at its unprivileged child. It ends when
	// told to on its stdin, after the refusals.
	session := s.SSH(ctx, "-tt", "tty; read x; echo survived-$x")
	stdin, err := session.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	session.Stdout = &out
	if err := session.Start(); err != nil {
		t.Fatal(err)
	}
	sessionDone := make(chan error, 1)
	go func() { sessionDone <- session.Wait() }()
	t.Cleanup(func() {
		_ = session.Process.Kill()
		<-sessionDone // bounded: SIGKILL, then WaitDelay for the pipes
	})
	monitor := waitProcess(t, s, func(p sshdtest.Process) bool {
		return p.PPID == s.PID && p.Title == "sshd: "+s.User+" [priv]"
	})
	unpriv := waitProcess(t, s, func(p sshdtest.Process) bool {
		return p.PPID == monitor.PID && strings.HasPrefix(p.Title, "sshd: "+s.User+"@pts/")
	})
	uid := uidOf(t, s.User)
	sleepExe, err := filepath.EvalSymlinks("/proc/" + strconv.Itoa(sleeper.pid) + "/exe")
	if err != nil {
		t.Fatal(err)
	}

	fifo := filepath.Join(dir, "fifo.pid")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.pid")
	if err := os.Symlink(pidFile, link); err != nil {
		t.Fatal(err)
	}
	writable := writePid("writable.pid", lpid+"\n")
	if err := os.Chmod(writable, 0o666); err != nil {
		t.Fatal(err)
	}
	notRoot := writePid("notroot.pid", lpid+"\n")
	if err := os.Chown(notRoot, 1, 1); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		pidFile string
		want    string
		other   *testProc // a process that must still run
	}{
		{"garbage", writePid("garbage.pid", "sshd\n"), fmt.Sprintf(`PidFile %s holds "sshd\n", not a pid`, filepath.Join(dir, "garbage.pid")), nil},
		{"one", writePid("one.pid", "1\n"), fmt.Sprintf("PidFile %s holds pid 1, not an sshd's", filepath.Join(dir, "one.pid")), nil},
		{"zero", writePid("zero.pid", "0"), fmt.Sprintf("PidFile %s holds pid 0, not an sshd's", filepath.Join(dir, "zero.pid")), nil},
		{"huge", writePid("huge.pid", "99999999999999999999\n"), fmt.Sprintf(`PidFile %s holds "99999999999999999999\n", not a pid`, filepath.Join(dir, "huge.pid")), nil},
		{"over pid limit", writePid("limit.pid", "4194305\n"), fmt.Sprintf(`PidFile %s holds "4194305\n", not a pid`, filepath.Join(dir, "limit.pid")), nil},
		{"no such process", writePid("nosuch.pid", "4194304\n"), refused("4194304", filepath.Join(dir, "nosuch.pid"), "no such process"), nil},
		{"negative", writePid("negative.pid", "-"+lpid+"\n"), fmt.Sprintf(`PidFile %s holds "-%s\n", not a pid`, filepath.Join(dir, "negative.pid"), lpid), nil},
		{"plus", writePid("plus.pid", "+"+lpid+"\n"), fmt.Sprintf(`PidFile %s holds "+%s\n", not a pid`, filepath.Join(dir, "plus.pid"), lpid), nil},
		{"two newlines", writePid("nl.pid", lpid+"\n\n"), fmt.Sprintf(`PidFile %s holds "%s\n\n", not a pid`, filepath.Join(dir, "nl.pid"), lpid), nil},
		{"too long", writePid("long.pid", lpid+strings.Repeat(" ", 40)), fmt.Sprintf("PidFile %s holds more than 32 bytes, not a pid", filepath.Join(dir, "long.pid")), nil},
		{"empty", writePid("empty.pid", ""), fmt.Sprintf(`PidFile %s holds "", not a pid`, filepath.Join(dir, "empty.pid")), nil},
		{"missing", filepath.Join(dir, "missing.pid"), fmt.Sprintf("reading the PidFile: open %s: no such file or directory", filepath.Join(dir, "missing.pid")), nil},
		{"symlink", link, fmt.Sprintf("PidFile %s is a symbolic link", link), nil},
		{"fifo", fifo, fmt.Sprintf("PidFile %s is not a regular file (p---------)", fifo), nil},
		{"writable", writable, fmt.Sprintf("PidFile %s is writable by group or others (-rw-rw-rw-)", writable), nil},
		{"not root's", notRoot, fmt.Sprintf("PidFile %s is not owned by root", notRoot), nil},
		{"not sshd", writePid("sleep.pid", strconv.Itoa(sleeper.pid)+"\n"),
			refused(strconv.Itoa(sleeper.pid), filepath.Join(dir, "sleep.pid"), fmt.Sprintf("its binary %s is not sshd", sleepExe)), sleeper},
		{"monitor", writePid("monitor.pid", strconv.Itoa(monitor.PID)+"\n"),
			refused(strconv.Itoa(monitor.PID), filepath.Join(dir, "monitor.pid"), fmt.Sprintf("its parent, pid %d, is an sshd too (%s): it serves a connection, it is not the listener", s.PID, sshdtest.SSHD)), nil},
		{"unprivileged child", writePid("child.pid", strconv.Itoa(unpriv.PID)+"\n"),
			refused(strconv.Itoa(unpriv.PID), filepath.Join(dir, "child.pid"), fmt.Sprintf("it does not run as root (real uid %s, effective uid %s)", uid, uid)), nil},
		{"not a listener", writePid("inetd.pid", strconv.Itoa(inetd.pid)+"\n"),
			refused(strconv.Itoa(inetd.pid), filepath.Join(dir, "inetd.pid"), "it holds no listening TCP socket: it is not the listener"), inetd},
		{"deleted binary", writePid("deleted.pid", strconv.Itoa(deleted.pid)+"\n"),
			refused(strconv.Itoa(deleted.pid), filepath.Join(dir, "deleted.pid"), fmt.Sprintf("its binary %s (deleted): sshd was upgraded or removed since the listener started; restart it rather than reload it", deleted.exe)), deleted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := listenerSockets(t, s.PID)
			_, err := Reload(ctx, ReloadOptions{Config: s.ConfigPath, PidFile: tt.pidFile, Systemd: viaSignal()})
			if err == nil || err.Error() != tt.want {
				t.Errorf("Reload(PidFile %s) = %v, want error %q", tt.pidFile, err, tt.want)
			}
			time.Sleep(settle)
			checkNotSignalled(t, s, before)
			if tt.other != nil && !tt.other.running() {
				t.Errorf("%s, pid %d, exited after the refused Reload: %v", tt.other.name, tt.other.pid, tt.other.err)
			}
		})
	}
	if !sshdtest.Alive(monitor.PID) {
		t.Errorf("monitor %d is gone", monitor.PID)
	}
	if _, err := io.WriteString(stdin, "ok\n"); err != nil {
		t.Errorf("writing to the session: %v", err)
	}
	select {
	case err := <-sessionDone:
		sessionDone <- err // for the cleanup
		if err != nil || !strings.Contains(out.String(), "survived-ok") {
			t.Errorf("session whose processes were named in PidFiles: %v, output %q, want it to run to its end", err, out.String())
		}
	case <-time.After(clientTimeout):
		t.Errorf("session whose processes were named in PidFiles did not end within %v of being told to", clientTimeout)
	}

	// A configuration sshd refuses: nothing is signalled, so the listener
	// neither exits nor reloads, and keeps its old configuration.
	t.Run("config refused", func(t *testing.T) {
		before := listenerSockets(t, s.PID)
		orig := setConfig(t, s.ConfigPath, "PermitTTY no", "NoSuchKeyword yes")
		defer restoreConfig(t, s.ConfigPath, orig)
		_, err := Reload(ctx, ReloadOptions{Config: s.ConfigPath, PidFile: pidFile, Systemd: viaSignal()})
		wantPrefix := fmt.Sprintf("%s -t -f %s refused the configuration, nothing was reloaded: exit status 255\n", sshdtest.SSHD, s.ConfigPath)
		if err == nil || !strings.HasPrefix(err.Error(), wantPrefix) || !strings.Contains(err.Error(), "Bad configuration option: NoSuchKeyword") {
			t.Fatalf("Reload(%s) = %v, want error %q with sshd's output", s.ConfigPath, err, wantPrefix)
		}
		time.Sleep(settle)
		checkNotSignalled(t, s, before)
	})
}

// TestReloadSignalListenerExits checks that Reload notices a listener
// that exits after the SIGHUP: the configuration Reload checks is valid,
// but the listener's own file is not, so sshd exits when it reads it
// again.
func TestReloadSignalListenerExits(t *testing.T) {
	t.Parallel()
	s := sshdtest.Start(t, sshdtest.Options{})
	pidFile := waitPidFile(t, s)
	good, err := os.ReadFile(s.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	checked := filepath.Join(t.TempDir(), "sshd_config")
	if err := os.WriteFile(checked, good, 0o600); err != nil {
		t.Fatal(err)
	}
	setConfig(t, s.ConfigPath, "NoSuchKeyword yes")

	_, err = Reload(t.Context(), ReloadOptions{Config: checked, PidFile: pidFile, Systemd: viaSignal()})
	want := fmt.Sprintf("sshd exited after the reload: the listener, pid %d from %s, is gone (see sshd's log)", s.PID, pidFile)
	if err == nil || err.Error() != want {
		t.Errorf("Reload = %v, want error %q", err, want)
	}
	// Reload saw it exit (a zombie, or gone); /proc may lag a moment
	// behind on a loaded machine.
	for deadline := time.Now().Add(5 * time.Second); sshdtest.Alive(s.PID) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if sshdtest.Alive(s.PID) {
		t.Errorf("listener %d still runs with an invalid configuration", s.PID)
	}
}

// checkNotSignalled checks that s's listener got no SIGHUP: it runs,
// holds the listening sockets it held before, logged no SIGHUP, and
// still gives a new connection a pty (the configuration it started with).
func checkNotSignalled(t *testing.T, s *sshdtest.Server, before []uint64) {
	t.Helper()
	if !sshdtest.Alive(s.PID) {
		t.Fatalf("listener %d is gone", s.PID)
	}
	if after := listenerSockets(t, s.PID); !slices.Equal(after, before) {
		t.Errorf("listener sockets %v, were %v: it re-executed", after, before)
	}
	if strings.Contains(s.Log(), sighupLine) {
		t.Errorf("sshd logged %q", sighupLine)
	}
	if r := s.Run(t.Context(), clientTimeout, "-tt", "tty"); r.Exit != 0 || !strings.HasPrefix(r.Stdout, "/dev/pts/") {
		t.Errorf("ssh -tt tty: %v, want a /dev/pts/N (the old configuration)", r)
	}
}

// waitPidFile waits for the listener of s to write its PidFile, which it
// does right after it starts listening, and returns its path.
func waitPidFile(t *testing.T, s *sshdtest.Server) string {
	t.Helper()
	p := filepath.Join(s.Dir, "sshd.pid")
	want := strconv.Itoa(s.PID) + "\n"
	deadline := time.Now().Add(appearTimeout)
	for {
		b, err := os.ReadFile(p)
		if err == nil && string(b) == want {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %q (%v) after %v, want %q", p, b, err, appearTimeout, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitProcess waits for a process below s's listener that ok accepts.
func waitProcess(t *testing.T, s *sshdtest.Server, ok func(sshdtest.Process) bool) sshdtest.Process {
	t.Helper()
	deadline := time.Now().Add(appearTimeout)
	for {
		ps := s.Processes()
		if i := slices.IndexFunc(ps, ok); i >= 0 {
			return ps[i]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no such process below sshd %d after %v: %v", s.PID, appearTimeout, ps)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func listenerSockets(t *testing.T, pid int) []uint64 {
	t.Helper()
	socks, err := listeningSockets(liveFS(t), pid)
	if err != nil || len(socks) == 0 {
		t.Fatalf("listening sockets of %d: %v, %v", pid, socks, err)
	}
	return socks
}

// liveFS is the host's /proc.
func liveFS(t *testing.T) *watcher.FS {
	t.Helper()
	fsys, err := watcher.NewFS("")
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

// setConfig inserts lines after the first line of the configuration
// (sshdtest's comment), before every other line, so that they win, and
// returns the old content.
func setConfig(t *testing.T, path string, lines ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	first, rest, _ := strings.Cut(string(b), "\n")
	if !strings.HasPrefix(first, "#") || strings.Contains(strings.ToLower(rest), "permittty") {
		t.Fatalf("%s is not as expected:\n%s", path, b)
	}
	content := first + "\n" + strings.Join(lines, "\n") + "\n" + rest
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return b
}

func restoreConfig(t *testing.T, path string, content []byte) {
	t.Helper()
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Error(err)
	}
}

func uidOf(t *testing.T, user string) string {
	t.Helper()
	out, err := exec.Command("id", "-u", user).Output()
	if err != nil {
		t.Fatalf("id -u %s: %v", user, err)
	}
	return strings.TrimSpace(string(out))
}

// testProc is a process the test started and stops in its cleanup.
type testProc struct {
	name string
	pid  int
	exe  string // the binary it runs
	done chan struct{}
	err  error // its Wait error, once done is closed
}

func (c *testProc) running() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// startCmd starts cmd in a process group of its own and kills that group
// and waits for cmd in t.Cleanup.
func startCmd(t *testing.T, cmd *exec.Cmd) *testProc {
	t.Helper()
	// Pdeathsig: it dies with the test binary, even one killed at the
	// test timeout before any cleanup ran. Pdeathsig follows the thread
	// that forks, not the process, so cmd is started from a thread locked
	// until the cleanup: on a pooled thread, it would die whenever that
	// thread exits, as the one that inMountNamespace locks for good does
	// when a parallel test checks a configuration.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = time.Second
	started := make(chan error)
	release := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := cmd.Start()
		started <- err
		if err == nil {
			<-release
		}
	}()
	if err := <-started; err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	t.Cleanup(func() { close(release) }) // runs after the kill below
	c := &testProc{name: cmd.Path, pid: cmd.Process.Pid, exe: cmd.Path, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-c.pid, syscall.SIGKILL)
		select {
		case <-c.done:
		case <-time.After(appearTimeout):
			t.Errorf("%s, pid %d, still running %v after SIGKILL", c.name, c.pid, appearTimeout)
		}
	})
	return c
}

// startChild starts a root process that is not sshd. Like many programs,
// sleep exits on SIGHUP.
func startChild(t *testing.T, name string, args ...string) *testProc {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		sshdtest.Missing(t, "this test needs "+name)
	}
	return startCmd(t, exec.Command(path, args...))
}

// startSSHDInetd starts `sshd -i`, the inetd mode: root runs sshd, its
// parent is not an sshd, but it serves one connection on its stdin and
// listens on nothing. It waits for the client's version line, which never
// comes; SIGHUP would end it.
func startSSHDInetd(t *testing.T, config string) *testProc {
	t.Helper()
	cmd := exec.Command(sshdtest.SSHD, "-i", "-f", config)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := startCmd(t, cmd)
	// It is ready once it has sent its version line.
	line := make(chan error, 1)
	go func() {
		b := make([]byte, 4)
		_, err := io.ReadFull(out, b)
		if err == nil && string(b) != "SSH-" {
			err = fmt.Errorf("sshd -i said %q first", b)
		}
		line <- err
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case err := <-line:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(appearTimeout):
		t.Fatalf("sshd -i sent no version line within %v", appearTimeout)
	}
	return c
}

// startDeletedSSHD starts a listener from a copy of sshd, then deletes
// the copy, as a package upgrade replaces the binary under a running
// listener. It listens on 127.0.0.1 on a port of its own, with config but
// its own PidFile.
func startDeletedSSHD(t *testing.T, config string) *testProc {
	t.Helper()
	dir := t.TempDir()
	exe := filepath.Join(dir, "sshd")
	b, err := os.ReadFile(sshdtest.SSHD)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, b, 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	// A process forked meanwhile by a parallel test may hold the copy's
	// write descriptor until it execs: until then, executing the copy
	// fails with ETXTBSY (golang.org/issue/22315). Once it runs, no one
	// holds that descriptor any more.
	deadline := time.Now().Add(appearTimeout)
	for {
		err := exec.Command(exe, "-V").Run()
		var exitErr *exec.ExitError
		if err == nil || errors.As(err, &exitErr) {
			break
		}
		if !errors.Is(err, syscall.ETXTBSY) || time.Now().After(deadline) {
			t.Fatalf("running %s -V: %v", exe, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	pidFile := filepath.Join(dir, "sshd.pid")
	cmd := exec.Command(exe, "-D", "-e", "-f", config, "-p", strconv.Itoa(port), "-o", "PidFile="+pidFile)
	cmd.Dir = "/"
	c := startCmd(t, cmd)
	deadline = time.Now().Add(appearTimeout)
	for {
		if b, err := os.ReadFile(pidFile); err == nil && strings.TrimSpace(string(b)) == strconv.Itoa(c.pid) {
			if socks, _ := listeningSockets(liveFS(t), c.pid); len(socks) > 0 {
				break
			}
		}
		if !c.running() || time.Now().After(deadline) {
			t.Fatalf("copy of sshd on port %d did not start within %v: %v", port, appearTimeout, c.err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := os.Remove(exe); err != nil {
		t.Fatal(err)
	}
	return c
}

// Only the system's own sshd_config is reloaded through systemd when
// nothing forces a path: another sshd's configuration gets the signal.
func TestReloadViaSystemd(t *testing.T) {
	yes, no := true, false
	for _, c := range []struct {
		o           ReloadOptions
		systemdRuns bool
		want        bool
	}{
		{ReloadOptions{Config: "/etc/ssh/sshd_config"}, true, true},
		{ReloadOptions{Config: "/etc/ssh/../ssh/sshd_config"}, true, true},
		{ReloadOptions{Config: "/etc/ssh/sshd_config"}, false, false},
		{ReloadOptions{Config: "/tmp/test/sshd_config"}, true, false},
		{ReloadOptions{Config: "/tmp/test/sshd_config", Systemd: &yes}, false, true},
		{ReloadOptions{Config: "/etc/ssh/sshd_config", Systemd: &no}, true, false},
	} {
		o := c.o.withDefaults()
		if got := o.viaSystemd(c.systemdRuns); got != c.want {
			t.Errorf("Config %s, Systemd %v, systemd runs %v: via systemd %v, want %v", c.o.Config, c.o.Systemd, c.systemdRuns, got, c.want)
		}
	}
}

// TestStartCmdOutlivesThreads checks that a child started by startCmd
// lives on while threads of the test binary exit, as each one that
// inMountNamespace locks does. Started from a pooled thread, it got
// Pdeathsig's SIGKILL when that thread ended, and a parallel
// configuration check failed TestReloadSignalRefused at random.
func TestStartCmdOutlivesThreads(t *testing.T) {
	c := startChild(t, "sleep", "60")
	for range 200 {
		done := make(chan struct{})
		go func() {
			runtime.LockOSThread() // no Unlock: the thread exits
			close(done)
		}()
		<-done
		time.Sleep(time.Millisecond)
	}
	time.Sleep(settle)
	if !c.running() {
		t.Fatalf("%s, pid %d, died while other threads exited: %v", c.name, c.pid, c.err)
	}
}
