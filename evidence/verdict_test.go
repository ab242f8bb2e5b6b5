package evidence

import (
	"strings"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/policy"
)

func mustPolicy(t *testing.T, text string) *policy.Policy {
	t.Helper()
	p, err := policy.Parse("/etc/sshwarden/policy.conf", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDecide(t *testing.T) {
	running := Service{Systemd: true, Enabled: "enabled", Active: "active"}
	stopped := Service{Systemd: true, Enabled: "enabled", Active: "inactive"}
	agent15 := "IdleTimeout 15m\nWarnBefore 1m\nMatch Group backup\n  Exempt yes\n"
	for _, c := range []struct {
		name string
		ms   []Mechanism
		want map[Kind]string // kind -> the sentence must contain this
	}{
		{"nothing", nil, map[Kind]string{
			KindPTY: "never closed: nothing on this host is configured to close them", KindForward: "never closed"}},
		{"agent 15m", []Mechanism{Agent(mustPolicy(t, agent15), running)}, map[Kind]string{
			KindPTY:   "closed after 15m by the sshwarden agent (/etc/sshwarden/policy.conf:1)",
			KindRoot:  "closed after 15m by the sshwarden agent",
			KindNoTTY: "never closed: sshwarden agent does not close them"}},
		{"agent stopped", []Mechanism{Agent(mustPolicy(t, agent15), stopped)}, map[Kind]string{
			KindPTY: "never closed: sshwarden agent: the agent is installed but not running (systemctl is-active: inactive"}},
		{"agent CloseNoTTY, logind 10m", []Mechanism{
			Agent(mustPolicy(t, "IdleTimeout 15m\nCloseNoTTY yes\n"), running),
			LogindMechanism(&Logind{StopIdleSession: 10 * time.Minute, StopIdleAt: Pos{"/etc/systemd/logind.conf", 3}}, true, true),
		}, map[Kind]string{
			KindPTY:   "closed after 10m by the logind StopIdleSessionSec (/etc/systemd/logind.conf:3); also by sshwarden agent later",
			KindNoTTY: "closed after 15m by the sshwarden agent"}},
		{"logind without PAM", []Mechanism{
			LogindMechanism(&Logind{StopIdleSession: 10 * time.Minute, StopIdleAt: Pos{"/etc/systemd/logind.conf", 3}}, false, true),
		}, map[Kind]string{KindPTY: "never closed: logind StopIdleSessionSec: sshd runs with UsePAM no"}},
		{"TMOUT", []Mechanism{TMOUTMechanism(&TMOUT{Sets: []Assignment{{Pos: Pos{"/etc/profile.d/tmout.sh", 1}, Seconds: 600, Value: "600", Shells: "login shells (sh, bash)"}}})},
			map[Kind]string{KindPTY: "closed after 10m by the shell TMOUT (/etc/profile.d/tmout.sh:1)", KindNoTTY: "never closed: shell TMOUT does not close them"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := map[Kind]string{}
			for _, v := range Decide(c.ms) {
				got[v.Kind] = v.Sentence
			}
			if len(got) != len(Kinds) {
				t.Errorf("verdicts for %d kinds, want %d", len(got), len(Kinds))
			}
			for k, want := range c.want {
				if !strings.Contains(got[k], want) {
					t.Errorf("%s: %q\nwant it to contain %q", k, got[k], want)
				}
			}
		})
	}
}
