package audit

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// render returns what m.WriteTo writes, checked by the format's rules.
func render(t *testing.T, m *Metrics) string {
	t.Helper()
	var b bytes.Buffer
	n, err := m.WriteTo(&b)
	if err != nil || n != int64(b.Len()) {
		t.Fatalf("WriteTo = %d, %v; wrote %d bytes", n, err, b.Len())
	}
	if _, err := parseExposition(b.String()); err != nil {
		t.Fatalf("WriteTo wrote a text the format rejects: %v\n%s", err, b.String())
	}
	return b.String()
}

// TestMetricsGolden checks the exact text after a sequence of calls, and
// for the zero Metrics.
func TestMetricsGolden(t *testing.T) {
	t.Parallel()
	var m Metrics
	if diff := cmp.Diff(goldenZero, render(t, &m)); diff != "" {
		t.Errorf("zero Metrics (-want +got):\n%s", diff)
	}

	m.SetVersion("1.2.3")
	m.SetSessions(map[string]int{"pty": 3, "notty": 1})
	m.SetSessions(map[string]int{"pty": 2, "notty": 1}) // replaces
	m.Record(Record{Action: ActionWarn, Reason: ReasonIdle})
	m.Record(Record{Action: ActionWarnFailed, Reason: ReasonIdle})
	m.Record(Record{Action: ActionWarn, Reason: ReasonMaxSessionTime})
	m.Record(Record{Action: ActionHeeded, Reason: ReasonIdle}) // not counted
	m.Record(Record{Action: ActionClose, Reason: ReasonIdle})
	m.Record(Record{Action: ActionCloseFailed, Reason: ReasonIdle})
	m.Record(Record{Action: ActionError, Reason: ReasonIdle}) // not counted
	m.ObserveScan(500 * time.Microsecond)
	m.ObserveScan(time.Millisecond) // a bound is inclusive
	m.ObserveScan(30 * time.Millisecond)
	m.ObserveScan(2 * time.Second)
	m.ObserveScan(-time.Second) // a clock step: counted as 0
	m.SetFindings(map[string]int{"warning": 2, "info": 1})
	m.SetPolicyOK(true, time.Unix(1700000000, 250e6))
	if diff := cmp.Diff(golden, render(t, &m)); diff != "" {
		t.Errorf("after the calls (-want +got):\n%s", diff)
	}
	// Same metrics, same bytes.
	if got := render(t, &m); got != golden {
		t.Errorf("a second WriteTo differs from the first")
	}
}

var goldenZero = `# HELP sshwarden_build_info Version of the sshwarden agent that wrote this file, and of Go it was built with.
# TYPE sshwarden_build_info gauge
sshwarden_build_info{goversion="` + runtime.Version() + `",version="unknown"} 1
# HELP sshwarden_close_failures_total Sessions the agent failed to close.
# TYPE sshwarden_close_failures_total counter
sshwarden_close_failures_total 0
# HELP sshwarden_closes_total Sessions closed by the agent, by reason.
# TYPE sshwarden_closes_total counter
sshwarden_closes_total{reason="idle"} 0
sshwarden_closes_total{reason="max-session-time"} 0
# HELP sshwarden_config_findings Findings of the last lint of the effective sshd configuration, by severity.
# TYPE sshwarden_config_findings gauge
sshwarden_config_findings{severity="error"} 0
sshwarden_config_findings{severity="info"} 0
sshwarden_config_findings{severity="warning"} 0
# HELP sshwarden_policy_loaded_timestamp_seconds When the policy in force was loaded, in seconds since the epoch.
# TYPE sshwarden_policy_loaded_timestamp_seconds gauge
sshwarden_policy_loaded_timestamp_seconds 0
# HELP sshwarden_policy_ok 1 when the last load of the policy succeeded, else 0.
# TYPE sshwarden_policy_ok gauge
sshwarden_policy_ok 0
# HELP sshwarden_scan_duration_seconds Time a scan of /proc for SSH sessions took.
# TYPE sshwarden_scan_duration_seconds histogram
sshwarden_scan_duration_seconds_bucket{le="0.001"} 0
sshwarden_scan_duration_seconds_bucket{le="0.0025"} 0
sshwarden_scan_duration_seconds_bucket{le="0.005"} 0
sshwarden_scan_duration_seconds_bucket{le="0.01"} 0
sshwarden_scan_duration_seconds_bucket{le="0.025"} 0
sshwarden_scan_duration_seconds_bucket{le="0.05"} 0
sshwarden_scan_duration_seconds_bucket{le="0.1"} 0
sshwarden_scan_duration_seconds_bucket{le="0.25"} 0
sshwarden_scan_duration_seconds_bucket{le="0.5"} 0
sshwarden_scan_duration_seconds_bucket{le="1"} 0
sshwarden_scan_duration_seconds_bucket{le="+Inf"} 0
sshwarden_scan_duration_seconds_sum 0
sshwarden_scan_duration_seconds_count 0
# HELP sshwarden_scans_total Scans of /proc for SSH sessions.
# TYPE sshwarden_scans_total counter
sshwarden_scans_total 0
# HELP sshwarden_sessions Live SSH sessions at the last scan, by kind: pty, notty (exec, sftp), none (ssh -N).
# TYPE sshwarden_sessions gauge
sshwarden_sessions{kind="none"} 0
sshwarden_sessions{kind="notty"} 0
sshwarden_sessions{kind="pty"} 0
# HELP sshwarden_warnings_total Warnings the agent wrote to the tty of a session, by reason.
# TYPE sshwarden_warnings_total counter
sshwarden_warnings_total{reason="idle"} 0
sshwarden_warnings_total{reason="max-session-time"} 0
`

