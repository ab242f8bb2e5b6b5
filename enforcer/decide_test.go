package enforcer

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sshwarden/sshwarden/audit"
	"github.com/sshwarden/sshwarden/policy"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/watcher"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	unknown = time.Duration(-1) // step.input: no known last input
	none    = time.Duration(-1) // step.next: no deadline
)

// step is one call of Decide at t0+at, with the session's last input at
// t0+input, the actions it must decide and the next deadline it must give.
type step struct {
	at, input time.Duration
	want      []string
	next      time.Duration
}

func describe(a Action) string {
	s := a.Kind + " " + a.Reason
	if a.Reason == audit.ReasonIdle {
		s += fmt.Sprintf(" idle=%v", a.Idle)
	} else {
		s += fmt.Sprintf(" age=%v", a.Age)
	}
	if a.Kind == audit.ActionWarn {
		s += fmt.Sprintf(" left=%v", a.Left)
	}
	return s
}

func pos(line int) sshdconf.Pos { return sshdconf.Pos{File: "p.conf", Line: line, Col: 1} }

// limits is a session's policy with these limits, set at lines 1-3.
func limits(idle, warn, maxAge time.Duration) policy.Effective {
	return policy.Effective{
		IdleTimeout:    policy.Duration{Value: idle, Pos: pos(1)},
		WarnBefore:     policy.Duration{Value: warn, Pos: pos(2)},
		MaxSessionTime: policy.Duration{Value: maxAge, Pos: pos(3)},
	}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	exempt := limits(15*time.Minute, time.Minute, time.Hour)
	exempt.Exempt = policy.Bool{Value: true, Pos: pos(4)}
	noTTYClose := limits(15*time.Minute, time.Minute, 0)
	noTTYClose.CloseNoTTY = policy.Bool{Value: true, Pos: pos(5)}
	const m, h = time.Minute, time.Hour
	tests := []struct {
		name  string
		kind  watcher.Kind
		rules policy.Effective
		steps []step
	}{
		{"idle pty: warn at T-W, close at T, then nothing more", watcher.KindPTY, limits(15*m, m, 0), []step{
			{at: 0, input: 0, next: 14 * m},
			{at: 13 * m, input: 0, next: 14 * m},
			{at: 14 * m, input: 0, want: []string{"warn idle idle=14m0s left=1m0s"}, next: 15 * m},
			{at: 14*m + 30*time.Second, input: 0, next: 15 * m}, // warned once
			{at: 15 * m, input: 0, want: []string{"close idle idle=15m0s"}, next: none},
			{at: 16 * m, input: 0, next: none}, // closed once
		}},
		{"input after the warning resets the clock and warns again", watcher.KindPTY, limits(15*m, m, 0), []step{
			{at: 14 * m, input: 0, want: []string{"warn idle idle=14m0s left=1m0s"}, next: 15 * m},
			{at: 14*m + 40*time.Second, input: 14*m + 20*time.Second, want: []string{"heeded idle idle=20s"}, next: 28*m + 20*time.Second},
			{at: 15 * m, input: 14*m + 20*time.Second, next: 28*m + 20*time.Second}, // no close at the old deadline, heeded once
			{at: 28*m + 20*time.Second, input: 14*m + 20*time.Second, want: []string{"warn idle idle=14m0s left=1m0s"}, next: 29*m + 20*time.Second},
			{at: 29*m + 20*time.Second, input: 14*m + 20*time.Second, want: []string{"close idle idle=15m0s"}, next: none},
		}},
		{"input before the warning moves the deadlines", watcher.KindPTY, limits(15*m, m, 0), []step{
			{at: 10 * m, input: 9 * m, next: 23 * m},
			{at: 14 * m, input: 9 * m, next: 23 * m},
			{at: 23 * m, input: 9 * m, want: []string{"warn idle idle=14m0s left=1m0s"}, next: 24 * m},
		}},
		{"exempt: never", watcher.KindPTY, exempt, []step{
			{at: 0, input: 0, next: none},
			{at: 14 * m, input: 0, next: none},
			{at: 100 * h, input: 0, next: none},
		}},
		{"ssh -N: left to sshd", watcher.KindNone, limits(15*m, m, h), []step{
			{at: 0, input: unknown, next: none},
			{at: 100 * h, input: unknown, next: none},
		}},
		{"max-session-time warns and closes an active session", watcher.KindPTY, limits(15*m, 5*m, h), []step{
			{at: 54 * m, input: 54 * m, next: 55 * m},
			{at: 55 * m, input: 55 * m, want: []string{"warn max-session-time age=55m0s left=5m0s"}, next: h},
			{at: 59 * m, input: 59 * m, next: h},
			{at: h, input: h, want: []string{"close max-session-time age=1h0m0s"}, next: none},
		}},
		{"WarnBefore 0: close without a warning", watcher.KindPTY, limits(15*m, 0, 0), []step{
			{at: 14 * m, input: 0, next: 15 * m},
			{at: 15 * m, input: 0, want: []string{"close idle idle=15m0s"}, next: none},
		}},
		{"IdleTimeout 0: no idle limit", watcher.KindPTY, limits(0, m, 0), []step{
			{at: 0, input: 0, next: none},
			{at: 100 * h, input: 0, next: none},
		}},
		{"found past its limit unwarned (agent start, late wake): warned first, closed WarnBefore later", watcher.KindPTY, limits(15*m, m, 0), []step{
			{at: 20 * m, input: 0, want: []string{"warn idle idle=20m0s left=1m0s"}, next: 21 * m},
			{at: 20*m + 30*time.Second, input: 0, next: 21 * m},
			{at: 21 * m, input: 0, want: []string{"close idle idle=21m0s"}, next: none},
		}},
		{"found past both limits: both warned, then the idle close (a tie goes to idle)", watcher.KindPTY, limits(15*m, m, 20*m), []step{
			{at: 30 * m, input: 0, want: []string{"warn idle idle=30m0s left=1m0s", "warn max-session-time age=30m0s left=1m0s"}, next: 31 * m},
			{at: 31 * m, input: 0, want: []string{"close idle idle=31m0s"}, next: none},
		}},
		{"a late warning is still heeded: input after it, no close", watcher.KindPTY, limits(15*m, m, 0), []step{
			{at: 20 * m, input: 0, want: []string{"warn idle idle=20m0s left=1m0s"}, next: 21 * m},
			{at: 21 * m, input: 20*m + 30*time.Second, want: []string{"heeded idle idle=30s"}, next: 34*m + 30*time.Second},
		}},
		{"WarnBefore 0 and found past the limit: closed at once", watcher.KindPTY, limits(15*m, 0, 0), []step{
			{at: 20 * m, input: 0, want: []string{"close idle idle=20m0s"}, next: none},
		}},
		{"idle warn and max-session-time warn due together", watcher.KindPTY, limits(15*m, m, 15*m), []step{
			{at: 14 * m, input: 0, want: []string{"warn idle idle=14m0s left=1m0s", "warn max-session-time age=14m0s left=1m0s"}, next: 15 * m},
			{at: 15 * m, input: 0, want: []string{"close idle idle=15m0s"}, next: none},
		}},
		{"pty with unknown idle: only max-session-time", watcher.KindPTY, limits(15*m, m, h), []step{
			{at: 30 * m, input: unknown, next: 59 * m},
			{at: 59 * m, input: unknown, want: []string{"warn max-session-time age=59m0s left=1m0s"}, next: h},
		}},
		{"notty without CloseNoTTY: not closed for idleness", watcher.KindNoTTY, limits(15*m, m, 0), []step{
			{at: 0, input: 0, next: none},
			{at: 100 * h, input: 0, next: none},
		}},
		{"notty without CloseNoTTY: max-session-time still applies", watcher.KindNoTTY, limits(15*m, m, h), []step{
			{at: 30 * m, input: 0, next: 59 * m},
			{at: h, input: 0, want: []string{"warn max-session-time age=1h0m0s left=1m0s"}, next: h + m},
			{at: h + m, input: 0, want: []string{"close max-session-time age=1h1m0s"}, next: none},
		}},
		{"notty with CloseNoTTY: idle by its counters", watcher.KindNoTTY, noTTYClose, []step{
			{at: 14 * m, input: 0, want: []string{"warn idle idle=14m0s left=1m0s"}, next: 15 * m},
			{at: 15 * m, input: 0, want: []string{"close idle idle=15m0s"}, next: none},
		}},
		{"notty with CloseNoTTY but unknown activity: nothing", watcher.KindNoTTY, noTTYClose, []step{
			{at: 100 * h, input: unknown, next: none},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := watcher.Session{PID: 42, User: "alice", Kind: tt.kind, Started: t0}
			rules := func(watcher.Session) policy.Effective { return tt.rules }
			var st State
			for _, sp := range tt.steps {
				a := Activity{Session: s}
				if sp.input != unknown {
					a.LastInput = t0.Add(sp.input)
				}
				actions, next := Decide(t0.Add(sp.at), []Activity{a}, rules, &st)
				var got []string
				for _, x := range actions {
					got = append(got, describe(x))
				}
				if d := cmp.Diff(sp.want, got); d != "" {
					t.Errorf("at %v: actions mismatch (-want +got):\n%s", sp.at, d)
				}
				wantNext := time.Time{}
				if sp.next != none {
					wantNext = t0.Add(sp.next)
				}
				if !next.Equal(wantNext) {
					t.Errorf("at %v: next = %v, want %v", sp.at, next, wantNext)
				}
			}
		})
	}
}

