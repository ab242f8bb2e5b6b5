// Package audit is the schema of sshwarden's audit records ([Record]:
// one per action of the agent, with its SSHWARDEN_ fields and a fixed
// MESSAGE_ID per action, explained in packaging/sshwarden.catalog), and the
// two directions of it: [Journal] writes records to journald (or as JSON
// lines to stderr), [ReadReport] reads an audit trail back and sums it up.
// [Metrics] take the same records, beside the journal, and count them for
// Prometheus.
package audit

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coreos/go-systemd/v22/journal"

	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/watcher"
)

// Kinds of audit record, as recorded in SSHWARDEN_ACTION. The first three
// are the decisions of the agent on a session; the last three are the
// agent's operational records.
const (
	ActionWarn  = "warn"  // a session was warned on its tty
	ActionClose = "close" // a session was closed
	// ActionHeeded: input came after an idle warning, so the close it
	// announced is called off (a new idle period begins). Nothing is done
	// to the session; the record tells how warnings are received.
	ActionHeeded          = "heeded"
	ActionWarnFailed      = "warn-failed"       // a warning could not be written to the session's tty
	ActionCloseFailed     = "close-failed"      // a session could not be closed
	ActionConfigDrift     = "config-drift"      // sshd_config no longer meets the policy
	ActionConfigFixed     = "config-fixed"      // the agent fixed sshd_config
	ActionConfigFixFailed = "config-fix-failed" // the agent could not fix sshd_config
	ActionPolicyLoaded    = "policy-loaded"     // the policy was (re)loaded
	ActionPolicyError     = "policy-error"      // the policy could not be loaded; the previous one stays
	ActionAgentStarted    = "agent-started"
	ActionAgentStopped    = "agent-stopped"
	ActionError           = "error" // any other failure, and audit records lost
)

// Reasons of a warning or close, as recorded in SSHWARDEN_REASON.
const (
	ReasonIdle           = "idle"
	ReasonMaxSessionTime = "max-session-time"
)

// The MESSAGE_ID of each action: fixed 128-bit IDs, generated once with
// `journalctl --new-id128`, each explained in packaging/sshwarden.catalog.
// They never change: auditors select records with them
// (`journalctl MESSAGE_ID=...`).
const (
	MessageIDWarn            = "610b2d2974864cc9bf4a310ea5cdb6da"
	MessageIDWarnFailed      = "84f97a72c57a4eeeb78484514dcabb66"
	MessageIDHeeded          = "3941781062e1402d9ff021b68456242d"
	MessageIDClose           = "d5a4999b3ce94f82a5408f9294bffc55"
	MessageIDCloseFailed     = "da2b86b38ef2464eb49c34bf450d7e12"
	MessageIDConfigDrift     = "4ff60e84aced49ae8c801f1bcfb50947"
	MessageIDConfigFixed     = "6b08fc7bded1490eb795e224a8c91687"
	MessageIDConfigFixFailed = "8ae02e007d6541d08a57ab04f5371022"
	MessageIDPolicyLoaded    = "8faedb5a10374ac7875859e5a5a504eb"
	MessageIDPolicyError     = "93eababfa127454f9568ddb44183280f"
	MessageIDAgentStarted    = "c7b16f1308bd404b91576a8b1c18ec4e"
	MessageIDAgentStopped    = "5769e989be1b4588aca4598cf6a50880"
	MessageIDError           = "f36a7141295740c994fa5f66dacb55ed"
)

// Journal fields of an audit record, besides MESSAGE, MESSAGE_ID, PRIORITY
// and SYSLOG_IDENTIFIER.
const (
	FieldAction         = "SSHWARDEN_ACTION"
	FieldSessionID      = "SSHWARDEN_SESSION_ID" // the login's audit session id
	FieldUser           = "SSHWARDEN_USER"
	FieldUID            = "SSHWARDEN_UID"
	FieldRemoteAddr     = "SSHWARDEN_REMOTE_ADDR"
	FieldRemotePort     = "SSHWARDEN_REMOTE_PORT"
	FieldLocalPort      = "SSHWARDEN_LOCAL_PORT"
	FieldTTY            = "SSHWARDEN_TTY"
	FieldPID            = "SSHWARDEN_PID" // the session's sshd monitor
	FieldKind           = "SSHWARDEN_KIND"
	FieldCommand        = "SSHWARDEN_COMMAND" // an exec session's command
	FieldIdleSeconds    = "SSHWARDEN_IDLE_SECONDS"
	FieldSessionSeconds = "SSHWARDEN_SESSION_SECONDS"
	FieldLimitSeconds   = "SSHWARDEN_LIMIT_SECONDS"
	FieldReason         = "SSHWARDEN_REASON"
	FieldRule           = "SSHWARDEN_RULE"
	FieldDryRun         = "SSHWARDEN_DRY_RUN"
	// FieldError is what failed, on failure records.
	FieldError = "SSHWARDEN_ERROR"
	// FieldDropped is the number of records lost since the last report, on
	// the "error" record that reports them.
	FieldDropped = "SSHWARDEN_DROPPED"
	// FieldJournalError is in a record on stderr, never in the journal:
	// why journald did not take it.
	FieldJournalError = "SSHWARDEN_JOURNAL_ERROR"
)

