package watcher

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
)

// A fixture is a /proc tree and a /dev built in t.TempDir(), in the
// kernel's formats as measured on Debian 12 (Linux 6.1, OpenSSH 9.2p1):
//
//	DIR/proc/stat                   btime
//	DIR/proc/PID/stat               "PID (COMM) S PPID ... STARTTIME ..."
//	DIR/proc/PID/status             Name, PPid, Uid, Gid, ...
//	DIR/proc/PID/cmdline            the title, NUL-terminated
//	DIR/proc/PID/exe                -> DIR/bin/sshd (a root-owned 0755 file)
//	DIR/proc/PID/fd/N               -> "socket:[INODE]", "/dev/ptmx", ...
//	DIR/proc/PID/fdinfo/N           "pos: ...", "tty-index:\tN" for a ptmx
//	DIR/proc/PID/ns/net             -> "net:[NS]"
//	DIR/proc/PID/net                -> DIR/netns/NS (tcp, tcp6)
//	DIR/proc/PID/sessionid, loginuid
//	DIR/dev/pts/N                   character device 136:N (mknod: root only)
//
// The exe links point at binaries in DIR/bin by their absolute paths, so
// the default Options.TrustedExe checks them as it checks /usr/sbin/sshd.
type fixture struct {
	t      testing.TB
	dir    string
	proc   string
	dev    string
	bin    string
	inode  uint64
	tables map[int64]*[2][]string // per network namespace: tcp, tcp6 lines
	sc     *Scanner               // of scan, made by the first one, as an agent keeps one
}

const (
	fixBoot   = 1700000000 // btime
	fixNS     = 4026531840 // the initial network namespace
	ptsMajor  = 136
	privsepID = 102 // the sshd user
)

var fixNow = time.Unix(fixBoot+7200, 0)

// fixUsers is the user database of the fixtures.
func fixUsers(uid int) (string, bool) {
	name, ok := map[int]string{0: "root", privsepID: "sshd", 1000: "alice", 1001: "bob"}[uid]
	return name, ok
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{
		t: t, dir: dir,
		proc:   filepath.Join(dir, "proc"),
		dev:    filepath.Join(dir, "dev"),
		bin:    filepath.Join(dir, "bin"),
		inode:  900000,
		tables: map[int64]*[2][]string{},
	}
	for _, d := range []string{f.proc, filepath.Join(f.dev, "pts"), f.bin} {
		f.must(os.MkdirAll(d, 0o755))
	}
	f.write(filepath.Join(f.proc, "stat"), fmt.Sprintf(
		"cpu  1 2 3 4 5 6 7 0 0 0\ncpu0 1 2 3 4 5 6 7 0 0 0\nintr 7613703 0 0 0\nctxt 1\nbtime %d\nprocesses 5\nprocs_running 1\nprocs_blocked 0\nsoftirq 1 0 0 0 0 0 0 0 0 0 0\n", fixBoot))
	for _, name := range []string{"sshd", "sshd-session", "sshd-auth", "bash", "sleep"} {
		f.binary(name, 0o755, 0)
	}
	return f
}

func (f *fixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) write(path, content string) {
	f.t.Helper()
	f.must(os.MkdirAll(filepath.Dir(path), 0o755))
	f.must(os.WriteFile(path, []byte(content), 0o644))
}

// binary creates DIR/bin/NAME (NAME may hold a directory) with mode and
// owner uid, and returns its absolute path. Another owner than the test's
// own needs root.
func (f *fixture) binary(name string, mode os.FileMode, uid int) string {
	f.t.Helper()
	path := filepath.Join(f.bin, name)
	f.write(path, "#!/bin/false\n")
	f.must(os.Chmod(path, mode))
	if uid != os.Getuid() {
		if os.Getuid() != 0 {
			needRoot(f.t, "chown")
		}
		f.must(os.Chown(path, uid, 0))
	}
	return path
}

// needRoot skips the test without root, or fails it under CI.
func needRoot(t testing.TB, what string) {
	t.Helper()
	sshdtest.Missing(t, what+" needs root")
}

