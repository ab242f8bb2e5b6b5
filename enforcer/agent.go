package enforcer

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-systemd/v22/journal"

	"github.com/sshwarden/sshwarden/audit"
	"github.com/sshwarden/sshwarden/policy"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/watcher"
)

// DefaultScanInterval is how often the agent looks for new sessions and
// for input on known ones when the policy sets no ScanInterval. Deadlines
// (a warning, a close) wake it on time whatever the interval.
const DefaultScanInterval = 30 * time.Second

// SessionSource finds the live sessions: a [*watcher.Scanner] on a host.
type SessionSource interface {
	Scan(now time.Time) ([]watcher.Session, []string, error)
	// Activity fingerprints what a session's processes have done so far
	// ([watcher.Scanner.Activity]); ok is false when it cannot tell.
	Activity(s watcher.Session) (fingerprint uint64, ok bool)
}

// Actions carries out decisions on live sessions: an [*Actor] on a host.
type Actions interface {
	Warn(s watcher.Session, text string) (via []string, err error)
	Close(ctx context.Context, s watcher.Session) (CloseResult, error)
}

// Agent is the loop of `sshwarden agent`: scan, decide, act, record, sleep
// until the next deadline or scan. Fill the fields, then call
// [Agent.SetPolicy] and [Agent.Run].
//
// Every action ends in one [audit.Record], as does every problem the loop
// meets; the agent hands each record to its sinks once: Metrics, which
// count the actions, then Audit.
type Agent struct {
	Sessions SessionSource
	Actions  Actions
	Audit    audit.Sink     // an [*audit.Journal] on a host; nil: no records
	Metrics  *audit.Metrics // nil: no metrics
	Users    sshdconf.Users // for Match Group; nil: Match Group never applies
	// DryRun decides and records everything and touches nothing: records
	// carry SSHWARDEN_DRY_RUN=yes.
	DryRun bool
	// Once makes Run return after one scan and its actions (and the closes
	// it started).
	Once bool
	// Notify sends a state to the service manager (sd_notify: "READY=1",
	// "STATUS=...", "WATCHDOG=1", "STOPPING=1"); nil sends nothing.
	Notify func(state string)
	// Watchdog is the service manager's watchdog period (WatchdogSec); the
	// agent pings at half of it while its loop is healthy. 0: no watchdog.
	Watchdog time.Duration

	policy atomic.Pointer[policy.Policy]
	wake   chan struct{}
	once   sync.Once

	// busySince is when the loop's current iteration began (Unix
	// nanoseconds), or 0 while it sleeps: the watchdog pings only while
	// the loop sleeps or its iteration is younger than the watchdog period.
	busySince atomic.Int64

	// status is the last STATUS line, written by the loop, read by Status.
	mu     sync.Mutex
	status string
}

func (a *Agent) init() {
	a.once.Do(func() { a.wake = make(chan struct{}, 1) })
}

// SetPolicy puts p in force, now and for the following scans. It is safe to
// call while Run runs (a reload after SIGHUP or a change of the file).
func (a *Agent) SetPolicy(p *policy.Policy) {
	a.init()
	a.policy.Store(p)
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// Policy is the policy in force.
func (a *Agent) Policy() *policy.Policy { return a.policy.Load() }

// Status is the last STATUS line the agent reported.
func (a *Agent) Status() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.status
}

func (a *Agent) notify(state string) {
	if a.Notify != nil {
		a.Notify(state)
	}
}

