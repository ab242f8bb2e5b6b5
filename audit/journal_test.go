package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coreos/go-systemd/v22/journal"
	"github.com/google/go-cmp/cmp"

	"github.com/sshwarden/sshwarden/watcher"
)

// auditActions is the contract's list of SSHWARDEN_ACTION values.
var auditActions = []string{
	"warn", "warn-failed", "heeded", "close", "close-failed", "config-drift", "config-fixed",
	"config-fix-failed", "policy-loaded", "policy-error", "agent-started", "agent-stopped", "error",
}

// auditCase is a record and how it must come out, on every sink.
type auditCase struct {
	name     string
	rec      Record
	fields   map[string]string // JournalFields
	message  string
	priority journal.Priority
}

// auditHostile is what a user controls (a command line) or an admin's user
// database may hold, trying to add a field or forge a line.
const auditHostile = "mallory\nSSHWARDEN_ACTION=close\nMESSAGE_ID=" + MessageIDClose

func auditCases() []auditCase {
	return []auditCase{{
		name: "warn",
		rec: Record{
			Action:  ActionWarn,
			Message: "sshwarden warned alice on pts/3: idle for 14m, closing in 1m",
			Session: &watcher.Session{
				PID: 4242, Child: 4243, Listener: 1, User: "alice", UID: 1000,
				Remote: netip.MustParseAddrPort("192.0.2.7:51234"), Local: netip.MustParseAddrPort("192.0.2.1:22"),
				TTY: "pts/3", TTYs: []string{"pts/3"}, Kind: watcher.KindPTY, SessionID: 17,
			},
			Reason: ReasonIdle,
			Idle:   14*time.Minute + 999*time.Millisecond,
			Age:    2*time.Hour + 3*time.Second,
			Limit:  15 * time.Minute,
			Rule:   "/etc/sshwarden/policy.conf:2",
		},
		fields: map[string]string{
			"SYSLOG_IDENTIFIER":         "sshwarden",
			"MESSAGE_ID":                "610b2d2974864cc9bf4a310ea5cdb6da",
			"SSHWARDEN_ACTION":          "warn",
			"SSHWARDEN_SESSION_ID":      "17",
			"SSHWARDEN_USER":            "alice",
			"SSHWARDEN_UID":             "1000",
			"SSHWARDEN_REMOTE_ADDR":     "192.0.2.7",
			"SSHWARDEN_REMOTE_PORT":     "51234",
			"SSHWARDEN_LOCAL_PORT":      "22",
			"SSHWARDEN_TTY":             "pts/3",
			"SSHWARDEN_PID":             "4242",
			"SSHWARDEN_KIND":            "pty",
			"SSHWARDEN_IDLE_SECONDS":    "840",
			"SSHWARDEN_SESSION_SECONDS": "7203",
			"SSHWARDEN_LIMIT_SECONDS":   "900",
			"SSHWARDEN_REASON":          "idle",
			"SSHWARDEN_RULE":            "/etc/sshwarden/policy.conf:2",
		},
		message:  "sshwarden warned alice on pts/3: idle for 14m, closing in 1m",
		priority: journal.PriInfo,
	}, {
		name: "close dry run notty ipv6",
		rec: Record{
			Action:  ActionClose,
			Message: "sshwarden would close the session of root from 2001:db8::5: older than 8h",
			Session: &watcher.Session{
				PID: 77, User: "root", UID: 0,
				Remote: netip.MustParseAddrPort("[2001:db8::5]:40000"), Local: netip.MustParseAddrPort("[2001:db8::1]:2222"),
				Kind: watcher.KindNoTTY, Command: "rsync --server -vlogDtpre.iLsfxCIvu . /srv",
			},
			Reason: ReasonMaxSessionTime,
			Age:    8*time.Hour + 10*time.Second,
			Limit:  8 * time.Hour,
			Rule:   "/etc/sshwarden/policy.conf:3",
			DryRun: true,
		},
		fields: map[string]string{
			"SYSLOG_IDENTIFIER":         "sshwarden",
			"MESSAGE_ID":                "d5a4999b3ce94f82a5408f9294bffc55",
			"SSHWARDEN_ACTION":          "close",
			"SSHWARDEN_USER":            "root",
			"SSHWARDEN_UID":             "0",
			"SSHWARDEN_REMOTE_ADDR":     "2001:db8::5",
			"SSHWARDEN_REMOTE_PORT":     "40000",
			"SSHWARDEN_LOCAL_PORT":      "2222",
			"SSHWARDEN_PID":             "77",
			"SSHWARDEN_KIND":            "notty",
			"SSHWARDEN_COMMAND":         "rsync --server -vlogDtpre.iLsfxCIvu . /srv",
			"SSHWARDEN_SESSION_SECONDS": "28810",
			"SSHWARDEN_LIMIT_SECONDS":   "28800",
			"SSHWARDEN_REASON":          "max-session-time",
			"SSHWARDEN_RULE":            "/etc/sshwarden/policy.conf:3",
			"SSHWARDEN_DRY_RUN":         "yes",
		},
		message:  "sshwarden would close the session of root from 2001:db8::5: older than 8h",
		priority: journal.PriNotice,
	}, {
		name: "policy loaded, extra fields",
		rec: Record{
			Action:  ActionPolicyLoaded,
			Message: "sshwarden loaded its policy from /etc/sshwarden/policy.conf",
			Idle:    time.Minute, // no session: not written
			Age:     time.Minute,
			Fields: map[string]string{
				"SSHWARDEN_FILE":                       "/etc/sshwarden/policy.conf",
				"SSHWARDEN_LINE":                       "1",
				"SSHWARDEN_ACTION":                     "close", // set by the record: dropped
				"SSHWARDEN_X\nSSHWARDEN_UID":           "0",
				"sshwarden_lower":                      "x",
				"SSHWARDEN_":                           "x",
				"_SSHWARDEN_PID":                       "1",
				"MESSAGE_ID":                           MessageIDClose,
				"PRIORITY":                             "0",
				"SSHWARDEN_EMPTY":                      "",
				"SSHWARDEN_" + strings.Repeat("A", 55): "too long a name",
				"SSHWARDEN_" + strings.Repeat("B", 54): "64 bytes",
			},
		},
		fields: map[string]string{
			"SYSLOG_IDENTIFIER":                    "sshwarden",
			"MESSAGE_ID":                           "8faedb5a10374ac7875859e5a5a504eb",
			"SSHWARDEN_ACTION":                     "policy-loaded",
			"SSHWARDEN_FILE":                       "/etc/sshwarden/policy.conf",
			"SSHWARDEN_LINE":                       "1",
			"SSHWARDEN_" + strings.Repeat("B", 54): "64 bytes",
		},
		message:  "sshwarden loaded its policy from /etc/sshwarden/policy.conf",
		priority: journal.PriInfo,
	}, {
		name: "hostile values",
		rec: Record{
			Action:  ActionWarn,
			Message: "sshwarden warned " + auditHostile,
			Session: &watcher.Session{
				PID: 5000, User: auditHostile, UID: 1001, TTY: "pts/9", Kind: watcher.KindPTY,
				Command: "\xff\xfe\r\nSSHWARDEN_ACTION=close\x00 \u202erm\u2028x\u0085",
			},
			Reason: ReasonIdle,
			Fields: map[string]string{"SSHWARDEN_ERROR": "a\r\nb\tc\x1b[2Jd"},
		},
		fields: map[string]string{
			"SYSLOG_IDENTIFIER": "sshwarden",
			"MESSAGE_ID":        "610b2d2974864cc9bf4a310ea5cdb6da",
			"SSHWARDEN_ACTION":  "warn",
			"SSHWARDEN_USER":    `mallory\nSSHWARDEN_ACTION=close\nMESSAGE_ID=d5a4999b3ce94f82a5408f9294bffc55`,
			"SSHWARDEN_UID":     "1001",
			"SSHWARDEN_TTY":     "pts/9",
			"SSHWARDEN_PID":     "5000",
			"SSHWARDEN_KIND":    "pty",
			"SSHWARDEN_COMMAND": `\xff\xfe\r\nSSHWARDEN_ACTION=close\x00 \u202erm\u2028x\u0085`,
			"SSHWARDEN_REASON":  "idle",
			"SSHWARDEN_ERROR":   `a\r\nb\tc\x1b[2Jd`,
		},
		message:  `sshwarden warned mallory\nSSHWARDEN_ACTION=close\nMESSAGE_ID=d5a4999b3ce94f82a5408f9294bffc55`,
		priority: journal.PriInfo,
	}, {
		name: "long value, explicit priority",
		rec: Record{
			Action:   ActionCloseFailed,
			Priority: journal.PriCrit,
			Message:  "sshwarden could not close the session of bob",
			Session: &watcher.Session{
				PID: 6000, User: "bob", UID: 1002, Kind: watcher.KindNoTTY,
				Command: strings.Repeat("x", 10000),
			},
			Fields: map[string]string{"SSHWARDEN_ERROR": "kill 6000: operation not permitted"},
		},
		fields: map[string]string{
			"SYSLOG_IDENTIFIER": "sshwarden",
			"MESSAGE_ID":        "da2b86b38ef2464eb49c34bf450d7e12",
			"SSHWARDEN_ACTION":  "close-failed",
			"SSHWARDEN_USER":    "bob",
			"SSHWARDEN_UID":     "1002",
			"SSHWARDEN_PID":     "6000",
			"SSHWARDEN_KIND":    "notty",
			// NAME=VALUE is 4095 bytes.
			"SSHWARDEN_COMMAND": strings.Repeat("x", 4095-len("SSHWARDEN_COMMAND=")-len("...[truncated]")) + "...[truncated]",
			"SSHWARDEN_ERROR":   "kill 6000: operation not permitted",
		},
		message:  "sshwarden could not close the session of bob",
		priority: journal.PriCrit,
	}, {
		name: "unknown action, no message",
		rec:  Record{Action: "bogus"},
		fields: map[string]string{
			"SYSLOG_IDENTIFIER": "sshwarden",
			"SSHWARDEN_ACTION":  "bogus",
		},
		message:  "sshwarden: bogus",
		priority: journal.PriErr,
	}}
}

