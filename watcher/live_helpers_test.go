package watcher_test

// Independent sources for the live tests: ss(8) for sockets, ps(1) for
// processes, /proc read directly only for what neither tool prints (the
// audit session id, the exe link), and helpers to run processes as the
// unprivileged test user and kill every one of them again.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
	"github.com/sshwarden/sshwarden/watcher"
)

// Bounds on every wait.
const (
	waitTimeout = 20 * time.Second // until a session shows, a client prints, a process appears
	toolTimeout = 10 * time.Second // one ss, ps, ssh-keygen run
	killTimeout = 5 * time.Second  // until the processes a test started are gone
	pollEvery   = 50 * time.Millisecond
)

// tools maps the commands the live tests run to their Debian packages.
var tools = map[string]string{
	"ss":         "iproute2",
	"ps":         "procps",
	"runuser":    "util-linux",
	"ssh-keygen": "openssh-client",
}

// needTools skips the test, or with CI=true fails it, unless every tool
// is installed.
func needTools(t *testing.T, names ...string) {
	t.Helper()
	var missing []string
	for _, n := range names {
		if toolPath(n) == "" {
			missing = append(missing, fmt.Sprintf("%s (apt-get install %s)", n, tools[n]))
		}
	}
	if len(missing) == 0 {
		return
	}
	sshdtest.Missing(t, "live scan test needs "+strings.Join(missing, ", "))
}

// toolPath finds name in PATH or in the sbin directories a non-login root
// shell may lack; "" if it is nowhere.
func toolPath(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// runTool runs a short command in the C locale, bounded by toolTimeout,
// and returns its standard output.
func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, toolPath(name), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v (timeout %v)\n%s", name, strings.Join(args, " "), err, toolTimeout, stderr.String())
	}
	return stdout.String()
}

func newScanner(t *testing.T) *watcher.Scanner {
	t.Helper()
	sc, err := watcher.NewScanner(watcher.Options{})
	if err != nil {
		t.Fatalf("NewScanner(Options{}): %v", err)
	}
	return sc
}

// scan runs one scan and checks what every scan must satisfy: no error,
// sessions sorted by PID with no PID twice, problems said once.
func scan(t *testing.T, sc *watcher.Scanner, now time.Time) ([]watcher.Session, []string) {
	t.Helper()
	sessions, problems, err := sc.Scan(now)
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	checkScan(t, sessions, problems)
	return sessions, problems
}

func checkScan(t *testing.T, sessions []watcher.Session, problems []string) {
	t.Helper()
	for i := 1; i < len(sessions); i++ {
		if sessions[i-1].PID >= sessions[i].PID {
			t.Errorf("Scan: sessions not sorted by PID, or a PID twice: %d then %d", sessions[i-1].PID, sessions[i].PID)
		}
	}
	seen := map[string]bool{}
	for _, p := range problems {
		if seen[p] {
			t.Errorf("Scan: problem said twice: %q", p)
		}
		seen[p] = true
	}
}

// scanUntil scans until ok accepts the sessions, at most waitTimeout.
func scanUntil(t *testing.T, sc *watcher.Scanner, what string, ok func([]watcher.Session) bool) []watcher.Session {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		sessions, problems := scan(t, sc, time.Now())
		if ok(sessions) {
			return sessions
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v, Scan still does not show %s; last scan:\n%s\nproblems: %q", waitTimeout, what, dump(sessions), problems)
		}
		time.Sleep(pollEvery)
	}
}

func dump(sessions []watcher.Session) string {
	var b strings.Builder
	for _, s := range sessions {
		idle := "nil"
		if s.Idle != nil {
			idle = s.Idle.String()
		}
		fmt.Fprintf(&b, "  pid %d child %d listener %d user %s uid %d %v->%v tty %q kind %s started %s idle %s sessionid %d command %q procs %v\n",
			s.PID, s.Child, s.Listener, s.User, s.UID, s.Remote, s.Local, s.TTY, s.Kind,
			s.Started.Format(time.RFC3339Nano), idle, s.SessionID, s.Command, s.Procs)
	}
	if b.Len() == 0 {
		return "  (no sessions)\n"
	}
	return b.String()
}

