package lint

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sshwarden/sshwarden/sshdconf"
)

func policy() *Check {
	return &Check{
		Name:     "policy",
		Severity: Error,
		Doc: "A value that breaks a requirement of the policy. " +
			"Every sshd_config keyword in the policy is a requirement on the effective configuration " +
			"for every connection: times and counts are upper bounds and must be above 0, other " +
			"values must match. The global value and every Match block that sets the keyword are " +
			"checked, at the line that sets the value (in the drop-in, in the Match block). A requirement " +
			"on a keyword that the release the tree is checked as refuses cannot be met there, and is " +
			"reported without a fix.",
		Run: func(p *Pass) {
			if len(p.Requirements) == 0 {
				return
			}
			global := p.Config.Global()
			dirs := p.Config.Directives()
			matchAll := matchAllLines(dirs, p.Config.Release())
			mainPos := sshdconf.Pos{File: p.Config.Main, Line: 1, Col: 1}
			for _, r := range p.Requirements {
				k := sshdconf.Lookup(r.Keyword)
				if k == nil || k.Printed() == "" {
					continue
				}
				if why := refusal(k, p.Config.Release()); why != "" {
					// No line can meet it: the release refuses the keyword.
					msg := fmt.Sprintf("%s is required by %s, and no line can meet it: %s", k.Name, short(r.Pos), why)
					if k.Name == "ChannelTimeout" || k.Name == "UnusedConnectionTimeout" {
						msg += "; close idle sessions with the sshwarden agent's IdleTimeout instead"
					}
					p.Report(Finding{Severity: Error, Pos: mainPos, Related: []sshdconf.Pos{r.Pos}, Message: msg})
					continue
				}
				// The value connections get unless a Match block overrides it
				// (a "Match all" block overrides it for all of them).
				if s := global.Get(k.Printed()); len(s) > 0 && matchAll[k.Printed()] == nil {
					if why := r.violation(k, s[0].Value); why != "" {
						if s[0].Pos.IsDefault() {
							p.Report(Finding{Severity: Error, Pos: mainPos, Related: []sshdconf.Pos{r.Pos},
								Message: fmt.Sprintf("%s is not set, and its default %s %s (required by %s); add \"%s %s\"", k.Name, s[0].Value, why, short(r.Pos), k.Name, strings.Join(r.args(), " ")),
								Edits:   insertGlobal(p.Config, k, r.args())})
						} else {
							p.Report(Finding{Severity: Error, Pos: s[0].Pos, Related: []sshdconf.Pos{r.Pos},
								Message: fmt.Sprintf("%s %s %s (required by %s)", k.Name, s[0].Value, why, short(r.Pos)),
								Edits:   setArgs(lineAt(dirs, s[0].Pos), r.args())})
						}
					}
				}
				// Each Match block that sets the keyword, at its first line
				// for it (a later line in the same block never takes effect).
				seen := map[*sshdconf.Directive]bool{}
				for _, d := range dirs {
					if d.Keyword != k && !(d.Keyword != nil && d.Keyword.Printed() == k.Printed()) {
						continue
					}
					if !inBlock(d, p.Config.Release()) || seen[d.Match] {
						continue
					}
					seen[d.Match] = true
					v, err := p.Config.Release().Normalize(d.Keyword.Name, d.Args)
					if err != nil {
						continue // sshd-refuses reports it
					}
					if why := r.violation(k, v); why != "" {
						p.Report(Finding{Severity: Error, Pos: argPos(d, 0), Related: []sshdconf.Pos{d.Match.Pos, r.Pos},
							Message: fmt.Sprintf("%s %s %s for connections that match %s (required by %s)", k.Name, v, why, matchWhat(d.Match), short(r.Pos)),
							Edits:   setArgs(d, r.args())})
					}
				}
			}
		},
	}
}

