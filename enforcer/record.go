package enforcer

import "github.com/sshwarden/sshwarden/audit"

// ActionRecord is the record of a decided [Action] that was carried out:
// the caller adds Message, DryRun, and Fields if it has more to say, and
// changes Action to [audit.ActionWarnFailed] or [audit.ActionCloseFailed]
// when it failed.
func ActionRecord(a Action) audit.Record {
	s := a.Session
	return audit.Record{
		Action:  a.Kind,
		Session: &s,
		Reason:  a.Reason,
		Idle:    a.Idle,
		Age:     a.Age,
		Limit:   a.Limit,
		Rule:    audit.Rule(a.Rule),
	}
}
