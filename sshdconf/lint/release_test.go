package lint_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sshwarden/sshwarden/policy"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/internal/memfs"
	"github.com/sshwarden/sshwarden/sshdconf/lint"
)

// TestChecksRelease: the checks whose truth depends on the release follow
// the release the tree is read as, and name it.
func TestChecksRelease(t *testing.T) {
	t.Parallel()
	const main = "/etc/ssh/sshd_config"
	tests := []struct {
		name, release string
		config        string
		want          []string
	}{{
		name: "a keyword of a newer release", release: "9.2-debian",
		config: "PerSourcePenalties authfail:10\n",
		want:   []string{`/etc/ssh/sshd_config:1:1: error: PerSourcePenalties needs OpenSSH 9.8; this tree is checked as OpenSSH 9.2 (Debian) (sshd: /etc/ssh/sshd_config: line 1: Bad configuration option: PerSourcePenalties) (sshd-refuses)`},
	}, {
		name: "the release that has it", release: "10.0-debian",
		config: "ChannelTimeout session:*=15m\nUnusedConnectionTimeout 5m\nDebianBanner no\n",
	}, {
		name: "ChannelTimeout on 8.7: refused, and no advice about it", release: "8.7",
		config: "ChannelTimeout session=15m\n",
		want:   []string{`/etc/ssh/sshd_config:1:1: error: ChannelTimeout needs OpenSSH 9.2; this tree is checked as OpenSSH 8.7p1 (sshd: /etc/ssh/sshd_config: line 1: Bad configuration option: ChannelTimeout) (sshd-refuses)`},
	}, {
		name: "ChannelTimeout in Match on 8.7: refused only", release: "8.7p1",
		config: "Match User alice\n\tChannelTimeout session:*=15m\n\tUnusedConnectionTimeout 5m\n",
		want: []string{
			`/etc/ssh/sshd_config:2:2: error: ChannelTimeout needs OpenSSH 9.2; this tree is checked as OpenSSH 8.7p1 (sshd: /etc/ssh/sshd_config: line 2: Bad configuration option: ChannelTimeout) (sshd-refuses)`,
			`/etc/ssh/sshd_config:3:2: error: UnusedConnectionTimeout needs OpenSSH 9.2; this tree is checked as OpenSSH 8.7p1 (sshd: /etc/ssh/sshd_config: line 3: Bad configuration option: UnusedConnectionTimeout) (sshd-refuses)`,
		},
	}, {
		name: "a Debian patch on an upstream build", release: "10.5p1",
		config: "DebianBanner no\n",
		want:   []string{`/etc/ssh/sshd_config:1:1: error: DebianBanner is a Debian patch; OpenSSH 10.5p1 upstream refuses it (sshd: /etc/ssh/sshd_config: line 1: Bad configuration option: DebianBanner) (sshd-refuses)`},
	}, {
		name: "a Debian patch twice on an upstream build: refused, not overridden", release: "9.6p1",
		config: "DebianBanner no\nDebianBanner yes\n",
		want: []string{
			`/etc/ssh/sshd_config:1:1: error: DebianBanner is a Debian patch; OpenSSH 9.6p1 upstream refuses it (sshd: /etc/ssh/sshd_config: line 1: Bad configuration option: DebianBanner) (sshd-refuses)`,
			`/etc/ssh/sshd_config:2:1: error: DebianBanner is a Debian patch; OpenSSH 9.6p1 upstream refuses it (sshd: /etc/ssh/sshd_config: line 2: Bad configuration option: DebianBanner) (sshd-refuses)`,
		},
	}, {
		name: "a Debian patch on Debian's build", release: "10.0-debian",
		config: "DebianBanner no\n",
	}, {
		name: "Include before 8.2: refused, and nothing about what it matches", release: "8.0",
		config: "Include /etc/ssh/sshd_config.d/*.conf\n",
		want:   []string{`/etc/ssh/sshd_config:1:1: error: Include needs OpenSSH 8.2; this tree is checked as OpenSSH 8.0p1 (sshd: /etc/ssh/sshd_config: line 1: Bad configuration option: Include) (sshd-refuses)`},
	}, {
		name: "Include from 8.2", release: "8.2",
		config: "Include /etc/ssh/sshd_config.d/*.conf\n",
		want:   []string{`/etc/ssh/sshd_config:1:1: warning: Include /etc/ssh/sshd_config.d/*.conf matches no file: /etc/ssh/sshd_config.d does not exist, so nothing is included (include-no-match)`},
	}, {
		name: "a typo stays a typo", release: "8.0",
		config: "PermitRootLogn no\n",
		want:   []string{`/etc/ssh/sshd_config:1:1: error: unknown keyword "PermitRootLogn" (sshd: /etc/ssh/sshd_config: line 1: Bad configuration option: PermitRootLogn) (sshd-refuses)`},
	}, {
		name: "a keyword Match allows from a later release", release: "9.2-debian",
		config: "Match User alice\n\tSubsystem sftp internal-sftp\n",
		want:   []string{`/etc/ssh/sshd_config:2:2: error: Subsystem is not allowed inside a Match block; Match allows it from OpenSSH 9.5, and this tree is checked as OpenSSH 9.2 (Debian) (sshd: /etc/ssh/sshd_config line 2: Directive 'Subsystem' is not allowed within a Match block) (sshd-refuses)`},
	}, {
		name: "ClientAliveCountMax 0 before 8.2 drops silent clients", release: "8.0p1",
		config: "ClientAliveInterval 300\nClientAliveCountMax 0\n",
		want: []string{
			`/etc/ssh/sshd_config:2:21: warning: ClientAliveCountMax 0 on OpenSSH 8.0p1 closes a connection the first time ClientAliveInterval passes without traffic, before any probe: it drops live idle clients and silent commands too, and from OpenSSH 8.2 on the same line disables disconnection instead; write ClientAliveCountMax 3, and close idle sessions with the sshwarden agent (IdleTimeout) (clientalivecountmax-zero)`,
		},
	}, {
		name: "ClientAliveCountMax 0 from 8.2 disables it", release: "8.2p1",
		config: "ClientAliveInterval 300\nClientAliveCountMax 0\n",
		want: []string{
			`/etc/ssh/sshd_config:1:1: info: ClientAliveInterval drops dead peers only: a client that answers the probes stays connected however long it is idle; use the sshwarden agent's IdleTimeout to close idle sessions (clientalive-not-idle)`,
			`/etc/ssh/sshd_config:2:21: warning: ClientAliveCountMax 0 disables disconnection of unresponsive clients on OpenSSH 8.2p1, as on every OpenSSH from 8.2 on; it does not close idle sessions; write ClientAliveCountMax 3 (clientalivecountmax-zero)`,
		},
	}, {
		name: "ClientAliveInterval before 8.2 with a count: not an idle timeout", release: "8.0p1",
		config: "ClientAliveInterval 300\n",
		want:   []string{`/etc/ssh/sshd_config:1:1: info: ClientAliveInterval drops dead peers only: a client that answers the probes stays connected however long it is idle; use the sshwarden agent's IdleTimeout to close idle sessions (clientalive-not-idle)`},
	}, {
		name: "ClientAliveInterval on 9.6: sshd's own timeouts too", release: "9.6p1",
		config: "ClientAliveInterval 300\n",
		want:   []string{`/etc/ssh/sshd_config:1:1: info: ClientAliveInterval drops dead peers only: a client that answers the probes stays connected however long it is idle; use the sshwarden agent's IdleTimeout (or ChannelTimeout session:*=... with UnusedConnectionTimeout) to close idle sessions (clientalive-not-idle)`},
	}, {
		name: "ChannelTimeout in Match before 10.5", release: "10.0-debian",
		config: "UnusedConnectionTimeout 5m\nMatch User alice\n\tChannelTimeout session:*=15m\nMatch all\n\tChannelTimeout session:*=1h\n",
		want:   []string{`/etc/ssh/sshd_config:3:2: warning: "ChannelTimeout session:*=15m" in the Match block at /etc/ssh/sshd_config:2 does not reach the sessions it matches on OpenSSH 10.0 (Debian): sshd -T -C prints it, but before OpenSSH 10.5 sessions get only the global ChannelTimeout; set it before the first Match, or give those users an IdleTimeout in a Match block of the sshwarden policy (channeltimeout-in-match)`},
	}, {
		name: "ChannelTimeout in Match on 9.2", release: "9.2-debian",
		config: "UnusedConnectionTimeout 5m\nMatch Address 10.0.0.0/8\n\tChannelTimeout session:*=15m\n",
		want:   []string{`/etc/ssh/sshd_config:3:2: warning: "ChannelTimeout session:*=15m" in the Match block at /etc/ssh/sshd_config:2 does not reach the sessions it matches on OpenSSH 9.2 (Debian): sshd -T -C prints it, but before OpenSSH 10.5 sessions get only the global ChannelTimeout; set it before the first Match, or give those users an IdleTimeout in a Match block of the sshwarden policy (channeltimeout-in-match)`},
	}, {
		name: "ChannelTimeout in Match from 10.5", release: "10.5p1",
		config: "UnusedConnectionTimeout 5m\nMatch User alice\n\tChannelTimeout session:*=15m\n",
	}, {
		name: "ChannelTimeout in Match on Debian forky", release: "10.6-debian",
		config: "UnusedConnectionTimeout 5m\nMatch User alice\n\tChannelTimeout session:*=15m\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := lintRelease(t, sshdconf.MustRelease(tt.release), map[string]string{main: tt.config}, nil, nil)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("%s, read as %s: findings (-want +got):\n%s", tt.config, tt.release, d)
			}
		})
	}
}

