package main

// `sshwarden sessions --json` and the agent, end to end, per OpenSSH
// release: the host's sshd (Debian 12, 9.2p1) and the sshd of Debian roots
// (trixie's 10.0p1, forky's 10.6p1; see sshdtest.DebianRoot), with real
// clients, root and not. The binary is built with `go build`, run as root;
// the agent logs to a journald of its own (journaltest) and its policy
// exempts every session but those on the test sshd's port. Each release:
//
//  1. a pty, an exec, an sftp and an ssh -N login of the test user and of
//     root, a pty of each that keeps typing, and a client stuck at its
//     password prompt; `sessions --json` lists the logins, field by field
//     as ss(8), ps(1), /proc/PID/sessionid and tty(1) say, and not the
//     client at its prompt;
//  2. the listener is stopped alone (as `systemctl restart ssh` does): the
//     logins live on, and `sessions --json` lists them as before;
//  3. the agent (IdleTimeout 20s, WarnBefore 10s, CloseNoTTY yes) warns and
//     closes the idle pty, exec and sftp logins on time, records each in
//     the journal with the session's fields, and touches nothing else: the
//     typing ptys, the -N logins and the client at its prompt live on.
//
// Every top-level name here starts with rel, so that it never collides
// with a helper another test file adds.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/audit"
	"github.com/sshwarden/sshwarden/internal/journaltest"
	"github.com/sshwarden/sshwarden/internal/sshdtest"
)

// Bounds on the waits of this file.
const (
	relWait      = 20 * time.Second // until logins show in ss and ps, the shell answers
	relListWait  = 5 * time.Second  // until `sessions` lists what ss and ps show
	relBuildTime = 5 * time.Minute  // go build
	relIdle      = 20 * time.Second // the policy's IdleTimeout
	relWarn      = 10 * time.Second // and WarnBefore
	relScan      = 2 * time.Second  // and ScanInterval
	// A pty is closed up to 8 s (the kernel's atime granularity) and a
	// scan interval after its limit; a notty session a scan interval
	// after it. Plus slack for a loaded machine.
	relPTYLate   = 8*time.Second + relScan + 5*time.Second
	relNoTTYLate = relScan + 5*time.Second
	relSurvive   = 3 * time.Second // the typing goes on this long after the last close
)

