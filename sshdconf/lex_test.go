package sshdconf

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestArgvSplit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string
		ok   bool
	}{
		{`a b`, []string{"a", "b"}, true},
		{"a\tb  c", []string{"a", "b", "c"}, true},
		{`"4 4"`, []string{"4 4"}, true},
		{`'43'`, []string{"43"}, true},
		{`a"b c"d`, []string{"ab cd"}, true},
		{`x # comment`, []string{"x"}, true},
		{`40#c`, []string{"40#c"}, true},
		{`a\ b`, []string{"a b"}, true},
		{`"a\"b"`, []string{`a"b`}, true},
		{`a\nb`, []string{`a\nb`}, true},
		{`"open`, nil, false},
		{`'it"s'`, []string{`it"s`}, true},
		{``, nil, true},
		{`#all`, nil, true},
	}
	for _, tt := range tests {
		got, ok := argvSplit([]byte(tt.in))
		if ok != tt.ok || !slices.Equal(got, tt.want) {
			t.Errorf("argvSplit(%q) = %q, %v, want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestStrdelim(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, kw, rest string
	}{
		{"Port 22", "Port", "22"},
		{"Port=22", "Port", "22"},
		{"Port = 22", "Port", "22"},
		{"Port==36", "Port", "=36"},
		{"Port\t\t22", "Port", "22"},
		{`"Port" 22`, "Port", "22"},
		{"=Port 22", "", "Port 22"},
	}
	for _, tt := range tests {
		b := append([]byte(tt.in), 0)
		s := 0
		kw, ok := strdelim(b, &s)
		if !ok || string(kw) != tt.kw || string(cstr(b, s)) != tt.rest {
			t.Errorf("strdelim(%q) = %q, rest %q, want %q, rest %q", tt.in, kw, cstr(b, s), tt.kw, tt.rest)
		}
	}
}

func TestConvtime(t *testing.T) {
	t.Parallel()
	tests := map[string]int{
		"0": 0, "42": 42, "1h30m": 5400, "1m1m": 120, "010": 10, "1M": 60, "2w": 1209600,
		"2147483647": 2147483647, "2147483648": -1, "-1": -1, "5x": -1, "1.5": -1, "0x10": -1, "": -1,
		"1h 30m": 5400, // strtol skips the blank; sshd_config only gets here quoted
		"4 4":    -1,
	}
	for in, want := range tests {
		if got := convtime(in); got != want {
			t.Errorf("convtime(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestScanScaled(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1G", 1 << 30, true}, {"512M", 512 << 20, true}, {"1.5K", 1536, true}, {"16", 16, true},
		{"1Gx", 0, false}, {"--1", 0, false}, {"1X", 0, false}, {"-5", -5, true}, {"8E", 0, false},
	}
	for _, tt := range tests {
		got, errno := scanScaled(tt.in)
		if ok := errno == ""; got != tt.want || ok != tt.ok {
			t.Errorf("scanScaled(%q) = %d, %v, want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestAddrMatchList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr, list string
		want       int
	}{
		{"10.1.2.3", "10.0.0.0/8", 1},
		{"10.1.2.3", "!10.0.0.0/8", -1},
		{"192.168.1.7", "10.0.0.0/8,192.168.1.*", 1},
		{"192.168.2.7", "10.0.0.0/8,192.168.1.*", 0},
		{"10.1.2.3", "10.0.0.1/8", -2},
		{"2001:db8::1", "2001:db8::/32", 1},
		{"10.1.2.3", "2001:db8::/32", 0},
		{"10.0.0.10", "10", 0},
		{"0.0.0.10", "10", 1},
		{"10.1.2.3", "10.0.0.0/33", -2},
		{"10.1.2.3", "", -2},
	}
	for _, tt := range tests {
		if got := addrMatchList(tt.addr, false, tt.list); got != tt.want {
			t.Errorf("addrMatchList(%q, %q) = %d, want %d", tt.addr, tt.list, got, tt.want)
		}
	}
}

func TestMatchPatternList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s, p string
		want int
	}{
		{"alice", "alice", 1}, {"alice", "a*", 1}, {"alice", "*,!alice", -1},
		{"bob", "*,!alice", 1}, {"Alice", "alice", 0}, {"bob", "!alice", 0}, {"x", "?", 1},
	}
	for _, tt := range tests {
		if got := matchPatternList(tt.s, tt.p, false); got != tt.want {
			t.Errorf("matchPatternList(%q, %q) = %d, want %d", tt.s, tt.p, got, tt.want)
		}
	}
}

func TestFnmatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p, s string
		want bool
	}{
		{"*.conf", "50-cloud-init.conf", true},
		{"*.conf", ".hidden.conf", false},
		{".*.conf", ".hidden.conf", true},
		{"*.conf", "x.conf.disabled", false},
		{"[0-9]*.conf", "10-a.conf", true},
		{"[!0-9]*.conf", "10-a.conf", false},
		{"[[:alpha:]]*", "B.conf", true},
		{`a\*`, "a*", true},
		{"?.conf", "a.conf", true},
	}
	for _, tt := range tests {
		if got := fnmatch(tt.p, tt.s); got != tt.want {
			t.Errorf("fnmatch(%q, %q) = %v, want %v", tt.p, tt.s, got, tt.want)
		}
	}
}