func byPID(sessions []watcher.Session, pid int) (watcher.Session, bool) {
	for _, s := range sessions {
		if s.PID == pid {
			return s, true
		}
	}
	return watcher.Session{}, false
}

func ofListener(sessions []watcher.Session, listener int) []watcher.Session {
	var out []watcher.Session
	for _, s := range sessions {
		if s.Listener == listener {
			out = append(out, s)
		}
	}
	return out
}

// socket is one TCP connection as `ss -tnpe` prints it.
type socket struct {
	Local, Peer netip.AddrPort
	PIDs        []int // the processes holding it
	Line        string
}

// ssUser matches one ("name",pid=N,fd=M) of ss's users:(...) list; the
// name is quoted, so a process named "pid=1" cannot fake a pid.
var ssUser = regexp.MustCompile(`\("(?:[^"\\]|\\.)*",pid=(\d+),fd=\d+\)`)

// sockets returns the TCP connections of the host, from ss.
func sockets(t *testing.T) []socket {
	t.Helper()
	var out []socket
	for line := range strings.Lines(runTool(t, "ss", "-H", "-t", "-n", "-p", "-e")) {
		// State Recv-Q Send-Q Local:Port Peer:Port users:((...)) extras
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		local, err1 := sshdtest.ParseSSAddr(f[3])
		peer, err2 := sshdtest.ParseSSAddr(f[4])
		if err1 != nil || err2 != nil {
			continue
		}
		s := socket{Local: local, Peer: peer, Line: strings.TrimSpace(line)}
		if i := strings.Index(line, "users:("); i >= 0 {
			for _, m := range ssUser.FindAllStringSubmatch(line[i:], -1) {
				pid, _ := strconv.Atoi(m[1])
				s.PIDs = append(s.PIDs, pid)
			}
		}
		out = append(out, s)
	}
	return out
}

// psProc is one process as `ps -o pid,ppid,uid,tty,lstart,args` prints it.
type psProc struct {
	PID, PPID, UID int
	TTY            string    // "pts/3", or "?" without a controlling tty
	Start          time.Time // lstart: whole seconds, local time
	Args           string    // fields joined by single spaces
}

// processes returns every process of the host, from ps.
func processes(t *testing.T) map[int]psProc {
	t.Helper()
	out := map[int]psProc{}
	for line := range strings.Lines(runTool(t, "ps", "-e", "-ww", "-o", "pid=,ppid=,uid=,tty=,lstart=,args=")) {
		// pid ppid uid tty Www Mmm dd hh:mm:ss yyyy args...
		f := strings.Fields(line)
		if len(f) < 9 {
			continue
		}
		var p psProc
		var err error
		if p.PID, err = strconv.Atoi(f[0]); err != nil {
			t.Fatalf("ps: bad pid in %q", line)
		}
		if p.PPID, err = strconv.Atoi(f[1]); err != nil {
			t.Fatalf("ps: bad ppid in %q", line)
		}
		if p.UID, err = strconv.Atoi(f[2]); err != nil {
			t.Fatalf("ps: bad uid in %q", line)
		}
		p.TTY = f[3]
		if p.Start, err = time.ParseInLocation("Mon Jan 2 15:04:05 2006", strings.Join(f[4:9], " "), time.Local); err != nil {
			t.Fatalf("ps: bad lstart in %q: %v", line, err)
		}
		p.Args = strings.Join(f[9:], " ")
		out[p.PID] = p
	}
	return out
}

// descendants returns the pids below root in procs, sorted.
func descendants(procs map[int]psProc, root int) []int {
	parent := make(map[int]int, len(procs))
	for _, p := range procs {
		parent[p.PID] = p.PPID
	}
	return sshdtest.Below(parent, root)
}

