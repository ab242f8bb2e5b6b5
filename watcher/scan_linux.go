package watcher

import (
	"cmp"
	"fmt"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/sshwarden/sshwarden/internal/decimal"
)

// Options configure a [Scanner]. The zero value scans the host.
type Options struct {
	// Proc is the proc file system to read, "/proc" by default. A test or
	// `sshwarden sessions --proc DIR` points it at a tree of its own.
	Proc string
	// FS, when set, is the proc file system to read instead of Proc: one
	// shared with others that read the same processes (see [FS]).
	FS *FS
	// Dev is where the pts devices are (Dev/pts/N), "/dev" by default.
	Dev string
	// Users maps a uid to a user name; by default the user database
	// (os/user: /etc/passwd when built without cgo).
	Users func(uid int) (string, bool)
	// TrustedExe reports whether path, the target of a process's
	// /proc/PID/exe link (without the " (deleted)" the kernel appends once
	// the binary was replaced, as after a package upgrade), is a trusted
	// sshd binary. By default: a regular file owned by root, not writable
	// by group or others, whose base name is sshd or sshd-session (OpenSSH
	// 9.8 and later), checked with os.Stat on path. A /proc fixture makes
	// each exe a symbolic link to the absolute path of a binary it creates
	// (root-owned, mode 0755, named sshd, sshd-session, bash...), so the
	// default works on it unchanged. Scan may call it from several
	// goroutines at once.
	TrustedExe func(path string) bool
}

// Scanner finds the live SSH sessions in a /proc tree. It holds no state
// between scans: one Scanner may serve several goroutines at once.
type Scanner struct {
	fs      *FS
	proc    string // fs.Root()
	dev     string
	users   func(uid int) (string, bool)
	trusted func(path string) bool
	// defaultTrust: trusted is TrustedSSHD, so a binary deleted since its
	// process started is checked through the exe link itself.
	defaultTrust bool
	// readTable reads a TCP table (file is net/tcp or net/tcp6): a test
	// replaces it to play a kernel whose reads skip sockets.
	readTable func(r *reader, pid int, file string, line func([]byte)) error
}

// NewScanner returns a Scanner for the /proc tree o.Proc.
func NewScanner(o Options) (*Scanner, error) {
	fs := o.FS
	if fs == nil {
		var err error
		if fs, err = NewFS(o.Proc); err != nil {
			return nil, err
		}
	}
	s := &Scanner{fs: fs, proc: fs.Root(), dev: o.Dev, users: o.Users, trusted: o.TrustedExe, readTable: readTable}
	if s.dev == "" {
		s.dev = "/dev"
	}
	s.dev = filepath.Clean(s.dev)
	if s.users == nil {
		s.users = lookupUser
	}
	if s.trusted == nil {
		s.trusted, s.defaultTrust = TrustedSSHD, true
	}
	return s, nil
}

// FS is the proc file system s scans: the one to read the processes of
// its sessions through, so that their start times compare equal.
func (s *Scanner) FS() *FS { return s.fs }

func lookupUser(uid int) (string, bool) {
	u, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		return "", false
	}
	return u.Username, true
}

// Scan returns the live sessions, sorted by PID, and the problems that
// limited the scan (a file it may not read, a tty that is not a pts
// device), each said once. Processes that exit during the scan are
// skipped. The error is for a tree that cannot be scanned at all.
func (s *Scanner) Scan(now time.Time) ([]Session, []string, error) {
	btime, err := s.fs.bootTime()
	if err != nil {
		return nil, nil, err
	}
	r, err := newReader(s.proc)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", s.proc, err)
	}
	defer r.close()
	sc := &scan{Scanner: s, r: r, now: now, btime: btime}
	if err := sc.readProcs(); err != nil {
		return nil, nil, err
	}
	sc.link()
	sc.findListeners()
	sc.examine()
	sc.readSockets()
	return sc.sessions(), sc.problems, nil
}

// Process roles by comm, the name the kernel takes from the executed
// file's name at exec (a process can rename only itself, and sshd does
// not). It narrows the candidates; the exe link and the uid decide.
const (
	commOther   = iota
	commSSHD    // sshd: listener, monitor and children up to 9.7
	commSession // sshd-session: monitor and user child from 9.8
	commAuth    // sshd-auth: pre-authentication child from 10.0
)

