package fix

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/sshwarden/sshwarden/sshdconf"
)

// maxOrderChecks bounds how many intermediate configurations [Order] has
// sshd check.
const maxOrderChecks = 64

// Interdependent is the error of changes to several files that cannot be
// written one file at a time without passing through a configuration that
// sshd refuses: whatever the order, a crash between two files (or a
// failed write) would leave one, and sshd may be restarted then.
type Interdependent struct {
	Files []string // the names of the changed files
	// Refused says why the first intermediate configuration tried is
	// refused.
	Refused error
}

func (e *Interdependent) Error() string {
	return fmt.Sprintf("no order of writing %s keeps a configuration that sshd accepts after each file, so a crash between two files could leave one it refuses; put the lines that depend on each other into one file (%v)",
		strings.Join(e.Files, ", "), e.Refused)
}

// Order returns files (the changes of a plan of c) in an order in which
// internal/host's Write may replace them one at a time so that, whenever
// it stops (a crash, a kill, a failed write), the configuration as sshd
// reads it is one that sshd accepts: for each intermediate state, in
// which the files before some point are new and the others old, the
// sshdconf model and then check (the real `sshd -t`, for example
// internal/host's Checker) must accept it.
// The old and the new configuration themselves are the caller's to check.
//
// check gets the changes of an intermediate state; it returns nil if sshd
// accepts it, an *SSHDRefused if sshd refuses it, and any other error
// stops Order (ErrNoSSHD counts as accepted: the model decides). A nil
// check leaves the model alone. The order sshd reads the files in is tried
// first, and a state is checked at most once. Order fails with an
// *Interdependent when no order works. It also fails when sshd could read
// a temporary file of Write (an Include pattern whose last part starts
// with a dot, in the folder of a changed file).
func Order(c *sshdconf.Config, files []FileChange, check func([]FileChange) error) ([]FileChange, error) {
	if err := tempsIncluded(c, files); err != nil {
		return nil, err
	}
	n := len(files)
	if n < 2 {
		return files, nil
	}
	if n > 16 {
		return nil, fmt.Errorf("a change of %d files at once is more than fix orders (16)", n)
	}
	full := uint32(1)<<n - 1
	accepted := map[uint32]bool{0: true, full: true}
	dead := map[uint32]bool{} // states from which no order reaches full
	checks := 0
	var refused error
	subset := func(set uint32) []FileChange {
		var out []FileChange
		for i, fc := range files {
			if set&(1<<i) != 0 {
				out = append(out, fc)
			}
		}
		return out
	}
	var stop error
	ok := func(set uint32) bool {
		if v, seen := accepted[set]; seen {
			return v
		}
		accepted[set] = false
		sub := subset(set)
		replace := map[string][]byte{}
		for _, fc := range sub {
			replace[fc.Name] = fc.New
		}
		mixed, err := c.With(replace)
		if err != nil {
			stop = fmt.Errorf("reading an intermediate configuration: %w", err)
			return false
		}
		if r := refusal(mixed); r != nil {
			if refused == nil {
				refused = fmt.Errorf("with only %s new: %w", names(sub), r)
			}
			return false
		}
		if check != nil {
			if checks++; checks > maxOrderChecks {
				stop = fmt.Errorf("ordering the writes of %s needs more than %d checks by sshd", names(files), maxOrderChecks)
				return false
			}
			err := check(sub)
			var r *SSHDRefused
			switch {
			case errors.As(err, &r):
				if refused == nil {
					refused = fmt.Errorf("with only %s new: %w", names(sub), r)
				}
				return false
			case err != nil && !errors.Is(err, ErrNoSSHD):
				stop = err
				return false
			}
		}
		accepted[set] = true
		return true
	}
	var order []int
	var search func(set uint32) bool
	search = func(set uint32) bool {
		if set == full {
			return true
		}
		if dead[set] {
			return false
		}
		for i := range n {
			next := set | 1<<i
			if next == set || !ok(next) {
				if stop != nil {
					return false
				}
				continue
			}
			order = append(order, i)
			if search(next) {
				return true
			}
			order = order[:len(order)-1]
			if stop != nil {
				return false
			}
		}
		dead[set] = true
		return false
	}
	if !search(0) {
		if stop != nil {
			return nil, stop
		}
		return nil, &Interdependent{Files: nameList(files), Refused: refused}
	}
	out := make([]FileChange, n)
	for i, j := range order {
		out[i] = files[j]
	}
	return out, nil
}

func nameList(files []FileChange) []string {
	var out []string
	for _, fc := range files {
		out = append(out, fc.Name)
	}
	return out
}

func names(files []FileChange) string { return strings.Join(nameList(files), ", ") }

// tempsIncluded fails if an Include pattern of c could match the name of
// a temporary file of internal/host's Write next to a changed file:
// glob(3) matches a leading dot only with a literal one.
func tempsIncluded(c *sshdconf.Config, files []FileChange) error {
	for _, fc := range files {
		dir, base := path.Split(c.Path(fc.Name))
		temp := path.Join(dir, "."+base+TempMarker+strings.Repeat("0", TempHexLen))
		for _, inc := range c.Includes() {
			last := path.Base(inc.Pattern)
			if !strings.HasPrefix(last, ".") && !strings.HasPrefix(last, `\.`) {
				continue
			}
			if m, _ := path.Match(inc.Pattern, temp); m {
				return fmt.Errorf("an Include pattern (%s) matches the temporary file that fix writes next to %s before it renames it, so sshd could read a part of it; fix writes nothing", inc.Pattern, fc.Name)
			}
		}
	}
	return nil
}
