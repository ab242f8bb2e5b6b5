// Package enforcer is sshwarden's agent: what to do with the live SSH
// sessions under a policy ([Decide], a pure function of now and the
// sessions, and [Next] for a single look), the loop that scans, decides and
// acts ([Agent]), and the actions on a host ([Actor]: warn on a session's
// tty, close it).
package enforcer

import (
	"time"

	"github.com/sshwarden/sshwarden/audit"
	"github.com/sshwarden/sshwarden/policy"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/watcher"
)

// Activity is a session with the time of its last input, as the caller
// knows it: for a pty session, the scan's time minus [watcher.Session.Idle];
// for a session without a tty, the last time the counters of its processes
// moved (the caller tracks them across scans). The zero time means unknown:
// then the session is never closed for idleness.
type Activity struct {
	Session   watcher.Session
	LastInput time.Time
}

// Action is one decision: warn or close one session, and why.
type Action struct {
	Kind    string // audit.ActionWarn, audit.ActionClose or audit.ActionHeeded
	Reason  string // audit.ReasonIdle or audit.ReasonMaxSessionTime
	Session watcher.Session
	// Limit is the IdleTimeout or MaxSessionTime that applies, and Rule
	// the line that set it.
	Limit time.Duration
	Rule  sshdconf.Pos
	Idle  time.Duration // now minus the last input; 0 when unknown
	Age   time.Duration // now minus the session's start
	Left  time.Duration // time until the close deadline (0 for a close)
	// Message is the WarnMessage template for a warning ("" for the
	// agent's built-in message).
	Message string
	At      time.Time
}

// State is what the agent already did, owned by the caller and passed to
// every [Decide]. The zero State is ready to use.
type State struct {
	sessions map[sessionKey]*progress
}

// sessionKey names a session across scans: a PID alone could be recycled.
type sessionKey struct {
	pid     int
	started int64 // Started in Unix nanoseconds
}

func keyOf(s watcher.Session) sessionKey {
	return sessionKey{pid: s.PID, started: s.Started.UnixNano()}
}

// forgetAfter is how many scans in a row a session must be missing from
// before what the agent did to it is forgotten. A scan can miss a live
// session (a read of /proc/PID/net/tcp skips sockets while others close,
// see the watcher package; or the agent left it out for one scan):
// forgetting it at once would warn it again and move its close.
const forgetAfter = 3

// unknownFor is how long a session's addresses must be missing from every
// scan before the agent records it: a session that is ending has no socket
// any more while its processes exit, which is no error.
const unknownFor = 5 * time.Second

type progress struct {
	missed int // scans in a row that did not have the session
	// idleWarned is when the idle warning of the current idle period was
	// decided, zero when not warned. Input after it starts a new period.
	idleWarned time.Time
	maxWarned  time.Time // when the max-session-time warning was decided
	closed     bool      // a close was decided: nothing more to decide
}

// Len is the number of sessions the state remembers.
func (st *State) Len() int { return len(st.sessions) }