// slowAndPlain parses one physical line with the ported tokenisers and, when
// the line is plain, with plainDirective; both must agree.
func slowAndPlain(t testing.TB, text string) {
	l := scanLine(1, text, true)
	lines := sshdLines([]byte(text + "\n"))
	if len(lines) == 0 || strings.IndexByte(text, 0) >= 0 || strings.IndexByte(text, '\n') >= 0 {
		return
	}
	raw := lines[0]
	slow := parseDirective(raw, Pos{File: "f", Line: 1}, nil)
	if slow != nil {
		slow.Line, slow.Pos.Col = l, int(l.kwOff)+1
	}
	fast := parseDirective(raw, Pos{File: "f", Line: 1}, l)
	if !plain(raw) {
		return
	}
	if (slow == nil) != (fast == nil) || slow != nil && (slow.Name != fast.Name || slow.Keyword != fast.Keyword ||
		!slices.Equal(slow.Args, fast.Args) || slow.Pos != fast.Pos || (slow.Args == nil) != (fast.Args == nil)) {
		t.Errorf("%q: tokenisers give %+v, plainDirective %+v", text, slow, fast)
	}
}

// TestPlainDirective: the fast path of the directive walk reads every plain
// line as strdelim and argvSplit do.
func TestPlainDirective(t *testing.T) {
	lines := []string{
		"Port 22", "  Port\t22  ", "PasswordAuthentication no", "Match User alice,bob Address 10.0.0.0/8",
		"Ciphers aes128-ctr,aes256-ctr", "AcceptEnv LANG LC_*", "Subsystem sftp /usr/lib/openssh/sftp-server -l INFO",
		"Port", "Port \t ", "\tIndented yes", "\vPort 22", "Port\v22", "X\x01Y z", "ÜnicodeKey wert",
		"Banner /etc/issue.net", "a b c d e f g", "ForceCommand internal-sftp -d /home/%u",
	}
	names, _ := filepath.Glob("../testdata/trees/*.txtar")
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.Split(string(b), "\n")...)
	}
	nPlain := 0
	for _, text := range lines {
		if r := sshdLines([]byte(text + "\n")); len(r) > 0 && len(r[0]) > 0 && plain(r[0]) {
			nPlain++
		}
		slowAndPlain(t, text)
	}
	if nPlain < 500 {
		t.Errorf("only %d plain lines: the fast path is not exercised", nPlain)
	}
}

func FuzzPlainDirective(f *testing.F) {
	for _, s := range []string{"Port 22", "Match User a b", "X\tY\t\tZ ", "\v \x01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) { slowAndPlain(t, text) })
}

// sameLines checks sshdLines against the copying version on input without
// a NUL, where it takes the short way.
func sameLines(t testing.TB, src []byte) {
	got, want := sshdLines(src), sshdLinesCopy(src)
	if len(got) != len(want) {
		t.Fatalf("%q: %d lines, want %d", src, len(got), len(want))
	}
	for i := range got {
		if string(got[i]) != string(want[i]) {
			t.Errorf("%q: line %d is %q, want %q", src, i+1, got[i], want[i])
		}
	}
}

func TestSSHDLinesShortWay(t *testing.T) {
	for _, s := range []string{"", "\n", "a", "a\n", "a\nb", " \t\r x\r\n\n  \n#c\n\r\r\n", "\x00a\nb"} {
		sameLines(t, []byte(s))
	}
	names, _ := filepath.Glob("../testdata/trees/*.txtar")
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		sameLines(t, b)
	}
}

func FuzzSSHDLines(f *testing.F) {
	f.Add([]byte(" a\r\n\tb\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) { sameLines(t, b) })
}