// SyslogIdentifier is the SYSLOG_IDENTIFIER of every record.
const SyslogIdentifier = "sshwarden"

// maxField is the largest field, "NAME=value", that `journalctl -o json`
// prints without --all: from 4096 bytes on, it prints null (measured with
// systemd 252). Values are cut to fit.
const maxField = 4095

// truncated ends a value that was cut.
const truncated = "...[truncated]"

// MessageID returns the fixed MESSAGE_ID of an action, "" for an unknown
// one.
func MessageID(action string) string {
	switch action {
	case ActionWarn:
		return MessageIDWarn
	case ActionWarnFailed:
		return MessageIDWarnFailed
	case ActionHeeded:
		return MessageIDHeeded
	case ActionClose:
		return MessageIDClose
	case ActionCloseFailed:
		return MessageIDCloseFailed
	case ActionConfigDrift:
		return MessageIDConfigDrift
	case ActionConfigFixed:
		return MessageIDConfigFixed
	case ActionConfigFixFailed:
		return MessageIDConfigFixFailed
	case ActionPolicyLoaded:
		return MessageIDPolicyLoaded
	case ActionPolicyError:
		return MessageIDPolicyError
	case ActionAgentStarted:
		return MessageIDAgentStarted
	case ActionAgentStopped:
		return MessageIDAgentStopped
	case ActionError:
		return MessageIDError
	}
	return ""
}

// defaultPriority is the priority of an action whose Record leaves it 0.
func defaultPriority(action string) journal.Priority {
	switch action {
	case ActionWarn, ActionHeeded, ActionPolicyLoaded, ActionAgentStarted, ActionAgentStopped:
		return journal.PriInfo
	case ActionClose, ActionConfigFixed:
		return journal.PriNotice
	case ActionWarnFailed, ActionConfigDrift:
		return journal.PriWarning
	}
	return journal.PriErr // the failures, and unknown actions
}

// Record is one audit record: one action of the agent.
//
// Its journal fields are rendered by [Record.JournalFields]; zero fields are
// left out. Every value is made safe first: a value that is valid UTF-8 with
// only printable characters (user names, ttys, addresses, rules: the usual
// case) is written unchanged, so that `journalctl SSHWARDEN_USER=alice`
// finds it. Anything else (control characters such as a newline, invalid
// UTF-8, line and paragraph separators, bidirectional overrides) is escaped
// as in a Go string literal (\n, \x00, \xff, \u202e): a value is always one
// printable line, which can neither add a field nor forge a line in
// `journalctl` or in the stderr JSON. A backslash is not escaped, so an
// escaped value reads like one that contained the escape literally.
// Values are cut so that NAME=VALUE fits in 4095 bytes (journalctl -o json
// prints larger fields as null without --all), and then end in
// "...[truncated]".
type Record struct {
	Action string // SSHWARDEN_ACTION, one of the Action constants; selects MESSAGE_ID
	// Priority is the syslog priority. Its zero value (journal.PriEmerg,
	// which journald would broadcast to every terminal) stands for the
	// action's default: info for warn, policy-loaded, agent-started and
	// agent-stopped; notice for close and config-fixed; warning for
	// warn-failed and config-drift; err for the others.
	Priority journal.Priority
	// Message is MESSAGE: one sentence an auditor understands, built by the
	// caller ("sshwarden: ACTION" when empty).
	Message string
	// Session is the session the record is about, nil when none. Only then
	// does the record carry SSHWARDEN_SESSION_ID (when known, i.e. not 0),
	// SSHWARDEN_USER, SSHWARDEN_UID, SSHWARDEN_REMOTE_ADDR,
	// SSHWARDEN_REMOTE_PORT, SSHWARDEN_LOCAL_PORT (when the addresses are
	// known), SSHWARDEN_TTY (pty sessions), SSHWARDEN_PID, SSHWARDEN_KIND,
	// SSHWARDEN_COMMAND (exec sessions), and Idle and Age.
	Session *watcher.Session
	Reason  string // SSHWARDEN_REASON: ReasonIdle or ReasonMaxSessionTime
	// Idle (SSHWARDEN_IDLE_SECONDS), Age (SSHWARDEN_SESSION_SECONDS) and
	// Limit (SSHWARDEN_LIMIT_SECONDS) are written in whole seconds, rounded
	// down (so an idle time never reads longer than it was), and only when
	// above 0: an Idle of 0 is unknown, as in the agent's decisions. Idle
	// and Age need a Session.
	Idle, Age, Limit time.Duration
	Rule             string // SSHWARDEN_RULE: FILE:LINE of the policy line that applied
	DryRun           bool   // SSHWARDEN_DRY_RUN=yes: the agent only said what it would do
	// Fields are extra fields (SSHWARDEN_FILE, SSHWARDEN_LINE,
	// SSHWARDEN_FINDINGS, SSHWARDEN_ERROR, SSHWARDEN_VIA, ...). A name must
	// start with SSHWARDEN_ and hold only A-Z, 0-9 and _, at most 64 bytes,
	// and must not be one the record sets from its other fields; other
	// names are dropped.
	Fields map[string]string
}