func TestMessageID(t *testing.T) {
	t.Parallel()
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	seen := map[string]string{}
	for _, action := range auditActions {
		id := MessageID(action)
		if !hex32.MatchString(id) {
			t.Errorf("MessageID(%q) = %q, want 32 lower-case hex digits", action, id)
		}
		if other, ok := seen[id]; ok {
			t.Errorf("MessageID(%q) = MessageID(%q) = %s", action, other, id)
		}
		seen[id] = action
	}
	for _, action := range []string{"", "bogus", "Warn", "close "} {
		if id := MessageID(action); id != "" {
			t.Errorf("MessageID(%q) = %q, want \"\"", action, id)
		}
	}
}

func TestRecordFields(t *testing.T) {
	t.Parallel()
	for _, c := range auditCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(c.fields, c.rec.JournalFields()); diff != "" {
				t.Errorf("JournalFields() mismatch (-want +got):\n%s", diff)
			}
			if got := c.rec.JournalMessage(); got != c.message {
				t.Errorf("JournalMessage() = %q, want %q", got, c.message)
			}
			if got := c.rec.JournalPriority(); got != c.priority {
				t.Errorf("JournalPriority() = %d, want %d", got, c.priority)
			}
		})
	}
}

func TestDefaultPriority(t *testing.T) {
	t.Parallel()
	want := map[string]journal.Priority{
		"warn": journal.PriInfo, "warn-failed": journal.PriWarning, "heeded": journal.PriInfo,
		"close": journal.PriNotice, "close-failed": journal.PriErr,
		"config-drift": journal.PriWarning, "config-fixed": journal.PriNotice, "config-fix-failed": journal.PriErr,
		"policy-loaded": journal.PriInfo, "policy-error": journal.PriErr,
		"agent-started": journal.PriInfo, "agent-stopped": journal.PriInfo, "error": journal.PriErr,
	}
	for _, action := range auditActions {
		for _, p := range []journal.Priority{journal.PriEmerg, 8, -1} {
			if got := (Record{Action: action, Priority: p}).JournalPriority(); got != want[action] {
				t.Errorf("Record{Action: %q, Priority: %d}.JournalPriority() = %d, want %d", action, p, got, want[action])
			}
		}
		if got := (Record{Action: action, Priority: journal.PriDebug}).JournalPriority(); got != journal.PriDebug {
			t.Errorf("Record{Action: %q, Priority: PriDebug}.JournalPriority() = %d, want %d", action, got, journal.PriDebug)
		}
	}
}

