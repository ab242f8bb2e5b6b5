package enforcer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/journal"

	"github.com/sshwarden/sshwarden/audit"
	"github.com/sshwarden/sshwarden/internal/host"
	"github.com/sshwarden/sshwarden/policy"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/lint"
	"github.com/sshwarden/sshwarden/watcher"
)

// Supervisor runs an [Agent] and keeps what it enforces current, as
// `sshwarden agent` does: it reloads the policy on SIGHUP or when the
// policy file changes (a broken one is refused, the last good one stays),
// publishes the outcome of each reload ([StateWriter]), watches
// sshd_config and every file it includes for drift from the policy and,
// with "EnforceConfig yes", fixes it ([host.Apply]). Every such event is
// one audit record.
//
// Its side effects go through its fields, so that tests drive it with
// fakes; Run is its one entry point.
type Supervisor struct {
	Agent *Agent // the loop; its Audit, Metrics and Notify are the ones below

	// PolicyName is the policy as named (a file, or builtin:NAME); Policy
	// and PolicySum are what [ReadPolicy] read at start.
	PolicyName string
	Policy     *policy.Policy
	PolicySum  string
	// ReadPolicy reads the policy again at a reload, as [ReadPolicy] does.
	ReadPolicy func(name string) (*policy.Policy, string, error)

	// ConfigFile is sshd's main configuration file, an absolute name;
	// LoadConfig reads the configuration it starts.
	ConfigFile string
	LoadConfig func() (*sshdconf.Config, error)
	// Stat is what lint's file-permissions check reads; nil: the files of
	// this host ([lint.ReadStat]).
	Stat func(*sshdconf.Config) func(string) (int, uint32, bool)
	// Fix fixes the configuration with EnforceConfig; nil: [host.Apply].
	Fix func(context.Context, host.ApplyOptions) (*host.Applied, error)
	// WatchFiles watches files, and the files that globs name, for
	// changes; nil: nothing is watched, changes are seen on SIGHUP.
	WatchFiles func(files, globs []string) (FileWatcher, error)

	// Hangup delivers SIGHUP: reload the policy, look at the configuration
	// and the user database again.
	Hangup <-chan os.Signal
	Audit  audit.Sink
	// AuditSink says where the records go, for the agent-started record.
	AuditSink string
	Metrics   *audit.Metrics // nil: no metrics
	// Users is the user database for Match Group, read again at each
	// reload; nil: none.
	Users interface{ Refresh() }
	// Notify sends a state to the service manager (sd_notify); nil: none.
	Notify func(state string)
	// State publishes the outcome of each reload; nil: none.
	State StateWriter

	Version string
	DryRun  bool // records carry SSHWARDEN_DRY_RUN=yes; EnforceConfig writes nothing
	Once    bool // one check and one scan, then Run returns
	// CheckSlow is how long a configuration check may run before a record
	// says it is slow (it goes on, and enforcement with it); 0: a minute.
	CheckSlow time.Duration
}

// FileWatcher reports changes to a set of files (see [watcher.FileWatch]).
type FileWatcher interface {
	Set(files, globs []string) error
	Events() <-chan []string
	Errors() <-chan error
	Close() error
}

// StateWriter publishes the outcome of each reload (see [StateFile]).
type StateWriter interface {
	Write(ReloadState)
	Remove() // when the agent stops
}

// checkSlow is the default of Supervisor.CheckSlow.
const checkSlow = time.Minute

func (s *Supervisor) notify(state string) {
	if s.Notify != nil {
		s.Notify(state)
	}
}

func (s *Supervisor) record(r audit.Record) { s.Audit.Record(r) }

