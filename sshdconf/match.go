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

// parseAddr reads a numeric address as getaddrinfo(AI_NUMERICHOST) does
// (IPv4 the way inet_aton does: 1 to 4 parts, decimal, octal or hex), an
// IPv6 %zone accepted unchecked and dropped. Address lists read zones as
// sshd does: see addrRules.pton.
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

// ConnSpec is the connection a configuration is evaluated for: the fields
// of `sshd -T -C user=U,host=H,addr=A,laddr=L,lport=P,rdomain=R`. A field
// left empty makes the Match criteria that need it fail, as in sshd's test
// mode, except LocalPort, which sshd then refuses. A spec parsed with an
// empty user=, host= or rdomain= gives that field as "", which "*" matches,
// as sshd does.
type ConnSpec struct {
	User    string // user=: the user logging in
	Host    string // host=: the client's host name
	Addr    string // addr=: the client's address
	LAddr   string // laddr=: the address the connection came in on
	LPort   int    // lport=: the port it came in on; 0: not given
	RDomain string // rdomain=: the routing domain

	// empty holds the fields a parsed spec gave empty ("user=,host="):
	// sshd then matches "" against the patterns (Match User * applies),
	// where a field not given makes its criterion fail.
	empty specFields
	// InvalidUser is the "invalid-user" flag of 9.9 on: the user does not
	// exist (Match Invalid-User).
	InvalidUser bool
}

// specFields is a set of ConnSpec fields.
type specFields uint8

const (
	specUser specFields = 1 << iota
	specHost
	specRDomain
)

// given says whether the field f, whose value is v, was given.
func (c *ConnSpec) given(v string, f specFields) bool { return v != "" || c.empty&f != 0 }

// ParseConnSpec parses the argument of sshd's -C flag with sshd's rules
// (parse_server_match_testspec): comma-separated key=value, parsing stops at
// an empty element. lport= takes a number only: sshd also takes a TCP
// service name ("lport=ssh"), which [ParseConnSpecWith] resolves. An error
// is a *[SpecError].
func ParseConnSpec(s string) (ConnSpec, error) {
	return ParseConnSpecWith(s, nil)
}

// ParseConnSpecWith is [ParseConnSpec] with the services database that sshd's
// a2port reads for lport= (getservbyname(name, "tcp"), the same in every
// release from 8.0 to 10.6): pass the [LoadOptions.Services] of the
// configuration the spec is for, such as [ServicesFile]; nil takes numbers
// only.
func ParseConnSpecWith(s string, services func(name string) (int, bool)) (ConnSpec, error) {
	var c ConnSpec
	for _, p := range strings.Split(s, ",") {
		if p == "" {
			break
		}
		switch {
		case strings.HasPrefix(p, "addr="):
			c.Addr = p[5:]
		case p == "host=":
			c.Host, c.empty = "", c.empty|specHost
		case strings.HasPrefix(p, "host="):
			c.Host, c.empty = p[5:], c.empty&^specHost
		case p == "user=":
			c.User, c.empty = "", c.empty|specUser
		case strings.HasPrefix(p, "user="):
			c.User, c.empty = p[5:], c.empty&^specUser
		case strings.HasPrefix(p, "laddr="):
			c.LAddr = p[6:]
		case p == "rdomain=":
			c.RDomain, c.empty = "", c.empty|specRDomain
		case strings.HasPrefix(p, "rdomain="):
			c.RDomain, c.empty = p[8:], c.empty&^specRDomain
		case p == "invalid-user":
			c.InvalidUser = true
		case strings.HasPrefix(p, "lport="):
			c.LPort = a2port(p[6:], services)
			if c.LPort == -1 {
				return c, &SpecError{
					Msg:  fmt.Sprintf("invalid port '%s' in test mode specification %s", p[6:], p),
					SSHD: fmt.Sprintf("Invalid port '%s' in test mode specification %s", p[6:], p),
				}
			}
		default:
			return c, &SpecError{
				Msg:  "invalid test mode specification " + p,
				SSHD: "Invalid test mode specification " + p,
			}
		}
	}
	return c, nil
}

// SpecError is a connection spec that sshd -C refuses: sshd prints SSHD
// and exits 1, before it reads the configuration.
type SpecError struct {
	Msg  string // what is wrong, for a Go error
	SSHD string // sshd's message, word for word
}

func (e *SpecError) Error() string { return e.Msg }

// String formats c as sshd's -C argument.
func (c ConnSpec) String() string {
	var parts []string
	add := func(k, v string, f specFields) {
		if v != "" || c.empty&f != 0 {
			parts = append(parts, k+"="+v)
		}
	}
	add("user", c.User, specUser)
	add("host", c.Host, specHost)
	add("addr", c.Addr, 0)
	add("laddr", c.LAddr, 0)
	if c.LPort != 0 {
		parts = append(parts, fmt.Sprintf("lport=%d", c.LPort))
	}
	add("rdomain", c.RDomain, specRDomain)
	if c.InvalidUser {
		parts = append(parts, "invalid-user")
	}
	return strings.Join(parts, ",")
}