// Run runs the loop until ctx ends (or after one scan with Once). It
// returns nil on a clean stop: a failed scan is recorded and retried, never
// fatal, since the agent must outlive sshd restarts and /proc surprises.
func (a *Agent) Run(ctx context.Context) error {
	a.init()
	if a.policy.Load() == nil {
		return fmt.Errorf("agent: no policy")
	}
	var closes sync.WaitGroup
	defer closes.Wait()
	if a.Watchdog > 0 && a.Notify != nil {
		wctx, stop := context.WithCancel(ctx)
		defer stop()
		go a.watchdog(wctx)
	}

	var (
		state    State
		track    = tracker{seen: map[sessionKey]*seenActivity{}}
		problems = newOnce(1000)
		unknown  = map[int]time.Time{} // sshd pid: first scan of those in a row without its addresses
		lastErr  string
		first    = true
	)
	for {
		a.busySince.Store(time.Now().UnixNano())
		now := time.Now()
		p := a.policy.Load()
		sessions, probs, err := a.Sessions.Scan(now)
		took := time.Since(now)
		if a.Metrics != nil {
			a.Metrics.ObserveScan(took)
		}
		if err != nil {
			if msg := err.Error(); msg != lastErr {
				a.record(audit.Record{Action: audit.ActionError, Priority: journal.PriErr,
					Message: "Scanning for SSH sessions failed: " + msg + "; retrying.",
					Fields:  map[string]string{"SSHWARDEN_ERROR": msg}})
				lastErr = msg
			}
		} else {
			lastErr = ""
			for _, pr := range probs {
				if problems.first(pr) {
					a.record(audit.Record{Action: audit.ActionError, Priority: journal.PriWarning,
						Message: "A process looked like part of an SSH session but was left out: " + pr,
						Fields:  map[string]string{"SSHWARDEN_ERROR": pr}})
				}
			}
		}

		// The policy for each session, evaluated once per scan.
		effective := make(map[int]policy.Effective, len(sessions))
		rules := func(s watcher.Session) policy.Effective {
			e, ok := effective[s.PID]
			if !ok {
				e = p.For(s, a.Users)
				effective[s.PID] = e
			}
			return e
		}
		// A session whose addresses are unknown (the scan did not find
		// its socket) would get the rules of the blocks that do not test
		// addresses, maybe not its own: an address that is Exempt must
		// never be closed for a missed read. It is left alone until its
		// addresses are known; Decide keeps what it did to it meanwhile.
		// A session that is ending has closed its socket before its
		// processes exit, so a scan without addresses is normal then: the
		// error is recorded once the addresses have been missing from
		// every scan for unknownFor.
		decidable := sessions
		if p.MatchesAddresses() {
			decidable = make([]watcher.Session, 0, len(sessions))
			still := make(map[int]time.Time, len(unknown))
			for _, s := range sessions {
				if s.Kind != watcher.KindNone && (!s.Remote.IsValid() || !s.Local.IsValid()) {
					since, ok := unknown[s.PID]
					if !ok {
						since = now
					}
					still[s.PID] = since
					if msg := fmt.Sprintf("session %d: its addresses are unknown", s.PID); now.Sub(since) >= unknownFor && problems.first(msg) {
						a.record(audit.Record{Action: audit.ActionError, Priority: journal.PriWarning, Session: &s,
							Message: fmt.Sprintf("Left %s alone: the policy's Match blocks test addresses, and the session's are unknown (its socket was not found for %s); it is looked at again at each scan.", sessionPhrase(s), now.Sub(since).Round(time.Second)),
							Fields:  map[string]string{"SSHWARDEN_ERROR": msg}})
					}
					continue
				}
				decidable = append(decidable, s)
			}
			unknown = still
		}
		acts := track.activities(now, decidable, a.Sessions, rules)
		actions, next := Decide(now, acts, rules, &state)
		for _, x := range actions {
			a.carryOut(ctx, x, &closes)
		}

		kinds := map[string]int{string(watcher.KindPTY): 0, string(watcher.KindNoTTY): 0, string(watcher.KindNone): 0}
		for _, s := range sessions {
			kinds[string(s.Kind)]++
		}
		if a.Metrics != nil {
			a.Metrics.SetSessions(kinds)
			if f := p.Global.MetricsFile; f != nil {
				if err := a.Metrics.WriteFile(f.Value); err != nil {
					if problems.first("metrics: " + err.Error()) {
						a.record(audit.Record{Action: audit.ActionError, Priority: journal.PriWarning,
							Message: "Writing the metrics file failed: " + err.Error(),
							Fields:  map[string]string{"SSHWARDEN_ERROR": err.Error(), "SSHWARDEN_FILE": f.Value}})
					}
				}
			}
		}
		status := fmt.Sprintf("watching %d SSH sessions (%d pty, %d notty, %d -N)",
			len(sessions), kinds[string(watcher.KindPTY)], kinds[string(watcher.KindNoTTY)], kinds[string(watcher.KindNone)])
		if a.DryRun {
			status += ", dry run"
		}
		a.mu.Lock()
		changed := status != a.status
		a.status = status
		a.mu.Unlock()
		if first {
			a.notify("READY=1\nSTATUS=" + status)
			first = false
		} else if changed {
			a.notify("STATUS=" + status)
		}
		if a.Once {
			return nil
		}

		wakeAt := now.Add(scanInterval(p))
		if !next.IsZero() && next.Before(wakeAt) {
			wakeAt = next
		}
		a.busySince.Store(0)
		timer := time.NewTimer(time.Until(wakeAt))
		select {
		case <-ctx.Done():
			timer.Stop()
			a.notify("STOPPING=1")
			return nil
		case <-a.wake:
			timer.Stop()
		case <-timer.C:
		}
	}
}