// TestPolicyRelease: a policy requirement on a keyword the release refuses
// cannot be met: it is an error without a fix (a fix would write a line
// sshd refuses). The same requirement on a release that has the keyword is
// checked, and fixed, as usual.
func TestPolicyRelease(t *testing.T) {
	t.Parallel()
	pol, err := policy.Parse("p.conf", []byte("UnusedConnectionTimeout 5m\nPermitRootLogin no\n"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"/etc/ssh/sshd_config": "PermitRootLogin no\n"}
	lintAs := func(rel string) []lint.Finding {
		t.Helper()
		b := map[string][]byte{}
		for n, s := range files {
			b[n] = []byte(s)
		}
		cfg, err := sshdconf.Load(memfs.New(b), "/etc/ssh/sshd_config", &sshdconf.LoadOptions{Release: sshdconf.MustRelease(rel)})
		if err != nil {
			t.Fatal(err)
		}
		return lint.Run(&lint.Pass{Config: cfg, Requirements: pol.Requirements}, lint.Checks(), nil)
	}

	old := lintAs("8.7")
	want := []string{`/etc/ssh/sshd_config:1:1: error: UnusedConnectionTimeout is required by p.conf:1, and no line can meet it: UnusedConnectionTimeout needs OpenSSH 9.2; this tree is checked as OpenSSH 8.7p1; close idle sessions with the sshwarden agent's IdleTimeout instead (policy)`}
	if d := cmp.Diff(want, format(old)); d != "" {
		t.Errorf("8.7: findings (-want +got):\n%s", d)
	}
	for _, f := range old {
		if len(f.Edits) > 0 {
			t.Errorf("8.7: %s: a fix %v for a keyword 8.7 refuses", f.Message, f.Edits)
		}
	}

	cur := lintAs("9.2-debian")
	want = []string{`/etc/ssh/sshd_config:1:1: error: UnusedConnectionTimeout is not set, and its default none disables it; the policy requires 1..300 (required by p.conf:1); add "UnusedConnectionTimeout 5m" (policy)`}
	if d := cmp.Diff(want, format(cur)); d != "" {
		t.Errorf("9.2: findings (-want +got):\n%s", d)
	}
	if len(cur) != 1 || len(cur[0].Edits) != 1 {
		t.Errorf("9.2: want one finding with a fix, got %+v", cur)
	}
}
