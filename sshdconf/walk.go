package sshdconf

import (
	"errors"
	"io"
	"io/fs"
	"strings"
)

// Directive is one keyword line as sshd reads it, in reading order, with the
// context it sits in: the Match block it belongs to and the Include that
// brought its file in. Directives belong to the Config that returned them:
// read them, do not change them.
type Directive struct {
	Pos     Pos      // the keyword's file, line and column
	Name    string   // the keyword as written (quotes removed)
	Keyword *Keyword // nil for an unknown keyword
	Args    []string // the arguments as sshd splits them
	Line    *Line    // the syntax line (nil in files with NUL bytes)
	// Match is the Match line whose block the directive is in, nil in the
	// global section. A file included from a Match block starts in that
	// block; a Match opened in an included file ends with that file.
	Match *Directive
	// Include is the Include line that read the directive's file, nil for
	// the main file.
	Include *Directive
}

// MatchAll reports whether d is a "Match all" line.
func (d *Directive) MatchAll() bool {
	return d != nil && len(d.Args) >= 1 && strings.EqualFold(d.Args[0], "all")
}

// Include is one pattern of an Include line and the files it matched.
type Include struct {
	Directive *Directive // the Include line
	Pattern   string     // as sshd globs it (relative ones under /etc/ssh)
	Files     []string   // in the order sshd reads them; empty when none match
}

// Directives returns every directive of the configuration in the order sshd
// reads them, following Include lines (each inclusion once more, up to
// sshd's depth of 16).
func (c *Config) Directives() []*Directive {
	c.walkOnce()
	return c.dirsList
}

// Includes returns every Include pattern in reading order.
func (c *Config) Includes() []Include {
	c.walkOnce()
	return c.incList
}

func (c *Config) walkOnce() {
	if !c.walked {
		c.dirsList, c.incList = c.walk()
		c.walked = true
	}
}

func (c *Config) walk() ([]*Directive, []Include) {
	var out []*Directive
	var incs []Include
	// The walk counts its work as the first pass does, so it reads what
	// the first pass read and stops where it stopped.
	m := meter{opt: &c.opt}
	var visit func(name string, match, include *Directive, depth int, from Pos)
	visit = func(name string, match, include *Directive, depth int, from Pos) {
		if !m.include(name, from) || depth > maxIncludeDepth {
			return
		}
		src := c.read(name)
		if src.err != nil || !m.read(name, src.size, from) {
			return
		}
		cur := match
		for i, raw := range src.lines {
			if !m.line(name, i+1) {
				return
			}
			if len(raw) == 0 || raw[0] == '#' {
				continue // blank or comment, as in parseDepth
			}
			var syn *Line
			if !src.file.nul && i < len(src.file.lines) {
				syn = src.file.lines[i]
			}
			d := parseDirective(raw, Pos{File: name, Line: i + 1}, syn)
			if d == nil {
				continue
			}
			d.Include = include
			if d.Keyword != nil && d.Keyword.op == sMatch {
				if !m.criteria((len(d.Args)+1)/2, d.Pos) {
					return
				}
				cur = d
				d.Match = nil
				out = append(out, d)
				continue
			}
			d.Match = cur
			out = append(out, d)
			if d.Keyword == nil || d.Keyword.op != sInclude {
				continue
			}
			for _, arg := range d.Args {
				if arg == "" {
					continue
				}
				pattern := arg
				if !strings.HasPrefix(arg, "/") && !strings.HasPrefix(arg, "~") {
					pattern = c.opt.SSHDir + "/" + arg
				}
				files, ok := c.glob(pattern)
				if !ok {
					m.glob(pattern, d.Pos)
					return
				}
				incs = append(incs, Include{Directive: d, Pattern: pattern, Files: files})
				for _, f := range files {
					visit(f, cur, d, depth+1, d.Pos)
					if m.over != nil {
						return
					}
				}
			}
		}
	}
	visit(c.Main, nil, nil, 0, Pos{})
	return out, incs
}

// parseDirective reads one sshd line into a Directive, or nil for blank and
// comment lines.
func parseDirective(raw []byte, pos Pos, syn *Line) *Directive {
	if syn != nil && plain(raw) {
		// The tokenisers below split such a line on blanks, nothing more:
		// take the words from the syntax line's text, without copying.
		t := syn.text
		if len(t) >= len(raw) && t[len(t)-len(raw):] == string(raw) {
			return plainDirective(t[len(t)-len(raw):], pos, syn)
		}
	}
	line := make([]byte, len(raw)+1)
	copy(line, raw)
	n := len(line) - 1
	for n--; n >= 0; n-- {
		if indexByte(whitespace+"\f", line[n]) < 0 {
			break
		}
		line[n] = 0
	}
	str := 0
	kwb, ok := strdelim(line, &str)
	if ok && len(kwb) == 0 {
		kwb, ok = strdelim(line, &str)
	}
	if !ok || len(kwb) == 0 || kwb[0] == '#' {
		return nil
	}
	d := &Directive{Pos: pos, Name: string(kwb), Keyword: Lookup(string(kwb)), Line: syn}
	if syn != nil {
		d.Pos.Col = int(syn.kwOff) + 1
	}
	if str >= 0 {
		d.Args, _ = argvSplit(cstr(line, str))
	}
	return d
}

// plain reports whether strdelim and argvSplit read line as words split on
// blanks: no quote, escape, '=', comment, CR, form feed or NUL (sshdLines
// has removed the leading blanks and the newline).
func plain(line []byte) bool {
	for _, c := range line {
		switch c {
		case '"', '\'', '\\', '=', '#', '\r', '\n', '\f', 0:
			return false
		}
	}
	return true
}

// plainDirective is parseDirective for a plain line, its words sliced from text.
func plainDirective(text string, pos Pos, syn *Line) *Directive {
	word := func() string {
		for len(text) > 0 && (text[0] == ' ' || text[0] == '\t') {
			text = text[1:]
		}
		i := 0
		for i < len(text) && text[i] != ' ' && text[i] != '\t' {
			i++
		}
		w := text[:i]
		text = text[i:]
		return w
	}
	name := word()
	if name == "" {
		return nil
	}
	d := &Directive{Pos: pos, Name: name, Keyword: Lookup(name), Line: syn}
	d.Pos.Col = int(syn.kwOff) + 1
	for w := word(); w != ""; w = word() {
		d.Args = append(d.Args, w)
	}
	return d
}

// ReadDir lists a directory of the configuration's file system (for checks
// that look at what an Include pattern skips).
func (c *Config) ReadDir(name string) ([]fs.DirEntry, error) {
	key := fsName(c.abs(name))
	if ents, ok := c.dirs[key]; ok {
		if ents == nil {
			return nil, fs.ErrNotExist
		}
		return ents, nil
	}
	ents, err := fs.ReadDir(c.fsys, key)
	if err != nil {
		c.dirs[key] = nil
		return nil, err
	}
	c.dirs[key] = ents
	return ents, nil
}

// ReadFile reads a file of the configuration's file system (for checks
// that look at files no Include reads). It reads no file larger than
// MaxFileSize, and no more than MaxBytes in all the calls on c.
func (c *Config) ReadFile(name string) ([]byte, error) {
	f, err := c.fsys.Open(fsName(c.abs(name)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	limit := min(c.opt.fileLimit(), c.opt.MaxBytes-c.extra)
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	c.extra += int64(len(b))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("more than the configuration budget allows")}
	}
	return b, nil
}
