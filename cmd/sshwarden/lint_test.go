package main

// Tests of the output formats of `sshwarden lint`, end to end: text, JSON
// (the contract of DESIGN.md), SARIF 2.1.0 (validated against the official
// schema, plus what GitHub code scanning needs) and GitHub Actions workflow
// commands. The writers' bytes are pinned in sshdconf/lint/format; lint's
// exit codes and messages are in testdata/script/lint_*.txtar.
//
// testdata/sarif-schema-2.1.0.json is the OASIS SARIF 2.1.0 JSON schema
// (draft-07), unchanged, from the OASIS TC repository
// https://github.com/oasis-tcs/sarif-spec, file
// Documents/CommitteeSpecifications/2.1.0/sarif-schema-2.1.0.json at commit
// 3682e9ee648f2f3e11ba1fcd47fc390a0b8f9dab (112318 bytes, sha256
// 80cd7ffb9b62a4162d541aa9170862dd264f6cce0f04c57f1ac9f2337b808958).

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/sshwarden/sshwarden/sshdconf/lint"
)

// fixtureTree is a small sshd_config tree with findings of every severity,
// from several checks, some with related positions.
var fixtureTree = map[string]string{
	"etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\n" +
		"PasswordAuthentication no\n" + // 2: overridden (warning), related 50-cloud-init.conf:1
		"ClientAliveInterval 300\n" + // 3: clientalive-not-idle (info)
		"ClientAliveCountMax 0\n" + // 4: policy (error), clientalivecountmax-zero (warning)
		"Frobnicate yes\n" + // 5: sshd-refuses (error)
		"Match User alice\n" +
		"\tClientAliveInterval 900\n" + // 7: policy (error), related the Match line and the policy
		"\tClientAliveInterval 60\n", // 8: overridden (warning) inside the Match block
	"etc/ssh/sshd_config.d/50-cloud-init.conf": "PasswordAuthentication yes\n",
}

const fixturePolicy = "ClientAliveInterval 600\n" +
	"ClientAliveCountMax 3\n" +
	"Match User bob\n" +
	"\tIdleTimeout 1h\n"

// writeTree writes files (slash-separated names) under dir, mode 0644.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// lintOut runs sshwarden with args and returns its streams and exit code.
func lintOut(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return o.String(), e.String(), code
}

// inFixture makes a temporary directory the working directory and writes
// the fixture there: tree/ and policy.conf, so that --root tree gives
// relative names, as in a CI checkout.
func inFixture(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	writeTree(t, "tree", fixtureTree)
	writeTree(t, ".", map[string]string{"policy.conf": fixturePolicy})
}

// fixtureArgs lints the fixture in format f.
func fixtureArgs(f string) []string {
	return []string{"lint", "--root", "tree", "--openssh", "9.2-debian", "--policy", "policy.conf", "--format", f}
}

// lintFixture runs lint over the fixture in format f; it must exit 1.
func lintFixture(t *testing.T, f string) string {
	t.Helper()
	out, errOut, code := lintOut(t, fixtureArgs(f)...)
	if code != exitFindings || errOut != "" {
		t.Fatalf("lint --format %s: exit %d, stderr %q; want exit 1 and no stderr", f, code, errOut)
	}
	return out
}

// contractFinding is exactly the JSON contract of DESIGN.md plus
// "related" and "openssh" (the release the file was read as).
type contractFinding struct {
	Check    string   `json:"check"`
	Severity string   `json:"severity"`
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Column   int      `json:"column"`
	Message  string   `json:"message"`
	Related  []string `json:"related"`
	OpenSSH  string   `json:"openssh"`
}

