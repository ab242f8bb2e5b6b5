package watcher

import (
	"encoding/binary"
	"net/netip"

	"github.com/sshwarden/sshwarden/internal/decimal"
)

// tcpSocket is one line of /proc/PID/net/tcp or /proc/PID/net/tcp6.
type tcpSocket struct {
	inode         uint64
	local, remote netip.AddrPort
	listen        bool // state 0A, TCP_LISTEN
}

// tcpInode returns the inode column of a line of /proc/net/tcp or tcp6:
//
//	sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
//	19: 0100007F:08FB 0100007F:CAEC 01 00000000:00000000 02:000ACCC6 00000000     0        0 845252 2 ...
//
// The header line and garbage have none.
func tcpInode(line []byte) (uint64, bool) {
	f := line
	var inode []byte
	for i := 0; i < 10; i++ {
		inode, f = field(f)
	}
	n, ok := decimal.Parse(inode)
	return uint64(n), ok && n > 0
}

// parseTCPLine parses the addresses and state of a line whose inode
// tcpInode found.
func parseTCPLine(line []byte) (tcpSocket, bool) {
	var s tcpSocket
	sl, f := field(line)
	if len(sl) < 2 || sl[len(sl)-1] != ':' {
		return s, false
	}
	local, f := field(f)
	remote, f := field(f)
	state, _ := field(f)
	var ok1, ok2 bool
	s.local, ok1 = parseHexAddrPort(local)
	s.remote, ok2 = parseHexAddrPort(remote)
	st, ok3 := hexNumber(state, 2)
	if !ok1 || !ok2 || !ok3 {
		return s, false
	}
	s.listen = st == 0x0A
	s.inode, ok1 = tcpInode(line)
	return s, ok1
}

// parseHexAddrPort parses "0100007F:08FB" (tcp) or
// "0000000000000000FFFF00000100007F:B26E" (tcp6): the kernel prints the
// address as 32-bit words in host byte order, the port in hex. A
// v4-mapped address comes back as IPv4.
func parseHexAddrPort(b []byte) (netip.AddrPort, bool) {
	var addr netip.Addr
	switch {
	case len(b) == 8+1+4 && b[8] == ':':
		var a [4]byte
		w, ok := hexNumber(b[:8], 8)
		if !ok {
			return netip.AddrPort{}, false
		}
		binary.NativeEndian.PutUint32(a[:], uint32(w))
		addr = netip.AddrFrom4(a)
	case len(b) == 32+1+4 && b[32] == ':':
		var a [16]byte
		for i := range 4 {
			w, ok := hexNumber(b[8*i:8*i+8], 8)
			if !ok {
				return netip.AddrPort{}, false
			}
			binary.NativeEndian.PutUint32(a[4*i:], uint32(w))
		}
		addr = netip.AddrFrom16(a).Unmap()
	default:
		return netip.AddrPort{}, false
	}
	port, ok := hexNumber(b[len(b)-4:], 4)
	if !ok {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(addr, uint16(port)), true
}

// hexNumber parses exactly n hex digits.
func hexNumber(b []byte, n int) (uint64, bool) {
	if len(b) != n {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint64(c)
	}
	return v, true
}
