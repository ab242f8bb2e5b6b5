package watcher

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sshwarden/sshwarden/internal/decimal"
)

// worker examines processes with a reader of its own. It reads the scan
// and writes only to itself (and to the conn it examines), so that
// several run at once.
type worker struct {
	sc       *scan
	r        *reader
	exes     map[string]bool // TrustedExe's answers
	refs     []sockRef
	ptys     []int32 // scratch: tty indices of the monitor at hand
	problems []string
}

func (sc *scan) worker(r *reader) *worker { return &worker{sc: sc, r: r} }

func (w *worker) say(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if !slices.Contains(w.problems, msg) {
		w.problems = append(w.problems, msg)
	}
}

type trust int

const (
	untrusted trust = iota
	trusted
	unverified // the exe link may not be read (no root)
)

// exe checks the binary procs[i] runs. base is the base name of the
// binary ("" when unknown).
func (w *worker) exe(i int32) (t trust, base string) {
	b, err := w.r.readLink(w.r.at(int(w.sc.procs[i].pid), "exe"))
	if err != nil {
		if isDenied(err) {
			w.say(deniedMsg, w.sc.proc, w.sc.proc)
			return unverified, ""
		}
		return untrusted, ""
	}
	b, deleted := bytes.CutSuffix(b, []byte(" (deleted)"))
	switch {
	case bytes.HasSuffix(b, []byte("/sshd")):
		base = "sshd"
	case bytes.HasSuffix(b, []byte("/sshd-session")):
		base = "sshd-session"
	case bytes.HasSuffix(b, []byte("/sshd-auth")):
		base = "sshd-auth"
	}
	if deleted && w.sc.defaultTrust {
		// The binary was replaced or removed since the process started
		// (a package upgrade): its path names another file now, or none.
		// What counts is the file the process runs, which the exe link
		// still reaches.
		if base == "sshd" || base == "sshd-session" {
			if trustedFile(w.r.dir, w.r.at(int(w.sc.procs[i].pid), "exe")) {
				return trusted, base
			}
		}
		return untrusted, base
	}
	ok, seen := w.exes[string(b)]
	if !seen {
		if w.exes == nil {
			w.exes = map[string]bool{}
		}
		path := string(b)
		ok = w.sc.trusted(path)
		w.exes[path] = ok
	}
	if !ok {
		return untrusted, base
	}
	return trusted, base
}

// netns returns the network namespace of procs[i], or a key of its own
// (minus its pid) when the namespace link may not be read.
func (w *worker) netns(i int32) int64 {
	b, err := w.r.readLink(w.r.at(int(w.sc.procs[i].pid), "ns/net"))
	if err == nil {
		if n, ok := parseNetNS(b); ok {
			return n
		}
	}
	return -int64(w.sc.procs[i].pid)
}

// fds reads the file descriptors of procs[i]: socket inodes go to w.refs
// for owner, the tty indices of pty masters to *ptys. It reports whether
// the fd directory could be read.
func (w *worker) fds(i int32, owner int, ofListener bool, ptys *[]int32) bool {
	r := w.r
	pid := int(w.sc.procs[i].pid)
	*ptys = (*ptys)[:0]
	err := r.readDir(r.at(pid, "fd"), true, func(name []byte) {
		fd, ok := decimal.Parse(name)
		if !ok || fd >= 1<<31 || fd <= 2 {
			return // 0, 1, 2: /dev/null and the log in sshd's processes
		}
		target, err := r.readLink(r.atFD(pid, "fd", name))
		if err != nil {
			return
		}
		if inode, ok := parseSocket(target); ok {
			w.refs = append(w.refs, sockRef{inode: inode, owner: int32(owner), fd: int32(fd), ofL: ofListener})
			return
		}
		if ofListener || !isPTMX(target) {
			return
		}
		info, err := r.readFile(r.atFD(pid, "fdinfo", name))
		if err != nil {
			return
		}
		if n, ok := parseTTYIndex(info); ok && !slices.Contains(*ptys, int32(n)) {
			*ptys = append(*ptys, int32(n))
		}
	})
	slices.Sort(*ptys)
	if err != nil && isDenied(err) {
		w.say(deniedMsg, w.sc.proc, w.sc.proc)
	}
	return err == nil
}

