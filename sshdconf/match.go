package sshdconf

import (
	"fmt"
	"net/netip"
	"strings"
)

// Pattern matching ported from OpenSSH match.c and addrmatch.c.

// matchPattern ports match_pattern: '*' and '?' wildcards, matched in
// O(len(s)·len(pattern)) time (a failed attempt resumes at the last '*',
// as in globPattern.matchAt) where match_pattern's recursion takes time
// exponential in the number of '*'.
func matchPattern(s, pattern string) bool {
	pi, si := 0, 0
	star, starS := -1, 0
	for pi < len(pattern) || si < len(s) {
		if pi < len(pattern) {
			switch c := pattern[pi]; {
			case c == '*':
				pi++
				star, starS = pi, si
				continue
			case si < len(s) && (c == '?' || c == s[si]):
				pi, si = pi+1, si+1
				continue
			}
		}
		if star < 0 || starS >= len(s) {
			return false
		}
		starS++
		pi, si = star, starS
	}
	return true
}

// matchPatternList ports match_pattern_list: 1 on a positive match, -1 when
// a negated subpattern matches, 0 otherwise. Subpatterns of 1023 bytes or
// more make the whole list fail (0), as in sshd.
func matchPatternList(s, pattern string, lower bool) int {
	gotPositive := 0
	i := 0
	for i < len(pattern) {
		negated := false
		if pattern[i] == '!' {
			negated = true
			i++
		}
		j := i
		for j < len(pattern) && j-i < 1023 && pattern[j] != ',' {
			j++
		}
		if j-i >= 1023 {
			return 0
		}
		sub := pattern[i:j]
		if lower {
			sub = asciiLower(sub)
		}
		i = j
		if i < len(pattern) && pattern[i] == ',' {
			i++
		}
		if matchPattern(s, sub) {
			if negated {
				return -1
			}
			gotPositive = 1
		}
	}
	return gotPositive
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			b := []byte(s)
			for k := i; k < len(b); k++ {
				if b[k] >= 'A' && b[k] <= 'Z' {
					b[k] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// matchHostname ports match_hostname.
func matchHostname(host, pattern string) int {
	return matchPatternList(asciiLower(host), pattern, true)
}

// parseAddr ports addr_pton: getaddrinfo(AI_NUMERICHOST), which reads IPv4
// the way inet_aton does (1 to 4 parts, decimal, octal or hex) and IPv6 with
// an optional %scope.
func parseAddr(s string) (netip.Addr, bool) {
	if s == "" {
		return netip.Addr{}, false
	}
	if strings.IndexByte(s, ':') >= 0 {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Addr{}, false
		}
		return a.WithZone(""), true
	}
	return inetAton(s)
}

func inetAton(s string) (netip.Addr, bool) {
	var parts []uint64
	for _, f := range strings.Split(s, ".") {
		if f == "" {
			return netip.Addr{}, false
		}
		base := uint64(10)
		if len(f) > 1 && f[0] == '0' && (f[1] == 'x' || f[1] == 'X') {
			base, f = 16, f[2:]
		} else if len(f) > 1 && f[0] == '0' {
			base, f = 8, f[1:]
		}
		var v uint64
		for i := 0; i < len(f); i++ {
			d := digitVal(f[i])
			if d < 0 || uint64(d) >= base {
				return netip.Addr{}, false
			}
			v = v*base + uint64(d)
			if v > 0xffffffff {
				return netip.Addr{}, false
			}
		}
		parts = append(parts, v)
	}
	var u uint64
	switch len(parts) {
	case 1:
		u = parts[0]
	case 2:
		if parts[0] > 0xff || parts[1] > 0xffffff {
			return netip.Addr{}, false
		}
		u = parts[0]<<24 | parts[1]
	case 3:
		if parts[0] > 0xff || parts[1] > 0xff || parts[2] > 0xffff {
			return netip.Addr{}, false
		}
		u = parts[0]<<24 | parts[1]<<16 | parts[2]
	case 4:
		for _, p := range parts {
			if p > 0xff {
				return netip.Addr{}, false
			}
		}
		u = parts[0]<<24 | parts[1]<<16 | parts[2]<<8 | parts[3]
	default:
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte{byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)}), true
}

// parseCIDR ports addr_pton_cidr: 0 and a prefix, -1 when s is not an
// address (try it as a wildcard), -2 for an inconsistent mask (host bits set,
// or too long for the family).
func parseCIDR(s string) (netip.Prefix, int) {
	if len(s) >= 64 {
		return netip.Prefix{}, -1
	}
	addr, mask := s, ""
	hasMask := false
	if i := strings.IndexByte(s, '/'); i >= 0 {
		addr, mask, hasMask = s[:i], s[i+1:], true
		if mask == "" || mask[0] < '0' || mask[0] > '9' {
			return netip.Prefix{}, -1
		}
		for j := 0; j < len(mask); j++ {
			if mask[j] < '0' || mask[j] > '9' {
				return netip.Prefix{}, -1
			}
		}
	}
	a, ok := parseAddr(addr)
	if !ok {
		return netip.Prefix{}, -1
	}
	bits := a.BitLen()
	n := bits
	if hasMask {
		v, _, over := strtoll(mask, 10)
		if over || v > 128 {
			return netip.Prefix{}, -1
		}
		n = int(v)
	}
	if n > bits {
		return netip.Prefix{}, -2
	}
	p := netip.PrefixFrom(a, n)
	if p.Masked().Addr() != a {
		return netip.Prefix{}, -2
	}
	return p, 0
}

// addrMatchList ports addr_match_list. With addr "" the list is only
// checked: 0 when well formed, -2 when not. Otherwise 1 on a match, -1 on a
// negated match, 0 on none, -2 for a malformed entry.
func addrMatchList(addr string, check bool, list string) int {
	var try netip.Addr
	if !check {
		a, ok := parseAddr(addr)
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
		p, r := parseCIDR(cp)
		found := false
		switch r {
		case -2:
			return -2
		case 0:
			found = !check && try.BitLen() == p.Addr().BitLen() && p.Contains(try)
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

// ConnSpec is the connection a configuration is evaluated for: the fields
// of `sshd -T -C user=U,host=H,addr=A,laddr=L,lport=P,rdomain=R`. A field
// left empty makes the Match criteria that need it fail, as in sshd's test
// mode, except LocalPort, which sshd then refuses.
type ConnSpec struct {
	User    string // user=: the user logging in
	Host    string // host=: the client's host name
	Addr    string // addr=: the client's address
	LAddr   string // laddr=: the address the connection came in on
	LPort   int    // lport=: the port it came in on; 0: not given
	RDomain string // rdomain=: the routing domain
	// InvalidUser is the "invalid-user" flag of 9.9 on: the user does not
	// exist (Match Invalid-User).
	InvalidUser bool
}

// ParseConnSpec parses the argument of sshd's -C flag with sshd's rules
// (parse_server_match_testspec): comma-separated key=value, parsing stops at
// an empty element.
func ParseConnSpec(s string) (ConnSpec, error) {
	var c ConnSpec
	for _, p := range strings.Split(s, ",") {
		if p == "" {
			break
		}
		switch {
		case strings.HasPrefix(p, "addr="):
			c.Addr = p[5:]
		case strings.HasPrefix(p, "host="):
			c.Host = p[5:]
		case strings.HasPrefix(p, "user="):
			c.User = p[5:]
		case strings.HasPrefix(p, "laddr="):
			c.LAddr = p[6:]
		case strings.HasPrefix(p, "rdomain="):
			c.RDomain = p[8:]
		case p == "invalid-user":
			c.InvalidUser = true
		case strings.HasPrefix(p, "lport="):
			c.LPort = a2port(p[6:], nil)
			if c.LPort == -1 {
				return c, fmt.Errorf("invalid port '%s' in test mode specification %s", p[6:], p)
			}
		default:
			return c, fmt.Errorf("invalid test mode specification %s", p)
		}
	}
	return c, nil
}

// String formats c as sshd's -C argument.
func (c ConnSpec) String() string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	add("user", c.User)
	add("host", c.Host)
	add("addr", c.Addr)
	add("laddr", c.LAddr)
	if c.LPort != 0 {
		parts = append(parts, fmt.Sprintf("lport=%d", c.LPort))
	}
	add("rdomain", c.RDomain)
	if c.InvalidUser {
		parts = append(parts, "invalid-user")
	}
	return strings.Join(parts, ",")
}
