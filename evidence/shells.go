package evidence

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os/exec"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TMOUT is what the system's shell start-up files do with TMOUT, the
// variable bash (and ksh, zsh) read as "exit after this many seconds
// without input at the prompt". dash, sftp, commands (ssh host cmd) and
// `ssh -N` never read it; a user escapes it with `exec env TMOUT=0 bash`
// or another shell unless it is readonly, and even then with a shell that
// ignores the start-up files (`bash --norc --noprofile`).
type TMOUT struct {
	// Sets are the lines that assign TMOUT, in the order a login bash
	// reads the files (the last one it runs wins).
	Sets []Assignment
	// Readonly is the line that makes TMOUT readonly, if any.
	Readonly *Pos
	Problems []Problem
}

// Assignment is one line setting TMOUT.
type Assignment struct {
	Pos     Pos
	Seconds int    // -1 when the value is not a plain number (a variable, a command)
	Value   string // as written
	// Export says the line exports it; Readonly that it makes it readonly.
	Export, Readonly bool
	// Shells says who reads the file: "login shells (sh, bash)", "bash",
	// "PAM sessions (pam_env)".
	Shells string
}

// Limit returns the TMOUT a login bash ends with (0: none) and the line
// that set it.
func (t *TMOUT) Limit() (time.Duration, *Assignment) {
	for i := len(t.Sets) - 1; i >= 0; i-- {
		if a := &t.Sets[i]; a.Shells != pamEnvShells {
			if a.Seconds <= 0 {
				return 0, a
			}
			return time.Duration(a.Seconds) * time.Second, a
		}
	}
	return 0, nil
}

const pamEnvShells = "PAM sessions (pam_env)"

// tmoutRE finds an assignment or a readonly declaration of TMOUT on a line
// of a shell script: TMOUT=600, export TMOUT=600, readonly TMOUT=600,
// declare -rx TMOUT=600, typeset -r TMOUT, readonly TMOUT.
var (
	tmoutSetRE = regexp.MustCompile(`(?:^|[;&|]\s*|\bthen\s+|\bdo\s+|\belse\s+)((?:(?:export|readonly|declare|typeset|local)(?:\s+-[a-zA-Z]+)*\s+)*)TMOUT=("[^"]*"|'[^']*'|[^\s;&|]*)`)
	tmoutRORE  = regexp.MustCompile(`(?:^|[;&|]\s*)(?:readonly|(?:declare|typeset)\s+-[a-zA-Z]*r[a-zA-Z]*)(?:\s+-[a-zA-Z]+)*(?:\s+\w+(?:=\S*)?)*\s+TMOUT\b`)
)

// ReadTMOUT reads the system-wide start-up files of the shells for TMOUT,
// from fsys rooted at "/": /etc/environment (pam_env, every PAM session),
// /etc/profile and /etc/profile.d/*.sh (login shells), /etc/bash.bashrc
// (interactive bash; Debian's /etc/profile runs it for login bash too,
// before /etc/profile.d). It
// reads the text, not the logic: a line inside an if is counted as if it
// ran. ProbeBash asks a real bash.
func ReadTMOUT(fsys fs.FS) *TMOUT {
	t := &TMOUT{}
	// The order of a login bash on Debian: /etc/profile runs
	// /etc/bash.bashrc (for bash with a prompt) before /etc/profile.d.
	files := []struct{ name, shells string }{
		{"etc/environment", pamEnvShells},
		{"etc/profile", "login shells (sh, bash)"},
		{"etc/bash.bashrc", "interactive bash"},
	}
	if ents, err := fs.ReadDir(fsys, "etc/profile.d"); err == nil {
		var names []string
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".sh") {
				names = append(names, e.Name())
			}
		}
		slices.Sort(names) // the glob of /etc/profile's loop
		for _, n := range names {
			files = append(files, struct{ name, shells string }{path.Join("etc/profile.d", n), "login shells (sh, bash)"})
		}
	}
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f.name)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				t.Problems = append(t.Problems, Problem{Pos{File: "/" + f.name}, "unreadable: " + err.Error()})
			}
			continue
		}
		t.scan("/"+f.name, f.shells, data)
	}
	return t
}

func (t *TMOUT) scan(file, shells string, data []byte) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.Index(line, "#"); i >= 0 && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			line = line[:i] // a comment (a # inside a word is not one)
		}
		line = strings.TrimSpace(line)
		pos := Pos{file, n}
		if shells == pamEnvShells {
			// pam_env reads KEY=VALUE, optionally quoted; no readonly.
			if v, ok := strings.CutPrefix(line, "TMOUT="); ok {
				t.Sets = append(t.Sets, assignment(pos, v, false, false, shells))
			}
			continue
		}
		for _, m := range tmoutSetRE.FindAllStringSubmatch(line, -1) {
			words := m[1]
			ro := strings.Contains(words, "readonly") || hasFlag(words, 'r')
			ex := strings.Contains(words, "export") || hasFlag(words, 'x')
			t.Sets = append(t.Sets, assignment(pos, m[2], ex, ro, shells))
			if ro && t.Readonly == nil {
				p := pos
				t.Readonly = &p
			}
		}
		if t.Readonly == nil && tmoutRORE.MatchString(line) {
			p := pos
			t.Readonly = &p
		}
	}
	if err := sc.Err(); err != nil {
		t.Problems = append(t.Problems, Problem{Pos{file, n + 1}, err.Error()})
	}
}

// hasFlag reports whether the declare/typeset words carry flag c (-r, -x).
func hasFlag(words string, c byte) bool {
	for _, w := range strings.Fields(words) {
		if len(w) > 1 && w[0] == '-' && strings.IndexByte(w[1:], c) >= 0 {
			return true
		}
	}
	return false
}

func assignment(p Pos, v string, export, readonly bool, shells string) Assignment {
	raw := v
	if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
		v = v[1 : len(v)-1]
	}
	secs := -1
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		secs = n
	} else if strings.TrimSpace(v) == "" {
		secs = 0
	}
	return Assignment{Pos: p, Seconds: secs, Value: raw, Export: export, Readonly: readonly, Shells: shells}
}

// BashProbe is what a real login bash ends up with.
type BashProbe struct {
	TMOUT    string // "" when unset
	Set      bool
	Readonly bool
}

// ProbeBash starts the host's bash as an interactive login shell (bash
// -lic, as an SSH login with a tty runs it), with an empty environment
// but PATH, HOME and TERM, and reports the TMOUT it ends with. It reads
// the host's own files: for a tree (--root) only ReadTMOUT applies.
//
// argv is the command that starts bash, its arguments appended ("bash" when
// empty); tests give a private mount namespace with their own files.
func ProbeBash(ctx context.Context, argv ...string) (BashProbe, error) {
	if len(argv) == 0 {
		argv = []string{"bash"}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	const script = `if [ "${TMOUT+set}" = set ]; then printf 'set %s\n' "$TMOUT"; fi; if readonly -p | grep -q ' TMOUT\(=\|$\)'; then echo readonly; fi`
	cmd := exec.CommandContext(ctx, argv[0], append(argv[1:], "-lic", script)...)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/nonexistent", "TERM=dumb"}
	cmd.Dir = "/"
	out, err := cmd.Output()
	if err != nil {
		return BashProbe{}, err
	}
	var p BashProbe
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "set "); ok {
			p.Set, p.TMOUT = true, v
		}
		if line == "readonly" {
			p.Readonly = true
		}
	}
	return p, nil
}
