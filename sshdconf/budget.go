package sshdconf

import "fmt"

// The budget of one load: the defaults of LoadOptions' Max fields.
//
// sshd itself reads whatever it is given: Include has no bound but a depth
// of 16, so five files that each include the five give 5^16 inclusions, and
// sshd re-reads every file at each. The budget bounds the work of a load
// (and of each later pass over it: Effective, Directives) at a few times
// what real configurations need: the largest ones seen (cloud images,
// CIS-hardened hosts, fleets of drop-ins) read under 100 files and 100 KiB.
const (
	// DefaultMaxFiles is how many files a load reads, counting each
	// inclusion of a file again.
	DefaultMaxFiles = 1000
	// DefaultMaxBytes is how many bytes a load reads, counting each
	// inclusion of a file again; no one file may be larger.
	DefaultMaxBytes = 4 << 20
	// DefaultMaxLines is how many lines a load reads (directives, comments
	// and blank lines), counting each inclusion of a file again.
	DefaultMaxLines = 200_000
	// DefaultMaxMatchCriteria is how many criteria one Match line may have.
	// sshd's time and memory grow with their square (sshd -t takes 4 s and
	// 800 MB for 10,000 criteria, 20 MB for 1,000).
	DefaultMaxMatchCriteria = 1000
)

// A BudgetError says that reading a configuration would take more work than
// the budget of its LoadOptions allows: Load returns one, naming the line
// where the budget ran out (the Include line that would read one file too
// many, the line one too many, the Match line with too many criteria). sshd
// might accept the configuration; this package does not model it.
type BudgetError struct {
	// Pos is the line where the budget ran out.
	Pos Pos
	// Budget is the LoadOptions field that ran out: "MaxFiles",
	// "MaxBytes", "MaxLines" or "MaxMatchCriteria".
	Budget string
	// Msg says what ran out, without the position.
	Msg string
}

// Error formats e as FILE:LINE: MSG.
func (e *BudgetError) Error() string {
	if e.Pos.Line == 0 {
		return e.Pos.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d: %s", e.Pos.File, e.Pos.Line, e.Msg)
}

// meter counts the work of one pass over a configuration (the first pass,
// a connection's, the walk of Directives) against the budget. Every pass
// counts the same things at the same places, so a pass never reads more
// than the first pass did.
type meter struct {
	opt          *LoadOptions
	files, lines int
	bytes        int64
	over         *BudgetError // set when the budget ran out: the pass stops
}

// include counts one more file read (an inclusion, or the main file) at
// from, the Include line (the zero Pos for the main file). It reports
// whether the pass may go on.
func (m *meter) include(name string, from Pos) bool {
	if m.over != nil {
		return false
	}
	m.files++
	if m.files > m.opt.MaxFiles {
		m.stop(from, name, "MaxFiles", fmt.Sprintf("include budget exceeded: more than %d files read (counting every inclusion of a file)", m.opt.MaxFiles))
		return false
	}
	return true
}

// read counts the bytes of the file name, read at from; size < 0 means
// that the file is larger than any one file may be.
func (m *meter) read(name string, size int64, from Pos) bool {
	if m.over != nil {
		return false
	}
	if size < 0 {
		what := name
		if from.File == "" {
			what = "the file"
		}
		m.stop(from, name, "MaxBytes", fmt.Sprintf("configuration budget exceeded: %s is larger than %d bytes", what, m.opt.fileLimit()))
		return false
	}
	m.bytes += size
	if m.bytes > m.opt.MaxBytes {
		m.stop(from, name, "MaxBytes", fmt.Sprintf("configuration budget exceeded: more than %d bytes read (counting every inclusion of a file)", m.opt.MaxBytes))
		return false
	}
	return true
}

// line counts one more line, at pos (the file's name and the line's
// number: a Pos is built only when the budget runs out).
func (m *meter) line(file string, n int) bool {
	m.lines++
	if m.lines <= m.opt.MaxLines && m.over == nil {
		return true // inlined: it runs for every line
	}
	return m.lineOver(file, n)
}

func (m *meter) lineOver(file string, n int) bool {
	if m.over == nil {
		pos := Pos{File: file, Line: n}
		m.stop(pos, file, "MaxLines", fmt.Sprintf("configuration budget exceeded: more than %d lines read (counting every inclusion of a file)", m.opt.MaxLines))
	}
	return false
}

// criteria checks the number of criteria of the Match line at pos.
func (m *meter) criteria(n int, pos Pos) bool {
	if m.over != nil {
		return false
	}
	if n > m.opt.MaxMatchCriteria {
		m.stop(pos, pos.File, "MaxMatchCriteria", fmt.Sprintf("match budget exceeded: more than %d criteria on one Match line", m.opt.MaxMatchCriteria))
		return false
	}
	return true
}

// glob stops the pass for a pattern that names too many paths to look at.
func (m *meter) glob(pattern string, from Pos) {
	if m.over == nil {
		m.stop(from, from.File, "MaxFiles", fmt.Sprintf("include budget exceeded: %s names more than %d files", pattern, m.opt.MaxFiles))
	}
}

func (m *meter) stop(pos Pos, file, budget, msg string) {
	if pos.File == "" {
		pos = Pos{File: file}
	}
	pos.Col = 0
	m.over = &BudgetError{Pos: pos, Budget: budget, Msg: msg}
}

// fileLimit is the size above which a file is not read.
func (o *LoadOptions) fileLimit() int64 { return min(o.MaxFileSize, o.MaxBytes) }
