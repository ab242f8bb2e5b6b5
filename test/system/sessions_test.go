package system_test

// SSH sessions of the container's own ssh.service, made by real clients
// inside the container, and what the agent does to them.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
)

// outcome is what the agent must do to a session.
type outcome int

const (
	// closed: warned WarnBefore ahead, then closed on time.
	closed outcome = iota
	// closedUnwarned: closed on time; it cannot be warned, which is
	// recorded as warn-failed (sftp: sshwarden-policy(5), WarnBefore).
	closedUnwarned
	// untouched: neither warned nor closed. Sessions with input, and
	// `ssh -N` sessions, which "are never closed by the agent: leave them to
	// sshd's UnusedConnectionTimeout" (sshwarden-policy(5), IdleTimeout).
	untouched
)

func (o outcome) String() string {
	return [...]string{"closed", "closed without a warning", "untouched"}[o]
}

// sessionSpec is one SSH session of a check.
type sessionSpec struct {
	name   string
	user   string // root or alice
	kind   string // pty (ssh -tt), exec (ssh host sleep N), sftp (sftp -b -), none (ssh -N)
	typing bool   // input every few seconds
	want   outcome
}

var sessionSpecs = []sessionSpec{
	{name: "root/pty", user: "root", kind: "pty", want: closed},
	{name: "alice/pty", user: "alice", kind: "pty", want: closed},
	{name: "root/exec", user: "root", kind: "exec", want: closed},
	{name: "alice/exec", user: "alice", kind: "exec", want: closed},
	{name: "root/sftp", user: "root", kind: "sftp", want: closedUnwarned},
	{name: "alice/sftp", user: "alice", kind: "sftp", want: closedUnwarned},
	{name: "root/-N", user: "root", kind: "none", want: untouched},
	{name: "alice/-N", user: "alice", kind: "none", want: untouched},
	{name: "alice/pty-typing", user: "alice", kind: "pty", typing: true, want: untouched},
	{name: "root/exec-typing", user: "root", kind: "exec", typing: true, want: untouched},
}

var restartSpecs = []sessionSpec{
	{name: "root/pty", user: "root", kind: "pty", want: closed},
	{name: "alice/pty", user: "alice", kind: "pty", want: closed},
	{name: "root/exec", user: "root", kind: "exec", want: closed},
	{name: "alice/exec", user: "alice", kind: "exec", want: closed},
	{name: "alice/pty-typing", user: "alice", kind: "pty", typing: true, want: untouched},
}

// maxLate is how late a close may come after the session crossed the
// idle limit. A pty's last input is known to the kernel's 8-second atime
// window, and the agent counts from the window's end (up to 8 s late by
// design); a session without a terminal is idle from the scan that saw
// its counters move last, so up to a ScanInterval late. Plus 3 s for the
// agent to wake, signal, and the client to notice.
func maxLate(kind string) time.Duration {
	if kind == "pty" {
		return 8*time.Second + 3*time.Second
	}
	return scanInterval + 3*time.Second
}

// maxEarly is how early a close may look: for a session without a
// terminal the test's start of idleness (the client's "Entering
// interactive session") comes a little after the agent may first see it.
func maxEarly(kind string) time.Duration {
	if kind == "pty" {
		return 0
	}
	return time.Second
}

// checkSessions starts the sessions, runs between (when not nil) once they
// are all logged in, waits until every session that must close has closed
// or would be late, and checks each one in its own subtest.
func checkSessions(t *testing.T, c *container, specs []sessionSpec, between func(t *testing.T)) {
	start := time.Now()
	clients := make([]*client, len(specs))
	for i, s := range specs {
		clients[i] = startClient(t, c, s, i)
	}
	for _, cl := range clients {
		cl.ready(t)
	}
	if between != nil {
		between(t)
	}
	// Wait for the closes, and past the latest moment any session could
	// have been closed, so that untouched means untouched.
	var hold time.Time
	for _, cl := range clients {
		if h := cl.lastInput.Add(idleTimeout + maxLate(cl.spec.kind) + time.Second); h.After(hold) {
			hold = h
		}
	}
	sshdtest.WaitFor(time.Until(hold), pollEvery, func() (bool, string) {
		for _, cl := range clients {
			if cl.spec.want != untouched && !cl.isGone() {
				return false, ""
			}
		}
		return true, ""
	})
	if d := time.Until(hold); d > 0 {
		time.Sleep(d) // the untouched sessions must outlive every deadline
	}
	recs := c.records(t, start)
	for _, cl := range clients {
		t.Run(cl.spec.name, func(t *testing.T) { cl.check(t, recs) })
	}
}