// violation says how the printed value v breaks r, or "".
func (r Requirement) violation(k *sshdconf.Keyword, v string) string {
	if r.Max > 0 {
		n, err := strconv.Atoi(v)
		if v == "none" {
			n, err = 0, nil
		}
		switch {
		case err != nil:
			return fmt.Sprintf("is not a number; the policy requires 1..%d", r.Max)
		case n <= 0:
			return fmt.Sprintf("disables it; the policy requires 1..%d", r.Max)
		case n > r.Max:
			return fmt.Sprintf("is above the policy's limit of %d", r.Max)
		}
		return ""
	}
	if v != r.Value {
		return fmt.Sprintf("is not %q as the policy requires", r.Value)
	}
	return ""
}

// want is the value fix writes for r.
func (r Requirement) want() string {
	if r.Max > 0 {
		return strconv.Itoa(r.Max)
	}
	return r.Value
}

// args are the arguments fix writes for r: the policy line's own, or the
// value sshd prints.
func (r Requirement) args() []string {
	if len(r.Args) > 0 {
		return r.Args
	}
	return strings.Fields(r.want())
}

// lineAt returns the directive at pos, or nil.
func lineAt(dirs []*sshdconf.Directive, pos sshdconf.Pos) *sshdconf.Directive {
	for _, d := range dirs {
		if d.Pos.File == pos.File && d.Pos.Line == pos.Line {
			return d
		}
	}
	return nil
}

// setArgs is the edit that rewrites the arguments of d, keeping its indent,
// keyword spelling, separator and trailing comment.
func setArgs(d *sshdconf.Directive, args []string) []Edit {
	if d == nil || d.Line == nil {
		return nil // a file with NUL bytes: sshd numbers its lines its own way
	}
	l := *d.Line
	l.SetArgs(args...)
	return []Edit{{File: d.Pos.File, Line: d.Pos.Line, Delete: 1, Insert: []string{strings.TrimSuffix(l.Text(), "\r")}}}
}

// insertGlobal is the edit that adds "Keyword args" to the global section
// of the main file, which sshd reads first: just below its commented
// default ("#ClientAliveInterval 0") when the global section has one, else
// after the last directive before the first Match, else before the first
// Match (or at the end of a file without one). It is only used when no
// global line sets the keyword, so any place in the global section takes
// effect; it is never appended at the end of a file that ends in a Match
// block, where it would belong to that block.
func insertGlobal(c *sshdconf.Config, k *sshdconf.Keyword, args []string) []Edit {
	f := c.File(c.Main)
	if f == nil {
		return nil
	}
	end := len(f.Lines())
	for i, l := range f.Lines() {
		if strings.ContainsRune(l.Text(), 0) {
			return nil
		}
		if l.IsDirective() && strings.EqualFold(l.KeywordName(), "match") {
			end = i
			break
		}
	}
	at, lastDirective := -1, -1
	for i, l := range f.Lines()[:end] {
		if l.IsDirective() {
			lastDirective = i
		} else if at < 0 && commentedDefault(l.Text(), k.Name) {
			at = i + 1
		}
	}
	switch {
	case at >= 0:
	case lastDirective >= 0:
		at = lastDirective + 1
	default:
		at = end
	}
	text := k.Name
	for _, a := range args {
		text += " " + sshdconf.QuoteArg(a)
	}
	return []Edit{{File: c.Main, Line: at + 1, Insert: []string{text}}}
}

// commentedDefault reports whether line is a commented-out setting of
// keyword, like "#ClientAliveInterval 0" or "# ClientAliveInterval 0".
func commentedDefault(line, keyword string) bool {
	t := strings.TrimLeft(line, " \t")
	if !strings.HasPrefix(t, "#") {
		return false
	}
	t = strings.TrimLeft(t[1:], " \t")
	if len(t) < len(keyword) || !strings.EqualFold(t[:len(keyword)], keyword) {
		return false
	}
	rest := t[len(keyword):]
	return rest == "" || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '=' || rest[0] == '\r'
}

// matchWhat describes which connections a Match block applies to.
func matchWhat(m *sshdconf.Directive) string {
	if m.MatchAll() {
		return fmt.Sprintf("\"Match all\" (line %d): every connection", m.Pos.Line)
	}
	return fmt.Sprintf("line %d", m.Pos.Line)
}