func TestClean(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"alice", "alice"},
		{"", ""},
		{"DOMAIN\\user", "DOMAIN\\user"},
		{"Zoë 日本", "Zoë 日本"},
		{"\uFFFD", "\uFFFD"},
		{"a\nb", `a\nb`},
		{"a\x00b\x7f", `a\x00b\x7f`},
		{"\xff", `\xff`},
		{"\xe2\x82", `\xe2\x82`}, // a cut rune
		{"a\u202eb", `a\u202eb`},
		{"tab\there", `tab\there`},
		{"nbsp\u00a0", `nbsp\u00a0`},
	} {
		if got := clean("SSHWARDEN_USER", c.in); got != c.want {
			t.Errorf("clean(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// FuzzClean checks what clean promises: one printable line of valid UTF-8
// that fits journalctl's JSON threshold, and the value itself when it was
// printable and short.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"alice", auditHostile, "\xff\xfe", strings.Repeat("é", 3000), strings.Repeat("\x00", 2000)} {
		f.Add("SSHWARDEN_USER", s)
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		if !extraName(name) {
			name = "SSHWARDEN_USER"
		}
		got := clean(name, value)
		if !utf8.ValidString(got) {
			t.Fatalf("clean(%q) = %q: invalid UTF-8", value, got)
		}
		for _, r := range got {
			if !strconv.IsPrint(r) {
				t.Fatalf("clean(%q) = %q: holds %U", value, got, r)
			}
		}
		if n := len(name) + 1 + len(got); n > maxField {
			t.Fatalf("clean(%q): %s=VALUE is %d bytes, want at most %d", value, name, n, maxField)
		}
		printable := utf8.ValidString(value)
		for _, r := range value {
			printable = printable && strconv.IsPrint(r)
		}
		if printable && len(name)+1+len(value) <= maxField && got != value {
			t.Fatalf("clean(%q) = %q, want it unchanged", value, got)
		}
		if !printable && got == value {
			t.Fatalf("clean(%q) did not escape it", value)
		}
	})
}