// fakeProc is one process of a fixture.
type fakeProc struct {
	PID, PPID int
	UID       int      // real, effective, saved and file system uid
	Exe       string   // binary under DIR/bin, or an absolute path; "" for no exe link
	Comm      string   // default: the base name of Exe
	Args      []string // cmdline
	Start     uint64   // clock ticks after boot
	State     byte     // default 'S'
	TTYNr     int      // controlling tty: 136<<8|N for pts/N
	FDs       []fakeFD
	SessionID uint32 // 0 writes 4294967295 (none)
	LoginUID  int    // -1 writes 4294967295 (unset)
	NS        int64  // network namespace, default fixNS
}

// fakeFD is a file descriptor: Target is the link ("socket:[INODE]",
// "/dev/ptmx", "pipe:[7]", "/dev/null"); a /dev/ptmx gets a fdinfo with
// tty-index TTY.
type fakeFD struct {
	N      int
	Target string
	TTY    int
}

// add writes a process into the tree.
func (f *fixture) add(p fakeProc) {
	f.t.Helper()
	d := filepath.Join(f.proc, strconv.Itoa(p.PID))
	f.must(os.MkdirAll(filepath.Join(d, "fd"), 0o755))
	f.must(os.MkdirAll(filepath.Join(d, "fdinfo"), 0o755))
	f.must(os.MkdirAll(filepath.Join(d, "ns"), 0o755))
	if p.State == 0 {
		p.State = 'S'
	}
	if p.NS == 0 {
		p.NS = fixNS
	}
	comm := p.Comm
	if comm == "" {
		comm = filepath.Base(p.Exe)
	}
	f.write(filepath.Join(d, "stat"), fmt.Sprintf(
		"%d (%s) %c %d %d %d %d -1 4194560 782 663 2 1 1 2 2 2 20 0 1 0 %d 18214912 2647 18446744073709551615 94091235606528 94091236451213 140723361221376 0 0 0 0 16781312 16387 1 0 0 17 0 0 0 0 0 0 94091236804464 94091236820624 94091886837760 140723361225166 140723361225222 140723361225222 140723361226699 0\n",
		p.PID, comm, p.State, p.PPID, p.PID, p.PID, p.TTYNr, p.Start))
	f.write(filepath.Join(d, "status"), fmt.Sprintf(
		"Name:\t%s\nUmask:\t0022\nState:\t%c (sleeping)\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\nUid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\nFDSize:\t64\nGroups:\t\nNStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\nVmPeak:\t   17788 kB\nThreads:\t1\nSigQ:\t0/31503\nCapEff:\t0000000000000000\nvoluntary_ctxt_switches:\t14\n",
		comm, p.State, p.PID, p.PID, p.PPID, p.UID, p.UID, p.UID, p.UID, p.UID, p.UID, p.UID, p.UID, p.PID, p.PID, p.PID, p.PID))
	f.write(filepath.Join(d, "cmdline"), strings.Join(p.Args, "\x00")+"\x00")
	f.write(filepath.Join(d, "comm"), comm+"\n")
	sid := "4294967295"
	if p.SessionID != 0 {
		sid = strconv.FormatUint(uint64(p.SessionID), 10)
	}
	f.write(filepath.Join(d, "sessionid"), sid)
	lu := "4294967295"
	if p.LoginUID >= 0 {
		lu = strconv.Itoa(p.LoginUID)
	}
	f.write(filepath.Join(d, "loginuid"), lu)
	if p.Exe != "" {
		exe := p.Exe
		if !filepath.IsAbs(exe) {
			exe = filepath.Join(f.bin, exe)
		}
		f.must(os.Symlink(exe, filepath.Join(d, "exe")))
	}
	f.must(os.Symlink(fmt.Sprintf("net:[%d]", p.NS), filepath.Join(d, "ns", "net")))
	f.must(os.Symlink(filepath.Join(f.dir, "netns", strconv.FormatInt(p.NS, 10)), filepath.Join(d, "net")))
	if f.tables[p.NS] == nil {
		f.tables[p.NS] = &[2][]string{}
	}
	for _, fd := range p.FDs {
		f.must(os.Symlink(fd.Target, filepath.Join(d, "fd", strconv.Itoa(fd.N))))
		info := fmt.Sprintf("pos:\t0\nflags:\t02\nmnt_id:\t23\nino:\t%d\n", 1000+fd.N)
		if fd.Target == "/dev/ptmx" {
			info = fmt.Sprintf("pos:\t0\nflags:\t0104002\nmnt_id:\t23\nino:\t90\ntty-index:\t%d\n", fd.TTY)
		}
		f.write(filepath.Join(d, "fdinfo", strconv.Itoa(fd.N)), info)
	}
}

