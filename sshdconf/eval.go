package sshdconf

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// evaluator runs one pass of sshd over the configuration: the first pass
// (ci == nil: global values, Match blocks checked for syntax) or the second
// (a connection: only Match blocks, values copied over the globals).
type evaluator struct {
	c       *Config
	ci      *ConnSpec
	m       meter
	diags   []Diag // the first maxDiags, and the first fatal one
	stopped bool   // a fatal diagnostic was met (the second pass stops there)
	// cur is the line processLine is at, and curFatal whether a fatal
	// diagnostic was met at that line (sshd stopped there).
	cur      Pos
	curFatal bool
	// detail is the message of the last KindDetail diagnostic, which a
	// fatal one that follows it repeats.
	detail string
	// active is whether the lines read apply (activep of servconf.c): in
	// the global section of the first pass, or in a Match block that
	// matches. incFlags are the Include flags of the file being read
	// (inc_flags: cfgNeverMatch, cfgMatchOnly).
	active   bool
	incFlags int
	// pre87: the release reads lines as sshd before 8.7 did (see
	// processLine), worked out once.
	pre87 bool
}

func newEvaluator(c *Config, ci *ConnSpec) *evaluator {
	return &evaluator{c: c, ci: ci, m: meter{opt: &c.opt}, pre87: c.rel.Before("8.7")}
}

const maxIncludeDepth = 16 // SERVCONF_MAX_DEPTH

// firstPass runs sshd's first pass. It fails when the budget runs out
// before sshd would stop; when sshd would have stopped before (a fatal
// diagnostic), the configuration is kept, refused, with what was read.
func (c *Config) firstPass() error {
	e := newEvaluator(c, nil)
	o := newOptions()
	e.active = true
	e.parseDepth(o, c.Main, 0, 0, Pos{})
	c.work = e.m
	if e.m.over != nil {
		if !slices.ContainsFunc(e.diags, func(d Diag) bool { return d.Severity == SevFatal }) {
			return e.m.over
		}
		c.over = e.m.over
	}
	e.processQueuedListens(o)
	if c.rel.Before("8.7") {
		challengeResponse(o)
	}
	if msg := c.fillDefaults(o); msg != "" {
		e.add(Diag{Kind: KindBadValue, Severity: SevFatal, Msg: msg, SSHD: msg})
	}
	e.checkSensible(o)
	c.global = o
	c.diags = e.diags
	for i := range e.diags {
		if e.diags[i].Severity == SevFatal {
			d := e.diags[i]
			c.fatal = &d
			break
		}
	}
	return nil
}

// maxDiags is how many diagnostics a pass keeps, and the first fatal one
// when it comes later: a file of 200,000 bad lines has 200,000 problems,
// and the first thousand say as much.
const maxDiags = 1000

func (e *evaluator) add(d Diag) {
	if e.keeps(d.Severity) {
		e.diags = append(e.diags, d)
	}
	e.met(d.Severity, d.Pos)
}

// keeps reports whether a diagnostic of severity sev is kept (see
// maxDiags); one that is not need not be formatted, only met.
func (e *evaluator) keeps(sev Severity) bool {
	return len(e.diags) < maxDiags || sev == SevFatal && !e.stopped
}

// met records what a diagnostic of severity sev at pos changes, kept or not.
func (e *evaluator) met(sev Severity, pos Pos) {
	if sev != SevFatal {
		return
	}
	if pos.File == e.cur.File && pos.Line == e.cur.Line {
		e.curFatal = true
	}
	e.stopped = true
}

