package evidence

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/sshwarden/sshwarden/audit"
	"github.com/sshwarden/sshwarden/policy"
	"github.com/sshwarden/sshwarden/watcher"
)

// Service is what systemd says of the agent's unit.
type Service struct {
	// Systemd is false when systemd is not the init system here (no
	// /run/systemd/system): then nothing below could be asked.
	Systemd bool
	// Enabled and Active are `systemctl is-enabled` and `is-active`:
	// "enabled", "disabled", "not-found"...; "active", "inactive",
	// "failed"...
	Enabled, Active string
}

// Running reports whether the agent runs now.
func (s Service) Running() bool { return s.Active == "active" || s.Active == "reloading" }

// ReadService asks the host's systemd about unit (sshwarden.service).
func ReadService(ctx context.Context, unit string) Service {
	if !systemdRuns() {
		return Service{}
	}
	return Service{Systemd: true, Enabled: systemctl(ctx, "is-enabled", unit), Active: systemctl(ctx, "is-active", unit)}
}

// LogindRunning reports whether systemd-logind runs here.
func LogindRunning(ctx context.Context) bool {
	return systemdRuns() && systemctl(ctx, "is-active", "systemd-logind.service") == "active"
}

func systemdRuns() bool {
	_, err := os.Stat("/run/systemd/system")
	return err == nil
}

// systemctl runs `systemctl VERB UNIT` and returns what it printed (its
// exit status says the same: is-active exits 3 when inactive).
func systemctl(ctx context.Context, verb, unit string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, "systemctl", verb, unit).Output()
	return strings.TrimSpace(string(out))
}

// Agent tells what the sshwarden agent closes: pty sessions idle for
// IdleTimeout, sessions without a tty too when CloseNoTTY is yes, never
// ssh -N (left to sshd's UnusedConnectionTimeout); root logins by the
// rules that apply to root. Only a running agent is effective. Match
// blocks of the policy come as notes: who is exempt or has other limits.
func Agent(p *policy.Policy, svc Service) Mechanism {
	m := Mechanism{Name: "sshwarden agent"}
	if p == nil {
		m.note("no policy: the agent is not configured here")
		return m
	}
	user := p.For(watcher.Session{User: "a-user", UID: 1000, Kind: watcher.KindPTY}, nil)
	root := p.For(watcher.Session{User: "root", UID: 0, Kind: watcher.KindPTY}, nil)
	m.Configured = user.IdleTimeout.Value > 0 || root.IdleTimeout.Value > 0
	m.Source = posOf(user.IdleTimeout.Pos)
	running := svc.Running()
	switch {
	case !svc.Systemd:
		m.note("systemd is not running here: whether the agent runs could not be asked")
	case !running:
		m.note("the agent is installed but not running (systemctl is-active: %s, is-enabled: %s): nothing is enforced", svc.Active, svc.Enabled)
	case svc.Enabled != "enabled":
		m.note("the agent runs but is not enabled (%s): it will not start at the next boot", svc.Enabled)
	}
	if running {
		if d := user.IdleTimeout.Value; d > 0 && !user.Exempt.Value {
			m.closes(KindPTY, d)
			if user.CloseNoTTY.Value {
				m.closes(KindNoTTY, d)
			}
		}
		if d := root.IdleTimeout.Value; d > 0 && !root.Exempt.Value {
			m.closes(KindRoot, d)
		}
	}
	if m.Configured && !user.CloseNoTTY.Value {
		m.note("CloseNoTTY is off: commands and sftp sessions are not closed for idleness")
	}
	m.note("ssh -N sessions are left to sshd's UnusedConnectionTimeout")
	for _, b := range p.Blocks {
		var crit []string
		for _, c := range b.Criteria {
			crit = append(crit, c.Name+" "+c.Pattern)
		}
		var what []string
		if b.Rules.Exempt != nil && b.Rules.Exempt.Value {
			what = append(what, "exempt: never closed")
		}
		if b.Rules.IdleTimeout != nil {
			what = append(what, "IdleTimeout "+fmtDuration(b.Rules.IdleTimeout.Value))
		}
		if b.Rules.CloseNoTTY != nil {
			what = append(what, "CloseNoTTY "+yesNo(b.Rules.CloseNoTTY.Value))
		}
		if len(what) > 0 {
			m.note("%s: Match %s: %s", posOf(b.Pos), strings.Join(crit, " "), strings.Join(what, ", "))
		}
	}
	return m
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// fmtDuration writes d as an admin writes it: 15m, 1h30m, 45s, never.
func fmtDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d == Infinity:
		return "never"
	}
	return audit.FormatSeconds(int64(d / time.Second))
}