// client is a real ssh or sftp client inside the container, with its
// stdin a pipe that stays open.
type client struct {
	c      *container
	spec   sessionSpec
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout sshdtest.Buffer
	stderr sshdtest.Buffer
	done   chan struct{} // closed when the client has exited
	err    error         // its exit, once done

	sshPID    int           // the ssh process, host PID
	gone      chan struct{} // closed when the ssh process has exited: the session is over
	goneAt    time.Time     // when it exited, once gone
	port      int           // its source port: SSHWARDEN_REMOTE_PORT
	tty       string        // pts/N, for pty sessions
	command   string        // the remote command, for exec sessions
	lastInput time.Time     // the session's last input as the test knows it

	stopTyping chan struct{}
	typing     sync.WaitGroup
	watching   sync.WaitGroup
}

func (cl *client) isDone() bool { return isClosed(cl.done) }

// isGone says whether the session is over: its ssh process has exited.
// (sftp -b - outlives its ssh while its stdin is open.)
func (cl *client) isGone() bool { return isClosed(cl.gone) }

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// watchSSH closes gone when the ssh process exits, seen through a pidfd.
func (cl *client) watchSSH(t *testing.T) {
	t.Helper()
	fd, err := unix.PidfdOpen(cl.sshPID, 0)
	if err != nil {
		t.Fatalf("pidfd_open(%d): %v", cl.sshPID, err)
	}
	cl.watching.Add(1)
	go func() {
		defer cl.watching.Done()
		defer unix.Close(fd)
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			n, err := unix.Poll(fds, 200)
			if n > 0 || (err != nil && err != unix.EINTR) {
				cl.goneAt = time.Now()
				close(cl.gone)
				return
			}
			if isClosed(cl.stopTyping) && isClosed(cl.done) {
				return // ended by the test
			}
		}
	}()
}

// startClient starts the session; the client is ended when the test ends.
func startClient(t *testing.T, c *container, s sessionSpec, n int) *client {
	t.Helper()
	key := "/root/.ssh/id_ed25519"
	if s.user != "root" {
		key = "/root/.ssh/" + s.user
	}
	opts := []string{"-v", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "IdentitiesOnly=yes", "-o", "ServerAliveInterval=0", "-i", key}
	dest := s.user + "@127.0.0.1"
	cl := &client{c: c, spec: s, done: make(chan struct{}), gone: make(chan struct{}), stopTyping: make(chan struct{})}
	var args []string
	switch s.kind {
	case "pty":
		args = append(append([]string{"ssh"}, opts...), "-tt", "-p", "22", dest)
	case "exec":
		// A command of its own, to know it in the records.
		cl.command = fmt.Sprintf("sleep %d", 600+n)
		if s.typing {
			cl.command = "cat"
		}
		args = append(append([]string{"ssh"}, opts...), "-p", "22", dest, cl.command)
	case "sftp":
		args = append(append([]string{"sftp"}, opts...), "-b", "-", "-P", "22", dest)
	case "none":
		args = append(append([]string{"ssh"}, opts...), "-N", "-p", "22", dest)
	default:
		t.Fatalf("unknown kind %q", s.kind)
	}
	cl.cmd = c.command(context.Background(), args...)
	// A session of its own, as `setsid` would (OPENSSH.md).
	cl.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var err error
	if cl.stdin, err = cl.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	cl.cmd.Stdout, cl.cmd.Stderr = &cl.stdout, &cl.stderr
	if err := cl.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", s.name, err)
	}
	go func() {
		cl.err = cl.cmd.Wait()
		close(cl.done)
	}()
	t.Cleanup(cl.end)
	return cl
}