// auditCatalogEntry is one entry of a journald message catalog.
type auditCatalogEntry struct {
	id      string
	line    int
	headers map[string]string
	text    string
}

// parseAuditCatalog parses the catalog format of journalctl(1) and
// https://systemd.io/CATALOG/: "-- ID [LANG]", header lines "Key: value",
// an empty line, then the text until the next "-- " line. "#" lines are
// comments.
func parseAuditCatalog(src string) ([]auditCatalogEntry, error) {
	var entries []auditCatalogEntry
	var cur *auditCatalogEntry
	inHeaders := false
	for i, line := range strings.Split(src, "\n") {
		n := i + 1
		switch {
		case strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "-- "):
			f := strings.Fields(line[3:])
			if len(f) < 1 || len(f) > 2 {
				return nil, fmt.Errorf("line %d: bad ID line %q", n, line)
			}
			entries = append(entries, auditCatalogEntry{id: f[0], line: n, headers: map[string]string{}})
			cur = &entries[len(entries)-1]
			inHeaders = true
		case cur == nil:
			if strings.TrimSpace(line) != "" {
				return nil, fmt.Errorf("line %d: text before the first ID", n)
			}
		case inHeaders && line == "":
			inHeaders = false
		case inHeaders:
			k, v, ok := strings.Cut(line, ": ")
			if !ok || k == "" || strings.ContainsAny(k, " \t") {
				return nil, fmt.Errorf("line %d: bad header %q", n, line)
			}
			if _, dup := cur.headers[k]; dup {
				return nil, fmt.Errorf("line %d: header %s twice", n, k)
			}
			cur.headers[k] = v
		default:
			cur.text += line + "\n"
		}
	}
	return entries, nil
}

