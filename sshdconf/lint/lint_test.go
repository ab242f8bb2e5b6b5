package lint_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sshwarden/sshwarden/internal/oracle"
	"github.com/sshwarden/sshwarden/internal/sshdtest"
	"github.com/sshwarden/sshwarden/policy"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/internal/memfs"
	"github.com/sshwarden/sshwarden/sshdconf/lint"
)

var update = flag.Bool("update", false, "rewrite golden files")

// lintFiles lints a tree given as absolute path -> content, read as
// Debian 12's OpenSSH 9.2 (the default release).
func lintFiles(t *testing.T, files map[string]string, reqs []lint.Requirement, stat func(string) (int, uint32, bool)) []string {
	t.Helper()
	return lintRelease(t, nil, files, reqs, stat)
}

// lintRelease is lintFiles for the tree read as release rel (nil: the
// default).
func lintRelease(t *testing.T, rel *sshdconf.Release, files map[string]string, reqs []lint.Requirement, stat func(string) (int, uint32, bool)) []string {
	t.Helper()
	b := map[string][]byte{}
	for n, s := range files {
		b[n] = []byte(s)
	}
	cfg, err := sshdconf.Load(memfs.New(b), "/etc/ssh/sshd_config", &sshdconf.LoadOptions{Release: rel})
	if err != nil {
		t.Fatal(err)
	}
	return format(lint.Run(&lint.Pass{Config: cfg, Requirements: reqs, Stat: stat}, lint.Checks(), nil))
}

func format(fs []lint.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s: %s: %s (%s)", f.Pos, f.Severity, f.Message, f.Check))
	}
	return out
}

func defaultRequirements(t *testing.T) []lint.Requirement {
	t.Helper()
	p, err := policy.Load("builtin:default")
	if err != nil {
		t.Fatal(err)
	}
	return p.Requirements
}

// TestCorpusGolden lints every tree of testdata/trees with builtin:default
// and compares with testdata/golden/NAME.txt (-update rewrites them). The
// golden files were read line by line when written: each finding is right.
func TestCorpusGolden(t *testing.T) {
	reqs := defaultRequirements(t)
	paths, _ := filepath.Glob("../../testdata/trees/*.txtar")
	if len(paths) == 0 {
		t.Fatal("no trees")
	}
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".txtar")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			a := oracle.ParseArchive(data)
			files := map[string]string{}
			for n, b := range a.Files {
				files["/"+n] = string(b)
			}
			if a.Main != "/etc/ssh/sshd_config" {
				t.Skip("tree with another main file")
			}
			got := strings.Join(lintFiles(t, files, reqs, nil), "\n") + "\n"
			golden := filepath.Join("testdata", "golden", name+".txt")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -update)", err)
			}
			if d := cmp.Diff(string(want), got); d != "" {
				t.Errorf("findings differ from %s (-want +got):\n%s", golden, d)
			}
		})
	}
}

