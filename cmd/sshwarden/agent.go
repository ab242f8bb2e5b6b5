package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/coreos/go-systemd/v22/journal"

	"github.com/sshwarden/sshwarden/audit"
	"github.com/sshwarden/sshwarden/enforcer"
	"github.com/sshwarden/sshwarden/policy"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/fix"
	"github.com/sshwarden/sshwarden/sshdconf/lint"
	"github.com/sshwarden/sshwarden/watcher"
)

const agentUsage = `usage: sshwarden agent [--policy FILE] [--dry-run] [--once] [--proc DIR] [-f FILE]
       sshwarden agent --check [--policy FILE]
       sshwarden agent --reload PID [--policy FILE] [--timeout 30s]

Runs the daemon: finds the SSH sessions of this host through /proc, warns
on a session's terminal WarnBefore its idle limit, closes it at IdleTimeout
(and at MaxSessionTime, active or not), per the policy's User, Group and
Address rules. It also watches sshd_config (and every file it includes)
for drift from the policy, and with "EnforceConfig yes" fixes it. Every
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
	p, sum, err := readPolicy(e.policies, name)
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

	trail := audit.NewJournal(audit.Options{Stderr: e.stderr})
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = trail.Close(ctx)
	}()
	metrics := &audit.Metrics{}
	metrics.SetVersion(version)
	metrics.SetPolicyOK(true, time.Now())
	users := &hostUsers{}
	notify := func(state string) { _, _ = daemon.SdNotify(false, state) }
	a := &enforcer.Agent{
		Sessions: sc,
		Actions:  &enforcer.Actor{Proc: *proc},
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
	a.SetPolicy(p)

	mode := ""
	if *dryRun {
		mode = " in dry-run mode (nothing is warned or closed)"
	}
	sink := "journald"
	if trail.Sink() != audit.SinkJournal {
		sink = "stderr as JSON lines (no journald answers)"
	}
	trail.Record(audit.Record{Action: audit.ActionAgentStarted, Priority: journal.PriInfo, DryRun: *dryRun,
		Message: fmt.Sprintf("sshwarden agent %s started%s with policy %s (%s); audit records go to %s.", version, mode, name, summary(p), sink),
		Fields:  map[string]string{"SSHWARDEN_POLICY": name, "SSHWARDEN_POLICY_SHA256": sum, "SSHWARDEN_VERSION": version}})

	// SIGHUP reloads the policy (below); caught from here on so that an
	// early one does not kill the agent.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	d := &drift{cf: cf, audit: trail, metrics: metrics, dryRun: *dryRun}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *once {
		d.check(p, "at start")
		err := a.Run(ctx)
		trail.Record(audit.Record{Action: audit.ActionAgentStopped, Priority: journal.PriInfo, DryRun: *dryRun,
			Message: "sshwarden agent stopped after one scan (--once): " + a.Status() + "."})
		if err != nil {
			e.errorf("%v", err)
			return exitUsage
		}
		return exitOK
	}

	policyFile := ""
	if !strings.HasPrefix(name, "builtin:") {
		policyFile = absPath(name)
	}
	// The reload state that `agent --reload` waits for, in the unit's
	// RuntimeDirectory; an agent run by hand, without one, writes none.
	state := &stateWriter{dir: runtimeDir(), audit: trail}
	st := reloadState{PID: os.Getpid(), Trigger: triggerStart, Outcome: outcomeLoaded, Policy: policyID(name), InForce: sum, Read: sum}
	state.write(st)
	defer state.remove()
	files, globs := []string{absPath(cf.file)}, []string(nil)
	watched := func() []string {
		out := slices.Clone(files)
		if policyFile != "" {
			out = append(out, policyFile)
		}
		return out
	}
	// The configuration check (drift, and the fix with EnforceConfig)
	// runs beside the loop, so that a configuration that is slow to read
	// or a fix that waits for another run's lock never delays
	// enforcement: sessions are enforced from the first scan.
	checks := startChecks(d, checkSlow)
	defer checks.stop()
	checks.request(p, "at start")
	fw, err := watcher.WatchFiles(watched(), globs)
	if err != nil {
		trail.Record(audit.Record{Action: audit.ActionError, Priority: journal.PriErr,
			Message: "Cannot watch the configuration for changes: " + err.Error() + "; drift and policy changes are seen only on SIGHUP.",
			Fields:  map[string]string{"SSHWARDEN_ERROR": err.Error()}})
	} else {
		defer fw.Close()
	}

	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()

	// seen is the version of the policy file the agent judged last: its
	// digest, or why it could not be read; seenErr is why it was refused,
	// "" when it is the one in force. A reload that finds that version
	// again, whatever started it, changes and records nothing: one edit
	// seen by the watch and then by systemctl reload is one record.
	seen, seenErr := sum, ""
	reload := func(trigger string) {
		notify(reloadingNotice())
		np, read, err := readPolicy(e.policies, name)
		key := read
		if read == "" {
			key, read = "unreadable: "+err.Error(), digestNone
		}
		st.Generation++
		st.Trigger, st.Read, st.Error = trigger, read, ""
		why := "the file changed"
		if trigger == triggerSIGHUP {
			why = "SIGHUP"
		}
		switch {
		case key == seen && seenErr == "":
			st.Outcome = outcomeUnchanged
		case key == seen:
			st.Outcome, st.Error = outcomeRefused, seenErr
		case err != nil:
			metrics.SetPolicyOK(false, time.Now())
			recordPolicyError(trail, name, read, err)
			st.Outcome, st.Error = outcomeRefused, stateError(err)
			seen, seenErr = key, st.Error
		default:
			metrics.SetPolicyOK(true, time.Now())
			users.refresh()
			a.SetPolicy(np)
			trail.Record(audit.Record{Action: audit.ActionPolicyLoaded, Priority: journal.PriNotice,
				Message: fmt.Sprintf("Policy %s reloaded (%s): %s.", name, why, summary(np)),
				Fields:  map[string]string{"SSHWARDEN_POLICY": name, "SSHWARDEN_POLICY_SHA256": read}})
			st.Outcome, st.InForce = outcomeLoaded, read
			seen, seenErr = key, ""
		}
		// systemd first (READY=1 ends the reload it saw begin), then the
		// state that `agent --reload` waits for: the policy is in force.
		notify("READY=1")
		state.write(st)
		switch {
		case st.Outcome == outcomeLoaded:
			checks.request(np, "after the policy changed")
		case trigger == triggerSIGHUP:
			// SIGHUP also looks at the configuration again (the watch may
			// have failed) and at the user database.
			users.refresh()
			checks.request(a.Policy(), "after SIGHUP")
		}
	}
	var events <-chan []string
	var watchErrs <-chan error
	if fw != nil {
		events, watchErrs = fw.Events(), fw.Errors()
	}
	for {
		select {
		case err := <-done:
			trail.Record(audit.Record{Action: audit.ActionAgentStopped, Priority: journal.PriInfo, DryRun: *dryRun,
				Message: "sshwarden agent stopped."})
			if err != nil {
				e.errorf("%v", err)
				return exitUsage
			}
			return exitOK
		case <-hup:
			reload(triggerSIGHUP)
		case changed := <-events:
			if policyFile != "" && slices.Contains(changed, policyFile) {
				reload(triggerFile)
				continue
			}
			checks.request(a.Policy(), "after "+strings.Join(changed, ", ")+" changed")
		case res := <-checks.results:
			files, globs = res.files, res.globs
			d.watch(fw, watched(), globs)
		case err := <-watchErrs:
			trail.Record(audit.Record{Action: audit.ActionError, Priority: journal.PriWarning,
				Message: "Watching the configuration: " + err.Error(),
				Fields:  map[string]string{"SSHWARDEN_ERROR": err.Error()}})
		}
	}
}

// summary is the policy's global limits in a few words.
func summary(p *policy.Policy) string {
	e := p.For(watcher.Session{}, nil)
	limit := func(d time.Duration) string {
		if d <= 0 {
			return "none"
		}
		return d.String()
	}
	s := fmt.Sprintf("globally IdleTimeout %s, WarnBefore %s, MaxSessionTime %s", limit(e.IdleTimeout.Value), limit(e.WarnBefore.Value), limit(e.MaxSessionTime.Value))
	if e.Exempt.Value {
		s = "globally Exempt"
	}
	switch n := len(p.Blocks); n {
	case 0:
	case 1:
		s += ", and 1 Match block"
	default:
		s += fmt.Sprintf(", and %d Match blocks", n)
	}
	return s
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

// recordPolicyError records a policy that failed to load: every problem
// with its file:line, and the digest of the refused file (digestNone when
// it could not be read); the policy in force stays.
func recordPolicyError(trail audit.Sink, name, sum string, err error) {
	fields := map[string]string{"SSHWARDEN_POLICY": name, "SSHWARDEN_ERROR": err.Error()}
	if sum != digestNone {
		fields["SSHWARDEN_POLICY_SHA256"] = sum
	}
	var list sshdconf.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		fields["SSHWARDEN_FILE"] = list[0].Pos.File
		fields["SSHWARDEN_LINE"] = strconv.Itoa(list[0].Pos.Line)
	}
	trail.Record(audit.Record{Action: audit.ActionPolicyError, Priority: journal.PriErr,
		Message: fmt.Sprintf("The policy %s was not reloaded: %v. The last good policy stays in force.", name, err),
		Fields:  fields})
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// checkSlow is how long a configuration check may run before the agent
// records that it is slow (it goes on, and enforcement with it).
const checkSlow = time.Minute

// checks runs the configuration checks of a drift one at a time in a
// goroutine of its own, which alone touches the drift. Requests made
// while one runs are coalesced: the last one runs next.
type checks struct {
	d       *drift
	reqs    chan checkRequest
	results chan checkResult // the files and Include patterns to watch
	done    chan struct{}
}

type checkRequest struct {
	p   *policy.Policy
	why string
}

type checkResult struct{ files, globs []string }

func startChecks(d *drift, slow time.Duration) *checks {
	c := &checks{d: d, reqs: make(chan checkRequest, 1), results: make(chan checkResult, 1), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for r := range c.reqs {
			t := time.AfterFunc(slow, func() {
				d.audit.Record(audit.Record{Action: audit.ActionError, Priority: journal.PriWarning,
					Message: fmt.Sprintf("The check of the sshd configuration (%s) has been running for %v; sessions are enforced meanwhile.", r.why, slow),
					Fields:  map[string]string{"SSHWARDEN_FILE": absPath(d.cf.file), "SSHWARDEN_ERROR": "configuration check slow"}})
			})
			files, globs := d.check(r.p, r.why)
			t.Stop()
			// Only the latest result matters: replace one not taken yet.
			select {
			case <-c.results:
			default:
			}
			c.results <- checkResult{files, globs}
		}
	}()
	return c
}

// request asks for a check; it replaces one that has not started yet.
func (c *checks) request(p *policy.Policy, why string) {
	r := checkRequest{p, why}
	for {
		select {
		case c.reqs <- r:
			return
		default:
			select {
			case <-c.reqs: // not started yet: superseded
			default:
			}
		}
	}
}

// stop ends the checks: it waits for one that runs, up to 5 s (a check
// is bounded by the load's budget and the fix's lock wait; the process
// exits anyway).
func (c *checks) stop() {
	close(c.reqs)
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
	}
}

// drift lints sshd_config against the policy when it changes, records the
// findings, and with EnforceConfig yes fixes the configuration.
type drift struct {
	cf      configFlags
	audit   audit.Sink
	metrics *audit.Metrics
	dryRun  bool
	last    string // the findings last recorded, to record each change once
}

// watch points fw at the files of the configuration as it is now (an
// Include may have appeared or gone).
func (d *drift) watch(fw *watcher.FileWatch, files, globs []string) {
	if fw == nil {
		return
	}
	if err := fw.Set(files, globs); err != nil {
		d.audit.Record(audit.Record{Action: audit.ActionError, Priority: journal.PriWarning,
			Message: "Cannot watch the configuration files for changes: " + err.Error(),
			Fields:  map[string]string{"SSHWARDEN_ERROR": err.Error()}})
	}
}

// check lints the configuration, records drift, fixes it when the policy
// says so, and returns the files and Include patterns to watch.
func (d *drift) check(p *policy.Policy, why string) (files, globs []string) {
	main := absPath(d.cf.file)
	files = []string{main}
	cfg, _, err := d.cf.load()
	if err != nil {
		key := "load: " + err.Error()
		if key != d.last {
			d.last = key
			d.audit.Record(audit.Record{Action: audit.ActionConfigDrift, Priority: journal.PriErr, DryRun: d.dryRun,
				Message: fmt.Sprintf("The sshd configuration cannot be read (%s): %v.", why, err),
				Fields:  map[string]string{"SSHWARDEN_FILE": main, "SSHWARDEN_ERROR": err.Error()}})
		}
		return files, nil
	}
	for _, f := range cfg.Files {
		files = append(files, cfg.Path(f.Name))
	}
	for _, inc := range cfg.Includes() {
		globs = append(globs, cfg.Path(inc.Pattern))
	}
	findings, bySeverity := d.lint(cfg, p)
	if d.metrics != nil {
		d.metrics.SetFindings(bySeverity)
	}
	key := strings.Join(findings, "\n")
	if key == d.last {
		return files, globs
	}
	d.last = key
	if len(findings) == 0 {
		if why != "at start" {
			d.audit.Record(audit.Record{Action: audit.ActionConfigDrift, Priority: journal.PriNotice, DryRun: d.dryRun,
				Message: fmt.Sprintf("The sshd configuration %s meets the policy again (%s).", main, why),
				Fields:  map[string]string{"SSHWARDEN_FILE": main, "SSHWARDEN_FINDINGS_COUNT": "0"}})
		}
		return files, globs
	}
	d.audit.Record(audit.Record{Action: audit.ActionConfigDrift, Priority: journal.PriWarning, DryRun: d.dryRun,
		Message: fmt.Sprintf("The sshd configuration %s does not meet the policy (%s): %d findings; the first: %s", main, why, len(findings), findings[0]),
		Fields: map[string]string{"SSHWARDEN_FILE": main, "SSHWARDEN_FINDINGS": key,
			"SSHWARDEN_FINDINGS_COUNT": strconv.Itoa(len(findings))}})
	if p.Global.EnforceConfig != nil && p.Global.EnforceConfig.Value {
		d.enforce(p, why)
		// The fix changed the files (or failed): lint the result now, so
		// that what is recorded last is what is on disk.
		return d.recheck(p, files, globs)
	}
	return files, globs
}

func (d *drift) recheck(p *policy.Policy, files, globs []string) ([]string, []string) {
	cfg, _, err := d.cf.load()
	if err != nil {
		return files, globs
	}
	findings, bySeverity := d.lint(cfg, p)
	if d.metrics != nil {
		d.metrics.SetFindings(bySeverity)
	}
	d.last = strings.Join(findings, "\n")
	return files, globs
}

// lint returns the findings of severity warning and above, as text lines.
func (d *drift) lint(cfg *sshdconf.Config, p *policy.Policy) ([]string, map[string]int) {
	pass := &lint.Pass{Config: cfg, Requirements: p.Requirements, Stat: d.cf.stat(cfg)}
	bySeverity := map[string]int{"error": 0, "warning": 0, "info": 0}
	var out []string
	for _, f := range lint.Run(pass, lint.Checks(), nil) {
		bySeverity[f.Severity.String()]++
		if f.Severity >= lint.Warning {
			out = append(out, fmt.Sprintf("%s:%d: %s: %s (%s)", f.Pos.File, f.Pos.Line, f.Severity, f.Message, f.Check))
		}
	}
	return out, bySeverity
}

// enforce runs what `sshwarden fix -w --reload` runs, under the same lock,
// and records config-fixed or config-fix-failed.
func (d *drift) enforce(p *policy.Policy, why string) {
	main := absPath(d.cf.file)
	fail := func(err error) {
		d.audit.Record(audit.Record{Action: audit.ActionConfigFixFailed, Priority: journal.PriErr, DryRun: d.dryRun,
			Message: fmt.Sprintf("EnforceConfig: the sshd configuration %s was not fixed: %v.", main, err),
			Fields:  map[string]string{"SSHWARDEN_FILE": main, "SSHWARDEN_ERROR": err.Error()}})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lctx, lcancel := context.WithTimeout(ctx, lockWait)
	unlock, err := fix.Lock(lctx, filepath.Dir(main))
	lcancel()
	if err != nil {
		fail(err)
		return
	}
	defer unlock()
	cfg, _, err := d.cf.load()
	if err != nil {
		fail(err)
		return
	}
	plan, err := fix.Make(cfg, p.Requirements)
	if err != nil {
		fail(err)
		return
	}
	if len(plan.Unfixable) > 0 {
		fail(fmt.Errorf("%s:%d: %s", plan.Unfixable[0].Pos.File, plan.Unfixable[0].Pos.Line, plan.Unfixable[0].Message))
		return
	}
	if len(plan.Files) == 0 {
		return
	}
	var notes []string
	for _, fc := range plan.Files {
		notes = append(notes, cfg.Path(fc.Name)+": "+strings.Join(fc.Notes, "; "))
	}
	if d.dryRun {
		d.audit.Record(audit.Record{Action: audit.ActionConfigFixed, Priority: journal.PriNotice, DryRun: true,
			Message: fmt.Sprintf("EnforceConfig: would fix the sshd configuration (%s): %s (dry run: nothing written).", why, strings.Join(notes, "; ")),
			Fields:  map[string]string{"SSHWARDEN_FILE": main, "SSHWARDEN_CHANGES": strings.Join(notes, "\n")}})
		return
	}
	checker := &fix.Checker{}
	for _, changes := range [][]fix.FileChange{nil, plan.Files} {
		if err := checker.Check(ctx, cfg, changes); err != nil && !errors.Is(err, fix.ErrNoSSHD) {
			fail(fmt.Errorf("sshd -t: %w", err))
			return
		}
	}
	// The files are replaced one at a time, in an order in which sshd
	// accepts every mix of old and new files: wherever the agent is
	// stopped, sshd can restart on what is on disk.
	ordered, err := fix.Order(cfg, plan.Files, func(ch []fix.FileChange) error { return checker.Check(ctx, cfg, ch) })
	if err != nil {
		fail(err)
		return
	}
	changes := make([]fix.Change, len(ordered))
	for i, fc := range ordered {
		changes[i] = fix.Change{Path: cfg.Path(fc.Name), Old: fc.Old, New: fc.New}
	}
	if err := fix.Write(changes); err != nil {
		fail(err)
		return
	}
	pidFile := "/run/sshd.pid"
	if s := plan.After.Global().Get("pidfile"); len(s) == 1 {
		pidFile = s[0].Value
	}
	how, err := fix.Reload(ctx, fix.ReloadOptions{Config: cfg.Path(cfg.Main), PidFile: pidFile})
	if err != nil {
		fail(fmt.Errorf("the files are written, but reloading sshd failed: %w", err))
		return
	}
	d.audit.Record(audit.Record{Action: audit.ActionConfigFixed, Priority: journal.PriNotice,
		Message: fmt.Sprintf("EnforceConfig: fixed the sshd configuration (%s): %s; %s.", why, strings.Join(notes, "; "), how),
		Fields:  map[string]string{"SSHWARDEN_FILE": main, "SSHWARDEN_CHANGES": strings.Join(notes, "\n")}})
}

// hostUsers is the user database for Match Group, read again when
// /etc/passwd or /etc/group changes (checked at most every 10 s).
type hostUsers struct {
	mu      sync.Mutex
	u       *sshdconf.FileUsers
	checked time.Time
	stamp   string
}

func (h *hostUsers) refresh() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checked = time.Time{}
}

func (h *hostUsers) get() *sshdconf.FileUsers {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.u != nil && time.Since(h.checked) < 10*time.Second {
		return h.u
	}
	h.checked = time.Now()
	var stamp strings.Builder
	for _, f := range []string{"/etc/passwd", "/etc/group"} {
		if st, err := os.Stat(f); err == nil {
			fmt.Fprintf(&stamp, "%d.%d.", st.ModTime().UnixNano(), st.Size())
		}
	}
	if h.u == nil || stamp.String() != h.stamp {
		h.u, h.stamp = sshdconf.LoadFileUsers(os.DirFS("/")), stamp.String()
	}
	return h.u
}

func (h *hostUsers) Groups(user string) ([]string, bool) { return h.get().Groups(user) }
func (h *hostUsers) Home(user string) (string, bool)     { return h.get().Home(user) }