// decodeContract decodes JSON output strictly: no unknown field, every
// contract field present, nothing after the document.
func decodeContract(t *testing.T, out string) []contractFinding {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	var doc struct {
		OpenSSH  []string          `json:"openssh"`
		Findings []contractFinding `json:"findings"`
	}
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("JSON output does not decode strictly: %v\n%s", err, out)
	}
	if dec.More() {
		t.Fatalf("JSON output has data after the document:\n%s", out)
	}
	if doc.Findings == nil {
		t.Fatalf("JSON output has no findings array (want [] when empty):\n%s", out)
	}
	var loose struct {
		Findings []map[string]json.RawMessage `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &loose); err != nil {
		t.Fatal(err)
	}
	for i, f := range loose.Findings {
		for _, k := range []string{"check", "severity", "file", "line", "column", "message"} {
			if _, ok := f[k]; !ok {
				t.Errorf("finding %d has no %q: %v", i, k, f)
			}
		}
	}
	for i, f := range doc.Findings {
		if !slices.Contains([]string{"error", "warning", "info"}, f.Severity) {
			t.Errorf("finding %d: severity %q", i, f.Severity)
		}
		if f.Line < 1 || f.Column < 1 || f.Check == "" || f.File == "" || f.Message == "" {
			t.Errorf("finding %d incomplete: %+v", i, f)
		}
		if lint.Lookup(f.Check) == nil {
			t.Errorf("finding %d: no check named %q", i, f.Check)
		}
	}
	return doc.Findings
}

func TestLintJSON(t *testing.T) {
	inFixture(t)
	fs := decodeContract(t, lintFixture(t, "json"))

	want := contractFinding{
		Check:    "overridden",
		Severity: "warning",
		File:     "tree/etc/ssh/sshd_config",
		Line:     2,
		Column:   1,
		Message: `"PasswordAuthentication no" never takes effect: sshd keeps the first value it reads, ` +
			`and PasswordAuthentication yes at /etc/ssh/sshd_config.d/50-cloud-init.conf:1 wins ` +
			`(/etc/ssh/sshd_config.d/50-cloud-init.conf is read first: line 1 includes /etc/ssh/sshd_config.d/*.conf)`,
		Related: []string{"tree/etc/ssh/sshd_config.d/50-cloud-init.conf:1"},
		OpenSSH: "9.2-debian",
	}
	if len(fs) == 0 {
		t.Fatal("no findings")
	}
	if diff := gocmp.Diff(want, fs[0]); diff != "" {
		t.Errorf("first finding (-want +got):\n%s", diff)
	}

	// Every severity and several checks, as the fixture was built to give.
	sevs, checks := map[string]bool{}, map[string]bool{}
	for _, f := range fs {
		sevs[f.Severity] = true
		checks[f.Check] = true
	}
	for _, s := range []string{"error", "warning", "info"} {
		if !sevs[s] {
			t.Errorf("no %s finding in %+v", s, fs)
		}
	}
	for _, c := range []string{"overridden", "clientalive-not-idle", "clientalivecountmax-zero", "sshd-refuses", "policy"} {
		if !checks[c] {
			t.Errorf("no %s finding", c)
		}
	}

	// No finding: an empty array, not null.
	writeTree(t, "clean", map[string]string{"etc/ssh/sshd_config": "PermitRootLogin no\n"})
	out, _, code := lintOut(t, "lint", "--root", "clean", "--openssh", "9.2-debian", "--policy", "none", "--format", "json")
	if code != exitOK {
		t.Errorf("clean config: exit %d", code)
	}
	if got := decodeContract(t, out); len(got) != 0 {
		t.Errorf("clean config: findings %+v", got)
	}
	if !strings.Contains(out, `"findings": []`) {
		t.Errorf("clean config: want \"findings\": [], got\n%s", out)
	}
}

// compileSARIFSchema compiles testdata/sarif-schema-2.1.0.json, with
// formats (uri, uri-reference, ...) asserted.
func compileSARIFSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile(p)
	if err != nil {
		t.Fatalf("compile SARIF schema: %v", err)
	}
	return sch
}

func validateSARIF(t *testing.T, sch *jsonschema.Schema, out string) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
	if err != nil {
		t.Fatalf("SARIF output is not JSON: %v", err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("SARIF output does not validate against the SARIF 2.1.0 schema: %v", err)
	}
}

// The parts of SARIF this test reads. Pointers tell a missing object.
type (
	sarifTextT struct {
		Text string `json:"text"`
	}
	sarifLocT struct {
		ID               *int `json:"id"`
		PhysicalLocation *struct {
			ArtifactLocation *struct {
				URI string `json:"uri"`
			} `json:"artifactLocation"`
			Region *struct {
				StartLine   int `json:"startLine"`
				StartColumn int `json:"startColumn"`
			} `json:"region"`
		} `json:"physicalLocation"`
	}
	sarifRuleT struct {
		ID                   string      `json:"id"`
		ShortDescription     *sarifTextT `json:"shortDescription"`
		FullDescription      *sarifTextT `json:"fullDescription"`
		Help                 *sarifTextT `json:"help"`
		DefaultConfiguration *struct {
			Level string `json:"level"`
		} `json:"defaultConfiguration"`
	}
	sarifResultT struct {
		RuleID           string      `json:"ruleId"`
		RuleIndex        *int        `json:"ruleIndex"`
		Level            string      `json:"level"`
		Message          *sarifTextT `json:"message"`
		Locations        []sarifLocT `json:"locations"`
		RelatedLocations []sarifLocT `json:"relatedLocations"`
	}
	sarifLogT struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string       `json:"name"`
					Rules []sarifRuleT `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []sarifResultT `json:"results"`
		} `json:"runs"`
	}
)

// checkSARIF checks what GitHub code scanning needs beyond the schema, and
// returns the results of the single run.
func checkSARIF(t *testing.T, out string) ([]sarifRuleT, []sarifResultT) {
	t.Helper()
	var log sarifLogT
	if err := json.Unmarshal([]byte(out), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" {
		t.Errorf("version %q, want 2.1.0", log.Version)
	}
	if len(log.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(log.Runs))
	}
	run := log.Runs[0]
	if run.Tool.Driver.Name != "sshwarden" {
		t.Errorf("tool.driver.name %q", run.Tool.Driver.Name)
	}
	rules := run.Tool.Driver.Rules
	var names []string
	for _, c := range lint.Checks() {
		names = append(names, c.Name)
	}
	var ids []string
	for i, r := range rules {
		ids = append(ids, r.ID)
		switch {
		case r.ID == "":
			t.Errorf("rule %d has no id", i)
		case r.ShortDescription == nil || r.ShortDescription.Text == "":
			t.Errorf("rule %s has no shortDescription.text", r.ID)
		case r.FullDescription == nil || r.FullDescription.Text == "":
			t.Errorf("rule %s has no fullDescription.text", r.ID)
		case r.Help == nil || r.Help.Text == "":
			t.Errorf("rule %s has no help.text", r.ID)
		case r.DefaultConfiguration == nil || !slices.Contains([]string{"error", "warning", "note"}, r.DefaultConfiguration.Level):
			t.Errorf("rule %s: defaultConfiguration.level missing or not error/warning/note", r.ID)
		}
	}
	if !slices.Equal(ids, names) {
		t.Errorf("rule ids %q, want every check %q", ids, names)
	}
	if run.Results == nil {
		t.Errorf("no results array (want [] when empty)")
	}
	for i, r := range run.Results {
		if r.RuleIndex == nil || *r.RuleIndex < 0 || *r.RuleIndex >= len(rules) {
			t.Errorf("result %d: ruleIndex %v out of the %d rules", i, r.RuleIndex, len(rules))
		} else if rules[*r.RuleIndex].ID != r.RuleID {
			t.Errorf("result %d: ruleIndex %d is rule %q, ruleId is %q", i, *r.RuleIndex, rules[*r.RuleIndex].ID, r.RuleID)
		}
		if !slices.Contains(ids, r.RuleID) {
			t.Errorf("result %d: ruleId %q is no rule", i, r.RuleID)
		}
		if !slices.Contains([]string{"error", "warning", "note"}, r.Level) {
			t.Errorf("result %d: level %q", i, r.Level)
		}
		if r.Message == nil || r.Message.Text == "" {
			t.Errorf("result %d: no message.text", i)
		}
		if len(r.Locations) != 1 {
			t.Errorf("result %d: %d locations, want 1", i, len(r.Locations))
		}
		for j, l := range append(slices.Clone(r.Locations), r.RelatedLocations...) {
			if l.PhysicalLocation == nil || l.PhysicalLocation.ArtifactLocation == nil || l.PhysicalLocation.Region == nil {
				t.Errorf("result %d location %d: no physicalLocation with artifactLocation and region", i, j)
				continue
			}
			if l.PhysicalLocation.Region.StartLine < 1 || l.PhysicalLocation.Region.StartColumn < 1 {
				t.Errorf("result %d location %d: region %+v", i, j, *l.PhysicalLocation.Region)
			}
		}
		seen := map[int]bool{}
		for j, l := range r.RelatedLocations {
			if l.ID == nil || seen[*l.ID] {
				t.Errorf("result %d related location %d: id missing or repeated", i, j)
			} else {
				seen[*l.ID] = true
			}
		}
	}
	return rules, run.Results
}

func uriOf(l sarifLocT) string { return l.PhysicalLocation.ArtifactLocation.URI }

func TestLintSARIF(t *testing.T) {
	sch := compileSARIFSchema(t)
	inFixture(t)
	out := lintFixture(t, "sarif")
	validateSARIF(t, sch, out)
	_, results := checkSARIF(t, out)

	// --root with a relative directory: relative URIs, which GitHub
	// resolves against the repository.
	for i, r := range results {
		for _, l := range append(slices.Clone(r.Locations), r.RelatedLocations...) {
			u, err := url.Parse(uriOf(l))
			if err != nil || u.IsAbs() || strings.HasPrefix(u.Path, "/") {
				t.Errorf("result %d: uri %q is not a relative reference", i, uriOf(l))
			}
		}
	}
	levels := map[string]bool{}
	for _, r := range results {
		levels[r.Level] = true
	}
	for _, l := range []string{"error", "warning", "note"} {
		if !levels[l] {
			t.Errorf("no result of level %s", l)
		}
	}

	// The overridden line carries the line that won as related location.
	r := results[0]
	if r.RuleID != "overridden" || uriOf(r.Locations[0]) != "tree/etc/ssh/sshd_config" ||
		r.Locations[0].PhysicalLocation.Region.StartLine != 2 {
		t.Fatalf("first result %+v, want overridden at tree/etc/ssh/sshd_config:2", r)
	}
	if len(r.RelatedLocations) != 1 || uriOf(r.RelatedLocations[0]) != "tree/etc/ssh/sshd_config.d/50-cloud-init.conf" ||
		r.RelatedLocations[0].PhysicalLocation.Region.StartLine != 1 {
		t.Errorf("overridden: related locations %+v, want 50-cloud-init.conf:1", r.RelatedLocations)
	}

	// No finding: still valid, with an empty results array.
	writeTree(t, "clean", map[string]string{"etc/ssh/sshd_config": "PermitRootLogin no\n"})
	out, _, code := lintOut(t, "lint", "--root", "clean", "--openssh", "9.2-debian", "--policy", "none", "--format", "sarif")
	if code != exitOK {
		t.Errorf("clean config: exit %d", code)
	}
	validateSARIF(t, sch, out)
	if _, rs := checkSARIF(t, out); len(rs) != 0 {
		t.Errorf("clean config: %d results", len(rs))
	}

	// An absolute --root gives absolute file: URIs; still valid SARIF.
	abs, err := filepath.Abs("tree")
	if err != nil {
		t.Fatal(err)
	}
	out, _, _ = lintOut(t, "lint", "--root", abs, "--openssh", "9.2-debian", "--policy", "none", "--format", "sarif")
	validateSARIF(t, sch, out)
	_, results = checkSARIF(t, out)
	for i, r := range results {
		u, err := url.Parse(uriOf(r.Locations[0]))
		if err != nil || u.Scheme != "file" || !strings.HasPrefix(u.Path, abs+"/") {
			t.Errorf("result %d: uri %q, want a file: URI under %s", i, uriOf(r.Locations[0]), abs)
		}
	}
}

var (
	textLine   = regexp.MustCompile(`^(.+):(\d+):(\d+): (error|warning|info): (.+) \(([a-z0-9-]+)\)$`)
	githubLine = regexp.MustCompile(`^::(error|warning|notice) file=([^,]+),line=(\d+),col=(\d+),title=([a-z0-9-]+)::(.+)$`)
)

// lines splits output into lines; it must end with a newline.
func lines(t *testing.T, out string) []string {
	t.Helper()
	if out == "" {
		return nil
	}
	if !strings.HasSuffix(out, "\n") {
		t.Errorf("output does not end with a newline: %q", out)
	}
	return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
}

func TestLintText(t *testing.T) {
	inFixture(t)
	ls := lines(t, lintFixture(t, "text"))
	type key struct {
		file      string
		line, col int
	}
	var keys []key
	for _, l := range ls {
		m := textLine.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("text line %q is not FILE:LINE:COL: SEVERITY: MESSAGE (CHECK)", l)
			continue
		}
		line, _ := strconv.Atoi(m[2])
		col, _ := strconv.Atoi(m[3])
		keys = append(keys, key{m[1], line, col})
	}
	if !slices.IsSortedFunc(keys, func(a, b key) int {
		return cmp.Or(strings.Compare(a.file, b.file), cmp.Compare(a.line, b.line), cmp.Compare(a.col, b.col))
	}) {
		t.Errorf("text findings not sorted by file, line, column:\n%s", strings.Join(ls, "\n"))
	}

	// Each line says what the JSON finding of the same rank says.
	out, _, _ := lintOut(t, fixtureArgs("json")...)
	fs := decodeContract(t, out)
	if len(fs) != len(ls) {
		t.Fatalf("%d text lines, %d JSON findings", len(ls), len(fs))
	}
	for i, f := range fs {
		want := fmt.Sprintf("%s:%d:%d: %s: %s (%s)", f.File, f.Line, f.Column, f.Severity, f.Message, f.Check)
		if ls[i] != want {
			t.Errorf("text line %d:\n got %s\nwant %s", i, ls[i], want)
		}
	}
}

// ghUnescape undoes GitHub's workflow-command escaping.
func ghUnescape(s string) string {
	return strings.NewReplacer("%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",", "%25", "%").Replace(s)
}

func TestLintGitHub(t *testing.T) {
	inFixture(t)
	ls := lines(t, lintFixture(t, "github"))
	out, _, _ := lintOut(t, fixtureArgs("json")...)
	fs := decodeContract(t, out)
	if len(fs) != len(ls) {
		t.Fatalf("%d GitHub lines, %d JSON findings", len(ls), len(fs))
	}
	cmdOf := map[string]string{"error": "error", "warning": "warning", "info": "notice"}
	for i, l := range ls {
		m := githubLine.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("GitHub line %q does not match %s", l, githubLine)
			continue
		}
		f := fs[i]
		got := []string{m[1], ghUnescape(m[2]), m[3], m[4], m[5], ghUnescape(m[6])}
		want := []string{cmdOf[f.Severity], f.File, strconv.Itoa(f.Line), strconv.Itoa(f.Column), f.Check, f.Message}
		if !slices.Equal(got, want) {
			t.Errorf("GitHub line %d = %q, want %q", i, got, want)
		}
	}
}

// TestLintGitHubEscaping crafts a tree whose file names and messages carry
// ',' ':' '%' and a carriage return, and checks GitHub's escaping: %25,
// %0D and %0A everywhere, %2C and %3A only in properties.
func TestLintGitHubEscaping(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeTree(t, "gh", map[string]string{
		"etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\n" +
			"AuthorizedKeysFile %h/.ssh/other\n" +
			"Banner \"/etc/a\rb\"\n" +
			"Banner /x\n",
		"etc/ssh/sshd_config.d/50,a:b%c.conf": "AuthorizedKeysFile %h/.ssh/authorized_keys\n",
		"etc/ssh/sshd_config.d/60-x.conf":     "AuthorizedKeysFile .ssh/keys\n",
	})
	out, errOut, code := lintOut(t, "lint", "--root", "gh", "--openssh", "9.2-debian", "--policy", "none", "--format", "github")
	if code != exitFindings || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	want := []string{
		`::warning file=gh/etc/ssh/sshd_config,line=2,col=1,title=overridden::"AuthorizedKeysFile %25h/.ssh/other" never takes effect: ` +
			`sshd keeps the first value it reads, and AuthorizedKeysFile %25h/.ssh/authorized_keys at /etc/ssh/sshd_config.d/50,a:b%25c.conf:1 wins ` +
			`(/etc/ssh/sshd_config.d/50,a:b%25c.conf is read first: line 1 includes /etc/ssh/sshd_config.d/*.conf)`,
		`::warning file=gh/etc/ssh/sshd_config,line=4,col=1,title=overridden::"Banner /x" never takes effect: ` +
			`sshd keeps the first value it reads, and Banner /etc/a%0Db at /etc/ssh/sshd_config:3 wins`,
		`::warning file=gh/etc/ssh/sshd_config.d/60-x.conf,line=1,col=1,title=overridden::"AuthorizedKeysFile .ssh/keys" never takes effect: ` +
			`sshd keeps the first value it reads, and AuthorizedKeysFile %25h/.ssh/authorized_keys at /etc/ssh/sshd_config.d/50,a:b%25c.conf:1 wins`,
	}
	got := lines(t, out)
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("GitHub output (-want +got):\n%s", diff)
	}
	for _, l := range got {
		if !githubLine.MatchString(l) {
			t.Errorf("GitHub line %q does not match %s", l, githubLine)
		}
	}

	// A finding located in the file whose name needs escaping.
	writeTree(t, "gh2", map[string]string{
		"etc/ssh/sshd_config":                   "Include /etc/ssh/sshd_config.d/*.conf\n",
		"etc/ssh/sshd_config.d/50,a:b%c\r.conf": "ClientAliveCountMax 0\n",
	})
	out, _, _ = lintOut(t, "lint", "--root", "gh2", "--openssh", "9.2-debian", "--policy", "none", "--format", "github")
	wantLine := "::warning file=gh2/etc/ssh/sshd_config.d/50%2Ca%3Ab%25c%0D.conf,line=1,col=21,title=clientalivecountmax-zero::" +
		"ClientAliveCountMax 0 disables disconnection of unresponsive clients on OpenSSH 9.2 (Debian), as on every OpenSSH from 8.2 on; it does not close idle sessions; write ClientAliveCountMax 3"
	if diff := gocmp.Diff([]string{wantLine}, lines(t, out)); diff != "" {
		t.Errorf("GitHub output (-want +got):\n%s", diff)
	}
}

// TestLintFormatsAgree checks that the four formats report the same
// findings in the same order.
func TestLintFormatsAgree(t *testing.T) {
	inFixture(t)
	fs := decodeContract(t, lintFixture(t, "json"))
	_, results := checkSARIF(t, lintFixture(t, "sarif"))
	if len(results) != len(fs) {
		t.Fatalf("%d SARIF results, %d JSON findings", len(results), len(fs))
	}
	levelOf := map[string]string{"error": "error", "warning": "warning", "info": "note"}
	for i, f := range fs {
		r := results[i]
		loc := r.Locations[0]
		got := fmt.Sprintf("%s %s %s:%d:%d %s", r.RuleID, r.Level, uriOf(loc),
			loc.PhysicalLocation.Region.StartLine, loc.PhysicalLocation.Region.StartColumn, r.Message.Text)
		want := fmt.Sprintf("%s %s %s:%d:%d %s", f.Check, levelOf[f.Severity], f.File, f.Line, f.Column, f.Message)
		if got != want {
			t.Errorf("SARIF result %d:\n got %s\nwant %s", i, got, want)
		}
		var rel []string
		for _, l := range r.RelatedLocations {
			rel = append(rel, fmt.Sprintf("%s:%d", uriOf(l), l.PhysicalLocation.Region.StartLine))
		}
		if !slices.Equal(rel, f.Related) {
			t.Errorf("SARIF result %d: related %q, JSON %q", i, rel, f.Related)
		}
	}
}

// SARIF artifact URIs must be URI references: a file name with a space,
// '%', '#' or '?' has to be percent-encoded, else the log does not validate
// (a bad %-escape) or GitHub reads part of the name as a fragment or query.
func TestLintSARIFURIEscaping(t *testing.T) {
	sch := compileSARIFSchema(t)
	dir := t.TempDir()
	t.Chdir(dir)
	const odd = "50 100%#x?.conf"
	writeTree(t, "odd", map[string]string{
		"etc/ssh/sshd_config":          "Include /etc/ssh/sshd_config.d/*.conf\n",
		"etc/ssh/sshd_config.d/" + odd: "ClientAliveCountMax 0\n",
	})
	out, _, code := lintOut(t, "lint", "--root", "odd", "--openssh", "9.2-debian", "--policy", "none", "--format", "sarif")
	if code != exitFindings {
		t.Fatalf("exit %d", code)
	}
	_, results := checkSARIF(t, out)
	if len(results) != 1 {
		t.Fatalf("%d results, want 1", len(results))
	}
	uri := uriOf(results[0].Locations[0])
	u, err := url.Parse(uri)
	ok := err == nil && u.Path == "odd/etc/ssh/sshd_config.d/"+odd && u.Fragment == "" && u.RawQuery == ""
	inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(out))
	ok = ok && sch.Validate(inst) == nil
	if !ok {
		t.Errorf("sarifURI does not percent-encode file names: uri %q for file %q", uri, "odd/etc/ssh/sshd_config.d/"+odd)
	}
}

// TestLintManyRoots: lint takes the trees of a fleet one per core; its
// output for many roots is exactly the findings of each root linted on its
// own, sorted, and the errors of unreadable roots keep the list's order.
func TestLintManyRoots(t *testing.T) {
	fleet, err := filepath.Abs("../../testdata/fleet")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	var list []string
	for i := range 30 {
		host := []string{"db1", "web1", "web2"}[i%3]
		dst := fmt.Sprintf("h%02d-%s", i, host)
		if err := os.CopyFS(dst, os.DirFS(filepath.Join(fleet, "hosts", host))); err != nil {
			t.Fatal(err)
		}
		list = append(list, dst)
		if i == 7 || i == 21 {
			list = append(list, fmt.Sprintf("missing-%d", i))
		}
	}
	if err := os.WriteFile("roots.txt", []byte(strings.Join(list, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(fleet, "policy.conf")
	// --disable file-permissions: the copies carry this checkout's modes.
	out, errOut, code := lintOut(t, "lint", "--openssh", "9.2-debian", "--policy", policy, "--disable", "file-permissions", "--roots-from", "roots.txt")
	if code != exitUsage {
		t.Errorf("exit %d, want %d (two roots are missing)", code, exitUsage)
	}
	wantErr := "sshwarden: error: roots.txt:9: --root missing-7: not a directory\n" +
		"sshwarden: error: roots.txt:24: --root missing-21: not a directory\n" +
		"sshwarden: error: 2 of 32 configurations could not be checked\n"
	if errOut != wantErr {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut, wantErr)
	}
	var want []string
	for _, root := range list {
		if strings.HasPrefix(root, "missing") {
			continue
		}
		o, e, c := lintOut(t, "lint", "--openssh", "9.2-debian", "--policy", policy, "--disable", "file-permissions", "--root", root)
		if c == exitUsage || e != "" {
			t.Fatalf("--root %s: exit %d, %s", root, c, e)
		}
		want = append(want, lines(t, o)...)
	}
	// The roots sort as the list gives them, so the findings of the whole
	// run are the outputs of the roots one after the other.
	got := lines(t, out)
	if len(got) < 60 {
		t.Fatalf("only %d findings for 30 trees", len(got))
	}
	if !slices.Equal(want, got) {
		t.Errorf("findings of 30 roots in one run differ from each linted alone:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// failWriter fails every write, as standard output on a full disk does.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// TestLintWriteError: findings that cannot be written are an error (exit
// 2), in every format, not output lost with the exit status of a clean run.
func TestLintWriteError(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeTree(t, ".", map[string]string{"a.conf": "ClientAliveCountMax 0\n"})
	for _, format := range []string{"text", "json", "sarif", "github"} {
		var e bytes.Buffer
		code := run([]string{"lint", "--policy", "none", "--format", format, "a.conf"}, failWriter{}, &e)
		if code != exitUsage || !strings.Contains(e.String(), "no space left on device") {
			t.Errorf("--format %s: exit %d, stderr %q; want %d and the write error", format, code, e.String(), exitUsage)
		}
	}
}

// TestReadRootsRelease reads the release at the end of a --roots-from
// line: " --openssh VERSION" or "--openssh=VERSION", after spaces or tabs;
// a directory whose name has spaces keeps them.
func TestReadRootsRelease(t *testing.T) {
	t.Parallel()
	list := "hosts/web1\nhosts/rhel9 --openssh 8.7\nhosts/deb13\t--openssh=10.0-debian\nhosts/my host  --openssh  9.6p1\nhosts/plain host\n"
	got, err := readRoots("-", strings.NewReader(list))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ dir, rel string }{
		{"hosts/web1", ""}, {"hosts/rhel9", "8.7p1"}, {"hosts/deb13", "10.0-debian"},
		{"hosts/my host", "9.6p1"}, {"hosts/plain host", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("readRoots = %d roots, want %d", len(got), len(want))
	}
	for i, w := range want {
		rel := ""
		if got[i].rel != nil {
			rel = got[i].rel.Name()
		}
		if got[i].dir != w.dir || rel != w.rel || got[i].origin != fmt.Sprintf("stdin:%d", i+1) {
			t.Errorf("root %d = %q %q (%s), want %q %q", i, got[i].dir, rel, got[i].origin, w.dir, w.rel)
		}
	}
	for _, bad := range []string{"hosts/a --openssh\n", "hosts/a --openssh 7.0\n", "hosts/a --openssh 8.7 extra\n"} {
		if _, err := readRoots("-", strings.NewReader(bad)); err == nil || !strings.HasPrefix(err.Error(), "stdin:1: ") {
			t.Errorf("readRoots(%q) = %v, want an error at stdin:1", bad, err)
		}
	}
}
