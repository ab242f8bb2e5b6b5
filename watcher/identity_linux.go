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

// ErrNoProcess is returned, wrapped, by [ReadProcess] and [ProcessStart]
// when there is no process pid (it exited, or never was).
var ErrNoProcess = errors.New("no such process")

// ReadProcess reads the identity of process pid in the /proc tree at proc
// ("/proc" when empty) as a scan of that tree would: its start time
// compares equal to the scanned [Session.Started] of the same process, and
// differs for a process that has reused the pid. Garbage in the files is
// an error, never a panic.
//
// A pid alone is no handle: the process may exit and its pid be reused
// right after ReadProcess returns. A caller that acts on the process opens
// a pidfd first and checks with ReadProcess after (see the enforcer).
func ReadProcess(proc string, pid int) (Process, error) {
	if proc == "" {
		proc = procfs.DefaultMountPoint
	}
	if pid <= 0 || pid >= 1<<31 {
		return Process{}, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	}
	dir := filepath.Join(proc, strconv.Itoa(pid))
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
	btime, err := bootTime(proc)
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

// ProcessStart returns the start of process pid in the /proc tree at proc,
// exactly as a scan computes [Session.Started] for it.
func ProcessStart(proc string, pid int) (time.Time, error) {
	p, err := ReadProcess(proc, pid)
	if err != nil {
		return time.Time{}, err
	}
	return p.Started, nil
}

// bootTime returns btime of the /proc tree at proc, read through procfs
// the first time and remembered for the life of the process, per tree.
// The kernel computes btime from the wall clock, so it moves when the clock
// is stepped or slewed (seen: a fresh VM syncing its clock during a test);
// read again on every scan, it would give the same process another Started
// and the agent would forget what it did to a session. Every start time in
// this package is computed with this one value, so they compare equal.
func bootTime(proc string) (int64, error) {
	proc = filepath.Clean(proc)
	if v, ok := bootTimes.Load(proc); ok {
		return v.(int64), nil
	}
	fs, err := procfs.NewFS(proc)
	if err != nil {
		return 0, fmt.Errorf("opening the proc file system: %w", err)
	}
	st, err := fs.Stat()
	if err != nil {
		return 0, fmt.Errorf("reading the boot time: %w", err)
	}
	v, _ := bootTimes.LoadOrStore(proc, int64(st.BootTime))
	return v.(int64), nil
}

// bootTimes holds bootTime's values, by /proc tree.
var bootTimes sync.Map

// PTYMasters returns the tty indices of the pty masters process pid holds
// (its /dev/ptmx fds, "tty-index:" in their fdinfo), sorted, as a scan
// reads them for a monitor. A monitor closes the master of a channel that
// ended, so a pts index that it no longer holds may already serve another
// login, even while the monitor lives (ControlMaster).
func PTYMasters(proc string, pid int) ([]int, error) {
	if proc == "" {
		proc = procfs.DefaultMountPoint
	}
	if pid <= 0 || pid >= 1<<31 {
		return nil, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	}
	dir := filepath.Join(proc, strconv.Itoa(pid))
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
