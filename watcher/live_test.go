package watcher_test

// Live tests: the scanner against a real sshd on 127.0.0.1 (sshdtest) and
// real ssh clients, field by field against what ss(8), ps(1) and the pts
// device say; processes of an unprivileged user that lie about what they
// are; processes that come and go while Scan runs; and a scan without
// root. They need root, openssh-server, openssh-client, iproute2 (ss),
// procps (ps), util-linux (runuser) and perl; with CI=true a missing one
// fails the test.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
	"github.com/sshwarden/sshwarden/watcher"
)

// expect is what a test knows about one of its logins before ss and ps
// place it.
type expect struct {
	*client
	Kind    watcher.Kind
	User    string
	UID     int
	Title   *regexp.Regexp // the user child's title (a root login's process's) once its channel is open
	TTY     string         // pty: "pts/N", as tty(1) printed it in the session
	Shell   int            // pty: the shell's $$
	Command string         // exec: the remote command
	Below   string         // a title (ps args) below the child once the login is complete
}

// resolved is where ss and ps place a login.
type resolved struct {
	Remote  netip.AddrPort // the client's end, from ss
	Monitor int            // holder of the server socket whose parent is the listener
	Child   int            // the monitor's only child; 0 for a root login
	Procs   []int          // everything below the child (below the single process for root)
}

// shellLogin starts cmd (an `ssh -tt` with no command: a login shell) and
// asks the shell for its tty and pid.
func shellLogin(t *testing.T, name string, cmd *exec.Cmd, user string, uid int) *expect {
	t.Helper()
	c := startClient(t, name, cmd)
	if _, err := io.WriteString(c.Stdin, "tty; echo PID=$$\n"); err != nil {
		t.Fatalf("%s: writing to the shell: %v", name, err)
	}
	m := c.waitOutput(t, regexp.MustCompile(`(?s)/dev/(pts/\d+)\r?\n.*?PID=(\d+)`))
	shell, _ := strconv.Atoi(m[2])
	return &expect{
		client: c, Kind: watcher.KindPTY, User: user, UID: uid,
		Title: regexp.MustCompile("^sshd: " + regexp.QuoteMeta(user) + "@" + regexp.QuoteMeta(m[1]) + "$"),
		TTY:   m[1], Shell: shell,
	}
}

// resolve places e through ss and ps; it returns why not when the login
// is not (yet) complete.
func resolve(e *expect, listener int, server netip.AddrPort, socks []socket, procs map[int]psProc) (resolved, string) {
	var r resolved
	cpid := e.Cmd.Process.Pid
	for _, s := range socks {
		if s.Peer == server && slices.Contains(s.PIDs, cpid) {
			r.Remote = s.Local
		}
	}
	if !r.Remote.IsValid() {
		return r, fmt.Sprintf("%s: ss shows no connection of client %d to %v", e.Name, cpid, server)
	}
	var holders []int
	for _, s := range socks {
		if s.Local == server && s.Peer == r.Remote {
			holders = s.PIDs
		}
	}
	for _, pid := range holders {
		if procs[pid].PPID == listener {
			r.Monitor = pid
		}
	}
	if r.Monitor == 0 {
		return r, fmt.Sprintf("%s: none of the holders %v of %v-%v is a child of listener %d", e.Name, holders, server, r.Remote, listener)
	}
	top := r.Monitor
	if e.UID != 0 {
		var kids []int
		for _, p := range procs {
			if p.PPID == r.Monitor {
				kids = append(kids, p.PID)
			}
		}
		if len(kids) != 1 {
			return r, fmt.Sprintf("%s: monitor %d has children %v, want one", e.Name, r.Monitor, kids)
		}
		r.Child = kids[0]
		top = r.Child
	}
	if title := procs[top].Args; !e.Title.MatchString(title) {
		return r, fmt.Sprintf("%s: process %d is %q, not yet %v", e.Name, top, title, e.Title)
	}
	r.Procs = descendants(procs, top)
	if e.Below != "" && !slices.ContainsFunc(r.Procs, func(pid int) bool { return procs[pid].Args == e.Below }) {
		return r, fmt.Sprintf("%s: no %q below %d yet", e.Name, e.Below, top)
	}
	return r, ""
}

