package enforcer

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sshwarden/sshwarden/audit"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/watcher"
)

func TestActionRecord(t *testing.T) {
	t.Parallel()
	s := watcher.Session{PID: 9, User: "carol", Kind: watcher.KindPTY, TTY: "pts/1"}
	a := Action{
		Kind: audit.ActionClose, Reason: audit.ReasonIdle, Session: s,
		Limit: time.Hour, Rule: sshdconf.Pos{File: "/etc/sshwarden/policy.conf", Line: 7, Col: 5},
		Idle: time.Hour + time.Second, Age: 2 * time.Hour, Left: 0,
	}
	got := ActionRecord(a)
	want := audit.Record{Action: audit.ActionClose, Session: &s, Reason: audit.ReasonIdle, Idle: a.Idle, Age: a.Age, Limit: time.Hour, Rule: "/etc/sshwarden/policy.conf:7"}
	if diff := cmp.Diff(want, got, cmpopts.EquateComparable(netip.AddrPort{})); diff != "" {
		t.Errorf("ActionRecord() mismatch (-want +got):\n%s", diff)
	}
	a.Rule = sshdconf.Pos{}
	if got := ActionRecord(a).Rule; got != "" {
		t.Errorf("ActionRecord(built-in default).Rule = %q, want \"\"", got)
	}
}
