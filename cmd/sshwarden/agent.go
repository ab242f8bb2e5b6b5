package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/sshwarden/sshwarden/audit"
	"github.com/sshwarden/sshwarden/enforcer"
	"github.com/sshwarden/sshwarden/policy"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/watcher"
)

const agentUsage = `usage: sshwarden agent [--policy FILE] [--dry-run] [--once] [--proc DIR] [-f FILE]
       sshwarden agent --check [--policy FILE]
       sshwarden agent --reload PID [--policy FILE] [--timeout 30s]

Runs the daemon: finds the SSH sessions of this host through /proc, warns
on a session's terminal WarnBefore its idle limit, closes it at IdleTimeout
(and at MaxSessionTime, active or not), per the policy's User, Group and
Address rules. It also watches sshd_config (and every file it includes)
for drift from the policy, and with "EnforceConfig yes" fixes it, reading
it as this host's sshd does (its release, told by sshd -V at start). Every
action is an audit record in journald (SYSLOG_IDENTIFIER=sshwarden, fields
SSHWARDEN_*), or a JSON line on stderr where no journald runs.

SIGHUP, or a change of the policy file, reloads the policy; a broken policy
is reported with its file:line and the last good one stays in force. Each
version of the file is recorded once (policy-loaded or policy-error): a
SIGHUP that finds the file as it was last read changes and records nothing.
SIGTERM stops the agent.

--check loads the policy as the agent would and exits: 0 when it loads,
2 with every error and its file:line (like sshd -t; for a configuration
manager's "validate" step before a new policy is put in place).

--reload PID is the unit's ExecReload= (systemctl reload sshwarden): it
checks the policy of the agent with that pid as the agent will load it
(errors with their file:line), sends the agent SIGHUP, and waits for the
agent's answer in RUNTIME_DIRECTORY/reload (/run/sshwarden/reload). It
exits 0 once the agent has the policy in force (reloaded, or unchanged),
1 when the agent refused it (the last good one stays in force), 2 when
there was no answer within --timeout.

Examples:
  sshwarden agent --dry-run --once       # what it would do now, touching nothing
  sshwarden agent --check --policy new.conf  # is this policy good?
  sshwarden agent                        # as the systemd service runs it
  systemctl reload sshwarden             # runs sshwarden agent --reload $MAINPID
  journalctl -t sshwarden -o verbose     # the audit records

Flags:
`