// checkLive waits until ss, ps and Scan all show the logins, then compares
// one scan with ss, ps, /proc/PID/sessionid and the pts device.
func checkLive(t *testing.T, s *sshdtest.Server, logins []*expect) {
	t.Helper()
	server := netip.MustParseAddrPort(s.Addr())
	sc := newScanner(t)
	waitFor(t, "the logins in ss, ps and Scan", func() (bool, string) {
		socks, procs := sockets(t), processes(t)
		sessions, _ := scan(t, sc, time.Now())
		for _, e := range logins {
			r, why := resolve(e, s.PID, server, socks, procs)
			if why != "" {
				return false, why
			}
			if _, ok := byPID(sessions, r.Monitor); !ok {
				return false, fmt.Sprintf("%s: no session with PID %d (the monitor per ss and ps); scan:\n%s", e.Name, r.Monitor, dump(sessions))
			}
		}
		return true, ""
	})

	procs, socks := processes(t), sockets(t)
	res := map[*expect]resolved{}
	for _, e := range logins {
		r, why := resolve(e, s.PID, server, socks, procs)
		if why != "" {
			t.Fatalf("login changed after it was complete: %s", why)
		}
		res[e] = r
	}
	now := time.Now()
	sessions, problems := scan(t, sc, now)
	if len(problems) > 0 {
		t.Errorf("Scan as root: problems %q, want none", problems)
	}
	for _, e := range logins {
		got, ok := byPID(sessions, res[e].Monitor)
		if !ok {
			t.Errorf("%s: Scan lost the session with PID %d", e.Name, res[e].Monitor)
			continue
		}
		compare(t, got, e, res[e], s.PID, server, procs, now)
	}
	mine := ofListener(sessions, s.PID)
	if len(mine) != len(logins) {
		t.Errorf("Scan shows %d sessions of listener %d, want %d", len(mine), s.PID, len(logins))
	}
	t.Logf("sessions of listener %d, as compared:\n%s", s.PID, dump(mine))
	if t.Failed() {
		var b strings.Builder
		for _, so := range socks {
			if so.Local == server || so.Peer == server {
				b.WriteString("  " + so.Line + "\n")
			}
		}
		t.Logf("scan at %s:\n%sss:\n%s", now.Format(time.RFC3339Nano), dump(sessions), b.String())
	}
}