const (
	noUID  = 1<<32 - 1 // not read yet, or unknown
	badUID = 1<<32 - 2 // unreadable or garbage
)

// proc is one process of the scan.
type proc struct {
	pid, ppid int32
	parent    int32  // index of the parent in scan.procs, -1 when not there
	uid       uint32 // real uid from status (noUID until read)
	start     uint64 // clock ticks after boot
	ttyNr     uint32 // the controlling tty's device number, 0 for none
	state     byte
	comm      byte
	root      bool // real and effective uid 0
}

func (p *proc) alive() bool { return p.state != 'Z' && p.state != 'X' && p.state != 'x' }

// scan is the state of one Scan. Its phases run in order; examine runs
// workers that only read it.
type scan struct {
	*Scanner
	r     *reader
	now   time.Time
	btime int64

	procs []proc  // sorted by pid
	kids  []int32 // indices of children, grouped by parent
	kidAt []int32 // kids[kidAt[i]:kidAt[i+1]] are the children of procs[i]

	tops      []int32 // root processes of trusted sshd binaries with no root sshd parent
	listeners []listener
	conns     []conn     // the logins found under the listeners, then the orphans
	out       []Session  // their sessions, conns[i] describes out[i]
	refs      []sockRef  // socket inodes of listeners and monitors
	found     []tcpFound // the refs that are TCP sockets
	names     map[uint32]string
	problems  []string
}

type listener struct {
	i         int32
	ns        int64
	fdKnown   bool // its fds were readable
	verified  bool // it holds a listening TCP socket
	connected bool // it holds a TCP connection: a monitor whose listener exited
}

// conn is a candidate monitor, and then a logged-in connection whose
// Session (in scan.out) lacks only the addresses, which come from the
// TCP tables.
type conn struct {
	listener int32 // index in scan.listeners, -1 for an orphan (its listener exited)
	mon      int32
	fdKnown  bool // the monitor's fds were readable
}

type sockRef struct {
	inode uint64
	owner int32 // index in listeners (listener) or conns
	fd    int32
	ofL   bool // owner is a listener
	found bool // in a TCP table
}

type tcpFound struct {
	ref  int32
	sock tcpSocket
}

// say records a problem once.
func (sc *scan) say(msg string) {
	if !slices.Contains(sc.problems, msg) {
		sc.problems = append(sc.problems, msg)
	}
}

const (
	hint = "run as root, or with the capabilities CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH"
	// The exe links and the fds of other users' processes need the same
	// privilege: one message says both.
	deniedMsg  = "cannot read %s/PID/exe and %s/PID/fd of other users' processes, so sshd binaries are not verified and peers, terminals and listening sockets are unknown: " + hint
	statDenied = "cannot read %s/PID/%s of some processes (is /proc mounted with hidepid?): " + hint
)

// readProcs lists the processes and reads their stat files.
func (sc *scan) readProcs() error {
	r := sc.r
	var st syscall.Stat_t
	if err := syscall.Fstat(r.dir, &st); err != nil {
		return fmt.Errorf("reading %s: %w", sc.proc, err)
	}
	// /proc's link count is the number of processes plus a few; a
	// fixture's is the number of its subdirectories.
	sc.procs = make([]proc, 0, min(int(st.Nlink)+64, 1<<17))
	err := r.listDir(r.dir, false, func(name []byte) {
		pid, ok := decimal.Parse(name)
		if ok && pid > 0 && pid < 1<<31 {
			sc.procs = append(sc.procs, proc{pid: int32(pid)})
		}
	})
	if err != nil {
		return fmt.Errorf("listing %s: %w", sc.proc, err)
	}
	// Reading the processes is most of a scan's system calls, and each
	// is independent: spread them over the CPUs.
	workers := min(runtime.GOMAXPROCS(0), 8, len(sc.procs)/512+1)
	chunk := (len(sc.procs) + workers - 1) / workers
	var wg sync.WaitGroup
	denied := make([]string, workers)
	for w := range workers {
		part := sc.procs[min(w*chunk, len(sc.procs)):min((w+1)*chunk, len(sc.procs))]
		r := sc.r
		if w > 0 {
			r = r.fork()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			denied[w] = readStats(r, part)
		}()
	}
	wg.Wait()
	for _, d := range denied {
		if d != "" {
			sc.say(fmt.Sprintf(statDenied, sc.proc, d))
		}
	}
	sc.procs = slices.DeleteFunc(sc.procs, func(p proc) bool { return p.state == 0 })
	slices.SortFunc(sc.procs, func(a, b proc) int { return cmp.Compare(a.pid, b.pid) })
	sc.procs = slices.CompactFunc(sc.procs, func(a, b proc) bool { return a.pid == b.pid })
	return nil
}

