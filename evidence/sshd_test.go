package evidence

import (
	"strings"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/sshdconf"
)

func loadConf(t *testing.T, rel, text string) *sshdconf.Config {
	t.Helper()
	f := sshdconf.Parse("/etc/ssh/sshd_config", []byte(text))
	cfg, err := sshdconf.Parsed([]*sshdconf.File{f}, "/etc/ssh/sshd_config", &sshdconf.LoadOptions{Release: sshdconf.MustRelease(rel)})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Err(); err != nil {
		t.Fatalf("%s refuses %q: %v", rel, text, err)
	}
	return cfg
}

func TestSSHDMechanisms(t *testing.T) {
	for _, c := range []struct {
		name, rel, conf string
		limits          map[string]map[Kind]time.Duration // mechanism -> kind -> limit
		note            string                            // a note that must be given
	}{
		{name: "nothing", rel: "9.2-debian", conf: "", limits: map[string]map[Kind]time.Duration{}},
		{name: "ClientAlive only", rel: "9.2-debian", conf: "ClientAliveInterval 300\nClientAliveCountMax 0\n",
			limits: map[string]map[Kind]time.Duration{}, note: "drops dead peers only"},
		{name: "ChannelTimeout global", rel: "9.2-debian", conf: "ChannelTimeout session:*=15m\nUnusedConnectionTimeout 5m\n",
			limits: map[string]map[Kind]time.Duration{
				"sshd ChannelTimeout":          {KindPTY: 15 * time.Minute, KindNoTTY: 15 * time.Minute, KindRoot: 15 * time.Minute},
				"sshd UnusedConnectionTimeout": {KindForward: 5 * time.Minute},
			}},
		{name: "ChannelTimeout shell and sftp only", rel: "10.0-debian", conf: "ChannelTimeout session:shell=10m session:subsystem:sftp=5m\n",
			limits: map[string]map[Kind]time.Duration{"sshd ChannelTimeout": {KindPTY: 10 * time.Minute, KindRoot: 10 * time.Minute}}},
		{name: "session= matches nothing", rel: "9.2-debian", conf: "ChannelTimeout session=15m\n",
			limits: map[string]map[Kind]time.Duration{}, note: "names no session channel type"},
		{name: "ChannelTimeout only in Match, 9.2", rel: "9.2-debian", conf: "Match User *\n  ChannelTimeout session:*=15m\n",
			limits: map[string]map[Kind]time.Duration{}, note: "not applied to the session by OpenSSH 9.2 (Debian)"},
		{name: "ChannelTimeout only in Match, 10.0", rel: "10.0-debian", conf: "Match Group staff\n  ChannelTimeout session:*=15m\n",
			limits: map[string]map[Kind]time.Duration{}, note: "not applied to the session by OpenSSH 10.0 (Debian)"},
		{name: "ChannelTimeout only in Match, 10.5", rel: "10.5", conf: "Match Group staff\n  ChannelTimeout session:*=15m\n",
			limits: map[string]map[Kind]time.Duration{}, note: "applies only to connections matching Match Group staff"},
		{name: "Match all is global", rel: "9.2-debian", conf: "Match all\n  ChannelTimeout session:*=600\n",
			limits: map[string]map[Kind]time.Duration{"sshd ChannelTimeout": {KindPTY: 10 * time.Minute, KindNoTTY: 10 * time.Minute, KindRoot: 10 * time.Minute}}},
		{name: "8.7 has none", rel: "8.7", conf: "ClientAliveInterval 60\n",
			limits: map[string]map[Kind]time.Duration{}, note: "has no ChannelTimeout (added in 9.2)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := map[string]map[Kind]time.Duration{}
			var notes []string
			for _, m := range SSHD(loadConf(t, c.rel, c.conf)) {
				if m.Effective {
					got[m.Name] = m.Limits
				}
				notes = append(notes, m.Notes...)
			}
			if len(got) != len(c.limits) {
				t.Errorf("effective mechanisms %v, want %v", got, c.limits)
			}
			for name, want := range c.limits {
				for k, d := range want {
					if got[name][k] != d {
						t.Errorf("%s %s: %v, want %v (all: %v)", name, k, got[name][k], d, got[name])
					}
				}
				if len(got[name]) != len(want) {
					t.Errorf("%s covers %v, want %v", name, got[name], want)
				}
			}
			if c.note != "" && !strings.Contains(strings.Join(notes, "\n"), c.note) {
				t.Errorf("notes %q lack %q", notes, c.note)
			}
		})
	}
}
