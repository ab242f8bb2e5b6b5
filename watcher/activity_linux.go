package watcher

import (
	"bytes"
	"encoding/binary"
	"hash/fnv"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sshwarden/sshwarden/internal/decimal"
)

// Activity returns a fingerprint of what the processes of session s have
// done so far: their pids, start times, I/O byte counts (rchar, wchar) and
// CPU times. Two calls give the same value exactly when none of the
// session's processes read, wrote or ran in between and none came or went.
// It is how the agent tells an idle exec or sftp session from a busy one
// (OPENSSH.md, Idle: the sshd child's own counters move with keepalives, so
// they are left out, as [Session.Procs] leaves them out).
//
// ok is false when the session has no processes left to look at. A process
// that started before the session (a recycled pid) is left out; start times
// are computed as a scan computes [Session.Started].
func (sc *Scanner) Activity(s Session) (fingerprint uint64, ok bool) {
	bt, err := sc.fs.bootTime()
	if err != nil {
		return 0, false
	}
	btime := time.Unix(bt, 0)
	h := fnv.New64a()
	var buf [8]byte
	put := func(v uint64) {
		binary.LittleEndian.PutUint64(buf[:], v)
		h.Write(buf[:])
	}
	n := 0
	for _, pid := range s.Procs {
		dir := filepath.Join(sc.proc, strconv.Itoa(pid))
		b, err := os.ReadFile(filepath.Join(dir, "stat"))
		if err != nil {
			continue
		}
		f, ok := parseStat(b)
		if !ok || btime.Add(time.Duration(f.start)*(time.Second/userHZ)).Before(s.Started) {
			continue
		}
		put(uint64(pid))
		put(f.start)
		put(f.cpu)
		// /proc/PID/io needs root (or ptrace rights) over the process;
		// without it the CPU time alone is the fingerprint.
		if io, err := os.ReadFile(filepath.Join(dir, "io")); err == nil {
			for l := range bytes.Lines(io) {
				for _, key := range []string{"rchar: ", "wchar: "} {
					if v, ok := bytes.CutPrefix(bytes.TrimSpace(l), []byte(key)); ok {
						if x, ok := decimal.Parse(v); ok {
							put(uint64(x))
						}
					}
				}
			}
		}
		n++
	}
	return h.Sum64(), n > 0
}