// compare checks one session field by field.
func compare(t *testing.T, got watcher.Session, e *expect, r resolved, listener int, server netip.AddrPort, procs map[int]psProc, now time.Time) {
	t.Helper()
	errorf := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s (pid %d): %s", e.Name, got.PID, fmt.Sprintf(format, args...))
	}
	if got.Listener != listener {
		errorf("Listener = %d, want %d (ps: the monitor's parent)", got.Listener, listener)
	}
	if got.Child != r.Child {
		errorf("Child = %d, want %d (ps: the monitor's child)", got.Child, r.Child)
	}
	if got.User != e.User || got.UID != e.UID {
		errorf("User, UID = %q, %d, want %q, %d", got.User, got.UID, e.User, e.UID)
	}
	if got.Remote != r.Remote {
		errorf("Remote = %v, want %v (ss: the client's end)", got.Remote, r.Remote)
	}
	if got.Local != server {
		errorf("Local = %v, want %v (ss)", got.Local, server)
	}
	if got.Kind != e.Kind {
		errorf("Kind = %q, want %q", got.Kind, e.Kind)
	}
	if got.TTY != e.TTY {
		errorf("TTY = %q, want %q (tty(1) in the session)", got.TTY, e.TTY)
	}
	var ttys []string
	if e.TTY != "" {
		ttys = []string{e.TTY}
	}
	if !slices.Equal(got.TTYs, ttys) {
		errorf("TTYs = %q, want %q", got.TTYs, ttys)
	}

	// ps
	m := procs[r.Monitor]
	if m.UID != 0 {
		errorf("ps: the monitor runs as uid %d, want 0", m.UID)
	}
	top := r.Monitor
	if r.Child != 0 {
		top = r.Child
		if c := procs[r.Child]; c.UID != e.UID || c.PPID != r.Monitor {
			errorf("ps: the child %d has uid %d and parent %d, want %d and %d", r.Child, c.UID, c.PPID, e.UID, r.Monitor)
		}
	}
	if d := got.Started.Sub(m.Start); d < -time.Second || d > time.Second {
		errorf("Started = %s, ps lstart %s: %v apart, want within 1s", got.Started.Format(time.RFC3339Nano), m.Start.Format(time.RFC3339), d)
	}
	// The boot time in /proc/stat has whole seconds.
	if got.Started.Before(e.Started.Add(-time.Second)) || got.Started.After(now.Add(time.Second)) {
		errorf("Started = %s, not between the client's start %s and the scan %s",
			got.Started.Format(time.RFC3339Nano), e.Started.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano))
	}
	if e.Shell != 0 {
		if sh := procs[e.Shell]; sh.TTY != e.TTY || sh.PPID != top {
			errorf("ps: the shell %d has tty %q and parent %d, want %q and %d", e.Shell, sh.TTY, sh.PPID, e.TTY, top)
		}
	}

	// Idle: the pts atime for a pty, nothing for -N.
	switch e.Kind {
	case watcher.KindPTY:
		var st syscall.Stat_t
		if err := syscall.Stat("/dev/"+e.TTY, &st); err != nil {
			errorf("stat /dev/%s: %v", e.TTY, err)
			break
		}
		want := now.Sub(time.Unix(st.Atim.Sec, st.Atim.Nsec))
		if got.Idle == nil {
			errorf("Idle = nil, want %v (now minus the atime of /dev/%s)", want, e.TTY)
		} else if d := *got.Idle - want; d < -time.Second || d > time.Second {
			errorf("Idle = %v, want %v (now minus the atime of /dev/%s) within 1s", *got.Idle, want, e.TTY)
		}
	case watcher.KindNone:
		if got.Idle != nil {
			errorf("Idle = %v, want nil for a session without a channel", *got.Idle)
		}
	default:
		if got.Idle != nil && (*got.Idle < 0 || *got.Idle > now.Sub(got.Started)+time.Second) {
			errorf("Idle = %v, longer than the session (started %s)", *got.Idle, got.Started.Format(time.RFC3339Nano))
		}
	}

	// The audit session id: the login's, shared by its processes.
	id, err := sessionID(top)
	if err != nil {
		errorf("reading the session id: %v", err)
	} else {
		if got.SessionID != id {
			errorf("SessionID = %d, want %d (/proc/%d/sessionid)", got.SessionID, id, top)
		}
		if id == 0 || id == unsetSessionID {
			errorf("/proc/%d/sessionid = %d: sshdtest runs UsePAM yes, pam_loginuid should set one", top, id)
		}
		for _, pid := range r.Procs {
			if pid == m.PID {
				continue
			}
			if other, err := sessionID(pid); err == nil && other != id {
				errorf("/proc/%d/sessionid = %d, want the login's %d", pid, other, id)
			}
		}
	}

	if e.Command != "" {
		if !strings.Contains(got.Command, e.Command) {
			errorf("Command = %q, want it to contain %q", got.Command, e.Command)
		}
	} else if got.Command != "" {
		errorf("Command = %q, want \"\" for a %s", got.Command, e.Name)
	}
	if procs := slices.Sorted(slices.Values(got.Procs)); !slices.Equal(procs, r.Procs) {
		errorf("Procs = %v, want %v (ps: everything below %d)", got.Procs, r.Procs, top)
	}
}

// TestScanLive compares a scan of a pty, an exec, an sftp and an -N login
// with ss, ps, /proc/PID/sessionid and the pts device.
func TestScanLive(t *testing.T) {
	needTools(t, "ss", "ps")
	s := sshdtest.Start(t, sshdtest.Options{Extra: []string{"Subsystem sftp internal-sftp"}})
	u := lookupUser(t, s.User)
	ctx := t.Context()
	title := func(suffix string) *regexp.Regexp {
		return regexp.MustCompile("^sshd: " + regexp.QuoteMeta(s.User+suffix) + "$")
	}
	checkLive(t, s, []*expect{
		shellLogin(t, "pty", s.SSH(ctx, "-tt"), s.User, u.UID),
		{client: startClient(t, "exec", s.SSH(ctx, "sleep 61")), Kind: watcher.KindNoTTY,
			User: s.User, UID: u.UID, Title: title("@notty"), Command: "sleep 61", Below: "sleep 61"},
		// internal-sftp runs in a process of its own below the child.
		{client: startClient(t, "sftp", s.SSH(ctx, "-s", "sftp")), Kind: watcher.KindNoTTY,
			User: s.User, UID: u.UID, Title: title("@notty"), Below: "sshd: " + s.User + "@internal-sftp"},
		{client: startClient(t, "-N", s.SSH(ctx, "-N")), Kind: watcher.KindNone,
			User: s.User, UID: u.UID, Title: title("")},
	})
}