// Run puts the policy in force, runs the agent, and supervises it until
// ctx is done (or, with Once, after one scan). It returns the agent's
// error.
func (s *Supervisor) Run(ctx context.Context) error {
	a := s.Agent
	if s.Metrics != nil {
		s.Metrics.SetPolicyOK(true, time.Now())
	}
	a.SetPolicy(s.Policy)
	mode := ""
	if s.DryRun {
		mode = " in dry-run mode (nothing is warned or closed)"
	}
	name := s.PolicyName
	s.record(audit.Record{Action: audit.ActionAgentStarted, Priority: journal.PriInfo, DryRun: s.DryRun,
		Message: fmt.Sprintf("sshwarden agent %s started%s with policy %s (%s); audit records go to %s.", s.Version, mode, name, PolicySummary(s.Policy), s.AuditSink),
		Fields:  map[string]string{"SSHWARDEN_POLICY": name, "SSHWARDEN_POLICY_SHA256": s.PolicySum, "SSHWARDEN_VERSION": s.Version}})

	d := &drift{s: s}
	if s.Once {
		d.check(s.Policy, "at start")
		err := a.Run(ctx)
		s.record(audit.Record{Action: audit.ActionAgentStopped, Priority: journal.PriInfo, DryRun: s.DryRun,
			Message: "sshwarden agent stopped after one scan (--once): " + a.Status() + "."})
		return err
	}

	policyFile := ""
	if !strings.HasPrefix(name, "builtin:") {
		policyFile = absPath(name)
	}
	st := ReloadState{PID: os.Getpid(), Trigger: TriggerStart, Outcome: OutcomeLoaded, Policy: PolicyID(name), InForce: s.PolicySum, Read: s.PolicySum}
	if s.State != nil {
		s.State.Write(st)
		defer s.State.Remove()
	}
	files, globs := []string{s.ConfigFile}, []string(nil)
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
	slow := s.CheckSlow
	if slow <= 0 {
		slow = checkSlow
	}
	checks := startChecks(d, slow)
	defer checks.stop()
	checks.request(s.Policy, "at start")
	var fw FileWatcher
	if s.WatchFiles != nil {
		var err error
		if fw, err = s.WatchFiles(watched(), globs); err != nil {
			fw = nil
			s.record(audit.Record{Action: audit.ActionError, Priority: journal.PriErr,
				Message: "Cannot watch the configuration for changes: " + err.Error() + "; drift and policy changes are seen only on SIGHUP.",
				Fields:  map[string]string{"SSHWARDEN_ERROR": err.Error()}})
		} else {
			defer fw.Close()
		}
	}

	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()

	r := &reloader{s: s, name: name, st: st, seen: s.PolicySum}
	var events <-chan []string
	var watchErrs <-chan error
	if fw != nil {
		events, watchErrs = fw.Events(), fw.Errors()
	}
	for {
		select {
		case err := <-done:
			s.record(audit.Record{Action: audit.ActionAgentStopped, Priority: journal.PriInfo, DryRun: s.DryRun,
				Message: "sshwarden agent stopped."})
			return err
		case <-s.Hangup:
			r.reload(TriggerSIGHUP, checks)
		case changed := <-events:
			if policyFile != "" && slices.Contains(changed, policyFile) {
				r.reload(TriggerFile, checks)
				continue
			}
			checks.request(a.Policy(), "after "+strings.Join(changed, ", ")+" changed")
		case res := <-checks.results:
			files, globs = res.files, res.globs
			d.watch(fw, watched(), globs)
		case err := <-watchErrs:
			s.record(audit.Record{Action: audit.ActionError, Priority: journal.PriWarning,
				Message: "Watching the configuration: " + err.Error(),
				Fields:  map[string]string{"SSHWARDEN_ERROR": err.Error()}})
		}
	}
}

// reloader judges the policy file again on SIGHUP or when it changes, and
// publishes the outcome in the reload state that `agent --reload` waits
// for.
type reloader struct {
	s    *Supervisor
	name string
	st   ReloadState
	// seen is the version of the policy file the agent judged last: its
	// digest, or why it could not be read; seenErr is why it was refused,
	// "" when it is the one in force. A reload that finds that version
	// again, whatever started it, changes and records nothing: one edit
	// seen by the watch and then by systemctl reload is one record.
	seen, seenErr string
}

