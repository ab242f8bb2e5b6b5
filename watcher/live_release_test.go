package watcher_test

// Live tests per OpenSSH release: the host's sshd (Debian 12, 9.2p1) and
// the sshd of Debian roots (trixie's 10.0p1, forky's 10.6p1; see
// sshdtest.DebianRoot), run on 127.0.0.1 with real clients, root and not:
// a pty, an exec, an sftp and an ssh -N login each, and a client stuck at
// its password prompt. Scan is compared field by field with ss(8), ps(1),
// /proc/PID/sessionid and the pts device, while the listener runs and
// after it was stopped alone (as `systemctl restart ssh` does: the logins
// live on). Besides the live-test tools they need sftp (openssh-client),
// and the Debian roots (debootstrap and deb.debian.org to build them
// once); with CI=true a missing one fails the test.
//
// Every top-level name here starts with rel, so that it never collides
// with a helper another test file adds.

import (
	"fmt"
	"io"
	"os"
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

// relReleases are the sshds the release tests run: suite "" is the
// host's.
func relReleases() []struct{ name, suite string } {
	return []struct{ name, suite string }{
		{"9.2-host", ""},
		{"10.0-trixie", "trixie"},
		{"10.6-forky", "forky"},
	}
}

// relLogin is one client's login and what the test knows of it before ss
// and ps place it.
type relLogin struct {
	*sshdtest.Login
	Kind    watcher.Kind
	User    string
	UID     int
	Title   string // the title of the login's top process (child, or a 9.2 root login's monitor) once complete
	TTY     string // pty: "pts/N", as tty(1) printed it in the session
	Shell   int    // pty: the shell's $$
	Command string // exec, sftp: the command line of the first process below the top
	Below   string // a ps args below the top once the login is complete
}

// relTitle is the title sshd gives the top process of a login: "sshd:
// " up to 9.7, "sshd-session: " (the per-connection binary) from 9.8 on.
func relTitle(s *sshdtest.Server, rest string) string {
	if s.ReleaseAtLeast(9, 8) {
		return "sshd-session: " + rest
	}
	return "sshd: " + rest
}

// relLogins opens a pty, an exec, an sftp and an -N login for the test
// user and for root. exec is the remote command prefix ("sleep 61" makes
// "sleep 611" and "sleep 612").
func relLogins(t *testing.T, s *sshdtest.Server, exec string) []*relLogin {
	t.Helper()
	ctx := t.Context()
	u := lookupUser(t, s.User)
	var out []*relLogin
	for i, who := range []struct {
		name string
		uid  int
	}{{s.User, u.UID}, {"root", 0}} {
		prefix := who.name + " "
		cmd := fmt.Sprintf("%s%d", exec, i+1)
		out = append(out,
			relShell(t, s, prefix+"pty", who.name, who.uid),
			&relLogin{Login: sshdtest.StartLogin(t, prefix+"exec", s.SSHAs(ctx, who.name, cmd)), Kind: watcher.KindNoTTY,
				User: who.name, UID: who.uid, Title: relTitle(s, who.name+"@notty"), Command: cmd, Below: cmd},
			// sftp-server is a command of its own, which Command names (the
			// agent knows it cannot be warned); internal-sftp would be "".
			&relLogin{Login: sshdtest.StartLogin(t, prefix+"sftp", s.SFTP(ctx, who.name)), Kind: watcher.KindNoTTY,
				User: who.name, UID: who.uid, Title: relTitle(s, who.name+"@notty"), Command: sshdtest.SFTPServer, Below: sshdtest.SFTPServer},
			&relLogin{Login: sshdtest.StartLogin(t, prefix+"-N", s.SSHAs(ctx, who.name, "-N")), Kind: watcher.KindNone,
				User: who.name, UID: who.uid, Title: relTitle(s, who.name)},
		)
	}
	for _, l := range out {
		if l.Kind == watcher.KindPTY {
			relShellWait(t, s, l)
		}
	}
	return out
}

// relShell starts `ssh -tt` (a login shell fed by an open pipe) and asks
// the shell for its tty and pid; relShellWait reads the answer. (The
// logins start at once: a root login to the host's sshd takes seconds.)
func relShell(t *testing.T, s *sshdtest.Server, name, user string, uid int) *relLogin {
	t.Helper()
	l := sshdtest.StartLogin(t, name, s.SSHAs(t.Context(), user, "-tt"))
	if _, err := io.WriteString(l.Stdin, "tty; echo PID=$$\n"); err != nil {
		t.Fatalf("%s: writing to the shell: %v", name, err)
	}
	return &relLogin{Login: l, Kind: watcher.KindPTY, User: user, UID: uid}
}

// relShellWait waits until the shell of l said its tty and pid.
func relShellWait(t *testing.T, s *sshdtest.Server, l *relLogin) {
	t.Helper()
	m := l.WaitOutput(regexp.MustCompile(`(?s)/dev/(pts/\d+)\r?\n.*?PID=(\d+)`), waitTimeout)
	if m == nil {
		t.Fatalf("%s: the shell printed no tty and PID within %v: %q", l.Name, waitTimeout, l.Out.String())
	}
	l.Shell, _ = strconv.Atoi(m[2])
	l.TTY, l.Title = m[1], relTitle(s, l.User+"@"+m[1])
}

// relPreAuth starts a client that stays at its password prompt.
func relPreAuth(t *testing.T, s *sshdtest.Server) *sshdtest.Login {
	t.Helper()
	cmd, err := s.PasswordPrompt(t.Context(), s.User)
	if err != nil {
		t.Fatal(err)
	}
	return sshdtest.StartLogin(t, "pre-auth", cmd)
}

// relPlace places a login through ss and ps; the error says why it is
// not complete yet.
func relPlace(sn *sshdtest.Snapshot, s *sshdtest.Server, l *relLogin) (sshdtest.Placement, error) {
	return sn.PlaceComplete(s, l.Name, l.Cmd.Process.Pid, l.UID, l.Title, l.Below)
}

// relPrePlace places the pre-auth client: a monitor with a `[net]`
// child, the one that asks for the password.
func relPrePlace(sn *sshdtest.Snapshot, s *sshdtest.Server, l *sshdtest.Login) (sshdtest.Placement, error) {
	p, err := sn.Place(s, l.Cmd.Process.Pid)
	if err != nil {
		return p, fmt.Errorf("pre-auth: %w", err)
	}
	for _, pid := range sn.Descendants(p.Monitor) {
		if strings.HasSuffix(sn.Procs[pid].Args, s.User+" [net]") {
			return p, nil
		}
	}
	return p, fmt.Errorf("pre-auth: no %q below the monitor %d (%q) yet", s.User+" [net]", p.Monitor, sn.Procs[p.Monitor].Args)
}

// relCheck waits until ss and ps show every login complete and the
// pre-auth client at its prompt, then compares a scan with them. With
// listening false (after StopListener), Listener is not compared. It
// returns the scan's sessions of the logins, by monitor pid.
func relCheck(t *testing.T, s *sshdtest.Server, sc *watcher.Scanner, logins []*relLogin, pre *sshdtest.Login, listening bool) map[int]watcher.Session {
	t.Helper()
	var sn *sshdtest.Snapshot
	places := map[*relLogin]sshdtest.Placement{}
	var prePlace sshdtest.Placement
	waitFor(t, "the logins and the pre-auth client in ss and ps", func() (bool, string) {
		var err error
		if sn, err = sshdtest.TakeSnapshot(); err != nil {
			t.Fatal(err)
		}
		for _, l := range logins {
			p, err := relPlace(sn, s, l)
			if err != nil {
				return false, err.Error()
			}
			places[l] = p
		}
		prePlace, err = relPrePlace(sn, s, pre)
		if err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	// ss and ps show them: a scan should too. Wait a little, then
	// compare what it shows.
	var sessions []watcher.Session
	deadline := time.Now().Add(5 * time.Second)
	for {
		sessions, _ = scan(t, sc, time.Now())
		all := true
		for _, p := range places {
			if _, ok := byPID(sessions, p.Monitor); !ok {
				all = false
			}
		}
		if all || time.Now().After(deadline) {
			break
		}
		time.Sleep(pollEvery)
	}
	sn, err := sshdtest.TakeSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	sessions, problems := scan(t, sc, now)
	// Problems about the logins fail the test; the others are about
	// sessions of tests that run meanwhile.
	for _, pr := range problems {
		if relMine(pr, places) {
			t.Errorf("Scan as root: problem %q, about a login of this test", pr)
		} else {
			t.Logf("Scan as root: problem %q (not about this test's logins)", pr)
		}
	}
	got := map[int]watcher.Session{}
	for _, l := range logins {
		p, err := relPlace(sn, s, l)
		if err != nil {
			t.Fatalf("login changed after it was complete: %v", err)
		}
		x, ok := byPID(sessions, p.Monitor)
		if !ok {
			t.Errorf("%s: Scan lists no session with PID %d (the monitor: %q, parent %d, per ss and ps; child %d %q, uid %d)",
				l.Name, p.Monitor, sn.Procs[p.Monitor].Args, sn.Procs[p.Monitor].PPID, p.Child, sn.Procs[p.Child].Args, sn.Procs[p.Child].UID)
			continue
		}
		got[p.Monitor] = x
		relCompare(t, x, l, p, s, sn, listening, now)
	}
	for _, x := range sessions {
		if x.PID == prePlace.Monitor || x.Child == prePlace.Child && x.Child != 0 || x.Remote == prePlace.Remote {
			t.Errorf("pre-auth: Scan lists the client stuck at its password prompt (monitor %d %q, child %d %q):\n%s",
				prePlace.Monitor, sn.Procs[prePlace.Monitor].Args, prePlace.Child, sn.Procs[prePlace.Child].Args, dump([]watcher.Session{x}))
		}
	}
	var mine []watcher.Session
	for _, x := range sessions {
		if x.Local.Port() == uint16(s.Port) {
			mine = append(mine, x)
		}
	}
	if len(mine) != len(logins) {
		t.Errorf("Scan lists %d sessions on port %d, want %d (the logins)", len(mine), s.Port, len(logins))
	}
	if t.Failed() {
		t.Logf("ps:\n%s", relForest(sn, s, places, prePlace))
		t.Logf("scan at %s, sessions on port %d:\n%s", now.Format(time.RFC3339Nano), s.Port, dump(mine))
	}
	return got
}

// relMine reports whether a problem names a login of places.
func relMine(problem string, places map[*relLogin]sshdtest.Placement) bool {
	for l, p := range places {
		if sshdtest.Mentions(problem, p, l.TTY) {
			return true
		}
	}
	return false
}

// relForest prints the processes of the logins as ps shows them.
func relForest(sn *sshdtest.Snapshot, s *sshdtest.Server, places map[*relLogin]sshdtest.Placement, pre sshdtest.Placement) string {
	var b strings.Builder
	line := func(pid int, indent string) {
		p := sn.Procs[pid]
		fmt.Fprintf(&b, "  %7d %7d %5d %-6s %s%s\n", p.PID, p.PPID, p.UID, p.TTY, indent, p.Args)
	}
	var monitors []int
	for _, p := range places {
		monitors = append(monitors, p.Monitor)
	}
	monitors = append(monitors, pre.Monitor)
	slices.Sort(monitors)
	if p, ok := sn.Procs[s.PID]; ok && strings.Contains(p.Args, "[listener]") {
		line(s.PID, "")
	}
	for _, m := range monitors {
		line(m, " \\_ ")
		for _, pid := range sn.Descendants(m) {
			line(pid, "     \\_ ")
		}
	}
	return b.String()
}

// relCompare checks one session field by field.
func relCompare(t *testing.T, got watcher.Session, l *relLogin, p sshdtest.Placement, s *sshdtest.Server, sn *sshdtest.Snapshot, listening bool, now time.Time) {
	t.Helper()
	errorf := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s (pid %d): %s", l.Name, got.PID, fmt.Sprintf(format, args...))
	}
	if listening && got.Listener != s.PID {
		errorf("Listener = %d, want %d (ps: the monitor's parent)", got.Listener, s.PID)
	}
	if got.Child != p.Child {
		errorf("Child = %d, want %d (ss and ps: the monitor's child that holds the connection; %q)", got.Child, p.Child, sn.Procs[p.Child].Args)
	}
	if got.User != l.User || got.UID != l.UID {
		errorf("User, UID = %q, %d, want %q, %d", got.User, got.UID, l.User, l.UID)
	}
	if got.Remote != p.Remote {
		errorf("Remote = %v, want %v (ss: the client's end)", got.Remote, p.Remote)
	}
	if got.Local != p.Local {
		errorf("Local = %v, want %v (ss)", got.Local, p.Local)
	}
	if got.Kind != l.Kind {
		errorf("Kind = %q, want %q", got.Kind, l.Kind)
	}
	if got.TTY != l.TTY {
		errorf("TTY = %q, want %q (tty(1) in the session)", got.TTY, l.TTY)
	}
	var ttys []string
	if l.TTY != "" {
		ttys = []string{l.TTY}
	}
	if !slices.Equal(got.TTYs, ttys) {
		errorf("TTYs = %q, want %q", got.TTYs, ttys)
	}

	// ps
	m := sn.Procs[p.Monitor]
	if m.UID != 0 {
		errorf("ps: the monitor runs as uid %d, want 0", m.UID)
	}
	if p.Child != 0 {
		if c := sn.Procs[p.Child]; c.UID != l.UID {
			errorf("ps: the child %d has uid %d, want %d", p.Child, c.UID, l.UID)
		}
	}
	if d := got.Started.Sub(m.Start); d < -time.Second || d > time.Second {
		errorf("Started = %s, ps lstart %s: %v apart, want within 1s", got.Started.Format(time.RFC3339Nano), m.Start.Format(time.RFC3339), d)
	}
	if got.Started.Before(l.Started.Add(-time.Second)) || got.Started.After(now.Add(time.Second)) {
		errorf("Started = %s, not between the client's start %s and the scan %s",
			got.Started.Format(time.RFC3339Nano), l.Started.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano))
	}
	if l.Shell != 0 {
		if sh := sn.Procs[l.Shell]; sh.TTY != l.TTY || sh.PPID != p.Top() {
			errorf("ps: the shell %d has tty %q and parent %d, want %q and %d", l.Shell, sh.TTY, sh.PPID, l.TTY, p.Top())
		}
	}

	// Idle: the pts atime for a pty, nothing for -N.
	switch l.Kind {
	case watcher.KindPTY:
		var st syscall.Stat_t
		if err := syscall.Stat("/dev/"+l.TTY, &st); err != nil {
			errorf("stat /dev/%s: %v", l.TTY, err)
			break
		}
		want := now.Sub(time.Unix(st.Atim.Sec, st.Atim.Nsec))
		if got.Idle == nil {
			errorf("Idle = nil, want %v (now minus the atime of /dev/%s)", want, l.TTY)
		} else if d := *got.Idle - want; d < -time.Second || d > time.Second {
			errorf("Idle = %v, want %v (now minus the atime of /dev/%s) within 1s", *got.Idle, want, l.TTY)
		}
	case watcher.KindNone:
		if got.Idle != nil {
			errorf("Idle = %v, want nil for a session without a channel", *got.Idle)
		}
	}

	// The audit session id: the login's, shared by its processes.
	id, err := sessionID(p.Top())
	if err != nil {
		errorf("reading the session id: %v", err)
	} else {
		if got.SessionID != id {
			errorf("SessionID = %d, want %d (/proc/%d/sessionid)", got.SessionID, id, p.Top())
		}
		if id == 0 || id == unsetSessionID {
			errorf("/proc/%d/sessionid = %d: UsePAM yes, pam_loginuid should set one", p.Top(), id)
		}
		for _, pid := range p.Procs {
			if other, err := sessionID(pid); err == nil && other != id {
				errorf("/proc/%d/sessionid = %d, want the login's %d", pid, other, id)
			}
		}
	}

	if got.Command != l.Command {
		errorf("Command = %q, want %q", got.Command, l.Command)
	}
	if procs := slices.Sorted(slices.Values(got.Procs)); !slices.Equal(procs, p.Procs) {
		errorf("Procs = %v, want %v (ps: everything below %d)", got.Procs, p.Procs, p.Top())
	}
}

// relExe checks what the watcher's exe check sees of the sshd processes
// of the logins: the binary the host sees (under the root for a Debian
// root's sshd), root-owned, writable by root alone, named sshd or
// sshd-session, and TrustedSSHD accepts it.
func relExe(t *testing.T, s *sshdtest.Server, sn *sshdtest.Snapshot, pids []int) {
	t.Helper()
	prefix := s.Root + "/"
	if s.Root == "" {
		prefix = "/usr/"
	}
	for _, pid := range pids {
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err != nil {
			t.Errorf("pid %d (%q): %v", pid, sn.Procs[pid].Args, err)
			continue
		}
		if !strings.HasPrefix(exe, prefix) {
			t.Errorf("pid %d (%q): /proc/PID/exe = %q, want a path under %s", pid, sn.Procs[pid].Args, exe, prefix)
		}
		var st syscall.Stat_t
		if err := syscall.Stat(exe, &st); err != nil {
			t.Errorf("pid %d: stat %s: %v", pid, exe, err)
			continue
		}
		if st.Uid != 0 || st.Mode&0o022 != 0 {
			t.Errorf("pid %d: %s has owner %d, mode %o: the watcher trusts only root-owned binaries that group and others cannot write",
				pid, exe, st.Uid, st.Mode&0o7777)
		}
		if base := filepath.Base(exe); base != "sshd" && base != "sshd-session" {
			t.Errorf("pid %d: %s is named %q, want sshd or sshd-session", pid, exe, base)
		}
		if !watcher.TrustedSSHD(exe) {
			t.Errorf("TrustedSSHD(%q) = false, want true (pid %d, %q)", exe, pid, sn.Procs[pid].Args)
		}
	}
}

// TestScanReleases: for each release, Scan lists the pty, exec, sftp and
// -N logins of the test user and of root, field by field as ss, ps and
// the pts say, and never the client stuck at its password prompt; after
// the listener is stopped alone, the same logins with the same fields.
func TestScanReleases(t *testing.T) {
	needTools(t, "ss", "ps")
	sshdtest.RequireTools(t, "sftp", "ssh")
	for _, rel := range relReleases() {
		t.Run(rel.name, func(t *testing.T) {
			t.Parallel()
			began := time.Now()
			s := sshdtest.StartRelease(t, rel.suite)
			logins := relLogins(t, s, "sleep 61")
			pre := relPreAuth(t, s)
			sc := newScanner(t)

			var before map[int]watcher.Session
			t.Run("listening", func(t *testing.T) {
				before = relCheck(t, s, sc, logins, pre, true)
			})
			t.Run("exe", func(t *testing.T) {
				sn, err := sshdtest.TakeSnapshot()
				if err != nil {
					t.Fatal(err)
				}
				pids := []int{s.PID}
				for _, l := range logins {
					p, err := relPlace(sn, s, l)
					if err != nil {
						t.Fatal(err)
					}
					pids = append(pids, p.Monitor)
					if p.Child != 0 {
						pids = append(pids, p.Child)
					}
				}
				relExe(t, s, sn, pids)
			})
			if err := s.StopListener(); err != nil {
				t.Fatalf("StopListener: %v", err)
			}
			t.Run("listener stopped", func(t *testing.T) {
				after := relCheck(t, s, sc, logins, pre, false)
				// The same sessions as before, but for Listener and Idle.
				for pid, x := range after {
					b, ok := before[pid]
					if !ok {
						continue
					}
					x.Listener, b.Listener, x.Idle, b.Idle = 0, 0, nil, nil
					if a, w := dump([]watcher.Session{x}), dump([]watcher.Session{b}); a != w {
						t.Errorf("session %d after the listener stopped:\n%swhile it listened:\n%s", pid, a, w)
					}
				}
			})
			t.Logf("%s (%s): %v", rel.name, s.Release, time.Since(began).Round(100*time.Millisecond))
		})
	}
}