// TestDecideAction checks a whole Action: the rule that set the limit, the
// session, the times and the message template.
func TestDecideAction(t *testing.T) {
	t.Parallel()
	rules := limits(15*time.Minute, time.Minute, 0)
	rules.WarnMessage = policy.String{Value: "bye %u", Pos: pos(9)}
	s := watcher.Session{PID: 42, User: "alice", Kind: watcher.KindPTY, TTY: "pts/3", Started: t0.Add(-time.Hour)}
	now := t0.Add(14 * time.Minute)
	var st State
	got, _ := Decide(now, []Activity{{Session: s, LastInput: t0}}, func(watcher.Session) policy.Effective { return rules }, &st)
	want := []Action{{
		Kind: audit.ActionWarn, Reason: audit.ReasonIdle, Session: s,
		Limit: 15 * time.Minute, Rule: sshdconf.Pos{File: "p.conf", Line: 1, Col: 1},
		Idle: 14 * time.Minute, Age: 74 * time.Minute, Left: time.Minute,
		Message: "bye %u", At: now,
	}}
	addrs := cmp.Comparer(func(x, y netip.AddrPort) bool { return x == y })
	if d := cmp.Diff(want, got, addrs); d != "" {
		t.Errorf("Decide mismatch (-want +got):\n%s", d)
	}
	if r := got[0].Rule.String(); r != "p.conf:1:1" {
		t.Errorf("Rule = %q, want %q", r, "p.conf:1:1")
	}
}

