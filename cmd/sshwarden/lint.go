package main

import (
	"bufio"
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/sshwarden/sshwarden/policy"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/lint"
	"github.com/sshwarden/sshwarden/sshdconf/lint/format"
)

const lintUsage = `usage: sshwarden lint [-f FILE] [--root DIR]... [--roots-from FILE] [--openssh VERSION]
                     [--policy FILE|builtin:NAME|none] [--format text|json|sarif|github]
                     [--disable CHECK,...] [FILE...]

Checks sshd_config as sshd reads it (Include, Match, first value wins): the
lines sshd would refuse, the OpenSSH traps (a drop-in that overrides the
main file, ClientAliveCountMax 0, ChannelTimeout session=, ...), and the
requirements of the policy. Exit status: 0 no finding of severity warning
or above, 1 there is one, 2 the check could not be done (for one tree of
several: the others are still checked and reported).

The configuration is read as the sshd of one OpenSSH release reads it
(keywords, defaults, what it refuses): this host's sshd (sshd -V), the
release --openssh names (8.7, 9.6p1, 10.0-debian; sshwarden version lists
them), or under --root without --openssh the newest release known, said on
stderr.

A repository of host trees is checked in one run: give --root once per
tree, or list the trees in a file (--roots-from, one directory per line,
relative to that file's folder; # comments; - reads standard input). A
line may end with the release of its host, "hosts/rhel9 --openssh 8.7", so
that one run checks a fleet of mixed releases; --openssh is the release of
the trees whose line names none. Every finding names its file under its
tree, so one SARIF file covers them all; JSON and SARIF name the release
each tree was read as.

Examples:
  sshwarden lint
  sshwarden lint --policy builtin:cis --format sarif > sshd.sarif
  sshwarden lint --root hosts/web1 --format github
  sshwarden lint --roots-from roots.txt --policy policy.conf --format sarif > sshd.sarif
  sshwarden lint --policy none -f ./sshd_config
  sshwarden lint --root hosts/rhel9 --openssh 8.7 --policy none

Flags:
`

func runLint(e *env, args []string) int {
	fs := flag.NewFlagSet("lint", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(e.stderr, lintUsage); fs.PrintDefaults() }
	var roots []lintRoot
	mainFile := fs.String("f", "/etc/ssh/sshd_config", "the main sshd configuration `file` (under each --root)")
	fs.Func("root", "read the tree `dir` as if it were / (every path, link and .. stays inside it); repeat for several trees", func(v string) error {
		if v == "" {
			return errors.New("empty directory")
		}
		roots = append(roots, lintRoot{dir: v})
		return nil
	})
	rootsFrom := fs.String("roots-from", "", "read the --root directories from `file`, one per line, each optionally ending with --openssh VERSION (- for standard input)")
	var rel *sshdconf.Release
	fs.Var(releaseFlag{&rel}, "openssh", opensshUsage+" (the trees a --roots-from line gives no release)")
	policyName := fs.String("policy", "", "policy `file`, builtin:NAME, or none (default: "+policy.DefaultPath+" if present, else builtin:default)")
	outFormat := fs.String("format", "text", "output `format`: text, json, sarif or github")
	disable := fs.String("disable", "", "comma-separated `checks` to skip")
	files, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	if !format.Known(*outFormat) {
		e.errorf("--format %q: want text, json, sarif or github", *outFormat)
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
	if *rootsFrom != "" {
		listed, err := readRoots(*rootsFrom, os.Stdin)
		if err != nil {
			e.errorf("%v", err)
			return exitUsage
		}
		roots = append(roots, listed...)
	}
	if len(files) == 0 {
		files = []string{*mainFile}
	}
	targets := lintTargets(roots, files)
	releases := e.resolveReleases(targets, rel, *rootsFrom != "")
	results := lintAll(targets, reqs, disabled)
	var all []format.Finding
	seen := map[string]bool{} // a drop-in shared by several main files
	failed := 0
	for i, r := range results {
		if r.err != nil {
			err := r.err
			if targets[i].origin != "" {
				err = fmt.Errorf("%s: %w", targets[i].origin, err)
			}
			e.errorf("%v", err)
			failed++
			continue
		}
		for _, lf := range r.found {
			key := fmt.Sprintf("%s\x00%d\x00%d\x00%s\x00%s", lf.File, lf.Pos.Line, lf.Pos.Col, lf.Check, lf.Message)
			if seen[key] {
				continue
			}
			seen[key] = true
			all = append(all, lf)
		}
	}
	if failed == len(targets) {
		return exitUsage
	}
	slices.SortStableFunc(all, func(a, b format.Finding) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col), cmp.Compare(a.Check, b.Check), cmp.Compare(a.Message, b.Message))
	})
	if err := format.WriteRun(e.stdout, *outFormat, all, format.Run{Version: version, Releases: releases}); err != nil {
		e.errorf("%v", err)
		return exitUsage
	}
	if failed > 0 {
		e.errorf("%d of %d configurations could not be checked", failed, len(targets))
		return exitUsage
	}
	for _, f := range all {
		if f.Severity >= lint.Warning {
			return exitFindings
		}
	}
	return exitOK
}

// lintResult is what linting one target gave.
type lintResult struct {
	found []format.Finding
	err   error // the configuration could not be read
}

// lintAll loads and lints every target, one per core at a time (a fleet's
// repository holds hundreds), and returns the results in target order.
// Targets share the host's users and services and the policy, which are
// only read.
func lintAll(targets []lintTarget, reqs []lint.Requirement, disabled map[string]bool) []lintResult {
	host := hostFiles()
	out := make([]lintResult, len(targets))
	var (
		wg   sync.WaitGroup
		next atomic.Int64
	)
	for range min(runtime.GOMAXPROCS(0), len(targets)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(targets) {
					return
				}
				c := targets[i].configFlags
				c.host = host
				out[i] = lintOne(&c, reqs, disabled)
			}
		}()
	}
	wg.Wait()
	return out
}

