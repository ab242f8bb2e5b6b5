package enforcer

// Tests of the Actor against a real sshd on 127.0.0.1 (internal/sshdtest)
// and real ssh clients: warnings reach the client's terminal or stderr and
// nothing else, closes end the connection and the commands sshd leaves
// behind, stale identities and garbage are refused, a stuck terminal does
// not block. They need root, openssh-server and openssh-client (and
// coreutils' env --default-signal and /usr/lib/openssh/sftp-server for two
// cases); with CI=true a missing one fails the test, it never skips.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
	"github.com/sshwarden/sshwarden/watcher"
)

// Bounds on every wait of these tests.
const (
	actWait = 20 * time.Second // until a session shows, a client prints or exits, a process ends
	actPoll = 50 * time.Millisecond
)

// actClient is a started ssh client whose stdin stays open (a shell or a
// pty channel would end at EOF) and whose stdout and stderr are kept
// apart.
type actClient struct {
	name           string
	cmd            *exec.Cmd
	stdin          io.WriteCloser
	stdout, stderr sshdtest.Buffer
	done           chan struct{} // closed once cmd was waited for
}

// actStart starts cmd (from Server.SSH), and kills it in t.Cleanup.
func actStart(t *testing.T, name string, cmd *exec.Cmd) *actClient {
	t.Helper()
	c := &actClient{name: name, cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &c.stdout, &c.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.stdin = stdin
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: starting %q: %v", name, cmd.Args, err)
	}
	go func() {
		_ = cmd.Wait() // bounded by Server.SSH's WaitDelay once the client is dead
		close(c.done)
	}()
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		select {
		case <-c.done:
		case <-time.After(actWait):
			t.Errorf("%s: client %d not reaped %v after SIGKILL", name, cmd.Process.Pid, actWait)
		}
	})
	return c
}

// exit waits for the client to exit, at most actWait, and returns its
// exit status.
func (c *actClient) exit(t *testing.T) int {
	t.Helper()
	select {
	case <-c.done:
		return c.cmd.ProcessState.ExitCode()
	case <-time.After(actWait):
		t.Fatalf("%s: client still running %v after the close; stdout %q, stderr %q", c.name, actWait, c.stdout.String(), c.stderr.String())
		return -1
	}
}

// running reports whether the client has not exited.
func (c *actClient) running() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// actWaitFor polls cond until it holds, at most actWait.
func actWaitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(actWait)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v, still waiting for %s: %s", actWait, what, why)
		}
		time.Sleep(actPoll)
	}
}

// actFind scans until a session of s's listener satisfies ok, and
// returns it.
func actFind(t *testing.T, s *sshdtest.Server, what string, ok func(watcher.Session) bool) watcher.Session {
	t.Helper()
	sc, err := watcher.NewScanner(watcher.Options{FS: hostFS()})
	if err != nil {
		t.Fatalf("NewScanner: %v", err)
	}
	var found watcher.Session
	actWaitFor(t, what, func() (bool, string) {
		sessions, _, err := sc.Scan(time.Now())
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		var mine []string
		for _, x := range sessions {
			if x.Listener != s.PID {
				continue
			}
			if ok(x) {
				found = x
				return true, ""
			}
			mine = append(mine, fmt.Sprintf("%+v", x))
		}
		return false, fmt.Sprintf("sessions of listener %d: %q", s.PID, mine)
	})
	return found
}

// hostFS is this host's /proc, one for the tests of the package, as an
// agent has one: start times read through it compare equal.
var hostFS = sync.OnceValue(func() *watcher.FS {
	fs, err := watcher.NewFS("")
	if err != nil {
		panic(err)
	}
	return fs
})

// actIdentity is a process with the start time it had when the test
// looked: the pid names that process only while the start matches.
type actIdentity struct {
	PID     int
	Started time.Time
}

func actIdentify(t *testing.T, pid int) actIdentity {
	t.Helper()
	p, err := hostFS().Process(pid)
	if err != nil {
		t.Fatalf("reading process %d: %v", pid, err)
	}
	return actIdentity{pid, p.Started}
}

// alive reports whether the process still runs (not a zombie).
func (id actIdentity) alive() bool {
	p, err := hostFS().Process(id.PID)
	return err == nil && p.Alive() && p.Started.Equal(id.Started)
}

func (id actIdentity) state() byte {
	p, err := hostFS().Process(id.PID)
	if err != nil || !p.Started.Equal(id.Started) {
		return 0
	}
	return p.State
}

// kill sends sig to the process if it still is the one identified,
// through a pidfd.
func (id actIdentity) kill(sig unix.Signal) {
	fd, err := unix.PidfdOpen(id.PID, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	if id.alive() {
		_ = unix.PidfdSendSignal(fd, sig, nil, 0)
	}
}

// actNeed skips the test, or with CI=true fails it, when what is missing.
func actNeed(t *testing.T, what string, missing bool) {
	t.Helper()
	if !missing {
		return
	}
	sshdtest.Missing(t, "actor test needs "+what)
}

func actPTSTimes(t *testing.T, path string) (atime, mtime time.Time) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	return time.Unix(st.Atim.Unix()), time.Unix(st.Mtim.Unix())
}

