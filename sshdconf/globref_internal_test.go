package sshdconf

import (
	"strings"
	"testing"
)

// refFnmatchAt is fnmatchAt as it was ported first: glob(3)'s recursive
// backtracking, exponential in the number of '*'. Tests compare the linear
// fnmatchAt with it on small inputs.
func refFnmatchAt(p, s string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			if p == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if refFnmatchAt(p, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			p, s = p[1:], s[1:]
		case '[':
			if s == "" {
				return false
			}
			ok, n := refBracket(p, s[0])
			if n == 0 { // no closing ']': a literal '['
				if s[0] != '[' {
					return false
				}
				p, s = p[1:], s[1:]
				continue
			}
			if !ok {
				return false
			}
			p, s = p[n:], s[1:]
		case '\\':
			if len(p) > 1 {
				p = p[1:]
			}
			fallthrough
		default:
			if s == "" || s[0] != p[0] {
				return false
			}
			p, s = p[1:], s[1:]
		}
	}
	return s == ""
}

// refBracket matches c against the bracket expression at the start of p and
// returns the result and the expression's length (0 when unterminated).
func refBracket(p string, c byte) (bool, int) {
	i := 1
	neg := false
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		neg = true
		i++
	}
	matched := false
	first := true
	for i < len(p) {
		if p[i] == ']' && !first {
			return matched != neg, i + 1
		}
		first = false
		if p[i] == '[' && i+1 < len(p) && p[i+1] == ':' {
			if end := strings.Index(p[i+2:], ":]"); end >= 0 {
				if classMatch(p[i+2:i+2+end], c) {
					matched = true
				}
				i += end + 4
				continue
			}
		}
		lo := p[i]
		if lo == '\\' && i+1 < len(p) {
			i++
			lo = p[i]
		}
		i++
		hi := lo
		if i+1 < len(p) && p[i] == '-' && p[i+1] != ']' {
			hi = p[i+1]
			if hi == '\\' && i+2 < len(p) {
				hi = p[i+2]
				i++
			}
			i += 2
		}
		if lo <= c && c <= hi {
			matched = true
		}
	}
	return false, 0
}

// refFnmatch is fnmatch with refFnmatchAt.
func refFnmatch(pattern, name string) bool {
	if strings.HasPrefix(name, ".") && !strings.HasPrefix(pattern, ".") && !strings.HasPrefix(pattern, `\.`) {
		return false
	}
	return refFnmatchAt(pattern, name)
}

// refMatchPattern is matchPattern as first ported: match_pattern's
// recursion.
func refMatchPattern(s, pattern string) bool {
	for {
		if pattern == "" {
			return s == ""
		}
		if pattern[0] == '*' {
			for pattern != "" && pattern[0] == '*' {
				pattern = pattern[1:]
			}
			if pattern == "" {
				return true
			}
			if pattern[0] != '?' && pattern[0] != '*' {
				for ; s != ""; s = s[1:] {
					if s[0] == pattern[0] && refMatchPattern(s[1:], pattern[1:]) {
						return true
					}
				}
				return false
			}
			for ; s != ""; s = s[1:] {
				if refMatchPattern(s, pattern) {
					return true
				}
			}
			return false
		}
		if s == "" {
			return false
		}
		if pattern[0] != '?' && pattern[0] != s[0] {
			return false
		}
		s, pattern = s[1:], pattern[1:]
	}
}

// TestGlobMatchesReference compares the linear matchers with the recursive
// ports they replaced, on every pattern and name built from a small
// alphabet up to a few bytes, and on hand-picked bracket expressions.
func TestGlobMatchesReference(t *testing.T) {
	t.Parallel()
	alphabet := []string{"a", "b", "*", "?", "[", "]", "!", "-", "\\", ".", ":"}
	var patterns []string
	var grow func(prefix string, n int)
	grow = func(prefix string, n int) {
		patterns = append(patterns, prefix)
		if n == 0 {
			return
		}
		for _, a := range alphabet {
			grow(prefix+a, n-1)
		}
	}
	grow("", 4)
	patterns = append(patterns, "[[:alpha:]]*", "[![:digit:]]?", "*[a-c]*.conf", "[]a]", "[!]a]*", "[a\\]]",
		"[\\a-\\c]", "[a-]", "[:]", "[::]", "[[:]", "[[:x]", "*[[:alpha:]", "a[b-]c", "[^ab]*b")
	names := []string{"", "a", "b", "ab", "ba", "aab", "abab", ".a", "[", "]", "!", "-", "\\", "a]", "[a", ".", ":", "a.conf", "x-y", "aaaaaab", "0"}
	for _, p := range patterns {
		g := compileGlob(p)
		for _, s := range names {
			if got, want := g.match(s), refFnmatch(p, s); got != want {
				t.Errorf("fnmatch(%q, %q) = %v, the recursive port says %v", p, s, got, want)
			}
			if strings.ContainsAny(p, "[]!-\\.:") {
				continue
			}
			if got, want := matchPattern(s, p), refMatchPattern(s, p); got != want {
				t.Errorf("matchPattern(%q, %q) = %v, the recursive port says %v", s, p, got, want)
			}
		}
	}
}

// FuzzGlobMatchesReference is TestGlobMatchesReference on any input: a
// pattern of at most 6 '*' (the recursive port is exponential in them)
// and a name of at most 64 bytes.
func FuzzGlobMatchesReference(f *testing.F) {
	f.Add("*a*[b-d]?", "xaycz")
	f.Add("[!]a]*\\*", "b*")
	f.Add("[[:alpha:][:digit:]]*", "a1")
	f.Fuzz(func(t *testing.T, p, s string) {
		if strings.Count(p, "*") > 6 || len(p) > 64 || len(s) > 64 {
			return
		}
		if got, want := fnmatch(p, s), refFnmatch(p, s); got != want {
			t.Fatalf("fnmatch(%q, %q) = %v, the recursive port says %v", p, s, got, want)
		}
		if got, want := matchPattern(s, p), refMatchPattern(s, p); got != want {
			t.Fatalf("matchPattern(%q, %q) = %v, the recursive port says %v", s, p, got, want)
		}
	})
}
