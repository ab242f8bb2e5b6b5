package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sshwarden/sshwarden/internal/decimal"
)

// ReportOptions configure [ReadReport]. The zero value is ready to use.
type ReportOptions struct {
	// Since and Until bound the records counted: Since <= time < Until.
	// A zero time leaves that side unbounded.
	Since, Until time.Time
	// Location is the time zone of ClosesByHour and of the times in
	// [Report.WriteText]; nil means time.Local.
	Location *time.Location
}

// Causes of a line that [ReadReport] skipped, the keys of
// [Report].Skipped.
const (
	SkipMalformed    = "malformed"     // not a JSON object, or one whose SSHWARDEN_ACTION is not a single string
	SkipTooLong      = "too-long"      // longer than 1 MiB
	SkipOtherProgram = "other-program" // SYSLOG_IDENTIFIER is not sshwarden
	SkipNoAction     = "no-action"     // sshwarden, but no SSHWARDEN_ACTION: not an audit record
	SkipBadTime      = "bad-time"      // neither __REALTIME_TIMESTAMP nor time is a time
	SkipMissingField = "missing-field" // a session record (warn, heeded, close, ...) without SSHWARDEN_PID or SSHWARDEN_REASON
	SkipOutOfRange   = "out-of-range"  // before Since, or at or after Until
	// SkipRepeat: the same journal entry (boot, monotonic and wall-clock
	// time, host, fields) as one of the last 65,536 records read. A
	// resumed systemd-journal-upload sends the entry at its saved cursor
	// again (systemd 252), so a central journal holds some records twice.
	SkipRepeat = "repeat"
)

// OtherKey is the key of the row of a breakdown that counts the records
// whose key came after the first 10,000 distinct keys of that breakdown,
// and of closed_by_reason past 16 reasons. Keys longer than 256 bytes are
// cut.
const OtherKey = "(other)"

// Limits that keep [ReadReport]'s memory bounded, whatever the input.
const (
	maxReportLine = 1 << 20 // bytes in a line, newline included
	maxReportKeys = 10000   // rows of each breakdown, and user-rule pairs
	maxReportKey  = 256     // bytes of a key
	maxReasons    = 16      // keys of closed_by_reason
	maxIdleValues = 4096    // distinct values in the idle-at-close histogram
	repeatWindow  = 1 << 16 // records remembered to tell a repeated journal entry
	reportRows    = 20      // rows of each table in WriteText
	reportSuggest = 5       // suggestions of one kind
	barWidth      = 40      // columns of the longest bar in WriteText
)

// idleBuckets are the upper bounds, in seconds, of the buckets of
// IdleAtClose, the last one being unbounded.
var idleBuckets = [...]int64{5 * 60, 15 * 60, 30 * 60, 3600, 2 * 3600, 4 * 3600}

// Report is what an audit trail says about the agent's warnings and
// closes, from [ReadReport]. The top-level counts, breakdowns, idle times,
// hours and suggestions are of the agent's real actions; the records with
// SSHWARDEN_DRY_RUN=yes are counted in DryRun only.
//
// Each record is counted on its own: the report does not follow a session
// from one record to the next. Heeded is the number of heeded records
// (SSHWARDEN_ACTION=heeded). The agent writes one when input comes on a
// session after its idle warning: the close that the warning announced is
// called off, and a new idle period begins. Input does not call off a
// max-session-time warning, so there are no heeded records for those.
// The agent also writes a heeded record after a warning it could not
// write (warn-failed), and in a dry run after a warning it only recorded:
// Heeded counts input after a warning was decided, whether or not the user
// saw it. It can therefore exceed Warned, as it can when Since falls
// between a warning and its heeded record. No record is written when a
// warned session ends without input (the user logs out), nor for input
// after the agent restarted: a restart forgets the warnings given.
type Report struct {
	Counts        // real actions
	DryRun Counts `json:"dry_run"` // actions with SSHWARDEN_DRY_RUN=yes
	// First and Last are the times of the first and last record counted
	// (any sshwarden audit record in the range, not only warn and close);
	// zero when none was.
	First time.Time `json:"first,omitzero"`
	Last  time.Time `json:"last,omitzero"`
	// Records is the number of audit records counted.
	Records int `json:"records"`
	// LostRecords is the sum of SSHWARDEN_DROPPED in the agent's "error"
	// records: audit records the agent could not write, missing here.
	LostRecords int64 `json:"lost_records"`
	// Skipped is the number of input lines skipped, by cause (the Skip
	// constants).
	Skipped map[string]int `json:"skipped"`
	// ByHost, ByUser, ByRule and ByLocalPort break the real actions down
	// by _HOSTNAME (the host whose journald stored the record: a field
	// journald sets itself, which systemd-journal-remote keeps as the host
	// uploaded it; "" when the record has none, as a line of the agent's
	// stderr), SSHWARDEN_USER, SSHWARDEN_RULE (FILE:LINE, "" for
	// a built-in default) and SSHWARDEN_LOCAL_PORT ("" when unknown);
	// sorted by Closed, most first, then by Key. ByHost has a row for the
	// host of every record counted, so a host whose agent took no action
	// shows with zeros; the others have rows for actions only.
	ByHost      []ReportRow `json:"by_host"`
	ByUser      []ReportRow `json:"by_user"`
	ByRule      []ReportRow `json:"by_rule"`
	ByLocalPort []ReportRow `json:"by_local_port"`
	// IdleAtClose is SSHWARDEN_IDLE_SECONDS of the idle closes.
	IdleAtClose IdleAtClose `json:"idle_at_close"`
	// ClosesByHour is the number of closes by the hour of the day of their
	// record, in TimeZone.
	ClosesByHour [24]int `json:"closes_by_hour"`
	// ClosesByDay is the number of closes per day (in TimeZone) that had
	// any, oldest first.
	ClosesByDay []DayCount `json:"closes_by_day"`
	TimeZone    string     `json:"time_zone"`
	// Suggestions are hints that follow from the numbers, each citing
	// them; not verdicts.
	Suggestions []string `json:"suggestions"`
	// Gaps are the periods the agent did not run, per host, found from
	// its agent-started and agent-stopped records (in time order, as
	// journalctl gives them). GapsTruncated says more lifecycle records
	// were read than are kept (maxLifecycle): the gaps are of the first.
	Gaps          []Gap `json:"gaps"`
	GapsTruncated bool  `json:"gaps_truncated,omitempty"`

	loc *time.Location
}