// relBuild builds ./cmd/sshwarden (this package) into a temporary
// directory.
func relBuild(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go") // go test puts GOROOT/bin first in PATH
	if err != nil {
		t.Fatalf("building sshwarden: no go command in PATH: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "sshwarden")
	ctx, cancel := context.WithTimeout(t.Context(), relBuildTime)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -o %s ./cmd/sshwarden: %v (timeout %v)\n%s", bin, err, relBuildTime, out)
	}
	t.Logf("go build ./cmd/sshwarden: %v", time.Since(start).Round(100*time.Millisecond))
	return bin
}

// relRole is what a login is for in the agent's run.
type relRole int

const (
	relIdleRole   relRole = iota // idle: warned (but sftp) and closed
	relTypingRole                // a pty that types every 2 s: untouched
	relTunnelRole                // ssh -N: untouched (left to sshd)
)

// relLogin is one client's login and what the test knows of it before ss
// and ps place it.
type relLogin struct {
	*sshdtest.Login
	Role    relRole
	Kind    string // as sessions --json and the journal say it
	User    string
	UID     int
	Title   string // the title of the login's top process once complete
	TTY     string // pty: "pts/N", as tty(1) printed it in the session
	Command string // exec, sftp: the command line of the first process below the top
	Below   string // a ps args below the top once the login is complete

	LastInput time.Time // pty: when the test last typed into it, before the agent started
}

func relTitle(s *sshdtest.Server, rest string) string {
	if s.ReleaseAtLeast(9, 8) {
		return "sshd-session: " + rest
	}
	return "sshd: " + rest
}

// relLogins opens, for the test user and for root: an idle pty, exec and
// sftp login, a typing pty and an ssh -N.
func relLogins(t *testing.T, s *sshdtest.Server, uid int) []*relLogin {
	t.Helper()
	ctx := t.Context()
	var out []*relLogin
	for i, who := range []struct {
		name string
		uid  int
	}{{s.User, uid}, {"root", 0}} {
		prefix := who.name + " "
		cmd := fmt.Sprintf("sleep 62%d", i+1)
		out = append(out,
			relShell(t, s, prefix+"idle pty", who.name, who.uid, relIdleRole),
			relShell(t, s, prefix+"typing pty", who.name, who.uid, relTypingRole),
			&relLogin{Login: sshdtest.StartLogin(t, prefix+"idle exec", s.SSHAs(ctx, who.name, cmd)), Role: relIdleRole, Kind: "notty",
				User: who.name, UID: who.uid, Title: relTitle(s, who.name+"@notty"), Command: cmd, Below: cmd},
			&relLogin{Login: sshdtest.StartLogin(t, prefix+"idle sftp", s.SFTP(ctx, who.name)), Role: relIdleRole, Kind: "notty",
				User: who.name, UID: who.uid, Title: relTitle(s, who.name+"@notty"), Command: sshdtest.SFTPServer, Below: sshdtest.SFTPServer},
			&relLogin{Login: sshdtest.StartLogin(t, prefix+"-N", s.SSHAs(ctx, who.name, "-N")), Role: relTunnelRole, Kind: "none",
				User: who.name, UID: who.uid, Title: relTitle(s, who.name)},
		)
	}
	for _, l := range out {
		if l.Kind == "pty" {
			relShellWait(t, s, l)
		}
	}
	return out
}

// relShell starts `ssh -tt` (a login shell fed by an open pipe) and asks
// the shell for its tty; a typing one then runs cat, which reads each
// line typed. relShellWait reads the answer. (The logins start at once: a
// root login to the host's sshd takes seconds.)
func relShell(t *testing.T, s *sshdtest.Server, name, user string, uid int, role relRole) *relLogin {
	t.Helper()
	l := sshdtest.StartLogin(t, name, s.SSHAs(t.Context(), user, "-tt"))
	cmd := "tty\n"
	if role == relTypingRole {
		cmd = "tty; exec cat\n"
	}
	if _, err := io.WriteString(l.Stdin, cmd); err != nil {
		t.Fatalf("%s: writing to the shell: %v", name, err)
	}
	return &relLogin{Login: l, Role: role, Kind: "pty", User: user, UID: uid}
}

// relShellWait waits until the shell of l said its tty.
func relShellWait(t *testing.T, s *sshdtest.Server, l *relLogin) {
	t.Helper()
	m := l.WaitOutput(regexp.MustCompile(`/dev/(pts/\d+)\r?\n`), relWait)
	if m == nil {
		t.Fatalf("%s: the shell printed no tty within %v: %q", l.Name, relWait, l.Out.String())
	}
	l.TTY, l.Title = m[1], relTitle(s, l.User+"@"+m[1])
}

// relPlace places a login through ss and ps; the error says why it is
// not complete yet.
func relPlace(sn *sshdtest.Snapshot, s *sshdtest.Server, l *relLogin) (sshdtest.Placement, error) {
	return sn.PlaceComplete(s, l.Name, l.Cmd.Process.Pid, l.UID, l.Title, l.Below)
}

// relPlaceAll waits until ss and ps show every login complete and the
// pre-auth client at its prompt (a monitor with a `USER [net]` child).
func relPlaceAll(t *testing.T, s *sshdtest.Server, logins []*relLogin, pre *sshdtest.Login) (map[*relLogin]sshdtest.Placement, sshdtest.Placement) {
	t.Helper()
	deadline := time.Now().Add(relWait)
	for {
		sn, err := sshdtest.TakeSnapshot()
		if err != nil {
			t.Fatal(err)
		}
		places, why := map[*relLogin]sshdtest.Placement{}, ""
		for _, l := range logins {
			p, err := relPlace(sn, s, l)
			if err != nil {
				why = err.Error()
				break
			}
			places[l] = p
		}
		prePlace, err := sn.Place(s, pre.Cmd.Process.Pid)
		if why == "" && err != nil {
			why = "pre-auth: " + err.Error()
		}
		if why == "" && !slices.ContainsFunc(sn.Descendants(prePlace.Monitor), func(pid int) bool {
			return strings.HasSuffix(sn.Procs[pid].Args, s.User+" [net]")
		}) {
			why = fmt.Sprintf("pre-auth: no %q below the monitor %d yet", s.User+" [net]", prePlace.Monitor)
		}
		if why == "" {
			return places, prePlace
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v, ss and ps do not show the logins complete: %s", relWait, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// relSession is one session of `sshwarden sessions --json`.
type relSession struct {
	PID        int      `json:"pid"`
	User       string   `json:"user"`
	UID        int      `json:"uid"`
	RemoteAddr string   `json:"remote_addr"`
	RemotePort int      `json:"remote_port"`
	LocalAddr  string   `json:"local_addr"`
	LocalPort  int      `json:"local_port"`
	TTY        string   `json:"tty"`
	Kind       string   `json:"kind"`
	Started    string   `json:"started"`
	Idle       *float64 `json:"idle_seconds"`
	SessionID  uint32   `json:"session_id"`
	Command    string   `json:"command"`
}

// relSessions runs `sshwarden sessions --json --policy none` and returns
// the sessions on port, by pid, and the notes it wrote on stderr.
func relSessions(t *testing.T, bin string, port int) (map[int]relSession, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "sessions", "--json", "--policy", "none")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sshwarden sessions --json: %v\n%s", err, stderr.String())
	}
	var notes []string
	for l := range strings.Lines(stderr.String()) {
		notes = append(notes, strings.TrimSpace(l))
	}
	var out struct {
		Sessions []relSession `json:"sessions"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("sshwarden sessions --json printed %q: %v", stdout.String(), err)
	}
	mine := map[int]relSession{}
	for _, x := range out.Sessions {
		if x.LocalPort == port {
			mine[x.PID] = x
		}
	}
	return mine, notes
}

// relNotes fails the test for a note (or a scan problem) that names one
// of the logins: its monitor's or child's pid, or its terminal. The others
// are logged, with the process they name: they are about sessions of
// other tests that run meanwhile.
func relNotes(t *testing.T, notes []string, places map[*relLogin]sshdtest.Placement) {
	t.Helper()
	for _, n := range notes {
		if relMine(n, places) {
			t.Errorf("sshwarden sessions --json as root: note %q, about a login of this test", n)
			continue
		}
		what := ""
		if m := regexp.MustCompile(`session (\d+),`).FindStringSubmatch(n); m != nil {
			b, _ := os.ReadFile("/proc/" + m[1] + "/cmdline")
			what = fmt.Sprintf(" (process %s: %q)", m[1], strings.ReplaceAll(string(b), "\x00", " "))
		}
		t.Logf("sshwarden sessions --json as root: note %q%s, not about this test's logins", n, what)
	}
}

// relMine reports whether a note names a login of places.
func relMine(note string, places map[*relLogin]sshdtest.Placement) bool {
	for l, p := range places {
		if sshdtest.Mentions(note, p, l.TTY) {
			return true
		}
	}
	return false
}

// relList waits (relListWait at most) until `sessions --json` lists every
// login's monitor, then compares each with ss and ps, and checks that the
// pre-auth client is not listed. It returns the listing.
func relList(t *testing.T, bin string, s *sshdtest.Server, logins []*relLogin, pre *sshdtest.Login) map[int]relSession {
	t.Helper()
	places, prePlace := relPlaceAll(t, s, logins, pre)
	var got map[int]relSession
	var notes []string
	deadline := time.Now().Add(relListWait)
	for {
		got, notes = relSessions(t, bin, s.Port)
		all := true
		for _, p := range places {
			if _, ok := got[p.Monitor]; !ok {
				all = false
			}
		}
		if all || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	relNotes(t, notes, places)
	sn, err := sshdtest.TakeSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range logins {
		p := places[l]
		x, ok := got[p.Monitor]
		if !ok {
			t.Errorf("%s: sessions --json lists no session with pid %d (the monitor: %q, parent %d, per ss and ps)",
				l.Name, p.Monitor, sn.Procs[p.Monitor].Args, sn.Procs[p.Monitor].PPID)
			continue
		}
		want := relSession{
			PID: p.Monitor, User: l.User, UID: l.UID,
			RemoteAddr: p.Remote.Addr().String(), RemotePort: int(p.Remote.Port()),
			LocalAddr: p.Local.Addr().String(), LocalPort: int(p.Local.Port()),
			TTY: l.TTY, Kind: l.Kind, Command: l.Command,
			Started: x.Started, Idle: x.Idle, // checked below
		}
		if id, err := relSessionID(p.Top()); err != nil {
			t.Errorf("%s: %v", l.Name, err)
		} else {
			want.SessionID = id
		}
		if x != want {
			t.Errorf("%s: sessions --json lists\n  %+v\nwant (ss, ps, /proc/%d/sessionid, tty(1))\n  %+v", l.Name, x, p.Top(), want)
		}
		started, err := time.Parse(time.RFC3339, x.Started)
		if d := started.Sub(sn.Procs[p.Monitor].Start); err != nil || d < -time.Second || d > time.Second {
			t.Errorf("%s: started %q, ps lstart of the monitor %s: want within 1s", l.Name, x.Started, sn.Procs[p.Monitor].Start.Format(time.RFC3339))
		}
		if (x.Idle != nil) != (l.Kind == "pty") {
			t.Errorf("%s: idle_seconds %v, want a number for a pty only", l.Name, x.Idle)
		}
	}
	for _, x := range got {
		if x.PID == prePlace.Monitor || x.RemotePort == int(prePlace.Remote.Port()) {
			t.Errorf("pre-auth: sessions --json lists the client stuck at its password prompt (monitor %d %q): %+v",
				prePlace.Monitor, sn.Procs[prePlace.Monitor].Args, x)
		}
	}
	if len(got) != len(logins) {
		t.Errorf("sessions --json lists %d sessions on port %d, want %d (the logins)", len(got), s.Port, len(logins))
	}
	if t.Failed() {
		var b strings.Builder
		for _, p := range places {
			for _, pid := range append([]int{p.Monitor}, sn.Descendants(p.Monitor)...) {
				q := sn.Procs[pid]
				fmt.Fprintf(&b, "  %7d %7d %5d %-6s %s\n", q.PID, q.PPID, q.UID, q.TTY, q.Args)
			}
		}
		t.Logf("ps, the logins:\n%s", b.String())
	}
	return got
}

// relSessionID reads /proc/PID/sessionid (neither ss nor ps prints it).
func relSessionID(pid int) (uint32, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/sessionid", pid))
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
	if err != nil || n == 0 || n == 1<<32-1 {
		return 0, fmt.Errorf("/proc/%d/sessionid = %q: UsePAM yes, pam_loginuid should set one", pid, b)
	}
	return uint32(n), nil
}

// relWaitGone waits (5 s at most) until ss shows no connection from
// the client's end remote.
func relWaitGone(t *testing.T, name string, remote netip.AddrPort) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		sn, err := sshdtest.TakeSnapshot()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(sn.Sockets, func(so sshdtest.Socket) bool { return so.Local == remote }) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: 5s after its monitor went, ss still shows the client's end %v of the connection", name, remote)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// relPolicy scopes the agent to one port, with short limits.
func relPolicy(port int) string {
	return fmt.Sprintf(`# sshwarden release test policy
Exempt yes
ScanInterval %ds
Match LocalPort %d
    Exempt no
    IdleTimeout %ds
    WarnBefore %ds
    CloseNoTTY yes
`, int(relScan.Seconds()), port, int(relIdle.Seconds()), int(relWarn.Seconds()))
}

// relPolicyLine is the line of IdleTimeout in relPolicy.
const relPolicyLine = 6

// relAgent runs one release's test.
func relAgent(t *testing.T, bin, suite string) {
	began := time.Now()
	sshdtest.RequireTools(t, "ss", "ps", "sftp", "ssh")
	s := sshdtest.StartRelease(t, suite)
	u, err := relUserID(s.User)
	if err != nil {
		t.Fatal(err)
	}
	logins := relLogins(t, s, u)
	pre, err := s.PasswordPrompt(t.Context(), s.User)
	if err != nil {
		t.Fatal(err)
	}
	preLogin := sshdtest.StartLogin(t, "pre-auth", pre)

	// 1 and 2: the listing, while the listener runs and after it stopped.
	var before, after map[int]relSession
	t.Run("sessions", func(t *testing.T) { before = relList(t, bin, s, logins, preLogin) })
	if err := s.StopListener(); err != nil {
		t.Fatalf("StopListener: %v", err)
	}
	t.Run("sessions after the listener stopped", func(t *testing.T) {
		after = relList(t, bin, s, logins, preLogin)
		for pid, x := range after {
			if b, ok := before[pid]; ok {
				x.Idle, b.Idle = nil, nil
				if x != b {
					t.Errorf("session %d after the listener stopped:\n  %+v\nwhile it listened:\n  %+v", pid, x, b)
				}
			}
		}
	})
	listed := time.Now()

	// 3: the agent.
	places, prePlace := relPlaceAll(t, s, logins, preLogin)
	// Sleeping commands the idle exec logins run, which sshd orphans when
	// the login is closed: the agent must end them too.
	sn, err := sshdtest.TakeSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	commands := map[*relLogin]int{}
	for _, l := range logins {
		if l.Role == relIdleRole && strings.HasPrefix(l.Command, "sleep ") {
			for _, pid := range places[l].Procs {
				if sn.Procs[pid].Args == l.Command {
					commands[l] = pid
				}
			}
		}
	}

	policy := filepath.Join(t.TempDir(), "policy.conf")
	if err := os.WriteFile(policy, []byte(relPolicy(s.Port)), 0o644); err != nil {
		t.Fatal(err)
	}
	// Input into every pty now, so that their idle time starts with the
	// agent's: the listing above took a while.
	for _, l := range logins {
		if l.Kind == "pty" {
			l.LastInput = time.Now() // the pts atime is later
			if _, err := io.WriteString(l.Stdin, "\n"); err != nil {
				t.Fatalf("%s: %v", l.Name, err)
			}
		}
	}
	// The journal now: a namespace's journald exits after about 30 s
	// without records or clients.
	j := journaltest.Start(t)
	agent := j.Command(bin, "agent", "--policy", policy, "-f", s.ConfigPath)
	var agentErr sshdtest.Buffer
	agent.Stdout, agent.Stderr = io.Discard, &agentErr
	agentStart := time.Now()
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	agentDone := make(chan struct{})
	go func() { _ = agent.Wait(); close(agentDone) }()
	stopAgent := func() {
		_ = agent.Process.Signal(syscall.SIGTERM)
		select {
		case <-agentDone:
		case <-time.After(15 * time.Second):
			t.Errorf("the agent did not stop within 15s of SIGTERM")
			_ = agent.Process.Kill()
			<-agentDone
		}
	}
	t.Cleanup(func() {
		_ = agent.Process.Kill()
		<-agentDone
	})

	// The typing ptys type a line every 2 s until the end.
	stopTyping := make(chan struct{})
	var typing sync.WaitGroup
	for _, l := range logins {
		if l.Role == relTypingRole {
			typing.Go(func() {
				for {
					if _, err := io.WriteString(l.Stdin, "k\n"); err != nil {
						return
					}
					select {
					case <-stopTyping:
						return
					case <-time.After(2 * time.Second):
					}
				}
			})
		}
	}
	// Wait for the idle logins' monitors to go, at most until the latest
	// moment any should, then keep typing a little longer: a wrong close
	// of an active login would show.
	closeBy := agentStart.Add(relIdle + relPTYLate)
	gone := map[*relLogin]time.Time{}
	for {
		open := 0
		for _, l := range logins {
			if l.Role != relIdleRole {
				continue
			}
			if _, ok := gone[l]; !ok {
				if sshdtest.Alive(places[l].Monitor) {
					open++
				} else {
					gone[l] = time.Now()
				}
			}
		}
		if open == 0 || time.Now().After(closeBy) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(relSurvive)
	close(stopTyping)
	typing.Wait()
	closed := time.Now()
	t.Run("closes", func(t *testing.T) {
		for _, l := range logins {
			p := places[l]
			out := l.Out.String()
			if l.Role != relIdleRole {
				if at, exit, ended := l.Ended(); ended {
					t.Errorf("%s (monitor %d): the client ended (exit %d) %v after the agent started; want the login untouched; output %q",
						l.Name, p.Monitor, exit, at.Sub(agentStart).Round(10*time.Millisecond), out)
				}
				if !sshdtest.Alive(p.Monitor) {
					t.Errorf("%s: its monitor %d is gone; want the login untouched", l.Name, p.Monitor)
				}
				if strings.Contains(out, "sshwarden") {
					t.Errorf("%s was warned: %q", l.Name, out)
				}
				continue
			}
			at, ok := gone[l]
			if !ok {
				t.Errorf("%s (monitor %d): still open %v after the agent started; want it closed %v to %v after its last input",
					l.Name, p.Monitor, closeBy.Sub(agentStart).Round(10*time.Millisecond), relIdle, relIdle+relPTYLate)
				continue
			}
			since, late := agentStart, relNoTTYLate // a notty session's idle time starts when the agent first sees it
			if l.Kind == "pty" {
				since, late = l.LastInput, relPTYLate
			}
			if d := at.Sub(since); d < relIdle || d > relIdle+late {
				t.Errorf("%s: closed (its monitor %d gone) %v after its idle time began, want %v to %v",
					l.Name, p.Monitor, d.Round(10*time.Millisecond), relIdle, relIdle+late)
			}
			t.Logf("%s: closed %v after the agent started", l.Name, at.Sub(agentStart).Round(10*time.Millisecond))
			// The client sees the connection closed. (sftp -b - reading its
			// stdin does not notice; its ssh does.)
			relWaitGone(t, l.Name, p.Remote)
			if l.Command == sshdtest.SFTPServer {
				continue
			}
			if _, exit, ended := l.WaitEnd(5 * time.Second); !ended || exit != 255 {
				t.Errorf("%s: the client ended %v with exit %d, want exit 255 (closed by the server); output %q", l.Name, ended, exit, out)
			}
			if !strings.Contains(l.Out.String(), "sshwarden: ") {
				t.Errorf("%s: no warning reached the client: %q", l.Name, l.Out.String())
			}
			if pid, ok := commands[l]; ok && sshdtest.Alive(pid) {
				t.Errorf("%s: its command %q (pid %d) outlived the close", l.Name, l.Command, pid)
			}
		}
		if !sshdtest.Alive(prePlace.Monitor) {
			t.Errorf("pre-auth: its monitor %d is gone", prePlace.Monitor)
		}
		if at, exit, ended := preLogin.Ended(); ended {
			t.Errorf("pre-auth: the client at its password prompt ended (exit %d) %v after the agent started: %q",
				exit, at.Sub(agentStart).Round(10*time.Millisecond), preLogin.Out.String())
		}
	})

	stopAgent()
	if code := agent.ProcessState.ExitCode(); code != 0 {
		t.Errorf("after SIGTERM the agent exited %d, want 0\n%s", code, agentErr.String())
	}
	t.Run("journal", func(t *testing.T) {
		records := j.WaitFor(t, 10*time.Second, func(recs []map[string]string) bool {
			return slices.ContainsFunc(recs, func(r map[string]string) bool { return r["SSHWARDEN_ACTION"] == "agent-stopped" })
		}, "SYSLOG_IDENTIFIER=sshwarden")
		relRecords(t, records, logins, places, after, policy)
		if t.Failed() {
			t.Logf("agent stderr:\n%s", agentErr.String())
		}
	})
	t.Logf("%s (%s): %v in all; listing %v; agent %v", t.Name(), s.Release,
		time.Since(began).Round(100*time.Millisecond), listed.Sub(began).Round(100*time.Millisecond), closed.Sub(agentStart).Round(100*time.Millisecond))
}

// relRecords checks the agent's journal records: started, a warning
// for each idle pty and exec login and a warn-failed for each sftp one, a
// close for each idle login, stopped; each with the session's fields.
func relRecords(t *testing.T, records []map[string]string, logins []*relLogin, places map[*relLogin]sshdtest.Placement, listed map[int]relSession, policy string) {
	t.Helper()
	byAction := map[string][]map[string]string{}
	for _, r := range records {
		byAction[r["SSHWARDEN_ACTION"]] = append(byAction[r["SSHWARDEN_ACTION"]], r)
		if r["MESSAGE_ID"] != audit.MessageID(r["SSHWARDEN_ACTION"]) {
			t.Errorf("record %v: MESSAGE_ID %q, want the action's %q", r, r["MESSAGE_ID"], audit.MessageID(r["SSHWARDEN_ACTION"]))
		}
	}
	idle := map[string]*relLogin{} // by monitor pid
	warned, sftp := 0, 0
	for _, l := range logins {
		if l.Role == relIdleRole {
			idle[strconv.Itoa(places[l].Monitor)] = l
			if l.Command == sshdtest.SFTPServer {
				sftp++
			} else {
				warned++
			}
		}
	}
	for action, want := range map[string]int{"agent-started": 1, "warn": warned, "warn-failed": sftp, "close": len(idle), "agent-stopped": 1} {
		if got := len(byAction[action]); got != want {
			t.Errorf("%d %s records, want %d", got, action, want)
		}
	}
	for _, r := range records {
		pid := r["SSHWARDEN_PID"]
		if pid == "" {
			continue
		}
		l, ok := idle[pid]
		if !ok {
			t.Errorf("a %s record about session %s, which is not one of the idle logins: %v", r["SSHWARDEN_ACTION"], pid, r)
			continue
		}
		p := places[l]
		want := map[string]string{
			"SSHWARDEN_USER":          l.User,
			"SSHWARDEN_UID":           strconv.Itoa(l.UID),
			"SSHWARDEN_REMOTE_ADDR":   p.Remote.Addr().String(),
			"SSHWARDEN_REMOTE_PORT":   strconv.Itoa(int(p.Remote.Port())),
			"SSHWARDEN_LOCAL_PORT":    strconv.Itoa(int(p.Local.Port())),
			"SSHWARDEN_TTY":           l.TTY,
			"SSHWARDEN_KIND":          l.Kind,
			"SSHWARDEN_REASON":        "idle",
			"SSHWARDEN_LIMIT_SECONDS": strconv.Itoa(int(relIdle.Seconds())),
			"SSHWARDEN_RULE":          fmt.Sprintf("%s:%d", policy, relPolicyLine),
		}
		if x, ok := listed[p.Monitor]; ok {
			want["SSHWARDEN_SESSION_ID"] = strconv.FormatUint(uint64(x.SessionID), 10)
		}
		if r["SSHWARDEN_ACTION"] == "warn-failed" {
			if l.Command != sshdtest.SFTPServer || !strings.Contains(r["SSHWARDEN_ERROR"], "cannot be warned") {
				t.Errorf("%s: warn-failed record %v; want one only for sftp, saying it cannot be warned", l.Name, r)
			}
		}
		for k, v := range want {
			if r[k] != v {
				t.Errorf("%s: %s record: %s = %q, want %q", l.Name, r["SSHWARDEN_ACTION"], k, r[k], v)
			}
		}
		idleFor, _ := strconv.Atoi(r["SSHWARDEN_IDLE_SECONDS"])
		switch r["SSHWARDEN_ACTION"] {
		case "close":
			if idleFor < int(relIdle.Seconds()) {
				t.Errorf("%s: closed at %d s idle, before the %v limit: %v", l.Name, idleFor, relIdle, r)
			}
		case "warn":
			if idleFor < int((relIdle-relWarn).Seconds()) || idleFor >= int(relIdle.Seconds()) {
				t.Errorf("%s: warned at %d s idle, want %v to %v", l.Name, idleFor, relIdle-relWarn, relIdle)
			}
		}
		if !strings.Contains(r["MESSAGE"], l.User) || !strings.Contains(r["MESSAGE"], p.Remote.Addr().String()) {
			t.Errorf("%s: MESSAGE %q does not say who and from where", l.Name, r["MESSAGE"])
		}
	}
	if t.Failed() {
		for _, r := range records {
			t.Logf("record: %s pid %s: %s", r["SSHWARDEN_ACTION"], r["SSHWARDEN_PID"], r["MESSAGE"])
		}
	}
}

// relUserID returns the uid of name.
func relUserID(name string) (int, error) {
	b, err := os.ReadFile("/etc/passwd")
	if err != nil {
		return 0, err
	}
	for l := range strings.Lines(string(b)) {
		f := strings.Split(l, ":")
		if len(f) > 2 && f[0] == name {
			return strconv.Atoi(f[2])
		}
	}
	return 0, fmt.Errorf("no user %s in /etc/passwd", name)
}

// TestAgentReleases runs relAgent for each release, in parallel.
func TestAgentReleases(t *testing.T) {
	if os.Geteuid() != 0 {
		msg := "the agent's release tests need root"
		sshdtest.Missing(t, msg)
	}
	bin := relBuild(t)
	for _, rel := range []struct{ name, suite string }{
		{"9.2-host", ""},
		{"10.0-trixie", "trixie"},
		{"10.6-forky", "forky"},
	} {
		t.Run(rel.name, func(t *testing.T) {
			t.Parallel()
			relAgent(t, bin, rel.suite)
		})
	}
}