// testActor is an Actor with the default grace, which a monitor that
// obeys SIGTERM never needs, even on a loaded machine.
func testActor() *Actor { return &Actor{FS: hostFS()} }

// TestWarnPTY warns a real pty session and closes it: the client shows the
// sanitized text, the pts atime (the idle clock) does not move, and the
// close ends the client the way OPENSSH.md says a SIGTERM to the monitor
// does.
func TestWarnPTY(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{})
	c := actStart(t, "pty", s.SSH(t.Context(), "-tt", "sleep 600"))
	sess := actFind(t, s, "the pty session with its sleep", func(x watcher.Session) bool {
		return x.Kind == watcher.KindPTY && len(x.TTYs) == 1 && len(x.Procs) > 0
	})
	a := testActor()
	pts := "/dev/" + sess.TTYs[0]
	atime, mtime := actPTSTimes(t, pts)

	text := "sshwarden: idle \x1b[31mfor 14m\x1b[0m,\tclosing\x07 in 1m\x1b]0;pwned\x07\u009b2J\nsave your work\r\n"
	via, err := a.Warn(sess, text)
	if err != nil {
		t.Fatalf("Warn(%s): %v", sess.TTY, err)
	}
	if want := []string{pts}; !slices.Equal(via, want) {
		t.Errorf("Warn via %q, want %q", via, want)
	}
	actWaitFor(t, "the warning on the client's terminal", func() (bool, string) {
		out := c.stdout.String()
		return strings.Contains(out, "second line") || strings.Contains(out, "save your work"), fmt.Sprintf("stdout %q", out)
	})
	out := c.stdout.String()
	// The pty's ONLCR may turn our \r\n into \r\r\n.
	norm := strings.ReplaceAll(out, "\r", "")
	if want := "\n\asshwarden: idle for 14m, closing in 1m\nsave your work\n"; !strings.Contains(norm, want) {
		t.Errorf("client output %q (without \\r) does not contain %q", out, want)
	}
	if strings.Contains(out, "\x1b") || strings.Contains(out, "\u009b") || strings.Contains(out, "pwned") || strings.Contains(out, "2J") {
		t.Errorf("client output %q carries an escape sequence", out)
	}
	a2, m2 := actPTSTimes(t, pts)
	if !a2.Equal(atime) {
		t.Errorf("%s atime moved from %v to %v: a warning must not count as input", pts, atime, a2)
	}
	t.Logf("%s mtime %v -> %v (output may move it, by 8 s steps)", pts, mtime, m2)

	procs := make([]actIdentity, 0, len(sess.Procs))
	for _, pid := range sess.Procs {
		procs = append(procs, actIdentify(t, pid))
	}
	start := time.Now()
	res, err := a.Close(t.Context(), sess)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("Close: %v (result %+v)", err, res)
	}
	if diff := cmp.Diff(CloseResult{Terminated: []int{sess.PID}, Gone: true}, res); diff != "" {
		t.Errorf("Close result (-want +got):\n%s", diff)
	}
	t.Logf("Close took %v", took)
	if code := c.exit(t); code != 255 {
		t.Errorf("client exit %d, want 255", code)
	}
	if e := c.stderr.String(); !strings.Contains(e, "closed by remote host") {
		t.Errorf("client stderr %q, want \"closed by remote host\"", e)
	}
	if (actIdentity{sess.PID, sess.Started}).alive() {
		t.Errorf("monitor %d still alive after Close", sess.PID)
	}
	// The shell's processes end with the SIGHUP of their terminal.
	actWaitFor(t, "the pty's processes to end on SIGHUP", func() (bool, string) {
		for _, p := range procs {
			if p.alive() {
				return false, fmt.Sprintf("process %d still running", p.PID)
			}
		}
		return true, ""
	})
}

// TestWarnExec warns an exec session on its command's stderr, never on
// stdout, and closes it: the client ends, and so does the command, which
// sshd alone would leave running.
func TestWarnExec(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{})
	c := actStart(t, "exec", s.SSH(t.Context(), "sleep 600"))
	sess := actFind(t, s, "the exec session", func(x watcher.Session) bool {
		return x.Kind == watcher.KindNoTTY && x.Command == "sleep 600" && len(x.Procs) == 1
	})
	sleep := actIdentify(t, sess.Procs[0])
	a := testActor()

	via, err := a.Warn(sess, "sshwarden: this session is idle\nit closes in 1m")
	if err != nil {
		t.Fatalf("Warn: %v", err)
	}
	if want := []string{fmt.Sprintf("stderr of pid %d", sleep.PID)}; !slices.Equal(via, want) {
		t.Errorf("Warn via %q, want %q", via, want)
	}
	actWaitFor(t, "the warning on the client's stderr", func() (bool, string) {
		e := c.stderr.String()
		return strings.Contains(e, "\nsshwarden: this session is idle\nit closes in 1m\n"), fmt.Sprintf("stderr %q", e)
	})
	if out := c.stdout.String(); out != "" {
		t.Errorf("client stdout %q, want nothing: a warning never goes to stdout", out)
	}

	res, err := a.Close(t.Context(), sess)
	if err != nil {
		t.Fatalf("Close: %v (result %+v)", err, res)
	}
	want := CloseResult{Terminated: []int{sess.PID, sleep.PID}, Gone: true}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("Close result (-want +got):\n%s", diff)
	}
	if code := c.exit(t); code != 255 {
		t.Errorf("client exit %d, want 255", code)
	}
	if e := c.stderr.String(); !strings.Contains(e, "closed by remote host") {
		t.Errorf("client stderr %q, want \"closed by remote host\"", e)
	}
	if sleep.alive() {
		t.Errorf("the command %d (sleep 600) still runs after Close", sleep.PID)
	}
}

