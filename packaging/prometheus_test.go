package packaging_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/audit"
	"github.com/sshwarden/sshwarden/enforcer"
	"github.com/sshwarden/sshwarden/internal/sshdtest"
)

// The Prometheus alerting rules and their promtool unit tests.
const (
	rulesFile     = "prometheus/sshwarden.rules.yml"
	rulesTestFile = "prometheus/sshwarden.rules_test.yml"
)

// promtool returns the path of promtool: from PATH, else the one `make
// deps` extracts from Debian's prometheus package into bin/ at the root
// of the repository. Without one the test skips, and fails with CI=true.
func promtool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("promtool"); err == nil {
		return p
	}
	p, err := filepath.Abs(filepath.Join("..", "bin", "promtool"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return p
	}
	msg := "promtool is neither in PATH nor at " + p + ": make deps extracts it from Debian's prometheus package (apt-get download prometheus; dpkg-deb -x)"
	sshdtest.Missing(t, msg)
	return ""
}

// TestPrometheusRules checks the rules with promtool, as Prometheus loads
// them, and runs their unit tests: each alert firing with its exact labels
// and annotations, and the cases that must stay quiet.
func TestPrometheusRules(t *testing.T) {
	t.Parallel()
	pt := promtool(t)

	out, err := try(pt, "check", "rules", rulesFile)
	if err != nil {
		t.Fatalf("promtool check rules %s: %v\n%s", rulesFile, err, out)
	}
	rules := readFile(t, rulesFile)
	want := len(alertNames(rules))
	if !strings.Contains(out, "SUCCESS: "+strconv.Itoa(want)+" rules found") {
		t.Errorf("promtool check rules %s: want SUCCESS: %d rules found (one per `- alert:`), got:\n%s", rulesFile, want, out)
	}

	out, err = try(pt, "test", "rules", rulesTestFile)
	if err != nil {
		t.Fatalf("promtool test rules %s: %v\n%s", rulesTestFile, err, out)
	}
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool test rules %s: no SUCCESS in its output:\n%s", rulesTestFile, out)
	}
}

// TestPrometheusRulesShape checks, without promtool, what promtool does
// not: every alert has a severity, a summary and a description, and a unit
// test in which it fires.
func TestPrometheusRulesShape(t *testing.T) {
	t.Parallel()
	rules := readFile(t, rulesFile)
	names := alertNames(rules)
	if len(names) == 0 {
		t.Fatalf("%s: no `- alert:` found", rulesFile)
	}
	blocks := strings.Split(rules, "- alert: ")[1:]
	for i, b := range blocks {
		for _, re := range []*regexp.Regexp{
			regexp.MustCompile(`(?m)^\s+severity: (critical|warning)$`),
			regexp.MustCompile(`(?m)^\s+summary: \S`),
			regexp.MustCompile(`(?m)^\s+description: \S`),
		} {
			if !re.MatchString(b) {
				t.Errorf("%s: alert %s has no line matching %s", rulesFile, names[i], re)
			}
		}
	}

	fired := firingTests(readFile(t, rulesTestFile))
	for _, n := range names {
		if !fired[n] {
			t.Errorf("%s: no test in which %s fires (an alertname: %s with exp_alerts)", rulesTestFile, n, n)
		}
	}
}