// TestScanLiveRoot does the same for root logins, which are one process.
// The throwaway sshd lets root in with the test's key through a Match
// block naming an authorized_keys file of the test's own: root's
// ~/.ssh is never touched.
func TestScanLiveRoot(t *testing.T) {
	needTools(t, "ss", "ps")
	keys := filepath.Join(t.TempDir(), "root_authorized_keys")
	s := sshdtest.Start(t, sshdtest.Options{Extra: []string{
		"PermitRootLogin prohibit-password",
		"AllowUsers root",
		"StrictModes no", // keys is under /tmp, which everyone can write
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
	checkLive(t, s, []*expect{
		shellLogin(t, "root pty", login(t, s.SSH(ctx, "-tt"), s, "root", 0), "root", 0),
		{client: startClient(t, "root exec", login(t, s.SSH(ctx, "sleep 65"), s, "root", 0)), Kind: watcher.KindNoTTY,
			User: "root", UID: 0, Title: regexp.MustCompile(`^sshd: root@notty$`), Command: "sleep 65", Below: "sleep 65"},
	})
}

// spoofer is a perl program that gives itself and its children exactly
// the titles of an sshd listener, a monitor and user children (perl's $0
// rewrites the command line and comm, as setproctitle does).
const spoofer = `
$0 = "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups";
if (fork == 0) {
	$0 = "sshd: root [priv]";
	if (fork == 0) { $0 = "sshd: root\@pts/0"; sleep 60; exit 0 }
	if (fork == 0) { $0 = "sshd: root\@notty"; sleep 60; exit 0 }
	1 while wait != -1;
	exit 0;
}
if (fork == 0) { $0 = "sshd: root\@pts/1"; sleep 60; exit 0 }
if (fork == 0) { $0 = "sshd: root [priv]"; sleep 60; exit 0 }
1 while wait != -1;
`

// TestScanAdversarial: processes of an unprivileged user that call
// themselves sshd, and the user's own sshd (the real, trusted binary,
// started by the user on a port of its own, with real logins) never show
// as sessions; the real sshd's login still does.
func TestScanAdversarial(t *testing.T) {
	needTools(t, "ps", "runuser", "ssh-keygen", "perl")
	s := sshdtest.Start(t, sshdtest.Options{})
	u := lookupUser(t, s.User)
	ctx := t.Context()
	sc := newScanner(t)
	startClient(t, "control", s.SSH(ctx, "sleep 62"))

	dir := userDir(t, u)
	// A program named sshd that is not sshd: comm "sshd", exe sleep.
	fake := filepath.Join(dir, "sshd")
	if err := os.Symlink("/usr/bin/sleep", fake); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(fake, u.UID, u.GID); err != nil {
		t.Fatal(err)
	}
	var out sshdtest.Buffer
	var roots []int
	as := func(argv ...string) { roots = append(roots, startAs(t, u, &out, argv...).Process.Pid) }
	as("bash", "-c", `exec -a "sshd: root@pts/0" "$0" 60`, fake)
	as("bash", "-c", `exec -a "sshd: root [priv]" "$0" 60`, fake)
	as("bash", "-c", `exec -a "sshd: `+u.Name+`@notty" "$0" 60`, fake)
	as("perl", "-e", spoofer)

	// The user's own sshd.
	hostKey := filepath.Join(dir, "hostkey")
	runTool(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "watcher-adversary", "-f", hostKey)
	for _, f := range []string{hostKey, hostKey + ".pub"} {
		if err := os.Chown(f, u.UID, u.GID); err != nil {
			t.Fatal(err)
		}
	}
	config := filepath.Join(dir, "sshd_config")
	writeUserFile(t, u, config, strings.Join([]string{
		"ListenAddress 127.0.0.1",
		"HostKey " + hostKey,
		"PidFile " + filepath.Join(dir, "sshd.pid"),
		"UsePAM no", // PAM needs root
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"AllowUsers " + u.Name,
		"LogLevel VERBOSE",
		"",
	}, "\n"), 0o644)
	port := sshdtest.FreePort(t)
	var ownLog sshdtest.Buffer
	own := startAs(t, u, &ownLog, sshdtest.SSHD, "-D", "-e", "-f", config, "-p", strconv.Itoa(port))
	roots = append(roots, own.Process.Pid)
	var ownListener int
	waitFor(t, "the user's sshd to listen on port "+strconv.Itoa(port), func() (bool, string) {
		for _, p := range processes(t) {
			if p.PPID == own.Process.Pid && p.UID == u.UID && strings.Contains(p.Args, "[listener]") {
				ownListener = p.PID
			}
		}
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
		if err == nil {
			c.Close()
		}
		return ownListener != 0 && err == nil, fmt.Sprintf("listener %d, dial: %v; log:\n%s", ownListener, err, ownLog.String())
	})
	// Logins to it with the key sshdtest put in the user's authorized_keys.
	// (No pty: a non-root sshd cannot chown the pts to group tty.)
	startClient(t, "own exec", login(t, s.SSH(ctx, "sleep 63"), s, s.User, port))
	startClient(t, "own -N", login(t, s.SSH(ctx, "-N"), s, s.User, port))

	// Every fake is up: titles as ps shows them, below the roots.
	wantTitles := []string{
		"sshd: root@pts/0 60", "sshd: root [priv] 60", "sshd: " + u.Name + "@notty 60",
		"sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups", "sshd: root [priv]",
		"sshd: root@pts/0", "sshd: root@notty", "sshd: root@pts/1",
		"sshd: " + u.Name + " [priv]", "sshd: " + u.Name + "@notty", "sshd: " + u.Name, "sleep 63",
	}
	adversary := map[int]bool{} // everything the user runs
	fakes := map[int]string{}   // the long-lived ones, by title
	waitFor(t, "the user's processes", func() (bool, string) {
		procs := processes(t)
		clear(adversary)
		clear(fakes)
		titles := map[string]int{}
		for _, root := range roots {
			adversary[root] = true
			for _, pid := range descendants(procs, root) {
				adversary[pid] = true
				titles[procs[pid].Args]++
				if slices.Contains(wantTitles, procs[pid].Args) {
					fakes[pid] = procs[pid].Args
				}
			}
		}
		for _, w := range wantTitles {
			if titles[w] == 0 {
				return false, fmt.Sprintf("no %q yet among %v; sshd log:\n%s", w, titles, ownLog.String())
			}
		}
		return true, ""
	})

	control := scanUntil(t, sc, "the control login (sleep 62)", func(sessions []watcher.Session) bool {
		return slices.ContainsFunc(ofListener(sessions, s.PID), func(x watcher.Session) bool { return strings.Contains(x.Command, "sleep 62") })
	})
	controlPID := ofListener(control, s.PID)[0].PID
	for i := range 5 {
		sessions, problems := scan(t, sc, time.Now())
		if _, ok := byPID(sessions, controlPID); !ok {
			t.Errorf("scan %d: the real login %d is missing", i, controlPID)
		}
		for _, x := range sessions {
			switch {
			case x.Listener == ownListener:
				t.Errorf("scan %d: session %d of the user's own sshd %d (uid %d)", i, x.PID, ownListener, u.UID)
			case adversary[x.PID] || adversary[x.Child] || adversary[x.Listener] || slices.ContainsFunc(x.Procs, func(pid int) bool { return adversary[pid] }):
				t.Errorf("scan %d: session %d (child %d, listener %d, procs %v) is made of the user's processes", i, x.PID, x.Child, x.Listener, x.Procs)
			case x.Listener != s.PID:
				if err := trustedServer(x); err != nil {
					t.Errorf("scan %d: session %d has an untrusted listener: %v", i, x.PID, err)
				}
			}
		}
		if t.Failed() {
			t.Fatalf("scan %d:\n%sproblems: %q", i, dump(sessions), problems)
		}
		if i == 0 {
			t.Logf("problems: %q", problems)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The fakes were alive through the scans.
	procs := processes(t)
	for pid, title := range fakes {
		if procs[pid].Args != title {
			t.Errorf("the user's process %d (%q) ended before the scans did: the test proves less than it says", pid, title)
		}
	}
}

// churner forks children with lying titles that live a few milliseconds.
const churner = `
my @t = ("sshd: root [priv]", "sshd: root\@pts/0", "sshd: sshtest\@notty", "sshd: sshtest");
for my $i (1..20) {
	if (fork == 0) { $0 = $t[$i % 4]; select(undef, undef, undef, rand(0.02)); exit 0 }
}
1 while wait != -1;
`

// TestScanVanishing scans in a loop while logins start and end, sshd
// processes are killed at random moments and short-lived processes with
// sshd titles come and go: Scan never fails nor panics, and every session
// it returns has the test's listener or another trusted one.
func TestScanVanishing(t *testing.T) {
	needTools(t, "runuser", "perl")
	s := sshdtest.Start(t, sshdtest.Options{})
	u := lookupUser(t, s.User)
	sc := newScanner(t)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	// One login stays for the whole test: the churn never touches it, and
	// the scans must see it, whatever vanishes around it. /proc is not a
	// snapshot (a TCP table read under churn can skip its sockets three
	// times in a row, see tcpReads), so a scan may miss it: never two
	// scans in a row (the agent remembers a session through forgetAfter
	// missed scans), and at most 1% of them.
	stable, err := s.StartClient(ctx, "-tt", "sleep 600")
	if err != nil {
		t.Fatalf("starting ssh: %v", err)
	}
	defer stable.Wait(5 * time.Second)
	defer stable.Signal(syscall.SIGKILL)
	stableMon := 0
	for deadline := time.Now().Add(30 * time.Second); stableMon == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("the stable login did not appear in a scan within 30s\n%s", s.Log())
		}
		sessions, _, err := sc.Scan(time.Now())
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		for _, x := range sessions {
			if x.Listener == s.PID && x.Kind == watcher.KindPTY {
				stableMon = x.PID
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	// victims are the test sshd's processes but the stable login's.
	victims := func() []sshdtest.Process {
		spared := map[int]bool{stableMon: true}
		var out []sshdtest.Process
		for _, p := range s.Processes() { // parents come before children
			if spared[p.PID] || spared[p.PPID] {
				spared[p.PID] = true
				continue
			}
			out = append(out, p)
		}
		return out
	}

	var logins, completed, kills atomic.Int64
	// Short logins, one after the other (the other churn ends many of
	// them early).
	wg.Go(func() {
		for ctx.Err() == nil {
			if r := s.Run(ctx, 10*time.Second, "true"); r.Exit == 0 {
				completed.Add(1)
			}
			logins.Add(1)
		}
	})
	// Longer logins, ended at a random moment: the client killed, a random
	// process of the test's sshd (never the listener) killed, or the
	// monitors sent SIGTERM.
	wg.Go(func() {
		rng := rand.New(rand.NewPCG(5, 7))
		for i := 0; ctx.Err() == nil; i++ {
			args := []string{"sleep 30"}
			if i%2 == 1 {
				args = []string{"-tt", "sleep 30"}
			}
			c, err := s.StartClient(ctx, args...)
			if err != nil {
				t.Errorf("starting ssh: %v", err)
				return
			}
			time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
			switch i % 3 {
			case 1:
				if procs := victims(); len(procs) > 0 {
					_ = syscall.Kill(procs[rng.IntN(len(procs))].PID, syscall.SIGKILL)
				}
			case 2:
				for _, p := range victims() {
					if p.PPID == s.PID {
						_ = syscall.Kill(p.PID, syscall.SIGTERM)
					}
				}
			}
			time.Sleep(time.Duration(rng.IntN(100)) * time.Millisecond)
			_ = c.Signal(syscall.SIGKILL)
			c.Wait(5 * time.Second)
			kills.Add(1)
		}
	})
	// Short-lived liars, as root and as the user.
	for _, argv := range [][]string{
		{toolPath("perl"), "-e", churner},
		{toolPath("runuser"), "-u", u.Name, "--", toolPath("perl"), "-e", churner},
	} {
		wg.Go(func() {
			for ctx.Err() == nil {
				// Not killed when ctx ends: its children would be orphaned.
				// It ends within 20ms anyway; 10s bounds it.
				cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				cmd := exec.CommandContext(cctx, argv[0], argv[1:]...)
				cmd.WaitDelay = time.Second
				_ = cmd.Run()
				ccancel()
			}
		})
	}

	const minScans, minLogins, minKills = 200, 20, 10
	deadline := time.Now().Add(90 * time.Second)
	scans, seen, missed, inRow := 0, 0, 0, 0
	for scans < minScans || logins.Load() < minLogins || kills.Load() < minKills {
		if time.Now().After(deadline) {
			t.Errorf("only %d scans, %d short logins and %d killed logins in 90s", scans, logins.Load(), kills.Load())
			break
		}
		scans++
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("scan %d: Scan panicked: %v\n%s", scans, r, debug.Stack())
				}
			}()
			sessions, problems, err := sc.Scan(time.Now())
			if err != nil {
				t.Errorf("scan %d: Scan: %v", scans, err)
				return
			}
			checkScan(t, sessions, problems)
			found := false
			for _, x := range sessions {
				if x.Listener == s.PID {
					if x.PID == stableMon {
						found = true
					} else {
						seen++
					}
					if x.UID != u.UID || x.User != u.Name {
						t.Errorf("scan %d: session %d of the test sshd has user %q uid %d, want %q %d", scans, x.PID, x.User, x.UID, u.Name, u.UID)
					}
					continue
				}
				if err := trustedServer(x); err != nil {
					t.Errorf("scan %d: session %d has an untrusted listener: %v\n%s", scans, x.PID, err, dump([]watcher.Session{x}))
				}
			}
			if found {
				inRow = 0
				return
			}
			missed++
			inRow++
			if missed <= 3 {
				t.Logf("scan %d: the stable login (monitor %d) is missing\n%sproblems: %q", scans, stableMon, dump(sessions), problems)
			}
			if inRow == 2 {
				t.Errorf("scan %d: the stable login was missing from two scans in a row", scans)
			}
		}()
	}
	cancel()
	wg.Wait()
	t.Logf("%d scans; %d short logins (%d completed), %d logins killed; %d sightings of churned sessions; stable login missed by %d scans",
		scans, logins.Load(), completed.Load(), kills.Load(), seen, missed)
	if missed*100 > scans {
		t.Errorf("the stable login was missing from %d of %d scans, more than 1%%", missed, scans)
	}
}

// helperEnv tells the test binary, re-run as an unprivileged user, to be
// TestHelperNoRoot's scanner and nothing else.
const (
	helperEnv    = "SSHWARDEN_WATCHER_TEST_HELPER"
	helperPrefix = "noroot-scan: "
)

type helperReport struct {
	EUID     int
	Sessions []watcher.Session
	Problems []string
	Err      string
}

// TestHelperNoRoot is not a test: TestScanNoRoot runs it as an
// unprivileged user, and it prints what Scan returned.
func TestHelperNoRoot(t *testing.T) {
	if os.Getenv(helperEnv) != "noroot" {
		return
	}
	r := helperReport{EUID: os.Geteuid()}
	sc, err := watcher.NewScanner(watcher.Options{})
	if err == nil {
		r.Sessions, r.Problems, err = sc.Scan(time.Now())
	}
	if err != nil {
		r.Err = err.Error()
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("%s%s\n", helperPrefix, b)
}

// TestScanNoRoot runs Scan as the unprivileged test user while logins of
// that user are open: no error, one problem that says what is missing,
// and whatever it lists is in root's scan, with the same values.
func TestScanNoRoot(t *testing.T) {
	needTools(t, "runuser")
	s := sshdtest.Start(t, sshdtest.Options{})
	u := lookupUser(t, s.User)
	ctx := t.Context()
	sc := newScanner(t)
	startClient(t, "exec", s.SSH(ctx, "sleep 64"))
	shellLogin(t, "pty", s.SSH(ctx, "-tt"), s.User, u.UID)
	scanUntil(t, sc, "the two logins", func(sessions []watcher.Session) bool { return len(ofListener(sessions, s.PID)) == 2 })

	// The test binary lives in a directory only root may enter.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(userDir(t, u), "watcher.test")
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	hctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(hctx, toolPath("runuser"), "-u", u.Name, "--", bin, "-test.run=^TestHelperNoRoot$", "-test.count=1")
	cmd.Dir = "/"
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GOCOVERDIR=") }), helperEnv+"=noroot")
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%q: %v\n%s", cmd.Args, err, out)
	}
	root, _ := scan(t, sc, time.Now())

	var rep helperReport
	found := false
	for l := range strings.Lines(string(out)) {
		if v, ok := strings.CutPrefix(l, helperPrefix); ok {
			if err := json.Unmarshal([]byte(v), &rep); err != nil {
				t.Fatalf("helper output %q: %v", v, err)
			}
			found = true
		}
	}
	if !found {
		t.Fatalf("%q printed no %q line:\n%s", cmd.Args, helperPrefix, out)
	}
	if rep.EUID == 0 {
		t.Fatalf("the helper ran as root")
	}
	t.Logf("as %s (uid %d): %d sessions, problems %q", u.Name, rep.EUID, len(rep.Sessions), rep.Problems)
	if rep.Err != "" {
		t.Errorf("Scan without root: error %q, want none", rep.Err)
	}
	checkScan(t, rep.Sessions, rep.Problems)
	var said []string
	for _, p := range rep.Problems {
		if strings.Contains(p, "root") || strings.Contains(p, "CAP_SYS_PTRACE") {
			said = append(said, p)
		}
	}
	if len(said) != 1 {
		t.Errorf("Scan without root: problems %q; want exactly one that says root or CAP_SYS_PTRACE is needed", rep.Problems)
	}
	// Only the test sshd's sessions are compared: other tests (the agent's,
	// in another package run at the same time) open and close sessions
	// between the two scans.
	for _, x := range rep.Sessions {
		want, ok := byPID(root, x.PID)
		if !ok {
			if x.Listener == s.PID {
				t.Errorf("without root, Scan lists session %d, which root's scan does not:\n%s", x.PID, dump([]watcher.Session{x}))
			}
			continue
		}
		if want.Listener != s.PID {
			continue
		}
		if diff := subsetDiff(x, want); diff != "" {
			t.Errorf("without root, session %d differs from root's scan: %s\nwithout root:\n%sroot:\n%s", x.PID, diff, dump([]watcher.Session{x}), dump([]watcher.Session{want}))
		}
	}
}

// subsetDiff says where x, a session from a scan without root, claims
// something other than want, root's: zero fields are "unknown", and
// Procs may miss processes.
func subsetDiff(x, want watcher.Session) string {
	var d []string
	ne := func(name string, unknown bool, a, b any) {
		if !unknown && a != b {
			d = append(d, fmt.Sprintf("%s %v, root says %v", name, a, b))
		}
	}
	ne("Child", x.Child == 0, x.Child, want.Child)
	ne("Listener", x.Listener == 0, x.Listener, want.Listener)
	ne("User", x.User == "", x.User, want.User)
	ne("UID", x.User == "", x.UID, want.UID)
	ne("Remote", !x.Remote.IsValid(), x.Remote, want.Remote)
	ne("Local", !x.Local.IsValid(), x.Local, want.Local)
	ne("TTY", x.TTY == "", x.TTY, want.TTY)
	ne("Kind", x.Kind == "", x.Kind, want.Kind)
	ne("Started", x.Started.IsZero(), x.Started.UnixNano(), want.Started.UnixNano())
	ne("SessionID", x.SessionID == 0, x.SessionID, want.SessionID)
	ne("Command", x.Command == "", x.Command, want.Command)
	for _, pid := range x.Procs {
		if !slices.Contains(want.Procs, pid) {
			d = append(d, fmt.Sprintf("Procs has %d, root's has not", pid))
		}
	}
	return strings.Join(d, "; ")
}
