package policy

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/lint"
)

func TestBuiltinsParse(t *testing.T) {
	t.Parallel()
	names := Builtins()
	if d := cmp.Diff([]string{"builtin:cis", "builtin:default", "builtin:pci", "builtin:stig"}, names); d != "" {
		t.Fatalf("Builtins() mismatch (-want +got):\n%s", d)
	}
	for _, n := range names {
		p, err := Load(n)
		if err != nil {
			t.Errorf("Load(%s): %v", n, err)
			continue
		}
		if p.Global.IdleTimeout == nil || p.Global.IdleTimeout.Value <= 0 {
			t.Errorf("%s: no IdleTimeout", n)
		}
		for _, r := range p.Requirements {
			if r.Keyword == "ClientAliveCountMax" && r.Max == 0 {
				t.Errorf("%s: ClientAliveCountMax must be an upper bound above 0", n)
			}
		}
	}
}

func TestDefaultPolicy(t *testing.T) {
	t.Parallel()
	p, err := Load("builtin:default")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Global.IdleTimeout.Value; got != 15*time.Minute {
		t.Errorf("IdleTimeout = %v, want 15m", got)
	}
	if got := p.Global.WarnBefore.Value; got != time.Minute {
		t.Errorf("WarnBefore = %v, want 1m", got)
	}
	var got []string
	for _, r := range p.Requirements {
		v := r.Value
		if r.Max > 0 {
			v = strconv.Itoa(r.Max)
		}
		got = append(got, r.Keyword+" "+v)
	}
	if d := cmp.Diff([]string{"ClientAliveInterval 300", "ClientAliveCountMax 3"}, got); d != "" {
		t.Errorf("requirements (-want +got):\n%s", d)
	}
}

