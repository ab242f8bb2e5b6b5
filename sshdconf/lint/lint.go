// Package lint checks an sshd configuration, as sshd reads it, against the
// traps of OpenSSH and against a policy.
//
// Checks are data: each [Check] has a stable name users can disable, a doc
// string, and a Run function that reports [Finding]s through a [Pass]. A
// finding may carry text edits that fix it; `sshwarden fix` only applies
// edits. The checks live one per file in this package; [Checks] lists them.
//
// A check whose truth depends on the OpenSSH release follows the release the
// configuration was read as ([sshdconf.Config.Release]) and names it in its
// message; advice never recommends a keyword that release refuses.
package lint

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/sshwarden/sshwarden/sshdconf"
)

// Severity of a finding.
type Severity int

// Severities, in increasing order. Error means sshd would refuse the
// configuration, or a policy requirement is broken.
const (
	Info Severity = iota
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	}
	return "info"
}

// Finding is one problem at one place.
type Finding struct {
	Check    string
	Severity Severity
	Pos      sshdconf.Pos // file (sshd's name), line, column; Line 0 for a whole file
	Message  string
	// Related are other places the message refers to (the line that won, the
	// Match block a line belongs to).
	Related []sshdconf.Pos
	// Edits fix the finding, when a fix is known.
	Edits []Edit
}

// Edit replaces lines [Line, Line+Delete) of File with Insert (full lines,
// without line ends: the file's own line end is used).
type Edit struct {
	File   string
	Line   int
	Delete int
	Insert []string
}

// Check is one lint check.
type Check struct {
	Name string // stable, kebab-case; what --disable takes
	Doc  string // first sentence: a short description; the rest: help
	// Severity is the highest severity it reports (for SARIF rule metadata).
	Severity Severity
	Run      func(p *Pass)
}

// Short returns the first sentence of the check's doc.
func (c *Check) Short() string {
	if i := strings.Index(c.Doc, ". "); i >= 0 {
		return c.Doc[:i+1]
	}
	return c.Doc
}

// Pass is what a check sees: one loaded configuration and the policy's
// requirements.
type Pass struct {
	Config *sshdconf.Config
	// Requirements of the policy on sshd_config; nil with --policy none.
	Requirements []Requirement
	// Stat reports the owner uid and permission bits of a file, for the
	// permission check; nil when not known (a checked-out tree).
	Stat func(name string) (uid int, mode uint32, ok bool)

	check    *Check
	findings []Finding
}

// Report records a finding of the running check.
func (p *Pass) Report(f Finding) {
	f.Check = p.check.Name
	p.findings = append(p.findings, f)
}

// Reportf records a finding at pos.
func (p *Pass) Reportf(sev Severity, pos sshdconf.Pos, format string, args ...any) {
	p.Report(Finding{Severity: sev, Pos: pos, Message: fmt.Sprintf(format, args...)})
}

// Requirement is one sshd_config keyword the policy constrains. For times
// and counts, Max is an upper bound (and the value must be above 0); for
// other keywords the effective value must equal Value.
type Requirement struct {
	Keyword string // canonical name, as in sshdconf.Keywords
	Max     int    // for TypeTime and TypeInt keywords; 0 when Value is used
	Value   string // the required value, as sshd -T prints it
	// Args are the policy line's arguments, which fix writes (the policy's
	// own spelling, "15m" rather than 900); when empty, fix writes Max or
	// Value.
	Args []string
	Pos  sshdconf.Pos
}

// Run runs checks over one configuration and returns the findings sorted
// by file, line, column and check. disabled names checks to skip.
func Run(p *Pass, checks []*Check, disabled map[string]bool) []Finding {
	for _, c := range checks {
		if disabled[c.Name] {
			continue
		}
		p.check = c
		c.Run(p)
	}
	p.check = nil
	out := p.findings
	p.findings = nil
	Sort(out)
	return out
}

// Sort orders findings by file, line, column, check and message.
func Sort(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
			cmp.Compare(a.Check, b.Check),
			cmp.Compare(a.Message, b.Message),
		)
	})
}