// sessionID reads /proc/PID/sessionid (ps has no column for it).
func sessionID(pid int) (uint32, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/sessionid", pid))
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
	return uint32(n), err
}

// unsetSessionID is /proc/PID/sessionid outside any login.
const unsetSessionID = 4294967295

// trustedServer checks, without the scanner, that the sshd serving x may
// be trusted: its listener, or for an orphan (its listener exited) its
// monitor, runs as root a root-owned sshd or sshd-session.
func trustedServer(x watcher.Session) error {
	if x.Listener != 0 {
		return trustedListener(x.Listener)
	}
	return trustedRoot(x.PID, "sshd", "sshd-session")
}

// trustedListener checks, without the scanner, that pid is a listener the
// scanner may trust: real, effective, saved and filesystem uid 0, and an
// exe that is a root-owned regular file named sshd that neither group nor
// others can write.
func trustedListener(pid int) error { return trustedRoot(pid, "sshd") }

// trustedRoot checks that pid runs as root (every uid 0) a root-owned
// regular file that neither group nor others can write, named one of
// names.
func trustedRoot(pid int, names ...string) error {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return err
	}
	for l := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(l, "Uid:"); ok {
			for _, id := range strings.Fields(v) {
				if id != "0" {
					return fmt.Errorf("pid %d has uids %s", pid, strings.TrimSpace(v))
				}
			}
		}
	}
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return err
	}
	st, err := os.Stat(fmt.Sprintf("/proc/%d/exe", pid)) // the file it runs, also once deleted
	if err != nil {
		return err
	}
	sys := st.Sys().(*syscall.Stat_t)
	if !st.Mode().IsRegular() || sys.Uid != 0 || st.Mode().Perm()&0o022 != 0 || !slices.Contains(names, filepath.Base(strings.TrimSuffix(exe, " (deleted)"))) {
		return fmt.Errorf("pid %d runs %s (mode %v, owner %d), not a root-owned sshd", pid, exe, st.Mode(), sys.Uid)
	}
	return nil
}

// testUser is the sshdtest user.
type testUser struct {
	Name     string
	UID, GID int
	Home     string
}

func lookupUser(t *testing.T, name string) testUser {
	t.Helper()
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatalf("user %s: %v", name, err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		t.Fatalf("user %s: uid %q gid %q", name, u.Uid, u.Gid)
	}
	return testUser{Name: name, UID: uid, GID: gid, Home: u.HomeDir}
}

// userDir returns a fresh directory owned by u, mode 0755, outside the
// test's own TempDir (whose parent only root may enter), removed at the
// end of the test.
func userDir(t *testing.T, u testUser) string {
	t.Helper()
	d, err := os.MkdirTemp("", "sshwarden-watcher-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(d, u.UID, u.GID); err != nil {
		t.Fatal(err)
	}
	return d
}

// writeUserFile writes a file owned by u.
func writeUserFile(t *testing.T, u testUser, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, u.UID, u.GID); err != nil {
		t.Fatal(err)
	}
}

// client is a started ssh client whose stdin stays open until the end of
// the test (an sftp server or a shell would end at EOF).
type client struct {
	Name    string
	Cmd     *exec.Cmd
	Stdin   io.WriteCloser
	Out     sshdtest.Buffer // stdout and stderr
	Started time.Time
}

// startClient starts cmd (from Server.SSH) and stops it in t.Cleanup.
func startClient(t *testing.T, name string, cmd *exec.Cmd) *client {
	t.Helper()
	c := &client{Name: name, Cmd: cmd}
	cmd.Stdout, cmd.Stderr = &c.Out, &c.Out
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.Stdin = stdin
	c.Started = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: starting %v: %v", name, cmd.Args, err)
	}
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait() // bounded by Server.SSH's WaitDelay
	})
	return c
}