func TestParsePolicy(t *testing.T) {
	t.Parallel()
	src := `# site policy
IdleTimeout 15m          # close sessions idle this long
WarnBefore = 1m
MaxSessionTime 0
ClientAliveInterval 5m
PermitRootLogin prohibit-password
WarnMessage Idle for %i: closing in %l.
Match Group admins Address 10.0.0.0/8,!10.9.0.0/16
    IdleTimeout 1h
Match User=backup
    Exempt yes
`
	p, err := Parse("policy.conf", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if p.Global.IdleTimeout.Value != 15*time.Minute || p.Global.IdleTimeout.Pos.Line != 2 {
		t.Errorf("IdleTimeout = %+v", p.Global.IdleTimeout)
	}
	if p.Global.WarnMessage.Value != "Idle for %i: closing in %l." {
		t.Errorf("WarnMessage = %q", p.Global.WarnMessage.Value)
	}
	want := []lint.Requirement{
		{Keyword: "ClientAliveInterval", Max: 300, Args: []string{"5m"}},
		{Keyword: "PermitRootLogin", Value: "without-password", Args: []string{"prohibit-password"}},
	}
	for i := range p.Requirements {
		p.Requirements[i].Pos = want[0].Pos
	}
	if d := cmp.Diff(want, p.Requirements); d != "" {
		t.Errorf("requirements (-want +got):\n%s", d)
	}
	if len(p.Blocks) != 2 || p.Blocks[0].Rules.IdleTimeout.Value != time.Hour || !p.Blocks[1].Rules.Exempt.Value {
		t.Fatalf("blocks = %+v", p.Blocks)
	}
	if d := cmp.Diff([]Criterion{{"group", "admins"}, {"address", "10.0.0.0/8,!10.9.0.0/16"}}, p.Blocks[0].Criteria); d != "" {
		t.Errorf("criteria (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]Criterion{{"user", "backup"}}, p.Blocks[1].Criteria); d != "" {
		t.Errorf("criteria (-want +got):\n%s", d)
	}
}

// TestParsePolicyErrors checks that every problem is reported at once, each
// at its file:line:col.
func TestParsePolicyErrors(t *testing.T) {
	t.Parallel()
	src := `IdleTimeout 15x
ClientAliveInterval 0
ClientAliveCountMax 3
ClientAliveCountMax 2
Frobnicate yes
UseDNS maybe
AcceptEnv LANG
Match Host *.example.com
Match Group admins
    ClientAliveInterval 60
    ScanInterval 5s
    Exempt perhaps
    IdleTimeout 1h
    IdleTimeout 2h
Match Address 10.0.0.1/8
`
	_, err := Parse("p.conf", []byte(src))
	if err == nil {
		t.Fatal("Parse succeeded, want errors")
	}
	want := `p.conf:1:1: IdleTimeout: invalid time "15x" (use 900, 15m, 1h30m)
p.conf:2:1: ClientAliveInterval: a policy bound must be above 0 (0 disables it in sshd)
p.conf:4:1: ClientAliveCountMax is already required at line 3
p.conf:5:1: unknown keyword "Frobnicate": not an sshwarden keyword (IdleTimeout, WarnBefore, MaxSessionTime, ScanInterval, Exempt, CloseNoTTY, EnforceConfig, WarnMessage, MetricsFile) nor an sshd_config keyword
p.conf:6:1: UseDNS: sshd would refuse this value: unsupported option "maybe"
p.conf:7:1: AcceptEnv cannot be a policy requirement (sshwarden compares single effective values)
p.conf:8:1: unsupported criterion Match Host: it needs a DNS lookup of each session's peer, which sshwarden does not make; use Match Address with the host's addresses
p.conf:10:5: ClientAliveInterval is a requirement on sshd_config, which applies to every connection: put it before the first Match
p.conf:11:5: ScanInterval applies to the whole agent: put it before the first Match
p.conf:12:5: Exempt takes yes or no
p.conf:14:5: IdleTimeout is set twice in this section; sshwarden refuses the ambiguity
p.conf:15:1: invalid address list for Match Address: 10.0.0.1/8 (addresses, CIDR blocks, wildcards, !negation)`
	if d := cmp.Diff(want, err.Error()); d != "" {
		t.Errorf("errors (-want +got):\n%s", d)
	}
	if !strings.Contains(err.Error(), "p.conf:1:1") {
		t.Error("no position")
	}
}

// TestMetricsFilePlace: a MetricsFile must be a NAME.prom file right in
// one of the metrics folders; anything else is refused at its file:line.
func TestMetricsFilePlace(t *testing.T) {
	t.Parallel()
	cases := []struct {
		path string
		err  string // after "p.conf:2:1: "; empty: accepted
	}{
		{"/var/lib/prometheus/node-exporter/sshwarden.prom", ""},
		{"/run/sshwarden/sshwarden.prom", ""},
		{"/var/lib/sshwarden/host-a_1.x.prom", ""},
		{`"/run/sshwarden/quoted.prom"`, ""},
		{"/etc/shadow", `MetricsFile "/etc/shadow": not in a metrics folder; use a NAME.prom file in /var/lib/prometheus/node-exporter, /var/lib/sshwarden, /run/sshwarden`},
		{"/proc/self/mem", `MetricsFile "/proc/self/mem": not in a metrics folder; use a NAME.prom file in /var/lib/prometheus/node-exporter, /var/lib/sshwarden, /run/sshwarden`},
		{"/etc/cron.d/x.prom", `MetricsFile "/etc/cron.d/x.prom": not in a metrics folder; use a NAME.prom file in /var/lib/prometheus/node-exporter, /var/lib/sshwarden, /run/sshwarden`},
		{"/run/sshwarden/sub/x.prom", `MetricsFile "/run/sshwarden/sub/x.prom": not in a metrics folder; use a NAME.prom file in /var/lib/prometheus/node-exporter, /var/lib/sshwarden, /run/sshwarden`},
		{"/run/sshwarden/../../etc/x.prom", `MetricsFile "/run/sshwarden/../../etc/x.prom": not a clean absolute path; use a NAME.prom file in /var/lib/prometheus/node-exporter, /var/lib/sshwarden, /run/sshwarden`},
		{"/run/sshwarden/./x.prom", `MetricsFile "/run/sshwarden/./x.prom": not a clean absolute path; use a NAME.prom file in /var/lib/prometheus/node-exporter, /var/lib/sshwarden, /run/sshwarden`},
		{"/run//sshwarden/x.prom", `MetricsFile "/run//sshwarden/x.prom": not a clean absolute path; use a NAME.prom file in /var/lib/prometheus/node-exporter, /var/lib/sshwarden, /run/sshwarden`},
		{"run/sshwarden/x.prom", `MetricsFile "run/sshwarden/x.prom": not a clean absolute path; use a NAME.prom file in /var/lib/prometheus/node-exporter, /var/lib/sshwarden, /run/sshwarden`},
		{"/run/sshwarden/", `MetricsFile "/run/sshwarden/": not a clean absolute path; use a NAME.prom file in /var/lib/prometheus/node-exporter, /var/lib/sshwarden, /run/sshwarden`},
		{"/run/sshwarden", `MetricsFile "/run/sshwarden": not in a metrics folder; use a NAME.prom file in /var/lib/prometheus/node-exporter, /var/lib/sshwarden, /run/sshwarden`},
		{"/run/sshwarden/reload", `MetricsFile "/run/sshwarden/reload": the name must be NAME.prom, of letters, digits, '.', '_' and '-', not starting with '.'`},
		{"/run/sshwarden/.prom", `MetricsFile "/run/sshwarden/.prom": the name must be NAME.prom, of letters, digits, '.', '_' and '-', not starting with '.'`},
		{"/run/sshwarden/.hidden.prom", `MetricsFile "/run/sshwarden/.hidden.prom": the name must be NAME.prom, of letters, digits, '.', '_' and '-', not starting with '.'`},
		{`"/run/sshwarden/a b.prom"`, `MetricsFile "/run/sshwarden/a b.prom": the name must be NAME.prom, of letters, digits, '.', '_' and '-', not starting with '.'`},
		{"/run/sshwarden/" + strings.Repeat("x", 251) + ".prom", `MetricsFile "/run/sshwarden/` + strings.Repeat("x", 251) + `.prom": the name must be NAME.prom, of letters, digits, '.', '_' and '-', not starting with '.'`},
		{"/run/sshwarden/a.prom /run/sshwarden/b.prom", `MetricsFile takes one path, a NAME.prom file in /var/lib/prometheus/node-exporter, /var/lib/sshwarden, /run/sshwarden`},
	}
	for _, tc := range cases {
		src := "IdleTimeout 15m\nMetricsFile " + tc.path + "\n"
		p, err := Parse("p.conf", []byte(src))
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("MetricsFile %s: %v, want it accepted", tc.path, err)
		case tc.err == "" && p.Global.MetricsFile.Value != strings.Trim(tc.path, `"`):
			t.Errorf("MetricsFile %s = %q", tc.path, p.Global.MetricsFile.Value)
		case tc.err != "" && (err == nil || err.Error() != "p.conf:2:1: "+tc.err):
			t.Errorf("MetricsFile %s: %v\nwant p.conf:2:1: %s", tc.path, err, tc.err)
		}
	}
}

// TestLoaderMetricsDirs: only a Loader, which no policy line sets, moves
// the metrics folders (for tests that write to a temporary folder).
func TestLoaderMetricsDirs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := []byte("MetricsFile " + dir + "/m.prom\n")
	if _, err := Parse("p.conf", src); err == nil {
		t.Errorf("Parse accepted MetricsFile %s/m.prom", dir)
	}
	p, err := Loader{MetricsDirs: []string{dir}}.Parse("p.conf", src)
	if err != nil || p.Global.MetricsFile.Value != dir+"/m.prom" {
		t.Fatalf("Loader.Parse = %+v, %v", p, err)
	}
	if _, err := (Loader{MetricsDirs: []string{dir}}).Parse("p.conf", []byte("MetricsFile /run/sshwarden/m.prom\n")); err == nil {
		t.Errorf("Loader.Parse accepted a folder that its MetricsDirs replace")
	}
	if _, err := (Loader{MetricsDirs: []string{dir}}).Load("builtin:default"); err != nil {
		t.Errorf("Loader.Load(builtin:default): %v", err)
	}
}