// TestWarnCannot: sessions with nothing to write to give ErrCannotWarn,
// and nothing reaches their clients.
func TestWarnCannot(t *testing.T) {
	sftpServer := "/usr/lib/openssh/sftp-server"
	_, err := os.Stat(sftpServer)
	actNeed(t, sftpServer+" (apt-get install openssh-sftp-server)", err != nil)
	s := sshdtest.Start(t, sshdtest.Options{Extra: []string{
		"Subsystem sftp internal-sftp",
		"Subsystem xsftp " + sftpServer,
	}})
	ctx := t.Context()
	cases := []struct {
		name string
		args []string
		find func(watcher.Session) bool
		why  string // in the error
	}{
		{"-N", []string{"-N"}, func(x watcher.Session) bool { return x.Kind == watcher.KindNone }, "ssh -N"},
		{"internal-sftp", []string{"-s", "sftp"}, func(x watcher.Session) bool {
			return x.Kind == watcher.KindNoTTY && x.Command == "" && len(x.Procs) == 1
		}, "internal-sftp"},
		{"sftp-server", []string{"-s", "xsftp"}, func(x watcher.Session) bool {
			return x.Kind == watcher.KindNoTTY && x.Command == sftpServer
		}, "sftp server"},
		{"2>&1", []string{"exec 2>&1; exec sleep 601"}, func(x watcher.Session) bool {
			return x.Kind == watcher.KindNoTTY && x.Command == "sleep 601"
		}, "its stderr is its stdout"},
		{"2>/dev/null", []string{"exec 2>/dev/null; exec sleep 602"}, func(x watcher.Session) bool {
			return x.Kind == watcher.KindNoTTY && x.Command == "sleep 602"
		}, `its stderr is "/dev/null", not a pipe`},
	}
	// One after the other: before its channel opens, any login looks
	// like ssh -N.
	clients := map[string]*actClient{}
	sessions := map[string]watcher.Session{}
	taken := map[int]bool{}
	for _, tc := range cases {
		clients[tc.name] = actStart(t, tc.name, s.SSH(ctx, tc.args...))
		sess := actFind(t, s, tc.name+" session", func(x watcher.Session) bool { return !taken[x.PID] && tc.find(x) })
		sessions[tc.name] = sess
		taken[sess.PID] = true
	}
	a := testActor()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sess := sessions[tc.name]
			via, err := a.Warn(sess, "sshwarden-cannot-warn-marker")
			if !errors.Is(err, ErrCannotWarn) || len(via) > 0 {
				t.Fatalf("Warn = %q, %v; want ErrCannotWarn", via, err)
			}
			if !strings.Contains(err.Error(), tc.why) {
				t.Errorf("Warn error %q does not say %q", err, tc.why)
			}
			t.Logf("Warn: %v", err)
		})
	}
	time.Sleep(200 * time.Millisecond) // a write, had there been one, would show by now
	for name, c := range clients {
		if strings.Contains(c.stdout.String()+c.stderr.String(), "sshwarden-cannot-warn-marker") {
			t.Errorf("%s: the client got the warning although Warn refused", name)
		}
		if !c.running() {
			t.Errorf("%s: the client ended: stderr %q", name, c.stderr.String())
		}
	}
}

// TestWarnStale: a session whose monitor is not the scanned process any
// more (here: the same pid with another start time, as after pid reuse)
// is neither warned nor closed, and the real session goes on. A session
// given another login's terminal is not warned there.
func TestWarnStale(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{})
	ctx := t.Context()
	c1 := actStart(t, "pty 1", s.SSH(ctx, "-tt", "sleep 603"))
	one := actFind(t, s, "the first pty session", func(x watcher.Session) bool {
		return x.Kind == watcher.KindPTY && len(x.TTYs) == 1 && len(x.Procs) > 0
	})
	c2 := actStart(t, "pty 2", s.SSH(ctx, "-tt", "sleep 604"))
	two := actFind(t, s, "the second pty session", func(x watcher.Session) bool {
		return x.PID != one.PID && x.Kind == watcher.KindPTY && len(x.TTYs) == 1 && len(x.Procs) > 0
	})
	a := testActor()

	stale := one
	stale.Started = one.Started.Add(time.Second)
	if via, err := a.Warn(stale, "sshwarden-stale-marker"); !errors.Is(err, ErrSessionGone) || len(via) > 0 {
		t.Errorf("Warn(stale) = %q, %v; want ErrSessionGone", via, err)
	}
	res, err := a.Close(ctx, stale)
	if !errors.Is(err, ErrSessionGone) {
		t.Errorf("Close(stale) = %+v, %v; want ErrSessionGone", res, err)
	}
	if diff := cmp.Diff(CloseResult{}, res); diff != "" {
		t.Errorf("Close(stale) did something (-want +got):\n%s", diff)
	}
	t.Logf("Close(stale): %v", err)

	// One's monitor, given two's terminal.
	other := one
	other.TTY, other.TTYs = two.TTY, two.TTYs
	via, err := a.Warn(other, "sshwarden-other-marker")
	if err == nil || len(via) > 0 {
		t.Errorf("Warn(session %d on %s, the terminal of %d) = %q, %v; want an error", one.PID, two.TTY, two.PID, via, err)
	}
	t.Logf("Warn on another login's terminal: %v", err)

	time.Sleep(200 * time.Millisecond)
	for _, c := range []*actClient{c1, c2} {
		if out := c.stdout.String(); strings.Contains(out, "marker") {
			t.Errorf("%s: the client got %q", c.name, out)
		}
		if !c.running() {
			t.Errorf("%s: the client ended: stderr %q", c.name, c.stderr.String())
		}
	}
	if !(actIdentity{one.PID, one.Started}).alive() {
		t.Errorf("monitor %d is gone after a refused Close", one.PID)
	}
	// The real session can still be warned.
	if _, err := a.Warn(one, "sshwarden: still here"); err != nil {
		t.Errorf("Warn(the real session): %v", err)
	}
}