// tcp adds a socket to the TCP table of network namespace ns: to tcp6
// when local is an IPv6 address (v4-mapped included), to tcp otherwise.
// It returns the socket's inode.
func (f *fixture) tcp(ns int64, local, remote netip.AddrPort, listen bool) uint64 {
	f.inode++
	if ns == 0 {
		ns = fixNS
	}
	if f.tables[ns] == nil {
		f.tables[ns] = &[2][]string{}
	}
	tab := f.tables[ns]
	st := 0x01
	if listen {
		st = 0x0A
	}
	if local.Addr().Is4() {
		n := len(tab[0])
		// tcp4_seq_show pads every line to 149 characters.
		line := fmt.Sprintf("%4d: %s %s %02X %08X:%08X %02X:%08X %08X %5d %8d %d %d %016x %d %d %d %d %d",
			n, hexAddrPort(local), hexAddrPort(remote), st, 0, 0, 0, 0, 0, 0, 0, f.inode, 1, 0xffff8f0a00000000+f.inode, 20, 4, 19, 10, -1)
		tab[0] = append(tab[0], fmt.Sprintf("%-149s", line))
	} else {
		n := len(tab[1])
		tab[1] = append(tab[1], fmt.Sprintf("%4d: %s %s %02X %08X:%08X %02X:%08X %08X %5d %8d %d %d %016x %d %d %d %d %d",
			n, hexAddrPort(local), hexAddrPort(remote), st, 0, 0, 0, 0, 0, 0, 0, f.inode, 1, 0xffff8f0a00000000+f.inode, 20, 4, 19, 10, -1))
	}
	return f.inode
}

// hexAddrPort formats an address as /proc/net/tcp does: 32-bit words in
// host byte order, then the port.
func hexAddrPort(ap netip.AddrPort) string {
	var b strings.Builder
	if a := ap.Addr(); a.Is4() {
		a4 := a.As4()
		fmt.Fprintf(&b, "%08X", binary.NativeEndian.Uint32(a4[:]))
	} else {
		a16 := a.As16()
		for i := range 4 {
			fmt.Fprintf(&b, "%08X", binary.NativeEndian.Uint32(a16[4*i:]))
		}
	}
	fmt.Fprintf(&b, ":%04X", ap.Port())
	return b.String()
}

// pts creates the pts device DIR/dev/pts/N with atime at.
func (f *fixture) pts(n int, at time.Time) {
	f.t.Helper()
	path := filepath.Join(f.dev, "pts", strconv.Itoa(n))
	err := syscall.Mknod(path, syscall.S_IFCHR|0o620, int(ptsMajor<<8|n&0xff|(n&^0xff)<<12))
	if errors.Is(err, syscall.EPERM) {
		needRoot(f.t, "mknod of a pts device")
	}
	f.must(err)
	f.must(os.Chtimes(path, at, at.Add(time.Second)))
}

// flush writes the TCP tables.
func (f *fixture) flush() {
	f.t.Helper()
	header := []string{
		fmt.Sprintf("%-149s", "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"),
		"  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
	}
	for ns, tab := range f.tables {
		dir := filepath.Join(f.dir, "netns", strconv.FormatInt(ns, 10))
		for i, name := range []string{"tcp", "tcp6"} {
			lines := append([]string{header[i]}, tab[i]...)
			f.write(filepath.Join(dir, name), strings.Join(lines, "\n")+"\n")
		}
	}
}

