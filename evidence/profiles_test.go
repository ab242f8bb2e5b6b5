package evidence

import (
	"strings"
	"testing"
	"time"
)

func TestProfiles(t *testing.T) {
	running := Service{Systemd: true, Enabled: "enabled", Active: "active"}
	tmout := func(secs int, ro bool) *TMOUT {
		tm := &TMOUT{Sets: []Assignment{{Pos: Pos{"/etc/profile.d/tmout.sh", 1}, Seconds: secs, Value: "x", Shells: "login shells (sh, bash)"}}}
		if ro {
			tm.Readonly = &Pos{"/etc/profile.d/tmout.sh", 2}
		}
		return tm
	}
	for _, c := range []struct {
		name, profile string
		conf          string
		ms            []Mechanism
		logind        *Logind
		tmout         *TMOUT
		ok            bool
		status        map[string]string // control id prefix -> status
	}{
		{name: "pci, nothing", profile: "pci", ok: false, status: map[string]string{"PCI DSS v4.0.1 8.2.8": Fail}},
		{name: "pci, agent 15m with CloseNoTTY and UnusedConnectionTimeout", profile: "pci",
			conf: "UnusedConnectionTimeout 10m\n",
			ms:   []Mechanism{Agent(mustPolicy(t, "IdleTimeout 15m\nCloseNoTTY yes\n"), running)},
			ok:   true, status: map[string]string{"PCI DSS v4.0.1 8.2.8": Pass}},
		{name: "pci, agent 20m", profile: "pci", conf: "UnusedConnectionTimeout 10m\n",
			ms: []Mechanism{Agent(mustPolicy(t, "IdleTimeout 20m\nCloseNoTTY yes\n"), running)},
			ok: false, status: map[string]string{"PCI DSS v4.0.1 8.2.8": Fail}},
		{name: "cis, TMOUT readonly, ClientAlive", profile: "cis", conf: "ClientAliveInterval 300\nClientAliveCountMax 3\n",
			tmout: tmout(900, true), ok: true,
			status: map[string]string{"CIS Debian 12 v1.1.0 5.4.3.2": Pass, "CIS Debian 12 v1.1.0 5.1.7": Pass}},
		{name: "cis, TMOUT not readonly, CountMax 0", profile: "cis", conf: "ClientAliveInterval 300\nClientAliveCountMax 0\n",
			tmout: tmout(600, false), ok: true,
			status: map[string]string{"CIS Debian 12 v1.1.0 5.4.3.2": Fail, "CIS Debian 12 v1.1.0 5.1.7": Fail}},
		{name: "stig, logind 600 and TMOUT 600", profile: "stig", conf: "ClientAliveInterval 600\nClientAliveCountMax 1\n",
			logind: &Logind{StopIdleSession: 600 * time.Second, StopIdleAt: Pos{"/etc/systemd/logind.conf", 2}}, tmout: tmout(600, true), ok: true,
			status: map[string]string{"V-258068": Pass, "V-258077": Pass, "V-257996": Pass, "V-257995": Pass}},
		{name: "stig, defaults", profile: "stig", logind: &Logind{StopIdleSession: Infinity}, ok: false,
			status: map[string]string{"V-258068": Fail, "V-258077": Fail, "V-257996": Fail, "V-257995": Fail}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := loadConf(t, "9.2-debian", c.conf)
			ms := append(SSHD(cfg), c.ms...)
			ms = append(ms, LogindMechanism(c.logind, true, true), TMOUTMechanism(c.tmout))
			f := &Facts{Verdict: Decide(ms), SSHD: cfg.Global(), Logind: c.logind, TMOUT: c.tmout}
			controls, ok := LookupProfile(c.profile).Judge(f)
			if ok != c.ok {
				t.Errorf("every kind closed in time = %v, want %v", ok, c.ok)
			}
			for prefix, want := range c.status {
				found := false
				for _, ctl := range controls {
					if strings.HasPrefix(ctl.ID, prefix) {
						found = true
						if ctl.Status != want {
							t.Errorf("%s: %s, want %s; evidence %q", ctl.ID, ctl.Status, want, ctl.Evidence)
						}
					}
				}
				if !found {
					t.Errorf("no control %s", prefix)
				}
			}
		})
	}
}
