package watcher

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/procfs"

	"github.com/sshwarden/sshwarden/internal/decimal"
)

// Process is what /proc says of one process's identity at one moment:
// enough to tell whether a pid still belongs to a scanned session.
type Process struct {
	PID  int
	PPID int
	// State is the state letter of /proc/PID/stat: R, S, D, T, Z, ...
	State byte
	// Started is the process's start, computed exactly as a scan computes
	// [Session.Started] (field 22 of /proc/PID/stat, in clock ticks after
	// boot, plus btime from /proc/stat), so that the two compare equal
	// for the same process.
	Started time.Time
	// SessionID is /proc/PID/sessionid as [Session.SessionID] reads it: 0
	// when there is none.
	SessionID uint32
}

// Alive reports whether p has not exited (it is not a zombie).
func (p Process) Alive() bool { return p.State != 'Z' && p.State != 'X' && p.State != 'x' }

// ErrNoProcess is returned, wrapped, by [FS.Process] and
// [FS.ProcessStart] when there is no process pid (it exited, or never
// was).
var ErrNoProcess = errors.New("no such process")

// FS is one proc file system, as procfs.NewFS opens it: its root and its
// boot time, read once per FS. The kernel computes btime from the wall
// clock, so it moves when the clock is stepped or slewed (seen: a fresh VM
// syncing its clock during a test); read again on every scan, it would
// give the same process another Started and the agent would forget what
// it did to a session. Every start time read through one FS (by a
// [Scanner] and by [FS.Process]) is computed with one value, so they
// compare equal: the scanner, the enforcer's Actor and whoever else looks
// at the same processes share one FS ([Scanner.FS]).
//
// An FS may serve several goroutines at once.
type FS struct {
	root string

	mu    sync.Mutex
	btime int64 // 0 until read
}

// NewFS returns the proc file system at root ("/proc" when empty).
func NewFS(root string) (*FS, error) {
	if root == "" {
		root = procfs.DefaultMountPoint
	}
	root = filepath.Clean(root)
	if _, err := procfs.NewFS(root); err != nil {
		return nil, fmt.Errorf("opening the proc file system: %w", err)
	}
	return &FS{root: root}, nil
}

// Root is the folder of the proc file system.
func (fs *FS) Root() string { return fs.root }

// Path is the name of the file name of process pid ("status", "fd/3").
func (fs *FS) Path(pid int, name string) string {
	return fs.root + "/" + strconv.Itoa(pid) + "/" + name
}

// bootTime returns btime of the tree, read through procfs the first time
// it is asked for and kept for the life of fs.
func (fs *FS) bootTime() (int64, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.btime != 0 {
		return fs.btime, nil
	}
	pfs, err := procfs.NewFS(fs.root)
	if err != nil {
		return 0, fmt.Errorf("opening the proc file system: %w", err)
	}
	st, err := pfs.Stat()
	if err != nil {
		return 0, fmt.Errorf("reading the boot time: %w", err)
	}
	fs.btime = int64(st.BootTime)
	return fs.btime, nil
}

// Process reads the identity of process pid as a scan of the tree would:
// its start time compares equal to the scanned [Session.Started] of the
// same process, and differs for a process that has reused the pid.
// Garbage in the files is an error, never a panic.
//
// A pid alone is no handle: the process may exit and its pid be reused
// right after Process returns. A caller that acts on the process opens a
// pidfd first and checks with Process after (see the enforcer).
func (fs *FS) Process(pid int) (Process, error) {
	if pid <= 0 || pid >= 1<<31 {
		return Process{}, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	}
	dir := filepath.Join(fs.root, strconv.Itoa(pid))
	b, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		if gone(err) {
			return Process{}, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
		}
		return Process{}, fmt.Errorf("reading %s/stat: %w", dir, err)
	}
	f, ok := parseStat(b)
	if !ok || f.ppid >= 1<<31 || f.state == 0 {
		return Process{}, fmt.Errorf("%s/stat: cannot parse %q", dir, b[:min(len(b), 80)])
	}
	btime, err := fs.bootTime()
	if err != nil {
		return Process{}, err
	}
	p := Process{
		PID:     pid,
		PPID:    int(f.ppid),
		State:   f.state,
		Started: time.Unix(btime, 0).Add(time.Duration(f.start) * (time.Second / userHZ)),
	}
	// As worker.sessionID: a missing or garbage file is no session id.
	if b, err := os.ReadFile(filepath.Join(dir, "sessionid")); err == nil {
		if n, ok := decimal.Parse(bytes.TrimSpace(b)); ok && n < 1<<32-1 {
			p.SessionID = uint32(n)
		}
	}
	return p, nil
}

