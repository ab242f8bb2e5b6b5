package sshdconf

import (
	"errors"
	"fmt"
	"strings"
)

// Effective is the configuration sshd uses for one connection: what
// `sshd -T -C ...` prints, with the line each value came from.
type Effective struct {
	// Settings are the lines of sshd -T, in its order; they belong to
	// the Effective: the caller must not change them.
	Settings []Setting

	index [][2]int32 // by printedRank: [first, end) in Settings, built on first Get
}

// Effective evaluates the configuration for the connection spec, as sshd's
// second pass does: Match blocks that match override the global values. The
// error is the diagnostic sshd would stop with (from the first pass, or a
// Match that needs a field the spec lacks).
func (c *Config) Effective(spec ConnSpec) (*Effective, error) {
	if c.fatal != nil {
		return nil, *c.fatal
	}
	e := newEvaluator(c, &spec)
	mo := newOptions()
	e.active = false
	// SSHCFG_MATCH_ONLY came in 8.4: in 8.2 and 8.3 the second pass reads
	// the files an inactive Include line names as never matching, so the
	// Match blocks of drop-ins included from the global section never
	// apply to a connection (measured on 8.2p1).
	flags := cfgMatchOnly
	if c.rel.Before("8.4") {
		flags = 0
	}
	e.parseDepth(mo, c.Main, flags, 0, Pos{})
	if e.m.over != nil {
		return nil, e.m.over // not after a first pass that read it all
	}
	for _, d := range e.diags {
		if d.Severity == SevFatal {
			return nil, d
		}
	}
	o := c.global.clone()
	if msg := copySet(o, mo, c.rel); msg != "" {
		return nil, Diag{Kind: KindBadValue, Severity: SevFatal, Msg: msg, SSHD: msg}
	}
	if c.rel.AtLeast("9.5") {
		mergeSubsystems(o, mo)
	}
	if c.rel.Before("8.5") {
		// SetEnv joined COPY_MATCH_STRING_OPTS in 8.5 (8.7p1 has it,
		// 8.4p1 not): before, a Match block's SetEnv is read and unused.
		o.setEnv = c.global.setEnv
	}
	return &Effective{Settings: dump(o, c.rel)}, nil
}

// Get returns the settings printed for keyword (lower case, as sshd -T
// prints it): several for keywords that accumulate, none when unset.
func (e *Effective) Get(keyword string) []Setting {
	if e.index == nil {
		// dump prints the lines of one keyword together: one pass records
		// where each keyword's lines start and end (end 0: none).
		e.index = make([][2]int32, len(printedRank))
		prev, r := "", -1
		for i, s := range e.Settings {
			if s.Keyword != prev {
				prev, r = s.Keyword, -1
				if k, ok := printedRank[s.Keyword]; ok {
					r = k
					e.index[r][0] = int32(i)
				}
			}
			if r >= 0 {
				e.index[r][1] = int32(i + 1)
			}
		}
	}
	r, ok := printedRank[keyword]
	if !ok {
		r, ok = printedRank[strings.ToLower(keyword)]
	}
	if !ok || e.index[r][1] == 0 {
		return nil
	}
	a, b := e.index[r][0], e.index[r][1]
	return e.Settings[a:b:b]
}

// printedRank numbers the keywords sshd -T prints (Keyword.Printed), for
// the index of Effective.Get.
var printedRank = func() map[string]int {
	m := map[string]int{}
	for i := range table {
		if p := table[i].Printed(); p != "" {
			if _, ok := m[p]; !ok {
				m[p] = len(m)
			}
		}
	}
	return m
}()

// Value returns the value printed for keyword, or "" when none is.
func (e *Effective) Value(keyword string) string {
	if s := e.Get(keyword); len(s) > 0 {
		return s[0].Value
	}
	return ""
}

// Global returns the settings of sshd's first pass: the global section,
// "Match all" blocks and defaults, each with the line that set it. These
// are the values a connection gets unless a Match block overrides them.
func (c *Config) Global() *Effective {
	if c.globalFx == nil {
		c.globalFx = &Effective{Settings: dump(c.global, c.rel)}
	}
	return c.globalFx
}

// Printed returns the keyword `sshd -T` prints for k ("" for keywords it
// does not print, such as Match, Include and deprecated ones).
func (k *Keyword) Printed() string {
	if k == nil || k.op >= sDeprecated || k.op == sMatch || k.op == sInclude || k.op == sDebianBanner {
		return ""
	}
	return opName(k.op)
}

// Normalize returns the value sshd -T prints for one line "keyword args...",
// read on its own (times in seconds, "prohibit-password" as
// "without-password", ...), or the reason sshd refuses the line, as
// [DefaultRelease] reads it.
func Normalize(keyword string, args []string) (string, error) {
	return DefaultRelease().Normalize(keyword, args)
}

// Normalize returns the value r's sshd -T prints for one line "keyword
// args...", read on its own, or the reason r's sshd refuses the line.
func (r *Release) Normalize(keyword string, args []string) (string, error) {
	k := Lookup(keyword)
	if k == nil || k.Printed() == "" {
		return "", fmt.Errorf("%s: not a keyword sshd -T prints", keyword)
	}
	var b strings.Builder
	b.WriteString(k.Name)
	for _, a := range args {
		b.WriteByte(' ')
		b.WriteString(QuoteArg(a))
	}
	// Evaluate the one line as sshd's first pass would, without a file.
	c := &Config{rel: r, alg: r.alg, opt: LoadOptions{Release: r, MaxLines: 1}}
	c.opt.setDefaults()
	e := newEvaluator(c, nil)
	o := newOptions()
	e.active = true
	line := append([]byte(b.String()), 0)
	e.processLine(o, line, Pos{File: "-", Line: 1}, "-", nil, 0)
	for _, d := range e.diags {
		if d.Severity != SevInfo {
			return "", errors.New(d.Msg)
		}
	}
	if msg := c.fillDefaults(o); msg != "" {
		return "", errors.New(msg)
	}
	if s := dumpOnly(o, r, k.Printed()); len(s) > 0 {
		return s[0].Value, nil
	}
	return "", fmt.Errorf("%s: not printed", keyword)
}

// mergeSubsystems ports what copy_set_server_options does with
// subsystems from 9.5 on, when Match allows Subsystem: the subsystems of
// the matching Match blocks replace the global list (M_CP_STRARRAYOPT of
// COPY_MATCH_STRING_OPTS), and servconf_merge_subsystems then finds
// nothing to add (measured on 9.6p1 to 10.6: global sftp and sub1, Match
// sub3 prints sub3 alone).
func mergeSubsystems(dst, src *options) {
	if len(src.subsystems) > 0 {
		dst.subsystems = src.subsystems
	}
}