// Counts are the numbers of warnings and closes of a [Report].
type Counts struct {
	Warned int `json:"warned"` // warn records
	Closed int `json:"closed"` // close records
	Heeded int `json:"heeded"` // heeded records: input came after an idle warning
	// ClosedByReason is Closed by SSHWARDEN_REASON; it always has idle
	// and max-session-time.
	ClosedByReason map[string]int `json:"closed_by_reason"`
	WarnFailed     int            `json:"warn_failed"`  // warn-failed records
	CloseFailed    int            `json:"close_failed"` // close-failed records
}

// ReportRow is one row of a breakdown of a [Report].
type ReportRow struct {
	Key         string `json:"key"`
	Warned      int    `json:"warned"`       // warn records
	Closed      int    `json:"closed"`       // close records
	Heeded      int    `json:"heeded"`       // heeded records
	CloseFailed int    `json:"close_failed"` // close-failed records

	maxClosed int // closes for max-session-time
}

// IdleAtClose sums up the idle time of the sessions closed for idleness.
type IdleAtClose struct {
	Count int `json:"count"` // idle closes with SSHWARDEN_IDLE_SECONDS
	// MedianSeconds and P90Seconds are nearest-rank percentiles: the
	// smallest value that at least half (90%) of the values do not
	// exceed. They are exact while the closes have at most 4096 distinct
	// values, and then rounded down to a multiple of ResolutionSeconds.
	MedianSeconds     int64 `json:"median_seconds"`
	P90Seconds        int64 `json:"p90_seconds"`
	MaxSeconds        int64 `json:"max_seconds"`
	ResolutionSeconds int64 `json:"resolution_seconds"`
	// Buckets count the values above the previous bound up to LESeconds;
	// the last bucket is unbounded and has no LESeconds. They are not
	// cumulative.
	Buckets []IdleBucket `json:"buckets"`
}

// IdleBucket is one bucket of [IdleAtClose].
type IdleBucket struct {
	LESeconds int64 `json:"le_seconds,omitempty"` // 0: no bound (+Inf)
	Count     int   `json:"count"`
}

// ReadReport reads an audit trail, as `journalctl -o json` prints it (one
// JSON object a line; a field's value is a string, null, or an array of
// strings or of byte values when journald keeps it binary or repeated:
// the first string is taken), or as the agent writes it to stderr when no
// journald takes it (log/slog JSON lines with time, msg and the
// SSHWARDEN_ fields; such a line is also found in the MESSAGE of a record
// of sshwarden that has no SSHWARDEN_ACTION, as when the service's stderr
// goes to the journal).
//
// A record's time is __REALTIME_TIMESTAMP when present, else time (RFC
// 3339). Lines that are not audit records of sshwarden, or that cannot be
// read, are counted in Skipped and skipped; so is a warn, warn-failed,
// heeded, close or close-failed record without SSHWARDEN_PID or
// SSHWARDEN_REASON. Each record is counted on its own, in any order.
// ReadReport streams: it keeps the counts, the breakdowns (at most 10,000
// rows each) and a histogram of idle times, not the records. The only
// error is one from reading r.
func ReadReport(r io.Reader, opt ReportOptions) (*Report, error) {
	x := newReportReader(opt)
	br := bufio.NewReaderSize(r, maxReportLine)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			x.skip(SkipTooLong)
		} else if len(line) > 0 {
			x.line(line)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read audit records: %w", err)
		}
	}
	return x.finish(), nil
}

// jsonField is a field's value in a line being read: it may point into the
// line. Empty means absent.
type jsonField []byte

// UnmarshalJSON takes a string, a number's text, or the first string of
// an array (an array of numbers is taken as bytes); anything else is
// absent. A string without a backslash is taken as it is: data must be
// JSON (parse checked where the string ends).
func (f *jsonField) UnmarshalJSON(data []byte) error {
	*f = nil
	if len(data) == 0 {
		return nil
	}
	switch data[0] {
	case '"':
		if len(data) < 2 {
			return errors.New("unterminated string")
		}
		s := data[1 : len(data)-1]
		if bytes.IndexByte(s, '\\') < 0 {
			*f = s // valid JSON without escapes: the bytes are the value
			return nil
		}
		var v string
		if err := json.Unmarshal(data, &v); err != nil {
			return err
		}
		*f = []byte(v)
	case '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(data, &elems); err != nil {
			return err
		}
		if len(elems) == 0 {
			return nil
		}
		if c := elems[0][0]; c == '-' || (c >= '0' && c <= '9') {
			*f = byteArray(data)
			return nil
		}
		for _, e := range elems {
			switch e[0] {
			case '"':
				var v string
				if err := json.Unmarshal(e, &v); err != nil {
					return err
				}
				*f = []byte(v)
				return nil
			case '[':
				*f = byteArray(e)
				return nil
			}
		}
	case 'n', 't', 'f', '{':
	default: // a number
		*f = data
	}
	return nil
}

// byteArray is a JSON array of byte values as bytes, nil when it is not
// one.
func byteArray(data []byte) []byte {
	var v []int
	if json.Unmarshal(data, &v) != nil {
		return nil
	}
	b := make([]byte, 0, len(v))
	for _, n := range v {
		if n < 0 || n > 255 {
			return nil
		}
		b = append(b, byte(n))
	}
	return b
}