// Decide decides what to do at time now with the sessions of one scan, and
// records it in state. rules gives the policy for a session (typically
// [policy.Policy.For] with the system's users).
//
// For each limit L (IdleTimeout against the time since the last input,
// MaxSessionTime against the session's age) with warning W (WarnBefore):
// warn once when L-W is reached (never when W is 0), close when L is reached
// (never when L is 0). Input after an idle warning starts a new idle period,
// which may warn again (a WarnBefore of L or more warns at the period's
// start), and is decided as an [audit.ActionHeeded]; the max-session-time
// warning is given once.
//
// A session is never closed without its warning W before: one found past
// its warning time unwarned (the agent just started, a reload shortened the
// limit, the agent was stopped for a while) is warned now and closed W
// later, not at once. When two closes are due, the earlier one wins (idle
// on a tie); a session is closed once, the agent escalates on its own.
//
// Sessions left alone: Exempt ones; ssh -N ones (KindNone, left to sshd's
// UnusedConnectionTimeout); for idleness, sessions with no known last input
// and sessions without a tty unless CloseNoTTY is yes. MaxSessionTime applies
// to pty and notty sessions alike: it does not depend on activity.
//
// next is the earliest time after now at which a decision is due (zero
// when none): the caller may sleep until then, or until its next scan.
// A session missing from acts is forgotten once it was missing from
// forgetAfter calls in a row.
func Decide(now time.Time, acts []Activity, rules func(watcher.Session) policy.Effective, state *State) (actions []Action, next time.Time) {
	if state.sessions == nil {
		state.sessions = map[sessionKey]*progress{}
	}
	seen := make(map[sessionKey]bool, len(acts))
	soonest := func(t time.Time) {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, a := range acts {
		s := a.Session
		if s.Kind == watcher.KindNone {
			continue
		}
		k := keyOf(s)
		seen[k] = true
		e := rules(s)
		if e.Exempt.Value {
			delete(state.sessions, k)
			continue
		}
		pr := state.sessions[k]
		if pr == nil {
			pr = &progress{}
			state.sessions[k] = pr
		}
		pr.missed = 0
		if pr.closed {
			continue
		}
		base := Action{Session: s, Age: now.Sub(s.Started), Message: e.WarnMessage.Value, At: now}
		if !a.LastInput.IsZero() {
			base.Idle = max(now.Sub(a.LastInput), 0)
		}

		// The two limits, each with its deadlines.
		type limit struct {
			reason string
			d      policy.Duration
			start  time.Time  // when the clock started
			warned *time.Time // when the warning was decided; zero: not yet
		}
		var limits []limit
		if e.IdleTimeout.Value > 0 && !a.LastInput.IsZero() && (s.Kind == watcher.KindPTY || e.CloseNoTTY.Value) {
			if !pr.idleWarned.IsZero() && a.LastInput.After(pr.idleWarned) {
				pr.idleWarned = time.Time{} // input after the warning: a new period
				x := base
				x.Kind, x.Reason, x.Limit, x.Rule = audit.ActionHeeded, audit.ReasonIdle, e.IdleTimeout.Value, e.IdleTimeout.Pos
				actions = append(actions, x)
			}
			limits = append(limits, limit{audit.ReasonIdle, e.IdleTimeout, a.LastInput, &pr.idleWarned})
		}
		if e.MaxSessionTime.Value > 0 {
			limits = append(limits, limit{audit.ReasonMaxSessionTime, e.MaxSessionTime, s.Started, &pr.maxWarned})
		}
		w := e.WarnBefore.Value
		// closeAt is when l closes the session, given when it was warned
		// (warned, or now for a warning decided now).
		closeAt := func(l limit, warned time.Time) time.Time {
			at := l.start.Add(l.d.Value)
			if w > 0 && warned.Add(w).After(at) {
				at = warned.Add(w)
			}
			return at
		}
		act := func(kind string, l limit, closing time.Time) Action {
			x := base
			x.Kind, x.Reason, x.Limit, x.Rule = kind, l.reason, l.d.Value, l.d.Pos
			if kind == audit.ActionWarn {
				x.Left = max(closing.Sub(now), 0)
			}
			return x
		}

		// A close due now, for a limit already warned (or without a
		// warning): the earliest wins.
		closing, closingAt := -1, time.Time{}
		for i, l := range limits {
			if w > 0 && l.warned.IsZero() {
				continue
			}
			if at := closeAt(l, *l.warned); !at.After(now) && (closing < 0 || at.Before(closingAt)) {
				closing, closingAt = i, at
			}
		}
		if closing >= 0 {
			actions = append(actions, act(audit.ActionClose, limits[closing], now))
			pr.closed = true
			continue
		}
		for _, l := range limits {
			if w > 0 && l.warned.IsZero() {
				warnAt := l.start.Add(l.d.Value - w)
				if warnAt.After(now) {
					soonest(warnAt)
					continue
				}
				*l.warned = now
				actions = append(actions, act(audit.ActionWarn, l, closeAt(l, now)))
			}
			soonest(closeAt(l, *l.warned))
		}
	}
	for k, pr := range state.sessions {
		if !seen[k] {
			if pr.missed++; pr.missed >= forgetAfter {
				delete(state.sessions, k)
			}
		}
	}
	return actions, next
}