func TestCatalog(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../packaging/sshwarden.catalog")
	if err != nil {
		t.Fatal(err)
	}
	entries, err := parseAuditCatalog(string(src))
	if err != nil {
		t.Fatalf("sshwarden.catalog: %v", err)
	}
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	substitution := regexp.MustCompile(`@([A-Za-z0-9_]+)@`)
	known := map[string]bool{}
	for _, name := range []string{FieldAction, FieldSessionID, FieldUser, FieldUID, FieldRemoteAddr,
		FieldRemotePort, FieldLocalPort, FieldTTY, FieldPID, FieldKind, FieldCommand, FieldIdleSeconds,
		FieldSessionSeconds, FieldLimitSeconds, FieldReason, FieldRule, FieldDryRun, FieldError, FieldDropped,
		"SSHWARDEN_FILE", "SSHWARDEN_FINDINGS"} {
		known[name] = true
	}
	byID := map[string]int{}
	for _, e := range entries {
		byID[e.id]++
		if !hex32.MatchString(e.id) {
			t.Errorf("sshwarden.catalog:%d: ID %q, want 32 lower-case hex digits", e.line, e.id)
		}
		if e.headers["Subject"] == "" {
			t.Errorf("sshwarden.catalog:%d: %s has no Subject", e.line, e.id)
		}
		for k, want := range map[string]string{
			"Defined-By":    "sshwarden",
			"Documentation": "man:sshwarden(8)",
			"Support":       "https://github.com/sshwarden/sshwarden/issues",
		} {
			if e.headers[k] != want {
				t.Errorf("sshwarden.catalog:%d: %s %s: %q, want %q", e.line, e.id, k, e.headers[k], want)
			}
		}
		if strings.TrimSpace(e.text) == "" {
			t.Errorf("sshwarden.catalog:%d: %s has no text", e.line, e.id)
		}
		for _, m := range substitution.FindAllStringSubmatch(e.headers["Subject"]+e.text, -1) {
			if !known[m[1]] {
				t.Errorf("sshwarden.catalog:%d: %s substitutes @%s@, which no record carries", e.line, e.id, m[1])
			}
		}
	}
	for _, action := range auditActions {
		if id := MessageID(action); byID[id] != 1 {
			t.Errorf("sshwarden.catalog: MESSAGE_ID %s of %q has %d entries, want 1", id, action, byID[id])
		}
		delete(byID, MessageID(action))
	}
	for id := range byID {
		t.Errorf("sshwarden.catalog: entry %s is no action's MESSAGE_ID", id)
	}
}

// auditStderrLines parses the JSON lines a Journal wrote.
func auditStderrLines(t *testing.T, out []byte) []map[string]string {
	t.Helper()
	var lines []map[string]string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]string
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("stderr line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	return lines
}

// auditLevel is the level a Journal gives a priority on stderr.
func auditLevel(p journal.Priority) string {
	switch {
	case p <= journal.PriErr:
		return "ERROR"
	case p == journal.PriWarning:
		return "WARN"
	case p == journal.PriDebug:
		return "DEBUG"
	}
	return "INFO"
}