var golden = `# HELP sshwarden_build_info Version of the sshwarden agent that wrote this file, and of Go it was built with.
# TYPE sshwarden_build_info gauge
sshwarden_build_info{goversion="` + runtime.Version() + `",version="1.2.3"} 1
# HELP sshwarden_close_failures_total Sessions the agent failed to close.
# TYPE sshwarden_close_failures_total counter
sshwarden_close_failures_total 1
# HELP sshwarden_closes_total Sessions closed by the agent, by reason.
# TYPE sshwarden_closes_total counter
sshwarden_closes_total{reason="idle"} 1
sshwarden_closes_total{reason="max-session-time"} 0
# HELP sshwarden_config_findings Findings of the last lint of the effective sshd configuration, by severity.
# TYPE sshwarden_config_findings gauge
sshwarden_config_findings{severity="error"} 0
sshwarden_config_findings{severity="info"} 1
sshwarden_config_findings{severity="warning"} 2
# HELP sshwarden_policy_loaded_timestamp_seconds When the policy in force was loaded, in seconds since the epoch.
# TYPE sshwarden_policy_loaded_timestamp_seconds gauge
sshwarden_policy_loaded_timestamp_seconds 1.70000000025e+09
# HELP sshwarden_policy_ok 1 when the last load of the policy succeeded, else 0.
# TYPE sshwarden_policy_ok gauge
sshwarden_policy_ok 1
# HELP sshwarden_scan_duration_seconds Time a scan of /proc for SSH sessions took.
# TYPE sshwarden_scan_duration_seconds histogram
sshwarden_scan_duration_seconds_bucket{le="0.001"} 3
sshwarden_scan_duration_seconds_bucket{le="0.0025"} 3
sshwarden_scan_duration_seconds_bucket{le="0.005"} 3
sshwarden_scan_duration_seconds_bucket{le="0.01"} 3
sshwarden_scan_duration_seconds_bucket{le="0.025"} 3
sshwarden_scan_duration_seconds_bucket{le="0.05"} 4
sshwarden_scan_duration_seconds_bucket{le="0.1"} 4
sshwarden_scan_duration_seconds_bucket{le="0.25"} 4
sshwarden_scan_duration_seconds_bucket{le="0.5"} 4
sshwarden_scan_duration_seconds_bucket{le="1"} 4
sshwarden_scan_duration_seconds_bucket{le="+Inf"} 5
sshwarden_scan_duration_seconds_sum 2.0315
sshwarden_scan_duration_seconds_count 5
# HELP sshwarden_scans_total Scans of /proc for SSH sessions.
# TYPE sshwarden_scans_total counter
sshwarden_scans_total 5
# HELP sshwarden_sessions Live SSH sessions at the last scan, by kind: pty, notty (exec, sftp), none (ssh -N).
# TYPE sshwarden_sessions gauge
sshwarden_sessions{kind="none"} 0
sshwarden_sessions{kind="notty"} 1
sshwarden_sessions{kind="pty"} 2
# HELP sshwarden_warnings_total Warnings the agent wrote to the tty of a session, by reason.
# TYPE sshwarden_warnings_total counter
sshwarden_warnings_total{reason="idle"} 2
sshwarden_warnings_total{reason="max-session-time"} 1
`