// readStats reads the stat files of procs, and the status (uid) of the
// processes named like sshd, which the scan looks at next. A process
// that is gone keeps state 0. It returns the name of a file it was
// denied, if any.
func readStats(r *reader, procs []proc) (denied string) {
	for k := range procs {
		p := &procs[k]
		b, err := r.readFile(r.at(int(p.pid), "stat"))
		if err != nil {
			if isDenied(err) {
				denied = "stat"
			}
			continue
		}
		f, ok := parseStat(b)
		if !ok || f.ppid >= 1<<31 || f.state == 0 {
			continue
		}
		p.ppid, p.start, p.state, p.ttyNr, p.uid = int32(f.ppid), f.start, f.state, f.ttyNr, noUID
		switch string(f.comm) {
		case "sshd":
			p.comm = commSSHD
		case "sshd-session":
			p.comm = commSession
		case "sshd-auth":
			p.comm = commAuth
		default:
			continue
		}
		if d := readUID(r, p); d != "" {
			denied = d
		}
	}
	return denied
}

// readUID reads the uids of p from its status.
func readUID(r *reader, p *proc) (denied string) {
	p.uid = badUID
	b, err := r.readFile(r.at(int(p.pid), "status"))
	if err != nil {
		if isDenied(err) {
			return "status"
		}
		return ""
	}
	real, eff, ok := parseUID(b)
	if ok && real < badUID {
		p.uid = uint32(real)
		p.root = real == 0 && eff == 0
	}
	return ""
}

// link finds every process's parent and children.
func (sc *scan) link() {
	n := len(sc.procs)
	sc.kidAt = make([]int32, n+1)
	for i := range sc.procs {
		p := &sc.procs[i]
		p.parent = sc.index(p.ppid)
		if p.parent >= 0 && int(p.parent) != i {
			sc.kidAt[p.parent+1]++
		} else {
			p.parent = -1
		}
	}
	for i := 1; i <= n; i++ {
		sc.kidAt[i] += sc.kidAt[i-1]
	}
	// Fill each parent's run with kidAt[par] as the cursor, which then
	// holds the run's end, the next one's start: shift back by one.
	sc.kids = make([]int32, sc.kidAt[n])
	for i := range sc.procs {
		if par := sc.procs[i].parent; par >= 0 {
			sc.kids[sc.kidAt[par]] = int32(i)
			sc.kidAt[par]++
		}
	}
	copy(sc.kidAt[1:], sc.kidAt[:n])
	sc.kidAt[0] = 0
}

func (sc *scan) index(pid int32) int32 {
	i, ok := slices.BinarySearchFunc(sc.procs, pid, func(p proc, pid int32) int { return cmp.Compare(p.pid, pid) })
	if !ok {
		return -1
	}
	return int32(i)
}

func (sc *scan) children(i int32) []int32 { return sc.kids[sc.kidAt[i]:sc.kidAt[i+1]] }

// uid returns the real uid of procs[i] (badUID when it cannot be read),
// reading its status on first use.
func (sc *scan) uid(i int32) uint32 {
	p := &sc.procs[i]
	if p.uid != noUID {
		return p.uid
	}
	if d := readUID(sc.r, p); d != "" {
		sc.say(fmt.Sprintf(statDenied, sc.proc, d))
	}
	return p.uid
}

// isRoot reports whether procs[i] runs with real and effective uid 0.
func (sc *scan) isRoot(i int32) bool {
	sc.uid(i)
	return sc.procs[i].root
}

