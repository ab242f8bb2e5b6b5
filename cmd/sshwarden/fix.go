package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/sshwarden/sshwarden/internal/host"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/fix"
)

const fixUsage = `usage: sshwarden fix [-f FILE] [--root DIR] [--openssh VERSION] [--policy FILE|builtin:NAME]
                    [-d] [-w] [--reload]

Changes sshd_config so that the effective values meet the policy for every
connection, with the smallest edit: the line that takes effect is edited
where it is (a drop-in, a Match block); a missing value is added to the
global part of the main file, under its commented default. Comments and
layout are kept. Without -w it prints the diff and writes nothing.

With -w the whole new configuration must pass "sshd -t" before any file is
replaced; each file is replaced atomically, with its owner and mode, under
a lock on the main file's folder, in an order in which sshd accepts the
configuration after each file too (so a crash in between leaves one it
accepts). --reload then reloads sshd (systemd, or SIGHUP to the listener of
PidFile); sessions already open keep their old settings.

With --root DIR nothing outside DIR is read, written or shown: every name
resolves inside DIR as if it were / (a symbolic link with an absolute
target starts again at DIR), and "sshd -t" runs with DIR as its / (in a
private mount namespace: only sshd's binary and libraries come from this
host), so the files a tree names (Include, HostKey, Banner, ...) are the
tree's.

The configuration is read, fixed and checked as the sshd of one OpenSSH
release reads it: this host's sshd (sshd -V), the release --openssh names
(8.7, 9.6p1, 10.0-debian), or under --root without --openssh the newest
release known (said on stderr). Fix never writes a keyword that release
refuses. "sshd -t" checks the change only where this host's sshd is that
release; otherwise the sshdconf model of the release is the only check,
and a note on stderr says so. This host's own configuration is always
checked by its sshd before -w writes it: that sshd reads it next.

Exit status: 0 nothing to change; 3 changes were needed (written with -w,
shown without); 1 refused (sshd refuses the configuration before or after
the change, or a value cannot be fixed), nothing written; 2 the job could
not be done (bad flags or policy, unreadable file, write or reload failed).

Examples:
  sshwarden fix                          # show the diff for /etc/ssh/sshd_config
  sshwarden fix -w --reload              # write it, then reload sshd
  sshwarden fix --policy builtin:cis --root ./hosts/web1 -w
  sshwarden fix --root ./hosts/rhel9 --openssh 8.7

Flags:
`

// exitChanged is fix's status when it changed (or would change) files.
const exitChanged = 3

// checkWait bounds the checks by sshd -t of one run (a FIFO that an
// Include reads would block sshd for ever).
const checkWait = 2 * time.Minute

