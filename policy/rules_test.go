package policy

import (
	"net/netip"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/watcher"
)

// testUsers: alice is in alice (primary), wheel, admins; bob in bob, staff;
// carol is in carol and wheel and in the "banned" group.
func testUsers() sshdconf.Users {
	return sshdconf.LoadFileUsers(fstest.MapFS{
		"etc/passwd": {Data: []byte(
			"alice:x:1000:1000::/home/alice:/bin/sh\n" +
				"bob:x:1001:1001::/home/bob:/bin/sh\n" +
				"carol:x:1002:1002::/home/carol:/bin/sh\n")},
		"etc/group": {Data: []byte(
			"alice:x:1000:\nbob:x:1001:\ncarol:x:1002:\n" +
				"wheel:x:10:alice,carol\nadmins:x:20:alice\nstaff:x:30:bob\nbanned:x:40:carol\n")},
	})
}

func session(user, remote, local string) watcher.Session {
	s := watcher.Session{PID: 100, User: user, Kind: watcher.KindPTY}
	if remote != "" {
		s.Remote = netip.MustParseAddrPort(remote)
	}
	if local != "" {
		s.Local = netip.MustParseAddrPort(local)
	}
	return s
}

func pos(line int) sshdconf.Pos { return sshdconf.Pos{File: "p.conf", Line: line, Col: 1} }

func idle(d time.Duration, line int) Duration { return Duration{Value: d, Pos: pos(line)} }

// TestBlockApplies checks each Match criterion against sshd's semantics.
func TestBlockApplies(t *testing.T) {
	t.Parallel()
	users := testUsers()
	tests := []struct {
		match string
		s     watcher.Session
		want  bool
	}{
		{"User alice", session("alice", "", ""), true},
		{"User alice", session("Alice", "", ""), false}, // case-sensitive
		{"User alice", session("bob", "", ""), false},
		{"User a*", session("alice", "", ""), true},
		{"User ?ob", session("bob", "", ""), true},
		{"User *,!bob", session("bob", "", ""), false}, // negation wins
		{"User *,!bob", session("alice", "", ""), true},
		{"User !bob", session("alice", "", ""), false}, // a negation alone never matches
		{"User alice", session("", "", ""), false},     // no user
		{"Group wheel", session("alice", "", ""), true},
		{"Group alice", session("alice", "", ""), true}, // primary group
		{"Group wheel", session("bob", "", ""), false},
		{"Group wheel,!banned", session("carol", "", ""), false}, // any negated group wins
		{"Group wheel,!banned", session("alice", "", ""), true},
		{"Group adm*", session("alice", "", ""), true},
		{"Group wheel", session("nobody", "", ""), false}, // unknown user
		{"Address 192.0.2.7", session("alice", "192.0.2.7:5000", ""), true},
		{"Address 192.0.2.0/24", session("alice", "192.0.2.7:5000", ""), true},
		{"Address 192.0.2.0/24", session("alice", "198.51.100.1:5000", ""), false},
		{"Address 10.*", session("alice", "10.1.2.3:5000", ""), true},
		{"Address 192.0.2.0/24,!192.0.2.7", session("alice", "192.0.2.7:5000", ""), false},
		{"Address 192.0.2.0/24,!192.0.2.7", session("alice", "192.0.2.8:5000", ""), true},
		{"Address 2001:db8::/32", session("alice", "[2001:db8::1]:5000", ""), true},
		{"Address 2001:db8::/32", session("alice", "192.0.2.1:5000", ""), false},
		{"Address 192.0.2.7", session("alice", "", ""), false}, // no peer
		{"LocalAddress 127.0.0.1", session("alice", "192.0.2.7:5000", "127.0.0.1:22"), true},
		{"LocalAddress 127.0.0.0/8", session("alice", "127.0.0.1:5000", "192.0.2.1:22"), false},
		{"LocalPort 2222", session("alice", "", "127.0.0.1:2222"), true},
		{"LocalPort 2222", session("alice", "", "127.0.0.1:22"), false},
		{"LocalPort 2222", session("alice", "", ""), false},
		{"All", session("", "", ""), true},
		{"User alice Address 192.0.2.0/24", session("alice", "192.0.2.7:1", ""), true},
		{"User alice Address 192.0.2.0/24", session("alice", "198.51.100.7:1", ""), false},
		{"User alice Address 192.0.2.0/24", session("bob", "192.0.2.7:1", ""), false},
		{"User=alice LocalPort=22", session("alice", "", "[::1]:22"), true},
	}
	for _, tt := range tests {
		p, err := Parse("p.conf", []byte("Match "+tt.match+"\n\tIdleTimeout 1m\n"))
		if err != nil {
			t.Fatalf("Parse(Match %s): %v", tt.match, err)
		}
		if got := p.Blocks[0].Applies(tt.s, users); got != tt.want {
			t.Errorf("Match %s: Applies(user=%q remote=%v local=%v) = %v, want %v",
				tt.match, tt.s.User, tt.s.Remote, tt.s.Local, got, tt.want)
		}
	}
}