// findListeners finds the tops: live root processes of a trusted sshd
// binary (sshd or sshd-session) whose parent is not a root sshd process.
// A top named sshd is a listener candidate, whose listening sockets are
// checked in readSockets. Any top may also be a monitor whose listener
// has exited (`systemctl restart ssh` ends the listener only; its
// sessions go on under PID 1 or a subreaper): monitors adds it as an
// orphan candidate, which is a session only if it serves a login and
// holds a TCP connection (see [scan.sessions]). A real listener holds no
// connection: it closes each accepted socket once the monitor has it.
func (sc *scan) findListeners() {
	w := sc.worker(sc.r)
	for i := range sc.procs {
		p := &sc.procs[i]
		if p.comm != commSSHD && p.comm != commSession || !p.alive() {
			continue
		}
		if par := p.parent; par >= 0 && sc.procs[par].comm != commOther && sc.isRoot(par) {
			continue
		}
		if !sc.isRoot(int32(i)) {
			continue // a user's own sshd: not the system's (see the package doc)
		}
		if t, _ := w.exe(int32(i)); t == untrusted {
			continue
		}
		sc.tops = append(sc.tops, int32(i))
		if p.comm != commSSHD {
			continue // sshd-session never listens
		}
		l := listener{i: int32(i), ns: w.netns(int32(i))}
		var ptys []int32
		l.fdKnown = w.fds(int32(i), len(sc.listeners), true, &ptys)
		sc.listeners = append(sc.listeners, l)
	}
	sc.refs = w.refs
	for _, p := range w.problems {
		sc.say(p)
	}
}

// monitors sets sc.conns to the candidate monitors: the live root
// processes named sshd or sshd-session under a listener, each with the
// index of its listener, then the tops as orphan candidates (listener
// -1). It also looks up the names of the uids examine will need, so that
// its workers only read them.
func (sc *scan) monitors() {
	n := len(sc.tops)
	for _, l := range sc.listeners {
		n += len(sc.children(l.i))
	}
	sc.conns = make([]conn, 0, n)
	sc.user(0)
	add := func(m int32, listener int32) {
		for _, c := range sc.children(m) {
			if sc.procs[c].comm != commOther {
				if uid := sc.uid(c); uid != badUID {
					sc.user(uid)
				}
			}
		}
		sc.conns = append(sc.conns, conn{listener: listener, mon: m})
	}
	for li, l := range sc.listeners {
		for _, m := range sc.children(l.i) {
			p := &sc.procs[m]
			if (p.comm != commSSHD && p.comm != commSession) || !p.alive() || !sc.isRoot(m) {
				continue
			}
			add(m, int32(li))
		}
	}
	for _, m := range sc.tops {
		add(m, -1)
	}
}

func (sc *scan) user(uid uint32) string {
	if name, ok := sc.names[uid]; ok {
		return name
	}
	name, ok := sc.users(int(uid))
	if !ok {
		name = strconv.FormatUint(uint64(uid), 10)
	}
	if sc.names == nil {
		sc.names = map[uint32]string{}
	}
	sc.names[uid] = name
	return name
}

// examine checks the candidate monitors and fills in their sessions,
// spread over the CPUs: each monitor costs a dozen system calls. The
// workers only read the scan; each has its own reader, exe cache,
// socket list and problems, merged in order when all are done.
func (sc *scan) examine() {
	sc.monitors()
	cands := sc.conns
	sc.out = make([]Session, len(cands))
	workers := min(runtime.GOMAXPROCS(0), 8, len(cands)/64+1)
	chunk := (len(cands) + workers - 1) / workers
	ws := make([]*worker, workers)
	var wg sync.WaitGroup
	for k := range workers {
		r := sc.r
		if k > 0 {
			r = r.fork()
		}
		ws[k] = sc.worker(r)
		lo, hi := min(k*chunk, len(cands)), min((k+1)*chunk, len(cands))
		ws[k].refs = make([]sockRef, 0, 4*(hi-lo)) // a monitor has three sockets
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				ws[k].examine(&cands[i], &sc.out[i], i)
			}
		}()
	}
	wg.Wait()
	// Keep the logins, and renumber the socket owners to match.
	index := make([]int32, len(cands))
	n := 0
	for i := range cands {
		index[i] = -1
		if sc.out[i].PID != 0 {
			index[i] = int32(n)
			cands[n], sc.out[n] = cands[i], sc.out[i]
			n++
		}
	}
	sc.conns, sc.out = cands[:n], sc.out[:n]
	total := len(sc.refs)
	for _, w := range ws {
		total += len(w.refs)
	}
	sc.refs = slices.Grow(sc.refs, total-len(sc.refs))
	for _, w := range ws {
		for _, ref := range w.refs {
			if index[ref.owner] >= 0 {
				ref.owner = index[ref.owner]
				sc.refs = append(sc.refs, ref)
			}
		}
		for _, p := range w.problems {
			sc.say(p)
		}
	}
}

