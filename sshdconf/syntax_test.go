package sshdconf_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sshwarden/sshwarden/internal/oracle"
	"github.com/sshwarden/sshwarden/sshdconf"
)

var update = flag.Bool("update", false, "rewrite golden files")

// roundTripInputs are odd inputs every printer must give back unchanged.
var roundTripInputs = []string{
	"",
	"\n",
	"Port 22",
	"Port 22\n",
	"  \tPort\t=\t22  # c\r\n",
	"Port==36\nK 40#c\n\"Keyword\" 45\n",
	"Banner \"/etc/issue net\"\r\nX 'a b' \"c\\\"d\"\n",
	"unclosed \"quote\n",
	"a\x00b\nPort 22\n",
	"\xff\xfe garbage \x01\x02\n\n\n",
	"\r\r\n\f\n#only a comment",
	"Match User alice # trailing\n  ClientAliveInterval 300\n",
	strings.Repeat("x", 5000),
}

func TestParseRoundTrip(t *testing.T) {
	t.Parallel()
	inputs := append([]string(nil), roundTripInputs...)
	paths, _ := filepath.Glob("../testdata/trees/*.txtar")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range oracle.ParseArchive(b).Files {
			inputs = append(inputs, string(f))
		}
	}
	for _, in := range inputs {
		f := sshdconf.Parse("x", []byte(in))
		if got := string(f.Bytes()); got != in {
			t.Errorf("Print(Parse(%.40q)) = %.40q", in, got)
		}
	}
}

// TestSyntaxGolden shows how each line of testdata/syntax/*.conf splits
// into parts; run with -update to rewrite the .golden files.
func TestSyntaxGolden(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob("testdata/syntax/*.conf")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no inputs: %v", err)
	}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		for _, l := range sshdconf.Parse(p, src).Lines() {
			fmt.Fprintf(&b, "%d indent=%q", l.Num(), l.Indent())
			if l.IsDirective() {
				fmt.Fprintf(&b, " keyword=%q sep=%q", l.Keyword().Raw, l.Sep())
				for _, a := range l.Args() {
					fmt.Fprintf(&b, " arg@%d=%q(%q)", a.Off+1, a.Raw, a.Value())
				}
			}
			fmt.Fprintf(&b, " trailing=%q eol=%q\n", l.Trailing(), l.EOL())
		}
		golden := strings.TrimSuffix(p, ".conf") + ".golden"
		if *update {
			if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if d := cmp.Diff(string(want), b.String()); d != "" {
			t.Errorf("%s: syntax differs from %s (-want +got):\n%s", p, golden, d)
		}
	}
}

func TestSetArgsKeepsLayout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		args []string
		want string
	}{
		{"ClientAliveInterval 0\n", []string{"300"}, "ClientAliveInterval 300\n"},
		{"  clientaliveinterval\t=\t0   # was off\r\n", []string{"300"}, "  clientaliveinterval\t=\t300   # was off\r\n"},
		{"Banner none", []string{"/etc/issue net"}, `Banner "/etc/issue net"`},
		{"AcceptEnv LANG", []string{"LANG", "LC_*"}, "AcceptEnv LANG LC_*"},
		{"X 1#notacomment\n", []string{"2"}, "X 2\n"},
	}
	for _, tt := range tests {
		f := sshdconf.Parse("x", []byte(tt.in))
		f.Line(1).SetArgs(tt.args...)
		got := string(f.Bytes())
		if got != tt.want {
			t.Errorf("SetArgs(%q, %q) = %q, want %q", tt.in, tt.args, got, tt.want)
		}
		// The edit must read back as the arguments written, and a second
		// identical edit must change nothing.
		g := sshdconf.Parse("x", []byte(got))
		var vals []string
		for _, a := range g.Line(1).Args() {
			vals = append(vals, a.Value())
		}
		if d := cmp.Diff(tt.args, vals); d != "" {
			t.Errorf("SetArgs(%q): reads back differently (-want +got):\n%s", tt.in, d)
		}
		g.Line(1).SetArgs(tt.args...)
		if again := string(g.Bytes()); again != got {
			t.Errorf("SetArgs(%q) twice: %q then %q", tt.in, got, again)
		}
	}
}
