package sshdtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// toolPackages are the Debian packages of the tools tests run.
var toolPackages = map[string]string{
	"ss":      "iproute2",
	"ps":      "procps",
	"sftp":    "openssh-client",
	"ssh":     "openssh-client",
	"unshare": "util-linux",
	"runuser": "util-linux",
}

// RequireTools skips the test, or with CI=true fails it, unless every
// tool is installed.
func RequireTools(t testing.TB, names ...string) {
	t.Helper()
	var missing []string
	for _, n := range names {
		if _, err := exec.LookPath(toolPath(n)); err != nil {
			missing = append(missing, fmt.Sprintf("%s (apt-get install %s)", n, toolPackages[n]))
		}
	}
	if len(missing) > 0 {
		Missing(t, "sshdtest: the test needs "+strings.Join(missing, ", "))
	}
}

// Socket is one TCP connection as `ss -tnp` prints it.
type Socket struct {
	Local, Peer netip.AddrPort
	PIDs        []int // the processes holding it
	Line        string
}

// PSProc is one process as ps(1) prints it.
type PSProc struct {
	PID, PPID, UID int
	TTY            string    // "pts/3", or "?" without a controlling tty
	Start          time.Time // lstart: whole seconds, local time
	Comm           string    // the executable's name (at most 15 bytes), which a title does not change
	Args           string    // the command line (sshd's title), fields joined by single spaces
}

// Snapshot is what ss and ps said at about the same moment.
type Snapshot struct {
	Sockets []Socket
	Procs   map[int]PSProc
}

// TakeSnapshot runs `ss -Htnp` and ps.
func TakeSnapshot() (*Snapshot, error) {
	sn := &Snapshot{Procs: map[int]PSProc{}}
	out, err := runC("ss", "-H", "-t", "-n", "-p")
	if err != nil {
		return nil, err
	}
	for line := range strings.Lines(out) {
		// State Recv-Q Send-Q Local:Port Peer:Port users:((...))
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		local, err1 := ParseSSAddr(f[3])
		peer, err2 := ParseSSAddr(f[4])
		if err1 != nil || err2 != nil {
			continue
		}
		s := Socket{Local: local, Peer: peer, Line: strings.TrimSpace(line)}
		if i := strings.Index(line, "users:("); i >= 0 {
			for _, m := range ssUser.FindAllStringSubmatch(line[i:], -1) {
				pid, _ := strconv.Atoi(m[1])
				s.PIDs = append(s.PIDs, pid)
			}
		}
		sn.Sockets = append(sn.Sockets, s)
	}
	out, err = runC("ps", "-e", "-ww", "-o", "pid=,ppid=,uid=,tty=,lstart=,args=")
	if err != nil {
		return nil, err
	}
	for line := range strings.Lines(out) {
		// pid ppid uid tty Www Mmm dd hh:mm:ss yyyy args...
		f := strings.Fields(line)
		if len(f) < 9 {
			continue
		}
		var p PSProc
		var err1, err2, err3, err4 error
		p.PID, err1 = strconv.Atoi(f[0])
		p.PPID, err2 = strconv.Atoi(f[1])
		p.UID, err3 = strconv.Atoi(f[2])
		p.TTY = f[3]
		p.Start, err4 = time.ParseInLocation("Mon Jan 2 15:04:05 2006", strings.Join(f[4:9], " "), time.Local)
		if err := cmpErr(err1, err2, err3, err4); err != nil {
			return nil, fmt.Errorf("ps: %q: %w", line, err)
		}
		p.Args = strings.Join(f[9:], " ")
		sn.Procs[p.PID] = p
	}
	// comm apart: it may hold spaces, and it is the last column here.
	out, err = runC("ps", "-e", "-o", "pid=,comm=")
	if err != nil {
		return nil, err
	}
	for line := range strings.Lines(out) {
		pid, comm, _ := strings.Cut(strings.TrimSpace(line), " ")
		if n, err := strconv.Atoi(pid); err == nil {
			if p, ok := sn.Procs[n]; ok {
				p.Comm = strings.TrimSpace(comm)
				sn.Procs[n] = p
			}
		}
	}
	return sn, nil
}

func cmpErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// runC runs a tool in the C locale, at most toolTimeout, and returns its
// standard output.
func runC(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, toolPath(name), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// ssUser matches one ("name",pid=N,fd=M) of ss's users:(...) list; the
// name is quoted, so a process named "pid=1" cannot fake a pid.
var ssUser = regexp.MustCompile(`\("(?:[^"\\]|\\.)*",pid=(\d+),fd=\d+\)`)

// ParseSSAddr parses ss's "127.0.0.1:22", "[::1]:22", "[::ffff:1.2.3.4]:22",
// "127.0.0.1%lo:22"; v4-mapped addresses are unmapped.
func ParseSSAddr(s string) (netip.AddrPort, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if i := strings.IndexByte(host, '%'); i >= 0 && !strings.Contains(host, ":") {
		host = host[:i]
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, err
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(p)), nil
}

// Descendants returns the pids below pid, sorted.
func (sn *Snapshot) Descendants(pid int) []int {
	parent := make(map[int]int, len(sn.Procs))
	for _, p := range sn.Procs {
		parent[p.PID] = p.PPID
	}
	return Below(parent, pid)
}

// Below returns the pids below root, sorted, given the parent of each
// process.
func Below(parent map[int]int, root int) []int {
	children := map[int][]int{}
	for pid, ppid := range parent {
		children[ppid] = append(children[ppid], pid)
	}
	var out []int
	queue := slices.Clone(children[root])
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		out = append(out, p)
		queue = append(queue, children[p]...)
	}
	slices.Sort(out)
	return out
}