// ready waits until the session is logged in, finds the client's source
// port, and for a pty its terminal; then starts the typing, if any.
func (cl *client) ready(t *testing.T) {
	t.Helper()
	s := cl.spec
	if ok, _ := sshdtest.WaitFor(30*time.Second, pollEvery, func() (bool, string) {
		return strings.Contains(cl.stderr.String(), "Entering interactive session") || cl.isDone(), ""
	}); !ok || cl.isDone() {
		exit := "still running"
		if cl.isDone() {
			exit = fmt.Sprint(cl.err)
		}
		t.Fatalf("%s: %s did not log in within 30s (%s):\n%s", cl.c.suite, s.name, exit, cl.stderr.String())
	}
	cl.lastInput = time.Now()
	if ok, why := sshdtest.WaitFor(10*time.Second, pollEvery, func() (bool, string) {
		var err error
		cl.sshPID, cl.port, err = clientSocket(cl.cmd.Process.Pid)
		return err == nil, fmt.Sprint(err)
	}); !ok {
		t.Fatalf("%s: %s: the client's socket: %s", cl.c.suite, s.name, why)
	}
	cl.watchSSH(t)
	if s.kind == "pty" {
		// One line of input, whose output names the terminal: the
		// session's last input, unless it types.
		cl.lastInput = time.Now()
		if _, err := io.WriteString(cl.stdin, "tty\n"); err != nil {
			t.Fatal(err)
		}
		re := regexp.MustCompile(`/dev/(pts/\d+)`)
		if ok, _ := sshdtest.WaitFor(10*time.Second, pollEvery, func() (bool, string) { return re.MatchString(cl.stdout.String()), "" }); !ok {
			t.Fatalf("%s: %s: no terminal name in the output:\n%s", cl.c.suite, s.name, cl.stdout.String())
		}
		cl.tty = re.FindStringSubmatch(cl.stdout.String())[1]
	}
	if s.typing {
		line := ": typing\n"
		if s.kind == "exec" {
			line = "typing\n"
		}
		cl.typing.Add(1)
		go func() {
			defer cl.typing.Done()
			tick := time.NewTicker(3 * time.Second)
			defer tick.Stop()
			for {
				select {
				case <-cl.stopTyping:
					return
				case <-tick.C:
					if _, err := io.WriteString(cl.stdin, line); err != nil {
						return
					}
				}
			}
		}()
	}
}

// end stops the typing and the client.
func (cl *client) end() {
	close(cl.stopTyping)
	cl.typing.Wait()
	cl.stdin.Close()
	select {
	case <-cl.done:
		return
	case <-time.After(2 * time.Second):
	}
	if cl.sshPID > 0 { // ssh -N does not end with its stdin
		_ = syscall.Kill(cl.sshPID, syscall.SIGTERM)
	}
	select {
	case <-cl.done:
	case <-time.After(5 * time.Second):
		_ = cl.cmd.Process.Kill()
		<-cl.done
	}
	cl.watching.Wait()
}