// lintOne loads one configuration and lints it.
func lintOne(c *configFlags, reqs []lint.Requirement, disabled map[string]bool) lintResult {
	cfg, display, done, err := c.open()
	if err != nil {
		return lintResult{err: err}
	}
	defer done()
	// Positions in the configuration show as the user gave its paths;
	// positions in the policy file stay as the policy was named.
	show := func(name string) string {
		if cfg.File(name) != nil {
			return display(name)
		}
		return name
	}
	pass := &lint.Pass{Config: cfg, Requirements: reqs, Stat: c.stat(cfg)}
	var r lintResult
	for _, fd := range lint.Run(pass, lint.Checks(), disabled) {
		lf := format.Finding{Finding: fd, File: show(fd.Pos.File), Release: cfg.Release().Name()}
		for _, rel := range fd.Related {
			lf.Related = append(lf.Related, show(rel.File))
		}
		r.found = append(r.found, lf)
	}
	return r
}

// lintRoot is a --root directory, and where a --roots-from list named it
// (FILE:LINE, for its error messages) with the release its line gives.
type lintRoot struct {
	dir, origin string
	rel         *sshdconf.Release // nil: --openssh, or the default
}

// lintTarget is one main file to check, under its root.
type lintTarget struct {
	configFlags
	origin string
}

// lintTargets is every main file under every root (each file once when
// there is no root), a root given twice with the same release counted
// once.
func lintTargets(roots []lintRoot, files []string) []lintTarget {
	if len(roots) == 0 {
		roots = []lintRoot{{}}
	}
	var out []lintTarget
	seen := map[string]bool{}
	for _, r := range roots {
		if r.dir != "" {
			r.dir = filepath.Clean(r.dir)
		}
		for _, f := range files {
			key := r.dir + "\x00" + f
			if r.rel != nil {
				key += "\x00" + r.rel.Name()
			}
			if seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, lintTarget{configFlags{file: f, root: r.dir, rel: r.rel}, r.origin})
		}
	}
	return out
}

// maxRoots bounds a --roots-from list (a fleet repository, not a disk).
const maxRoots = 100000

// resolveReleases chooses the release of each target that its line of
// --roots-from did not: --openssh (rel), else under a root the newest
// release known (said once on stderr for all such trees), else this
// host's sshd (found once). It returns the names of the releases the
// targets are read as, in the order first met.
func (e *env) resolveReleases(targets []lintTarget, rel *sshdconf.Release, listed bool) []string {
	var (
		newest []string
		hostR  *sshdconf.Release
		names  []string
	)
	for i := range targets {
		c := &targets[i].configFlags
		switch {
		case c.rel != nil:
		case rel != nil:
			c.rel = rel
		case c.root != "":
			c.rel = sshdconf.Newest()
			if !slices.Contains(newest, c.root) {
				newest = append(newest, c.root)
			}
		default:
			if hostR == nil {
				hostR = e.hostRelease()
			}
			c.rel = hostR
		}
		if !slices.Contains(names, c.rel.Name()) {
			names = append(names, c.rel.Name())
		}
	}
	if len(newest) > 0 {
		newestNote(e.stderr, newest, listed)
	}
	return names
}

// releaseSuffix is the end of a --roots-from line that gives the release
// of its tree: "hosts/rhel9 --openssh 8.7" (or --openssh=8.7).
var releaseSuffix = regexp.MustCompile(`^(.*?)[ \t]+--openssh(?:[ \t]+|=)([^ \t]+)$`)

// readRoots reads a --roots-from list: one directory per line, relative
// to the list's folder (to the current one for standard input), ending
// with " --openssh VERSION" when the line gives the release of its tree;
// blank lines and lines starting with # are skipped.
func readRoots(name string, stdin io.Reader) ([]lintRoot, error) {
	r, base, label := stdin, "", "stdin"
	if name != "-" {
		label = name
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("--roots-from: %w", err)
		}
		defer f.Close()
		r, base = f, filepath.Dir(name)
	}
	var roots []lintRoot
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if !utf8.ValidString(text) || strings.ContainsRune(text, 0) {
			return nil, fmt.Errorf("%s:%d: not a directory name", label, line)
		}
		if len(roots) == maxRoots {
			return nil, fmt.Errorf("%s:%d: more than %d directories", label, line, maxRoots)
		}
		var rel *sshdconf.Release
		if m := releaseSuffix.FindStringSubmatch(text); m != nil {
			r, err := sshdconf.ParseRelease(m[2])
			if err != nil {
				return nil, fmt.Errorf("%s:%d: --openssh: %w", label, line, err)
			}
			text, rel = m[1], r
		} else if strings.Contains(text, "--openssh") {
			return nil, fmt.Errorf("%s:%d: want DIR or DIR --openssh VERSION", label, line)
		}
		if base != "" && !filepath.IsAbs(text) {
			text = filepath.Join(base, text)
		}
		roots = append(roots, lintRoot{dir: text, origin: fmt.Sprintf("%s:%d", label, line), rel: rel})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", label, line+1, err)
	}
	if len(roots) == 0 {
		return nil, fmt.Errorf("%s: no directories listed", label)
	}
	return roots, nil
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
func (c *configFlags) stat(cfg *sshdconf.Config) func(string) (int, uint32, bool) {
	return lint.ReadStat(cfg, c.root == "")
}
