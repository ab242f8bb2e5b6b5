package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/sshwarden/sshwarden/internal/host"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/fix"
)

const fixUsage = `usage: sshwarden fix [-f FILE] [--root DIR] [--policy FILE|builtin:NAME] [-d] [-w] [--reload]

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

Exit status: 0 nothing to change; 3 changes were needed (written with -w,
shown without); 1 refused (sshd refuses the configuration before or after
the change, or a value cannot be fixed), nothing written; 2 the job could
not be done (bad flags or policy, unreadable file, write or reload failed).

Examples:
  sshwarden fix                          # show the diff for /etc/ssh/sshd_config
  sshwarden fix -w --reload              # write it, then reload sshd
  sshwarden fix --policy builtin:cis --root ./hosts/web1 -w

Flags:
`

// exitChanged is fix's status when it changed (or would change) files.
const exitChanged = 3

// lockWait bounds how long fix -w waits for another run's lock.
const lockWait = 30 * time.Second

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
	ctx := context.Background()

	if *write {
		// One run at a time: an admin's fix and the agent's lock the folder
		// of the main file before reading it, and keep the lock until the
		// files are replaced.
		lctx, cancel := context.WithTimeout(ctx, lockWait)
		var unlock func()
		var err error
		if cf.root != "" {
			unlock, err = host.LockIn(lctx, cf.root, path.Dir(path.Clean("/"+cf.file)))
		} else {
			unlock, err = host.Lock(lctx, filepath.Dir(cf.file))
		}
		cancel()
		if err != nil {
			e.errorf("%v", err)
			return exitUsage
		}
		defer unlock()
	}
	cfg, display, err := cf.load()
	if err != nil {
		e.errorf("%v", err)
		return exitUsage
	}
	if cf.root != "" {
		// Nothing read from outside the tree is shown, checked or
		// written.
		if err := host.Inside(cf.root, cfg); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				e.errorf("%s", line)
			}
			return exitUsage
		}
	}
	plan, err := fix.Make(cfg, reqs)
	var refused *fix.Refused
	switch {
	case errors.As(err, &refused):
		e.errorf("%s; fix writes nothing while sshd would refuse it:", fix.RefusedWhat(refused.Fixed))
		for _, d := range refused.Diags {
			fmt.Fprintf(e.stderr, "  %s:%d: %s\n", display(d.Pos.File), d.Pos.Line, d.Msg)
		}
		return exitFindings
	case err != nil:
		e.errorf("%v", err)
		return exitFindings
	}
	for _, f := range plan.Unfixable {
		e.errorf("%s:%d: cannot fix: %s", display(f.Pos.File), f.Pos.Line, f.Message)
	}
	if len(plan.Unfixable) > 0 {
		return exitFindings
	}
	if len(plan.Files) == 0 {
		return exitOK
	}

	checker := &host.Checker{Root: cf.root}
	cctx, cancel := context.WithTimeout(ctx, checkWait)
	defer cancel()
	checked, code := checkWithSSHD(cctx, e, checker, cfg, plan, *write, cf.root != "")
	if code >= 0 {
		return code
	}
	// The files are written one at a time: in an order in which sshd
	// accepts the configuration after each, since sshd may restart at any
	// moment, before anyone runs fix again.
	var check func([]fix.FileChange) error
	if checked {
		check = func(changes []fix.FileChange) error { return checker.Check(cctx, cfg, changes) }
	}
	ordered, err := fix.Order(cfg, plan.Files, check)
	var inter *fix.Interdependent
	switch {
	case errors.As(err, &inter):
		e.errorf("%v", err)
		return exitFindings
	case err != nil:
		e.errorf("%v", err)
		return exitUsage
	}
	if !*write || *showDiff {
		for _, fc := range plan.Files {
			fmt.Fprint(e.stdout, fix.Diff(display(fc.Name), fc.Old, fc.New))
		}
	}
	verb := "would change"
	if *write {
		changes := make([]host.Change, len(ordered))
		for i, fc := range ordered {
			changes[i] = host.Change{Path: cfg.Path(fc.Name), Old: fc.Old, New: fc.New}
		}
		if cf.root != "" {
			err = host.WriteIn(cf.root, changes)
		} else {
			err = host.Write(changes)
		}
		if err != nil {
			e.errorf("%v", err)
			return exitUsage
		}
		verb = "changed"
		if checked {
			fmt.Fprintf(e.stderr, "sshwarden: sshd -t accepted the new configuration before it was written\n")
		}
	}
	for _, fc := range plan.Files {
		fmt.Fprintf(e.stderr, "sshwarden: %s %s: %s\n", verb, display(fc.Name), strings.Join(fc.Notes, "; "))
	}
	if *reload {
		pidFile := "/run/sshd.pid"
		if s := plan.After.Global().Get("pidfile"); len(s) == 1 {
			pidFile = s[0].Value
		}
		how, err := host.Reload(ctx, host.ReloadOptions{Config: cfg.Path(cfg.Main), PidFile: pidFile})
		if err != nil {
			e.errorf("the files are written, but reloading sshd failed: %v", err)
			return exitUsage
		}
		fmt.Fprintf(e.stderr, "sshwarden: %s\n", how)
	}
	return exitChanged
}

// checkWithSSHD runs the real sshd -t on the configuration as it is and as
// it will be. It returns whether sshd checked both, and an exit code to stop
// with, or -1 to go on.
// Where sshd is not installed, the sshdconf model (which Make already ran)
// is the only check, and it says so. Where sshd is installed but cannot be
// run (no root for the mount namespace), a dry run or a --root tree goes on
// with a note, and a write to this host's configuration stops.
func checkWithSSHD(ctx context.Context, e *env, k *host.Checker, cfg *sshdconf.Config, plan *fix.Plan, write, tree bool) (bool, int) {
	var refused *fix.SSHDRefused
	for _, step := range []struct {
		fixed   bool
		changes []fix.FileChange
	}{{false, nil}, {true, plan.Files}} {
		err := k.Check(ctx, cfg, step.changes)
		switch {
		case err == nil:
			continue
		case errors.Is(err, fix.ErrNoSSHD):
			fmt.Fprintf(e.stderr, "sshwarden: note: sshd is not installed here, so sshd -t did not check the change; the sshdconf model did\n")
			return false, -1
		case errors.As(err, &refused):
			e.errorf("%s; fix writes nothing while sshd would refuse it:", fix.RefusedWhat(step.fixed))
			for _, line := range strings.Split(strings.TrimSpace(refused.Output), "\n") {
				fmt.Fprintf(e.stderr, "  %s\n", line)
			}
			return false, exitFindings
		case !write || tree:
			fmt.Fprintf(e.stderr, "sshwarden: note: sshd -t could not check the change (%v); the sshdconf model did\n", err)
			return false, -1
		default:
			e.errorf("sshd -t could not check the change, so fix writes nothing: %v", err)
			return false, exitUsage
		}
	}
	return true, -1
}