// TestMetricsEscaping records hostile label values and checks their
// escaping, that the text parses back to the same values, and that
// each stays its own series.
func TestMetricsEscaping(t *testing.T) {
	t.Parallel()
	hostile := []string{
		`say "hi"`,
		`C:\path\n`, // a backslash and an n, not a newline
		"two\nlines",
		"} 1\nsshwarden_up 0\n# TYPE x counter",
		`\"`,
		"",
		"naïve ✓",
	}
	var m Metrics
	for _, r := range hostile {
		m.Record(Record{Action: ActionWarn, Reason: r})
	}
	m.Record(Record{Action: ActionClose, Reason: "bad \xff utf-8"})
	m.Record(Record{Action: ActionClose, Reason: "bad \xfe utf-8"}) // the same series once made valid
	m.SetSessions(map[string]int{"we\"ird": 7})
	text := render(t, &m)
	for _, want := range []string{
		`sshwarden_warnings_total{reason="say \"hi\""} 1`,
		`sshwarden_warnings_total{reason="C:\\path\\n"} 1`,
		`sshwarden_warnings_total{reason="two\nlines"} 1`,
		`sshwarden_warnings_total{reason="} 1\nsshwarden_up 0\n# TYPE x counter"} 1`,
		`sshwarden_warnings_total{reason="\\\""} 1`,
		`sshwarden_warnings_total{reason=""} 1`,
		`sshwarden_warnings_total{reason="naïve ✓"} 1`,
		`sshwarden_closes_total{reason="bad ` + "\uFFFD" + ` utf-8"} 2`,
		`sshwarden_sessions{kind="we\"ird"} 7`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("no line %s in:\n%s", want, text)
		}
	}
	series, err := parseExposition(text)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range series {
		if s.name == "sshwarden_warnings_total" {
			got = append(got, s.labels["reason"])
		}
	}
	want := slices.Concat(hostile, reasons)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reasons parsed back (-want +got):\n%s", diff)
	}
}

// TestParseExposition checks that the test's parser rejects what the
// format forbids, so that its acceptance of WriteTo's text means something.
func TestParseExposition(t *testing.T) {
	t.Parallel()
	ok := "# HELP a_total A.\n# TYPE a_total counter\na_total 1\n"
	if _, err := parseExposition(ok); err != nil {
		t.Fatalf("parseExposition(%q): %v", ok, err)
	}
	for _, bad := range []string{
		"a_total 1\n",                                                                             // no TYPE
		"# TYPE a_total counter\na_total 1",                                                       // no final newline
		"# TYPE a_total counter\na_total 1\na_total 2\n",                                          // duplicate series
		"# TYPE a_total counter\na_total{x=\"1\",x=\"2\"} 1\n",                                    // duplicate label
		"# TYPE a_total counter\na_total{x=\"\\t\"} 1\n",                                          // bad escape
		"# TYPE a_total counter\na_total{x=\"a\nb\"} 1\n",                                         // raw newline
		"# TYPE a_total counter\na_total{x=\"\xff\"} 1\n",                                         // invalid UTF-8
		"# TYPE a_total counter\na_total{__x=\"1\"} 1\n",                                          // reserved label
		"# TYPE a_total counter\na_total one\n",                                                   // bad value
		"# TYPE 1a counter\n1a 1\n",                                                               // bad name
		"# TYPE a counter\na 1\n",                                                                 // counter without _total
		"# TYPE a gauge\n# TYPE a gauge\na 1\n",                                                   // TYPE twice
		"# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x=\"1\"} 1\n",                                // family split
		"# TYPE a gauge\na 1\n# TYPE a gauge\n",                                                   // TYPE after samples
		"# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n", // not cumulative
		"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",                          // no +Inf
		"# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 2\n",                       // count differs
		"# TYPE a gauge\n\na 1\n",                                                                 // an empty line (allowed by the format, never written by us)
	} {
		if _, err := parseExposition(bad); err == nil {
			t.Errorf("parseExposition(%q) = nil error, want one", bad)
		}
	}
}

