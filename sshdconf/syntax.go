package sshdconf

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// Pos is a position in a configuration file: the file name as sshd would
// open it, a 1-based line and a 1-based byte column (0 when unknown).
type Pos struct {
	File string
	Line int
	Col  int
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
type File struct {
	Name  string
	Lines []*Line
	// nul records that the source held a NUL byte: sshd then numbers lines
	// differently (see sshdLines), so evaluation re-reads the bytes.
	nul bool
}

// Line is one physical line. Text holds its bytes without the final '\n'
// (a CRLF line keeps its '\r'); the other fields locate its parts in Text
// the way sshd splits them.
type Line struct {
	Num     int
	Text    string
	Newline bool // Text was followed by '\n'

	// Indent is Text[:Keyword.Off]: the blanks sshd strips.
	Keyword Token   // empty for blank and comment-only lines
	Sep     string  // between keyword and first argument: blanks and at most one '='
	Args    []Token // arguments as sshd splits them (quotes removed in Value)
	// Trailing is everything after the last argument: blanks, a comment,
	// and the '\r' of a CRLF line.
	Trailing string
}

// Token is a keyword or argument: Raw is its spelling in the file (with any
// quotes), Value what sshd reads, Off its byte offset in Line.Text.
type Token struct {
	Raw   string
	Value string
	Off   int
}

// Indent returns the leading blanks of l.
func (l *Line) Indent() string { return l.Text[:l.Keyword.Off] }

// IsDirective reports whether l carries a keyword (it is not blank or a comment).
func (l *Line) IsDirective() bool { return l.Keyword.Raw != "" }

// Comment returns the trailing comment of l, from its '#', or "".
func (l *Line) Comment() string {
	t := strings.TrimRight(l.Trailing, "\r")
	if i := strings.IndexByte(t, '#'); i >= 0 {
		return t[i:]
	}
	if !l.IsDirective() {
		s := strings.TrimLeft(l.Text, " \t\r")
		if strings.HasPrefix(s, "#") {
			return strings.TrimRight(s, "\r")
		}
	}
	return ""
}

// EOL returns the line ending of l: "\r\n", "\n" or "" (last line without one).
func (l *Line) EOL() string {
	switch {
	case !l.Newline:
		return ""
	case strings.HasSuffix(l.Text, "\r"):
		return "\r\n"
	default:
		return "\n"
	}
}

// Parse builds the syntax tree of src, named name. It never fails: lines that
// sshd would refuse are kept as they are, and evaluation reports them.
func Parse(name string, src []byte) *File {
	f := &File{Name: name, nul: bytes.IndexByte(src, 0) >= 0}
	num := 0
	for len(src) > 0 {
		num++
		n := bytes.IndexByte(src, '\n')
		var text []byte
		nl := n >= 0
		if nl {
			text, src = src[:n], src[n+1:]
		} else {
			text, src = src, nil
		}
		f.Lines = append(f.Lines, scanLine(num, string(text), nl))
	}
	return f
}

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
	for _, l := range f.Lines {
		n, err := io.WriteString(w, l.Text)
		total += int64(n)
		if err != nil {
			return total, err
		}
		if l.Newline {
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
	l := &Line{Num: num, Text: text, Newline: nl}
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
	for end > i && strings.IndexByte(whitespace+"\f", t[end-1]) >= 0 {
		end--
	}
	if i == end || t[i] == '#' {
		l.Keyword = Token{Off: i}
		l.Trailing = text[i:]
		return l
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
		for k < end && strings.IndexByte(whitespace+`"=`, t[k]) < 0 {
			k++
		}
	}
	kw := t[i:k]
	l.Keyword = Token{Raw: kw, Value: unquoteKeyword(kw), Off: i}
	// Separator: blanks, at most one '=', blanks.
	s := k
	for s < end && strings.IndexByte(whitespace, t[s]) >= 0 {
		s++
	}
	if s < end && t[s] == '=' {
		s++
		for s < end && strings.IndexByte(whitespace, t[s]) >= 0 {
			s++
		}
	}
	l.Sep = t[k:s]
	// Arguments, as argv_split splits them, with their raw spans.
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
		raw := t[start:p]
		val := raw
		if vs, ok := argvSplit([]byte(raw)); ok && len(vs) == 1 {
			val = vs[0]
		}
		l.Args = append(l.Args, Token{Raw: raw, Value: val, Off: start})
	}
	last := s
	if n := len(l.Args); n > 0 {
		last = l.Args[n-1].Off + len(l.Args[n-1].Raw)
	}
	l.Trailing = text[last:]
	return l
}

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
	b.WriteString(l.Keyword.Raw)
	sep := l.Sep
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
	trail := l.Trailing
	if trail != "" && trail[0] != ' ' && trail[0] != '\t' && trail[0] != '\r' {
		trail = " " + trail
	}
	b.WriteString(trail)
	nl := l.Newline
	*l = *scanLine(l.Num, b.String(), nl)
}

// QuoteArg returns a as it must be written in sshd_config to be read back as
// a: bare when it has no blank, quote, backslash or leading '#', else in
// double quotes with \" and \\ escaped.
func QuoteArg(a string) string {
	if a != "" && !strings.ContainsAny(a, " \t\"'\\") && a[0] != '#' {
		return a
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(a) + `"`
}

// NewLine builds a directive line "Keyword arg..." with the given indent and
// line ending ("\n" or "\r\n").
func NewLine(indent, keyword string, args []string, eol string) *Line {
	var b strings.Builder
	b.WriteString(indent)
	b.WriteString(keyword)
	for _, a := range args {
		b.WriteByte(' ')
		b.WriteString(QuoteArg(a))
	}
	if eol == "\r\n" {
		b.WriteByte('\r')
	}
	return scanLine(0, b.String(), eol != "")
}

// Insert inserts lines before index i of f.Lines and renumbers the lines.
func (f *File) Insert(i int, lines ...*Line) {
	f.Lines = append(f.Lines[:i], append(lines, f.Lines[i:]...)...)
	for n, l := range f.Lines {
		l.Num = n + 1
	}
}