// Sink takes audit records: a [Journal] writes them, [Metrics] count
// them. Record does not block, and does not keep r.Session or r.Fields
// past the call: the caller may hand the same record to several sinks.
type Sink interface {
	Record(r Record)
}

// Rule is a policy position as FILE:LINE, as records and `sessions --json`
// carry it: "" for a built-in default.
func Rule(p sshdconf.Pos) string {
	if p.File == "" || p.Line == 0 {
		return ""
	}
	return p.File + ":" + strconv.Itoa(p.Line)
}

// JournalFields renders r as journal fields: MESSAGE_ID, SYSLOG_IDENTIFIER
// and the SSHWARDEN_ fields, all but MESSAGE and PRIORITY (see
// [Record.JournalMessage] and [Record.JournalPriority]). The values are
// made safe as [Record] says.
func (r Record) JournalFields() map[string]string {
	f := make(map[string]string, 16+len(r.Fields))
	set := func(name, value string) {
		if value != "" {
			f[name] = value
		}
	}
	seconds := func(name string, d time.Duration) {
		if d > 0 {
			f[name] = strconv.FormatInt(int64(d/time.Second), 10)
		}
	}
	set("SYSLOG_IDENTIFIER", SyslogIdentifier)
	set("MESSAGE_ID", MessageID(r.Action))
	set(FieldAction, r.Action)
	if s := r.Session; s != nil {
		if s.SessionID != 0 {
			f[FieldSessionID] = strconv.FormatUint(uint64(s.SessionID), 10)
		}
		set(FieldUser, s.User)
		f[FieldUID] = strconv.Itoa(s.UID)
		if s.Remote.IsValid() {
			f[FieldRemoteAddr] = s.Remote.Addr().Unmap().String()
			f[FieldRemotePort] = strconv.Itoa(int(s.Remote.Port()))
		}
		if s.Local.IsValid() {
			f[FieldLocalPort] = strconv.Itoa(int(s.Local.Port()))
		}
		set(FieldTTY, s.TTY)
		if s.PID != 0 {
			f[FieldPID] = strconv.Itoa(s.PID)
		}
		set(FieldKind, string(s.Kind))
		set(FieldCommand, s.Command)
		seconds(FieldIdleSeconds, r.Idle)
		seconds(FieldSessionSeconds, r.Age)
	}
	seconds(FieldLimitSeconds, r.Limit)
	set(FieldReason, r.Reason)
	set(FieldRule, r.Rule)
	if r.DryRun {
		f[FieldDryRun] = "yes"
	}
	for name, value := range r.Fields {
		if _, taken := f[name]; taken || !extraName(name) {
			continue
		}
		set(name, value)
	}
	for name, value := range f {
		f[name] = clean(name, value)
	}
	return f
}

// JournalMessage is r's MESSAGE, made safe.
func (r Record) JournalMessage() string {
	m := r.Message
	if m == "" {
		m = "sshwarden: " + r.Action
	}
	return clean("MESSAGE", m)
}

// JournalPriority is r's PRIORITY: r.Priority, or the action's default when
// it is 0 or not a syslog priority.
func (r Record) JournalPriority() journal.Priority {
	if r.Priority <= journal.PriEmerg || r.Priority > journal.PriDebug {
		return defaultPriority(r.Action)
	}
	return r.Priority
}

// extraName reports whether name may be one of Record.Fields.
func extraName(name string) bool {
	const prefix = "SSHWARDEN_"
	if len(name) <= len(prefix) || len(name) > 64 || !strings.HasPrefix(name, prefix) {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// clean makes the value of field name safe, as Record says.
func clean(name, value string) string {
	limit := maxField - len(name) - 1
	plain := len(value) <= limit
	for _, r := range value {
		if !plain {
			break
		}
		// An invalid byte decodes as utf8.RuneError, which is printable.
		plain = r != utf8.RuneError && strconv.IsPrint(r)
	}
	if plain {
		return value
	}
	var b strings.Builder
	cut := -1 // where to cut when the result is too long
	for i := 0; i < len(value) && b.Len() <= limit; {
		r, size := utf8.DecodeRuneInString(value[i:])
		var piece string
		switch {
		case r == utf8.RuneError && size == 1:
			piece = fmt.Sprintf(`\x%02x`, value[i])
		case strconv.IsPrint(r):
			piece = value[i : i+size]
		default:
			q := strconv.QuoteRune(r)
			piece = q[1 : len(q)-1]
		}
		if cut < 0 && b.Len()+len(piece) > limit-len(truncated) {
			cut = b.Len()
		}
		b.WriteString(piece)
		i += size
	}
	s := b.String()
	if len(s) > limit {
		s = s[:cut] + truncated
	}
	return s
}
