package sshdconf

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// Value parsers ported from OpenSSH (misc.c, openbsd-compat) so that the
// same strings are accepted and refused, and read as the same numbers.

const intMax = math.MaxInt32

// strtoll ports strtoll(s, &ep, base) for base 10 and 0: leading blanks, a
// sign, digits. It returns the value, the number of bytes consumed (0 when no
// digits) and whether the value overflowed (then clamped).
func strtoll(s string, base int) (v int64, n int, overflow bool) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if base == 0 {
		switch {
		case i+1 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && i+2 < len(s) && isHex(s[i+2]):
			base, i = 16, i+2
		case i < len(s) && s[i] == '0':
			base = 8
		default:
			base = 10
		}
	}
	start := i
	var u uint64
	for i < len(s) {
		d := digitVal(s[i])
		if d < 0 || d >= base {
			break
		}
		if !overflow {
			u = u*uint64(base) + uint64(d)
			if u > math.MaxInt64+1 {
				overflow = true
			}
		}
		i++
	}
	if i == start {
		return 0, 0, false
	}
	if neg {
		if overflow || u > math.MaxInt64+1 {
			return math.MinInt64, i, true
		}
		return -int64(u), i, false
	}
	if overflow || u > math.MaxInt64 {
		return math.MaxInt64, i, true
	}
	return int64(u), i, false
}

func isSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }
func isHex(c byte) bool   { return digitVal(c) >= 0 && digitVal(c) < 16 }
func digitVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return -1
}

// strtonum ports OpenBSD strtonum: the whole string must be a decimal number
// within [lo, hi]. errstr is "", "invalid", "too small" or "too large".
func strtonum(s string, lo, hi int64) (int64, string) {
	v, n, over := strtoll(s, 10)
	switch {
	case n == 0 || n != len(s):
		return 0, "invalid"
	case (over && v == math.MinInt64) || v < lo:
		return 0, "too small"
	case (over && v == math.MaxInt64) || v > hi:
		return 0, "too large"
	}
	return v, ""
}

// atoiErr ports atoi_err: a non-negative int, or an error word for
// "%s integer value %s." messages.
func atoiErr(s string, present bool) (int, string) {
	if !present || s == "" {
		return 0, "missing"
	}
	v, e := strtonum(s, 0, intMax)
	return int(v), e
}

// convtime ports convtime: "N[smhdwSMHDW]" groups, summed, at most INT_MAX.
// It returns -1 for an invalid time.
func convtime(s string) int { return convtimeIn(s, DefaultRelease()) }

// convtimeIn is convtime of release r, as each release's sshd -T
// measured: 8.0 to 8.3 keep a unit for the groups that follow it ("1h30"
// is 111600 there, 3630 from 8.4) and sum in 64 bits; from 9.9 (strtonum)
// a group starts with a digit ("+30" refused, 10.2 measured); from 10.3
// (convtime_double; 10.5 measured) seconds may have decimals ("1.5" is 1)
// and only one group may be seconds ("1s1s" refused).
func convtimeIn(s string, r *Release) int {
	if r.AtLeast("10.3") {
		d := convtimeDouble(s) // then convtime's int check
		if d < 0 || d > intMax {
			return -1
		}
		return int(d)
	}
	if r.Before("8.4") {
		return convtimeSticky(s)
	}
	if s == "" {
		return -1
	}
	digitFirst := r.AtLeast("9.9")
	total := int64(0)
	p := s
	for p != "" {
		if digitFirst && (p[0] < '0' || p[0] > '9') {
			return -1
		}
		secs, n, over := strtoll(p, 10)
		if n == 0 || (over && (secs == math.MinInt64 || secs == math.MaxInt64)) || secs < 0 {
			return -1
		}
		// strtol's long is 64-bit here; values beyond INT_MAX fail below.
		p = p[n:]
		mult := int64(1)
		if p != "" {
			if mult = unitOf(p[0]); mult == 0 {
				return -1
			}
			p = p[1:]
		}
		if secs > intMax/mult {
			return -1
		}
		secs *= mult
		if total > intMax-secs {
			return -1
		}
		total += secs
	}
	return int(total)
}

// unitOf returns the seconds of a time unit letter, 0 for none.
func unitOf(c byte) int64 {
	switch c {
	case 's', 'S':
		return 1
	case 'm', 'M':
		return 60
	case 'h', 'H':
		return 3600
	case 'd', 'D':
		return 86400
	case 'w', 'W':
		return 604800
	}
	return 0
}

// convtimeSticky ports convtime of 8.0 to 8.3: the multiplier is not reset
// between groups ("5m30s" is 2100), the sums are longs, and the result is
// cut to an int.
func convtimeSticky(s string) int {
	if s == "" {
		return -1
	}
	total, mult := int64(0), int64(1)
	for p := s; p != ""; {
		secs, n, over := strtoll(p, 10)
		if n == 0 || over || secs < 0 {
			return -1
		}
		p = p[n:]
		if p != "" {
			u := unitOf(p[0])
			if u == 0 {
				return -1
			}
			if u > 1 { // 's' leaves the multiplier as it was too
				mult = u
			}
			p = p[1:]
		}
		if secs >= math.MaxInt64/mult {
			return -1
		}
		secs *= mult
		if total >= math.MaxInt64-secs {
			return -1
		}
		total += secs
	}
	return int(int32(total))
}