// options are the Options of a Scanner on the fixture.
func (f *fixture) options() Options {
	return Options{Proc: f.proc, Dev: f.dev, Users: fixUsers}
}

// scan flushes the tables and scans the fixture.
func (f *fixture) scan() ([]Session, []string) {
	f.t.Helper()
	f.flush()
	if f.sc == nil {
		s, err := NewScanner(f.options())
		if err != nil {
			f.t.Fatal(err)
		}
		f.sc = s
	}
	ss, problems, err := f.sc.Scan(fixNow)
	if err != nil {
		f.t.Fatalf("Scan: %v", err)
	}
	return ss, problems
}

// listener adds a listener (uid 0, /usr/sbin/sshd) listening on each of
// addrs, and returns its pid.
func (f *fixture) listener(pid int, addrs ...string) int {
	f.t.Helper()
	p := fakeProc{PID: pid, PPID: 1, Exe: "sshd", LoginUID: -1, Start: 500,
		Args: []string{"sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"},
		FDs:  []fakeFD{{0, "/dev/null", 0}, {1, "/dev/null", 0}, {2, "/dev/null", 0}}}
	for i, a := range addrs {
		ap := netip.MustParseAddrPort(a)
		any := netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
		if ap.Addr().Is6() {
			any = netip.AddrPortFrom(netip.IPv6Unspecified(), 0)
		}
		inode := f.tcp(fixNS, ap, any, true)
		p.FDs = append(p.FDs, fakeFD{N: 3 + i, Target: fmt.Sprintf("socket:[%d]", inode)})
	}
	f.add(p)
	return pid
}

// login describes one logged-in connection, for [fixture.login].
type login struct {
	Listener   int
	Mon, Child int // Child 0: a root login served by Mon alone (up to 9.7)
	UID        int
	Version    string        // "9.2" (default): sshd; "9.8", "10.0": sshd-session; "10.5": and the monitor titled "USER [postauth]"
	Orphan     int           // the monitor's parent once its listener exited (1, or a subreaper); 0: Listener
	Remote     string        // the peer, "203.0.113.7:50022"
	Local      string        // our end, "192.0.2.1:22"
	PTYs       []int         // one shell per pty channel
	Idle       time.Duration // input idle of the ptys (the first pty; others are idler)
	Exec       []string      // an exec channel: its command
	SFTP       bool          // an internal-sftp channel
	Start      uint64        // the monitor's start, clock ticks after boot
	SessionID  uint32
}