// reload reads the policy again and puts it in force if it is new and
// valid; then it asks checks for the configuration checks that follow.
func (r *reloader) reload(trigger string, checks *checks) {
	s, a, st := r.s, r.s.Agent, &r.st
	np, read, err := s.ReadPolicy(r.name)
	key := read
	if read == "" {
		key, read = "unreadable: "+err.Error(), DigestNone
	}
	if trigger == TriggerFile && key == r.seen {
		// The watch saw the version judged last: a SIGHUP for the same
		// edit came first. Nothing changes and nobody waits for an
		// answer; publishing one would replace the SIGHUP's, which
		// `agent --reload` may not have read yet (it waits for a
		// SIGHUP's answer, and then for 30 s in vain).
		return
	}
	s.notify(reloadingNotice())
	st.Generation++
	st.Trigger, st.Read, st.Error = trigger, read, ""
	why := "the file changed"
	if trigger == TriggerSIGHUP {
		why = "SIGHUP"
	}
	switch {
	case key == r.seen && r.seenErr == "":
		st.Outcome = OutcomeUnchanged
	case key == r.seen:
		st.Outcome, st.Error = OutcomeRefused, r.seenErr
	case err != nil:
		if s.Metrics != nil {
			s.Metrics.SetPolicyOK(false, time.Now())
		}
		s.recordPolicyError(r.name, read, err)
		st.Outcome, st.Error = OutcomeRefused, stateError(err)
		r.seen, r.seenErr = key, st.Error
	default:
		if s.Metrics != nil {
			s.Metrics.SetPolicyOK(true, time.Now())
		}
		s.refreshUsers()
		a.SetPolicy(np)
		s.record(audit.Record{Action: audit.ActionPolicyLoaded, Priority: journal.PriNotice,
			Message: fmt.Sprintf("Policy %s reloaded (%s): %s.", r.name, why, PolicySummary(np)),
			Fields:  map[string]string{"SSHWARDEN_POLICY": r.name, "SSHWARDEN_POLICY_SHA256": read}})
		st.Outcome, st.InForce = OutcomeLoaded, read
		r.seen, r.seenErr = key, ""
	}
	// systemd first (READY=1 ends the reload it saw begin), then the
	// state that `agent --reload` waits for: the policy is in force.
	s.notify("READY=1")
	if s.State != nil {
		s.State.Write(*st)
	}
	switch {
	case st.Outcome == OutcomeLoaded:
		checks.request(np, "after the policy changed")
	case trigger == TriggerSIGHUP:
		// SIGHUP also looks at the configuration again (the watch may
		// have failed) and at the user database.
		s.refreshUsers()
		checks.request(a.Policy(), "after SIGHUP")
	}
}

func (s *Supervisor) refreshUsers() {
	if s.Users != nil {
		s.Users.Refresh()
	}
}

// recordPolicyError records a policy that failed to load: every problem
// with its file:line, and the digest of the refused file (DigestNone when
// it could not be read); the policy in force stays.
func (s *Supervisor) recordPolicyError(name, sum string, err error) {
	fields := map[string]string{"SSHWARDEN_POLICY": name, "SSHWARDEN_ERROR": err.Error()}
	if sum != DigestNone {
		fields["SSHWARDEN_POLICY_SHA256"] = sum
	}
	var list sshdconf.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		fields["SSHWARDEN_FILE"] = list[0].Pos.File
		fields["SSHWARDEN_LINE"] = strconv.Itoa(list[0].Pos.Line)
	}
	s.record(audit.Record{Action: audit.ActionPolicyError, Priority: journal.PriErr,
		Message: fmt.Sprintf("The policy %s was not reloaded: %v. The last good policy stays in force.", name, err),
		Fields:  fields})
}

// ReadPolicy reads and parses a policy exactly as ld.Load does, and
// returns the SHA-256 of what it read: of the file, or for builtin:NAME of
// its name (a built-in profile changes only with the binary). The digest
// is "" when the file could not be read.
func ReadPolicy(ld policy.Loader, name string) (*policy.Policy, string, error) {
	if strings.HasPrefix(name, "builtin:") {
		p, err := ld.Load(name)
		return p, digest([]byte(name)), err
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, "", err
	}
	p, err := ld.Parse(name, b)
	return p, digest(b), err
}