func scanInterval(p *policy.Policy) time.Duration {
	if p.Global.ScanInterval != nil && p.Global.ScanInterval.Value > 0 {
		return p.Global.ScanInterval.Value
	}
	return DefaultScanInterval
}

// watchdog pings the service manager at half the watchdog period while the
// loop is asleep or in an iteration younger than the period: a loop stuck
// in a scan stops the pings and lets systemd restart the agent.
func (a *Agent) watchdog(ctx context.Context) {
	t := time.NewTicker(a.Watchdog / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			busy := a.busySince.Load()
			if busy == 0 || time.Since(time.Unix(0, busy)) < a.Watchdog {
				a.notify("WATCHDOG=1")
			}
		}
	}
}

// record hands r to the agent's sinks.
func (a *Agent) record(r audit.Record) {
	r.DryRun = r.DryRun || a.DryRun
	if a.Metrics != nil {
		a.Metrics.Record(r)
	}
	if a.Audit != nil {
		a.Audit.Record(r)
	}
}

// carryOut carries out the decision x and records what came of it: a
// warning or a heeded record now, a close in its own goroutine (a close
// waits for the session to end and must not hold up the loop). In a dry
// run nothing is done, and the record says what would have been.
func (a *Agent) carryOut(ctx context.Context, x Action, closes *sync.WaitGroup) {
	switch {
	case x.Kind == audit.ActionWarn:
		a.record(a.warn(x))
	case x.Kind == audit.ActionHeeded:
		a.record(heeded(x))
	case x.Kind == audit.ActionClose && a.DryRun:
		r := newRecord(x)
		r.Message = "Would close " + sessionPhrase(x.Session) + ": " + why(x) + " (dry run: nothing signalled)."
		a.record(r)
	case x.Kind == audit.ActionClose:
		closes.Add(1)
		go func() {
			defer closes.Done()
			res, err := a.Actions.Close(ctx, x.Session)
			a.record(closed(x, res, err))
		}()
	}
}

// warn writes the warning x on its session's tty (not in a dry run), and
// returns its record: warn, or warn-failed.
func (a *Agent) warn(x Action) audit.Record {
	s := x.Session
	r := newRecord(x)
	if a.DryRun {
		r.Message = "Would warn " + sessionPhrase(s) + ": " + why(x) + "; " + closesIn(x) + " (dry run: nothing written)."
		return r
	}
	via, err := a.Actions.Warn(s, ExpandWarnMessage(x))
	if err != nil {
		r.Action, r.Priority = audit.ActionWarnFailed, journal.PriWarning
		r.Message = "Could not warn " + sessionPhrase(s) + ": " + err.Error() + "; " + why(x) + "; " + closesIn(x) + "."
		r.Fields["SSHWARDEN_ERROR"] = err.Error()
		return r
	}
	r.Fields["SSHWARDEN_VIA"] = strings.Join(via, " ")
	r.Message = "Warned " + sessionPhrase(s) + " on " + strings.Join(via, ", ") + ": " + why(x) + "; " + closesIn(x) + "."
	return r
}