// waitOutput waits until the client has printed something re matches and
// returns the submatches.
func (c *client) waitOutput(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		if m := re.FindStringSubmatch(c.Out.String()); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no output matching %q after %v; output so far: %q", c.Name, re, waitTimeout, c.Out.String())
		}
		time.Sleep(pollEvery)
	}
}

// login rewrites the destination of a Server.SSH command to log in as
// another user, and port (unless 0) to another port.
func login(t *testing.T, cmd *exec.Cmd, s *sshdtest.Server, user string, port int) *exec.Cmd {
	t.Helper()
	dest, portArg := false, false
	for i, a := range cmd.Args {
		switch {
		case a == s.User+"@127.0.0.1" && !dest:
			cmd.Args[i] = user + "@127.0.0.1"
			dest = true
		case a == "-p" && i+1 < len(cmd.Args) && port != 0 && !portArg:
			cmd.Args[i+1] = strconv.Itoa(port)
			portArg = true
		}
	}
	if !dest || (port != 0 && !portArg) {
		t.Fatalf("cannot find the destination or port in %q", cmd.Args)
	}
	return cmd
}

// procStat is what killTrees needs of a process: its parent and its start
// (so that a reused pid is never killed).
type procStat struct {
	PPID  int
	State byte
	Start uint64
}

func readStat(pid int) (procStat, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, false
	}
	// state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
	// utime stime cutime cstime priority nice threads itrealvalue starttime
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return procStat{}, false
	}
	ppid, err1 := strconv.Atoi(f[1])
	start, err2 := strconv.ParseUint(f[19], 10, 64)
	if err1 != nil || err2 != nil {
		return procStat{}, false
	}
	return procStat{PPID: ppid, State: f[0][0], Start: start}, true
}

func snapshot() map[int]procStat {
	out := map[int]procStat{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := readStat(pid); ok {
			out[pid] = st
		}
	}
	return out
}

// killTrees SIGKILLs root and everything below it, including the
// processes that were below it once and have been reparented since,
// until none is left, at most killTimeout.
func killTrees(roots ...int) error {
	seen := map[int]uint64{} // pid -> start
	deadline := time.Now().Add(killTimeout)
	for {
		procs := snapshot()
		children := map[int][]int{}
		for pid, p := range procs {
			children[p.PPID] = append(children[p.PPID], pid)
		}
		queue := slices.Clone(roots)
		for len(queue) > 0 {
			pid := queue[0]
			queue = queue[1:]
			p, ok := procs[pid]
			if !ok {
				continue
			}
			if _, ok := seen[pid]; !ok {
				seen[pid] = p.Start
			}
			queue = append(queue, children[pid]...)
		}
		var victims []int
		for pid, start := range seen {
			if p, ok := procs[pid]; ok && p.Start == start && p.State != 'Z' {
				victims = append(victims, pid)
			}
		}
		if len(victims) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes still running %v after SIGKILL: %v", killTimeout, victims)
		}
		for _, pid := range victims {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startAs runs argv as u through runuser, in a session of its own, and in
// t.Cleanup kills it with everything it started.
func startAs(t *testing.T, u testUser, out io.Writer, argv ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(toolPath("runuser"), append([]string{"-u", u.Name, "--"}, argv...)...)
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("runuser -u %s -- %q: %v", u.Name, argv, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		if err := killTrees(cmd.Process.Pid); err != nil {
			t.Errorf("stopping %q as %s: %v", argv, u.Name, err)
		}
		select {
		case <-done:
		case <-time.After(killTimeout):
			t.Errorf("runuser %d not reaped %v after SIGKILL", cmd.Process.Pid, killTimeout)
		}
	})
	return cmd
}

// waitFor polls cond until it holds, at most waitTimeout, and fails the
// test with what cond said last if it never does.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	if ok, why := sshdtest.WaitFor(waitTimeout, pollEvery, cond); !ok {
		t.Fatalf("after %v, still waiting for %s: %s", waitTimeout, what, why)
	}
}