// check compares what happened to the session, and its records, with what
// its spec wants.
func (cl *client) check(t *testing.T, all []entry) {
	s, suite := cl.spec, cl.c.suite
	var recs []entry
	for _, r := range all {
		if r["SSHWARDEN_REMOTE_PORT"] == strconv.Itoa(cl.port) {
			recs = append(recs, r)
		}
	}
	if s.want == untouched {
		if cl.isGone() {
			t.Errorf("%s: %s ended, want it open:\n%s", suite, s.name, tail(&cl.stderr, 5))
		}
		if len(recs) > 0 {
			t.Errorf("%s: %s: records for an untouched session:\n%s", suite, s.name, messages(recs))
		}
		return
	}
	var warn, cls []entry
	var other []entry
	for _, r := range recs {
		switch r["SSHWARDEN_ACTION"] {
		case "warn", "warn-failed":
			warn = append(warn, r)
		case "close":
			cls = append(cls, r)
		default:
			other = append(other, r)
		}
	}
	crossed := cl.lastInput.Add(idleTimeout)
	if !cl.isGone() {
		t.Errorf("%s: %s is still open %.1fs after it crossed the idle limit; its records:\n%s", suite, s.name,
			time.Since(crossed).Seconds(), messages(recs))
	} else {
		late := cl.goneAt.Sub(crossed)
		t.Logf("%s: %s: close latency %.1fs (closed %s, idle limit crossed %s)", suite, s.name, late.Seconds(),
			cl.goneAt.Format("15:04:05.0"), crossed.Format("15:04:05.0"))
		cl.c.times.add("close latency %s %s: %.1fs", t.Name(), s.kind, late.Seconds())
		if late < -maxEarly(s.kind) || late > maxLate(s.kind) {
			t.Errorf("%s: %s closed %.1fs after it crossed the idle limit, want %.0fs to %.0fs", suite, s.name,
				late.Seconds(), -maxEarly(s.kind).Seconds(), maxLate(s.kind).Seconds())
		}
		// ssh, whose exit is the client's (sftp waits for its stdin).
		if s.kind != "sftp" {
			select {
			case <-cl.done:
				if code := exitCode(cl.err); code != 255 {
					t.Errorf("%s: %s: the client exited %d, want 255 (connection closed by remote host)", suite, s.name, code)
				}
			case <-time.After(5 * time.Second):
				t.Errorf("%s: %s: ssh exited, its nsenter did not", suite, s.name)
			}
		}
	}
	if len(other) > 0 {
		t.Errorf("%s: %s: unexpected records:\n%s", suite, s.name, messages(other))
	}

	uid := "0"
	if s.user != "root" {
		uid = strings.TrimSpace(cl.c.run(t, "id", "-u", s.user))
	}
	kind := "notty"
	if s.kind == "pty" {
		kind = "pty"
	}
	base := map[string]string{
		"SYSLOG_IDENTIFIER":       "sshwarden",
		"_SYSTEMD_UNIT":           "sshwarden.service",
		"SSHWARDEN_USER":          s.user,
		"SSHWARDEN_UID":           uid,
		"SSHWARDEN_KIND":          kind,
		"SSHWARDEN_REMOTE_ADDR":   "127.0.0.1",
		"SSHWARDEN_LOCAL_PORT":    "22",
		"SSHWARDEN_REASON":        "idle",
		"SSHWARDEN_LIMIT_SECONDS": strconv.Itoa(int(idleTimeout.Seconds())),
		"SSHWARDEN_RULE":          idleRule,
	}
	switch s.kind {
	case "pty":
		base["SSHWARDEN_TTY"] = cl.tty
	case "exec":
		base["SSHWARDEN_COMMAND"] = cl.command
	}
	compare := func(what string, r entry, want map[string]string) {
		t.Helper()
		got := make(map[string]string, len(want))
		for k := range want {
			got[k] = r[k]
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: %s: %s record (-want +got):\n%s\nMESSAGE=%s", suite, s.name, what, diff, r["MESSAGE"])
		}
	}
	with := func(extra map[string]string) map[string]string {
		m := make(map[string]string, len(base)+len(extra))
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}

	if len(warn) != 1 {
		t.Errorf("%s: %s: %d warn records, want 1:\n%s", suite, s.name, len(warn), messages(recs))
	} else if s.want == closed {
		compare("warn", warn[0], with(map[string]string{"SSHWARDEN_ACTION": "warn", "MESSAGE_ID": idWarn, "PRIORITY": "6"}))
		via := warn[0]["SSHWARDEN_VIA"]
		switch s.kind {
		case "pty":
			if via != "/dev/"+cl.tty {
				t.Errorf("%s: %s: SSHWARDEN_VIA=%q, want %q", suite, s.name, via, "/dev/"+cl.tty)
			}
			if !strings.Contains(cl.stdout.String(), "sshwarden: this session has been idle for") {
				t.Errorf("%s: %s: the terminal showed no warning:\n%s", suite, s.name, tail(&cl.stdout, 5))
			}
		case "exec":
			if !regexp.MustCompile(`^stderr of pid \d+$`).MatchString(via) {
				t.Errorf("%s: %s: SSHWARDEN_VIA=%q, want stderr of pid N", suite, s.name, via)
			}
			if !strings.Contains(cl.stderr.String(), "sshwarden: this session has been idle for") {
				t.Errorf("%s: %s: the client's stderr showed no warning:\n%s", suite, s.name, tail(&cl.stderr, 5))
			}
		}
	} else {
		compare("warn-failed", warn[0], with(map[string]string{"SSHWARDEN_ACTION": "warn-failed", "MESSAGE_ID": idWarnFailed, "PRIORITY": "4"}))
		if warn[0]["SSHWARDEN_ERROR"] == "" {
			t.Errorf("%s: %s: warn-failed record without SSHWARDEN_ERROR", suite, s.name)
		}
	}
	if len(cls) != 1 {
		t.Errorf("%s: %s: %d close records, want 1:\n%s", suite, s.name, len(cls), messages(recs))
		return
	}
	compare("close", cls[0], with(map[string]string{"SSHWARDEN_ACTION": "close", "MESSAGE_ID": idClose, "PRIORITY": "5"}))
	if idle, _ := strconv.Atoi(cls[0]["SSHWARDEN_IDLE_SECONDS"]); idle < int(idleTimeout.Seconds()) {
		t.Errorf("%s: %s: SSHWARDEN_IDLE_SECONDS=%q, want at least %.0f", suite, s.name, cls[0]["SSHWARDEN_IDLE_SECONDS"], idleTimeout.Seconds())
	}
	if len(warn) == 1 {
		// Never closed less than WarnBefore after its warning; journald's
		// reception times carry a little jitter.
		if gap := cls[0].at().Sub(warn[0].at()); gap < warnBefore-500*time.Millisecond || gap > warnBefore+3*time.Second {
			t.Errorf("%s: %s: closed %.1fs after its warning, want %.0fs", suite, s.name, gap.Seconds(), warnBefore.Seconds())
		}
	}
}

