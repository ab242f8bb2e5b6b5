package sshdconf

import (
	"runtime"
	"testing"
)

// fakeInterfaces is a host with lo (1) and eth0 (2).
type fakeInterfaces struct{}

func (fakeInterfaces) Index(name string) (uint32, bool) {
	switch name {
	case "lo":
		return 1, true
	case "eth0":
		return 2, true
	}
	return 0, false
}

func (fakeInterfaces) Name(i uint32) (string, bool) {
	switch i {
	case 1:
		return "lo", true
	case 2:
		return "eth0", true
	}
	return "", false
}

func TestAddrPtonZones(t *testing.T) {
	t.Parallel()
	ar := addrRules{ifs: fakeInterfaces{}, mask: maskDigits}
	tests := []struct {
		in    string
		ok    bool
		scope uint32
	}{
		{"fe80::1", true, 0},
		{"fe80::1%lo", true, 1},
		{"fe80::1%eth0", true, 2},
		{"fe80::1%1", true, 1},
		{"fe80::1%01", true, 1},
		{"fe80::1%0", true, 0},
		{"fe80::1%99", true, 99}, // no such index: glibc does not check
		{"fe80::1%4294967295", true, 4294967295},
		{"fe80::1%4294967296", false, 0},
		{"fe80::1%nosuch0", false, 0},
		{"fe80::1%", false, 0},
		{"fe80::1%+1", false, 0},
		{"fe80::1%1x", false, 0},
		{"fe80::1%lo%lo", false, 0},
		{"febf::1%lo", true, 1}, // still fe80::/10
		{"fec0::1%lo", false, 0},
		{"ff02::1%eth0", true, 2}, // link-local multicast
		{"ff01::1%lo", true, 1},   // node-local multicast
		{"ff05::1%lo", false, 0},  // site-local multicast: numbers only
		{"ff05::1%3", true, 3},
		{"2001:db8::1%lo", false, 0},
		{"2001:db8::1%7", true, 7},
		{"::ffff:10.1.2.3%1", true, 1},
		{"127.0.0.1%lo", false, 0},
		{"127.0.0.1%1", false, 0},
		{"127.1", true, 0},
		{"", false, 0},
	}
	for _, tt := range tests {
		a, ok := ar.pton(tt.in)
		if ok != tt.ok || a.scope != tt.scope {
			t.Errorf("pton(%q) = scope %d, %v; want scope %d, %v", tt.in, a.scope, ok, tt.scope, tt.ok)
		}
	}
	// Without a resolver only numbers name a zone.
	if _, ok := (addrRules{}).pton("fe80::1%lo"); ok {
		t.Errorf("pton(fe80::1%%lo) without interfaces parsed")
	}
}

func TestAddrMatchListZones(t *testing.T) {
	t.Parallel()
	ar := addrRules{ifs: fakeInterfaces{}, mask: maskDigits}
	tests := []struct {
		addr, list string
		want       int
	}{
		{"fe80::1%lo", "fe80::/10", 0},
		{"fe80::1", "fe80::/10", 1},
		{"fe80::1%0", "fe80::/10", 1},
		{"fe80::1%lo", "fe80::%1/10", 1},
		{"fe80::1%eth0", "fe80::%lo/10", 0},
		{"fe80::1%lo", "fe80::1%1", 1},
		{"fe80::1", "fe80::1%lo", 0},
		{"fe80::1%nosuch0", "*", 0},
		{"2001:db8::1%lo", "*", 0},
		{"fe80::1%lo", "*", 1},
		{"fe80::1%lo", "*%lo", 1},
		{"fe80::1%1", "*%lo", 0},
		{"fe80::1%lo", "!fe80::1%lo,*", -1},
		{"fe80::1", "!fe80::1%lo,*", 1},
		{"fe80::1%lo", "fe80::1%lo/64", -2},
		{"fe80::1%lo", "fe80::1%nosuch0/64", 0}, // not an address: a pattern
		{"fe80::1%lo", "fe80::%lo/130", 0},
	}
	for _, tt := range tests {
		if got := ar.matchList(tt.addr, false, tt.list); got != tt.want {
			t.Errorf("matchList(%q, %q) = %d, want %d", tt.addr, tt.list, got, tt.want)
		}
	}
	if got := ar.matchList("", true, "fe80::1%lo/64"); got != -2 {
		t.Errorf("check fe80::1%%lo/64 = %d, want -2", got)
	}
	if got := ar.matchList("", true, "fe80::1%nosuch0/64"); got != 0 {
		t.Errorf("check fe80::1%%nosuch0/64 = %d, want 0", got)
	}
}

