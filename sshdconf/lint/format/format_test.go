package format

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/lint"
)

var update = flag.Bool("update", false, "rewrite testdata/*.FORMAT from the output")

// sample is findings of every severity and shape: related positions, a
// whole-file finding (line 0), an unknown column, an absolute path (a
// file: URI in SARIF), and names and messages that need escaping in
// GitHub commands and SARIF URIs.
func sample() []Finding {
	pos := func(file string, line, col int) sshdconf.Pos { return sshdconf.Pos{File: file, Line: line, Col: col} }
	return []Finding{
		{Finding: lint.Finding{Check: "overridden", Severity: lint.Warning, Pos: pos("/etc/ssh/sshd_config", 2, 1),
			Message: `"PasswordAuthentication no" never takes effect: sshd keeps the first value it reads`,
			Related: []sshdconf.Pos{pos("/etc/ssh/sshd_config.d/50-cloud-init.conf", 1, 1)}},
			File: "tree/etc/ssh/sshd_config", Related: []string{"tree/etc/ssh/sshd_config.d/50-cloud-init.conf"}},
		{Finding: lint.Finding{Check: "clientalive-not-idle", Severity: lint.Info, Pos: pos("/etc/ssh/sshd_config", 3, 0),
			Message: "ClientAliveInterval detects dead peers, not idle users"},
			File: "tree/etc/ssh/sshd_config"},
		{Finding: lint.Finding{Check: "policy", Severity: lint.Error, Pos: pos("/etc/ssh/sshd_config", 7, 22),
			Message: "ClientAliveInterval 900 is above the policy's limit of 600",
			Related: []sshdconf.Pos{pos("/etc/ssh/sshd_config", 6, 1), pos("policy.conf", 1, 1)}},
			File: "tree/etc/ssh/sshd_config", Related: []string{"tree/etc/ssh/sshd_config", "policy.conf"}},
		{Finding: lint.Finding{Check: "file-permissions", Severity: lint.Warning, Pos: pos("/etc/ssh/sshd_config.d/50,a:b%c\r.conf", 0, 0),
			Message: "100% wrong,\r\nsee: here"},
			File: "gh/etc/ssh/sshd_config.d/50,a:b%c\r.conf"},
		{Finding: lint.Finding{Check: "clientalivecountmax-zero", Severity: lint.Warning, Pos: pos("/etc/ssh/sshd_config.d/50 100%#x?.conf", 1, 21),
			Message: "ClientAliveCountMax 0 disables disconnection of unresponsive clients"},
			File: "/srv/odd/etc/ssh/sshd_config.d/50 100%#x?.conf"},
		{Finding: lint.Finding{Check: "sshd-refuses", Severity: lint.Error, Pos: pos("/etc/ssh/sshd_config", 5, 1),
			Message: `unknown keyword "Frobnicate"`},
			File: "/srv/tree/etc/ssh/sshd_config"},
	}
}

// TestGolden pins every format's bytes: testdata/NAME.FORMAT is the
// output for the findings of sample() (NAME sample) and for none (NAME
// empty). SARIF lists every check as a rule, so a change to a check's doc
// changes testdata/*.sarif: rewrite them with go test -update. The
// command's tests check the same formats end to end, SARIF against its
// schema.
func TestGolden(t *testing.T) {
	cases := []struct {
		name string
		fs   []Finding
	}{{"sample", sample()}, {"empty", nil}}
	for _, f := range Names() {
		for _, c := range cases {
			t.Run(c.name+"."+f, func(t *testing.T) {
				var b bytes.Buffer
				if err := Write(&b, f, c.fs, "1.2.3"); err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join("testdata", c.name+"."+f)
				if *update {
					if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatal(err)
				}
				if diff := gocmp.Diff(string(want), b.String()); diff != "" {
					t.Errorf("Write(%s) differs from %s (-want +got):\n%s", f, golden, diff)
				}
			})
		}
	}
}

func TestWriteUnknown(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, "xml", sample(), "1.2.3"); err == nil || err.Error() != `unknown format "xml"` || b.Len() != 0 {
		t.Errorf("Write(xml) = %v, wrote %q; want the error unknown format \"xml\" and nothing written", err, b.String())
	}
	for _, n := range Names() {
		if !Known(n) {
			t.Errorf("Known(%q) = false", n)
		}
	}
	if Known("xml") {
		t.Errorf("Known(\"xml\") = true")
	}
}