// A sample of the text format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

var (
	metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*`)
	labelName  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*`)
)

// parseExposition parses the text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/) and
// checks its rules: every sample belongs to a family with a TYPE given
// before its samples; a family's lines are together; metric and label
// names are valid; label values use only the escapes \\, \" and \n and
// are UTF-8; values are floats; no series twice; counters end in _total
// and are not negative; histograms are cumulative, end with +Inf and
// agree with _count. It is stricter than the format in one way: no empty
// lines and a final newline.
func parseExposition(text string) ([]sample, error) {
	if text != "" && !strings.HasSuffix(text, "\n") {
		return nil, errors.New("no newline at the end")
	}
	types := map[string]string{}
	helps := map[string]bool{}
	sampled := map[string]bool{} // families with samples
	closed := map[string]bool{}  // families whose lines ended
	seen := map[string]bool{}    // series
	current := ""
	var out []sample
	enter := func(family string) error {
		if family == current {
			return nil
		}
		if closed[family] {
			return fmt.Errorf("the lines of %s are not together", family)
		}
		if current != "" {
			closed[current] = true
		}
		current = family
		return nil
	}
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		fail := func(format string, args ...any) error {
			return fmt.Errorf("line %d: %q: %s", i+1, line, fmt.Sprintf(format, args...))
		}
		if line == "" {
			return nil, fail("empty line")
		}
		if rest, ok := strings.CutPrefix(line, "# "); ok {
			kw, rest, _ := strings.Cut(rest, " ")
			if kw != "HELP" && kw != "TYPE" {
				continue // a comment
			}
			name, arg, _ := strings.Cut(rest, " ")
			if metricName.FindString(name) != name {
				return nil, fail("bad metric name %q", name)
			}
			if err := enter(name); err != nil {
				return nil, fail("%v", err)
			}
			if kw == "HELP" {
				if helps[name] {
					return nil, fail("HELP twice")
				}
				helps[name] = true
				if !utf8.ValidString(arg) || strings.Contains(strings.ReplaceAll(strings.ReplaceAll(arg, `\\`, ""), `\n`, ""), `\`) {
					return nil, fail("bad HELP text")
				}
				continue
			}
			if types[name] != "" {
				return nil, fail("TYPE twice")
			}
			if sampled[name] {
				return nil, fail("TYPE after samples")
			}
			switch arg {
			case "counter", "gauge", "histogram", "summary", "untyped":
			default:
				return nil, fail("bad type %q", arg)
			}
			if arg == "counter" && !strings.HasSuffix(name, "_total") {
				return nil, fail("counter name without _total")
			}
			types[name] = arg
			continue
		}
		s, err := parseSample(line)
		if err != nil {
			return nil, fail("%v", err)
		}
		family := s.name
		if types[family] == "" {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if base, ok := strings.CutSuffix(s.name, suffix); ok && (types[base] == "histogram" || types[base] == "summary" && suffix != "_bucket") {
					family = base
				}
			}
		}
		if types[family] == "" {
			return nil, fail("no TYPE for %s", s.name)
		}
		if err := enter(family); err != nil {
			return nil, fail("%v", err)
		}
		sampled[family] = true
		key := s.name + "{" + labelKey(s.labels) + "}"
		if seen[key] {
			return nil, fail("series twice")
		}
		seen[key] = true
		if types[family] == "counter" && !(s.value >= 0) {
			return nil, fail("counter below 0")
		}
		out = append(out, s)
	}
	for name, typ := range types {
		if typ == "histogram" {
			if err := checkHistogram(name, out); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func labelKey(labels map[string]string) string {
	var parts []string
	for k, v := range labels {
		parts = append(parts, strconv.Quote(k)+"="+strconv.Quote(v))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// parseSample parses `name{label="value",...} value [timestamp]`.
func parseSample(line string) (sample, error) {
	s := sample{name: metricName.FindString(line), labels: map[string]string{}}
	if s.name == "" {
		return s, errors.New("no metric name")
	}
	rest := line[len(s.name):]
	if strings.HasPrefix(rest, "{") {
		rest = rest[1:]
		for !strings.HasPrefix(rest, "}") {
			name := labelName.FindString(rest)
			if name == "" || strings.HasPrefix(name, "__") {
				return s, fmt.Errorf("bad label name at %q", rest)
			}
			if _, dup := s.labels[name]; dup {
				return s, fmt.Errorf("label %s twice", name)
			}
			rest, _ = strings.CutPrefix(rest[len(name):], "=")
			if !strings.HasPrefix(rest, `"`) {
				return s, fmt.Errorf("no value for label %s", name)
			}
			var v strings.Builder
			i := 1
			for ; i < len(rest) && rest[i] != '"'; i++ {
				switch c := rest[i]; c {
				case '\\':
					i++
					if i == len(rest) {
						return s, errors.New("unterminated label value")
					}
					switch rest[i] {
					case '\\', '"':
						v.WriteByte(rest[i])
					case 'n':
						v.WriteByte('\n')
					default:
						return s, fmt.Errorf("bad escape \\%c", rest[i])
					}
				case '\n':
					return s, errors.New("newline in a label value")
				default:
					v.WriteByte(c)
				}
			}
			if i == len(rest) {
				return s, errors.New("unterminated label value")
			}
			if !utf8.ValidString(v.String()) {
				return s, fmt.Errorf("label %s not UTF-8", name)
			}
			s.labels[name] = v.String()
			rest = rest[i+1:]
			if r, ok := strings.CutPrefix(rest, ","); ok {
				rest = r
			} else if !strings.HasPrefix(rest, "}") {
				return s, fmt.Errorf("expected , or } at %q", rest)
			}
		}
		rest = rest[1:]
	}
	fields := strings.Split(rest, " ")
	if len(fields) < 2 || len(fields) > 3 || fields[0] != "" {
		return s, fmt.Errorf("expected ' VALUE [TIMESTAMP]', got %q", rest)
	}
	v, err := parseValue(fields[1])
	if err != nil {
		return s, err
	}
	s.value = v
	if len(fields) == 3 {
		if _, err := strconv.ParseInt(fields[2], 10, 64); err != nil {
			return s, fmt.Errorf("bad timestamp %q", fields[2])
		}
	}
	return s, nil
}

