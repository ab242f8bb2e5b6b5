package fix

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/lint"
)

// Plan is what fix would change in one configuration.
type Plan struct {
	// Files are the files whose content changes, in the order sshd reads them.
	Files []FileChange
	// Fixed are the policy findings the change corrects.
	Fixed []lint.Finding
	// Unfixable are the policy findings it cannot correct (a line in a file
	// with NUL bytes); fix refuses to write while there are any.
	Unfixable []lint.Finding
	// After is the configuration as sshd will read it once the files are
	// replaced.
	After *sshdconf.Config
}

// FileChange is the new content of one file.
type FileChange struct {
	Name     string // the file's name as sshd opens it
	Old, New []byte
	// Notes say, one per edit, on which line of the new file what changes
	// and which policy line asks for it: `line 10: "ClientAliveInterval 0"
	// -> "ClientAliveInterval 300" (policy builtin:default:55)`.
	Notes []string
}

// Refused is the error of a configuration that sshd refuses, before or
// after the change: fix never writes one.
type Refused struct {
	Fixed bool // the fixed configuration is refused (else the current one)
	Diags sshdconf.ErrorList
}

func (e *Refused) Error() string {
	return fmt.Sprintf("%s: %v", RefusedWhat(e.Fixed), e.Diags)
}

// RefusedWhat says which configuration sshd refuses: the fixed one, or
// the current one.
func RefusedWhat(fixed bool) string {
	if fixed {
		return "sshd would refuse the fixed configuration"
	}
	return "sshd refuses the current configuration"
}

// Make plans the change that makes the effective values of c meet reqs for
// every connection: the edits of the policy check (see [lint.Checks]
// "policy") applied to the files they name. It then loads the result with
// the sshdconf model and checks that sshd accepts it and that no policy
// finding is left; an error says which did not hold. A configuration sshd
// already refuses gets a *Refused error and no plan.
func Make(c *sshdconf.Config, reqs []lint.Requirement) (*Plan, error) {
	if err := refusal(c); err != nil {
		return nil, &Refused{Diags: err}
	}
	policy := []*lint.Check{lint.Lookup("policy")}
	found := lint.Run(&lint.Pass{Config: c, Requirements: reqs}, policy, nil)
	p := &Plan{After: c}
	var edits []noted
	for _, f := range found {
		if len(f.Edits) == 0 {
			p.Unfixable = append(p.Unfixable, f)
			continue
		}
		p.Fixed = append(p.Fixed, f)
		for _, e := range f.Edits {
			edits = append(edits, noted{e, f})
		}
	}
	if len(edits) == 0 {
		return p, nil
	}
	// Lines inserted at one place keep the policy's order.
	slices.SortStableFunc(edits, func(a, b noted) int {
		return cmp.Compare(policyLine(a.why), policyLine(b.why))
	})
	files, err := apply(c, edits)
	if err != nil {
		return nil, err
	}
	p.Files = files
	replace := map[string][]byte{}
	for _, fc := range files {
		replace[fc.Name] = fc.New
	}
	after, err := c.With(replace)
	if err != nil {
		return nil, fmt.Errorf("reading the fixed configuration: %w", err)
	}
	if err := refusal(after); err != nil {
		return nil, &Refused{Fixed: true, Diags: err}
	}
	if left := lint.Run(&lint.Pass{Config: after, Requirements: reqs}, policy, nil); len(left) > len(p.Unfixable) {
		var msgs []string
		for _, f := range left {
			msgs = append(msgs, fmt.Sprintf("%s: %s", f.Pos, f.Message))
		}
		return nil, fmt.Errorf("the fixed configuration still breaks the policy (a bug in sshwarden: please report it):\n%s", strings.Join(msgs, "\n"))
	}
	p.After = after
	return p, nil
}

// policyLine is the line of the policy requirement a finding breaks (the
// last related position of a policy finding).
func policyLine(f lint.Finding) int {
	if len(f.Related) == 0 {
		return 0
	}
	return f.Related[len(f.Related)-1].Line
}

