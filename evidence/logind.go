package evidence

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
)

// Pos is a line of a file, for evidence an auditor can look up.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string {
	if p.File == "" {
		return "(default)"
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// Problem is a line a reader could not use, with what was wrong.
type Problem struct {
	Pos Pos
	Msg string
}

func (p Problem) String() string { return p.Pos.String() + ": " + p.Msg }

// Logind is what systemd-logind reads from logind.conf and its drop-ins
// for the settings that close idle sessions.
type Logind struct {
	// Files are the files logind reads, in the order it reads them (a
	// later file's value wins).
	Files []string
	// StopIdleSession is StopIdleSessionSec= (systemd 252 on): logind stops
	// a session whose tty has not been read for this long, Infinity
	// (the default) when it never does. At is the line that set it.
	StopIdleSession time.Duration
	StopIdleAt      Pos
	// KillUserProcesses is KillUserProcesses=: stopping a session kills
	// every process of its scope (tmux and nohup included) rather than
	// only hanging its tty up.
	KillUserProcesses bool
	KillAt            Pos
	Problems          []Problem
}

// logindDirs are the drop-in folders of logind.conf, as systemd searches
// them (CONF_PATHS("systemd/logind.conf.d")): a file name in an earlier
// folder hides the same name in a later one.
var logindDirs = []string{
	"etc/systemd/logind.conf.d",
	"run/systemd/logind.conf.d",
	"usr/local/lib/systemd/logind.conf.d",
	"usr/lib/systemd/logind.conf.d",
}

// ReadLogind reads logind's configuration from fsys, a file system rooted
// at "/" (the host, or a tree for --root), as systemd-logind does: the main
// file /etc/systemd/logind.conf, then the drop-ins of every folder sorted
// by file name, a later value winning. A file that is a link to /dev/null
// or empty masks the name. Lines logind would ignore come as Problems.
func ReadLogind(fsys fs.FS) (*Logind, error) {
	l := &Logind{StopIdleSession: Infinity}
	files := []string{"etc/systemd/logind.conf"}
	byName := map[string]string{}
	for _, dir := range logindDirs {
		ents, err := fs.ReadDir(fsys, dir)
		if err != nil {
			continue // a missing folder is no drop-in
		}
		for _, e := range ents {
			n := e.Name()
			if !strings.HasSuffix(n, ".conf") || e.IsDir() {
				continue
			}
			if _, ok := byName[n]; !ok {
				byName[n] = path.Join(dir, n)
			}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		files = append(files, byName[n])
	}
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			if !isNotExist(err) {
				l.Problems = append(l.Problems, Problem{Pos{File: "/" + f}, "unreadable: " + err.Error()})
			}
			continue
		}
		l.Files = append(l.Files, "/"+f)
		if !l.parse("/"+f, data) {
			break // logind stops at a bad section header, for every later file too
		}
	}
	return l, nil
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// parse reads one file of systemd's ini syntax (systemd.syntax(7)): [Section]
// headers, Key=Value lines, comments starting with # or ;, a trailing
// backslash joining the next line. It returns false where logind stops
// reading: at an invalid section header, which ends this file and the
// files after it, keeping the values read before (measured on systemd 252:
// "Invalid section header", "Failed to parse file: Bad message").
func (l *Logind) parse(file string, data []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	section, n := "", 0
	var cont strings.Builder
	start := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if cont.Len() == 0 {
			start = n
		}
		if strings.HasSuffix(line, `\`) {
			cont.WriteString(strings.TrimSuffix(line, `\`))
			cont.WriteByte(' ')
			continue
		}
		if cont.Len() > 0 {
			cont.WriteString(line)
			line = cont.String()
			cont.Reset()
		}
		pos := Pos{file, start}
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			continue
		case line[0] == '[':
			if !strings.HasSuffix(line, "]") {
				l.problem(pos, "invalid section header %q: logind reads no further, in this file or the ones after it", line)
				return false
			}
			section = line[1 : len(line)-1]
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			l.problem(pos, "missing '=', line ignored")
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if section != "Login" {
			if section == "" {
				l.problem(pos, "assignment outside of a section, ignored")
			}
			continue // another section ("Unknown section, ignoring")
		}
		switch key {
		case "StopIdleSessionSec":
			d, err := ParseTimespan(val)
			if err != nil {
				l.problem(pos, "StopIdleSessionSec=%s: %v; logind ignores the line", val, err)
				continue
			}
			l.StopIdleSession, l.StopIdleAt = d, pos
		case "KillUserProcesses":
			b, ok := parseBoolean(val)
			if !ok {
				l.problem(pos, "KillUserProcesses=%s: not a boolean; logind ignores the line", val)
				continue
			}
			l.KillUserProcesses, l.KillAt = b, pos
		}
	}
	if err := sc.Err(); err != nil {
		l.problem(Pos{file, n + 1}, "%v", err)
	}
	return true
}

func (l *Logind) problem(p Pos, format string, args ...any) {
	l.Problems = append(l.Problems, Problem{p, fmt.Sprintf(format, args...)})
}

// parseBoolean reads a boolean as systemd's parse_boolean does.
func parseBoolean(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "1", "yes", "y", "true", "t", "on":
		return true, true
	case "0", "no", "n", "false", "f", "off":
		return false, true
	}
	return false, false
}
