package enforcer

import (
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/policy"
	"github.com/sshwarden/sshwarden/watcher"
)

func TestNext(t *testing.T) {
	const m = time.Minute
	// now is 8-second aligned: an idle time of d puts the atime window's
	// end at now-d+8s.
	now := time.Unix(1_800_000_000, 0)
	exempt := limits(15*m, m, 0)
	exempt.Exempt = policy.Bool{Value: true, Pos: pos(4)}
	for _, tt := range []struct {
		name  string
		kind  watcher.Kind
		idle  time.Duration // -1: unknown
		age   time.Duration
		rules policy.Effective
		want  string // "" when nothing is due
		in    time.Duration
	}{
		{"idle pty: the warning, at the end of the atime window", watcher.KindPTY, 16 * time.Second, m, limits(15*m, m, 0), "warn idle", 14*m - 8*time.Second},
		{"idle pty past its warning: warned now", watcher.KindPTY, 20 * m, 20 * m, limits(15*m, m, 0), "warn idle", 0},
		{"WarnBefore 0: the close", watcher.KindPTY, 16 * time.Second, m, limits(15*m, 0, 0), "close idle", 15*m - 8*time.Second},
		{"WarnBefore 0, past the limit: closed now", watcher.KindPTY, 20 * m, 20 * m, limits(15*m, 0, 0), "close idle", 0},
		{"max-session-time comes first", watcher.KindPTY, 0, 50 * m, limits(15*m, m, h1), "warn max-session-time", 9 * m},
		{"exempt: nothing", watcher.KindPTY, 20 * m, 20 * m, exempt, "", 0},
		{"ssh -N: nothing", watcher.KindNone, -1, 20 * m, limits(15*m, m, h1), "", 0},
		{"notty, one look: only max-session-time", watcher.KindNoTTY, -1, 30 * m, limits(15*m, m, h1), "warn max-session-time", 29 * m},
		{"notty without a max: nothing", watcher.KindNoTTY, -1, 30 * m, limits(15*m, m, 0), "", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := watcher.Session{PID: 7, Kind: tt.kind, Started: now.Add(-tt.age)}
			if tt.idle >= 0 {
				d := tt.idle
				s.Idle = &d
			}
			x, at, ok := Next(now, s, tt.rules)
			got := ""
			if ok {
				got = x.Kind + " " + x.Reason
			}
			if got != tt.want || (ok && at.Sub(now) != tt.in) {
				t.Errorf("Next = %q in %v, want %q in %v", got, at.Sub(now), tt.want, tt.in)
			}
		})
	}
}

const h1 = time.Hour
