package lint

import (
	"fmt"
	"strconv"

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
			"checked, at the line that sets the value (in the drop-in, in the Match block).",
		Run: func(p *Pass) {
			if len(p.Requirements) == 0 {
				return
			}
			global := p.Config.Global()
			dirs := p.Config.Directives()
			matchAll := matchAllLines(dirs)
			mainPos := sshdconf.Pos{File: p.Config.Main, Line: 1, Col: 1}
			for _, r := range p.Requirements {
				k := sshdconf.Lookup(r.Keyword)
				if k == nil || k.Printed() == "" {
					continue
				}
				// The value connections get unless a Match block overrides it
				// (a "Match all" block overrides it for all of them).
				if s := global.Get(k.Printed()); len(s) > 0 && matchAll[k.Printed()] == nil {
					if why := r.violation(k, s[0].Value); why != "" {
						if s[0].Pos.IsDefault() {
							p.Report(Finding{Severity: Error, Pos: mainPos, Related: []sshdconf.Pos{r.Pos},
								Message: fmt.Sprintf("%s is not set, and its default %s %s (required by %s); add \"%s %s\"", k.Name, s[0].Value, why, short(r.Pos), k.Name, r.want())})
						} else {
							p.Report(Finding{Severity: Error, Pos: s[0].Pos, Related: []sshdconf.Pos{r.Pos},
								Message: fmt.Sprintf("%s %s %s (required by %s)", k.Name, s[0].Value, why, short(r.Pos))})
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
					if !inBlock(d) || seen[d.Match] {
						continue
					}
					seen[d.Match] = true
					v, err := sshdconf.Normalize(d.Keyword.Name, d.Args)
					if err != nil {
						continue // sshd-refuses reports it
					}
					if why := r.violation(k, v); why != "" {
						p.Report(Finding{Severity: Error, Pos: argPos(d, 0), Related: []sshdconf.Pos{d.Match.Pos, r.Pos},
							Message: fmt.Sprintf("%s %s %s for connections that match %s (required by %s)", k.Name, v, why, matchWhat(d.Match), short(r.Pos))})
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

// matchWhat describes which connections a Match block applies to.
func matchWhat(m *sshdconf.Directive) string {
	if m.MatchAll() {
		return fmt.Sprintf("\"Match all\" (line %d): every connection", m.Pos.Line)
	}
	return fmt.Sprintf("line %d", m.Pos.Line)
}