// failWriter fails every write, as standard output on a full disk does.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// TestWriteError: findings that cannot be written are an error, in every
// format, even when they fit in Write's buffer.
func TestWriteError(t *testing.T) {
	for _, f := range Names() {
		if err := Write(failWriter{}, f, sample(), "1.2.3"); err == nil || !strings.Contains(err.Error(), "no space left on device") {
			t.Errorf("Write(%s) to a failing writer = %v, want the write error", f, err)
		}
	}
}

// ghUnescape undoes GitHub's workflow-command escaping.
func ghUnescape(s string) string {
	return strings.NewReplacer("%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",", "%25", "%").Replace(s)
}

// TestGitHubEscapeFuncs covers what no sshd_config line can carry: a
// newline inside a message or a property.
func TestGitHubEscapeFuncs(t *testing.T) {
	tests := []struct{ in, data, prop string }{
		{"plain", "plain", "plain"},
		{"a,b:c", "a,b:c", "a%2Cb%3Ac"},
		{"100%", "100%25", "100%25"},
		{"%0A", "%250A", "%250A"},
		{"line1\nline2\r\nend", "line1%0Aline2%0D%0Aend", "line1%0Aline2%0D%0Aend"},
		{"x,%:\r\n", "x,%25:%0D%0A", "x%2C%25%3A%0D%0A"},
	}
	for _, tt := range tests {
		if got := ghData(tt.in); got != tt.data {
			t.Errorf("ghData(%q) = %q, want %q", tt.in, got, tt.data)
		}
		if got := ghProperty(tt.in); got != tt.prop {
			t.Errorf("ghProperty(%q) = %q, want %q", tt.in, got, tt.prop)
		}
		if got := ghUnescape(tt.prop); got != tt.in {
			t.Errorf("unescape(ghProperty(%q)) = %q", tt.in, got)
		}
	}
}

// TestReleases: JSON and SARIF name the releases a run read its
// configurations as, at the top and per finding; text and GitHub do not
// change, and Write (no releases) writes what it always did.
func TestReleases(t *testing.T) {
	fs := sample()[:2]
	fs[0].Release = "8.7p1"
	fs[1].Release = "10.0-debian"
	run := Run{Version: "1.2.3", Releases: []string{"8.7p1", "10.0-debian"}}

	var b bytes.Buffer
	if err := WriteRun(&b, "json", fs, run); err != nil {
		t.Fatal(err)
	}
	var j struct {
		OpenSSH  []string `json:"openssh"`
		Findings []struct {
			OpenSSH string `json:"openssh"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(b.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(j.OpenSSH, run.Releases) || len(j.Findings) != 2 || j.Findings[0].OpenSSH != "8.7p1" || j.Findings[1].OpenSSH != "10.0-debian" {
		t.Errorf("WriteRun(json) = %s, want openssh %q at the top and 8.7p1, 10.0-debian per finding", b.String(), run.Releases)
	}

	b.Reset()
	if err := WriteRun(&b, "sarif", fs, run); err != nil {
		t.Fatal(err)
	}
	var s struct {
		Runs []struct {
			Properties struct {
				OpenSSH []string `json:"openssh"`
			} `json:"properties"`
			Results []struct {
				Properties struct {
					OpenSSH string `json:"openssh"`
				} `json:"properties"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Runs) != 1 || !slices.Equal(s.Runs[0].Properties.OpenSSH, run.Releases) ||
		len(s.Runs[0].Results) != 2 || s.Runs[0].Results[1].Properties.OpenSSH != "10.0-debian" {
		t.Errorf("WriteRun(sarif) = %s, want the run's and each result's property openssh", b.String())
	}

	for _, f := range []string{"text", "github"} {
		var with, without bytes.Buffer
		if err := WriteRun(&with, f, fs, run); err != nil {
			t.Fatal(err)
		}
		if err := Write(&without, f, sample()[:2], "1.2.3"); err != nil {
			t.Fatal(err)
		}
		if with.String() != without.String() {
			t.Errorf("WriteRun(%s) with releases = %q, want %q", f, with.String(), without.String())
		}
	}
}
