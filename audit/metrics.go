package audit

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sshwarden/sshwarden/internal/host"
)

// scanBuckets are the upper bounds of the buckets of
// sshwarden_scan_duration_seconds: a scan of a few hundred processes takes
// about a millisecond, one of 5,000 processes about 60 ms on a 2-core VM.
var scanBuckets = [...]time.Duration{
	1 * time.Millisecond,
	2500 * time.Microsecond,
	5 * time.Millisecond,
	10 * time.Millisecond,
	25 * time.Millisecond,
	50 * time.Millisecond,
	100 * time.Millisecond,
	250 * time.Millisecond,
	500 * time.Millisecond,
	1 * time.Second,
}

// Label values that are always written, with 0 when nothing was counted,
// so that a series exists before its first event (rate() and absent() need
// it).
var (
	sessionKinds = []string{"none", "notty", "pty"}           // watcher.Kind*
	severities   = []string{"error", "info", "warning"}       // lint.Severity
	reasons      = []string{ReasonIdle, ReasonMaxSessionTime} // Reason*
)

// Metrics are the agent's metrics for Prometheus, written as a file for
// node_exporter's textfile collector (--collector.textfile.directory, by
// default /var/lib/prometheus/node-exporter on Debian), in the text
// exposition format 0.0.4. The zero value is ready to use; the methods may
// be called from several goroutines at once. The counters of actions come
// from the agent's audit records ([Metrics.Record]), the rest from the
// agent's loop.
//
// The series, all with the prefix sshwarden_:
//
//	sessions{kind}                      gauge: live sessions by kind (pty, notty, none)
//	warnings_total{reason}              counter: warnings decided (warn and warn-failed records)
//	closes_total{reason}                counter: sessions closed (close records)
//	close_failures_total                counter: closes that failed (close-failed records)
//	scans_total                         counter: scans of /proc
//	scan_duration_seconds               histogram: time per scan, buckets 1ms to 1s
//	config_findings{severity}           gauge: findings of the last lint of sshd_config
//	policy_ok                           gauge: 1 when the last load of the policy succeeded
//	policy_loaded_timestamp_seconds     gauge: when the policy in force was loaded
//	build_info{version,goversion}       gauge: always 1
//
// The reasons idle and max-session-time, the three kinds and the three
// severities are always written, with 0 when nothing was counted.
//
// There is no sshwarden_up: a text file outlives the agent that wrote it,
// so a constant 1 in it would say "up" after a crash. node_exporter
// exports the file's modification time instead, and the agent rewrites
// the file after every scan, so staleness is the alert:
//
//	time() - node_textfile_mtime_seconds{file=~".*sshwarden.*"} > 3 * SCAN_INTERVAL
//
// and node_textfile_scrape_error reports a file node_exporter could not
// parse.
type Metrics struct {
	mu            sync.Mutex
	version       string
	sessions      map[string]int
	warnings      map[string]uint64
	closes        map[string]uint64
	closeFailures uint64
	scans         uint64
	scanSum       time.Duration
	scanCounts    [len(scanBuckets) + 1]uint64 // per bucket, not cumulative; the last is +Inf
	findings      map[string]int
	policyOK      bool
	policyLoaded  time.Time

	// writing serializes WriteFile, so that the file on disk is always the
	// newest rendering.
	writing sync.Mutex
	swept   bool // stale temporary files were removed (under writing)
}

// SetVersion sets the version label of sshwarden_build_info ("unknown"
// until set).
func (m *Metrics) SetVersion(version string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.version = version
}

// SetSessions sets the live sessions by kind (see watcher.Kind). Kinds
// missing from byKind are 0.
func (m *Metrics) SetSessions(byKind map[string]int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions = labelled(byKind)
}

// Record counts r, an audit record of the agent, as a [Sink]: a warn or
// warn-failed record in warnings_total (a warning decided, whether or not
// it could be written), a close record in closes_total, both by r.Reason,
// and a close-failed record in close_failures_total. Dry-run records count
// as the others do. Other records are not counted.
func (m *Metrics) Record(r Record) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch r.Action {
	case ActionWarn, ActionWarnFailed:
		if m.warnings == nil {
			m.warnings = map[string]uint64{}
		}
		m.warnings[labelValue(r.Reason)]++
	case ActionClose:
		if m.closes == nil {
			m.closes = map[string]uint64{}
		}
		m.closes[labelValue(r.Reason)]++
	case ActionCloseFailed:
		m.closeFailures++
	}
}