// PolicyID is how the reload state names a policy: an absolute path, or
// builtin:NAME.
func PolicyID(name string) string {
	if strings.HasPrefix(name, "builtin:") {
		return name
	}
	return absPath(name)
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// PolicySummary is the policy's global limits in a few words.
func PolicySummary(p *policy.Policy) string {
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
				d.s.record(audit.Record{Action: audit.ActionError, Priority: journal.PriWarning,
					Message: fmt.Sprintf("The check of the sshd configuration (%s) has been running for %v; sessions are enforced meanwhile.", r.why, slow),
					Fields:  map[string]string{"SSHWARDEN_FILE": d.s.ConfigFile, "SSHWARDEN_ERROR": "configuration check slow"}})
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
	s    *Supervisor
	last string // the findings last recorded, to record each change once
}

// watch points fw at the files of the configuration as it is now (an
// Include may have appeared or gone).
func (d *drift) watch(fw FileWatcher, files, globs []string) {
	if fw == nil {
		return
	}
	if err := fw.Set(files, globs); err != nil {
		d.s.record(audit.Record{Action: audit.ActionError, Priority: journal.PriWarning,
			Message: "Cannot watch the configuration files for changes: " + err.Error(),
			Fields:  map[string]string{"SSHWARDEN_ERROR": err.Error()}})
	}
}

// check lints the configuration, records drift, fixes it when the policy
// says so, and returns the files and Include patterns to watch.
func (d *drift) check(p *policy.Policy, why string) (files, globs []string) {
	s := d.s
	main := s.ConfigFile
	files = []string{main}
	cfg, err := s.LoadConfig()
	if err != nil {
		key := "load: " + err.Error()
		if key != d.last {
			d.last = key
			s.record(audit.Record{Action: audit.ActionConfigDrift, Priority: journal.PriErr, DryRun: s.DryRun,
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
	if s.Metrics != nil {
		s.Metrics.SetFindings(bySeverity)
	}
	key := strings.Join(findings, "\n")
	if key == d.last {
		return files, globs
	}
	d.last = key
	if len(findings) == 0 {
		if why != "at start" {
			s.record(audit.Record{Action: audit.ActionConfigDrift, Priority: journal.PriNotice, DryRun: s.DryRun,
				Message: fmt.Sprintf("The sshd configuration %s meets the policy again (%s).", main, why),
				Fields:  map[string]string{"SSHWARDEN_FILE": main, "SSHWARDEN_FINDINGS_COUNT": "0"}})
		}
		return files, globs
	}
	s.record(audit.Record{Action: audit.ActionConfigDrift, Priority: journal.PriWarning, DryRun: s.DryRun,
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
	cfg, err := d.s.LoadConfig()
	if err != nil {
		return files, globs
	}
	findings, bySeverity := d.lint(cfg, p)
	if d.s.Metrics != nil {
		d.s.Metrics.SetFindings(bySeverity)
	}
	d.last = strings.Join(findings, "\n")
	return files, globs
}

// lint returns the findings of severity warning and above, as text lines.
func (d *drift) lint(cfg *sshdconf.Config, p *policy.Policy) ([]string, map[string]int) {
	stat := d.s.Stat
	if stat == nil {
		stat = func(cfg *sshdconf.Config) func(string) (int, uint32, bool) { return lint.ReadStat(cfg, true) }
	}
	pass := &lint.Pass{Config: cfg, Requirements: p.Requirements, Stat: stat(cfg)}
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
	s := d.s
	main := s.ConfigFile
	fail := func(err error) {
		s.record(audit.Record{Action: audit.ActionConfigFixFailed, Priority: journal.PriErr, DryRun: s.DryRun,
			Message: fmt.Sprintf("EnforceConfig: the sshd configuration %s was not fixed: %v.", main, err),
			Fields:  map[string]string{"SSHWARDEN_FILE": main, "SSHWARDEN_ERROR": err.Error()}})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	until := host.StepReload
	if s.DryRun {
		until = host.StepPlan
	}
	apply := s.Fix
	if apply == nil {
		apply = applyFix
	}
	res, err := apply(ctx, host.ApplyOptions{
		Main:         main,
		Load:         s.LoadConfig,
		Requirements: p.Requirements,
		Until:        until,
		Lock:         true,
		LockWait:     host.LockWait,
	})
	var failed *host.ApplyError
	if errors.As(err, &failed) && failed.Step == host.StepCheck {
		err = fmt.Errorf("sshd -t: %w", err)
	}
	if err != nil {
		fail(err)
		return
	}
	if len(res.Plan.Files) == 0 {
		return
	}
	var notes []string
	for _, fc := range res.Plan.Files {
		notes = append(notes, res.Config.Path(fc.Name)+": "+strings.Join(fc.Notes, "; "))
	}
	if s.DryRun {
		s.record(audit.Record{Action: audit.ActionConfigFixed, Priority: journal.PriNotice, DryRun: true,
			Message: fmt.Sprintf("EnforceConfig: would fix the sshd configuration (%s): %s (dry run: nothing written).", why, strings.Join(notes, "; ")),
			Fields:  map[string]string{"SSHWARDEN_FILE": main, "SSHWARDEN_CHANGES": strings.Join(notes, "\n")}})
		return
	}
	s.record(audit.Record{Action: audit.ActionConfigFixed, Priority: journal.PriNotice,
		Message: fmt.Sprintf("EnforceConfig: fixed the sshd configuration (%s): %s; %s.", why, strings.Join(notes, "; "), res.Reloaded),
		Fields:  map[string]string{"SSHWARDEN_FILE": main, "SSHWARDEN_CHANGES": strings.Join(notes, "\n")}})
}
