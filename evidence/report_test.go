package evidence

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/policy"
	"github.com/sshwarden/sshwarden/sshdconf"
)

// TestSetups gives the verdict for the setups an auditor meets, each a
// tree of real files read as "/" (sshd_config, policy.conf, logind.conf,
// profile.d) and the agent's service state.
func TestSetups(t *testing.T) {
	running := Service{Systemd: true, Enabled: "enabled", Active: "active"}
	stopped := Service{Systemd: true, Enabled: "enabled", Active: "inactive"}
	const agent = "IdleTimeout 15m\nWarnBefore 1m\nMatch Group backup\n    Exempt yes\n"
	for _, c := range []struct {
		name    string
		rel     string
		files   map[string]string
		svc     Service
		profile string
		pty     string // the pty verdict must contain it
		ok      bool
	}{
		{name: "nothing configured", files: map[string]string{"etc/ssh/sshd_config": "UsePAM yes\n"},
			pty: "never closed: nothing on this host is configured to close them"},
		{name: "ClientAlive only", files: map[string]string{"etc/ssh/sshd_config": "ClientAliveInterval 300\nClientAliveCountMax 0\n"},
			pty: "never closed: sshd ClientAliveInterval: ClientAliveInterval 300 with ClientAliveCountMax 0 drops dead peers only"},
		{name: "ChannelTimeout global", files: map[string]string{"etc/ssh/sshd_config": "ChannelTimeout session:*=10m\nUnusedConnectionTimeout 5m\n"},
			pty: "closed after 10m by the sshd ChannelTimeout (/etc/ssh/sshd_config:1)", profile: "pci", ok: true},
		{name: "ChannelTimeout only in Match on 9.2", files: map[string]string{"etc/ssh/sshd_config": "Match User *\n    ChannelTimeout session:*=10m\n"},
			pty: "never closed: sshd ChannelTimeout: /etc/ssh/sshd_config:2: ChannelTimeout in a Match block (User *) is printed by sshd -T but not applied to the session by OpenSSH 9.2 (Debian)"},
		{name: "ChannelTimeout only in Match on 10.0", rel: "10.0-debian", files: map[string]string{"etc/ssh/sshd_config": "Match User *\n    ChannelTimeout session:*=10m\n"},
			pty: "not applied to the session by OpenSSH 10.0 (Debian)"},
		{name: "logind StopIdleSessionSec", files: map[string]string{"etc/ssh/sshd_config": "UsePAM yes\n", "etc/systemd/logind.conf": "[Login]\nStopIdleSessionSec=600\n"},
			pty: "closed after 10m by the logind StopIdleSessionSec (/etc/systemd/logind.conf:2)"},
		{name: "TMOUT readonly in profile.d", files: map[string]string{"etc/ssh/sshd_config": "", "etc/profile.d/tmout.sh": "TMOUT=900\nreadonly TMOUT\nexport TMOUT\n"},
			pty: "closed after 15m by the shell TMOUT (/etc/profile.d/tmout.sh:1)", profile: "cis", ok: true},
		{name: "agent 15m, exempt group", files: map[string]string{"etc/ssh/sshd_config": "", "etc/sshwarden/policy.conf": agent}, svc: running,
			pty: "closed after 15m by the sshwarden agent (/etc/sshwarden/policy.conf:1)", profile: "cis", ok: true},
		{name: "agent installed but stopped", files: map[string]string{"etc/ssh/sshd_config": "", "etc/sshwarden/policy.conf": agent}, svc: stopped,
			pty: "never closed: sshwarden agent: the agent is installed but not running", profile: "cis", ok: false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := writeTree(t, c.files)
			root, err := sshdconf.OpenRoot(dir)
			if err != nil {
				t.Fatal(err)
			}
			rel := c.rel
			if rel == "" {
				rel = "9.2-debian"
			}
			cfg, err := sshdconf.Load(root, "/etc/ssh/sshd_config", &sshdconf.LoadOptions{Release: sshdconf.MustRelease(rel)})
			if err != nil {
				t.Fatal(err)
			}
			s := Sources{FS: root, SSHD: cfg, Service: c.svc, Logind: true, Host: "h", OS: "Debian GNU/Linux 12", Now: time.Unix(1765000000, 0)}
			if text, ok := c.files["etc/sshwarden/policy.conf"]; ok {
				p, err := policy.Parse("/etc/sshwarden/policy.conf", []byte(text))
				if err != nil {
					t.Fatal(err)
				}
				s.Policy = p
			}
			if c.profile != "" {
				s.Profile = LookupProfile(c.profile)
			}
			r := Build(s)
			if !strings.Contains(r.Verdict[0].Sentence, c.pty) {
				t.Errorf("pty verdict %q\nwant it to contain %q", r.Verdict[0].Sentence, c.pty)
			}
			if c.profile != "" && r.OK != c.ok {
				t.Errorf("OK = %v, want %v", r.OK, c.ok)
			}
			var text bytes.Buffer
			if err := r.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text.String(), c.pty) {
				t.Errorf("text lacks the verdict:\n%s", text.String())
			}
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			var back struct {
				Verdict []struct {
					Kind       string
					Mechanisms []struct {
						Name         string
						LimitSeconds *int64 `json:"limit_seconds"`
						Source       string
					}
				}
				Files []FileHash
			}
			if err := json.Unmarshal(b, &back); err != nil || len(back.Verdict) != 4 || len(back.Verdict[0].Mechanisms) < 5 {
				t.Fatalf("JSON %s: %v", b, err)
			}
			for _, f := range back.Files {
				if len(f.SHA256) != 64 {
					t.Errorf("file %s: sha256 %q", f.Path, f.SHA256)
				}
			}
			if len(back.Files) == 0 {
				t.Errorf("no file hashed: %s", b)
			}
		})
	}
}