// tcpReads bounds how many times a scan reads one TCP table. A read of
// /proc/PID/net/tcp is not a snapshot: the kernel fills it 4 KiB at a
// time and resumes each chunk at an offset into a hash bucket, so sockets
// that close meanwhile make it skip others (kernel developers, on the
// netdev list in 2025: "corner cases that can lead to skips, since they
// rely on st->offset"). Measured on Linux 6.18 while other tests opened
// and closed listeners: one read in about 20,000 held none of the
// sockets of a listener and a monitor that never closed, and their
// session vanished from that scan. A socket the scan looks for and did
// not find is looked for again in a new read.
const tcpReads = 3

// readSockets looks the socket inodes of listeners and monitors up in the
// TCP tables of their network namespaces: a listener's, read once for
// all its monitors (sshd does not change namespaces), then a monitor's
// own for one whose socket was not there. While a listener holding sockets
// has no listening one, or a monitor whose fds were read has no TCP
// socket, the tables are read again, up to [tcpReads] times each.
func (sc *scan) readSockets() {
	if len(sc.refs) == 0 {
		return
	}
	slices.SortFunc(sc.refs, func(a, b sockRef) int { return cmp.Compare(a.inode, b.inode) })
	sc.found = make([]tcpFound, 0, len(sc.conns)+2*len(sc.listeners)+8)
	last := map[int64]int{} // the pass, plus one, that last read a namespace's tables
	read := func(pass int, ns int64, pid int) {
		if last[ns] == pass+1 {
			return
		}
		for _, file := range []string{"net/tcp", "net/tcp6"} {
			err := sc.readTable(sc.r, pid, file, sc.tcpLine)
			if err != nil && gone(err) && file == "net/tcp" && !sc.exists(pid) {
				// The process exited: the namespace is read through
				// another (a monitor whose listener exited mid-scan).
				return
			}
			last[ns] = pass + 1
			if err == nil || gone(err) && file == "net/tcp6" {
				continue // read, or no IPv6
			}
			sc.say(fmt.Sprintf("cannot read %s/%d/%s: %v", sc.proc, pid, file, err))
		}
	}
	holds := make([]bool, len(sc.listeners)) // the listener has sockets
	for _, ref := range sc.refs {
		if ref.ofL {
			holds[ref.owner] = true
		}
	}
	monNS := make([]int64, len(sc.conns))
	w := sc.worker(sc.r)
	for pass := range tcpReads {
		for i, l := range sc.listeners {
			if pass == 0 || holds[i] && !l.verified {
				read(pass, l.ns, int(sc.procs[l.i].pid))
			}
		}
		// A monitor whose socket is not in its listener's namespace:
		// its own (a namespace read in this pass is not read again).
		peer := sc.peers()
		for k, c := range sc.conns {
			if c.fdKnown && !peer[k] {
				if monNS[k] == 0 {
					monNS[k] = w.netns(c.mon)
				}
				if pass == 0 && last[monNS[k]] > 0 {
					continue
				}
				read(pass, monNS[k], sc.out[k].PID)
			}
		}
		if !sc.missing(holds) {
			return
		}
	}
}

// peers reports, for each conn, whether a TCP socket of its monitor was
// found.
func (sc *scan) peers() []bool {
	peer := make([]bool, len(sc.conns))
	for _, f := range sc.found {
		if ref := sc.refs[f.ref]; !ref.ofL && !f.sock.listen {
			peer[ref.owner] = true
		}
	}
	return peer
}