// heeded is the record of the heeded decision x.
func heeded(x Action) audit.Record {
	r := newRecord(x)
	r.Message = "Input on " + sessionPhrase(x.Session) + " after its idle warning: the close is called off, and a new idle period begins (limit IdleTimeout " + human(x.Limit) + ", " + posRule(x.Rule) + ")."
	return r
}

// closed is the record of the close x, given what [Actions.Close] returned:
// close, or close-failed when it failed or the session is still there.
func closed(x Action, res CloseResult, err error) audit.Record {
	s := x.Session
	r := newRecord(x)
	if err != nil || !res.Gone {
		r.Action, r.Priority = audit.ActionCloseFailed, journal.PriErr
		msg := "the session is still there"
		if err != nil {
			msg = err.Error()
		}
		r.Fields["SSHWARDEN_ERROR"] = msg
		r.Message = "Could not close " + sessionPhrase(s) + ": " + msg + "; " + why(x) + "."
		return r
	}
	r.Fields["SSHWARDEN_SIGNALLED"] = pids(res.Terminated)
	if len(res.Killed) > 0 {
		r.Fields["SSHWARDEN_KILLED"] = pids(res.Killed)
	}
	r.Message = "Closed " + sessionPhrase(s) + ": " + why(x) + "; sent SIGTERM to " + plural(len(res.Terminated), "process", "processes") + " " + pids(res.Terminated)
	if len(res.Killed) > 0 {
		r.Message += " and SIGKILL to " + pids(res.Killed) + " after they outlived the grace period"
	}
	r.Message += "."
	return r
}

// newRecord is [ActionRecord] with room for more fields.
func newRecord(x Action) audit.Record {
	r := ActionRecord(x)
	r.Fields = map[string]string{}
	return r
}

// posRule is [audit.Rule] for messages: "default" for a built-in value.
func posRule(p sshdconf.Pos) string {
	if r := audit.Rule(p); r != "" {
		return r
	}
	return "default"
}

// sessionPhrase names a session for an auditor: who, from where, on which tty.
func sessionPhrase(s watcher.Session) string {
	var b strings.Builder
	b.WriteString("the SSH session of ")
	b.WriteString(strconv.Quote(s.User))
	if s.Remote.IsValid() {
		fmt.Fprintf(&b, " from %s port %d", s.Remote.Addr(), s.Remote.Port())
	}
	switch {
	case s.TTY != "":
		b.WriteString(" on " + s.TTY)
	case s.Kind == watcher.KindNoTTY && s.Command != "":
		b.WriteString(" running " + strconv.Quote(truncate(s.Command, 80)))
	case s.Kind == watcher.KindNoTTY:
		b.WriteString(" without a terminal")
	}
	fmt.Fprintf(&b, " (sshd pid %d)", s.PID)
	return b.String()
}

// why says which limit was reached and which rule set it.
func why(x Action) string {
	if x.Reason == audit.ReasonMaxSessionTime {
		return fmt.Sprintf("open for %s, limit MaxSessionTime %s (%s)", human(x.Age), human(x.Limit), posRule(x.Rule))
	}
	return fmt.Sprintf("idle for %s, limit IdleTimeout %s (%s)", human(x.Idle), human(x.Limit), posRule(x.Rule))
}

func closesIn(x Action) string {
	return "it closes in " + human(x.Left) + " unless " + map[bool]string{true: "it ends first", false: "the user types"}[x.Reason == audit.ReasonMaxSessionTime]
}

// DefaultWarnMessage is the warning written to a session when the policy
// sets no WarnMessage. It asks for Enter, not for any key: the idle clock
// of a terminal (its atime) moves when a program reads input, and a
// program that reads its terminal line by line (cat, read, most prompts)
// gets typed keys only at Enter, while one that reads each key (bash's
// prompt, an editor) gets Enter too (measured with sshd and a pty:
// TestIdleLineBuffered).
const (
	DefaultWarnMessage    = "sshwarden: this session has been idle for %i; it will be closed in %l. Press Enter to keep it open."
	DefaultMaxWarnMessage = "sshwarden: this session has been open for %a; it will be closed in %l (maximum session time)."
)