// checkAuditLine checks that line is c's record as JSON.
func checkAuditLine(t *testing.T, c auditCase, line map[string]string, extra map[string]string) {
	t.Helper()
	want := map[string]string{"msg": c.message, "level": auditLevel(c.priority), "PRIORITY": strconv.Itoa(int(c.priority))}
	for k, v := range c.fields {
		want[k] = v
	}
	for k, v := range extra {
		want[k] = v
	}
	got := map[string]string{}
	for k, v := range line {
		got[k] = v
	}
	if _, err := time.Parse(time.RFC3339Nano, got["time"]); err != nil {
		t.Errorf("%s: time %q: %v", c.name, got["time"], err)
	}
	delete(got, "time")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: stderr line mismatch (-want +got):\n%s", c.name, diff)
	}
}

func TestAuditStderr(t *testing.T) {
	t.Parallel()
	var out auditBuffer
	a := newJournal(Options{Journal: SinkStderr, Stderr: &out}, &auditFakeJournal{enabled: true})
	if a.Sink() != SinkStderr {
		t.Errorf("Sink() = %q, want %q", a.Sink(), SinkStderr)
	}
	cases := auditCases()
	for _, c := range cases {
		a.Record(c.rec)
	}
	auditClose(t, a)
	raw := out.Bytes()
	if n := bytes.Count(raw, []byte("\n")); n != len(cases) {
		t.Fatalf("stderr has %d lines, want one per record, %d:\n%s", n, len(cases), raw)
	}
	lines := auditStderrLines(t, raw)
	for i, c := range cases {
		checkAuditLine(t, c, lines[i], nil)
	}
	if a.Dropped() != 0 {
		t.Errorf("Dropped() = %d, want 0", a.Dropped())
	}
}

// auditFakeJournal records what is sent to it, and fails while fail is set.
type auditFakeJournal struct {
	mu      sync.Mutex
	enabled bool
	fail    error
	sent    []auditSent
}

type auditSent struct {
	message  string
	priority journal.Priority
	fields   map[string]string
}

func (j *auditFakeJournal) Enabled() bool { return j.enabled }

func (j *auditFakeJournal) Send(message string, priority journal.Priority, fields map[string]string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.fail != nil {
		return j.fail
	}
	j.sent = append(j.sent, auditSent{message, priority, fields})
	return nil
}

func (j *auditFakeJournal) setFail(err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.fail = err
}

func (j *auditFakeJournal) messages() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	var m []string
	for _, s := range j.sent {
		m = append(m, s.message)
	}
	return m
}

// auditBuffer is a bytes.Buffer for a writer goroutine and the test.
type auditBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *auditBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *auditBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.b.Bytes())
}

// auditBlockingWriter blocks every Write until release is closed, and says on
// entered when a Write started.
type auditBlockingWriter struct {
	entered chan struct{}
	release chan struct{}
	out     auditBuffer
}

func newAuditBlockingWriter() *auditBlockingWriter {
	return &auditBlockingWriter{entered: make(chan struct{}, 1), release: make(chan struct{})}
}

func (w *auditBlockingWriter) Write(p []byte) (int, error) {
	select {
	case w.entered <- struct{}{}:
	default:
	}
	<-w.release
	return w.out.Write(p)
}

// auditWaitChan waits on ch, at most 10s.
func auditWaitChan(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: not within 10s", what)
	}
}