// ObserveScan counts a scan of /proc that took d.
func (m *Metrics) ObserveScan(d time.Duration) {
	d = max(d, 0)
	i, _ := slices.BinarySearch(scanBuckets[:], d) // the first bound >= d
	m.mu.Lock()
	defer m.mu.Unlock()
	m.scans++
	m.scanSum += d
	m.scanCounts[i]++
}

// SetFindings sets the findings of the last lint of sshd_config by
// severity (error, warning, info). Severities missing from bySeverity
// are 0.
func (m *Metrics) SetFindings(bySeverity map[string]int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.findings = labelled(bySeverity)
}

// SetPolicyOK sets whether the last load of the policy succeeded, and when
// the policy in force was loaded: after a failed reload the agent keeps
// its policy and passes the time that one was loaded. The zero time is
// written as 0.
func (m *Metrics) SetPolicyOK(ok bool, loaded time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.policyOK, m.policyLoaded = ok, loaded
}

// labelled copies a map keyed by label values, with the keys made valid.
func labelled(src map[string]int) map[string]int {
	dst := make(map[string]int, len(src))
	for k, v := range src {
		dst[labelValue(k)] += v
	}
	return dst
}

// WriteTo writes the metrics in the text exposition format 0.0.4: each
// family with its HELP and TYPE lines, families sorted by name and series
// by label value, so that the same metrics always give the same bytes.
// Label values are escaped as the format requires (backslash, double
// quote, newline); invalid UTF-8 in them was replaced by U+FFFD when they
// were recorded.
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	var b bytes.Buffer
	m.render(&b)
	n, err := w.Write(b.Bytes())
	return int64(n), err
}