// Placement is where ss and ps put the login of one client of s.
type Placement struct {
	Remote netip.AddrPort // the client's end of the connection (ss)
	Local  netip.AddrPort // the server's end: s.Addr()
	// Monitor is the per-connection monitor: of the processes that hold
	// the server's end, the one whose parent does not. While the listener
	// runs, its parent is the listener.
	Monitor int
	// Child is the holder whose parent is the monitor: the user's child
	// (`USER@pts/N`, `USER@notty`, `USER`; also a root login's from 9.8
	// on, uid 0), or before authentication the privilege-separated child
	// (`[net]`); 0 when the monitor serves the connection alone (a root
	// login up to 9.7).
	Child int
	// Procs are the processes below the child, or below the monitor
	// when there is no child, sorted.
	Procs []int
}

// Top is the process the login's own processes run under: the child, or
// the monitor when there is none.
func (p Placement) Top() int {
	if p.Child != 0 {
		return p.Child
	}
	return p.Monitor
}

// Place finds the login of the client process client (an ssh, or an
// sftp, whose ssh child holds the connection) to s in sn. The error says
// why not (yet).
func (sn *Snapshot) Place(s *Server, client int) (Placement, error) {
	server := netip.MustParseAddrPort(s.Addr())
	p := Placement{Local: server}
	clients := append([]int{client}, sn.Descendants(client)...)
	for _, so := range sn.Sockets {
		if so.Peer == server && slices.ContainsFunc(so.PIDs, func(pid int) bool { return slices.Contains(clients, pid) }) {
			p.Remote = so.Local
		}
	}
	if !p.Remote.IsValid() {
		return p, fmt.Errorf("ss shows no connection of client %d to %v", client, server)
	}
	var holders []int
	for _, so := range sn.Sockets {
		if so.Local == server && so.Peer == p.Remote {
			holders = so.PIDs
		}
	}
	for _, h := range holders {
		if !slices.Contains(holders, sn.Procs[h].PPID) {
			if p.Monitor != 0 {
				return p, fmt.Errorf("two holders of %v-%v, %d and %d, have parents that do not hold it", server, p.Remote, p.Monitor, h)
			}
			p.Monitor = h
		}
	}
	if p.Monitor == 0 {
		return p, fmt.Errorf("no holder of %v-%v (holders %v) in ps", server, p.Remote, holders)
	}
	if s.listenerAlive() && sn.Procs[p.Monitor].PPID != s.PID {
		return p, fmt.Errorf("the monitor %d of %v-%v has parent %d, not the listener %d", p.Monitor, server, p.Remote, sn.Procs[p.Monitor].PPID, s.PID)
	}
	for _, h := range holders {
		if sn.Procs[h].PPID == p.Monitor {
			if p.Child != 0 {
				return p, fmt.Errorf("the monitor %d has two children holding %v-%v: %d and %d", p.Monitor, server, p.Remote, p.Child, h)
			}
			p.Child = h
		}
	}
	p.Procs = sn.Descendants(p.Top())
	return p, nil
}

// Mentions reports whether a scan problem or a `sessions` note names a
// login placed at p: its monitor's or child's pid, or its terminal tty
// ("pts/N"; "" for none).
func Mentions(text string, p Placement, tty string) bool {
	for _, pid := range []int{p.Monitor, p.Child} {
		if pid == 0 {
			continue
		}
		for _, f := range []string{"session %d,", "pid %d:", "pid %d ", "pid %d)"} {
			if strings.Contains(text, fmt.Sprintf(f, pid)) {
				return true
			}
		}
	}
	return tty != "" && strings.Contains(text, "/dev/"+tty+",")
}

// PlaceComplete places the login of client clientPID as [Snapshot.Place]
// does, and says why it is not complete yet: a user's login (uid not 0)
// needs the child that holds the connection, its top process must be
// titled title, and, when below is set, a process titled below must run
// under it. name prefixes the errors.
func (sn *Snapshot) PlaceComplete(s *Server, name string, clientPID, uid int, title, below string) (Placement, error) {
	p, err := sn.Place(s, clientPID)
	if err != nil {
		return p, fmt.Errorf("%s: %w", name, err)
	}
	if uid != 0 && p.Child == 0 {
		return p, fmt.Errorf("%s: monitor %d has no child holding the connection yet", name, p.Monitor)
	}
	if got := sn.Procs[p.Top()].Args; got != title {
		return p, fmt.Errorf("%s: process %d is %q, not yet %q", name, p.Top(), got, title)
	}
	if below != "" && !slices.ContainsFunc(p.Procs, func(pid int) bool { return sn.Procs[pid].Args == below }) {
		return p, fmt.Errorf("%s: no %q below %d yet", name, below, p.Top())
	}
	return p, nil
}