func TestChecks(t *testing.T) {
	t.Parallel()
	const main = "/etc/ssh/sshd_config"
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{{
		name: "cloud-init drop-in beats the main file",
		files: map[string]string{
			main: "Include /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication no\n",
			"/etc/ssh/sshd_config.d/50-cloud-init.conf": "PasswordAuthentication yes\n",
		},
		want: []string{`/etc/ssh/sshd_config:2:1: warning: "PasswordAuthentication no" never takes effect: sshd keeps the first value it reads, and PasswordAuthentication yes at /etc/ssh/sshd_config.d/50-cloud-init.conf:1 wins (/etc/ssh/sshd_config.d/50-cloud-init.conf is read first: line 1 includes /etc/ssh/sshd_config.d/*.conf) (overridden)`},
	}, {
		name:  "a repeated value is info, a last-wins keyword flags the earlier line",
		files: map[string]string{main: "X11Forwarding no\nX11Forwarding no\nMaxStartups 10:30:60\nMaxStartups 5\n"},
		want: []string{
			`/etc/ssh/sshd_config:2:1: info: "X11Forwarding no" never takes effect: sshd keeps the first value it reads, and X11Forwarding no at /etc/ssh/sshd_config:1 wins (overridden)`,
			`/etc/ssh/sshd_config:3:1: warning: "MaxStartups 10:30:60" never takes effect: for MaxStartups sshd keeps the last value it reads, and MaxStartups 5:30:5 at /etc/ssh/sshd_config:4 wins (overridden)`,
		},
	}, {
		name:  "UnusedConnectionTimeout none wins",
		files: map[string]string{main: "UnusedConnectionTimeout 5m\nUnusedConnectionTimeout none\n"},
		want:  []string{`/etc/ssh/sshd_config:1:1: warning: "UnusedConnectionTimeout 5m" never takes effect: "UnusedConnectionTimeout none" wins over any other value, and UnusedConnectionTimeout none at /etc/ssh/sshd_config:2 wins (overridden)`},
	}, {
		name:  "second line in one Match block",
		files: map[string]string{main: "Match User alice\n\tMaxSessions 2\n\tMaxSessions 3\n"},
		want:  []string{`/etc/ssh/sshd_config:3:2: warning: "MaxSessions 3" never takes effect: the same Match block set MaxSessions at /etc/ssh/sshd_config:2 first, and sshd keeps the first value (overridden)`},
	}, {
		name:  "ClientAliveCountMax 0 and ClientAlive as idle timeout",
		files: map[string]string{main: "ClientAliveInterval 300\nClientAliveCountMax 0\n"},
		want: []string{
			`/etc/ssh/sshd_config:1:1: info: ClientAliveInterval drops dead peers only: a client that answers the probes stays connected however long it is idle; use the sshwarden agent's IdleTimeout (or ChannelTimeout session:*=... with UnusedConnectionTimeout) to close idle sessions (clientalive-not-idle)`,
			`/etc/ssh/sshd_config:2:21: warning: ClientAliveCountMax 0 disables disconnection of unresponsive clients on OpenSSH 9.2 (Debian), as on every OpenSSH from 8.2 on; it does not close idle sessions; write ClientAliveCountMax 3 (clientalivecountmax-zero)`,
		},
	}, {
		name:  "ChannelTimeout session= and no UnusedConnectionTimeout",
		files: map[string]string{main: "ChannelTimeout session=15m direct-tcpip=1h\n"},
		want: []string{
			`/etc/ssh/sshd_config:1:1: warning: ChannelTimeout closes idle channels, but the connection stays open without UnusedConnectionTimeout; add for example "UnusedConnectionTimeout 5m" (channeltimeout-without-unused)`,
			`/etc/ssh/sshd_config:1:16: warning: ChannelTimeout session=15m matches no session: OpenSSH 9.2 (Debian) types session channels session:shell, session:command, session:subsystem:sftp; write session:*=15m (channeltimeout-session)`,
		},
	}, {
		name:  "ChannelTimeout session:* with UnusedConnectionTimeout is clean",
		files: map[string]string{main: "ChannelTimeout session:*=15m\nUnusedConnectionTimeout 5m\n"},
	}, {
		name:  "a line appended after the last Match block",
		files: map[string]string{main: "PermitRootLogin no\nMatch User backup\n    ForceCommand /usr/bin/rsync\n\nMaxAuthTries 3\n"},
		want:  []string{`/etc/ssh/sshd_config:5:1: warning: "MaxAuthTries 3" is inside the Match block of line 2 (Match User backup), so it applies only to connections that match it; move it above the first Match, or put "Match all" before it (global-in-match)`},
	}, {
		name:  "an unindented block without a gap is not flagged",
		files: map[string]string{main: "Match User backup\nForceCommand /usr/bin/rsync\nX11Forwarding no\n"},
	}, {
		name: "include patterns: no match, and a skipped drop-in",
		files: map[string]string{
			main:                               "Include /etc/ssh/sshd_config.d/*.conf\nInclude /etc/ssh/typo.d/*.conf\n",
			"/etc/ssh/sshd_config.d/10-a.conf": "MaxSessions 5\n",
			"/etc/ssh/sshd_config.d/20-b.conf.disabled":    "PermitRootLogin yes\n",
			"/etc/ssh/sshd_config.d/README":                "Files here are read in lexical order.\n",
			"/etc/ssh/sshd_config.d/.hidden":               "PermitRootLogin yes\n",
			"/etc/ssh/sshd_config.d/30-c.conf.rpmnew/keep": "",
		},
		want: []string{
			`/etc/ssh/sshd_config:2:1: warning: Include /etc/ssh/typo.d/*.conf matches no file: /etc/ssh/typo.d does not exist, so nothing is included (include-no-match)`,
			`/etc/ssh/sshd_config.d/20-b.conf.disabled:1:1: warning: sshd does not read this file: Include /etc/ssh/sshd_config.d/*.conf (/etc/ssh/sshd_config:1) does not match its name, so its settings are not in effect (include-skipped)`,
			`/etc/ssh/sshd_config.d/README:1:1: info: not read by sshd: Include /etc/ssh/sshd_config.d/*.conf does not match this name (include-skipped)`,
		},
	}, {
		name:  "sshd refuses: every problem, with sshd's message",
		files: map[string]string{main: "PermitRootLogn no\nUseDNS true\nPerSourcePenalties crash:90\nMatch User alice\n\tPort 2222\n"},
		want: []string{
			`/etc/ssh/sshd_config:1:1: error: unknown keyword "PermitRootLogn" (sshd: /etc/ssh/sshd_config: line 1: Bad configuration option: PermitRootLogn) (sshd-refuses)`,
			`/etc/ssh/sshd_config:2:8: error: unsupported option "true" (sshd: /etc/ssh/sshd_config line 2: unsupported option "true".) (sshd-refuses)`,
			`/etc/ssh/sshd_config:3:1: error: PerSourcePenalties needs OpenSSH 9.8; this tree is checked as OpenSSH 9.2 (Debian) (sshd: /etc/ssh/sshd_config: line 3: Bad configuration option: PerSourcePenalties) (sshd-refuses)`,
			`/etc/ssh/sshd_config:5:2: error: Port is not allowed inside a Match block (sshd: /etc/ssh/sshd_config line 5: Directive 'Port' is not allowed within a Match block) (sshd-refuses)`,
		},
	}, {
		name:  "deprecated keyword",
		files: map[string]string{main: "Protocol 2\nUsePrivilegeSeparation sandbox\n"},
		want: []string{
			`/etc/ssh/sshd_config:1:1: warning: Protocol is deprecated and ignored: the line has no effect (deprecated)`,
			`/etc/ssh/sshd_config:2:1: warning: UsePrivilegeSeparation is deprecated and ignored: the line has no effect (deprecated)`,
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := lintFiles(t, tt.files, nil, nil)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}

func TestPolicyCheck(t *testing.T) {
	t.Parallel()
	reqs := defaultRequirements(t)
	policy, err := policy.Parse("policy.conf", []byte("PermitRootLogin no\nLoginGraceTime 1m\n"))
	if err != nil {
		t.Fatal(err)
	}
	reqs = append(reqs, policy.Requirements...)
	got := lintFiles(t, map[string]string{
		"/etc/ssh/sshd_config":             "Include /etc/ssh/sshd_config.d/*.conf\nClientAliveCountMax 0\nMatch Group admins\n\tClientAliveInterval 3600\n\tPermitRootLogin yes\nMatch User bob\n\tClientAliveInterval 60\n",
		"/etc/ssh/sshd_config.d/50-x.conf": "ClientAliveInterval 900\nLoginGraceTime 60\n",
	}, reqs, nil)
	want := []string{
		`/etc/ssh/sshd_config:1:1: error: PermitRootLogin is not set, and its default without-password is not "no" as the policy requires (required by policy.conf:1); add "PermitRootLogin no" (policy)`,
		`/etc/ssh/sshd_config:2:1: error: ClientAliveCountMax 0 disables it; the policy requires 1..3 (required by builtin:default:61) (policy)`,
		`/etc/ssh/sshd_config:2:21: warning: ClientAliveCountMax 0 disables disconnection of unresponsive clients on OpenSSH 9.2 (Debian), as on every OpenSSH from 8.2 on; it does not close idle sessions; write ClientAliveCountMax 3 (clientalivecountmax-zero)`,
		`/etc/ssh/sshd_config:4:22: error: ClientAliveInterval 3600 is above the policy's limit of 300 for connections that match line 3 (required by builtin:default:55) (policy)`,
		`/etc/ssh/sshd_config:5:18: error: PermitRootLogin yes is not "no" as the policy requires for connections that match line 3 (required by policy.conf:1) (policy)`,
		`/etc/ssh/sshd_config.d/50-x.conf:1:1: info: ClientAliveInterval drops dead peers only: a client that answers the probes stays connected however long it is idle; use the sshwarden agent's IdleTimeout (or ChannelTimeout session:*=... with UnusedConnectionTimeout) to close idle sessions (clientalive-not-idle)`,
		`/etc/ssh/sshd_config.d/50-x.conf:1:1: error: ClientAliveInterval 900 is above the policy's limit of 300 (required by builtin:default:55) (policy)`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
}

func TestFilePermissions(t *testing.T) {
	t.Parallel()
	stat := func(name string) (int, uint32, bool) {
		switch name {
		case "/etc/ssh/sshd_config":
			return 0, 0o644, true
		case "/etc/ssh/sshd_config.d/10-a.conf":
			return 0, 0o666, true
		case "/etc/ssh/sshd_config.d/20-b.conf":
			return 1000, 0o644, true
		}
		return 0, 0, false
	}
	got := lintFiles(t, map[string]string{
		"/etc/ssh/sshd_config":             "Include /etc/ssh/sshd_config.d/*.conf\n",
		"/etc/ssh/sshd_config.d/10-a.conf": "MaxSessions 5\n",
		"/etc/ssh/sshd_config.d/20-b.conf": "MaxAuthTries 3\n",
	}, nil, stat)
	want := []string{
		`/etc/ssh/sshd_config.d/10-a.conf:1:1: warning: /etc/ssh/sshd_config.d/10-a.conf is writable by group and others (mode 0666): anyone who can write it controls sshd (file-permissions)`,
		`/etc/ssh/sshd_config.d/20-b.conf:1:1: warning: /etc/ssh/sshd_config.d/20-b.conf is owned by uid 1000, not root: its owner controls sshd (file-permissions)`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
}

// TestReadStat: the permission check on files read from disk, with the
// owner and mode of the descriptors Load read them from. Under --root
// (owners false) the owner is not reported.
func TestReadStat(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]struct {
		body string
		mode os.FileMode
		uid  int
	}{
		"etc/ssh/sshd_config":             {"Include /etc/ssh/sshd_config.d/*.conf\n", 0o644, 0},
		"etc/ssh/sshd_config.d/10-a.conf": {"MaxSessions 5\n", 0o666, 0},
		"etc/ssh/sshd_config.d/20-b.conf": {"MaxAuthTries 3\n", 0o644, 1000},
		"etc/ssh/sshd_config.d/30-c.conf": {"MaxStartups 5\n", 0o620, 0},
	}
	for name, f := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.body), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, f.uid, 0); err != nil {
			sshdtest.Missing(t, "chown needs root: "+err.Error())
		}
	}
	cfg, err := sshdconf.Load(sshdconf.DirFS(dir), "/etc/ssh/sshd_config", nil)
	if err != nil {
		t.Fatal(err)
	}
	run := func(owners bool) []string {
		pass := &lint.Pass{Config: cfg, Stat: lint.ReadStat(cfg, owners)}
		return format(lint.Run(pass, []*lint.Check{lint.Lookup("file-permissions")}, nil))
	}
	a := `/etc/ssh/sshd_config.d/10-a.conf:1:1: warning: /etc/ssh/sshd_config.d/10-a.conf is writable by group and others (mode 0666): anyone who can write it controls sshd (file-permissions)`
	b := `/etc/ssh/sshd_config.d/20-b.conf:1:1: warning: /etc/ssh/sshd_config.d/20-b.conf is owned by uid 1000, not root: its owner controls sshd (file-permissions)`
	c := `/etc/ssh/sshd_config.d/30-c.conf:1:1: warning: /etc/ssh/sshd_config.d/30-c.conf is writable by its group (mode 0620): anyone who can write it controls sshd (file-permissions)`
	if d := cmp.Diff([]string{a, b, c}, run(true)); d != "" {
		t.Errorf("owners: findings (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{a, c}, run(false)); d != "" {
		t.Errorf("no owners: findings (-want +got):\n%s", d)
	}
	// A file the configuration did not read is not known.
	if _, _, ok := lint.ReadStat(cfg, true)("/etc/ssh/other"); ok {
		t.Error("ReadStat knows a file Load did not read")
	}
}

// TestChecksDocumented: every check has a stable kebab-case name, a doc and
// a severity, and names are unique.
func TestChecksDocumented(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, c := range lint.Checks() {
		if seen[c.Name] || c.Name != strings.ToLower(c.Name) || strings.ContainsAny(c.Name, " _") {
			t.Errorf("bad or duplicate check name %q", c.Name)
		}
		seen[c.Name] = true
		if !strings.HasSuffix(c.Short(), ".") || len(c.Doc) < 60 {
			t.Errorf("%s: doc too short: %q", c.Name, c.Doc)
		}
		if lint.Lookup(c.Name) == nil {
			t.Errorf("Lookup(%q) = nil", c.Name)
		}
	}
}