// a2port ports a2port: 0..65535, or a TCP service name from services.
func a2port(s string, services func(string) (int, bool)) int {
	if v, e := strtonum(s, 0, 65535); e == "" {
		return int(v)
	}
	if services != nil {
		if p, ok := services(s); ok {
			return p
		}
	}
	return -1
}

// permitopenPort ports permitopen_port: "*" is any port (0), else 1..65535.
func permitopenPort(s string, services func(string) (int, bool)) int {
	if s == "*" {
		return 0 // FWD_PERMIT_ANY_PORT
	}
	if p := a2port(s, services); p > 0 {
		return p
	}
	return -1
}

const (
	errInval = "Invalid argument"
	errRange = "Numerical result out of range"
)

// scanScaled ports scan_scaled (openbsd-compat/fmt_scaled.c): a number with
// an optional fraction and one unit of B K M G T P E (powers of 1024). On
// failure it returns strerror(errno) as sshd prints it.
func scanScaled(s string) (int64, string) {
	p := 0
	for p < len(s) && s[p] < 0x80 && isSpace(s[p]) {
		p++
	}
	sign := int64(0)
	for p < len(s) && (s[p] == '-' || s[p] == '+') {
		if sign != 0 {
			return 0, errInval
		}
		if s[p] == '-' {
			sign = -1
		} else {
			sign = 1
		}
		p++
	}
	const maxDigits = 21
	var whole, fpart int64
	ndigits, fract := 0, 0
	for ; p < len(s) && (s[p] >= '0' && s[p] <= '9' || s[p] == '.'); p++ {
		if s[p] == '.' {
			if fract > 0 {
				return 0, errInval
			}
			fract = 1
			continue
		}
		d := int64(s[p] - '0')
		if fract > 0 {
			if fract >= maxDigits-1 {
				continue
			}
			fract++
			if fpart > math.MaxInt64/10 {
				return 0, errRange
			}
			fpart *= 10
			if d > math.MaxInt64-fpart {
				return 0, errRange
			}
			fpart += d
		} else {
			ndigits++
			if ndigits >= maxDigits {
				return 0, errRange
			}
			if whole > math.MaxInt64/10 {
				return 0, errRange
			}
			whole *= 10
			if d > math.MaxInt64-whole {
				return 0, errRange
			}
			whole += d
		}
	}
	if sign != 0 {
		whole *= sign
	}
	if p >= len(s) {
		return whole, ""
	}
	const units = "BKMGTPE"
	for i := 0; i < len(units); i++ {
		if s[p] != units[i] && s[p] != units[i]+('a'-'A') {
			continue
		}
		if p+1 < len(s) && isAlnum(s[p+1]) {
			return 0, errInval
		}
		fact := int64(1) << (10 * i)
		if whole > math.MaxInt64/fact || whole < math.MinInt64/fact {
			return 0, errRange
		}
		whole *= fact
		for fpart >= math.MaxInt64/fact || fpart <= math.MinInt64/fact {
			fpart /= 10
			fract--
		}
		fpart *= fact
		for j := 0; j < fract-1; j++ {
			fpart /= 10
		}
		if sign == -1 {
			whole -= fpart
		} else {
			whole += fpart
		}
		return whole, ""
	}
	return 0, errInval
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// ipqos is misc.c's ipqos[] table, in its order (iptos2str prints the first
// name of a value: 0x04 is "le", not "reliability").
var ipqos = []struct {
	name string
	val  int
}{
	{"none", intMax},
	{"af11", 0x28}, {"af12", 0x30}, {"af13", 0x38},
	{"af21", 0x48}, {"af22", 0x50}, {"af23", 0x58},
	{"af31", 0x68}, {"af32", 0x70}, {"af33", 0x78},
	{"af41", 0x88}, {"af42", 0x90}, {"af43", 0x98},
	{"cs0", 0x00}, {"cs1", 0x20}, {"cs2", 0x40}, {"cs3", 0x60},
	{"cs4", 0x80}, {"cs5", 0xa0}, {"cs6", 0xc0}, {"cs7", 0xe0},
	{"ef", 0xb8}, {"le", 0x04},
	{"lowdelay", 0x10}, {"throughput", 0x08}, {"reliability", 0x04},
}

// parseIPQoSIn ports parse_ipqos of release r, as each release's sshd -T
// measured: "le" from 8.2; numbers in any base (strtol) up to 9.6, decimal
// only (strtonum) from 9.7 (9.9p2 refuses 0x20); lowdelay, throughput and
// reliability deprecated from 10.0 (they read as "none", the system's
// default); "va" from 10.3 (10.5 knows it, 10.2 not).
func parseIPQoSIn(s string, r *Release) int {
	switch strings.ToLower(s) {
	case "le":
		if r.Before("8.2") {
			return -1
		}
		if r.Before("8.9") {
			return dscpLEOld
		}
	case "lowdelay", "throughput", "reliability":
		if r.AtLeast("10.0") {
			return intMax
		}
	case "va":
		if r.AtLeast("10.3") {
			return 0xb0 // IPTOS_DSCP_VA
		}
		return -1
	}
	for _, q := range ipqos {
		if strings.EqualFold(s, q.name) {
			return q.val
		}
	}
	base := 0
	if r.AtLeast("9.7") {
		base = 10
	}
	v, n, _ := strtoll(s, base)
	if s == "" || n != len(s) || v < 0 || v > 255 {
		return -1
	}
	return int(v)
}

// dscpLEOld is IPTOS_DSCP_LE as defines.h gave it up to 8.7 (0x01, where
// glibc has none; 0x04 from 8.9): 8.7p1 prints "IPQoS reliability" as
// reliability and "le" as le (measured).
const dscpLEOld = 0x01

// iptos2str ports iptos2str of release r: the first name of v in its
// table ("le" was 0x01 before 8.9; "va" from 10.3; the deprecated ToS names
// are out of the table from 10.0, so 0x10 prints in hex), else "0x%02x".
func iptos2str(v int, r *Release) string {
	if v == dscpLEOld && r.AtLeast("8.2") && r.Before("8.9") {
		return "le"
	}
	if v == 0xb0 && r.AtLeast("10.3") {
		return "va"
	}
	for _, q := range ipqos {
		switch {
		case q.name == "le" && r.Before("8.9"):
			continue
		case (q.name == "lowdelay" || q.name == "throughput" || q.name == "reliability") && r.AtLeast("10.0"):
			continue
		}
		if q.val == v {
			return q.name
		}
	}
	return "0x" + leftPad(strconv.FormatInt(int64(v), 16), 2)
}

func leftPad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}