// TestPrometheusRuleMetrics checks that every sshwarden_ series the rules
// and their tests name, with its label names and values, is one the agent
// writes (audit.Metrics, as the agent renders its first file), so that a
// renamed metric or label, or a typo, fails here and not silently in
// production, where a selector that matches nothing never fires. It also
// checks the MESSAGE_IDs the annotations send the admin to, and the
// agent-down threshold against the agent's default scan interval.
func TestPrometheusRuleMetrics(t *testing.T) {
	t.Parallel()
	written := agentSeries(t)
	// Labels that are not the agent's: Prometheus adds the scrape target's,
	// node_exporter's textfile collector has file.
	targetLabels := []string{"instance", "job"}
	known := map[string]bool{"file": true}
	for _, l := range targetLabels {
		known[l] = true
	}
	for _, labels := range written {
		for l := range labels {
			known[l] = true
		}
	}
	// Label values the agent writes from free text, not from a fixed set.
	freeValues := map[string]bool{"version": true, "goversion": true}

	selector := regexp.MustCompile(`\bsshwarden_\w+(\{[^}]*\})?`)
	matcher := regexp.MustCompile(`\s*(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?`)
	grouping := regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)`)
	messageID := regexp.MustCompile(`MESSAGE_ID=(\w+)`)
	ids := map[string]bool{}
	for _, id := range []string{
		audit.MessageIDWarn, audit.MessageIDWarnFailed, audit.MessageIDHeeded,
		audit.MessageIDClose, audit.MessageIDCloseFailed, audit.MessageIDConfigDrift,
		audit.MessageIDConfigFixed, audit.MessageIDConfigFixFailed, audit.MessageIDPolicyLoaded,
		audit.MessageIDPolicyError, audit.MessageIDAgentStarted, audit.MessageIDAgentStopped,
		audit.MessageIDError,
	} {
		ids[id] = true
	}

	for _, file := range []string{rulesFile, rulesTestFile} {
		text := readFile(t, file)
		n := 0
		for _, m := range selector.FindAllStringSubmatchIndex(text, -1) {
			n++
			sel := text[m[0]:m[1]]
			name := sel
			if m[2] >= 0 {
				name = text[m[0]:m[2]]
			}
			labels, ok := written[name]
			if !ok {
				t.Errorf("%s: %s: the agent writes no series %s (it writes %s)", file, sel, name, strings.Join(sortedKeys(written), ", "))
				continue
			}
			if m[2] < 0 {
				continue
			}
			body := text[m[2]+1 : m[3]-1]
			if rest := matcher.ReplaceAllString(body, ""); strings.TrimSpace(rest) != "" {
				t.Errorf("%s: %s: cannot read the label matchers (left: %q)", file, sel, rest)
			}
			for _, lm := range matcher.FindAllStringSubmatch(body, -1) {
				label, op, value := lm[1], lm[2], lm[3]
				if slices.Contains(targetLabels, label) {
					continue
				}
				values, ok := labels[label]
				if !ok {
					t.Errorf("%s: %s: %s has no label %s (it has %s)", file, sel, name, label, strings.Join(sortedKeys(labels), ", "))
					continue
				}
				if freeValues[label] {
					continue
				}
				switch op {
				case "=":
					if !values[value] {
						t.Errorf("%s: %s: the agent writes no %s{%s=%q} (it writes %s)", file, sel, name, label, value, strings.Join(sortedKeys(values), ", "))
					}
				case "=~", "!~":
					re, err := regexp.Compile("^(?:" + value + ")$")
					if err != nil {
						t.Errorf("%s: %s: %v", file, sel, err)
						continue
					}
					if op == "=~" && !slices.ContainsFunc(sortedKeys(values), re.MatchString) {
						t.Errorf("%s: %s: %s=~%q matches none of the values the agent writes (%s)", file, sel, label, value, strings.Join(sortedKeys(values), ", "))
					}
				}
			}
		}
		if file == rulesFile && n == 0 {
			t.Errorf("%s: no sshwarden_ series found", file)
		}

		for _, g := range grouping.FindAllStringSubmatch(text, -1) {
			for _, l := range strings.Split(g[2], ",") {
				if l = strings.TrimSpace(l); l != "" && !known[l] {
					t.Errorf("%s: %s: no series of the agent, of the scrape target or of the textfile collector has the label %s", file, g[0], l)
				}
			}
		}

		for _, id := range messageID.FindAllStringSubmatch(text, -1) {
			if !ids[id[1]] {
				t.Errorf("%s: MESSAGE_ID=%s is none of the agent's (audit.MessageID*)", file, id[1])
			}
		}
	}

	// The agent rewrites its file after every scan: a threshold under 3
	// scans would page for a healthy agent between two scrapes.
	rules := readFile(t, rulesFile)
	m := regexp.MustCompile(`time\(\) - node_textfile_mtime_seconds\{file=~"[^"]*sshwarden[^"]*"\} > (\d+)`).FindStringSubmatch(rules)
	if m == nil {
		t.Fatalf("%s: no `time() - node_textfile_mtime_seconds{file=~\".*sshwarden.*\"} > SECONDS` for agent down", rulesFile)
	}
	secs, _ := strconv.Atoi(m[1])
	if floor := 3 * enforcer.DefaultScanInterval; time.Duration(secs)*time.Second < floor {
		t.Errorf("%s: agent down after %ds, under 3 default scan intervals (%v)", rulesFile, secs, floor)
	}
}

// agentSeries renders the metrics file of an agent that just started, with
// no session, warning or close yet (the label values written then are the
// ones a rule can rely on), and returns its series: each sample name and
// family name, with each label name and its values.
func agentSeries(t *testing.T) map[string]map[string]map[string]bool {
	t.Helper()
	var m audit.Metrics
	m.SetVersion("v0.0.0-test")
	m.SetPolicyOK(true, time.Unix(1700000000, 0))
	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	series := map[string]map[string]map[string]bool{}
	add := func(name string) map[string]map[string]bool {
		if series[name] == nil {
			series[name] = map[string]map[string]bool{}
		}
		return series[name]
	}
	label := regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)",?`)
	for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			add(f[2])
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, rest, _ := strings.Cut(strings.Fields(line)[0], "{")
		labels := add(name)
		for _, l := range label.FindAllStringSubmatch(rest, -1) {
			if labels[l[1]] == nil {
				labels[l[1]] = map[string]bool{}
			}
			labels[l[1]][l[2]] = true
		}
	}
	// A family's labels are its samples' (a histogram's, less le).
	for name, labels := range series {
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if fam, ok := series[strings.TrimSuffix(name, suffix)]; ok && strings.HasSuffix(name, suffix) {
				for l, v := range labels {
					if l != "le" {
						fam[l] = v
					}
				}
			}
		}
	}
	if len(series) == 0 {
		t.Fatalf("audit.Metrics wrote no series:\n%s", b.String())
	}
	return series
}

// alertNames returns the names of the alerts of a rules file, in order.
func alertNames(rules string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`(?m)^\s*- alert: (\S+)\s*$`).FindAllStringSubmatch(rules, -1) {
		out = append(out, m[1])
	}
	return out
}

// firingTests returns the alerts that some test of a promtool test file
// expects to fire: an alertname followed by a non-empty exp_alerts.
func firingTests(tests string) map[string]bool {
	fired := map[string]bool{}
	re := regexp.MustCompile(`(?m)^\s+alertname: (\S+)\s*\n\s+exp_alerts:\s*\n\s+- exp_labels:`)
	for _, m := range re.FindAllStringSubmatch(tests, -1) {
		fired[m[1]] = true
	}
	return fired
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