// TestParsePolicyNUL: a NUL byte anywhere, even in a comment, is refused
// at its line and column (sshd would glue the next line to the line).
func TestParsePolicyNUL(t *testing.T) {
	t.Parallel()
	src := "IdleTimeout 15m\x00junk\n# a comment\x00\nWarnBefore 1m\n  WarnMessage idle\x00\n\x00"
	_, err := Parse("p.conf", []byte(src))
	want := `p.conf:1:16: a NUL byte in the line (sshd would end the line there and join the next one to it)
p.conf:2:12: a NUL byte in the line (sshd would end the line there and join the next one to it)
p.conf:4:19: a NUL byte in the line (sshd would end the line there and join the next one to it)
p.conf:5:1: a NUL byte in the line (sshd would end the line there and join the next one to it)`
	if err == nil {
		t.Fatalf("Parse accepted NUL bytes")
	}
	if d := cmp.Diff(want, err.Error()); d != "" {
		t.Errorf("errors (-want +got):\n%s", d)
	}
}

// TestParsePolicyManyErrors: 200,000 bad lines give the first 100 errors
// and one that counts the others.
func TestParsePolicyManyErrors(t *testing.T) {
	t.Parallel()
	const n = 200000
	src := []byte("IdleTimeout 15m\n" + strings.Repeat("IdleTimeout 15m\n", n))
	_, err := Parse("p.conf", src)
	var list sshdconf.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Parse = %v, want an ErrorList", err)
	}
	if len(list) != maxPolicyErrors+1 {
		t.Fatalf("%d errors, want %d", len(list), maxPolicyErrors+1)
	}
	if got, want := list[0].Error(), "p.conf:2:1: IdleTimeout is set twice in this section; sshwarden refuses the ambiguity"; got != want {
		t.Errorf("first error %q, want %q", got, want)
	}
	if got, want := list[maxPolicyErrors].Error(), fmt.Sprintf("p.conf:102:1: ... and %d more errors, from this line on", n-maxPolicyErrors); got != want {
		t.Errorf("last error %q, want %q", got, want)
	}
	if l := len(err.Error()); l > 20000 {
		t.Errorf("the error is %d bytes", l)
	}
}