// examine checks the candidate monitor c.mon and, for a login, fills in
// s (whose PID stays 0 otherwise). Its sockets go to w.refs as owner k.
func (w *worker) examine(c *conn, s *Session, k int) {
	sc := w.sc
	if t, _ := w.exe(c.mon); t == untrusted {
		return
	}
	child, ok := w.classify(c.mon)
	if !ok {
		return
	}
	c.fdKnown = w.fds(c.mon, k, false, &w.ptys)
	mon := &sc.procs[c.mon]
	s.PID = int(mon.pid)
	if c.listener >= 0 {
		s.Listener = int(sc.procs[sc.listeners[c.listener].i].pid)
	}
	s.Started = time.Unix(sc.btime, 0).Add(time.Duration(mon.start) * (time.Second / userHZ))
	top := c.mon // the process the session's own processes are under
	if child >= 0 {
		top = child
		s.Child = int(sc.procs[child].pid)
		s.UID = int(sc.procs[child].uid)
	}
	s.User = sc.names[uint32(s.UID)] // looked up by monitors()
	s.SessionID = w.sessionID(top)
	s.Procs = sc.descendants(top)

	ptys := w.ptys
	if !c.fdKnown {
		ptys = sc.controllingTTYs(top)
	}
	switch {
	case len(ptys) > 0:
		s.Kind = KindPTY
		w.ttys(s, ptys)
	case len(s.Procs) > 0:
		s.Kind = KindNoTTY
		s.Command = w.command(top)
	default:
		title, _ := w.title(top)
		if strings.HasSuffix(title, "@notty") || strings.HasSuffix(title, "@internal-sftp") {
			s.Kind = KindNoTTY
		} else {
			s.Kind = KindNone
		}
	}
}

// classify tells a logged-in connection's monitor from a connection
// before authentication, from its children, and returns the user child
// (-1 for a root login served by the monitor alone):
//
//   - a child named sshd or sshd-session running as a non-root user that
//     is not sshd's privilege separation user is the user child of a
//     login; only the monitor makes its children, so it needs no exe
//     check of its own;
//   - a child named sshd-auth (10.0), or running as the privilege
//     separation user ("sshd: USER [net]"), means the connection has not
//     authenticated yet;
//   - from 9.8 a root login is two processes: an sshd-session monitor and
//     a uid-0 sshd-session child titled like a login ("root@pts/0",
//     "root@notty", "root"); both run as root, so only root wrote those
//     titles;
//   - up to 9.7 a monitor without a user child is a root login (one
//     process) when its title, which only root can write, is a login's
//     and not "[accepted]", "USER [priv]" or, from 10.5, "USER
//     [postauth]" (those of a monitor, before and after authentication).
func (w *worker) classify(m int32) (child int32, ok bool) {
	sc := w.sc
	child = -1
	rootChild := int32(-1)
	for _, c := range sc.children(m) {
		p := &sc.procs[c]
		if !p.alive() {
			continue
		}
		if p.comm == commAuth {
			return -1, false
		}
		if p.comm == commOther || p.uid == badUID {
			continue // a root login's shell or command, or its sftp server
		}
		if p.root {
			if p.comm == commSession && sc.procs[m].comm == commSession && rootChild < 0 {
				if title, ok := w.title(c); ok && loginTitle(title) {
					rootChild = c
				}
			}
			continue
		}
		if name := sc.names[p.uid]; name == "sshd" || name == "_sshd" {
			return -1, false // the privilege separation user
		}
		if child < 0 {
			child = c
		}
	}
	switch {
	case child >= 0:
		return child, true
	case rootChild >= 0:
		return rootChild, true
	}
	title, ok := w.title(m)
	return -1, ok && loginTitle(title)
}

// loginTitle reports whether title (without the "sshd: " prefix) is the
// title sshd gives the process that serves a login: "USER@pts/N",
// "USER@notty", "USER@internal-sftp" or "USER" (ssh -N), never one with
// brackets ("[accepted]", "USER [priv]", "USER [net]", "USER [postauth]",
// the listener's "[listener]").
func loginTitle(title string) bool {
	return title != "" && !strings.ContainsAny(title, "[]")
}

// title returns the process title of procs[i] without its "sshd: " or
// "sshd-session: " prefix.
func (w *worker) title(i int32) (string, bool) {
	b, err := w.r.readFile(w.r.at(int(w.sc.procs[i].pid), "cmdline"))
	if err != nil {
		return "", false
	}
	b = bytes.TrimRight(b, "\x00 ")
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	for _, prefix := range []string{"sshd: ", "sshd-session: "} {
		if t, ok := bytes.CutPrefix(b, []byte(prefix)); ok {
			return string(t), true
		}
	}
	return "", true
}

// userHZ is the unit of the times in /proc/PID/stat (USER_HZ, 100 on
// every Linux architecture).
const userHZ = 100

// isPTMX reports whether an fd link is a pty master: /dev/ptmx or
// /dev/pts/ptmx, under the root of a chroot as the host sees it
// ("/srv/jail/dev/ptmx"). Only the monitor's fds are read, a root
// process of a trusted binary, so no user chose the name.
func isPTMX(target []byte) bool {
	return bytes.HasSuffix(target, []byte("/dev/ptmx")) || bytes.HasSuffix(target, []byte("/dev/pts/ptmx"))
}