// TestGroupWithoutUsers: with no user database, Match Group never applies.
func TestGroupWithoutUsers(t *testing.T) {
	t.Parallel()
	p, err := Parse("p.conf", []byte("Match Group *\n\tExempt yes\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Blocks[0].Applies(session("alice", "", ""), nil) {
		t.Errorf("Match Group * applies with nil Users, want not")
	}
}

// TestFor checks how values combine: first applying block per keyword,
// keys from different blocks, global fallback, defaults, and the Pos of
// each value.
func TestFor(t *testing.T) {
	t.Parallel()
	const policy = `IdleTimeout 15m
WarnBefore 1m
WarnMessage idle for %i, closing in %l
Match User alice
	IdleTimeout 1h
Match Group wheel
	IdleTimeout 2h
	MaxSessionTime 12h
	CloseNoTTY yes
Match Address 192.0.2.0/24
	Exempt yes
	WarnBefore 5m
Match All
	MaxSessionTime 24h
`
	// Lines: 1 IdleTimeout, 2 WarnBefore, 3 WarnMessage, 5 alice IdleTimeout,
	// 7 wheel IdleTimeout, 8 wheel MaxSessionTime, 9 CloseNoTTY, 11 Exempt,
	// 12 WarnBefore 5m, 14 All MaxSessionTime.
	p, err := Parse("p.conf", []byte(policy))
	if err != nil {
		t.Fatal(err)
	}
	msg := String{Value: "idle for %i, closing in %l", Pos: pos(3)}
	yes := func(line int) Bool { return Bool{Value: true, Pos: sshdconf.Pos{File: "p.conf", Line: line, Col: 2}} }
	indented := func(d time.Duration, line int) Duration {
		return Duration{Value: d, Pos: sshdconf.Pos{File: "p.conf", Line: line, Col: 2}}
	}
	tests := []struct {
		name string
		s    watcher.Session
		want Effective
	}{
		{"alice: first block wins over the later group block; keys combine", session("alice", "198.51.100.1:1", ""), Effective{
			IdleTimeout: indented(time.Hour, 5), WarnBefore: idle(time.Minute, 2),
			MaxSessionTime: indented(12*time.Hour, 8), CloseNoTTY: yes(9), WarnMessage: msg,
		}},
		{"carol: group block", session("carol", "198.51.100.1:1", ""), Effective{
			IdleTimeout: indented(2*time.Hour, 7), WarnBefore: idle(time.Minute, 2),
			MaxSessionTime: indented(12*time.Hour, 8), CloseNoTTY: yes(9), WarnMessage: msg,
		}},
		{"bob: global fallback and Match All", session("bob", "198.51.100.1:1", ""), Effective{
			IdleTimeout: idle(15*time.Minute, 1), WarnBefore: idle(time.Minute, 2),
			MaxSessionTime: indented(24*time.Hour, 14), WarnMessage: msg,
		}},
		{"bob from 192.0.2.0/24: address block over global", session("bob", "192.0.2.9:1", ""), Effective{
			IdleTimeout: idle(15*time.Minute, 1), WarnBefore: indented(5*time.Minute, 12),
			MaxSessionTime: indented(24*time.Hour, 14), Exempt: yes(11), WarnMessage: msg,
		}},
		{"alice from 192.0.2.0/24: three blocks combine", session("alice", "192.0.2.9:1", ""), Effective{
			IdleTimeout: indented(time.Hour, 5), WarnBefore: indented(5*time.Minute, 12),
			MaxSessionTime: indented(12*time.Hour, 8), CloseNoTTY: yes(9), Exempt: yes(11), WarnMessage: msg,
		}},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.want, p.For(tt.s, testUsers())); d != "" {
			t.Errorf("%s: For mismatch (-want +got):\n%s", tt.name, d)
		}
	}
}

// TestForDefaults: an empty policy gives every built-in default, each with
// the zero Pos.
func TestForDefaults(t *testing.T) {
	t.Parallel()
	p, err := Parse("p.conf", []byte("# nothing\nMatch User bob\n\tIdleTimeout 1m\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := p.For(session("alice", "192.0.2.1:1", "127.0.0.1:22"), testUsers())
	if d := cmp.Diff(Effective{}, got); d != "" {
		t.Errorf("For on an empty policy (-want +got):\n%s", d)
	}
	if s := got.IdleTimeout.Pos.String(); s != "default" {
		t.Errorf("default IdleTimeout Pos = %q, want %q", s, "default")
	}
}

// TestForBuiltinDefault: the shipped default policy gives 15m with a 1m
// warning, from its own lines.
func TestForBuiltinDefault(t *testing.T) {
	t.Parallel()
	p, err := Load("builtin:default")
	if err != nil {
		t.Fatal(err)
	}
	e := p.For(session("alice", "192.0.2.1:1", "127.0.0.1:22"), nil)
	if e.IdleTimeout.Value != 15*time.Minute || e.WarnBefore.Value != time.Minute {
		t.Errorf("builtin:default For = IdleTimeout %v WarnBefore %v, want 15m0s 1m0s", e.IdleTimeout.Value, e.WarnBefore.Value)
	}
	if e.IdleTimeout.Pos.File != "builtin:default" || e.IdleTimeout.Pos.Line == 0 {
		t.Errorf("builtin:default IdleTimeout Pos = %v, want builtin:default:LINE", e.IdleTimeout.Pos)
	}
}