func parseValue(f string) (float64, error) {
	switch f {
	case "+Inf":
		return math.Inf(1), nil
	case "-Inf":
		return math.Inf(-1), nil
	case "NaN":
		return math.NaN(), nil
	}
	if strings.ContainsAny(f, "_xXpP") || strings.EqualFold(strings.TrimLeft(f, "+-"), "inf") {
		return 0, fmt.Errorf("bad value %q", f)
	}
	v, err := strconv.ParseFloat(f, 64)
	if err != nil {
		return 0, fmt.Errorf("bad value %q", f)
	}
	return v, nil
}

// checkHistogram checks the series of histogram name (without labels
// other than le: ours has none).
func checkHistogram(name string, samples []sample) error {
	var les []float64
	var counts []float64
	var count, sum *float64
	for _, s := range samples {
		switch s.name {
		case name + "_bucket":
			le, ok := s.labels["le"]
			if !ok {
				return fmt.Errorf("%s without le", s.name)
			}
			v, err := parseValue(le)
			if err != nil {
				return fmt.Errorf("%s: le: %v", s.name, err)
			}
			les, counts = append(les, v), append(counts, s.value)
		case name + "_count":
			count = &s.value
		case name + "_sum":
			sum = &s.value
		}
	}
	if len(les) == 0 || !math.IsInf(les[len(les)-1], 1) {
		return fmt.Errorf("%s: no +Inf bucket last", name)
	}
	for i := 1; i < len(les); i++ {
		if les[i] <= les[i-1] || counts[i] < counts[i-1] {
			return fmt.Errorf("%s: buckets not increasing and cumulative", name)
		}
	}
	if count == nil || sum == nil || *count != counts[len(counts)-1] {
		return fmt.Errorf("%s: _count and _sum missing, or _count is not the +Inf bucket", name)
	}
	return nil
}