// ttys checks each pty's device and sets TTY, TTYs and Idle. A pts is
// looked up in the monitor's own root, Proc/PID/root/dev/pts/N: the
// index names a pty of the devpts instance the monitor allocated it
// from, which for the sshd of a container (its own devpts, its own
// mounts, which the host's paths do not reach) is not the host's
// /dev/pts/N. Where that link cannot be read (a fixture, no root), Dev
// is used.
func (w *worker) ttys(s *Session, ptys []int32) {
	var idle time.Duration
	_, err := w.r.readLink(w.r.at(s.PID, "root"))
	inRoot := err == nil
	for _, n := range ptys {
		var st unix.Stat_t
		var path string
		if inRoot {
			p := w.r.at(s.PID, "root/dev/pts/"+strconv.Itoa(int(n)))
			rel := string(p[:len(p)-1])
			path = w.sc.proc + "/" + rel
			err = unix.Fstatat(w.r.dir, rel, &st, unix.AT_SYMLINK_NOFOLLOW)
		} else {
			path = w.sc.dev + "/pts/" + strconv.Itoa(int(n))
			err = unix.Lstat(path, &st)
		}
		if err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || !isPTS(st.Rdev, n) {
			w.say("%s, the terminal of session %d, is not a pts device", path, s.PID)
			continue
		}
		tty := "pts/" + strconv.Itoa(int(n))
		if s.TTY == "" {
			s.TTY = tty
			s.TTYs = make([]string, 0, len(ptys))
		}
		s.TTYs = append(s.TTYs, tty)
		d := max(w.sc.now.Sub(time.Unix(int64(st.Atim.Sec), int64(st.Atim.Nsec))), 0)
		if s.Idle == nil || d < idle {
			idle = d
			s.Idle = &idle
		}
	}
}

// isPTS reports whether a device number is pts n: a character device of
// the Unix98 pty slave majors (136-143), minor n.
func isPTS(rdev uint64, n int32) bool {
	major := (rdev>>8)&0xfff | (rdev>>32)&^0xfff
	minor := rdev&0xff | (rdev>>12)&^0xff
	return major >= 136 && major <= 143 && minor == uint64(n)
}

// controllingTTYs returns the pts indices that the session's own
// processes directly under procs[top] have as controlling tty: what can
// be seen of a pty when the monitor's fds may not be read (no root).
func (sc *scan) controllingTTYs(top int32) []int32 {
	var out []int32
	for _, c := range sc.children(top) {
		rdev := uint64(sc.procs[c].ttyNr)
		major := (rdev >> 8) & 0xfff
		minor := rdev&0xff | (rdev>>12)&^0xff
		if sc.procs[c].alive() && major >= 136 && major <= 143 && !slices.Contains(out, int32(minor)) {
			out = append(out, int32(minor))
		}
	}
	slices.Sort(out)
	return out
}

// sessionID reads the audit session id of procs[i], 0 for none.
func (w *worker) sessionID(i int32) uint32 {
	b, err := w.r.readFile(w.r.at(int(w.sc.procs[i].pid), "sessionid"))
	if err != nil {
		return 0
	}
	n, ok := decimal.Parse(bytes.TrimSpace(b))
	if !ok || n >= 1<<32-1 {
		return 0
	}
	return uint32(n)
}

// descendants returns the pids of every live process under procs[top],
// sorted.
func (sc *scan) descendants(top int32) []int {
	var queue [64]int32
	q := append(queue[:0], sc.children(top)...)
	var out []int
	for len(q) > 0 {
		c := q[len(q)-1]
		q = q[:len(q)-1]
		if !sc.procs[c].alive() {
			continue
		}
		out = append(out, int(sc.procs[c].pid))
		q = append(q, sc.children(c)...)
	}
	slices.Sort(out)
	return out
}

// maxCommand bounds Command (a command line may be megabytes long).
const maxCommand = 4096

// command returns the command line of the session's first command: the
// oldest process directly under procs[top], "" when that is sshd's own
// sftp server.
func (w *worker) command(top int32) string {
	sc := w.sc
	first := int32(-1)
	for _, c := range sc.children(top) {
		p := &sc.procs[c]
		if !p.alive() {
			continue
		}
		if first < 0 || p.start < sc.procs[first].start || p.start == sc.procs[first].start && p.pid < sc.procs[first].pid {
			first = c
		}
	}
	if first < 0 || sc.procs[first].comm != commOther {
		return "" // internal-sftp: sshd's own process
	}
	b, err := w.r.readFile(w.r.at(int(sc.procs[first].pid), "cmdline"))
	if err != nil {
		return ""
	}
	b = bytes.TrimRight(b, "\x00")
	if len(b) > maxCommand {
		b = b[:maxCommand]
	}
	return strings.ReplaceAll(string(b), "\x00", " ")
}
