package enforcer

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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