// TestDecideForgets: a session missing from a scan is remembered for
// forgetAfter scans (a scan can miss a live session: it comes back with
// its warning on record), then forgotten; a session with the same PID but
// another start time is a new one.
func TestDecideForgets(t *testing.T) {
	t.Parallel()
	rules := func(watcher.Session) policy.Effective { return limits(15*time.Minute, time.Minute, 0) }
	a := watcher.Session{PID: 1, Kind: watcher.KindPTY, Started: t0}
	b := watcher.Session{PID: 2, Kind: watcher.KindPTY, Started: t0}
	var st State
	at := func(d time.Duration) time.Time { return t0.Add(d) }

	acts, next := Decide(at(14*time.Minute), []Activity{{a, t0}, {b, at(5 * time.Minute)}}, rules, &st)
	if len(acts) != 1 || acts[0].Session.PID != 1 || acts[0].Kind != audit.ActionWarn {
		t.Fatalf("at 14m: actions = %v, want a warning of pid 1", acts)
	}
	if !next.Equal(at(15 * time.Minute)) {
		t.Errorf("at 14m: next = %v, want 15m", next)
	}
	if st.Len() != 2 {
		t.Errorf("at 14m: state holds %d sessions, want 2", st.Len())
	}

	// a is missing from one scan: only b's deadlines count, a's warning
	// stays on record.
	acts, next = Decide(at(14*time.Minute+20*time.Second), []Activity{{b, at(5 * time.Minute)}}, rules, &st)
	if len(acts) != 0 || !next.Equal(at(19*time.Minute)) || st.Len() != 2 {
		t.Errorf("a missing once: actions %v, next %v, state %d; want none, 19m, 2", acts, next, st.Len())
	}
	// a is back: not warned again, closed at the deadline of its warning.
	acts, _ = Decide(at(14*time.Minute+40*time.Second), []Activity{{a, t0}, {b, at(5 * time.Minute)}}, rules, &st)
	if len(acts) != 0 {
		t.Errorf("a back: actions = %v, want none (warned already)", acts)
	}
	acts, _ = Decide(at(15*time.Minute), []Activity{{a, t0}, {b, at(5 * time.Minute)}}, rules, &st)
	if len(acts) != 1 || acts[0].Kind != audit.ActionClose || acts[0].Session.PID != 1 {
		t.Errorf("a at its deadline: actions = %v, want its close", acts)
	}

	// a gone for good: forgotten after forgetAfter scans without it.
	for i := 1; i <= forgetAfter; i++ {
		Decide(at(15*time.Minute+time.Duration(i)*time.Second), []Activity{{b, at(5 * time.Minute)}}, rules, &st)
		if want := 2 - i/forgetAfter; st.Len() != want {
			t.Errorf("%d scans without a: state holds %d sessions, want %d", i, st.Len(), want)
		}
	}

	// A new session reuses pid 1: it has no warning on record, so its own
	// idle period warns it.
	a2 := watcher.Session{PID: 1, Kind: watcher.KindPTY, Started: at(time.Minute)}
	acts, _ = Decide(at(16*time.Minute), []Activity{{a2, at(time.Minute)}, {b, at(5 * time.Minute)}}, rules, &st)
	if got := fmt.Sprint(len(acts)); got != "1" || acts[0].Kind != audit.ActionWarn || acts[0].Session.Started != a2.Started {
		t.Errorf("recycled pid: actions = %v, want one warning of the new session", acts)
	}

	// Everything gone: no decision, and the state empties after
	// forgetAfter scans.
	for i := 1; i <= forgetAfter; i++ {
		if acts, next = Decide(at(17*time.Minute+time.Duration(i)*time.Second), nil, rules, &st); len(acts) != 0 || !next.IsZero() {
			t.Errorf("no sessions: actions %v, next %v, want none, zero", acts, next)
		}
	}
	if st.Len() != 0 {
		t.Errorf("no sessions for %d scans: state holds %d sessions, want 0", forgetAfter, st.Len())
	}
}