// rawRecord is a line's fields that the report uses, named in
// [rawRecord.lookup].
type rawRecord struct {
	Realtime jsonField
	Time     jsonField
	Ident    jsonField
	// Message is MESSAGE as JSON, decoded only when needed.
	Message   []byte
	Action    jsonField
	User      jsonField
	LocalPort jsonField
	PID       jsonField
	Idle      jsonField
	Reason    jsonField
	Rule      jsonField
	DryRun    jsonField
	Dropped   jsonField
	Host      jsonField
	// Boot and Mono (_BOOT_ID, __MONOTONIC_TIMESTAMP; journalctl always
	// prints them) identify a journal entry, with the host.
	Boot jsonField
	Mono jsonField
	// BadAction: SSHWARDEN_ACTION is there but not as one JSON string
	// (an array, another type, or the name twice). journalctl prints a
	// field as an array when the entry has it twice or when its value is
	// not text; the agent writes its action once, as text, so such a
	// record is not one of its own, and which action it would be is
	// anyone's guess.
	BadAction bool
}

// set sets the field name of r, if r has one, to the JSON value v, and
// reports whether v is valid there. *seenAction tells whether
// SSHWARDEN_ACTION came before.
func (r *rawRecord) set(name, v []byte, seenAction *bool) bool {
	if string(name) == "MESSAGE" {
		r.Message = v
		return true
	}
	f := r.lookup(name)
	switch {
	case f == nil:
	case f == &r.Action && (v[0] != '"' || *seenAction):
		// Not one string: the first value of an array (or one of two
		// names) would be an action the record does not have.
		r.Action, r.BadAction = nil, true
	case (f == &r.Realtime || f == &r.Time) && (v[0] == '[' || v[0] == '{'):
		*f = nil // no time either
	default:
		if f.UnmarshalJSON(v) != nil {
			return false
		}
		*seenAction = *seenAction || f == &r.Action
	}
	return true
}

// parse sets r's fields from b, one JSON object, and reports whether b is
// one. It is a scanner of its own, faster than encoding/json, and exact
// about names (encoding/json matches them regardless of case): it checks
// the syntax of the whole line, except the escapes and control characters
// inside strings other than the fields of r, whose values encoding/json
// checks when they are escaped or not strings.
func (r *rawRecord) parse(b []byte) bool {
	seenAction := false
	i := jsonSpace(b, 0)
	if i == len(b) || b[i] != '{' {
		return false
	}
	i = jsonSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return jsonSpace(b, i+1) == len(b)
	}
	for {
		if i == len(b) || b[i] != '"' {
			return false
		}
		end, escaped := jsonString(b, i)
		if end < 0 {
			return false
		}
		name := b[i+1 : end-1]
		if escaped {
			var s string
			if json.Unmarshal(b[i:end], &s) != nil {
				return false
			}
			name = []byte(s)
		}
		i = jsonSpace(b, end)
		if i == len(b) || b[i] != ':' {
			return false
		}
		i = jsonSpace(b, i+1)
		end = jsonValue(b, i)
		if end < 0 {
			return false
		}
		if !r.set(name, b[i:end], &seenAction) {
			return false
		}
		i = jsonSpace(b, end)
		if i == len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = jsonSpace(b, i+1)
		case '}':
			return jsonSpace(b, i+1) == len(b)
		default:
			return false
		}
	}
}

// lookup is r's field of a JSON name, nil for one the report does not use
// or MESSAGE.
// ReportFields are the journal fields [ReadReport] reads, besides the
// ones journalctl always prints (__REALTIME_TIMESTAMP,
// __MONOTONIC_TIMESTAMP, _BOOT_ID): a caller that runs
// `journalctl -o json` passes them to --output-fields, which keeps a large
// export small.
var ReportFields = []string{
	"SYSLOG_IDENTIFIER", "MESSAGE", FieldAction, FieldUser, FieldLocalPort, FieldPID,
	FieldIdleSeconds, FieldReason, FieldRule, FieldDryRun, FieldDropped, "_HOSTNAME",
}

func (r *rawRecord) lookup(name []byte) *jsonField {
	switch string(name) {
	case "__REALTIME_TIMESTAMP":
		return &r.Realtime
	case "time":
		return &r.Time
	case "SYSLOG_IDENTIFIER":
		return &r.Ident
	case FieldAction:
		return &r.Action
	case FieldUser:
		return &r.User
	case FieldLocalPort:
		return &r.LocalPort
	case FieldPID:
		return &r.PID
	case FieldIdleSeconds:
		return &r.Idle
	case FieldReason:
		return &r.Reason
	case FieldRule:
		return &r.Rule
	case FieldDryRun:
		return &r.DryRun
	case FieldDropped:
		return &r.Dropped
	case "_HOSTNAME":
		return &r.Host
	case "_BOOT_ID":
		return &r.Boot
	case "__MONOTONIC_TIMESTAMP":
		return &r.Mono
	}
	return nil
}

// jsonSpace is the index of the first byte at or after i that is not JSON
// white space.
func jsonSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// jsonString is the index after the string that starts at b[i] == '"',
// -1 when it does not end, and whether it has a backslash.
func jsonString(b []byte, i int) (end int, escaped bool) {
	i++
	for {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return -1, escaped
		}
		bs := bytes.IndexByte(b[i:i+q], '\\')
		if bs < 0 {
			return i + q + 1, escaped
		}
		escaped = true
		i += bs + 2 // the backslash and the byte it escapes
		if i > len(b) {
			return -1, escaped
		}
	}
}