// scanfInts ports sscanf(arg, "%d:%d:%d") for up to len(out) fields: each
// %d skips blanks, reads an optionally signed decimal; a literal ':' must
// follow. It returns how many fields were assigned (-1 at end of input
// before the first). Overflowing values wrap as glibc stores them in int.
func scanfInts(s string, out []int) int {
	n := 0
	p := 0
	for i := range out {
		if i > 0 {
			if p >= len(s) || s[p] != ':' {
				return n
			}
			p++
		}
		q := p
		for q < len(s) && isSpace(s[q]) {
			q++
		}
		if q >= len(s) {
			if n == 0 {
				return -1
			}
			return n
		}
		v, k, _ := strtoll(s[q:], 10)
		if k == 0 {
			return n
		}
		out[i] = int(int32(v))
		n++
		p = q + k
	}
	return n
}

// ParseTime reads a time as sshd_config does (convtime): seconds, or
// N[smhdwSMHDW] groups such as 1h30m. ok is false for an invalid time.
func ParseTime(s string) (seconds int, ok bool) {
	v := convtime(s)
	return v, v >= 0
}

// A MatchResult is how a name or an address matches a pattern list of
// sshd_config (Match User, Match Address, AllowUsers, ...).
type MatchResult int

// Results of matching a pattern list.
const (
	// NoMatch: no pattern of the list matches.
	NoMatch MatchResult = 0
	// Matched: a pattern of the list matches, and no negated one does.
	Matched MatchResult = 1
	// Negated: a negated pattern ("!pattern") matches, which refuses the
	// name whatever else matches.
	Negated MatchResult = -1
)

// MatchPatternList matches s against a comma-separated pattern list with
// '*' and '?' wildcards and '!' negation, as sshd matches users and groups
// (match_pattern_list).
func MatchPatternList(s, patterns string) MatchResult {
	return MatchResult(matchPatternList(s, patterns, false))
}

// MatchAddressList matches an address against a comma-separated list of
// addresses, CIDR blocks and wildcard patterns with '!' negation, as sshd's
// Match Address does (addr_match_list), its zone dropped. The zero Addr
// matches nothing, and so does a malformed list, which sshd refuses: see
// [CheckAddressList].
func MatchAddressList(addr netip.Addr, list string) MatchResult {
	if !addr.IsValid() {
		return NoMatch
	}
	if r := addrMatchList(addr.WithZone("").String(), false, list); r != -2 {
		return MatchResult(r)
	}
	return NoMatch
}

// CheckAddressList returns an error when sshd would refuse list as an
// address list (an empty entry, or a CIDR block with host bits set or too
// long a prefix).
func CheckAddressList(list string) error {
	if addrMatchList("", true, list) != 0 {
		return fmt.Errorf("invalid address list %q", list)
	}
	return nil
}