// login adds the processes of a logged-in connection as sshd makes them
// (see OPENSSH.md, "Sessions in /proc") and returns the Session a scan
// should report for it.
func (f *fixture) login(l login) Session {
	f.t.Helper()
	exe, prefix := "sshd", "sshd: "
	if l.Version != "" && l.Version != "9.2" {
		exe, prefix = "sshd-session", "sshd-session: "
		if l.Child == 0 {
			f.t.Fatalf("login %d: from OpenSSH 9.8 a login is a monitor and a child, a root login too", l.Mon)
		}
	}
	monTitle := " [priv]"
	if l.Version == "10.5" {
		monTitle = " [postauth]"
	}
	parent, wantListener := l.Listener, l.Listener
	if l.Orphan != 0 {
		parent, wantListener = l.Orphan, 0
	}
	user, ok := fixUsers(l.UID)
	if !ok {
		user = strconv.Itoa(l.UID) // Scan names an unknown uid by its number
	}
	if l.Start == 0 {
		l.Start = monStart(l.Mon)
	}
	if l.SessionID == 0 {
		l.SessionID = uint32(l.Mon)
	}
	remote, local := netip.MustParseAddrPort(l.Remote), netip.MustParseAddrPort(l.Local)
	inode := f.tcp(fixNS, local, remote, false)
	mon := fakeProc{PID: l.Mon, PPID: parent, Exe: exe, Start: l.Start, SessionID: l.SessionID, LoginUID: l.UID,
		Args: []string{prefix + user + monTitle},
		FDs: []fakeFD{{0, "/dev/null", 0}, {1, "/dev/null", 0}, {2, "/dev/null", 0},
			{4, fmt.Sprintf("socket:[%d]", inode), 0}, {5, "socket:[77001]", 0}, {6, "socket:[77002]", 0}}}
	want := Session{PID: l.Mon, Listener: wantListener, User: user, UID: l.UID,
		Remote: netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port()), Local: netip.AddrPortFrom(local.Addr().Unmap(), local.Port()),
		Started: time.Unix(fixBoot, 0).Add(time.Duration(l.Start) * 10 * time.Millisecond), SessionID: l.SessionID}
	top := l.Mon
	title := ""
	switch {
	case len(l.PTYs) > 0:
		title = fmt.Sprintf("@pts/%d", l.PTYs[0])
	case len(l.Exec) > 0 || l.SFTP:
		title = "@notty"
	}
	if l.Child != 0 {
		top = l.Child
		want.Child = l.Child
		f.add(fakeProc{PID: l.Child, PPID: l.Mon, UID: l.UID, Exe: exe, Start: l.Start + 20, SessionID: l.SessionID, LoginUID: l.UID,
			Args: []string{prefix + user + title},
			FDs:  []fakeFD{{0, "/dev/null", 0}, {3, "socket:[77003]", 0}, {4, fmt.Sprintf("socket:[%d]", inode), 0}}})
	} else {
		mon.Args = []string{prefix + user + title}
	}
	next := top + 1
	for i, n := range l.PTYs {
		mon.FDs = append(mon.FDs, fakeFD{N: 7 + i, Target: "/dev/ptmx", TTY: n})
		idle := l.Idle + time.Duration(i)*time.Minute
		f.pts(n, fixNow.Add(-idle))
		tty := fmt.Sprintf("pts/%d", n)
		if want.TTY == "" {
			want.TTY = tty
			want.Idle = &idle
		}
		want.TTYs = append(want.TTYs, tty)
		f.add(fakeProc{PID: next, PPID: top, UID: l.UID, Exe: "bash", Args: []string{"-bash"}, Start: l.Start + 30,
			TTYNr: ptsMajor<<8 | n, SessionID: l.SessionID, LoginUID: l.UID,
			FDs: []fakeFD{{0, "/dev/pts/" + strconv.Itoa(n), 0}}})
		want.Procs = append(want.Procs, next)
		next++
	}
	if len(l.Exec) > 0 {
		f.add(fakeProc{PID: next, PPID: top, UID: l.UID, Exe: "sleep", Args: l.Exec, Start: l.Start + 40,
			SessionID: l.SessionID, LoginUID: l.UID, FDs: []fakeFD{{0, "pipe:[7]", 0}}})
		want.Procs = append(want.Procs, next)
		if len(l.PTYs) == 0 {
			want.Command = strings.Join(l.Exec, " ")
		}
		next++
	}
	if l.SFTP {
		f.add(fakeProc{PID: next, PPID: top, UID: l.UID, Exe: exe, Args: []string{prefix + user + "@internal-sftp"}, Start: l.Start + 50,
			SessionID: l.SessionID, LoginUID: l.UID, FDs: []fakeFD{{0, "pipe:[8]", 0}}})
		want.Procs = append(want.Procs, next)
	}
	switch {
	case len(l.PTYs) > 0:
		want.Kind = KindPTY
	case len(l.Exec) > 0 || l.SFTP:
		want.Kind = KindNoTTY
	default:
		want.Kind = KindNone
	}
	f.add(mon)
	return want
}

