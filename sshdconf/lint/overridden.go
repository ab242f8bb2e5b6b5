package lint

import (
	"fmt"
	"strings"

	"github.com/sshwarden/sshwarden/sshdconf"
)

func overridden() *Check {
	return &Check{
		Name:     "overridden",
		Severity: Warning,
		Doc: "A line that never takes effect because another line of the same keyword won. " +
			"For most keywords sshd keeps the first value it reads and silently ignores later lines; " +
			"Debian, Ubuntu and RHEL include sshd_config.d/*.conf at the top of sshd_config, so a " +
			"drop-in such as 50-cloud-init.conf beats the main file. Edit the line that wins, or remove " +
			"the one that does not.",
		Run: func(p *Pass) {
			global := p.Config.Global()
			dirs := p.Config.Directives()
			matchAll := matchAllLines(dirs, p.Config.Release())
			seenInBlock := map[*sshdconf.Directive]map[string]*sshdconf.Directive{}
			// Reading order, to tell whether the line that won came after
			// (the last value won) or before: which one wins is the model's
			// to say, per keyword and release.
			order := map[fileLine]int{}
			for i, d := range dirs {
				if _, ok := order[fileLine{d.Pos.File, d.Pos.Line}]; !ok {
					order[fileLine{d.Pos.File, d.Pos.Line}] = i
				}
			}
			for i, d := range dirs {
				k := d.Keyword
				if k == nil || !k.In(p.Config.Release()) || k.Printed() == "" || k.Combine == sshdconf.Accumulate {
					continue
				}
				if inBlock(d, p.Config.Release()) {
					// Inside one Match block the first line wins too.
					block := seenInBlock[d.Match]
					if block == nil {
						block = map[string]*sshdconf.Directive{}
						seenInBlock[d.Match] = block
					}
					name := k.Printed()
					if first, ok := block[name]; ok && k.Combine != sshdconf.LastWins {
						p.Report(Finding{Severity: Warning, Pos: d.Pos, Related: []sshdconf.Pos{first.Pos},
							Message: fmt.Sprintf("%s never takes effect: the same Match block set %s at %s first, and sshd keeps the first value",
								lineText(d), k.Name, short(first.Pos))})
						continue
					}
					block[name] = d
					continue
				}
				if all := matchAll[k.Printed()]; all != nil {
					p.Report(Finding{Severity: Warning, Pos: d.Pos, Related: []sshdconf.Pos{all.Pos},
						Message: fmt.Sprintf("%s never takes effect: \"Match all\" at %s sets %s for every connection (%s)",
							lineText(d), short(all.Match.Pos), k.Name, short(all.Pos))})
					continue
				}
				winners := global.Get(k.Printed())
				if len(winners) == 0 || winners[0].Pos.IsDefault() {
					continue
				}
				w := winners[0].Pos
				if w.File == d.Pos.File && w.Line == d.Pos.Line {
					continue
				}
				sev := Warning
				if v, err := p.Config.Release().Normalize(d.Name, d.Args); err == nil && v == winners[0].Value {
					sev = Info // a repeat of the value in effect: harmless
				}
				p.Report(Finding{Severity: sev, Pos: d.Pos, Related: []sshdconf.Pos{w},
					Message: overriddenMessage(p.Config, d, k, w, winners[0].Value, order[fileLine{w.File, w.Line}] > i)})
			}
		},
	}
}

// inBlock reports whether d is evaluated per connection: inside a Match
// block, including "Match all" for keywords Match allows (sshd applies
// those again for every connection, over the global value).
func inBlock(d *sshdconf.Directive, r *sshdconf.Release) bool {
	return d.Match != nil && (!d.Match.MatchAll() || d.Keyword.MatchIn(r))
}

// matchAllLines returns, per printed keyword, the first line of a "Match
// all" block that sets a keyword Match allows: it overrides the global value
// for every connection.
func matchAllLines(dirs []*sshdconf.Directive, r *sshdconf.Release) map[string]*sshdconf.Directive {
	out := map[string]*sshdconf.Directive{}
	for _, d := range dirs {
		if d.Keyword == nil || d.Match == nil || !d.Match.MatchAll() || !d.Keyword.MatchIn(r) || d.Keyword.Printed() == "" {
			continue
		}
		if _, ok := out[d.Keyword.Printed()]; !ok {
			out[d.Keyword.Printed()] = d
		}
	}
	return out
}

// overriddenMessage says why d never takes effect: the line at w won,
// read after d when later is set.
func overriddenMessage(c *sshdconf.Config, d *sshdconf.Directive, k *sshdconf.Keyword, w sshdconf.Pos, value string, later bool) string {
	why := "sshd keeps the first value it reads"
	if k.Combine == sshdconf.NoneWins && strings.EqualFold(value, "none") {
		why = "\"" + k.Name + " none\" wins over any other value"
	} else if later {
		why = "for " + k.Name + " sshd keeps the last value it reads"
	}
	msg := fmt.Sprintf("%s never takes effect: %s, and %s %s at %s wins", lineText(d), why, k.Name, value, short(w))
	if w.File != d.Pos.File {
		// Say how the winning file came first: typically the drop-in folder
		// included at the top of the main file.
		for _, inc := range c.Includes() {
			for _, f := range inc.Files {
				if f == w.File && inc.Directive.Pos.File == d.Pos.File && inc.Directive.Pos.Line < d.Pos.Line {
					msg += fmt.Sprintf(" (%s is read first: line %d includes %s)", w.File, inc.Directive.Pos.Line, inc.Pattern)
					return msg
				}
			}
		}
	}
	return msg
}

// lineText quotes a directive as written, for messages.
func lineText(d *sshdconf.Directive) string {
	return "\"" + strings.TrimSpace(d.Name+" "+strings.Join(d.Args, " ")) + "\""
}

// short formats a position as FILE:LINE.
func short(p sshdconf.Pos) string { return fmt.Sprintf("%s:%d", p.File, p.Line) }