// ExpandWarnMessage expands the warning's template (WarnMessage, or the default):
// %u the user, %i the idle time, %a the session's age, %l the time left,
// %t the tty, %r the reason (idle, max-session-time), %% a percent sign.
// An unknown %x stays as it is.
func ExpandWarnMessage(x Action) string {
	tmpl := x.Message
	if tmpl == "" {
		tmpl = DefaultWarnMessage
		if x.Reason == audit.ReasonMaxSessionTime {
			tmpl = DefaultMaxWarnMessage
		}
	}
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if c != '%' || i+1 == len(tmpl) {
			b.WriteByte(c)
			continue
		}
		i++
		switch tmpl[i] {
		case 'u':
			b.WriteString(x.Session.User)
		case 'i':
			b.WriteString(human(x.Idle))
		case 'a':
			b.WriteString(human(x.Age))
		case 'l':
			b.WriteString(human(x.Left))
		case 't':
			b.WriteString(x.Session.TTY)
		case 'r':
			b.WriteString(x.Reason)
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(tmpl[i])
		}
	}
	return b.String()
}

// human prints a duration to the second, without zero units: 15m, 1m30s,
// 1h, 2h0m5s stays 2h0m5s.
func human(d time.Duration) string {
	d = d.Round(time.Second)
	if d <= 0 {
		return "0s"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func pids(ps []int) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = strconv.Itoa(p)
	}
	return strings.Join(out, " ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// tracker turns scans into [Activity]: the time of each session's last
// input, as late as the facts allow, so that nothing is closed early.
type tracker struct {
	seen map[sessionKey]*seenActivity
}

type seenActivity struct {
	fingerprint uint64
	ok          bool
	last        time.Time
	missed      int // scans in a row without the session (see forgetAfter)
}

// activities gives each session its last input:
//
//   - pty: [PTYLastInput], the end of the kernel's 8-second atime window:
//     a close is up to 8 s late, never early.
//   - notty: the first scan that saw the session, then each scan at which
//     its processes' fingerprint changed ([watcher.Scanner.Activity]).
//   - none (ssh -N): unknown.
//
// A notty session's processes are looked at only when its policy may close
// it for idleness (IdleTimeout with CloseNoTTY yes, not Exempt): on most
// hosts scp, rsync and Ansible sessions are left alone, and cost nothing.
func (t *tracker) activities(now time.Time, sessions []watcher.Session, src SessionSource, rules func(watcher.Session) policy.Effective) []Activity {
	acts := make([]Activity, 0, len(sessions))
	live := make(map[sessionKey]bool, len(sessions))
	for _, s := range sessions {
		a := Activity{Session: s}
		switch s.Kind {
		case watcher.KindPTY:
			if s.Idle != nil {
				a.LastInput = PTYLastInput(now, *s.Idle)
			}
		case watcher.KindNoTTY:
			if e := rules(s); e.Exempt.Value || !e.CloseNoTTY.Value || e.IdleTimeout.Value <= 0 {
				break
			}
			k := keyOf(s)
			live[k] = true
			fp, ok := src.Activity(s)
			prev := t.seen[k]
			if prev != nil {
				prev.missed = 0
			}
			switch {
			case prev == nil:
				prev = &seenActivity{fingerprint: fp, ok: ok, last: now}
				t.seen[k] = prev
			case ok != prev.ok || fp != prev.fingerprint:
				prev.fingerprint, prev.ok, prev.last = fp, ok, now
			}
			a.LastInput = prev.last
		}
		acts = append(acts, a)
	}
	for k, prev := range t.seen {
		if !live[k] {
			if prev.missed++; prev.missed >= forgetAfter {
				delete(t.seen, k)
			}
		}
	}
	return acts
}

// onceSet remembers up to n strings, to record each problem once.
type onceSet struct {
	n    int
	seen map[string]bool
}

func newOnce(n int) *onceSet { return &onceSet{n: n, seen: map[string]bool{}} }

func (o *onceSet) first(s string) bool {
	if o.seen[s] {
		return false
	}
	if len(o.seen) >= o.n {
		clear(o.seen)
	}
	o.seen[s] = true
	return true
}