// preauth adds a connection before authentication: "sshd: [accepted]"
// (stage "accepted", no child yet), "sshd: USER [priv]" with its network
// child "sshd: USER [net]" running as the sshd user (stage "net"), or,
// from OpenSSH 10.0, an sshd-session monitor with its sshd-auth child
// (stage "auth").
func (f *fixture) preauth(listener, mon int, user, stage string) {
	f.t.Helper()
	inode := f.tcp(fixNS, netip.MustParseAddrPort("192.0.2.1:22"), netip.MustParseAddrPort(fmt.Sprintf("198.51.100.9:%d", 40000+mon)), false)
	sock := []fakeFD{{4, fmt.Sprintf("socket:[%d]", inode), 0}}
	switch stage {
	case "accepted":
		f.add(fakeProc{PID: mon, PPID: listener, Exe: "sshd", Args: []string{"sshd: [accepted]"}, LoginUID: -1, FDs: sock})
	case "net":
		f.add(fakeProc{PID: mon, PPID: listener, Exe: "sshd", Args: []string{"sshd: " + user + " [priv]"}, LoginUID: -1, FDs: sock})
		f.add(fakeProc{PID: mon + 1, PPID: mon, UID: privsepID, Exe: "sshd", Args: []string{"sshd: " + user + " [net]"}, LoginUID: -1, FDs: sock})
	case "auth":
		f.add(fakeProc{PID: mon, PPID: listener, Exe: "sshd-session", Args: []string{"sshd-session: " + user + " [priv]"}, LoginUID: -1, FDs: sock})
		f.add(fakeProc{PID: mon + 1, PPID: mon, UID: privsepID, Exe: "sshd-auth", Args: []string{"sshd-auth: " + user + " [net]"}, LoginUID: -1, FDs: sock})
	default:
		f.t.Fatalf("preauth stage %q", stage)
	}
}

// setUID rewrites the uids in the status of a process.
func (f *fixture) setUID(pid, uid int) {
	f.t.Helper()
	path := filepath.Join(f.proc, strconv.Itoa(pid), "status")
	b, err := os.ReadFile(path)
	f.must(err)
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "Uid:") {
			lines[i] = fmt.Sprintf("Uid:\t%d\t%d\t%d\t%d", uid, uid, uid, uid)
		}
	}
	f.write(path, strings.Join(lines, "\n"))
}

// reparent rewrites the parent of a process in its stat and status, as
// the kernel does when the parent exits.
func (f *fixture) reparent(pid, ppid int) {
	f.t.Helper()
	d := filepath.Join(f.proc, strconv.Itoa(pid))
	b, err := os.ReadFile(filepath.Join(d, "stat"))
	f.must(err)
	st := string(b)
	i := strings.LastIndexByte(st, ')')
	fields := strings.Fields(st[i+2:])
	fields[1] = strconv.Itoa(ppid) // state, then ppid
	f.write(filepath.Join(d, "stat"), st[:i+2]+strings.Join(fields, " ")+"\n")
	b, err = os.ReadFile(filepath.Join(d, "status"))
	f.must(err)
	lines := strings.Split(string(b), "\n")
	for k, l := range lines {
		if strings.HasPrefix(l, "PPid:") {
			lines[k] = "PPid:\t" + strconv.Itoa(ppid)
		}
	}
	f.write(filepath.Join(d, "status"), strings.Join(lines, "\n"))
}

// remove deletes files of a process, as if it exited between the listing
// of /proc and their reading.
func (f *fixture) remove(pid int, names ...string) {
	f.t.Helper()
	d := filepath.Join(f.proc, strconv.Itoa(pid))
	if len(names) == 0 {
		entries, err := os.ReadDir(d)
		f.must(err)
		for _, e := range entries {
			f.must(os.RemoveAll(filepath.Join(d, e.Name())))
		}
		return
	}
	for _, n := range names {
		f.must(os.RemoveAll(filepath.Join(d, n)))
	}
}

// files lists the fixture's files under proc, for the garbage tests.
func (f *fixture) files() []string {
	var out []string
	f.must(filepath.WalkDir(f.dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasPrefix(path, f.bin) && !strings.HasPrefix(path, f.dev) {
			out = append(out, path)
		}
		return err
	}))
	slices.Sort(out)
	return out
}