// TestWarnStuck: a client that does not read (stopped with SIGSTOP) and
// whose pty output buffer is full does not block Warn: it fails at once.
// Neither does a writer blocked on the same terminal. Once the client
// reads again, Warn gets through.
func TestWarnStuck(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{})
	c := actStart(t, "stuck pty", s.SSH(t.Context(), "-tt", "sleep 605"))
	sess := actFind(t, s, "the pty session", func(x watcher.Session) bool {
		return x.Kind == watcher.KindPTY && len(x.TTYs) == 1 && len(x.Procs) > 0
	})
	pts := "/dev/" + sess.TTY
	if err := c.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.cmd.Process.Signal(syscall.SIGCONT) })

	// Fill the terminal: sshd reads it until the channel window (2 MB) is
	// used up, then the pty buffer fills.
	fd, err := unix.Open(pts, unix.O_WRONLY|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("opening %s: %v", pts, err)
	}
	defer unix.Close(fd)
	chunk := bytes.Repeat([]byte("x"), 4096)
	total, full := 0, 0
	deadline := time.Now().Add(actWait)
	for full < 30 { // EAGAIN without progress for 30 rounds of 10 ms
		n, err := unix.Write(fd, chunk)
		switch {
		case err == unix.EAGAIN:
			full++
			time.Sleep(10 * time.Millisecond)
		case err != nil:
			t.Fatalf("filling %s: %v", pts, err)
		default:
			total += n
			full = 0
		}
		if time.Now().After(deadline) || total > 64<<20 {
			t.Fatalf("%s still takes output after %d bytes", pts, total)
		}
	}
	t.Logf("%s full after %d bytes", pts, total)

	a := testActor()
	start := time.Now()
	via, err := a.Warn(sess, "sshwarden: stuck")
	took := time.Since(start)
	if err == nil || len(via) > 0 {
		t.Errorf("Warn on a full terminal = %q, %v; want an error", via, err)
	}
	if took > time.Second {
		t.Errorf("Warn on a full terminal took %v", took)
	}
	t.Logf("Warn on a full terminal: %v after %v", err, took)

	// A writer that blocks on the terminal holds its write lock.
	w := exec.Command("sh", "-c", `printf blocked > "$1"`, "sh", pts)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	wdone := make(chan struct{})
	go func() { _ = w.Wait(); close(wdone) }()
	t.Cleanup(func() {
		_ = w.Process.Kill()
		<-wdone
	})
	writer := actIdentify(t, w.Process.Pid)
	var wchan []byte
	actWaitFor(t, "the writer to block", func() (bool, string) {
		wchan, _ = os.ReadFile(fmt.Sprintf("/proc/%d/wchan", writer.PID))
		return writer.state() == 'S' && string(wchan) != "0", fmt.Sprintf("state %c wchan %q", writer.state(), wchan)
	})
	t.Logf("writer %d blocks in %s", writer.PID, wchan)
	start = time.Now()
	via, err = a.Warn(sess, "sshwarden: stuck")
	took = time.Since(start)
	if err == nil || len(via) > 0 || took > time.Second {
		t.Errorf("Warn with a blocked writer = %q, %v after %v; want an error within 1s", via, err, took)
	}
	t.Logf("Warn with a blocked writer: %v after %v", err, took)

	if err := c.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-wdone:
	case <-time.After(actWait):
		t.Fatalf("the blocked writer still blocks %v after SIGCONT", actWait)
	}
	actWaitFor(t, "Warn to get through once the client reads", func() (bool, string) {
		_, err := a.Warn(sess, "sshwarden: unstuck")
		return err == nil, fmt.Sprint(err)
	})
	actWaitFor(t, "the warning on the client", func() (bool, string) {
		return strings.Contains(c.stdout.String(), "sshwarden: unstuck"), fmt.Sprintf("%d bytes", len(c.stdout.String()))
	})
}

