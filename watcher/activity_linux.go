package watcher

import (
	"encoding/binary"
	"hash/fnv"
	"time"
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
// that started before the session (a recycled pid) is left out.
func (sc *Scanner) Activity(s Session) (fingerprint uint64, ok bool) {
	h := fnv.New64a()
	var buf [8]byte
	put := func(v uint64) {
		binary.LittleEndian.PutUint64(buf[:], v)
		h.Write(buf[:])
	}
	n := 0
	for _, pid := range s.Procs {
		p, err := sc.fs.Proc(pid)
		if err != nil {
			continue
		}
		st, err := p.Stat()
		if err != nil {
			continue
		}
		if !s.Started.IsZero() {
			if start, err := st.StartTime(); err == nil && time.Unix(0, int64(start*1e9)).Before(s.Started.Add(-time.Second)) {
				continue
			}
		}
		put(uint64(pid))
		put(st.Starttime)
		put(uint64(st.UTime))
		put(uint64(st.STime))
		if io, err := p.IO(); err == nil {
			put(io.RChar)
			put(io.WChar)
		}
		n++
	}
	return h.Sum64(), n > 0
}