func auditClose(t *testing.T, a *Journal) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// TestAuditJournalFallback: a record journald does not take goes to
// stderr, and the next one is tried on journald again.
func TestAuditJournalFallback(t *testing.T) {
	t.Parallel()
	var out auditBuffer
	j := &auditFakeJournal{}
	a := newJournal(Options{Journal: SinkJournal, Stderr: &out}, j)
	if a.Sink() != SinkJournal {
		t.Errorf("Sink() = %q, want %q", a.Sink(), SinkJournal)
	}
	cases := auditCases()
	a.Record(cases[0].rec)
	// The writer is asynchronous: wait for each record where it goes.
	auditPoll(t, func() bool { return len(j.messages()) == 1 }, "first record in the journal")
	j.setFail(errors.New("dial unixgram /run/systemd/journal/socket: connection refused"))
	a.Record(cases[1].rec)
	auditPoll(t, func() bool { return bytes.Count(out.Bytes(), []byte("\n")) == 1 }, "second record on stderr")
	j.setFail(nil)
	a.Record(cases[2].rec)
	auditClose(t, a)

	if diff := cmp.Diff([]string{cases[0].message, cases[2].message}, j.messages()); diff != "" {
		t.Errorf("journal messages (-want +got):\n%s", diff)
	}
	for i, s := range j.sent {
		c := cases[2*i]
		if diff := cmp.Diff(c.fields, s.fields); diff != "" {
			t.Errorf("%s: journal fields (-want +got):\n%s", c.name, diff)
		}
		if s.priority != c.priority {
			t.Errorf("%s: priority %d, want %d", c.name, s.priority, c.priority)
		}
	}
	lines := auditStderrLines(t, out.Bytes())
	if len(lines) != 1 {
		t.Fatalf("stderr has %d records, want 1", len(lines))
	}
	checkAuditLine(t, cases[1], lines[0], map[string]string{
		FieldJournalError: "dial unixgram /run/systemd/journal/socket: connection refused",
	})
}

// auditPoll polls cond, at most 10s.
func auditPoll(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestAuditSink(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		journal string
		enabled bool
		want    string
		bad     bool // an error record says the option is unknown
	}{
		{"", true, SinkJournal, false},
		{"", false, SinkStderr, false},
		{SinkAuto, true, SinkJournal, false},
		{SinkAuto, false, SinkStderr, false},
		{SinkJournal, false, SinkJournal, false},
		{SinkStderr, true, SinkStderr, false},
		{"syslog", false, SinkStderr, true},
		{"syslog", true, SinkJournal, true},
	} {
		var out auditBuffer
		j := &auditFakeJournal{enabled: c.enabled}
		a := newJournal(Options{Journal: c.journal, Stderr: &out}, j)
		if got := a.Sink(); got != c.want {
			t.Errorf("Journal %q, journald there %v: Sink() = %q, want %q", c.journal, c.enabled, got, c.want)
		}
		auditClose(t, a)
		var msgs []string
		for _, l := range auditStderrLines(t, out.Bytes()) {
			msgs = append(msgs, l["msg"])
		}
		msgs = append(msgs, j.messages()...)
		var want []string
		if c.bad {
			want = []string{fmt.Sprintf("sshwarden: unknown audit sink %q, using auto (journald when it answers at start, else stderr)", c.journal)}
		}
		if diff := cmp.Diff(want, msgs); diff != "" {
			t.Errorf("Journal %q: records (-want +got):\n%s", c.journal, diff)
		}
	}
}

// TestAuditNeverBlocks: with a sink that blocks, Record still returns at
// once, drops what does not fit in the queue, and the drops are reported
// once the sink moves again.
func TestAuditNeverBlocks(t *testing.T) {
	t.Parallel()
	const queue, extra = 4, 100
	w := newAuditBlockingWriter()
	a := newJournal(Options{Journal: SinkStderr, Stderr: w, Queue: queue}, &auditFakeJournal{})
	rec := func(i int) Record {
		return Record{Action: ActionError, Message: fmt.Sprintf("record %d", i)}
	}
	a.Record(rec(0))
	auditWaitChan(t, w.entered, "the writer writing record 0")

	returned := make(chan struct{})
	var took time.Duration
	go func() {
		defer close(returned)
		begin := time.Now()
		for i := 1; i <= queue+extra; i++ {
			a.Record(rec(i))
		}
		took = time.Since(begin)
	}()
	auditWaitChan(t, returned, "Record with a blocked sink")
	t.Logf("%d Record calls with a blocked sink took %v", queue+extra, took)
	if got := a.Dropped(); got != extra {
		t.Errorf("Dropped() = %d, want %d", got, extra)
	}

	close(w.release)
	auditClose(t, a)
	lines := auditStderrLines(t, w.out.Bytes())
	var msgs []string
	var reports []map[string]string
	for _, l := range lines {
		msgs = append(msgs, l["msg"])
		if l[FieldDropped] != "" {
			reports = append(reports, l)
		}
	}
	if len(lines) != 1+queue+1 {
		t.Errorf("stderr has %d records, want %d (the one written, the queued ones, a report):\n%q", len(lines), 1+queue+1, msgs)
	}
	if len(reports) != 1 {
		t.Fatalf("%d records report drops, want 1:\n%q", len(reports), msgs)
	}
	r := reports[0]
	for k, want := range map[string]string{
		FieldAction:  ActionError,
		"MESSAGE_ID": MessageIDError,
		"PRIORITY":   "3",
		FieldDropped: strconv.Itoa(extra),
		"msg":        fmt.Sprintf("sshwarden lost %d audit records: they came faster than they could be written", extra),
	} {
		if r[k] != want {
			t.Errorf("drop report %s = %q, want %q", k, r[k], want)
		}
	}
	for i := 1; i <= queue; i++ {
		if !strings.Contains(strings.Join(msgs, "\n")+"\n", fmt.Sprintf("record %d\n", i)) {
			t.Errorf("queued record %d is missing from %q", i, msgs)
		}
	}
}