// refusal returns what makes sshd refuse c: its errors up to the one it
// stops at; nil when sshd accepts c.
func refusal(c *sshdconf.Config) sshdconf.ErrorList {
	fatal := c.Err()
	if fatal == nil {
		return nil
	}
	var list sshdconf.ErrorList
	for _, d := range c.Diags() {
		if d.Severity >= sshdconf.SevError && d.Kind != sshdconf.KindTerminating {
			list = append(list, d)
		}
		if error(d) == fatal {
			break
		}
	}
	if len(list) == 0 {
		list = sshdconf.ErrorList{{Pos: sshdconf.Pos{File: c.Main}, Msg: fatal.Error()}}
	}
	return list
}

// noted is an edit and the finding it fixes.
type noted struct {
	lint.Edit
	why lint.Finding
}

// apply applies edits to the files of c. Edits of one file must not
// overlap; several insertions at one place keep their order.
func apply(c *sshdconf.Config, edits []noted) ([]FileChange, error) {
	byFile := map[string][]noted{}
	for _, e := range edits {
		byFile[e.File] = append(byFile[e.File], e)
	}
	var out []FileChange
	for _, f := range c.Files {
		es := byFile[f.Name]
		if len(es) == 0 {
			continue
		}
		delete(byFile, f.Name)
		fc, err := applyFile(f, es)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(fc.Old, fc.New) {
			out = append(out, fc)
		}
	}
	for name := range byFile {
		return nil, fmt.Errorf("%s: an edit names a file that was not read", name)
	}
	return out, nil
}

func applyFile(f *sshdconf.File, edits []noted) (FileChange, error) {
	old := f.Bytes()
	// Replacements and insertions at one line: insertions first, in the
	// order given.
	slices.SortStableFunc(edits, func(a, b noted) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Delete, b.Delete))
	})
	edits = slices.CompactFunc(edits, func(a, b noted) bool {
		return a.Line == b.Line && a.Delete == b.Delete && slices.Equal(a.Insert, b.Insert)
	})
	eol := "\n"
	lines := f.Lines()
	for _, l := range lines {
		if l.Newline() {
			eol = l.EOL()
			break
		}
	}
	var b bytes.Buffer
	var notes []string
	next := 0 // index of the next line of f to copy
	for _, e := range edits {
		at := e.Line - 1
		if at < next || at > len(lines) || at+e.Delete > len(lines) {
			return FileChange{}, fmt.Errorf("%s:%d: overlapping or out-of-range edits", f.Name, e.Line)
		}
		for ; next < at; next++ {
			writeLine(&b, lines[next])
		}
		if b.Len() > 0 && b.Bytes()[b.Len()-1] != '\n' {
			b.WriteString(eol) // inserting after a last line that had no line end
		}
		// A replaced line keeps its own line end (none for a last line
		// without one); inserted lines get the file's.
		lastEOL := eol
		if e.Delete > 0 {
			lastEOL = lines[at+e.Delete-1].EOL()
		}
		outLine := bytes.Count(b.Bytes(), []byte{'\n'}) + 1
		for i, text := range e.Insert {
			b.WriteString(text)
			if i < len(e.Insert)-1 {
				b.WriteString(eol)
			} else {
				b.WriteString(lastEOL)
			}
		}
		next = at + e.Delete
		notes = append(notes, note(f, e, outLine))
	}
	for ; next < len(lines); next++ {
		writeLine(&b, lines[next])
	}
	return FileChange{Name: f.Name, Old: old, New: b.Bytes(), Notes: notes}, nil
}

// writeLine writes l with its own line end.
func writeLine(b *bytes.Buffer, l *sshdconf.Line) {
	b.WriteString(l.Text())
	if l.Newline() {
		b.WriteByte('\n')
	}
}

// note describes an edit in a few words: where, what, and the policy line
// that asks for it.
func note(f *sshdconf.File, e noted, line int) string {
	why := ""
	if n := len(e.why.Related); n > 0 {
		r := e.why.Related[n-1]
		why = fmt.Sprintf(" (policy %s:%d)", r.File, r.Line)
	}
	ins := strings.Join(e.Insert, " / ")
	if e.Delete == 0 {
		return fmt.Sprintf("line %d: added %q%s", line, ins, why)
	}
	old := strings.TrimSuffix(f.Line(e.Line).Text(), "\r")
	return fmt.Sprintf("line %d: %q -> %q%s", line, strings.TrimSpace(old), strings.TrimSpace(ins), why)
}
