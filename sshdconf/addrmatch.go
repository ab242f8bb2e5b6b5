package sshdconf

import (
	"net"
	"net/netip"
	"strings"
)

// Address lists (Match Address, Match LocalAddress), ported from OpenSSH
// addrmatch.c and addr.c, with the IPv6 scope ids ("fe80::1%eth0") that
// sshd's getaddrinfo(AI_NUMERICHOST) reads and addr_cmp compares.

// xaddr ports struct xaddr: an address without zone, and for IPv6 the
// scope id its zone named (0: none).
type xaddr struct {
	ip    netip.Addr
	scope uint32
}

// maskSyntax is how a release's addr_pton_cidr reads the length after '/'.
type maskSyntax int

const (
	// maskStrtoul: strtoul, so blanks and a sign are accepted ("+8", "-0");
	// more than 128 makes the entry a wildcard pattern. Before 9.1.
	maskStrtoul maskSyntax = iota
	// maskDigits: the same after a leading digit ("+8" is a wildcard
	// pattern). 9.1 to 9.7 (fda1eaaec, openssh-portable PR 278).
	maskDigits
	// maskStrtonum: strtonum(0, INT_MAX) ("+8" and "-0" read again), and a
	// length the family cannot have (10.0.0.0/200) is inconsistent: sshd
	// refuses the list. From 9.8 (addr.c 1.8).
	maskStrtonum
)

func maskSyntaxOf(r *Release) maskSyntax {
	switch {
	case r.AtLeast("9.8"):
		return maskStrtonum
	case r.AtLeast("9.1"):
		return maskDigits
	}
	return maskStrtoul
}

// addrRules is how one sshd reads address lists: the network interfaces
// its zone names resolve to, and its mask syntax.
type addrRules struct {
	ifs  Interfaces // nil: numeric zones only
	mask maskSyntax
}

// addrRules returns the rules of the sshd reading the configuration.
func (e *evaluator) addrRules() addrRules {
	return addrRules{ifs: e.c.opt.Interfaces, mask: maskSyntaxOf(e.c.rel)}
}

// Interfaces are the network interfaces of the host sshd runs on, which
// IPv6 zone ids name ("fe80::1%eth0") in Match Address, Match LocalAddress,
// AllowUsers and DenyUsers (user@ADDR), ListenAddress and the addresses of
// a [ConnSpec]. A numeric zone ("%2") needs no lookup.
type Interfaces interface {
	// Index returns the index of the interface called name, as
	// if_nametoindex does, and whether there is one.
	Index(name string) (uint32, bool)
	// Name returns the name of the interface with index i, as
	// if_indextoname does (sshd -T prints fe80::1%1 as fe80::1%lo).
	Name(i uint32) (string, bool)
}

// HostInterfaces are the network interfaces of the host this runs on (of
// its network namespace): the default of [LoadOptions.Interfaces].
type HostInterfaces struct{}

// Index implements [Interfaces].
func (HostInterfaces) Index(name string) (uint32, bool) {
	ifi, err := net.InterfaceByName(name)
	if err != nil || ifi.Index <= 0 {
		return 0, false
	}
	return uint32(ifi.Index), true
}

// Name implements [Interfaces].
func (HostInterfaces) Name(i uint32) (string, bool) {
	if i == 0 || i > 1<<31-1 {
		return "", false
	}
	ifi, err := net.InterfaceByIndex(int(i))
	if err != nil {
		return "", false
	}
	return ifi.Name, true
}