// TestAuditCloseTimeout: Close gives up when ctx ends, and the writer
// drops the rest once its write returns.
func TestAuditCloseTimeout(t *testing.T) {
	t.Parallel()
	w := newAuditBlockingWriter()
	a := newJournal(Options{Journal: SinkStderr, Stderr: w}, &auditFakeJournal{})
	a.Record(Record{Action: ActionError, Message: "stuck"})
	auditWaitChan(t, w.entered, "the writer writing")
	a.Record(Record{Action: ActionError, Message: "queued 1"})
	a.Record(Record{Action: ActionError, Message: "queued 2"})

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	begin := time.Now()
	err := a.Close(ctx)
	if took := time.Since(begin); took > 5*time.Second {
		t.Errorf("Close took %v with a 50ms context", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) || err.Error() != "audit: 2 records not written: context deadline exceeded" {
		t.Errorf("Close() = %v, want audit: 2 records not written: context deadline exceeded", err)
	}
	a.Record(Record{Action: ActionError, Message: "after close"})
	close(w.release)
	auditWaitChan(t, a.done, "the writer returning")
	if got := a.Dropped(); got != 3 {
		t.Errorf("Dropped() = %d, want 3 (two queued, one after Close)", got)
	}
	lines := auditStderrLines(t, w.out.Bytes())
	if len(lines) != 1 || lines[0]["msg"] != "stuck" {
		t.Errorf("stderr records = %v, want only the one being written", lines)
	}
	// A second Close returns at once.
	if err := a.Close(context.Background()); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
}

// TestAuditConcurrent records from many goroutines while Close runs: run
// with -race. Every record is either written or counted as dropped.
func TestAuditConcurrent(t *testing.T) {
	t.Parallel()
	var out auditBuffer
	a := newJournal(Options{Journal: SinkStderr, Stderr: &out, Queue: 8}, &auditFakeJournal{})
	const writers, each = 8, 200
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := watcher.Session{PID: g, User: "u"}
			for i := range each {
				a.Record(Record{Action: ActionWarn, Message: fmt.Sprintf("g%d r%d", g, i), Session: &s})
				s.User = "changed" // Record has rendered the session already
			}
		}()
	}
	wg.Wait()
	auditClose(t, a)
	var written, reported uint64
	for _, l := range auditStderrLines(t, out.Bytes()) {
		if n := l[FieldDropped]; n != "" {
			d, _ := strconv.ParseUint(n, 10, 64)
			reported += d
			continue
		}
		written++
	}
	if written+a.Dropped() != writers*each {
		t.Errorf("written %d + dropped %d = %d, want %d", written, a.Dropped(), written+a.Dropped(), writers*each)
	}
	if reported != a.Dropped() {
		t.Errorf("drop reports add up to %d, Dropped() = %d", reported, a.Dropped())
	}
}
