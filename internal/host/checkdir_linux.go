package host

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// checkPrefix starts the name of a [Checker]'s folder in the temporary
// folder: "sshwarden-check-PID-START-RANDOM", where START is when the
// process PID started (clock ticks since boot, field 22 of
// /proc/PID/stat).
const checkPrefix = "sshwarden-check-"

// checkDir is the folder of one check: created under the temporary folder
// with a name that says which process owns it, and locked (flock) while
// that process lives, so that a later check can tell a folder left by a
// killed run from one in use, and remove it.
type checkDir struct {
	path string
	lock *os.File // holds the flock; closed by remove
}

// newCheckDir removes the folders of dead checks from tmp (os.TempDir()
// if "") and creates a new one.
func newCheckDir(tmp string) (*checkDir, error) {
	if tmp == "" {
		tmp = os.TempDir()
	}
	removeStaleCheckDirs(tmp)
	pid := os.Getpid()
	start, _ := startTime(pid) // 0 without /proc: then only the lock says it lives
	for try := 0; ; try++ {
		b := make([]byte, 8)
		rand.Read(b) // never fails
		p := filepath.Join(tmp, fmt.Sprintf("%s%d-%d-%s", checkPrefix, pid, start, hex.EncodeToString(b)))
		if err := os.Mkdir(p, 0o700); err != nil {
			if errors.Is(err, fs.ErrExist) && try < 10 {
				continue
			}
			return nil, err
		}
		d, err := os.OpenFile(p, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
		if err == nil {
			err = syscall.Flock(int(d.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
			if err != nil {
				d.Close()
			}
		}
		if err != nil {
			os.Remove(p)
			return nil, fmt.Errorf("lock %s: %w", p, err)
		}
		return &checkDir{path: p, lock: d}, nil
	}
}

// remove removes the folder and everything in it, then releases its lock.
func (d *checkDir) remove() {
	os.RemoveAll(d.path)
	d.lock.Close()
}

// removeStaleCheckDirs removes the folders of tmp that a check of a
// process now dead left: named by [checkPrefix], owned by this user, whose
// process is gone (or its PID taken by a later process), and whose lock
// nobody holds (a live process of another PID namespace holds its own).
// It leaves anything it cannot prove to be such a folder. Errors are
// ignored: a leftover only takes space, and the next run tries again.
func removeStaleCheckDirs(tmp string) {
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return
	}
	euid := uint32(os.Geteuid())
	for _, e := range entries {
		pid, start, ok := parseCheckName(e.Name())
		if !ok || !e.IsDir() || alive(pid, start) {
			continue
		}
		p := filepath.Join(tmp, e.Name())
		d, err := os.OpenFile(p, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		var st syscall.Stat_t
		if syscall.Fstat(int(d.Fd()), &st) == nil && st.Uid == euid &&
			syscall.Flock(int(d.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			os.RemoveAll(p)
		}
		d.Close()
	}
}

// parseCheckName returns the PID and start time in the name of a check's
// folder.
func parseCheckName(name string) (pid int, start uint64, ok bool) {
	rest, found := strings.CutPrefix(name, checkPrefix)
	if !found {
		return 0, 0, false
	}
	f := strings.Split(rest, "-")
	if len(f) != 3 || len(f[2]) != 16 {
		return 0, 0, false
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil || pid <= 0 {
		return 0, 0, false
	}
	start, err = strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0, 0, false
	}
	if _, err := hex.DecodeString(f[2]); err != nil {
		return 0, 0, false
	}
	return pid, start, true
}

// alive reports whether the process pid that started at start may still
// run: it does, or /proc cannot tell.
func alive(pid int, start uint64) bool {
	got, err := startTime(pid)
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if err != nil || start == 0 {
		return true
	}
	return got == start
}

// startTime returns when the process pid started, in clock ticks since
// boot (field 22 of /proc/PID/stat).
func startTime(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may hold any byte:
	// the fields after it start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("bad /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0, errors.New("bad /proc stat")
	}
	return strconv.ParseUint(f[19], 10, 64) // field 22 is the 20th after the name
}