func (m *Metrics) render(b *bytes.Buffer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	family := func(name, typ, help string) {
		fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s %s\n", name, escapeHelp(help), name, typ)
	}
	sample := func(name, labels, value string) {
		b.WriteString(name)
		b.WriteString(labels)
		b.WriteByte(' ')
		b.WriteString(value)
		b.WriteByte('\n')
	}
	byLabel := func(name, label string, always []string, value func(string) string, keys []string) {
		for _, k := range sortedUnion(always, keys) {
			sample(name, "{"+label+`="`+escapeLabel(k)+`"}`, value(k))
		}
	}
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	i := func(v int) string { return strconv.Itoa(v) }

	version := m.version
	if version == "" {
		version = "unknown"
	}
	family("sshwarden_build_info", "gauge", "Version of the sshwarden agent that wrote this file, and of Go it was built with.")
	sample("sshwarden_build_info", `{goversion="`+escapeLabel(runtime.Version())+`",version="`+escapeLabel(version)+`"}`, "1")

	family("sshwarden_close_failures_total", "counter", "Sessions the agent failed to close.")
	sample("sshwarden_close_failures_total", "", u(m.closeFailures))

	family("sshwarden_closes_total", "counter", "Sessions closed by the agent, by reason.")
	byLabel("sshwarden_closes_total", "reason", reasons, func(k string) string { return u(m.closes[k]) }, keys(m.closes))

	family("sshwarden_config_findings", "gauge", "Findings of the last lint of the effective sshd configuration, by severity.")
	byLabel("sshwarden_config_findings", "severity", severities, func(k string) string { return i(m.findings[k]) }, keys(m.findings))

	family("sshwarden_policy_loaded_timestamp_seconds", "gauge", "When the policy in force was loaded, in seconds since the epoch.")
	sample("sshwarden_policy_loaded_timestamp_seconds", "", formatFloat(unixSeconds(m.policyLoaded)))

	family("sshwarden_policy_ok", "gauge", "1 when the last load of the policy succeeded, else 0.")
	ok := "0"
	if m.policyOK {
		ok = "1"
	}
	sample("sshwarden_policy_ok", "", ok)

	family("sshwarden_scan_duration_seconds", "histogram", "Time a scan of /proc for SSH sessions took.")
	var cum uint64
	for j, bound := range scanBuckets {
		cum += m.scanCounts[j]
		sample("sshwarden_scan_duration_seconds_bucket", `{le="`+formatFloat(bound.Seconds())+`"}`, u(cum))
	}
	cum += m.scanCounts[len(scanBuckets)]
	sample("sshwarden_scan_duration_seconds_bucket", `{le="+Inf"}`, u(cum))
	sample("sshwarden_scan_duration_seconds_sum", "", formatFloat(m.scanSum.Seconds()))
	sample("sshwarden_scan_duration_seconds_count", "", u(cum))

	family("sshwarden_scans_total", "counter", "Scans of /proc for SSH sessions.")
	sample("sshwarden_scans_total", "", u(m.scans))

	family("sshwarden_sessions", "gauge", "Live SSH sessions at the last scan, by kind: pty, notty (exec, sftp), none (ssh -N).")
	byLabel("sshwarden_sessions", "kind", sessionKinds, func(k string) string { return i(m.sessions[k]) }, keys(m.sessions))

	family("sshwarden_warnings_total", "counter", "Warnings the agent wrote to the tty of a session, by reason.")
	byLabel("sshwarden_warnings_total", "reason", reasons, func(k string) string { return u(m.warnings[k]) }, keys(m.warnings))
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// sortedUnion returns the strings of a and b, sorted, each once.
func sortedUnion(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// labelValue is a label value as recorded: valid UTF-8, as the format
// requires, with invalid bytes replaced by U+FFFD (two values that differ
// only there are one series).
func labelValue(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// escapeLabel escapes a label value for the text format: backslash,
// double quote and line feed.
func escapeLabel(s string) string { return labelEscaper.Replace(labelValue(s)) }

// escapeHelp escapes a HELP text: backslash and line feed.
func escapeHelp(s string) string {
	return helpEscaper.Replace(strings.ToValidUTF8(s, "\uFFFD"))
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

// formatFloat formats a sample value as Prometheus' client libraries do.
func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, +1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixMilli()) / 1e3
}

// staleTempAge is the age from which a temporary file of the metrics file
// is the leftover of a crash, not another writer's.
const staleTempAge = time.Minute

// WriteFile writes the metrics to the file path atomically, with
// [host.WriteFile]: to a temporary file in the same folder
// (".NAME.sshwarden-HEX", which node_exporter ignores), synced, made mode
// 0644, renamed over path, and the folder synced. A reader sees the old
// file or the new one, never a part; on failure path is untouched and the
// temporary file removed. The first call also removes temporary files of
// path older than a minute, left by a crash. Errors name path.
//
// path must be absolute, and no component of its folder may be a
// symbolic link: the folder is opened first, with openat2(2)'s
// RESOLVE_NO_SYMLINKS, and everything happens in that very folder, named
// by the agent's own descriptor (/proc/self/fd/N), so that a link put in
// the way after the check cannot send the file elsewhere. A symbolic
// link named path itself is replaced, never followed.
func (m *Metrics) WriteFile(path string) error {
	m.writing.Lock()
	defer m.writing.Unlock()
	var b bytes.Buffer
	m.render(&b)
	dir, name := filepath.Split(path)
	if !filepath.IsAbs(path) || name == "" {
		return fmt.Errorf("writing metrics to %s: not an absolute path of a file", path)
	}
	dfd, err := openNoSymlinks(dir)
	if err != nil {
		return fmt.Errorf("writing metrics to %s: opening its folder: %w", path, err)
	}
	defer unix.Close(dfd)
	at := "/proc/self/fd/" + strconv.Itoa(dfd) + "/" + name
	if !m.swept {
		m.swept = true
		host.RemoveStaleTemps(at, staleTempAge)
	}
	if err := host.WriteFile(at, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing metrics to %s: %w", path, err)
	}
	return nil
}

// openNoSymlinks opens the folder dir, an absolute path, for use as a
// path (O_PATH), refusing symbolic links in any of its components (ELOOP).
func openNoSymlinks(dir string) (int, error) {
	for {
		fd, err := unix.Openat2(unix.AT_FDCWD, dir, &unix.OpenHow{
			Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
			Resolve: unix.RESOLVE_NO_SYMLINKS,
		})
		switch err {
		case unix.EINTR, unix.EAGAIN: // EAGAIN: a rename raced the lookup
			continue
		case unix.ELOOP:
			return -1, fmt.Errorf("%s: a component is a symbolic link: %w", dir, err)
		case nil:
			return fd, nil
		default:
			return -1, &fs.PathError{Op: "open", Path: dir, Err: err}
		}
	}
}
