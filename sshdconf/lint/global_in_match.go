package lint

import (
	"fmt"
	"strings"

	"github.com/sshwarden/sshwarden/sshdconf"
)

func globalInMatch() *Check {
	return &Check{
		Name:     "global-in-match",
		Severity: Warning,
		Doc: "A line that looks global but is inside the Match block above it. " +
			"A Match block runs to the next Match line or to the end of its file, whatever the " +
			"indentation; a line appended at the end of sshd_config (as many guides and scripts do) " +
			"lands in its last Match block and applies only to connections that match it. Move the " +
			"line above the first Match, or put \"Match all\" before it.",
		Run: func(p *Pass) {
			type block struct {
				indented bool // an earlier line of the block was indented
				last     int  // line number of the block's previous line
			}
			blocks := map[*sshdconf.Directive]*block{}
			for _, d := range p.Config.Directives() {
				m := d.Match
				if m == nil || m.MatchAll() || d.Line == nil || m.Pos.File != d.Pos.File {
					continue
				}
				b := blocks[m]
				if b == nil {
					b = &block{last: m.Pos.Line}
					blocks[m] = b
				}
				indented := d.Line.Indent() != ""
				gap := hasGap(p.Config, d.Pos.File, b.last, d.Pos.Line)
				if !indented && (b.indented || gap) {
					p.Report(Finding{Severity: Warning, Pos: d.Pos, Related: []sshdconf.Pos{m.Pos},
						Message: fmt.Sprintf("%s is inside the Match block of line %d (%s), so it applies only to connections that match it; move it above the first Match, or put \"Match all\" before it",
							lineText(d), m.Pos.Line, strings.TrimSpace("Match "+strings.Join(m.Args, " ")))})
				}
				b.indented = b.indented || indented
				b.last = d.Pos.Line
			}
		},
	}
}

// hasGap reports whether lines (from, to) of file hold a blank line, the
// usual sign of a new section.
func hasGap(c *sshdconf.Config, file string, from, to int) bool {
	f := c.File(file)
	if f == nil {
		return false
	}
	for n := from + 1; n < to && n <= f.NumLines(); n++ {
		if strings.TrimSpace(f.Line(n).Text()) == "" {
			return true
		}
	}
	return false
}
