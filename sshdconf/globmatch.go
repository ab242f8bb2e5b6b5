package sshdconf

import "strings"

// GlobMatch reports whether name, one component of a path, matches
// pattern, the same component of an Include pattern, as glob(3) does it
// for sshd: a component without magic characters is the name itself
// (after removing its backslashes); one with them is matched by
// fnmatch(3) with FNM_PERIOD, so a name starting with '.' needs a
// pattern starting with '.'.
func GlobMatch(pattern, name string) bool {
	if !hasMagic(pattern) {
		return unescape(pattern) == name
	}
	return compileGlob(pattern).match(name)
}

func hasMagic(s string) bool { return strings.ContainsAny(s, `*?[\`) }

func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// globPattern is one component of an Include pattern with magic
// characters, ready to be matched against names (fnmatch(3) with
// FNM_PERIOD, in the C locale) in time proportional to the pattern's
// length times the name's, whatever the pattern: see fnmatchAt.
type globPattern struct {
	p string
	// For a pattern with '[': next[j] is where the bracket item starting
	// at j ends (a byte, an escaped byte, a range, a [:class:]), and
	// close[j] is where a bracket expression whose items go on at j ends
	// (after its ']'), -1 when it has none. They make each bracket
	// expression cost its own length, not the rest of the pattern's.
	next, close []int32
}

// compileGlob prepares the pattern component p.
func compileGlob(p string) *globPattern {
	g := &globPattern{p: p}
	if strings.IndexByte(p, '[') < 0 {
		return g
	}
	n := len(p)
	colon := make([]int32, n+2) // colon[k]: the first ":]" at or after k, -1 when none
	colon[n], colon[n+1] = -1, -1
	for k := n - 1; k >= 0; k-- {
		colon[k] = colon[k+1]
		if p[k] == ':' && k+1 < n && p[k+1] == ']' {
			colon[k] = int32(k)
		}
	}
	g.next = make([]int32, n)
	g.close = make([]int32, n+1)
	g.close[n] = -1
	for j := n - 1; j >= 0; j-- {
		g.next[j] = int32(itemEnd(p, j, colon))
		switch {
		case p[j] == ']':
			g.close[j] = int32(j + 1)
		case int(g.next[j]) >= n:
			g.close[j] = -1
		default:
			g.close[j] = g.close[g.next[j]]
		}
	}
	return g
}

// itemEnd is where the bracket item starting at j ends, as bracket reads
// items: "[:class:]" when its ":]" follows, else a byte (or "\" and a
// byte), then "-" and a high end unless the "-" is followed by ']'.
func itemEnd(p string, j int, colon []int32) int {
	if p[j] == '[' && j+1 < len(p) && p[j+1] == ':' && colon[j+2] >= 0 {
		return int(colon[j+2]) + 2
	}
	if p[j] == '\\' && j+1 < len(p) {
		j++
	}
	j++
	if j+1 < len(p) && p[j] == '-' && p[j+1] != ']' {
		if p[j+1] == '\\' && j+2 < len(p) {
			j++
		}
		j += 2
	}
	return j
}

// fnmatch ports fnmatch(pattern, name, FNM_PERIOD) for one path component.
func fnmatch(pattern, name string) bool { return compileGlob(pattern).match(name) }

// match reports whether name matches g: fnmatch(g, name, FNM_PERIOD).
func (g *globPattern) match(name string) bool {
	p := g.p
	if strings.HasPrefix(name, ".") && !strings.HasPrefix(p, ".") && !strings.HasPrefix(p, `\.`) {
		return false
	}
	return g.matchAt(name)
}

// matchAt matches s against the pattern in O(len(pattern)·len(s)) time
// and no memory. Every element of a pattern but '*' matches exactly one
// byte, so a failed attempt after a '*' resumes at that '*' with one byte
// more taken by it; an earlier '*' never needs to take more (whatever it
// would take, the later one can). glob(3)'s own fnmatch backtracks at every
// '*', in time exponential in their number: "*a*a*a...b" against a long
// name of a's ran for minutes.
func (g *globPattern) matchAt(s string) bool {
	p := g.p
	pi, si := 0, 0
	star, starS := -1, 0 // where the last '*' resumes in p, and in s
	for {
		if pi < len(p) {
			switch c := p[pi]; c {
			case '*':
				for pi < len(p) && p[pi] == '*' {
					pi++
				}
				if pi == len(p) {
					return true
				}
				star, starS = pi, si
				continue
			case '?':
				if si < len(s) {
					pi, si = pi+1, si+1
					continue
				}
			case '[':
				if si < len(s) {
					ok, n := g.bracket(pi, s[si])
					if n == 0 { // no closing ']': a literal '['
						ok, n = s[si] == '[', 1
					}
					if ok {
						pi, si = pi+n, si+1
						continue
					}
				}
			case '\\':
				q := pi
				if pi+1 < len(p) {
					q = pi + 1
				}
				if si < len(s) && s[si] == p[q] {
					pi, si = q+1, si+1
					continue
				}
			default:
				if si < len(s) && s[si] == c {
					pi, si = pi+1, si+1
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if star < 0 || starS >= len(s) {
			return false
		}
		starS++
		pi, si = star, starS
	}
}

// bracket matches c against the bracket expression at p[i] (a '[') and
// returns the result and the expression's length (0 when unterminated).
func (g *globPattern) bracket(i int, c byte) (bool, int) {
	p := g.p
	j := i + 1
	neg := false
	if j < len(p) && (p[j] == '!' || p[j] == '^') {
		neg = true
		j++
	}
	if j >= len(p) {
		return false, 0
	}
	// The first item may be a ']' (a byte, not the end).
	end := -1
	if first := int(g.next[j]); first < len(p) {
		end = int(g.close[first])
	}
	if end < 0 {
		return false, 0
	}
	matched := false
	for j < end-1 {
		next := int(g.next[j])
		if p[j] == '[' && j+1 < len(p) && p[j+1] == ':' && next-j >= 4 && p[next-2:next] == ":]" {
			if classMatch(p[j+2:next-2], c) {
				matched = true
			}
			j = next
			continue
		}
		k := j
		lo := p[k]
		if lo == '\\' && k+1 < len(p) {
			k++
			lo = p[k]
		}
		k++
		hi := lo
		if k < next {
			// a range: "-" then the high end, maybe escaped
			hi = p[next-1]
		}
		if lo <= c && c <= hi {
			matched = true
		}
		j = next
	}
	return matched != neg, end - i
}

func classMatch(class string, c byte) bool {
	switch class {
	case "alpha":
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	case "digit":
		return c >= '0' && c <= '9'
	case "alnum":
		return isAlnum(c)
	case "upper":
		return c >= 'A' && c <= 'Z'
	case "lower":
		return c >= 'a' && c <= 'z'
	case "space":
		return isSpace(c)
	case "xdigit":
		return isHex(c)
	case "punct":
		return c > ' ' && c < 0x7f && !isAlnum(c)
	case "print":
		return c >= ' ' && c < 0x7f
	case "graph":
		return c > ' ' && c < 0x7f
	case "cntrl":
		return c < ' ' || c == 0x7f
	case "blank":
		return c == ' ' || c == '\t'
	}
	return false
}