// jsonValue is the index after the JSON value that starts at b[i], -1
// when there is none. Inside arrays and objects it checks only that
// strings end and brackets balance.
func jsonValue(b []byte, i int) int {
	if i == len(b) {
		return -1
	}
	switch c := b[i]; {
	case c == '"':
		end, _ := jsonString(b, i)
		return end
	case c == '{' || c == '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end, _ := jsonString(b, i)
				if end < 0 {
					return -1
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	case c == 't':
		return jsonWord(b, i, "true")
	case c == 'f':
		return jsonWord(b, i, "false")
	case c == 'n':
		return jsonWord(b, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return jsonNumber(b, i)
	}
	return -1
}

func jsonWord(b []byte, i int, w string) int {
	if !bytes.HasPrefix(b[i:], []byte(w)) {
		return -1
	}
	return i + len(w)
}

// jsonNumber is the index after the JSON number at b[i], -1 when there is
// none.
func jsonNumber(b []byte, i int) int {
	digits := func() bool {
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > start
	}
	if b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if !digits() {
		return -1
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return -1
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return -1
		}
	}
	return i
}

// rowSet is one breakdown.
type rowSet struct {
	m map[string]*ReportRow
}

// get returns the row of key k, making it if there is room, else the
// OtherKey row.
func (s *rowSet) get(k []byte) *ReportRow {
	if r := s.m[string(k)]; r != nil {
		return r
	}
	k = cutBytes(k, maxReportKey)
	if r := s.m[string(k)]; r != nil {
		return r
	}
	key := string(k)
	if len(s.m) >= maxReportKeys {
		key = OtherKey
		if r := s.m[key]; r != nil {
			return r
		}
	}
	r := &ReportRow{Key: key}
	s.m[key] = r
	return r
}

func (s *rowSet) sorted() []ReportRow {
	rows := make([]ReportRow, 0, len(s.m))
	for _, r := range s.m {
		rows = append(rows, *r)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Closed != rows[j].Closed {
			return rows[i].Closed > rows[j].Closed
		}
		return rows[i].Key < rows[j].Key
	})
	return rows
}

// secondsHist counts values in seconds with a resolution (grain) that
// doubles whenever there are more than maxIdleValues distinct values.
type secondsHist struct {
	grain  int64
	counts map[int64]int
	n      int
	max    int64
}

func (h *secondsHist) add(v int64) {
	if h.counts == nil {
		h.counts, h.grain = map[int64]int{}, 1
	}
	h.n++
	h.max = max(h.max, v)
	h.counts[v-v%h.grain]++
	for len(h.counts) > maxIdleValues {
		h.grain *= 2
		old := h.counts
		h.counts = make(map[int64]int, len(old)/2+1)
		for k, c := range old {
			h.counts[k-k%h.grain] += c
		}
	}
}

// quantile is the nearest-rank percentile p (0 < p <= 100) of the values,
// keys being the keys of counts in increasing order.
func (h *secondsHist) quantile(keys []int64, p int) int64 {
	rank := max((p*h.n+99)/100, 1)
	seen := 0
	for _, k := range keys {
		seen += h.counts[k]
		if seen >= rank {
			return k
		}
	}
	return h.max
}

// reportReader is the state of one ReadReport.
type reportReader struct {
	since, until    int64 // µs
	hasSince        bool
	hasUntil        bool
	loc             *time.Location
	rec, inner      rawRecord
	rep             *Report
	hosts           rowSet
	users           rowSet
	rules           rowSet
	ports           rowSet
	pairs           map[[2]*ReportRow]int // closes by user and rule
	idle            secondsHist
	idleBuckets     [len(idleBuckets) + 1]int
	firstUs, lastUs int64
	recent          recentEntries
	days            map[string]int         // closes by day
	life            map[string][]lifecycle // by host
	lifeN           int
	lastSeen        map[string]int64 // by host: the last record's time, for lifecycle
}

// recentEntries remembers the hashes of the last repeatWindow journal
// entries read, to tell an entry read again.
type recentEntries struct {
	seed maphash.Seed
	ring []uint64
	next int
	seen map[uint64]struct{} // the keys in ring: a repeat is never added, so each once
	key  []byte              // the fields hashed, reused
}

// repeated reports whether the journal entry of r (outer: the journal
// line, which r may be inside) was among the last repeatWindow entries,
// and remembers it. Lines without a boot ID and monotonic time (JSON lines
// from the agent's stderr) are never repeats.
func (e *recentEntries) repeated(outer, r *rawRecord) bool {
	if len(outer.Boot) == 0 || len(outer.Mono) == 0 {
		return false
	}
	if e.seen == nil {
		e.seed = maphash.MakeSeed()
		e.seen = make(map[uint64]struct{}, repeatWindow)
		e.ring = make([]uint64, 0, repeatWindow)
	}
	b := e.key[:0]
	for _, f := range [...]jsonField{outer.Boot, outer.Mono, outer.Realtime, outer.Host, r.Action, r.PID, r.User, r.Reason, r.Rule, r.Idle, r.DryRun} {
		b = append(append(b, f...), 0)
	}
	e.key = b
	k := maphash.Bytes(e.seed, b)
	if _, ok := e.seen[k]; ok {
		return true
	}
	if len(e.ring) < repeatWindow {
		e.ring = append(e.ring, k)
	} else {
		delete(e.seen, e.ring[e.next])
		e.ring[e.next] = k
		e.next = (e.next + 1) % repeatWindow
	}
	e.seen[k] = struct{}{}
	return false
}

func newReportReader(opt ReportOptions) *reportReader {
	x := &reportReader{
		loc: opt.Location,
		rep: &Report{
			Counts:  newCounts(),
			DryRun:  newCounts(),
			Skipped: map[string]int{},
		},
		hosts: rowSet{m: map[string]*ReportRow{}},
		users: rowSet{m: map[string]*ReportRow{}},
		rules: rowSet{m: map[string]*ReportRow{}},
		ports: rowSet{m: map[string]*ReportRow{}},
		pairs: map[[2]*ReportRow]int{},
		days:  map[string]int{},
	}
	if x.loc == nil {
		x.loc = time.Local
	}
	if !opt.Since.IsZero() {
		x.since, x.hasSince = opt.Since.UnixMicro(), true
	}
	if !opt.Until.IsZero() {
		x.until, x.hasUntil = opt.Until.UnixMicro(), true
	}
	return x
}