// parseDepth ports parse_server_config_depth: it reads file name with the
// Include flags flags.
func (e *evaluator) parseDepth(o *options, name string, flags int, depth int, from Pos) {
	if !e.m.include(name, from) {
		return
	}
	if depth > maxIncludeDepth {
		e.add(Diag{Pos: from, Kind: KindInclude, Severity: SevFatal,
			Msg:  fmt.Sprintf("includes nest more than %d levels deep", maxIncludeDepth),
			SSHD: "Too many recursive configuration includes"})
		return
	}
	src := e.c.read(name)
	if src.err != nil {
		d := *src.err
		if !from.IsDefault() {
			d.Pos = from
			d.Msg = fmt.Sprintf("included file %s: %s", name, strings.TrimPrefix(d.Msg, "cannot read: "))
		}
		e.add(d)
		return
	}
	if !e.m.read(name, src.size, from) {
		return
	}
	outerFlags := e.incFlags
	e.incFlags = flags
	defer func() { e.incFlags = outerFlags }()
	msgFile := name
	if e.ci != nil && depth == 0 {
		msgFile = "reprocess config" // parse_server_match_config's name for it
	}
	bad := 0
	for i, raw := range src.lines {
		if e.ci != nil && e.stopped {
			return
		}
		if !e.m.line(name, i+1) {
			return
		}
		if len(raw) == 0 || raw[0] == '#' {
			// Blank or comment (sshdLines stripped the leading blanks):
			// processLine would find no keyword. Most lines of a stock file.
			continue
		}
		var syn *Line
		if !src.file.nul && i < len(src.file.lines) {
			syn = src.file.lines[i]
		}
		buf := make([]byte, len(raw)+1)
		copy(buf, raw)
		pos := Pos{File: name, Line: i + 1}
		if syn != nil && syn.IsDirective() {
			pos.Col = int(syn.kwOff) + 1
		}
		if !e.processLine(o, buf, pos, msgFile, syn, depth) {
			bad++
		}
	}
	if bad > 0 {
		e.add(Diag{Pos: Pos{File: name}, Kind: KindTerminating, Severity: SevFatal,
			Msg:  fmt.Sprintf("%d bad configuration options", bad),
			SSHD: fmt.Sprintf("%s: terminating, %d bad configuration options", msgFile, bad)})
		return
	}
	if depth > 0 && e.ci == nil && e.c.rel.Before("8.4") {
		// 8.2 and 8.3 run process_queued_listen_addrs at the end of every
		// file: an included file read before any Port line adds port 22
		// (and fixes AddressFamily to any), and later Port lines add to
		// it (measured on 8.2p1).
		if len(o.ports) == 0 {
			o.ports = []ival{{v: 22}}
		}
		if o.addressFamily.v == -1 {
			o.addressFamily = ival{v: 0}
		}
	}
}

// lineCtx carries what the messages of one line need.
type lineCtx struct {
	pos Pos
	syn *Line
	kw  string
	// file is the name sshd's messages use: the file's own, except for the
	// main file in the second pass, which sshd re-reads as "reprocess config".
	file string
}

func (l lineCtx) at(arg int) Pos {
	p := l.pos
	if l.syn == nil {
		return p
	}
	switch {
	case arg < 0:
		p.Col = int(l.syn.kwOff) + 1
	case arg < len(l.syn.args):
		p.Col = l.syn.args[arg].Off + 1
	case len(l.syn.args) > 0:
		last := l.syn.args[len(l.syn.args)-1]
		p.Col = last.Off + 1
	default:
		p.Col = int(l.syn.kwOff) + 1
	}
	return p
}

func (e *evaluator) fatalf(l lineCtx, arg int, kind DiagKind, msg string, sshd string) {
	e.add(Diag{Pos: l.at(arg), Kind: kind, Severity: SevFatal, Msg: msg, SSHD: sshd})
}

// fatalLine reports a fatal "FILE line N: TEXT" message.
func (e *evaluator) fatalLine(l lineCtx, arg int, kind DiagKind, text string) {
	if !e.keeps(SevFatal) {
		e.met(SevFatal, l.pos)
		return
	}
	e.fatalf(l, arg, kind, strings.TrimSuffix(text, "."), fmt.Sprintf("%s line %d: %s", l.file, l.pos.Line, text))
}

func (e *evaluator) errorLine(l lineCtx, arg int, kind DiagKind, text string) {
	if !e.keeps(SevError) {
		return
	}
	e.add(Diag{Pos: l.at(arg), Kind: kind, Severity: SevError, Msg: strings.TrimSuffix(text, "."),
		SSHD: fmt.Sprintf("%s line %d: %s", l.file, l.pos.Line, text)})
}

