package enforcer

import (
	"time"

	"github.com/sshwarden/sshwarden/policy"
	"github.com/sshwarden/sshwarden/watcher"
)

// PTYLastInput is the last input of a pty session idle for idle at now, as
// the agent counts it: the kernel moves the pts atime on input only when the
// time crosses an 8-second window (OPENSSH.md, Idle), so the last input
// lies in [atime, atime&^7 + 8s), and the end of that window is taken. A
// close is then up to 8 s late, never early.
func PTYLastInput(now time.Time, idle time.Duration) time.Time {
	atime := now.Add(-idle).Unix()
	return time.Unix(atime&^7+8, 0)
}

// Next is what the agent will do next with session s under rules e, from
// a single look at it (now): the action and when it is due, and ok false
// when nothing is due (exempt, ssh -N, no limit, or idleness that a single
// look cannot measure: sessions without a tty). A warning already due is
// due now. It assumes no warning was given yet.
func Next(now time.Time, s watcher.Session, e policy.Effective) (action Action, at time.Time, ok bool) {
	a := Activity{Session: s}
	if s.Kind == watcher.KindPTY && s.Idle != nil {
		a.LastInput = PTYLastInput(now, *s.Idle)
	}
	rules := func(watcher.Session) policy.Effective { return e }
	var st State
	acts, next := Decide(now, []Activity{a}, rules, &st)
	if len(acts) > 0 {
		return acts[0], now, true
	}
	if next.IsZero() {
		return Action{}, time.Time{}, false
	}
	// What is decided at next is what happens then (the same state: no
	// warning given so far).
	acts, _ = Decide(next, []Activity{a}, rules, &st)
	if len(acts) == 0 {
		return Action{}, time.Time{}, false
	}
	return acts[0], next, true
}