// TestCloseEscalates: a user can stop their own sshd child (it runs as
// them). The monitor then forwards SIGTERM to a stopped process and waits
// for it (measured on 9.2): the session stands, so Close sends SIGKILL to
// the user child after the grace, and the monitor exits.
func TestCloseEscalates(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{})
	c := actStart(t, "exec", s.SSH(t.Context(), "sleep 606"))
	sess := actFind(t, s, "the exec session", func(x watcher.Session) bool {
		return x.Kind == watcher.KindNoTTY && x.Command == "sleep 606" && len(x.Procs) == 1
	})
	child, sleep := actIdentify(t, sess.Child), actIdentify(t, sess.Procs[0])
	child.kill(unix.SIGSTOP)
	actWaitFor(t, "the user child to stop", func() (bool, string) {
		return child.state() == 'T', fmt.Sprintf("state %c", child.state())
	})

	a := &Actor{Grace: time.Second}
	start := time.Now()
	res, err := a.Close(t.Context(), sess)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("Close: %v (result %+v)", err, res)
	}
	want := CloseResult{Terminated: []int{sess.PID, sleep.PID}, Killed: []int{child.PID}, Gone: true}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("Close result (-want +got):\n%s", diff)
	}
	t.Logf("Close took %v with a grace of %v", took, a.Grace)
	if took < a.Grace {
		t.Errorf("Close took %v: it escalated before the grace %v", took, a.Grace)
	}
	if code := c.exit(t); code != 255 {
		t.Errorf("client exit %d, want 255", code)
	}
	for _, p := range []actIdentity{{sess.PID, sess.Started}, child, sleep} {
		if p.alive() {
			t.Errorf("process %d still alive after Close", p.PID)
		}
	}
}

// TestCloseEscalatesToMonitor builds the case a real sshd does not give
// us: a monitor that ignores SIGTERM and stands after its child is
// killed. The tree is the test's own: a "monitor" (sh, then sleep, with
// SIGTERM ignored), its "user child" (the same), and two commands under
// the child, one ignoring SIGTERM. Close must kill the child, then the
// monitor, then end both commands, the stubborn one with SIGKILL.
func TestCloseEscalatesToMonitor(t *testing.T) {
	env, err := exec.LookPath("env")
	actNeed(t, "env(1) from coreutils", err != nil)
	if out, err := exec.Command(env, "--default-signal=TERM", "true").CombinedOutput(); err != nil {
		actNeed(t, fmt.Sprintf("env --default-signal (coreutils 8.31 or later): %v %s", err, out), true)
	}
	pids := filepath.Join(t.TempDir(), "pids")
	script := `trap "" TERM
sh -c 'sleep 600 & s1=$!; env --default-signal=TERM sleep 600 & echo "$$ $s1 $!" >"$1"; exec sleep 600' child "$1" &
exec sleep 600`
	mon := exec.Command("sh", "-c", script, "monitor", pids)
	if err := mon.Start(); err != nil {
		t.Fatal(err)
	}
	mdone := make(chan struct{})
	go func() { _ = mon.Wait(); close(mdone) }()
	var tree []actIdentity
	t.Cleanup(func() {
		for _, p := range tree {
			p.kill(unix.SIGKILL)
		}
		_ = mon.Process.Kill()
		<-mdone
	})
	var line string
	actWaitFor(t, "the tree's pids", func() (bool, string) {
		b, _ := os.ReadFile(pids)
		line = string(b)
		return strings.HasSuffix(line, "\n"), fmt.Sprintf("%q", line)
	})
	var cpid, s1pid, s2pid int
	if _, err := fmt.Sscan(line, &cpid, &s1pid, &s2pid); err != nil {
		t.Fatalf("pids %q: %v", line, err)
	}
	m := actIdentify(t, mon.Process.Pid)
	child, s1, s2 := actIdentify(t, cpid), actIdentify(t, s1pid), actIdentify(t, s2pid)
	tree = []actIdentity{m, child, s1, s2}
	// Each has exec'd sleep: then its disposition of SIGTERM is final.
	actWaitFor(t, "the tree to run sleep, SIGTERM ignored but by the last", func() (bool, string) {
		for i, p := range tree {
			exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.PID))
			ignored, err := actIgnoresTERM(p.PID)
			if filepath.Base(exe) != "sleep" || err != nil || ignored != (i < 3) {
				return false, fmt.Sprintf("process %d runs %q, ignores SIGTERM: %v (%v)", p.PID, exe, ignored, err)
			}
		}
		return true, ""
	})
	mp, err := hostFS().Process(m.PID)
	if err != nil {
		t.Fatal(err)
	}
	sess := watcher.Session{
		PID: m.PID, Child: child.PID, Kind: watcher.KindNoTTY, Started: m.Started,
		SessionID: mp.SessionID, Procs: []int{s1.PID, s2.PID},
	}
	slices.Sort(sess.Procs)
	a := &Actor{Grace: 300 * time.Millisecond}

	// A cancelled context: nothing is done.
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	if res, err := a.Close(cancelled, sess); !errors.Is(err, context.Canceled) || res.Terminated != nil {
		t.Errorf("Close(cancelled) = %+v, %v; want context.Canceled and nothing done", res, err)
	}
	for _, p := range tree {
		if !p.alive() {
			t.Fatalf("process %d gone after a cancelled Close", p.PID)
		}
	}

	start := time.Now()
	res, err := a.Close(t.Context(), sess)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("Close: %v (result %+v)", err, res)
	}
	want := CloseResult{
		Terminated: append([]int{m.PID}, sess.Procs...),
		Killed:     []int{child.PID, m.PID, s1.PID},
		Gone:       true,
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("Close result (-want +got):\n%s", diff)
	}
	t.Logf("Close took %v with a grace of %v", took, a.Grace)
	if limit := 3*a.Grace + 2*a.killWait() + time.Second; took > limit {
		t.Errorf("Close took %v, more than %v", took, limit)
	}
	for _, p := range tree {
		if p.alive() {
			t.Errorf("process %d still alive after Close", p.PID)
		}
	}
}