func TestAddrMatchListMaskSyntax(t *testing.T) {
	t.Parallel()
	// addr 10.1.2.3; results per mask syntax: strtoul (< 9.1), a leading
	// digit (9.1-9.7), strtonum (9.8+). Measured on 8.9p1, 9.2 and 9.9p2.
	tests := []struct {
		list                     string
		strtoul, digits, strtonu int
	}{
		{"10.0.0.0/8", 1, 1, 1},
		{"10.0.0.0/08", 1, 1, 1},
		{"10.0.0.0/+8", 1, 0, 1},
		{"10.0.0.0/-0", -2, 0, -2},
		{"0.0.0.0/-0", 1, 0, 1},
		{"10.0.0.0/200", 0, 0, -2},
		{"10.0.0.0/33", -2, -2, -2},
		{"10.0.0.0/99999999999", 0, 0, 0},
		{"10.0.0.0/", 0, 0, 0},
		{"10.0.0.0/8x", 0, 0, 0},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			mask maskSyntax
			want int
		}{{maskStrtoul, tt.strtoul}, {maskDigits, tt.digits}, {maskStrtonum, tt.strtonu}} {
			if got := (addrRules{mask: c.mask}).matchList("10.1.2.3", false, tt.list); got != c.want {
				t.Errorf("mask syntax %d: matchList(10.1.2.3, %q) = %d, want %d", c.mask, tt.list, got, c.want)
			}
		}
	}
	for _, c := range []struct {
		rel  string
		want maskSyntax
	}{{"8.0", maskStrtoul}, {"8.9p1", maskStrtoul}, {"9.1", maskDigits}, {"9.2-debian", maskDigits}, {"9.7", maskDigits}, {"9.8", maskStrtonum}, {"10.5p1", maskStrtonum}} {
		if got := maskSyntaxOf(MustRelease(c.rel)); got != c.want {
			t.Errorf("maskSyntaxOf(%s) = %d, want %d", c.rel, got, c.want)
		}
	}
}

func TestParseConnSpecWith(t *testing.T) {
	t.Parallel()
	services := func(name string) (int, bool) {
		p, ok := map[string]int{"ssh": 22, "www": 80}[name]
		return p, ok
	}
	tests := []struct {
		spec     string
		services func(string) (int, bool)
		lport    int
		sshd     string // sshd's message, "" when accepted
	}{
		{"lport=ssh", services, 22, ""},
		{"lport=www,user=a", services, 80, ""},
		{"lport=022", nil, 22, ""},
		{"lport=ssh", nil, 0, "Invalid port 'ssh' in test mode specification lport=ssh"},
		{"lport=SSH", services, 0, "Invalid port 'SSH' in test mode specification lport=SSH"},
		{"lport=", services, 0, "Invalid port '' in test mode specification lport="},
		{"lport=ssh,,lport=nosuch", services, 22, ""},
		{"user=a,lport", services, 0, "Invalid test mode specification lport"},
	}
	for _, tt := range tests {
		c, err := ParseConnSpecWith(tt.spec, tt.services)
		if tt.sshd == "" {
			if err != nil || c.LPort != tt.lport {
				t.Errorf("ParseConnSpecWith(%q) = lport %d, %v; want %d", tt.spec, c.LPort, err, tt.lport)
			}
			continue
		}
		se, ok := err.(*SpecError)
		if !ok || se.SSHD != tt.sshd {
			t.Errorf("ParseConnSpecWith(%q) error = %v, want sshd's %q", tt.spec, err, tt.sshd)
		}
	}
}

func TestHostInterfacesLoopback(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("lo is index 1 on Linux")
	}
	// Every Linux network namespace has lo, with index 1.
	var h HostInterfaces
	if i, ok := h.Index("lo"); !ok || i != 1 {
		t.Errorf("Index(lo) = %d, %v; want 1, true", i, ok)
	}
	if n, ok := h.Name(1); !ok || n != "lo" {
		t.Errorf("Name(1) = %q, %v; want lo, true", n, ok)
	}
	if _, ok := h.Index("nosuch0"); ok {
		t.Errorf("Index(nosuch0) found an interface")
	}
	if _, ok := h.Name(0); ok {
		t.Errorf("Name(0) found an interface")
	}
}

func TestResolveListenZones(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		af   int
		want string // "" when refused
	}{
		{"fe80::1%lo", 0, "fe80::1%lo"},
		{"fe80::1%2", 0, "fe80::1%eth0"},
		{"fe80::1%99", 0, "fe80::1%99"},
		{"fe80::1%0", 0, "fe80::1"},
		{"ff02::1%1", 0, "ff02::1%lo"},
		{"ff01::1%1", 0, "ff01::1%1"},
		{"2001:db8::1%5", 0, "2001:db8::1%5"},
		{"2001:db8::1%lo", 0, ""},
		{"fe80::1%nosuch0", 0, ""},
		{"fe80::1%lo", 2, ""},
		{"fe80::1%lo", 10, "fe80::1%lo"},
		{"127.0.0.1", 0, "127.0.0.1"},
	}
	for _, tt := range tests {
		a, ok := resolveListen(tt.in, tt.af, fakeInterfaces{})
		got := ""
		if ok {
			got = a.String()
		}
		if got != tt.want {
			t.Errorf("resolveListen(%q, %d) = %q, want %q", tt.in, tt.af, got, tt.want)
		}
	}
}

func TestConnSpecEmptyFields(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, str string }{
		{"user=,host=h,rdomain=", "user=,host=h,rdomain="},
		{"user=,user=alice", "user=alice"},
		{"user=alice,user=", "user="},
		{"addr=,laddr=", ""},
	} {
		c, err := ParseConnSpec(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.String(); got != tt.str {
			t.Errorf("ParseConnSpec(%q).String() = %q, want %q", tt.in, got, tt.str)
		}
	}
	c, _ := ParseConnSpec("user=")
	if !c.given(c.User, specUser) || c.given(c.Host, specHost) {
		t.Errorf("ParseConnSpec(user=): user given %v, host given %v; want true, false", c.given(c.User, specUser), c.given(c.Host, specHost))
	}
	var zero ConnSpec
	if zero.given(zero.User, specUser) {
		t.Errorf("the zero ConnSpec gives a user")
	}
}