func newCounts() Counts {
	m := make(map[string]int, len(reasons))
	for _, r := range reasons {
		m[r] = 0
	}
	return Counts{ClosedByReason: m}
}

func (x *reportReader) skip(cause string) { x.rep.Skipped[cause]++ }

// line reads one line.
func (x *reportReader) line(b []byte) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return
	}
	if b[0] != '{' {
		x.skip(SkipMalformed)
		return
	}
	x.rec = rawRecord{}
	if !x.rec.parse(b) {
		x.skip(SkipMalformed)
		return
	}
	r := &x.rec
	if string(r.Ident) != SyslogIdentifier {
		x.skip(SkipOtherProgram)
		return
	}
	if r.BadAction {
		x.skip(SkipMalformed)
		return
	}
	if len(r.Action) == 0 {
		// The agent's stderr, which the service manager put in the
		// journal: maybe a record journald did not take directly.
		var m jsonField
		if len(r.Message) > 0 && m.UnmarshalJSON(r.Message) == nil && len(m) > 0 && m[0] == '{' {
			x.inner = rawRecord{}
			if x.inner.parse(m) && string(x.inner.Ident) == SyslogIdentifier {
				if x.inner.BadAction {
					x.skip(SkipMalformed)
					return
				}
				if len(x.inner.Action) > 0 {
					r = &x.inner
				}
			}
		}
		if len(r.Action) == 0 {
			x.skip(SkipNoAction)
			return
		}
	}
	t, ok := recordTime(r)
	if !ok {
		x.skip(SkipBadTime)
		return
	}
	if x.recent.repeated(&x.rec, r) {
		x.skip(SkipRepeat)
		return
	}
	action := string(r.Action)
	session := false
	switch action {
	case ActionWarn, ActionWarnFailed, ActionHeeded, ActionClose, ActionCloseFailed:
		session = true
		if _, ok := decimal.Parse(r.PID); !ok || len(r.Reason) == 0 {
			x.skip(SkipMissingField)
			return
		}
	}
	if (x.hasSince && t < x.since) || (x.hasUntil && t >= x.until) {
		x.skip(SkipOutOfRange)
		return
	}
	// The host is journald's _HOSTNAME of the line, also for a record
	// found in its MESSAGE: the agent's stderr lines carry none.
	host := x.hosts.get(x.rec.Host)
	switch action {
	case ActionAgentStarted, ActionAgentStopped:
		x.lifecycleRecord(string(x.rec.Host), t, action == ActionAgentStarted)
	}
	if x.lastSeen == nil {
		x.lastSeen = map[string]int64{}
	}
	x.lastSeen[string(x.rec.Host)] = t
	if session {
		x.session(r, t, host)
	} else if action == ActionError {
		if n, ok := decimal.Parse(r.Dropped); ok {
			x.rep.LostRecords += n
		}
	}
	if x.rep.Records == 0 || t < x.firstUs {
		x.firstUs = t
	}
	if x.rep.Records == 0 || t > x.lastUs {
		x.lastUs = t
	}
	x.rep.Records++
}

// recordTime is a record's time in µs since the epoch.
func recordTime(r *rawRecord) (int64, bool) {
	if us, ok := decimal.Parse(r.Realtime); ok {
		return us, true
	}
	if len(r.Time) > 0 {
		if t, err := time.Parse(time.RFC3339Nano, string(r.Time)); err == nil {
			return t.UnixMicro(), true
		}
	}
	return 0, false
}

// cutBytes cuts b to at most n bytes, at a rune boundary.
func cutBytes(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	i := n
	for i > 0 && !utf8.RuneStart(b[i]) {
		i--
	}
	return b[:i]
}

// counts are the counts of real or dry-run actions.
func (x *reportReader) counts(dry bool) *Counts {
	if dry {
		return &x.rep.DryRun
	}
	return &x.rep.Counts
}

// session counts a warn, warn-failed, heeded, close or close-failed record
// at t, of host.
func (x *reportReader) session(r *rawRecord, t int64, host *ReportRow) {
	dry := string(r.DryRun) == "yes"
	action := string(r.Action)
	idle := string(r.Reason) == ReasonIdle

	c := x.counts(dry)
	var user, rule, port *ReportRow
	if !dry {
		user, rule, port = x.users.get(r.User), x.rules.get(r.Rule), x.ports.get(r.LocalPort)
	}
	switch action {
	case ActionWarn:
		c.Warned++
		if !dry {
			host.Warned++
			user.Warned++
			rule.Warned++
			port.Warned++
		}
	case ActionHeeded:
		c.Heeded++
		if !dry {
			host.Heeded++
			user.Heeded++
			rule.Heeded++
			port.Heeded++
		}
	case ActionWarnFailed:
		c.WarnFailed++
	case ActionCloseFailed:
		c.CloseFailed++
		if !dry {
			host.CloseFailed++
			user.CloseFailed++
			rule.CloseFailed++
			port.CloseFailed++
		}
	case ActionClose:
		c.Closed++
		reason := reasonKey(r.Reason)
		if _, ok := c.ClosedByReason[reason]; !ok && len(c.ClosedByReason) >= maxReasons {
			reason = OtherKey
		}
		c.ClosedByReason[reason]++
		if dry {
			return
		}
		host.Closed++
		user.Closed++
		rule.Closed++
		port.Closed++
		if string(r.Reason) == ReasonMaxSessionTime {
			user.maxClosed++
		}
		pair := [2]*ReportRow{user, rule}
		if _, ok := x.pairs[pair]; ok || len(x.pairs) < maxReportKeys {
			x.pairs[pair]++
		}
		at := time.UnixMicro(t).In(x.loc)
		x.rep.ClosesByHour[at.Hour()]++
		day := at.Format(time.DateOnly)
		if _, ok := x.days[day]; ok || len(x.days) < maxReportKeys {
			x.days[day]++
		}
		if v, ok := decimal.Parse(r.Idle); ok && idle {
			x.idle.add(v)
			i := 0
			for i < len(idleBuckets) && v > idleBuckets[i] {
				i++
			}
			x.idleBuckets[i]++
		}
	}
}

