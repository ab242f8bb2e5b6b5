// Package decimal parses the unsigned decimal numbers that the kernel
// writes in /proc and journalctl writes in its JSON (pids, inodes, uids,
// counters, timestamps in µs), straight from the bytes read, without the
// string that strconv would need.
package decimal

// Parse parses a non-negative decimal number of at most 18 digits (so
// that it cannot overflow an int64): only the digits 0-9, no sign, no
// spaces. ok is false for anything else, and for an empty b.
func Parse(b []byte) (n int64, ok bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
