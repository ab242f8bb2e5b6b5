package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/sshwarden/sshwarden/enforcer"
	"github.com/sshwarden/sshwarden/sshdconf/lint"
)

const lintUsage = `usage: sshwarden lint [-f FILE] [--root DIR] [--policy FILE|builtin:NAME|none]
                     [--format text|json|sarif|github] [--disable CHECK,...] [FILE...]

Checks sshd_config as sshd reads it (Include, Match, first value wins): the
lines sshd would refuse, the OpenSSH traps (a drop-in that overrides the
main file, ClientAliveCountMax 0, ChannelTimeout session=, ...), and the
requirements of the policy. Exit status: 0 no finding of severity warning
or above, 1 there is one, 2 the check could not be done.

Examples:
  sshwarden lint
  sshwarden lint --policy builtin:cis --format sarif > sshd.sarif
  sshwarden lint --root hosts/web1 --format github
  sshwarden lint --policy none -f ./sshd_config

Flags:
`

// lintedFile is one finding, with the file name to show.
type lintedFile struct {
	lint.Finding
	File    string
	Related []string
}

func runLint(e *env, args []string) int {
	fs := flag.NewFlagSet("lint", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(e.stderr, lintUsage); fs.PrintDefaults() }
	var cf configFlags
	cf.register(fs)
	policyName := fs.String("policy", "", "policy `file`, builtin:NAME, or none (default: "+enforcer.DefaultPath+" if present, else builtin:default)")
	format := fs.String("format", "text", "output `format`: text, json, sarif or github")
	disable := fs.String("disable", "", "comma-separated `checks` to skip")
	files, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	switch *format {
	case "text", "json", "sarif", "github":
	default:
		e.errorf("--format %q: want text, json, sarif or github", *format)
		return exitUsage
	}
	disabled := map[string]bool{}
	for _, name := range strings.Split(*disable, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		if lint.Lookup(name) == nil {
			e.errorf("--disable: no check named %q", name)
			return exitUsage
		}
		disabled[name] = true
	}
	reqs, ok := e.loadRequirements(*policyName)
	if !ok {
		return exitUsage
	}
	if len(files) == 0 {
		files = []string{cf.file}
	}
	var all []lintedFile
	seen := map[string]bool{} // a drop-in shared by several main files
	for _, f := range files {
		c := cf
		c.file = f
		cfg, display, err := c.load()
		if err != nil {
			e.errorf("%v", err)
			return exitUsage
		}
		// Positions in the configuration show as the user gave its paths;
		// positions in the policy file stay as the policy was named.
		show := func(name string) string {
			if cfg.File(name) != nil {
				return display(name)
			}
			return name
		}
		pass := &lint.Pass{Config: cfg, Requirements: reqs, Stat: c.stat()}
		for _, fd := range lint.Run(pass, lint.Checks(), disabled) {
			lf := lintedFile{Finding: fd, File: show(fd.Pos.File)}
			for _, r := range fd.Related {
				lf.Related = append(lf.Related, show(r.File))
			}
			key := fmt.Sprintf("%s\x00%d\x00%d\x00%s\x00%s", lf.File, fd.Pos.Line, fd.Pos.Col, fd.Check, fd.Message)
			if seen[key] {
				continue
			}
			seen[key] = true
			all = append(all, lf)
		}
	}
	slices.SortStableFunc(all, func(a, b lintedFile) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col), cmp.Compare(a.Check, b.Check), cmp.Compare(a.Message, b.Message))
	})
	if err := writeFindings(e.stdout, *format, all); err != nil {
		e.errorf("%v", err)
		return exitUsage
	}
	for _, f := range all {
		if f.Severity >= lint.Warning {
			return exitFindings
		}
	}
	return exitOK
}

// loadRequirements resolves --policy (none, a file, builtin:NAME, or by
// default the host's policy file when present, else builtin:default),
// reporting every error of a broken policy with its file:line; ok is false
// when there was one.
func (e *env) loadRequirements(name string) (reqs []lint.Requirement, ok bool) {
	if name == "none" {
		return nil, true
	}
	p, ok := e.loadPolicy(policyPath(name))
	if !ok {
		return nil, false
	}
	return p.Requirements, true
}

// stat returns the permission lookup for the file-permissions check: the
// real owner and mode on this host; under --root, the mode only (owners of
// a checkout say nothing about the server).
func (c *configFlags) stat() func(string) (int, uint32, bool) {
	return func(name string) (int, uint32, bool) {
		p := name
		if c.root != "" {
			p = filepath.Join(c.root, name)
		}
		st, err := os.Stat(p)
		if err != nil {
			return 0, 0, false
		}
		uid := -1
		if sys, ok := st.Sys().(*syscall.Stat_t); ok && c.root == "" {
			uid = int(sys.Uid)
		}
		return uid, uint32(st.Mode().Perm()), true
	}
}

func writeFindings(w io.Writer, format string, fs []lintedFile) error {
	switch format {
	case "json":
		return writeJSON(w, fs)
	case "sarif":
		return writeSARIF(w, fs)
	case "github":
		return writeGitHub(w, fs)
	}
	for _, f := range fs {
		fmt.Fprintf(w, "%s: %s: %s (%s)\n", location(f), f.Severity, f.Message, f.Check)
	}
	return nil
}

// location is FILE:LINE:COL, with 1 for an unknown column.
func location(f lintedFile) string {
	col := f.Pos.Col
	if col == 0 {
		col = 1
	}
	line := f.Pos.Line
	if line == 0 {
		line = 1
	}
	return fmt.Sprintf("%s:%d:%d", f.File, line, col)
}