// reasonKey is the key of closed_by_reason for a reason: the constant
// for a known one, which saves an allocation.
func reasonKey(b []byte) string {
	for _, r := range reasons {
		if string(b) == r {
			return r
		}
	}
	return string(cutBytes(b, maxReportKey))
}

// finish builds the report.
func (x *reportReader) finish() *Report {
	rep := x.rep
	rep.loc = x.loc
	rep.TimeZone = x.loc.String()
	if x.loc == time.Local {
		// "Local" says nothing to a reader: name the zone (UTC, CET...).
		rep.TimeZone, _ = time.Now().In(x.loc).Zone()
	}
	if rep.Records > 0 {
		rep.First = time.UnixMicro(x.firstUs).In(x.loc)
		rep.Last = time.UnixMicro(x.lastUs).In(x.loc)
	}
	rep.ByHost = x.hosts.sorted()
	rep.ByUser = x.users.sorted()
	rep.ByRule = x.rules.sorted()
	rep.ByLocalPort = x.ports.sorted()

	ia := IdleAtClose{Count: x.idle.n, MaxSeconds: x.idle.max, ResolutionSeconds: max(x.idle.grain, 1)}
	if x.idle.n > 0 {
		keys := make([]int64, 0, len(x.idle.counts))
		for k := range x.idle.counts {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
		ia.MedianSeconds = x.idle.quantile(keys, 50)
		ia.P90Seconds = x.idle.quantile(keys, 90)
	}
	for i, n := range x.idleBuckets {
		b := IdleBucket{Count: n}
		if i < len(idleBuckets) {
			b.LESeconds = idleBuckets[i]
		}
		ia.Buckets = append(ia.Buckets, b)
	}
	rep.IdleAtClose = ia
	rep.Suggestions = x.suggest()
	rep.Gaps = x.gaps()
	rep.ClosesByDay = []DayCount{}
	for d, n := range x.days {
		rep.ClosesByDay = append(rep.ClosesByDay, DayCount{d, n})
	}
	sort.Slice(rep.ClosesByDay, func(i, j int) bool { return rep.ClosesByDay[i].Day < rep.ClosesByDay[j].Day })
	return rep
}

// DayCount is a number of closes on a day ("2026-12-07").
type DayCount struct {
	Day    string `json:"day"`
	Closes int    `json:"closes"`
}

// Gap is a period the agent did not run on a host: no session was
// watched, warned or closed there.
type Gap struct {
	Host string `json:"host"`
	// From is the agent-stopped record that began it. For an agent that
	// ended without one (killed, crashed, the machine lost power), Clean
	// is false and From is the host's last record before the next start,
	// the latest time the agent is known to have run (zero when none was
	// read).
	From  time.Time `json:"from,omitzero"`
	Clean bool      `json:"clean"`
	// To is the agent-started record that ended it; zero when the agent
	// had not started again by the end of the records read.
	To time.Time `json:"to,omitzero"`
}

// lifecycle is an agent-started or agent-stopped record of a host, with
// the time of the host's last record read before it.
type lifecycle struct {
	t, before int64 // µs; before is 0 when no record came before
	start     bool
}

// maxLifecycle bounds the lifecycle records kept for Gaps.
const maxLifecycle = 10000

// lifecycleRecord keeps an agent-started or agent-stopped record of host
// at t.
func (x *reportReader) lifecycleRecord(host string, t int64, start bool) {
	if x.lifeN >= maxLifecycle {
		x.rep.GapsTruncated = true
		return
	}
	if x.life == nil {
		x.life = map[string][]lifecycle{}
	}
	x.lifeN++
	x.life[host] = append(x.life[host], lifecycle{t: t, before: x.lastSeen[host], start: start})
}

// gaps turns the lifecycle records of each host into the periods the
// agent did not run.
func (x *reportReader) gaps() []Gap {
	out := []Gap{}
	hosts := make([]string, 0, len(x.life))
	for h := range x.life {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	at := func(us int64) time.Time {
		if us == 0 {
			return time.Time{}
		}
		return time.UnixMicro(us).In(x.loc)
	}
	for _, h := range hosts {
		ev := x.life[h]
		sort.SliceStable(ev, func(i, j int) bool { return ev[i].t < ev[j].t })
		running := false // known to run: a start was read, and no stop since
		var open *Gap
		for i, e := range ev {
			switch {
			case !e.start && running:
				running = false
				out = append(out, Gap{Host: h, From: at(e.t), Clean: true})
				open = &out[len(out)-1]
			case !e.start:
				// A stop with no start before it: it ran before the range.
				out = append(out, Gap{Host: h, From: at(e.t), Clean: true})
				open = &out[len(out)-1]
			case open != nil:
				open.To, open, running = at(e.t), nil, true
			case running || i == 0 && e.before != 0:
				// A start while running (or after other records): the
				// previous run ended without a stop record.
				out = append(out, Gap{Host: h, From: at(e.before), To: at(e.t)})
				running = true
			default:
				running = true // the first run seen
			}
		}
	}
	return out
}

// percentOf is 100*a/b rounded.
func percentOf(a, b int) int {
	if b == 0 {
		return 0
	}
	return (a*200 + b) / (2 * b)
}

// pluralN is "1 thing" or "N things".
func pluralN(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// suggest derives the hints of the report from its numbers.
func (x *reportReader) suggest() []string {
	rep := x.rep
	out := []string{}

	// Rules whose warnings were mostly heeded: many heeded records for
	// their warn records.
	var heededRules []ReportRow
	for _, r := range rep.ByRule {
		if r.Warned >= 10 && r.Heeded*100 >= 60*r.Warned {
			heededRules = append(heededRules, r)
		}
	}
	sort.SliceStable(heededRules, func(i, j int) bool {
		a, b := heededRules[i], heededRules[j]
		if a.Heeded*b.Warned != b.Heeded*a.Warned {
			return a.Heeded*b.Warned > b.Heeded*a.Warned
		}
		return a.Key < b.Key
	})
	for i, r := range heededRules {
		if i == reportSuggest {
			out = append(out, fmt.Sprintf("%s more like these: see the rule table.", pluralN(len(heededRules)-i, "rule", "rules")))
			break
		}
		out = append(out, fmt.Sprintf("Rule %s: %d heeded records for its %d warnings (%d%%): input came after the warning, calling off the close. People seem to be at their keyboards when warned, so the limit may be short for how these sessions are used.",
			printableKey(r.Key, "default"), r.Heeded, r.Warned, percentOf(r.Heeded, r.Warned)))
	}

	// Users with many closes under one rule.
	type pairCount struct {
		user, rule *ReportRow
		n          int
	}
	var pairs []pairCount
	for p, n := range x.pairs {
		if n >= 5 && p[0].Key != OtherKey && p[1].Key != OtherKey {
			pairs = append(pairs, pairCount{p[0], p[1], n})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		a, b := pairs[i], pairs[j]
		if a.n != b.n {
			return a.n > b.n
		}
		if a.user.Key != b.user.Key {
			return a.user.Key < b.user.Key
		}
		return a.rule.Key < b.rule.Key
	})
	for i, p := range pairs {
		if i == reportSuggest {
			out = append(out, fmt.Sprintf("%s more with 5 or more closes under one rule: see the user table.", pluralN(len(pairs)-i, "user", "users")))
			break
		}
		out = append(out, fmt.Sprintf("User %s had %d of the %d closes under rule %s (%d%%). The limit may not fit how this user works (a Match User block can set another), or the user leaves sessions open; worth a look before changing the rule.",
			printableKey(p.user.Key, "-"), p.n, p.rule.Closed, printableKey(p.rule.Key, "default"), percentOf(p.n, p.rule.Closed)))
	}

	// Closes at the maximum session time.
	if n := rep.ClosedByReason[ReasonMaxSessionTime]; n > 0 {
		var users []ReportRow
		for _, u := range rep.ByUser {
			if u.maxClosed > 0 {
				users = append(users, u)
			}
		}
		sort.SliceStable(users, func(i, j int) bool { return users[i].maxClosed > users[j].maxClosed })
		var names []string
		for i, u := range users {
			if i == reportSuggest {
				names = append(names, fmt.Sprintf("and %d more", len(users)-i))
				break
			}
			names = append(names, fmt.Sprintf("%s %d", printableKey(u.Key, "-"), u.maxClosed))
		}
		out = append(out, fmt.Sprintf("%s closed at the maximum session time (max-session-time), of %s: %s. Work still running was cut off, active or not; check that these users expect the limit.",
			pluralN(n, "session was", "sessions were"), pluralN(len(users), "user", "users"), strings.Join(names, ", ")))
	}
	if n := rep.CloseFailed; n > 0 {
		out = append(out, fmt.Sprintf("%s (close-failed): those sessions stayed open past their limit. `journalctl MESSAGE_ID=%s` shows why.",
			pluralN(n, "close failed", "closes failed"), MessageIDCloseFailed))
	}
	if n := rep.WarnFailed; n > 0 {
		out = append(out, fmt.Sprintf("%s (warn-failed): those users got no notice before their session was closed (sftp and ssh -N sessions cannot be warned). `journalctl MESSAGE_ID=%s` shows why.",
			pluralN(n, "warning could not be written", "warnings could not be written"), MessageIDWarnFailed))
	}
	if n := rep.LostRecords; n > 0 {
		out = append(out, fmt.Sprintf("The agent reported %d lost audit records (SSHWARDEN_DROPPED in its error records): the counts above may be low.", n))
	}
	return out
}

// printableKey makes a key from the records (a user name, a rule: hostile
// input) safe to print on a terminal: at most 80 bytes, and quoted as a Go
// string when it holds anything but printable characters other than
// space and '"'. empty stands for "".
func printableKey(s, empty string) string {
	if s == "" {
		return empty
	}
	more := ""
	if len(s) > 80 {
		s, more = string(cutBytes([]byte(s), 77)), "..."
	}
	for i, r := range s {
		if r == ' ' || r == '"' || !strconv.IsPrint(r) || (r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD")) {
			return strconv.Quote(s) + more
		}
	}
	return s + more
}

// FormatSeconds formats a number of seconds as 1h2m3s, leaving out zero
// parts ("0s" for none): the report's times, and the evidence's.
func FormatSeconds(s int64) string {
	if s <= 0 {
		return "0s"
	}
	var b strings.Builder
	if h := s / 3600; h > 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if m := s / 60 % 60; m > 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	if sec := s % 60; sec > 0 {
		fmt.Fprintf(&b, "%ds", sec)
	}
	return b.String()
}

// histBar is n's bar of '#' after a space, scaled so that top fills barWidth
// columns; any n above 0 gets at least one '#', 0 none.
func histBar(n, top int) string {
	if n <= 0 || top <= 0 {
		return ""
	}
	return " " + strings.Repeat("#", max(1, (n*barWidth+top/2)/top))
}

// reportWriter keeps the first error of its writes.
type reportWriter struct {
	w   io.Writer
	err error
}

func (e *reportWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return len(p), nil
	}
	_, e.err = e.w.Write(p)
	return len(p), nil
}

func (e *reportWriter) printf(format string, a ...any) { fmt.Fprintf(e, format, a...) }

// WriteText writes r for a terminal: the totals, the dry-run counts, a
// table per host (only when the records come from more than one host: a
// central journal), per user, rule and local port, the idle time at close,
// closes by hour of day, the suggestions, and the lines skipped. Names from
// the records are made printable.
func (r *Report) WriteText(w io.Writer) error {
	ew := &reportWriter{w: w}
	loc := r.loc
	if loc == nil {
		loc = time.Local
	}
	const stamp = "2006-01-02 15:04:05 MST"
	if r.Records == 0 {
		ew.printf("No audit records of sshwarden in the input.\n")
	} else {
		ew.printf("Audit records from %s to %s: %d.\n", r.First.In(loc).Format(stamp), r.Last.In(loc).Format(stamp), r.Records)
	}
	ew.printf("\n")
	ew.printf("Warned        %6d  (heeded %d: input came after an idle warning, calling off its close)\n", r.Warned, r.Heeded)
	ew.printf("Closed        %6d  (%s)\n", r.Closed, byReason(r.ClosedByReason))
	ew.printf("Warn failed   %6d\n", r.WarnFailed)
	ew.printf("Close failed  %6d\n", r.CloseFailed)
	if r.LostRecords > 0 {
		ew.printf("Lost records  %6d  (reported by the agent: SSHWARDEN_DROPPED)\n", r.LostRecords)
	}
	d := r.DryRun
	ew.printf("Dry run (SSHWARDEN_DRY_RUN=yes), not counted above: warned %d (heeded %d), closed %d (%s), warn failed %d, close failed %d.\n",
		d.Warned, d.Heeded, d.Closed, byReason(d.ClosedByReason), d.WarnFailed, d.CloseFailed)

	type table struct {
		title, empty string
		rows         []ReportRow
	}
	var tables []table
	if len(r.ByHost) > 1 {
		tables = append(tables, table{"HOST", "-", r.ByHost})
	}
	for _, t := range append(tables, []table{
		{"USER", "-", r.ByUser},
		{"RULE", "default", r.ByRule},
		{"LOCAL PORT", "-", r.ByLocalPort},
	}...) {
		ew.printf("\n")
		if len(t.rows) == 0 {
			ew.printf("%s: none\n", t.title)
			continue
		}
		rows := t.rows[:min(len(t.rows), reportRows)]
		keys := make([]string, len(rows))
		width := utf8.RuneCountInString(t.title)
		for i, row := range rows {
			keys[i] = printableKey(row.Key, t.empty)
			width = max(width, utf8.RuneCountInString(keys[i]))
		}
		pad := func(s string) string { return s + strings.Repeat(" ", width-utf8.RuneCountInString(s)) }
		ew.printf("%s  WARNED  CLOSED  HEEDED  CLOSE-FAILED\n", pad(t.title))
		for i, row := range rows {
			ew.printf("%s  %6d  %6d  %6d  %12d\n", pad(keys[i]), row.Warned, row.Closed, row.Heeded, row.CloseFailed)
		}
		if n := len(t.rows) - reportRows; n > 0 {
			ew.printf("(and %d more)\n", n)
		}
	}

	ia := r.IdleAtClose
	ew.printf("\nIdle time at idle closes: ")
	if ia.Count == 0 {
		ew.printf("none\n")
	} else {
		exact := ""
		if ia.ResolutionSeconds > 1 {
			exact = fmt.Sprintf(" (to %s)", FormatSeconds(ia.ResolutionSeconds))
		}
		ew.printf("%s, median %s, p90 %s, max %s%s\n", pluralN(ia.Count, "close", "closes"), FormatSeconds(ia.MedianSeconds), FormatSeconds(ia.P90Seconds), FormatSeconds(ia.MaxSeconds), exact)
		top := 0
		for _, b := range ia.Buckets {
			top = max(top, b.Count)
		}
		var prev int64
		for _, b := range ia.Buckets {
			label := "over " + FormatSeconds(prev)
			switch {
			case b.LESeconds > 0 && prev == 0:
				label = "up to " + FormatSeconds(b.LESeconds)
			case b.LESeconds > 0:
				label = FormatSeconds(prev) + " to " + FormatSeconds(b.LESeconds)
			}
			ew.printf("  %-12s %6d%s\n", label, b.Count, histBar(b.Count, top))
			prev = b.LESeconds
		}
	}

	zone := r.TimeZone
	if zone == "" {
		zone = loc.String()
	}
	ew.printf("\nCloses by hour of day (%s):\n", printableKey(zone, "-"))
	top := 0
	for _, n := range r.ClosesByHour {
		top = max(top, n)
	}
	for h, n := range r.ClosesByHour {
		ew.printf("  %02d %6d%s\n", h, n, histBar(n, top))
	}

	ew.printf("\nSuggestions (hints from the numbers, not verdicts):\n")
	if len(r.Suggestions) == 0 {
		ew.printf("  none\n")
	}
	for _, s := range r.Suggestions {
		ew.printf("  - %s\n", s)
	}

	ew.printf("\nSkipped lines: ")
	causes := make([]string, 0, len(r.Skipped))
	total := 0
	for c, n := range r.Skipped {
		if n > 0 {
			causes = append(causes, c)
			total += n
		}
	}
	sort.Strings(causes)
	if total == 0 {
		ew.printf("none\n")
	} else {
		parts := make([]string, len(causes))
		for i, c := range causes {
			parts[i] = fmt.Sprintf("%d %s", r.Skipped[c], printableKey(c, "-"))
		}
		ew.printf("%d (%s)\n", total, strings.Join(parts, ", "))
	}
	return ew.err
}

// byReason is "idle 3, max-session-time 1".
func byReason(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		// The known reasons first, in their order.
		ri, rj := reasonRank(keys[i]), reasonRank(keys[j])
		if ri != rj {
			return ri < rj
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", printableKey(k, "-"), m[k])
	}
	return strings.Join(parts, ", ")
}

func reasonRank(r string) int {
	for i, k := range reasons {
		if k == r {
			return i
		}
	}
	return len(reasons)
}