// multistate tables of servconf.c.
type state struct {
	key string
	val int
}

var (
	msFlag        = []state{{"yes", 1}, {"no", 0}}
	msIgnoreRhost = []state{{"yes", 1}, {"no", 0}, {"shosts-only", 2}}
	msAddrFamily  = []state{{"inet", 2}, {"inet6", 10}, {"any", 0}}
	msRootLogin   = []state{{"without-password", 3}, {"prohibit-password", 3}, {"forced-commands-only", 1}, {"yes", 5}, {"no", 2}}
	msCompression = []state{{"yes", 2}, {"delayed", 2}, {"no", 0}}
	msGatewayPort = []state{{"clientspecified", 2}, {"yes", 1}, {"no", 0}}
	msTCPFwd      = []state{{"yes", 3}, {"all", 3}, {"no", 0}, {"remote", 2}, {"local", 1}}
	tunModes      = []state{{"no", 0}, {"point-to-point", 1}, {"ethernet", 2}, {"yes", 0x7}}
	logFacilities = []state{{"DAEMON", 0}, {"USER", 1}, {"AUTH", 2}, {"AUTHPRIV", 3}, {"LOCAL0", 4}, {"LOCAL1", 5}, {"LOCAL2", 6}, {"LOCAL3", 7}, {"LOCAL4", 8}, {"LOCAL5", 9}, {"LOCAL6", 10}, {"LOCAL7", 11}}
	logLevels     = []state{{"SILENT", 0}, {"QUIET", 0}, {"FATAL", 1}, {"ERROR", 2}, {"INFO", 3}, {"VERBOSE", 4}, {"DEBUG", 5}, {"DEBUG1", 5}, {"DEBUG2", 6}, {"DEBUG3", 7}}
	digests       = []state{{"MD5", 0}, {"SHA1", 1}, {"SHA256", 2}, {"SHA384", 3}, {"SHA512", 4}}
)

func lookupState(t []state, s string, fold bool) int {
	for _, st := range t {
		if st.key == s || (fold && strings.EqualFold(st.key, s)) {
			return st.val
		}
	}
	return -1
}

func stateName(t []state, v int) string {
	for _, st := range t {
		if st.val == v {
			return st.key
		}
	}
	return "UNKNOWN"
}

// argv is argv_split's vector with argv_next and argv_consume.
type argv struct {
	v []string
	i int
}

func (a *argv) next() (string, bool) {
	if a.i < len(a.v) {
		a.i++
		return a.v[a.i-1], true
	}
	return "", false
}
func (a *argv) left() int { return len(a.v) - a.i }
func (a *argv) consume()  { a.i = len(a.v) }
func (a *argv) peek() (string, bool) {
	if a.i < len(a.v) {
		return a.v[a.i], true
	}
	return "", false
}