// TestMetricsWriteFile writes the file 200 times while a reader reads it
// in a loop: the reader must always find a whole file (it exists, parses,
// and ends with the last family), and at the end there is no temporary
// file, the mode is 0644 and the content is the last rendering.
func TestMetricsWriteFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "sshwarden.prom")
	// An older file, private: WriteFile makes it 0644.
	if err := os.WriteFile(path, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var m Metrics
	done := make(chan struct{})
	var reads int
	var readErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		last := "sshwarden_warnings_total{reason=\"max-session-time\"} 0\n"
		for {
			select {
			case <-done:
				return
			default:
			}
			b, err := os.ReadFile(path)
			if err != nil {
				readErr = fmt.Errorf("read %d: %v", reads, err)
				return
			}
			reads++
			if string(b) == "old\n" {
				continue
			}
			if _, err := parseExposition(string(b)); err != nil || !strings.HasSuffix(string(b), last) {
				readErr = fmt.Errorf("read %d: a partial file (%v):\n%s", reads, err, b)
				return
			}
		}
	})
	for i := range 200 {
		m.ObserveScan(time.Duration(i) * time.Millisecond)
		if err := m.WriteFile(path); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	if readErr != nil {
		t.Fatal(readErr)
	}
	t.Logf("%d reads during 200 writes", reads)
	if reads < 10 {
		t.Errorf("only %d reads during 200 writes: the test proved little", reads)
	}

	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != "sshwarden.prom" {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("files left in the folder: %q, want only sshwarden.prom", names)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode() != 0o644 {
		t.Errorf("mode %v, want -rw-r--r--", st.Mode())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := render(t, &m); string(b) != want {
		t.Errorf("file content is not the last rendering")
	}
}

// TestMetricsWriteFileErrors checks that a failed WriteFile names the
// path, leaves no temporary file and does not touch the old file; and that
// temporary files of a crash are removed, but not those of a writer that
// may still be at work.
func TestMetricsWriteFileErrors(t *testing.T) {
	t.Parallel()
	var m Metrics
	dir := t.TempDir()

	missing := filepath.Join(dir, "no/such/folder/sshwarden.prom")
	err := m.WriteFile(missing)
	if err == nil || !strings.HasPrefix(err.Error(), "writing metrics to "+missing+": ") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("WriteFile(%q) = %v, want an error naming it, ErrNotExist", missing, err)
	}

	// A folder in the way: the rename fails after the temporary file is
	// complete.
	inTheWay := filepath.Join(dir, "dir.prom")
	if err := os.MkdirAll(filepath.Join(inTheWay, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	err = m.WriteFile(inTheWay)
	if err == nil || !strings.HasPrefix(err.Error(), "writing metrics to "+inTheWay+": ") {
		t.Errorf("WriteFile(%q) = %v, want an error naming it", inTheWay, err)
	}

	stale := filepath.Join(dir, ".sshwarden.prom.sshwarden-0123456789abcdef")
	fresh := filepath.Join(dir, ".sshwarden.prom.sshwarden-fedcba9876543210")
	other := filepath.Join(dir, ".other.prom.sshwarden-0123456789abcdef")
	for _, name := range []string{stale, fresh, other} {
		if err := os.WriteFile(name, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-time.Hour)
	for _, name := range []string{stale, other} {
		if err := os.Chtimes(name, old, old); err != nil {
			t.Fatal(err)
		}
	}
	var m2 Metrics
	if err := m2.WriteFile(filepath.Join(dir, "sshwarden.prom")); err != nil {
		t.Fatal(err)
	}
	var names []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		names = append(names, e.Name())
	}
	want := []string{".other.prom.sshwarden-0123456789abcdef", ".sshwarden.prom.sshwarden-fedcba9876543210", "dir.prom", "sshwarden.prom"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("files after WriteFile (-want +got):\n%s", diff)
	}
}

// TestMetricsConcurrent calls every method from several goroutines at
// once (run it with -race) and checks the totals.
func TestMetricsConcurrent(t *testing.T) {
	t.Parallel()
	var m Metrics
	path := filepath.Join(t.TempDir(), "sshwarden.prom")
	const workers, rounds = 8, 100
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				m.Record(Record{Action: ActionWarn, Reason: ReasonIdle})
				m.Record(Record{Action: ActionClose, Reason: ReasonMaxSessionTime})
				m.Record(Record{Action: ActionCloseFailed})
				m.ObserveScan(time.Duration(i) * time.Millisecond)
				m.SetSessions(map[string]int{"pty": w})
				m.SetFindings(map[string]int{"error": i})
				m.SetPolicyOK(i%2 == 0, time.Now())
				m.SetVersion("v")
				if i%10 == 0 {
					if _, err := m.WriteTo(&bytes.Buffer{}); err != nil {
						t.Error(err)
					}
					if err := m.WriteFile(path); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	series, err := parseExposition(render(t, &m))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, s := range series {
		got[s.name+"{"+labelKey(s.labels)+"}"] = s.value
	}
	const n = workers * rounds
	for key, want := range map[string]float64{
		`sshwarden_warnings_total{"reason"="idle"}`:                                   n,
		`sshwarden_closes_total{"reason"="max-session-time"}`:                         n,
		`sshwarden_close_failures_total{}`:                                            n,
		`sshwarden_scans_total{}`:                                                     n,
		`sshwarden_scan_duration_seconds_count{}`:                                     n,
		`sshwarden_scan_duration_seconds_bucket{"le"="0.001"}`:                        2 * workers, // 0 and 1 ms
		`sshwarden_scan_duration_seconds_bucket{"le"="+Inf"}`:                         n,
		`sshwarden_config_findings{"severity"="error"}`:                               rounds - 1,
		`sshwarden_scan_duration_seconds_sum{}`:                                       workers * (rounds - 1) * rounds / 2 / 1000.0,
		`sshwarden_build_info{"goversion"="` + runtime.Version() + `","version"="v"}`: 1,
	} {
		if math.Abs(got[key]-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", key, got[key], want)
		}
	}
}

// TestMetricsWriteFileLinks: a symbolic link in the folder of the path is
// refused, and nothing is written through it; a link named by the path
// itself is replaced, not followed; a relative path is refused.
func TestMetricsWriteFileLinks(t *testing.T) {
	t.Parallel()
	var m Metrics
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	via := filepath.Join(dir, "link", "sshwarden.prom")
	err := m.WriteFile(via)
	if err == nil || !errors.Is(err, unix.ELOOP) || !strings.HasPrefix(err.Error(), "writing metrics to "+via+": ") {
		t.Errorf("WriteFile(%q) = %v, want ELOOP, naming it", via, err)
	}
	if ents, _ := os.ReadDir(real); len(ents) != 0 {
		t.Errorf("WriteFile through a link wrote %d files in its target", len(ents))
	}

	target := filepath.Join(dir, "target")
	path := filepath.Join(real, "sshwarden.prom")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	if err := m.WriteFile(path); err != nil {
		t.Fatalf("WriteFile(%q): %v", path, err)
	}
	if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("%s after WriteFile: %v, %v; want a regular file in place of the link", path, fi, err)
	}
	if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("WriteFile followed the link to %s: %v", target, err)
	}

	if err := m.WriteFile("sshwarden.prom"); err == nil {
		t.Errorf("WriteFile of a relative path succeeded")
	}
}

// The journal and the metrics are the agent's two sinks.
var (
	_ Sink = (*Journal)(nil)
	_ Sink = (*Metrics)(nil)
)