// ProcessStart returns the start of process pid, exactly as a scan
// computes [Session.Started] for it.
func (fs *FS) ProcessStart(pid int) (time.Time, error) {
	p, err := fs.Process(pid)
	if err != nil {
		return time.Time{}, err
	}
	return p.Started, nil
}

// PTYMasters returns the tty indices of the pty masters process pid holds
// (its /dev/ptmx fds, "tty-index:" in their fdinfo), sorted, as a scan
// reads them for a monitor. A monitor closes the master of a channel that
// ended, so a pts index that it no longer holds may already serve another
// login, even while the monitor lives (ControlMaster).
func (fs *FS) PTYMasters(pid int) ([]int, error) {
	if pid <= 0 || pid >= 1<<31 {
		return nil, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	}
	dir := filepath.Join(fs.root, strconv.Itoa(pid))
	ents, err := os.ReadDir(filepath.Join(dir, "fd"))
	if err != nil {
		if gone(err) {
			return nil, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
		}
		return nil, fmt.Errorf("listing %s/fd: %w", dir, err)
	}
	var out []int
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join(dir, "fd", e.Name()))
		if err != nil || !isPTMX([]byte(target)) {
			continue
		}
		info, err := os.ReadFile(filepath.Join(dir, "fdinfo", e.Name()))
		if err != nil {
			continue
		}
		if n, ok := parseTTYIndex(info); ok && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Exe returns the target of process pid's exe link: the path of the
// binary it runs, followed by " (deleted)" when that file was deleted
// since (see [FS.CheckExe]). The error wraps [ErrNoProcess] when there is
// no process pid (or it has no binary: a zombie, a kernel thread), else
// it is os.Readlink's.
func (fs *FS) Exe(pid int) (string, error) {
	if pid <= 0 || pid >= 1<<31 {
		return "", fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	}
	exe, err := os.Readlink(fs.Path(pid, "exe"))
	if err != nil && gone(err) {
		return "", fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	}
	return exe, err
}

// UIDs returns the real and effective uid of process pid, from its
// status file, as a scan reads them.
func (fs *FS) UIDs(pid int) (real, effective uint32, err error) {
	if pid <= 0 || pid >= 1<<31 {
		return 0, 0, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	}
	name := fs.Path(pid, "status")
	b, err := os.ReadFile(name)
	if err != nil {
		if gone(err) {
			return 0, 0, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
		}
		return 0, 0, err
	}
	r, e, ok := parseUID(b)
	if !ok {
		return 0, 0, fmt.Errorf("%s: cannot parse its Uid line", name)
	}
	return uint32(r), uint32(e), nil
}

// Sockets returns the inodes of the sockets that process pid holds open
// (its fd links "socket:[INODE]"), sorted. The error wraps
// [ErrNoProcess] when there is no process pid, else it is os.ReadDir's.
func (fs *FS) Sockets(pid int) ([]uint64, error) {
	if pid <= 0 || pid >= 1<<31 {
		return nil, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	}
	dir := fs.Path(pid, "fd")
	ents, err := os.ReadDir(dir)
	if err != nil {
		if gone(err) {
			return nil, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
		}
		return nil, err
	}
	var out []uint64
	for _, e := range ents {
		target, err := os.Readlink(dir + "/" + e.Name())
		if err != nil {
			continue // closed meanwhile
		}
		if ino, ok := parseSocket([]byte(target)); ok {
			out = append(out, ino)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// ListeningTCP returns the inodes of the sockets in state LISTEN in a
// TCP table of process pid's network namespace, table being "tcp" or
// "tcp6" (/proc/PID/net/TABLE), sorted. The error is os.ReadFile's: a
// missing tcp6 table means no IPv6.
//
// Like any read of a TCP table it may miss sockets while others open and
// close (see tcpReads).
func (fs *FS) ListeningTCP(pid int, table string) ([]uint64, error) {
	b, err := os.ReadFile(fs.Path(pid, "net/"+table))
	if err != nil {
		return nil, err
	}
	var out []uint64
	for line := range bytes.Lines(b) {
		if s, ok := parseTCPLine(bytes.TrimSuffix(line, []byte("\n"))); ok && s.listen {
			out = append(out, s.inode)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