// processLine ports process_server_config_line_depth. It returns false for
// a "bad configuration option" (counted), true otherwise; fatal problems are
// recorded as diagnostics.
func (e *evaluator) processLine(o *options, line []byte, pos Pos, msgFile string, syn *Line, depth int) bool {
	// Before 8.7 load_server_config cut every line at its first '#', in a
	// value too, and arguments were read one strdelim at a time (8.7 moved
	// to argv_split: quotes of both kinds, escapes, a '#' starting a word).
	old := e.pre87
	if old {
		if i := bytes.IndexByte(line, '#'); i >= 0 {
			line = line[: i+1 : i+1]
			line[i] = 0
		}
	}
	// Strip trailing whitespace and form feeds.
	n := len(line) - 1 // line is NUL-terminated
	if n <= 0 {
		return true
	}
	for n--; n > 0; n-- {
		if indexByte(whitespace+"\f", line[n]) < 0 {
			break
		}
		line[n] = 0
	}
	str := 0
	kwb, ok := strdelim(line, &str)
	if !ok {
		return true
	}
	if len(kwb) == 0 {
		kwb, ok = strdelim(line, &str)
	}
	if !ok || len(kwb) == 0 || kwb[0] == '#' {
		return true
	}
	keyword := string(kwb)
	l := lineCtx{pos: pos, syn: syn, kw: keyword, file: msgFile}
	if !old && (str < 0 || line[str] == 0) {
		e.errorLine(l, -1, KindSyntax, fmt.Sprintf("no argument after keyword \"%s\"", keyword))
		return false
	}
	kw := Lookup(keyword)
	op, flags := sBadOption, 0
	if kw != nil && !kw.In(e.c.rel) {
		kw = nil // a keyword of a later OpenSSH
	}
	if kw != nil {
		op, flags = kw.opIn(e.c.rel), kw.flagsIn(e.c.rel)
	} else if e.keeps(SevError) {
		e.add(Diag{Pos: l.at(-1), Kind: KindBadOption, Severity: SevError,
			Msg:  fmt.Sprintf("unknown keyword %q", keyword),
			SSHD: fmt.Sprintf("%s: line %d: Bad configuration option: %s", l.file, pos.Line, keyword)})
	}
	var vals []string
	if old {
		vals = strdelimAll(line, str)
	} else {
		rest := cstr(line, str)
		vals, ok = argvSplit(rest)
		if !ok {
			e.errorLine(l, 0, KindSyntax, "invalid quotes")
			return false
		}
	}
	if !e.active && flags&cfgMatch == 0 {
		if e.ci == nil {
			name := keyword
			if kw != nil {
				name = kw.Name
			}
			e.fatalf(l, -1, KindNotInMatch, fmt.Sprintf("%s is not allowed inside a Match block", name),
				fmt.Sprintf("%s line %d: Directive '%s' is not allowed within a Match block", l.file, pos.Line, keyword))
		}
		return true // the second pass skips what the first processed
	}
	if op == sBadOption {
		return false
	}
	outer, outerFatal := e.cur, e.curFatal
	e.cur, e.curFatal = pos, false
	d := dirLine{e: e, l: l, av: argv{v: vals}, str: str, depth: depth}
	ok = d.directive(op, o, line)
	here := e.curFatal
	// A file that includes itself has lines at this line's position.
	e.cur, e.curFatal = outer, outerFatal || here && outer.File == pos.File && outer.Line == pos.Line
	if !ok {
		return false
	}
	if here {
		return true // sshd stopped at this line
	}
	if old {
		if arg, ok := d.av.peek(); ok && arg != "" {
			e.fatalLine(l, d.av.i, KindSyntax, fmt.Sprintf("garbage at end of line; \"%.200s\".", arg))
		}
		return true
	}
	if d.av.left() > 0 {
		e.errorLine(l, d.av.i, KindSyntax, fmt.Sprintf("keyword %s extra arguments at end of line", keyword))
		return false
	}
	return true
}

// strdelimAll returns the arguments sshd before 8.7 reads from the C
// string line[str:] by calling strdelim until it returns NULL (an
// unclosed quote ends them) or an empty string at the end of the line.
func strdelimAll(line []byte, str int) []string {
	if str < 0 {
		return nil
	}
	b := append([]byte(nil), line...) // strdelim writes into its line
	var vals []string
	for {
		// After a quoted word at the end of the line strdelim returns
		// "", not NULL: the next word of IPQoS "cs1" is "" (and bad).
		tok, ok := strdelim(b, &str)
		if !ok {
			return vals
		}
		vals = append(vals, string(tok))
		if str < 0 {
			return vals
		}
	}
}

// challengeResponse ports what releases before 8.7 do with
// ChallengeResponseAuthentication, then a keyword of its own (global only,
// default yes): sshd.c sets KbdInteractiveAuthentication (default no then)
// when it is on. Match blocks may still set KbdInteractiveAuthentication.
func challengeResponse(o *options) {
	switch cr := o.challengeResponse; {
	case cr.v != 0:
		o.kbdInteractiveAuthentication = ival{1, cr.pos}
	case o.kbdInteractiveAuthentication.v == -1:
		o.kbdInteractiveAuthentication = ival{0, Pos{}}
	}
}
