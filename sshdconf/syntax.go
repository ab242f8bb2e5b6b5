package sshdconf

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// Pos is a position in a configuration file: the file name as sshd would
// open it, a 1-based line and a 1-based byte column (0 when unknown).
type Pos struct {
	File string // as sshd names it
	Line int    // 1-based
	Col  int    // 1-based byte column; 0 when unknown
}

// String formats p as FILE:LINE:COL, FILE:LINE, or "default" for the zero Pos.
func (p Pos) String() string {
	switch {
	case p.File == "" && p.Line == 0:
		return "default"
	case p.Col > 0:
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	default:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
}

// IsDefault reports whether p is the zero Pos, which stands for a built-in
// default rather than a line of a file.
func (p Pos) IsDefault() bool { return p == Pos{} }

// File is the lossless syntax tree of one configuration file: one Line per
// physical line, each keeping its bytes. Printing an unedited File gives back
// its input byte for byte, whatever the input.
//
// The tree is read through methods, so that a caller cannot put a line out
// of step with the offsets that locate its parts; [Line.SetArgs] is the one
// edit, and it re-renders its line.
type File struct {
	// Name is the file's name as sshd would open it.
	Name  string
	lines []*Line
	// Info is what the file system said of the file as Load read it (its
	// owner is in Info.Sys() when that is a *syscall.Stat_t), nil for a
	// file parsed from bytes.
	Info fs.FileInfo
	// nul records that the source held a NUL byte: sshd then numbers lines
	// differently (see sshdLines), so evaluation re-reads the bytes.
	nul bool
}

// Line is one physical line: its text, and its parts located in the text
// the way sshd splits them (indent, keyword, separator, arguments, trailing
// text). Its fields are unexported so that they stay in step; the methods
// read them.
type Line struct {
	text    string
	args    []Token // arguments as sshd splits them
	num     int32
	newline bool // text was followed by '\n'

	kwOff, kwEnd, sepEnd, trailOff int32
}

// Text returns the bytes of l without the final '\n' (a CRLF line keeps
// its '\r').
func (l *Line) Text() string { return l.text }

// Num returns the 1-based number of l in its file.
func (l *Line) Num() int { return int(l.num) }

// Newline reports whether l ends with '\n' (only the last line of a file
// may not).
func (l *Line) Newline() bool { return l.newline }

// Args returns the arguments of l as sshd splits them (a copy: the
// caller may change it).
func (l *Line) Args() []Token { return append([]Token(nil), l.args...) }

// Token is a keyword or argument of a Line, a value: Raw is its spelling
// in the file (with any quotes), Off its byte offset in [Line.Text].
type Token struct {
	Raw string // as written, with any quotes
	Off int    // byte offset in the line's text
}

// Value returns what sshd reads for the token: quotes removed and escapes
// applied, as argv_split does.
func (t Token) Value() string {
	if !strings.ContainsAny(t.Raw, `"'\`) {
		return t.Raw
	}
	if vs, ok := argvSplit([]byte(t.Raw)); ok && len(vs) == 1 {
		return vs[0]
	}
	return t.Raw
}

// Keyword returns the keyword token of l (empty for blank and comment lines).
// Its Value drops surrounding double quotes, as sshd's strdelim does.
func (l *Line) Keyword() Token { return Token{Raw: l.text[l.kwOff:l.kwEnd], Off: int(l.kwOff)} }

// KeywordName returns the keyword as sshd reads it (quotes removed).
func (l *Line) KeywordName() string { return unquoteKeyword(l.text[l.kwOff:l.kwEnd]) }

// Indent returns the leading blanks of l.
func (l *Line) Indent() string { return l.text[:l.kwOff] }

// Sep returns what stands between keyword and first argument: blanks and at
// most one '='.
func (l *Line) Sep() string { return l.text[l.kwEnd:l.sepEnd] }

// Trailing returns everything after the last argument: blanks, a comment,
// and the '\r' of a CRLF line.
func (l *Line) Trailing() string { return l.text[l.trailOff:] }

// IsDirective reports whether l carries a keyword (it is not blank or a comment).
func (l *Line) IsDirective() bool { return l.kwEnd > l.kwOff }

// Comment returns the trailing comment of l, from its '#', or "".
func (l *Line) Comment() string {
	t := strings.TrimRight(l.Trailing(), "\r")
	if i := strings.IndexByte(t, '#'); i >= 0 {
		return t[i:]
	}
	return ""
}

// EOL returns the line ending of l: "\r\n", "\n" or "" (last line without one).
func (l *Line) EOL() string {
	switch {
	case !l.newline:
		return ""
	case strings.HasSuffix(l.text, "\r"):
		return "\r\n"
	default:
		return "\n"
	}
}

// Parse builds the syntax tree of src, named name. It never fails: lines that
// sshd would refuse are kept as they are, and evaluation reports them.
func Parse(name string, src []byte) *File {
	text := string(src) // one copy; every line and token is a slice of it
	n := strings.Count(text, "\n") + 1
	f := &File{Name: name, nul: strings.IndexByte(text, 0) >= 0, lines: make([]*Line, 0, n)}
	slab := make([]Line, n)
	toks := make([]Token, 0, n+n/2)
	num := 0
	for len(text) > 0 {
		num++
		i := strings.IndexByte(text, '\n')
		var line string
		nl := i >= 0
		if nl {
			line, text = text[:i], text[i+1:]
		} else {
			line, text = text, ""
		}
		l := &slab[num-1]
		toks = scanLineInto(l, num, line, nl, toks)
		f.lines = append(f.lines, l)
	}
	return f
}

// Lines returns the lines of f in order (a copy of the list: the lines
// themselves are f's).
func (f *File) Lines() []*Line { return append([]*Line(nil), f.lines...) }

// Line returns line num (1-based) of f, or nil when f has no such line.
func (f *File) Line(num int) *Line {
	if num < 1 || num > len(f.lines) {
		return nil
	}
	return f.lines[num-1]
}

// NumLines returns how many lines f has.
func (f *File) NumLines() int { return len(f.lines) }

// Bytes returns the file's text: the input of Parse, with edited lines
// re-rendered.
func (f *File) Bytes() []byte {
	var b bytes.Buffer
	_, _ = f.WriteTo(&b)
	return b.Bytes()
}

// WriteTo writes the file's text to w.
func (f *File) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for _, l := range f.lines {
		n, err := io.WriteString(w, l.text)
		total += int64(n)
		if err != nil {
			return total, err
		}
		if l.newline {
			n, err = io.WriteString(w, "\n")
			total += int64(n)
			if err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// scanLine splits one physical line into indent, keyword, separator,
// arguments and trailing text, mirroring how sshd tokenises it. It only
// locates parts; semantics come from the ported tokenisers in lex.go.
func scanLine(num int, text string, nl bool) *Line {
	l := &Line{}
	scanLineInto(l, num, text, nl, nil)
	return l
}

// scanLineInto fills l; argument tokens are appended to slab (and l.Args
// slices it), which is returned for the next line to share.
func scanLineInto(l *Line, num int, text string, nl bool, slab []Token) []Token {
	l.num, l.text, l.newline, l.args = int32(num), text, nl, nil
	t := text
	if z := strings.IndexByte(t, 0); z >= 0 {
		t = t[:z] // sshd stops reading the line at a NUL
	}
	i := 0
	for i < len(t) && (t[i] == ' ' || t[i] == '\t' || t[i] == '\r') {
		i++
	}
	// sshd strips trailing whitespace and form feeds before tokenising.
	end := len(t)
	for end > i && isTrailingSpace(t[end-1]) {
		end--
	}
	if i == end || t[i] == '#' {
		l.kwOff, l.kwEnd, l.sepEnd, l.trailOff = int32(i), int32(i), int32(i), int32(i)
		return slab
	}
	// Keyword: a quoted string, or up to a blank, quote or '='.
	k := i
	if t[k] == '"' {
		if q := strings.IndexByte(t[k+1:end], '"'); q >= 0 {
			k += q + 2
		} else {
			k = end
		}
	} else {
		for k < end && !isKeywordEnd(t[k]) {
			k++
		}
	}
	l.kwOff, l.kwEnd = int32(i), int32(k)
	// Separator: blanks, at most one '=', blanks.
	s := k
	for s < end && isBlank(t[s]) {
		s++
	}
	if s < end && t[s] == '=' {
		s++
		for s < end && isBlank(t[s]) {
			s++
		}
	}
	l.sepEnd = int32(s)
	// Arguments, as argv_split splits them, with their raw spans.
	first := len(slab)
	p := s
	for p < end {
		for p < end && (t[p] == ' ' || t[p] == '\t') {
			p++
		}
		if p >= end || t[p] == '#' {
			break
		}
		start := p
		var quote byte
		for p < end {
			c := t[p]
			if c == '\\' && p+1 < end {
				p += 2
				continue
			}
			if quote == 0 && (c == ' ' || c == '\t') {
				break
			}
			if quote == 0 && (c == '"' || c == '\'') {
				quote = c
			} else if quote != 0 && c == quote {
				quote = 0
			}
			p++
		}
		slab = append(slab, Token{Raw: t[start:p], Off: start})
	}
	if len(slab) > first {
		l.args = slab[first:len(slab):len(slab)]
	}
	last := s
	if n := len(l.args); n > 0 {
		last = l.args[n-1].Off + len(l.args[n-1].Raw)
	}
	l.trailOff = int32(last)
	return slab
}

func isBlank(c byte) bool         { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
func isTrailingSpace(c byte) bool { return isBlank(c) || c == '\f' }
func isKeywordEnd(c byte) bool    { return isBlank(c) || c == '"' || c == '=' }

func unquoteKeyword(kw string) string {
	if len(kw) >= 2 && kw[0] == '"' && kw[len(kw)-1] == '"' {
		return kw[1 : len(kw)-1]
	}
	return kw
}

// SetArgs replaces the arguments of directive line l with args, keeping its
// indent, keyword spelling, separator, trailing comment and line end. Only
// this line is re-rendered.
func (l *Line) SetArgs(args ...string) {
	var b strings.Builder
	b.WriteString(l.Indent())
	b.WriteString(l.Keyword().Raw)
	sep := l.Sep()
	if sep == "" {
		sep = " "
	}
	b.WriteString(sep)
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(QuoteArg(a))
	}
	trail := l.Trailing()
	if trail != "" && trail[0] != ' ' && trail[0] != '\t' && trail[0] != '\r' {
		trail = " " + trail
	}
	b.WriteString(trail)
	scanLineInto(l, int(l.num), b.String(), l.newline, nil)
}

// QuoteArg returns a as it must be written in sshd_config to be read back as
// a: bare when it has no blank, quote, backslash, control character or
// leading '#' or '=', else in double quotes with \" and \\ escaped.
func QuoteArg(a string) string {
	if a != "" && !strings.ContainsAny(a, " \t\r\f\v\"'\\") && a[0] != '#' && a[0] != '=' {
		return a
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(a) + `"`
}