// actIgnoresTERM reports whether process pid ignores SIGTERM, from the
// SigIgn mask in its status.
func actIgnoresTERM(pid int) (bool, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return false, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "SigIgn:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return mask&(1<<(unix.SIGTERM-1)) != 0, err
		}
	}
	return false, fmt.Errorf("no SigIgn in /proc/%d/status", pid)
}

// TestCloseRootLogin: a root login is one process, warned on its command's
// stderr and closed with its command.
func TestCloseRootLogin(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "root_authorized_keys")
	s := sshdtest.Start(t, sshdtest.Options{Extra: []string{
		"PermitRootLogin prohibit-password",
		"AllowUsers root",
		"StrictModes no", // keys is under /tmp
		// Debian's bash reads ~/.bashrc for a command run by sshd at
		// shell level 1; root's may do anything (and be slow, or leave
		// lock files behind when the session is closed under it). A
		// client-sent SHLVL keeps the root shell from reading it.
		"AcceptEnv SHLVL",
		"Match User root",
		"\tAuthorizedKeysFile " + keys,
	}})
	pub, err := os.ReadFile(s.KeyPath + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keys, pub, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	asRoot := func(cmd *exec.Cmd) *exec.Cmd {
		i := slices.Index(cmd.Args, s.User+"@127.0.0.1")
		if i < 0 {
			t.Fatalf("no destination in %q", cmd.Args)
		}
		cmd.Args[i] = "root@127.0.0.1"
		cmd.Args = slices.Insert(cmd.Args, i, "-o", "SetEnv=SHLVL=5")
		return cmd
	}
	ce := actStart(t, "root exec", asRoot(s.SSH(ctx, "sleep 607")))
	cp := actStart(t, "root pty", asRoot(s.SSH(ctx, "-tt", "sleep 608")))
	exe := actFind(t, s, "the root exec session", func(x watcher.Session) bool {
		return x.UID == 0 && x.Kind == watcher.KindNoTTY && x.Command == "sleep 607" && len(x.Procs) == 1
	})
	pty := actFind(t, s, "the root pty session", func(x watcher.Session) bool {
		return x.UID == 0 && x.Kind == watcher.KindPTY && len(x.TTYs) == 1 && len(x.Procs) > 0
	})
	if exe.Child != 0 || pty.Child != 0 {
		t.Fatalf("root sessions with a user child: %+v, %+v", exe, pty)
	}
	a := testActor()
	if via, err := a.Warn(exe, "sshwarden: root exec"); err != nil || len(via) != 1 {
		t.Errorf("Warn(root exec) = %q, %v", via, err)
	}
	if via, err := a.Warn(pty, "sshwarden: root pty"); err != nil || len(via) != 1 {
		t.Errorf("Warn(root pty) = %q, %v", via, err)
	}
	actWaitFor(t, "the warnings", func() (bool, string) {
		e, o := ce.stderr.String(), cp.stdout.String()
		return strings.Contains(e, "sshwarden: root exec") && strings.Contains(o, "sshwarden: root pty"), fmt.Sprintf("exec stderr %q, pty stdout %q", e, o)
	})
	sleep := actIdentify(t, exe.Procs[0])
	for _, tc := range []struct {
		sess watcher.Session
		c    *actClient
		want CloseResult
	}{
		{exe, ce, CloseResult{Terminated: []int{exe.PID, sleep.PID}, Gone: true}},
		{pty, cp, CloseResult{Terminated: []int{pty.PID}, Gone: true}},
	} {
		res, err := a.Close(ctx, tc.sess)
		if err != nil {
			t.Errorf("Close(%s): %v", tc.c.name, err)
		}
		if diff := cmp.Diff(tc.want, res); diff != "" {
			t.Errorf("Close(%s) result (-want +got):\n%s", tc.c.name, diff)
		}
		if code := tc.c.exit(t); code != 255 {
			t.Errorf("%s: client exit %d, want 255", tc.c.name, code)
		}
	}
	if sleep.alive() {
		t.Errorf("root's command %d still runs after Close", sleep.PID)
	}
}