// clientSocket finds the ssh process under pid (nsenter, or sftp) and the
// source port of its TCP connection to port 22, from the host's /proc.
func clientSocket(pid int) (sshPID, port int, err error) {
	ssh := 0
	for queue := []int{pid}; len(queue) > 0 && ssh == 0; {
		p := queue[0]
		queue = queue[1:]
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p)); strings.TrimSpace(string(comm)) == "ssh" {
			ssh = p
			break
		}
		queue = append(queue, children(p)...)
	}
	if ssh == 0 {
		return 0, 0, fmt.Errorf("no ssh process under pid %d", pid)
	}
	inodes := map[string]bool{}
	links, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", ssh))
	for _, l := range links {
		if dst, err := os.Readlink(l); err == nil && strings.HasPrefix(dst, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(dst, "socket:["), "]")] = true
		}
	}
	for _, table := range []string{"tcp", "tcp6"} {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", ssh, table))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			if len(f) < 10 || !inodes[f[9]] || !strings.HasSuffix(f[2], ":0016") {
				continue
			}
			_, hex, _ := strings.Cut(f[1], ":")
			p, err := strconv.ParseUint(hex, 16, 16)
			if err == nil {
				return ssh, int(p), nil
			}
		}
	}
	return ssh, 0, fmt.Errorf("no TCP connection to port 22 of ssh pid %d", ssh)
}

func children(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		data, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(data)) {
			if n, err := strconv.Atoi(s); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// tail is the last n lines of b, without ssh's debug lines.
func tail(b *sshdtest.Buffer, n int) string {
	var lines []string
	for _, l := range strings.Split(b.String(), "\n") {
		if !strings.HasPrefix(l, "debug1:") {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