func runFix(e *env, args []string) int {
	fs := flag.NewFlagSet("fix", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(e.stderr, fixUsage); fs.PrintDefaults() }
	var cf configFlags
	cf.register(fs)
	policyName := fs.String("policy", "", "policy `file` or builtin:NAME (default: /etc/sshwarden/policy.conf if present, else builtin:default)")
	showDiff := fs.Bool("d", false, "print the diff (the default without -w)")
	write := fs.Bool("w", false, "write the changes")
	reload := fs.Bool("reload", false, "after writing, reload sshd (needs -w)")
	rest, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	switch {
	case len(rest) > 0:
		e.errorf("fix takes no arguments (the main file is -f FILE): %q", rest)
		return exitUsage
	case *reload && !*write:
		e.errorf("--reload needs -w")
		return exitUsage
	case *reload && cf.root != "":
		e.errorf("--reload reloads this host's sshd; it cannot go with --root")
		return exitUsage
	case *policyName == "none":
		e.errorf("fix needs a policy: --policy none leaves nothing to fix")
		return exitUsage
	}
	reqs, ok := e.loadRequirements(*policyName)
	if !ok {
		return exitUsage
	}
	cf.resolve(e)
	var display func(string) string
	res, err := host.Apply(context.Background(), host.ApplyOptions{
		Main: cf.file,
		Root: cf.root,
		Load: func() (*sshdconf.Config, error) {
			cfg, d, err := cf.load()
			if err != nil {
				return nil, err
			}
			display = d
			if cf.root != "" {
				// Nothing read from outside the tree is shown, checked or
				// written.
				if err := host.Inside(cf.root, cfg); err != nil {
					return nil, outsideError{err}
				}
			}
			return cfg, nil
		},
		Requirements: reqs,
		Until:        fixUntil(*write, *reload),
		LockWait:     host.LockWait,
		CheckWait:    checkWait,
	})
	// What was done is reported in the order it was done: the note of an
	// unchecked change, the diff, the writes, the reload.
	var other *host.OtherRelease
	if res.Unchecked != nil {
		switch {
		case errors.As(res.Unchecked, &other):
			fmt.Fprintf(e.stderr, "sshwarden: note: %v, so sshd -t did not check the change; the sshdconf model of %s did\n", other, other.Want)
		case errors.Is(res.Unchecked, fix.ErrNoSSHD):
			fmt.Fprintf(e.stderr, "sshwarden: note: sshd is not installed here, so sshd -t did not check the change; the sshdconf model did\n")
		default:
			fmt.Fprintf(e.stderr, "sshwarden: note: sshd -t could not check the change (%v); the sshdconf model did\n", res.Unchecked)
		}
	}
	var failed *host.ApplyError
	if errors.As(err, &failed) && failed.Step < host.StepWrite {
		return e.fixRefused(failed, display)
	}
	if res.Plan == nil || len(res.Plan.Files) == 0 {
		return exitOK
	}
	if !*write || *showDiff {
		for _, fc := range res.Plan.Files {
			fmt.Fprint(e.stdout, fix.Diff(display(fc.Name), fc.Old, fc.New))
		}
	}
	if err != nil && failed.Step == host.StepWrite {
		e.errorf("%v", err)
		return exitUsage
	}
	verb := "would change"
	if *write {
		verb = "changed"
		if res.Checked {
			fmt.Fprintf(e.stderr, "sshwarden: sshd -t accepted the new configuration before it was written\n")
		}
	}
	for _, fc := range res.Plan.Files {
		fmt.Fprintf(e.stderr, "sshwarden: %s %s: %s\n", verb, display(fc.Name), strings.Join(fc.Notes, "; "))
	}
	if err != nil { // the reload
		e.errorf("%v", err)
		return exitUsage
	}
	if *reload {
		fmt.Fprintf(e.stderr, "sshwarden: %s\n", res.Reloaded)
	}
	return exitChanged
}

// fixUntil is how far fix goes: it checks and orders the change, and with
// -w writes it, with --reload then reloads sshd.
func fixUntil(write, reload bool) host.Step {
	switch {
	case reload:
		return host.StepReload
	case write:
		return host.StepWrite
	}
	return host.StepOrder
}

// outsideError is the error of a --root tree whose files lead outside it:
// one line per file.
type outsideError struct{ err error }

func (o outsideError) Error() string { return o.err.Error() }

// fixRefused reports why fix stopped before it wrote anything, and returns
// its exit status: 1 when the change is refused (sshd refuses the
// configuration, a value cannot be fixed, no order of writes is safe), 2
// when the job could not be done.
func (e *env) fixRefused(failed *host.ApplyError, display func(string) string) int {
	var outside outsideError
	var refused *fix.Refused
	var unfixable *host.Unfixable
	var sshdRefused *fix.SSHDRefused
	var inter *fix.Interdependent
	err := failed.Err
	switch failed.Step {
	case host.StepLock, host.StepLoad:
		if errors.As(err, &outside) {
			for _, line := range strings.Split(outside.err.Error(), "\n") {
				e.errorf("%s", line)
			}
			return exitUsage
		}
	case host.StepPlan:
		switch {
		case errors.As(err, &refused):
			e.errorf("%s; fix writes nothing while sshd would refuse it:", fix.RefusedWhat(refused.Fixed))
			for _, d := range refused.Diags {
				fmt.Fprintf(e.stderr, "  %s:%d: %s\n", display(d.Pos.File), d.Pos.Line, d.Msg)
			}
		case errors.As(err, &unfixable):
			for _, f := range unfixable.Findings {
				e.errorf("%s:%d: cannot fix: %s", display(f.Pos.File), f.Pos.Line, f.Message)
			}
		default:
			e.errorf("%v", err)
		}
		return exitFindings
	case host.StepCheck:
		if errors.As(err, &sshdRefused) {
			e.errorf("%s; fix writes nothing while sshd would refuse it:", fix.RefusedWhat(failed.Fixed))
			for _, line := range strings.Split(strings.TrimSpace(sshdRefused.Output), "\n") {
				fmt.Fprintf(e.stderr, "  %s\n", line)
			}
			return exitFindings
		}
		e.errorf("sshd -t could not check the change, so fix writes nothing: %v", err)
		return exitUsage
	case host.StepOrder:
		if errors.As(err, &inter) {
			e.errorf("%v", err)
			return exitFindings
		}
	}
	e.errorf("%v", err)
	return exitUsage
}