// pton ports addr_pton: getaddrinfo(AI_NUMERICHOST) as glibc reads it. IPv4
// is read as inet_aton reads it, whole (no zone); IPv6 may end in %ZONE,
// which glibc's __inet6_scopeid_pton reads: an interface name for link-local
// unicast and link- or node-local multicast addresses (if_nametoindex, here
// ar.ifs), else (or when no interface has that name) a decimal number up
// to 2^32-1, whether or not an interface has that index. Anything else is
// not a numeric host: the address does not parse.
func (ar addrRules) pton(s string) (xaddr, bool) {
	if s == "" {
		return xaddr{}, false
	}
	if strings.IndexByte(s, ':') < 0 {
		a, ok := inetAton(s)
		return xaddr{ip: a}, ok
	}
	host, zone, hasZone := strings.Cut(s, "%")
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" || !a.Is6() {
		return xaddr{}, false
	}
	if !hasZone {
		return xaddr{ip: a}, true
	}
	b := a.As16()
	named := b[0] == 0xfe && b[1]&0xc0 == 0x80 || // IN6_IS_ADDR_LINKLOCAL
		b[0] == 0xff && (b[1]&0xf == 1 || b[1]&0xf == 2) // IN6_IS_ADDR_MC_NODELOCAL, _MC_LINKLOCAL
	if named && ar.ifs != nil {
		if n, ok := ar.ifs.Index(zone); ok && n != 0 {
			return xaddr{ip: a, scope: n}, true
		}
	}
	if zone == "" || zone[0] < '0' || zone[0] > '9' {
		return xaddr{}, false
	}
	var v uint64
	for i := 0; i < len(zone); i++ {
		if zone[i] < '0' || zone[i] > '9' {
			return xaddr{}, false
		}
		if v = v*10 + uint64(zone[i]-'0'); v > 0xffffffff {
			return xaddr{}, false
		}
	}
	return xaddr{ip: a, scope: uint32(v)}, true
}

// parseCIDR ports addr_pton_cidr: the network and its length, and 0; -1
// when s is not an address (try it as a wildcard), -2 for an inconsistent
// mask (host bits set, or too long for the family).
func (ar addrRules) parseCIDR(s string) (xaddr, int, int) {
	if len(s) >= 64 {
		return xaddr{}, 0, -1
	}
	addr, mask, hasMask := strings.Cut(s, "/")
	n := -1
	if hasMask {
		switch ar.mask {
		case maskStrtonum:
			v, errstr := strtonum(mask, 0, intMax)
			if errstr != "" {
				return xaddr{}, 0, -1
			}
			n = int(v)
		default:
			if mask == "" || (ar.mask == maskDigits && (mask[0] < '0' || mask[0] > '9')) {
				return xaddr{}, 0, -1
			}
			// strtoul: "-0" is 0, any other negative wraps past 128.
			v, used, over := strtoll(mask, 10)
			if used != len(mask) || over || v < 0 || v > 128 {
				return xaddr{}, 0, -1
			}
			n = int(v)
		}
	}
	a, ok := ar.pton(addr)
	if !ok {
		return xaddr{}, 0, -1
	}
	bits := a.ip.BitLen()
	if n < 0 {
		n = bits
	}
	if n > bits {
		return xaddr{}, 0, -2 // masklen_valid
	}
	if p := netip.PrefixFrom(a.ip, n); p.Masked().Addr() != a.ip {
		return xaddr{}, 0, -2 // addr_host_is_all0s
	}
	return a, n, 0
}

// netmatch ports addr_netmatch: host masked to n bits equals net, scope id
// included (addr_and keeps the host's, addr_cmp compares it).
func netmatch(host, net xaddr, n int) bool {
	return host.ip.BitLen() == net.ip.BitLen() && host.scope == net.scope &&
		netip.PrefixFrom(net.ip, n).Contains(host.ip)
}

// matchList ports addr_match_list. With check set, the list is only
// checked (addr is NULL in sshd): 0 when well formed, -2 when not.
// Otherwise 1 on a match, -1 on a negated match, 0 on none (and when addr
// does not parse: then nothing matches, not even "*"), -2 for a malformed
// entry. A CIDR entry compares the parsed addresses; any other entry is a
// wildcard pattern matched against addr as written.
func (ar addrRules) matchList(addr string, check bool, list string) int {
	var try xaddr
	if !check {
		a, ok := ar.pton(addr)
		if !ok {
			return 0
		}
		try = a
	}
	ret := 0
	for _, cp := range strings.Split(list, ",") {
		neg := strings.HasPrefix(cp, "!")
		if neg {
			cp = cp[1:]
		}
		if cp == "" {
			return -2
		}
		net, n, r := ar.parseCIDR(cp)
		found := false
		switch r {
		case -2:
			return -2
		case 0:
			found = !check && netmatch(try, net, n)
		default:
			found = !check && matchPattern(addr, cp)
		}
		if found {
			if neg {
				return -1
			}
			ret = 1
		}
	}
	return ret
}

// addrMatchList is addr_match_list as Debian 12's sshd 9.2 reads it with
// numeric zones only: for checks made without the configuration's
// release or interfaces at hand.
func addrMatchList(addr string, check bool, list string) int {
	return addrRules{mask: maskDigits}.matchList(addr, check, list)
}