func runAgent(e *env, args []string) int {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(e.stderr, agentUsage); fs.PrintDefaults() }
	policyName := fs.String("policy", "", "policy `file` or builtin:NAME (default: "+policy.DefaultPath+" if present, else builtin:default)")
	dryRun := fs.Bool("dry-run", false, "decide and record everything, warn and close nothing (records carry SSHWARDEN_DRY_RUN=yes)")
	once := fs.Bool("once", false, "scan once, act, and exit")
	proc := fs.String("proc", "/proc", "read processes from `dir` instead of /proc")
	check := fs.Bool("check", false, "load the policy, report its errors, and exit (0 good, 2 broken)")
	reloadPID := fs.Int("reload", 0, "check the policy, make the agent with this `pid` reload it, and wait for its answer (0 in force, 1 refused)")
	timeout := fs.Duration("timeout", reloadTimeout, "with --reload, how long to wait for the agent's answer")
	var cf configFlags
	fs.StringVar(&cf.file, "f", "/etc/ssh/sshd_config", "the main sshd configuration `file` to watch for drift")
	rest, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		e.errorf("agent takes no arguments: %q", rest)
		return exitUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["reload"] {
		switch {
		case *reloadPID <= 0:
			e.errorf("--reload %d: want the agent's pid", *reloadPID)
			return exitUsage
		case *check:
			e.errorf("--check and --reload do not go together")
			return exitUsage
		case *timeout <= 0:
			e.errorf("--timeout %v: want a positive duration", *timeout)
			return exitUsage
		}
		return e.runReload(*reloadPID, *policyName, *timeout)
	}
	if set["timeout"] {
		e.errorf("--timeout goes with --reload")
		return exitUsage
	}
	name := policyPath(*policyName)
	p, sum, err := enforcer.ReadPolicy(e.policies, name)
	if err != nil {
		e.policyErrors(err)
		return exitUsage
	}
	if *check {
		return exitOK
	}
	sc, err := watcher.NewScanner(watcher.Options{Proc: *proc})
	if err != nil {
		e.errorf("%v", err)
		return exitUsage
	}
	// The drift check reads the configuration as this host's sshd does:
	// its release, told once here by sshd -V (within host.ReleaseWait).
	// An upgrade of sshd restarts neither sshd's sessions nor the agent;
	// systemctl restart sshwarden reads the release again.
	cf.rel = e.hostRelease()

	trail := audit.NewJournal(audit.Options{Stderr: e.stderr})
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = trail.Close(ctx)
	}()
	metrics := &audit.Metrics{}
	metrics.SetVersion(version)
	users := &enforcer.HostUsers{}
	notify := func(state string) { _, _ = daemon.SdNotify(false, state) }
	a := &enforcer.Agent{
		Sessions: sc,
		Actions:  &enforcer.Actor{Proc: *proc, FS: sc.FS()},
		Audit:    trail,
		Metrics:  metrics,
		Users:    users,
		DryRun:   *dryRun,
		Once:     *once,
		Notify:   notify,
	}
	if wd, err := daemon.SdWatchdogEnabled(false); err == nil {
		a.Watchdog = wd
	}
	sink := "journald"
	if trail.Sink() != audit.SinkJournal {
		sink = "stderr as JSON lines (no journald answers)"
	}
	// SIGHUP reloads the policy; caught from here on so that an early one
	// does not kill the agent.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	s := &enforcer.Supervisor{
		Agent:      a,
		PolicyName: name,
		Policy:     p,
		PolicySum:  sum,
		ReadPolicy: func(name string) (*policy.Policy, string, error) { return enforcer.ReadPolicy(e.policies, name) },
		ConfigFile: absPath(cf.file),
		LoadConfig: func() (*sshdconf.Config, error) { cfg, _, err := cf.load(); return cfg, err },
		Stat:       cf.stat,
		WatchFiles: func(files, globs []string) (enforcer.FileWatcher, error) {
			fw, err := watcher.WatchFiles(files, globs)
			if err != nil {
				return nil, err
			}
			return fw, nil
		},
		Hangup:    hup,
		Audit:     trail,
		AuditSink: sink,
		Metrics:   metrics,
		Users:     users,
		Notify:    notify,
		Version:   version,
		DryRun:    *dryRun,
		Once:      *once,
	}
	// The reload state that `agent --reload` waits for, in the unit's
	// RuntimeDirectory; an agent run by hand, without one, writes none.
	if dir := runtimeDir(); dir != "" {
		s.State = &enforcer.StateFile{Dir: dir, Audit: trail}
	}
	if err := s.Run(ctx); err != nil {
		e.errorf("%v", err)
		return exitUsage
	}
	return exitOK
}

// policyPath resolves --policy: as given, or by default the host's policy
// file when present, else builtin:default.
func policyPath(name string) string {
	if name != "" {
		return name
	}
	if _, err := os.Stat(policy.DefaultPath); err == nil {
		return policy.DefaultPath
	}
	return "builtin:default"
}

// loadPolicy loads a policy, reporting every error of a broken one with
// its file:line; ok is false when there was one.
func (e *env) loadPolicy(name string) (*policy.Policy, bool) {
	p, err := e.policies.Load(name)
	if err == nil {
		return p, true
	}
	e.policyErrors(err)
	return nil, false
}

// policyErrors prints the errors of a policy that did not load, each with
// its file:line.
func (e *env) policyErrors(err error) {
	var list sshdconf.ErrorList
	if errors.As(err, &list) {
		for _, d := range list {
			e.errorf("%s: %s", d.Pos, d.Msg)
		}
	} else {
		e.errorf("policy: %v", err)
	}
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