// missing marks the listeners whose listening sockets were found, and
// the candidates that hold a TCP connection (orphaned monitors: no
// listener holds one), and reports whether a socket the scan looks for
// was not: a listening one of a listener that holds sockets, a TCP one
// of a monitor whose fds were read, unless its "listener" is an orphaned
// monitor (a root login's sftp server up to 9.7 is a root sshd process
// under it).
func (sc *scan) missing(holds []bool) bool {
	for _, f := range sc.found {
		if ref := sc.refs[f.ref]; ref.ofL && f.sock.listen {
			sc.listeners[ref.owner].verified = true
		} else if ref.ofL {
			sc.listeners[ref.owner].connected = true
		}
	}
	for i, l := range sc.listeners {
		if holds[i] && !l.verified && !l.connected {
			return true
		}
	}
	peer := sc.peers()
	for k, c := range sc.conns {
		if c.fdKnown && !peer[k] && (c.listener < 0 || !sc.listeners[c.listener].connected) {
			return true
		}
	}
	return false
}

func readTable(r *reader, pid int, file string, line func([]byte)) error {
	return r.readLines(r.at(pid, file), line)
}

// exists reports whether process pid is still there.
func (sc *scan) exists(pid int) bool {
	_, err := sc.r.readFile(sc.r.at(pid, "stat"))
	return err == nil
}

func (sc *scan) tcpLine(line []byte) {
	inode, ok := tcpInode(line)
	if !ok {
		return
	}
	i, hit := slices.BinarySearchFunc(sc.refs, inode, func(r sockRef, inode uint64) int { return cmp.Compare(r.inode, inode) })
	if !hit {
		return
	}
	s, ok := parseTCPLine(line)
	if !ok {
		return
	}
	for ; i < len(sc.refs) && sc.refs[i].inode == inode; i++ {
		if !sc.refs[i].found {
			sc.refs[i].found = true
			sc.found = append(sc.found, tcpFound{ref: int32(i), sock: s})
		}
	}
}

// sessions returns the sessions of the verified listeners, with their
// peers: the monitor's TCP socket (not listening) on a port its listener
// listens on, else any, the lowest fd first.
func (sc *scan) sessions() []Session {
	type peer struct {
		fd   int32
		port bool
		sock *tcpSocket
	}
	var ports [][]uint16 // each listener's
	for _, f := range sc.found {
		if ref := sc.refs[f.ref]; ref.ofL && f.sock.listen {
			for len(ports) <= int(ref.owner) {
				ports = append(ports, nil)
			}
			ports[ref.owner] = append(ports[ref.owner], f.sock.local.Port())
		}
	}
	peers := make([]peer, len(sc.conns))
	for k := range sc.found {
		f := &sc.found[k]
		ref := sc.refs[f.ref]
		if ref.ofL || f.sock.listen {
			continue
		}
		l := int(sc.conns[ref.owner].listener)
		port := l >= 0 && l < len(ports) && slices.Contains(ports[l], f.sock.local.Port())
		p := &peers[ref.owner]
		if p.sock == nil || port && !p.port || port == p.port && ref.fd < p.fd {
			*p = peer{fd: ref.fd, port: port, sock: &f.sock}
		}
	}
	// A listener that exited during the scan (systemctl restart ssh)
	// left its monitors orphans, which the next scan finds as such: this
	// one takes them as orphans already.
	exited := make([]bool, len(sc.listeners))
	for i, l := range sc.listeners {
		exited[i] = l.fdKnown && !l.verified && !l.connected && !sc.exists(int(sc.procs[l.i].pid))
	}
	out := sc.out[:0]
	for k, c := range sc.conns {
		orphan := c.listener < 0 || exited[c.listener]
		switch {
		case orphan:
			// An orphan serves a connection: a top that holds none is a
			// listener, or an sshd that does not listen. Without its fds
			// (no root), only a user child tells a login.
			if c.fdKnown && peers[k].sock == nil || !c.fdKnown && sc.out[k].Child == 0 {
				continue
			}
			sc.out[k].Listener = 0
		case sc.listeners[c.listener].fdKnown && !sc.listeners[c.listener].verified:
			continue // an sshd that does not listen: not a listener
		}
		s := sc.out[k]
		if p := peers[k].sock; p != nil {
			s.Remote, s.Local = p.remote, p.local
		}
		out = append(out, s)
	}
	clear(sc.out[len(out):])
	slices.SortFunc(out, func(a, b Session) int { return cmp.Compare(a.PID, b.PID) })
	return out
}
