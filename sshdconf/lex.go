package sshdconf

import "bytes"

// This file ports the tokenisers sshd uses on each configuration line
// (OpenSSH misc.c strdelim_internal and argv_split), byte for byte, so that
// every odd spelling sshd accepts or refuses is read the same way here.
// They work on a NUL-terminated byte buffer, as the C code does, because
// strdelim writes NULs into the line and later steps (Match, ForceCommand)
// read what is left of it.

const whitespace = " \t\r\n"

// cstr returns the C string that starts at b[i]: the bytes up to the first NUL.
func cstr(b []byte, i int) []byte {
	if i < 0 || i >= len(b) {
		return nil
	}
	if j := bytes.IndexByte(b[i:], 0); j >= 0 {
		return b[i : i+j]
	}
	return b[i:]
}

// strspn returns the length of the prefix of the C string at b[i] made of
// bytes in set.
func strspn(b []byte, i int, set string) int {
	n := 0
	for i+n < len(b) && b[i+n] != 0 && indexByte(set, b[i+n]) >= 0 {
		n++
	}
	return n
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// strdelim ports strdelim_internal(s, split_equals=1): it returns the next
// token of the C string at b[*s] and advances *s past it and the blanks (and
// one '=') after it. *s == -1 is C's NULL. ok is false where C returns NULL.
//
// It costs the length of the token, not of the rest of the line: a Match
// line is read one strdelim at a time, and 10,000 criteria on one line made
// a version that measured the rest at each call quadratic.
func strdelim(b []byte, s *int) (tok []byte, ok bool) { return strdelimInternal(b, s, true) }

// strdelimw ports strdelimw: strdelim with '=' an ordinary character.
func strdelimw(b []byte, s *int) (tok []byte, ok bool) { return strdelimInternal(b, s, false) }

func strdelimInternal(b []byte, s *int, splitEquals bool) (tok []byte, ok bool) {
	if *s < 0 {
		return nil, false
	}
	old := *s
	if old >= len(b) {
		*s = -1
		return nil, true
	}
	p := old
scan:
	for ; p < len(b); p++ {
		switch b[p] {
		case 0, ' ', '\t', '\r', '\n', '"':
			break scan
		case '=':
			if splitEquals {
				break scan
			}
		}
	}
	if p == len(b) || b[p] == 0 {
		*s = -1
		return b[old:p], true
	}
	if b[p] == '"' {
		q := p + 1
		for q < len(b) && b[q] != 0 && b[q] != '"' {
			q++
		}
		if q == len(b) || b[q] == 0 {
			// No matching quote. C's memmove(*s, *s + 1, strlen(*s)) has
			// dropped the opening quote from the rest of the string.
			copy(b[p:q], b[p+1:q])
			b[q-1] = 0
			*s = -1
			return nil, false
		}
		// C drops the opening quote by moving the whole rest of the
		// string one byte left, then ends the token at the closing quote.
		// Moving the token alone gives the same token, and the same
		// string from the new *s on: only the bytes between the token's
		// end and the new *s differ, and nothing reads them.
		copy(b[p:q-1], b[p+1:q])
		b[q-1] = 0
		*s = q + 1 + strspn(b, q+1, whitespace)
		return b[old : q-1], true
	}
	wspace := splitEquals && b[p] == '='
	b[p] = 0
	*s = p + 1 + strspn(b, p+1, whitespace)
	if splitEquals && *s < len(b) && b[*s] == '=' && !wspace {
		*s += 1 + strspn(b, *s+1, whitespace)
	}
	return b[old:p], true
}

// argvSplit ports argv_split(s, ..., terminate_on_comment=1): blanks separate
// arguments, single and double quotes group, \\ \" \' and (outside quotes)
// "\ " are escapes, and a '#' where an argument would start ends the line.
// ok is false for an unclosed quote ("invalid quotes").
func argvSplit(s []byte) (args []string, ok bool) {
	var arg []byte
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '\t' {
			continue
		}
		if s[i] == '#' {
			break
		}
		var quote byte
		arg = arg[:0]
		for ; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '\\':
				if i+1 < len(s) && (s[i+1] == '\'' || s[i+1] == '"' || s[i+1] == '\\' ||
					(quote == 0 && s[i+1] == ' ')) {
					i++
					arg = append(arg, s[i])
				} else {
					arg = append(arg, c)
				}
				continue
			case quote == 0 && (c == ' ' || c == '\t'):
			case quote == 0 && (c == '"' || c == '\''):
				quote = c
				continue
			case quote != 0 && c == quote:
				quote = 0
				continue
			default:
				arg = append(arg, c)
				continue
			}
			break // an unquoted blank ends the argument
		}
		args = append(args, string(arg))
		if i >= len(s) {
			if quote != 0 {
				return nil, false
			}
			break
		}
	}
	return args, true
}

// sshdLines ports load_server_config plus the split in
// parse_server_config_depth: each line read by getline loses its leading
// " \t\r" and is cut at its first NUL (which also drops its newline), then the
// whole buffer is split on '\n'. The result is what sshd numbers as lines.
func sshdLines(src []byte) [][]byte {
	if bytes.IndexByte(src, 0) < 0 {
		// Without a NUL no line is cut short and joined to the next: the
		// lines are src's own, less their leading blanks. They alias src,
		// which no one writes to (evaluation copies each line first).
		out := make([][]byte, 0, bytes.Count(src, []byte{'\n'})+1)
		for {
			n := bytes.IndexByte(src, '\n')
			line := src
			if n >= 0 {
				line = src[:n:n]
			}
			i := 0
			for i < len(line) && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r') {
				i++
			}
			out = append(out, line[i:])
			if n < 0 {
				return out
			}
			src = src[n+1:]
		}
	}
	return sshdLinesCopy(src)
}

// sshdLinesCopy is sshdLines the long way, for any input: a copy of the
// lines, each cut at its first NUL, then split on '\n'.
func sshdLinesCopy(src []byte) [][]byte {
	buf := make([]byte, 0, len(src))
	for len(src) > 0 {
		n := bytes.IndexByte(src, '\n')
		var line []byte
		if n < 0 {
			line, src = src, nil
		} else {
			line, src = src[:n+1], src[n+1:]
		}
		i := 0
		for i < len(line) && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r') {
			i++
		}
		line = line[i:]
		if z := bytes.IndexByte(line, 0); z >= 0 {
			line = line[:z]
		}
		buf = append(buf, line...)
	}
	return bytes.Split(buf, []byte{'\n'})
}
