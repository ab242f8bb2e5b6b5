package sshdconf

import "strings"

// Effective is the configuration sshd uses for one connection: what
// `sshd -T -C ...` prints, with the line each value came from.
type Effective struct {
	Settings []Setting
}

// Effective evaluates the configuration for the connection spec, as sshd's
// second pass does: Match blocks that match override the global values. The
// error is the diagnostic sshd would stop with (from the first pass, or a
// Match that needs a field the spec lacks).
func (c *Config) Effective(spec ConnSpec) (*Effective, error) {
	if c.fatal != nil {
		return nil, *c.fatal
	}
	e := &evaluator{c: c, ci: &spec}
	mo := newOptions()
	active := 0
	e.parseDepth(mo, c.Main, cfgMatchOnly, &active, 0, Pos{})
	for _, d := range e.diags {
		if d.Severity == SevFatal {
			return nil, d
		}
	}
	o := c.global.clone()
	if msg := copySet(o, mo, c.alg); msg != "" {
		return nil, Diag{Kind: KindBadValue, Severity: SevFatal, Msg: msg, SSHD: msg}
	}
	return &Effective{Settings: dump(o)}, nil
}

// Get returns the settings printed for keyword (lower case, as sshd -T
// prints it): several for keywords that accumulate, none when unset.
func (e *Effective) Get(keyword string) []Setting {
	keyword = strings.ToLower(keyword)
	var out []Setting
	for _, s := range e.Settings {
		if s.Keyword == keyword {
			out = append(out, s)
		}
	}
	return out
}

// Value returns the value printed for keyword, or "" when none is.
func (e *Effective) Value(keyword string) string {
	if s := e.Get(keyword); len(s) > 0 {
		return s[0].Value
	}
	return ""
}