// TestActorGarbage: sessions with garbage in any field give errors, never
// a panic, and never a signal or a write: the only real processes they
// name are the test's own (a sleep standing in for a monitor, and the
// test itself). Only the last case names the sleep with its true start
// time: Close then signals it, and nothing else of the garbage around it.
func TestActorGarbage(t *testing.T) {
	victim := exec.Command("sleep", "600")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	vdone := make(chan struct{})
	go func() { _ = victim.Wait(); close(vdone) }()
	t.Cleanup(func() {
		_ = victim.Process.Kill()
		<-vdone
	})
	v := actIdentify(t, victim.Process.Pid)
	self := actIdentify(t, os.Getpid())
	// Real start times are whole ticks (10 ms): one nanosecond more never
	// matches.
	off := func(id actIdentity) time.Time { return id.Started.Add(time.Nanosecond) }
	garbageTTYs := []string{"", "pts/", "pts/../../x", "pts/-1", "pts/+1", "pts/00", "pts/1x", "pts/99999999",
		"pts/1048576", "tty1", "/dev/pts/0", "pts/0\x00", "pts/\u0661", "ptmx", "pts/0/../1", "pts/0", "pts/1"}
	cases := []watcher.Session{
		{},
		{PID: -1, Started: time.Now()},
		{PID: 0, Started: time.Now(), Kind: watcher.KindPTY, TTYs: []string{"pts/0"}},
		{PID: 1 << 40, Started: time.Now(), Kind: watcher.KindNoTTY},
		{PID: v.PID}, // no start time
		{PID: v.PID, Started: off(v), Kind: watcher.KindPTY, TTYs: garbageTTYs},
		{PID: v.PID, Started: off(v), Kind: watcher.KindNoTTY, Procs: []int{-1, 0, os.Getpid(), 1 << 30}},
		{PID: v.PID, Started: v.Started, Child: -5},
		{PID: v.PID, Started: v.Started, Child: v.PID},
		{PID: self.PID, Started: off(self), Child: v.PID, Kind: watcher.KindNoTTY, Procs: []int{v.PID}},
		{PID: v.PID, Started: time.Unix(-1<<40, 1), Kind: "weird"},
		{PID: v.PID, Started: time.Unix(1<<40, 1), Kind: watcher.KindNone},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(xs ...int) int { return xs[rng.IntN(len(xs))] }
	kinds := []watcher.Kind{watcher.KindPTY, watcher.KindNoTTY, watcher.KindNone, "", "?"}
	for range 300 {
		x := watcher.Session{
			PID:       pick(-1, 0, v.PID, self.PID, rng.IntN(1<<22), rng.Int()),
			Child:     pick(-1, 0, v.PID, self.PID, rng.IntN(1<<22)),
			Started:   time.Unix(rng.Int64N(1<<34)-1<<33, int64(rng.IntN(1e7))*100+1),
			Kind:      kinds[rng.IntN(len(kinds))],
			SessionID: rng.Uint32(),
		}
		if rng.IntN(3) == 0 {
			x.Started = off(actPick(rng, v, self))
		}
		for range rng.IntN(4) {
			x.TTYs = append(x.TTYs, garbageTTYs[rng.IntN(len(garbageTTYs))])
			x.Procs = append(x.Procs, pick(-1, 0, v.PID, self.PID, rng.IntN(1<<22)))
		}
		cases = append(cases, x)
	}
	a := testActor()
	for i, sess := range cases {
		text := string([]byte{byte(i), 0x1b, '[', byte(rng.IntN(256)), 0xff, '\n'}) + "sshwarden"
		via, werr := a.Warn(sess, text)
		if werr == nil || len(via) > 0 {
			t.Errorf("case %d: Warn(%+v) = %q, %v; want an error", i, sess, via, werr)
		}
		ctx, cancel := context.WithTimeout(t.Context(), actWait)
		res, cerr := a.Close(ctx, sess)
		cancel()
		if cerr == nil || res.Terminated != nil || res.Killed != nil {
			t.Errorf("case %d: Close(%+v) = %+v, %v; want an error and nothing done", i, sess, res, cerr)
		}
		if i < 12 {
			t.Logf("case %d:\n\tWarn: %v\n\tClose: %v", i, werr, cerr)
		}
	}
	if !v.alive() {
		t.Fatalf("the test's sleep %d was signalled", v.PID)
	}

	// A fixture tree is not this process's pid namespace: refused.
	b := &Actor{Proc: t.TempDir()}
	if _, err := b.Close(t.Context(), watcher.Session{PID: v.PID, Started: v.Started}); err == nil || !strings.Contains(err.Error(), "pid namespace") {
		t.Errorf("Close through a fixture /proc: %v, want a refusal", err)
	}
	if !v.alive() {
		t.Fatalf("the test's sleep %d was signalled through a fixture /proc", v.PID)
	}

	// The sleep, verified, with garbage terminals: no terminal is its.
	pty := watcher.Session{PID: v.PID, Started: v.Started, Kind: watcher.KindPTY, TTYs: garbageTTYs}
	if via, err := a.Warn(pty, "sshwarden"); err == nil || len(via) > 0 {
		t.Errorf("Warn(%+v) = %q, %v; want an error", pty, via, err)
	} else {
		t.Logf("Warn on garbage terminals:\n\t%s", strings.ReplaceAll(err.Error(), "\n", "\n\t"))
	}
	// The sleep, verified, with garbage processes, the test among them:
	// Close ends the sleep, which has no child, and nothing else.
	notty := watcher.Session{PID: v.PID, Started: v.Started, Kind: watcher.KindNoTTY,
		Procs: []int{-1, 0, 1 << 30, os.Getpid(), os.Getppid()}}
	if via, err := a.Warn(notty, "sshwarden"); !errors.Is(err, ErrCannotWarn) || len(via) > 0 {
		t.Errorf("Warn(%+v) = %q, %v; want ErrCannotWarn", notty, via, err)
	}
	res, err := a.Close(t.Context(), notty)
	if err != nil {
		t.Errorf("Close(%+v): %v", notty, err)
	}
	if diff := cmp.Diff(CloseResult{Terminated: []int{v.PID}, Gone: true}, res); diff != "" {
		t.Errorf("Close(%+v) result (-want +got):\n%s", notty, diff)
	}
}

func actPick(rng *rand.Rand, a, b actIdentity) actIdentity {
	if rng.IntN(2) == 0 {
		return a
	}
	return b
}

// TestActorWarnText checks the sanitizing of warning texts.
func TestActorWarnText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"\n\nline one\nline two\n\n", "line one\nline two"},
		{"crlf\r\nline", "crlf\nline"},
		{"tab\there", "tab here"},
		{"bell\a nul\x00 del\x7f bs\b", "bell nul del bs"},
		{"\x1b[31mred\x1b[0m", "red"},
		{"\x1b[?1049h\x1b[2J\x1b[Hclear", "clear"},
		{"title\x1b]0;pwned\x07end", "titleend"},
		{"title\x1b]0;pwned\x1b\\end", "titleend"},
		{"dcs\x1bPq#0;2;0;0;0\x1b\\end", "dcsend"},
		{"charset\x1b(Bend", "charsetend"},
		{"reset\x1bcend", "resetend"},
		{"c1 \u009b31mcsi \u009d0;x\u009cosc \u0085nel", "c1 csi osc nel"},
		{"8bit \x9b31m raw", "8bit \ufffd31m raw"},
		{"bidi \u202eevil\u202c", "bidi evil"},
		{"ls\u2028ps\u2029", "lsps"},
		{"unicode: Grüße, 日本 ✓", "unicode: Grüße, 日本 ✓"},
		{"trailing escape \x1b", "trailing escape"},
		{"trailing csi \x1b[12", "trailing csi"},
		{strings.Repeat("é", 1000), strings.Repeat("é", maxWarnText/2)},
	} {
		if got := warnText(tc.in); got != tc.want {
			t.Errorf("warnText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzActorWarnText: whatever the text, what a warning writes is valid UTF-8
// of printable runes and newlines, within the size bound, and sanitizing
// it again changes nothing.
func FuzzActorWarnText(f *testing.F) {
	for _, s := range []string{"", "a\x1b[1mb", "\x9b\x9d\x1b]", "é\xff\n\t", "\x1bP\x1b\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := warnText(in)
		if !utf8.ValidString(out) || len(out) > maxWarnText {
			t.Fatalf("warnText(%q) = %q: invalid UTF-8 or longer than %d", in, out, maxWarnText)
		}
		for _, r := range out {
			if r != '\n' && !unicode.IsPrint(r) {
				t.Fatalf("warnText(%q) = %q holds %U", in, out, r)
			}
		}
		if again := warnText(out); again != out {
			t.Fatalf("warnText(warnText(%q)) = %q, want %q", in, again, out)
		}
	})
}

// TestActorPTSName checks the parsing of terminal names and device numbers.
func TestActorPTSName(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"pts/0", 0, true}, {"pts/7", 7, true}, {"pts/300", 300, true},
		{"pts/", 0, false}, {"pts/01", 0, false}, {"pts/-1", 0, false}, {"pts/../1", 0, false},
		{"tty1", 0, false}, {"pts/1048576", 0, false}, {"pts/1 ", 0, false},
	} {
		n, err := parsePTS(tc.in)
		if (err == nil) != tc.ok || n != tc.want {
			t.Errorf("parsePTS(%q) = %d, %v; want %d, ok %v", tc.in, n, err, tc.want, tc.ok)
		}
	}
	for _, tc := range []struct {
		major, minor uint32
		want         int
		ok           bool
	}{
		{136, 0, 0, true}, {136, 255, 255, true}, {137, 4, 260, true}, {143, 255, 2047, true},
		{135, 0, 0, false}, {144, 0, 0, false}, {4, 1, 0, false}, {5, 2, 0, false},
	} {
		n, ok := ptsIndex(unix.Mkdev(tc.major, tc.minor))
		if ok != tc.ok || n != tc.want {
			t.Errorf("ptsIndex(%d:%d) = %d, %v; want %d, %v", tc.major, tc.minor, n, ok, tc.want, tc.ok)
		}
	}
}

// TestActorProcessStart: the start time the Actor checks is the one Scan
// reports, for the same process.
func TestActorProcessStart(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{})
	actStart(t, "exec", s.SSH(t.Context(), "sleep 609"))
	sess := actFind(t, s, "the exec session", func(x watcher.Session) bool { return x.Command == "sleep 609" })
	got, err := hostFS().ProcessStart(sess.PID)
	if err != nil || !got.Equal(sess.Started) {
		t.Errorf("ProcessStart(%d) = %v, %v; Scan says %v", sess.PID, got, err, sess.Started)
	}
	if _, err := hostFS().ProcessStart(-1); !errors.Is(err, watcher.ErrNoProcess) {
		t.Errorf("ProcessStart(-1) = %v, want ErrNoProcess", err)
	}
}
