package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sshwarden/sshwarden/watcher"
)

// reportBase is the time of the records at second 0 of a crafted trail:
// 2026-11-22T12:00:00Z.
const reportBase = 1795348800

// jline is a record as `journalctl -o json` prints it, at second sec of
// the trail: __REALTIME_TIMESTAMP, SYSLOG_IDENTIFIER=sshwarden and the
// fields kv ("NAME=VALUE"; a later one wins, "NAME=" leaves NAME out).
func jline(sec int64, kv ...string) string {
	m := map[string]string{
		"__REALTIME_TIMESTAMP": strconv.FormatInt((reportBase+sec)*1000000, 10),
		"SYSLOG_IDENTIFIER":    "sshwarden",
	}
	for _, f := range kv {
		name, value, _ := strings.Cut(f, "=")
		if value == "" {
			delete(m, name)
		} else {
			m[name] = value
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// act is a record of a session action of sshd process pid at second sec:
// idle, user alice, rule /etc/sshwarden/policy.conf:36, port 22, limit
// 900 s and idle 840 s (a warning 60 s before the close), 900 s (close)
// or 5 s (heeded: input just came), then kv.
func act(sec int64, action, pid string, kv ...string) string {
	idle := "840"
	switch action {
	case ActionClose, ActionCloseFailed:
		idle = "900"
	case ActionHeeded:
		idle = "5"
	}
	f := []string{
		"SSHWARDEN_ACTION=" + action,
		"MESSAGE_ID=" + MessageID(action),
		"SSHWARDEN_PID=" + pid,
		"SSHWARDEN_REASON=idle",
		"SSHWARDEN_USER=alice",
		"SSHWARDEN_RULE=/etc/sshwarden/policy.conf:36",
		"SSHWARDEN_LOCAL_PORT=22",
		"SSHWARDEN_IDLE_SECONDS=" + idle,
		"SSHWARDEN_LIMIT_SECONDS=900",
	}
	return jline(sec, append(f, kv...)...)
}

// tick is a record of no session at second sec.
func tick(sec int64) string { return jline(sec, "SSHWARDEN_ACTION=policy-loaded") }

func reasonCounts(idle, maxTime int) map[string]int {
	return map[string]int{ReasonIdle: idle, ReasonMaxSessionTime: maxTime}
}

// noCounts are the counts of nothing.
func noCounts() Counts { return Counts{ClosedByReason: reasonCounts(0, 0)} }

func readLines(t *testing.T, lines []string, opt ReportOptions) *Report {
	t.Helper()
	rep, err := ReadReport(strings.NewReader(strings.Join(lines, "\n")+"\n"), opt)
	if err != nil {
		t.Fatalf("ReadReport: %v", err)
	}
	return rep
}

var reportCmp = cmpopts.IgnoreUnexported(ReportRow{})

func TestReadReport(t *testing.T) {
	t.Parallel()
	alice := func(warned, closed, heeded, closeFailed int) []ReportRow {
		return []ReportRow{{Key: "alice", Warned: warned, Closed: closed, Heeded: heeded, CloseFailed: closeFailed}}
	}
	long := strings.Repeat("x", 2<<20)
	nearLimit := strings.Repeat("y", 1000000)
	tests := []struct {
		name    string
		lines   []string
		opt     ReportOptions
		want    Counts
		dry     Counts         // zero: noCounts()
		skipped map[string]int // nil: none
		records int
		byUser  []ReportRow // nil: not checked
		check   func(t *testing.T, rep *Report)
	}{{
		name:    "warn then close",
		lines:   []string{act(0, "warn", "100"), act(60, "close", "100")},
		want:    Counts{Warned: 1, Closed: 1, ClosedByReason: reasonCounts(1, 0)},
		records: 2,
		byUser:  alice(1, 1, 0, 0),
		check: func(t *testing.T, rep *Report) {
			if got, want := rep.First, time.Unix(reportBase, 0); !got.Equal(want) {
				t.Errorf("First = %v, want %v", got, want)
			}
			if got, want := rep.Last, time.Unix(reportBase+60, 0); !got.Equal(want) {
				t.Errorf("Last = %v, want %v", got, want)
			}
		},
	}, {
		name: "warn, heeded, warn, close",
		lines: []string{
			act(0, "warn", "100"),
			act(30, "heeded", "100"),
			act(900, "warn", "100"),
			act(960, "close", "100"),
		},
		want:    Counts{Warned: 2, Closed: 1, Heeded: 1, ClosedByReason: reasonCounts(1, 0)},
		records: 4,
		byUser:  alice(2, 1, 1, 0),
		check: func(t *testing.T, rep *Report) {
			want := []ReportRow{{Key: "/etc/sshwarden/policy.conf:36", Warned: 2, Closed: 1, Heeded: 1}}
			if diff := cmp.Diff(want, rep.ByRule, reportCmp); diff != "" {
				t.Errorf("ByRule (-want +got):\n%s", diff)
			}
			want = []ReportRow{{Key: "22", Warned: 2, Closed: 1, Heeded: 1}}
			if diff := cmp.Diff(want, rep.ByLocalPort, reportCmp); diff != "" {
				t.Errorf("ByLocalPort (-want +got):\n%s", diff)
			}
		},
	}, {
		// Nothing is inferred: a warning without a heeded record is not
		// heeded, however long the trail goes on without a close.
		name:    "warn, then neither heeded nor closed",
		lines:   []string{act(0, "warn", "100"), tick(100000)},
		want:    Counts{Warned: 1, ClosedByReason: reasonCounts(0, 0)},
		records: 2,
		byUser:  alice(1, 0, 0, 0),
	}, {
		// Each record counts on its own: order and restarts do not matter.
		name: "records counted on their own",
		lines: []string{
			act(100, "heeded", "100"),
			jline(50, "SSHWARDEN_ACTION=agent-stopped"),
			jline(51, "SSHWARDEN_ACTION=agent-started"),
			act(0, "warn", "100"),
			act(200, "heeded", "200"), // its warning is not in the trail
		},
		want:    Counts{Warned: 1, Heeded: 2, ClosedByReason: reasonCounts(0, 0)},
		records: 5,
		byUser:  alice(1, 0, 2, 0),
	}, {
		name: "per user, rule and port",
		lines: []string{
			act(0, "warn", "100"),
			act(10, "heeded", "100"),
			act(0, "warn", "200", "SSHWARDEN_USER=bob", "SSHWARDEN_RULE=/p:7", "SSHWARDEN_LOCAL_PORT=2222"),
			act(60, "close", "200", "SSHWARDEN_USER=bob", "SSHWARDEN_RULE=/p:7", "SSHWARDEN_LOCAL_PORT=2222"),
			act(0, "warn", "300", "SSHWARDEN_USER=bob", "SSHWARDEN_RULE=", "SSHWARDEN_LOCAL_PORT="),
			act(20, "heeded", "300", "SSHWARDEN_USER=bob", "SSHWARDEN_RULE=", "SSHWARDEN_LOCAL_PORT="),
			act(0, "close-failed", "400", "SSHWARDEN_USER=carol", "SSHWARDEN_REASON=max-session-time", "SSHWARDEN_RULE=/p:9"),
		},
		want:    Counts{Warned: 3, Closed: 1, Heeded: 2, CloseFailed: 1, ClosedByReason: reasonCounts(1, 0)},
		records: 7,
		byUser: []ReportRow{
			{Key: "bob", Warned: 2, Closed: 1, Heeded: 1},
			{Key: "alice", Warned: 1, Heeded: 1},
			{Key: "carol", CloseFailed: 1},
		},
		check: func(t *testing.T, rep *Report) {
			want := []ReportRow{
				{Key: "/p:7", Warned: 1, Closed: 1},
				{Key: "", Warned: 1, Heeded: 1},
				{Key: "/etc/sshwarden/policy.conf:36", Warned: 1, Heeded: 1},
				{Key: "/p:9", CloseFailed: 1},
			}
			if diff := cmp.Diff(want, rep.ByRule, reportCmp); diff != "" {
				t.Errorf("ByRule (-want +got):\n%s", diff)
			}
			want = []ReportRow{
				{Key: "2222", Warned: 1, Closed: 1},
				{Key: "", Warned: 1, Heeded: 1},
				{Key: "22", Warned: 1, Heeded: 1, CloseFailed: 1},
			}
			if diff := cmp.Diff(want, rep.ByLocalPort, reportCmp); diff != "" {
				t.Errorf("ByLocalPort (-want +got):\n%s", diff)
			}
		},
	}, {
		name: "dry run kept apart",
		lines: []string{
			act(0, "warn", "100", "SSHWARDEN_DRY_RUN=yes"),
			act(20, "heeded", "100", "SSHWARDEN_DRY_RUN=yes"),
			act(900, "warn", "100", "SSHWARDEN_DRY_RUN=yes"),
			act(960, "close", "100", "SSHWARDEN_DRY_RUN=yes"),
			act(970, "close-failed", "100", "SSHWARDEN_DRY_RUN=yes"),
			act(980, "warn-failed", "300", "SSHWARDEN_DRY_RUN=yes"),
			act(10, "warn", "200"),
			act(40, "heeded", "200"),
			act(50, "warn", "400", "SSHWARDEN_DRY_RUN=no"), // not yes: real
		},
		want:    Counts{Warned: 2, Heeded: 1, ClosedByReason: reasonCounts(0, 0)},
		dry:     Counts{Warned: 2, Closed: 1, Heeded: 1, WarnFailed: 1, CloseFailed: 1, ClosedByReason: reasonCounts(1, 0)},
		records: 9,
		byUser:  alice(2, 0, 1, 0),
		check: func(t *testing.T, rep *Report) {
			if rep.IdleAtClose.Count != 0 || rep.ClosesByHour != [24]int{} {
				t.Errorf("dry-run close in IdleAtClose %+v or ClosesByHour %v", rep.IdleAtClose, rep.ClosesByHour)
			}
			if len(rep.Suggestions) != 0 {
				t.Errorf("Suggestions = %q, want none (dry-run failures are not real ones)", rep.Suggestions)
			}
		},
	}, {
		name:    "a heeded record in a dry run",
		lines:   []string{act(0, "heeded", "100", "SSHWARDEN_DRY_RUN=yes")},
		want:    noCounts(),
		dry:     Counts{Heeded: 1, ClosedByReason: reasonCounts(0, 0)},
		records: 1,
		check: func(t *testing.T, rep *Report) {
			if len(rep.ByUser) != 0 || len(rep.ByRule) != 0 || len(rep.ByLocalPort) != 0 {
				t.Errorf("ByUser, ByRule, ByLocalPort = %v, %v, %v; want none for a dry run", rep.ByUser, rep.ByRule, rep.ByLocalPort)
			}
		},
	}, {
		name: "close failed",
		lines: []string{
			act(0, "warn", "100"),
			act(60, "close-failed", "100", "SSHWARDEN_ERROR=operation not permitted"),
		},
		want:    Counts{Warned: 1, CloseFailed: 1, ClosedByReason: reasonCounts(0, 0)},
		records: 2,
		byUser:  alice(1, 0, 0, 1),
		check: func(t *testing.T, rep *Report) {
			want := []string{"1 close failed (close-failed): those sessions stayed open past their limit. `journalctl MESSAGE_ID=da2b86b38ef2464eb49c34bf450d7e12` shows why."}
			if diff := cmp.Diff(want, rep.Suggestions); diff != "" {
				t.Errorf("Suggestions (-want +got):\n%s", diff)
			}
		},
	}, {
		// The agent records input after a warning it could not write too.
		name: "warn failed",
		lines: []string{
			act(0, "warn-failed", "100", "SSHWARDEN_KIND=notty"),
			act(30, "heeded", "100", "SSHWARDEN_KIND=notty"),
			act(900, "warn-failed", "100", "SSHWARDEN_KIND=notty"),
			act(960, "close", "100", "SSHWARDEN_KIND=notty"),
		},
		want:    Counts{WarnFailed: 2, Closed: 1, Heeded: 1, ClosedByReason: reasonCounts(1, 0)},
		records: 4,
		byUser:  alice(0, 1, 1, 0),
	}, {
		name: "max-session-time",
		lines: []string{
			act(0, "warn", "300", "SSHWARDEN_REASON=max-session-time", "SSHWARDEN_USER=bob", "SSHWARDEN_LIMIT_SECONDS=28800", "SSHWARDEN_IDLE_SECONDS="),
			act(60, "close", "300", "SSHWARDEN_REASON=max-session-time", "SSHWARDEN_USER=bob", "SSHWARDEN_LIMIT_SECONDS=28800", "SSHWARDEN_IDLE_SECONDS="),
			act(0, "warn", "400"),
			act(30, "close", "400", "SSHWARDEN_REASON=max-session-time", "SSHWARDEN_LIMIT_SECONDS=28800"),
			act(0, "warn", "500"),
			act(10, "warn", "500", "SSHWARDEN_REASON=max-session-time"),
			act(60, "close", "500"),
		},
		want:    Counts{Warned: 4, Closed: 3, ClosedByReason: reasonCounts(1, 2)},
		records: 7,
		check: func(t *testing.T, rep *Report) {
			want := []string{"2 sessions were closed at the maximum session time (max-session-time), of 2 users: alice 1, bob 1. Work still running was cut off, active or not; check that these users expect the limit."}
			if diff := cmp.Diff(want, rep.Suggestions); diff != "" {
				t.Errorf("Suggestions (-want +got):\n%s", diff)
			}
			if rep.IdleAtClose.Count != 1 {
				t.Errorf("IdleAtClose.Count = %d, want 1 (the idle close only)", rep.IdleAtClose.Count)
			}
		},
	}, {
		name: "records of other programs",
		lines: []string{
			`{"__REALTIME_TIMESTAMP":"1795348800000000","SYSLOG_IDENTIFIER":"sshd","MESSAGE":"Accepted publickey for alice"}`,
			`{"__REALTIME_TIMESTAMP":"1795348800000000","MESSAGE":"kernel: eth0 up"}`,
			`{"__REALTIME_TIMESTAMP":"1795348800000000","SYSLOG_IDENTIFIER":"sshwarden-evil","SSHWARDEN_ACTION":"close","SSHWARDEN_PID":"1","SSHWARDEN_REASON":"idle"}`,
			act(0, "heeded", "100", "SYSLOG_IDENTIFIER=logger"),
			act(0, "warn", "100", "SYSLOG_IDENTIFIER="),
			`{"__REALTIME_TIMESTAMP":"1795348800000000","SYSLOG_IDENTIFIER":"sshwarden","MESSAGE":"panic: runtime error"}`,
			act(0, "close", "100"),
		},
		want:    Counts{Closed: 1, ClosedByReason: reasonCounts(1, 0)},
		skipped: map[string]int{SkipOtherProgram: 5, SkipNoAction: 1},
		records: 1,
	}, {
		name: "malformed lines",
		lines: []string{
			`{"SYSLOG_IDENTIFIER":`,
			`not json`,
			`[1,2]`,
			`null`,
			`{"SYSLOG_IDENTIFIER":"sshwarden"}{}`,
			`{"SYSLOG_IDENTIFIER":"sshwarden","SSHWARDEN_USER":"\ud800\x"}`,
			act(0, "heeded", "100")[:40],
			`{}`,
			``,
			"   ",
			act(0, "close", "100") + "\r",
		},
		want:    Counts{Closed: 1, ClosedByReason: reasonCounts(1, 0)},
		skipped: map[string]int{SkipMalformed: 7, SkipOtherProgram: 1},
		records: 1,
	}, {
		name: "a 2 MiB line",
		lines: []string{
			act(0, "warn", "100"),
			`{"SYSLOG_IDENTIFIER":"sshwarden","MESSAGE":"` + long + `"}`,
			act(10, "close", "100", "MESSAGE="+nearLimit),
		},
		want:    Counts{Warned: 1, Closed: 1, ClosedByReason: reasonCounts(1, 0)},
		skipped: map[string]int{SkipTooLong: 1},
		records: 2,
	}, {
		name: "array-valued fields",
		lines: []string{
			// SYSLOG_IDENTIFIER as bytes, a repeated SSHWARDEN_USER, a
			// binary SSHWARDEN_RULE in an array, a number for the port,
			// MESSAGE null, an object where a string belongs.
			`{"__REALTIME_TIMESTAMP":"1795348800000000","SYSLOG_IDENTIFIER":[115,115,104,119,97,114,100,101,110],"SSHWARDEN_ACTION":"close",` +
				`"SSHWARDEN_PID":"100","SSHWARDEN_REASON":"idle","SSHWARDEN_USER":["alice","mallory"],"SSHWARDEN_RULE":[[47,114,58,49],"/s:2"],` +
				`"SSHWARDEN_LOCAL_PORT":22,"MESSAGE":null,"SSHWARDEN_IDLE_SECONDS":{"x":1},"_BOOT_ID":[]}`,
			// An empty array is no PID; bytes out of range are no reason.
			`{"__REALTIME_TIMESTAMP":"1795348800000000","SYSLOG_IDENTIFIER":"sshwarden","SSHWARDEN_ACTION":"close","SSHWARDEN_PID":[],"SSHWARDEN_REASON":"idle"}`,
			`{"__REALTIME_TIMESTAMP":"1795348800000000","SYSLOG_IDENTIFIER":"sshwarden","SSHWARDEN_ACTION":"close","SSHWARDEN_PID":"7","SSHWARDEN_REASON":[1000,-1]}`,
			// Arrays of other things: true, nested objects.
			`{"__REALTIME_TIMESTAMP":"1795348800000000","SYSLOG_IDENTIFIER":"sshwarden","SSHWARDEN_ACTION":"close","SSHWARDEN_PID":"7","SSHWARDEN_REASON":[true,{"a":1}]}`,
		},
		want:    Counts{Closed: 1, ClosedByReason: reasonCounts(1, 0)},
		skipped: map[string]int{SkipMissingField: 3},
		records: 1,
		byUser:  alice(0, 1, 0, 0),
		check: func(t *testing.T, rep *Report) {
			if len(rep.ByRule) != 1 || rep.ByRule[0].Key != "/r:1" {
				t.Errorf("ByRule = %+v, want the key /r:1", rep.ByRule)
			}
			if len(rep.ByLocalPort) != 1 || rep.ByLocalPort[0].Key != "22" {
				t.Errorf("ByLocalPort = %+v, want the key 22", rep.ByLocalPort)
			}
			if rep.IdleAtClose.Count != 0 {
				t.Errorf("IdleAtClose.Count = %d, want 0 (no idle time)", rep.IdleAtClose.Count)
			}
		},
	}, {
		// journalctl prints a field as an array when an entry has it
		// twice or when it is not text: the agent writes its action
		// once, as text. The first value of such an array is no action
		// of the record, and its time (here 1970) no time of the
		// period.
		name: "an action that is not one string",
		lines: []string{
			act(0, "close", "100"),
			`{"__REALTIME_TIMESTAMP":"0","SYSLOG_IDENTIFIER":"sshwarden","SSHWARDEN_ACTION":["close","warn"],"SSHWARDEN_PID":"7","SSHWARDEN_REASON":"idle"}`,
			`{"__REALTIME_TIMESTAMP":"0","SYSLOG_IDENTIFIER":"sshwarden","SSHWARDEN_ACTION":["close"],"SSHWARDEN_PID":"7","SSHWARDEN_REASON":"idle"}`,
			`{"__REALTIME_TIMESTAMP":"0","SYSLOG_IDENTIFIER":"sshwarden","SSHWARDEN_ACTION":[99,108,111,115,101],"SSHWARDEN_PID":"7","SSHWARDEN_REASON":"idle"}`,
			`{"__REALTIME_TIMESTAMP":"0","SYSLOG_IDENTIFIER":"sshwarden","SSHWARDEN_ACTION":[],"SSHWARDEN_PID":"7","SSHWARDEN_REASON":"idle"}`,
			`{"__REALTIME_TIMESTAMP":"0","SYSLOG_IDENTIFIER":"sshwarden","SSHWARDEN_ACTION":null,"SSHWARDEN_PID":"7","SSHWARDEN_REASON":"idle"}`,
			`{"__REALTIME_TIMESTAMP":"0","SYSLOG_IDENTIFIER":"sshwarden","SSHWARDEN_ACTION":{"a":"close"},"SSHWARDEN_PID":"7","SSHWARDEN_REASON":"idle"}`,
			`{"__REALTIME_TIMESTAMP":"0","SYSLOG_IDENTIFIER":"sshwarden","SSHWARDEN_ACTION":"close","SSHWARDEN_ACTION":"warn","SSHWARDEN_PID":"7","SSHWARDEN_REASON":"idle"}`,
			// The same inside the MESSAGE of the agent's stderr.
			`{"__REALTIME_TIMESTAMP":"0","SYSLOG_IDENTIFIER":"sshwarden","MESSAGE":"{\"SYSLOG_IDENTIFIER\":\"sshwarden\",\"SSHWARDEN_ACTION\":[\"close\"],\"time\":\"1970-01-01T00:00:00Z\",\"SSHWARDEN_PID\":\"7\",\"SSHWARDEN_REASON\":\"idle\"}"}`,
			// A time that is not one value is no time.
			`{"__REALTIME_TIMESTAMP":["0"],"SYSLOG_IDENTIFIER":"sshwarden","SSHWARDEN_ACTION":"close","SSHWARDEN_PID":"7","SSHWARDEN_REASON":"idle"}`,
			`{"time":["1970-01-01T00:00:00Z"],"SYSLOG_IDENTIFIER":"sshwarden","SSHWARDEN_ACTION":"close","SSHWARDEN_PID":"7","SSHWARDEN_REASON":"idle"}`,
		},
		want:    Counts{Closed: 1, ClosedByReason: reasonCounts(1, 0)},
		skipped: map[string]int{SkipMalformed: 8, SkipBadTime: 2},
		records: 1,
		byUser:  alice(0, 1, 0, 0),
		check: func(t *testing.T, rep *Report) {
			if want := time.Unix(reportBase, 0); !rep.First.Equal(want) || !rep.Last.Equal(want) {
				t.Errorf("First, Last = %v, %v; want %v", rep.First, rep.Last, want)
			}
		},
	}, {
		name: "since and until",
		lines: []string{
			act(50, "close", "100"),                                     // before Since
			act(99, "warn", "300"),                                      // before Since
			act(100, "heeded", "300"),                                   // at Since: counted
			act(500, "warn", "300"),                                     // counted
			act(949, "heeded", "300"),                                   // counted
			act(950, "close", "300"),                                    // at Until
			jline(960, "SSHWARDEN_ACTION=error", "SSHWARDEN_DROPPED=5"), // after Until
		},
		opt: ReportOptions{
			Since: time.Unix(reportBase+100, 0),
			Until: time.Unix(reportBase+950, 0),
		},
		want:    Counts{Warned: 1, Heeded: 2, ClosedByReason: reasonCounts(0, 0)},
		skipped: map[string]int{SkipOutOfRange: 4},
		records: 3,
		byUser:  alice(1, 0, 2, 0),
		check: func(t *testing.T, rep *Report) {
			if !rep.First.Equal(time.Unix(reportBase+100, 0)) || !rep.Last.Equal(time.Unix(reportBase+949, 0)) {
				t.Errorf("First, Last = %v, %v; want seconds 100 and 949", rep.First, rep.Last)
			}
			if rep.LostRecords != 0 {
				t.Errorf("LostRecords = %d, want 0 (the error record is after Until)", rep.LostRecords)
			}
		},
	}, {
		name: "hour of day in Location",
		lines: []string{
			act(-7200, "close", "1"), // 10:00Z
			act(37800, "close", "2"), // 22:30Z
			act(40200, "close", "3"), // 23:10Z
			act(40800, "close", "4"), // 23:20Z
			act(40800, "heeded", "5"),
		},
		opt:     ReportOptions{Location: time.FixedZone("UTC+2", 2*3600)},
		want:    Counts{Closed: 4, Heeded: 1, ClosedByReason: reasonCounts(4, 0)},
		records: 5,
		check: func(t *testing.T, rep *Report) {
			var want [24]int
			want[12], want[0], want[1] = 1, 1, 2
			if rep.ClosesByHour != want {
				t.Errorf("ClosesByHour = %v, want %v", rep.ClosesByHour, want)
			}
			if rep.TimeZone != "UTC+2" {
				t.Errorf("TimeZone = %q, want UTC+2", rep.TimeZone)
			}
		},
	}, {
		name: "idle at close",
		lines: func() []string {
			var l []string
			for i := 1; i <= 10; i++ {
				l = append(l, act(int64(i), "close", strconv.Itoa(i), "SSHWARDEN_IDLE_SECONDS="+strconv.Itoa(60*i)))
			}
			l = append(l, act(20, "close", "20", "SSHWARDEN_IDLE_SECONDS="))                                          // no idle time
			l = append(l, act(21, "close", "21", "SSHWARDEN_REASON=max-session-time", "SSHWARDEN_IDLE_SECONDS=9000")) // not idle
			l = append(l, act(22, "close", "22", "SSHWARDEN_IDLE_SECONDS=-5"))                                        // not a number
			l = append(l, act(23, "heeded", "23", "SSHWARDEN_IDLE_SECONDS=5"))                                        // not a close
			return l
		}(),
		want:    Counts{Closed: 13, Heeded: 1, ClosedByReason: reasonCounts(12, 1)},
		records: 14,
		check: func(t *testing.T, rep *Report) {
			want := IdleAtClose{
				Count: 10, MedianSeconds: 300, P90Seconds: 540, MaxSeconds: 600, ResolutionSeconds: 1,
				Buckets: []IdleBucket{{300, 5}, {900, 5}, {1800, 0}, {3600, 0}, {7200, 0}, {14400, 0}, {0, 0}},
			}
			if diff := cmp.Diff(want, rep.IdleAtClose); diff != "" {
				t.Errorf("IdleAtClose (-want +got):\n%s", diff)
			}
		},
	}, {
		name: "idle at close, skewed",
		lines: []string{
			act(1, "close", "1", "SSHWARDEN_IDLE_SECONDS=4000"),
			act(2, "close", "2", "SSHWARDEN_IDLE_SECONDS=100"),
			act(3, "close", "3", "SSHWARDEN_IDLE_SECONDS=300"),
			act(4, "close", "4", "SSHWARDEN_IDLE_SECONDS=200"),
			act(5, "close", "5", "SSHWARDEN_IDLE_SECONDS=20000"),
		},
		want:    Counts{Closed: 5, ClosedByReason: reasonCounts(5, 0)},
		records: 5,
		check: func(t *testing.T, rep *Report) {
			want := IdleAtClose{
				Count: 5, MedianSeconds: 300, P90Seconds: 20000, MaxSeconds: 20000, ResolutionSeconds: 1,
				Buckets: []IdleBucket{{300, 3}, {900, 0}, {1800, 0}, {3600, 0}, {7200, 1}, {14400, 0}, {0, 1}},
			}
			if diff := cmp.Diff(want, rep.IdleAtClose); diff != "" {
				t.Errorf("IdleAtClose (-want +got):\n%s", diff)
			}
		},
	}, {
		name: "suggestions",
		lines: func() []string {
			var l []string
			// /p:10: 10 warnings, 6 heeded (60%): suggested.
			// /p:20: 10 warnings, 5 heeded (50%): not; bob has its 5
			// closes: suggested. /p:30: 9 warnings, all heeded: too few.
			// alice has 4 closes under /p:10: too few. /p:40: 10
			// warnings, 6 heeded in a dry run: not real.
			for i := 1; i <= 39; i++ {
				rule, user, dry := "/p:10", "alice", ""
				switch {
				case i > 29:
					rule, dry = "/p:40", "yes"
				case i > 20:
					rule = "/p:30"
				case i > 10:
					rule, user = "/p:20", "bob"
				}
				pid := strconv.Itoa(i)
				kv := []string{"SSHWARDEN_RULE=" + rule, "SSHWARDEN_USER=" + user, "SSHWARDEN_DRY_RUN=" + dry}
				l = append(l, act(0, "warn", pid, kv...))
				if i <= 4 || (i > 10 && i <= 15) || (i > 29 && i <= 33) {
					l = append(l, act(60, "close", pid, kv...))
				} else {
					l = append(l, act(30, "heeded", pid, kv...))
				}
			}
			return l
		}(),
		want:    Counts{Warned: 29, Closed: 9, Heeded: 20, ClosedByReason: reasonCounts(9, 0)},
		dry:     Counts{Warned: 10, Closed: 4, Heeded: 6, ClosedByReason: reasonCounts(4, 0)},
		records: 78,
		check: func(t *testing.T, rep *Report) {
			want := []string{
				"Rule /p:10: 6 heeded records for its 10 warnings (60%): input came after the warning, calling off the close. People seem to be at their keyboards when warned, so the limit may be short for how these sessions are used.",
				"User bob had 5 of the 5 closes under rule /p:20 (100%). The limit may not fit how this user works (a Match User block can set another), or the user leaves sessions open; worth a look before changing the rule.",
			}
			if diff := cmp.Diff(want, rep.Suggestions); diff != "" {
				t.Errorf("Suggestions (-want +got):\n%s", diff)
			}
			wantRules := []ReportRow{
				{Key: "/p:20", Warned: 10, Closed: 5, Heeded: 5},
				{Key: "/p:10", Warned: 10, Closed: 4, Heeded: 6},
				{Key: "/p:30", Warned: 9, Heeded: 9},
			}
			if diff := cmp.Diff(wantRules, rep.ByRule, reportCmp); diff != "" {
				t.Errorf("ByRule (-want +got):\n%s", diff)
			}
		},
	}, {
		name:    "no suggestions",
		lines:   []string{act(0, "warn", "1"), act(60, "close", "1")},
		want:    Counts{Warned: 1, Closed: 1, ClosedByReason: reasonCounts(1, 0)},
		records: 2,
		check: func(t *testing.T, rep *Report) {
			if rep.Suggestions == nil || len(rep.Suggestions) != 0 {
				t.Errorf("Suggestions = %#v, want empty", rep.Suggestions)
			}
		},
	}, {
		name: "stderr lines and stderr in the journal",
		lines: []string{
			`{"time":"2026-11-22T12:00:00.5+00:00","level":"INFO","msg":"Warned ...","MESSAGE_ID":"610b2d2974864cc9bf4a310ea5cdb6da","PRIORITY":"6","SSHWARDEN_ACTION":"warn","SSHWARDEN_IDLE_SECONDS":"840","SSHWARDEN_LIMIT_SECONDS":"900","SSHWARDEN_PID":"100","SSHWARDEN_REASON":"idle","SSHWARDEN_USER":"alice","SYSLOG_IDENTIFIER":"sshwarden"}`,
			`{"time":"2026-11-22T12:01:00+00:00","level":"INFO","msg":"Closed ...","MESSAGE_ID":"d5a4999b3ce94f82a5408f9294bffc55","PRIORITY":"5","SSHWARDEN_ACTION":"close","SSHWARDEN_IDLE_SECONDS":"900","SSHWARDEN_PID":"100","SSHWARDEN_REASON":"idle","SSHWARDEN_USER":"alice","SYSLOG_IDENTIFIER":"sshwarden"}`,
			jline(120, "MESSAGE="+`{"time":"2026-11-22T12:02:00Z","level":"INFO","msg":"Closed ...","SSHWARDEN_ACTION":"close","SSHWARDEN_JOURNAL_ERROR":"no buffer space","SSHWARDEN_PID":"101","SSHWARDEN_REASON":"idle","SSHWARDEN_USER":"alice","SYSLOG_IDENTIFIER":"sshwarden"}`),
			jline(125, "MESSAGE="+`{"time":"2026-11-22T12:02:05Z","level":"INFO","msg":"Input on ...","MESSAGE_ID":"3941781062e1402d9ff021b68456242d","SSHWARDEN_ACTION":"heeded","SSHWARDEN_PID":"102","SSHWARDEN_REASON":"idle","SSHWARDEN_USER":"alice","SYSLOG_IDENTIFIER":"sshwarden"}`),
			jline(130, "MESSAGE="+`{"time":"yesterday","SSHWARDEN_ACTION":"close","SSHWARDEN_PID":"102","SSHWARDEN_REASON":"idle","SYSLOG_IDENTIFIER":"sshwarden"}`),
			`{"time":"2026-11-22 12:00","SSHWARDEN_ACTION":"close","SSHWARDEN_PID":"103","SSHWARDEN_REASON":"idle","SYSLOG_IDENTIFIER":"sshwarden"}`,
		},
		want:    Counts{Warned: 1, Closed: 2, Heeded: 1, ClosedByReason: reasonCounts(2, 0)},
		skipped: map[string]int{SkipBadTime: 2},
		records: 4,
		byUser:  alice(1, 2, 1, 0),
		check: func(t *testing.T, rep *Report) {
			if want := time.Unix(reportBase, 5e8); !rep.First.Equal(want) {
				t.Errorf("First = %v, want %v", rep.First, want)
			}
			// The time inside MESSAGE, not the journal's.
			if want := time.Unix(reportBase+125, 0); !rep.Last.Equal(want) {
				t.Errorf("Last = %v, want %v", rep.Last, want)
			}
		},
	}, {
		name: "missing fields",
		lines: []string{
			act(0, "warn", ""),
			act(0, "close", "100", "SSHWARDEN_REASON="),
			act(0, "close", "12a"),
			act(0, "heeded", ""),
			act(0, "heeded", "100", "SSHWARDEN_REASON="),
			act(0, "warn-failed", "100", "SSHWARDEN_REASON="),
			act(0, "close-failed", "-1"),
			act(0, "close", "100", "__REALTIME_TIMESTAMP="),
			act(0, "close", "100", "__REALTIME_TIMESTAMP=soon"),
			act(0, "close", "100", "__REALTIME_TIMESTAMP=soon", "time=2026-11-22T12:00:00Z"),
			act(0, "heeded", "100", "SSHWARDEN_USER=", "SSHWARDEN_RULE=", "SSHWARDEN_LOCAL_PORT=", "SSHWARDEN_IDLE_SECONDS=", "SSHWARDEN_LIMIT_SECONDS="),
		},
		want:    Counts{Closed: 1, Heeded: 1, ClosedByReason: reasonCounts(1, 0)},
		skipped: map[string]int{SkipMissingField: 7, SkipBadTime: 2},
		records: 2,
		byUser:  []ReportRow{{Key: "alice", Closed: 1}, {Key: "", Heeded: 1}},
	}, {
		name: "lost records",
		lines: []string{
			jline(0, "SSHWARDEN_ACTION=error", "SSHWARDEN_DROPPED=7"),
			jline(1, "SSHWARDEN_ACTION=error", "SSHWARDEN_DROPPED=3"),
		},
		want:    noCounts(),
		records: 2,
		check: func(t *testing.T, rep *Report) {
			if rep.LostRecords != 10 {
				t.Errorf("LostRecords = %d, want 10", rep.LostRecords)
			}
			want := []string{"The agent reported 10 lost audit records (SSHWARDEN_DROPPED in its error records): the counts above may be low."}
			if diff := cmp.Diff(want, rep.Suggestions); diff != "" {
				t.Errorf("Suggestions (-want +got):\n%s", diff)
			}
		},
	}, {
		name:  "empty input",
		lines: nil,
		want:  noCounts(),
		check: func(t *testing.T, rep *Report) {
			if !rep.First.IsZero() || !rep.Last.IsZero() {
				t.Errorf("First, Last = %v, %v; want zero", rep.First, rep.Last)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep := readLines(t, tt.lines, tt.opt)
			if diff := cmp.Diff(tt.want, rep.Counts); diff != "" {
				t.Errorf("Counts (-want +got):\n%s", diff)
			}
			dry := tt.dry
			if dry.ClosedByReason == nil {
				dry = noCounts()
			}
			if diff := cmp.Diff(dry, rep.DryRun); diff != "" {
				t.Errorf("DryRun (-want +got):\n%s", diff)
			}
			skipped := tt.skipped
			if skipped == nil {
				skipped = map[string]int{}
			}
			if diff := cmp.Diff(skipped, rep.Skipped); diff != "" {
				t.Errorf("Skipped (-want +got):\n%s", diff)
			}
			if rep.Records != tt.records {
				t.Errorf("Records = %d, want %d", rep.Records, tt.records)
			}
			if tt.byUser != nil {
				if diff := cmp.Diff(tt.byUser, rep.ByUser, reportCmp); diff != "" {
					t.Errorf("ByUser (-want +got):\n%s", diff)
				}
			}
			if tt.check != nil {
				tt.check(t, rep)
			}
			var buf bytes.Buffer
			if err := rep.WriteText(&buf); err != nil {
				t.Errorf("WriteText: %v", err)
			}
		})
	}
}

// TestReadReportAudit reads what the agent's own [Journal] writes to stderr.
func TestReadReportAudit(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	a := newJournal(Options{Stderr: &buf, Journal: SinkStderr}, nil)
	s := watcher.Session{
		PID: 4242, User: "alice", UID: 1000, Kind: watcher.KindPTY, TTY: "pts/3", SessionID: 17,
		Remote: netip.MustParseAddrPort("192.0.2.7:51234"), Local: netip.MustParseAddrPort("192.0.2.1:2222"),
	}
	// The records of a warning, the input after it and a close, as the
	// agent makes them from its decisions; and the last two in a dry run.
	warn := Record{Action: ActionWarn, Session: &s, Reason: ReasonIdle, Limit: 15 * time.Minute, Rule: "/etc/sshwarden/policy.conf:36", Idle: 14 * time.Minute, Age: time.Hour}
	a.Record(warn)
	heeded := warn
	heeded.Action, heeded.Idle = ActionHeeded, time.Second
	a.Record(heeded)
	heeded.DryRun = true
	a.Record(heeded)
	closed := warn
	closed.Action, closed.Idle = ActionClose, 15*time.Minute
	a.Record(closed)
	closed.DryRun = true
	a.Record(closed)
	a.Record(Record{Action: ActionAgentStopped})
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	rep, err := ReadReport(&buf, ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := Counts{Warned: 1, Closed: 1, Heeded: 1, ClosedByReason: reasonCounts(1, 0)}
	if diff := cmp.Diff(want, rep.Counts); diff != "" {
		t.Errorf("Counts (-want +got):\n%s", diff)
	}
	wantDry := Counts{Closed: 1, Heeded: 1, ClosedByReason: reasonCounts(1, 0)}
	if diff := cmp.Diff(wantDry, rep.DryRun); diff != "" {
		t.Errorf("DryRun (-want +got):\n%s", diff)
	}
	wantRows := []ReportRow{{Key: "/etc/sshwarden/policy.conf:36", Warned: 1, Closed: 1, Heeded: 1}}
	if diff := cmp.Diff(wantRows, rep.ByRule, reportCmp); diff != "" {
		t.Errorf("ByRule (-want +got):\n%s", diff)
	}
	if len(rep.ByLocalPort) != 1 || rep.ByLocalPort[0].Key != "2222" {
		t.Errorf("ByLocalPort = %+v, want 2222", rep.ByLocalPort)
	}
	if rep.Records != 6 || len(rep.Skipped) != 0 {
		t.Errorf("Records = %d, Skipped = %v; want 6 and none\n%s", rep.Records, rep.Skipped, buf.String())
	}
	if rep.IdleAtClose.MedianSeconds != 900 {
		t.Errorf("IdleAtClose.MedianSeconds = %d, want 900", rep.IdleAtClose.MedianSeconds)
	}
}

func TestReportJSON(t *testing.T) {
	t.Parallel()
	rep := readLines(t, []string{
		act(0, "warn", "1"),
		act(30, "heeded", "1"),
		act(900, "warn", "1"),
		act(960, "close", "1"),
		act(970, "heeded", "2", "SSHWARDEN_DRY_RUN=yes"),
	}, ReportOptions{Location: time.UTC})
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	// The top-level keys, in order: the counts first, then the breakdowns.
	dec := json.NewDecoder(bytes.NewReader(b))
	var keys []string
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("JSON does not start with an object: %v %v", tok, err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	wantKeys := []string{
		"warned", "closed", "heeded", "closed_by_reason", "warn_failed", "close_failed",
		"dry_run", "first", "last", "records", "lost_records", "skipped",
		"by_host", "by_user", "by_rule", "by_local_port", "idle_at_close", "closes_by_hour", "closes_by_day", "time_zone", "suggestions", "gaps",
	}
	if diff := cmp.Diff(wantKeys, keys); diff != "" {
		t.Errorf("JSON keys (-want +got):\n%s\n%s", diff, b)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"warned":           `2`,
		"closed":           `1`,
		"heeded":           `1`,
		"closed_by_reason": `{"idle":1,"max-session-time":0}`,
		"warn_failed":      `0`,
		"close_failed":     `0`,
		"first":            `"2026-11-22T12:00:00Z"`,
		"last":             `"2026-11-22T12:16:10Z"`,
		"records":          `5`,
		"dry_run":          `{"warned":0,"closed":0,"heeded":1,"closed_by_reason":{"idle":0,"max-session-time":0},"warn_failed":0,"close_failed":0}`,
		"by_user":          `[{"key":"alice","warned":2,"closed":1,"heeded":1,"close_failed":0}]`,
		"by_host":          `[{"key":"","warned":2,"closed":1,"heeded":1,"close_failed":0}]`,
		"skipped":          `{}`,
		"suggestions":      `[]`,
		"closes_by_day":    `[{"day":"2026-11-22","closes":1}]`,
		"gaps":             `[]`,
		"idle_at_close": `{"count":1,"median_seconds":900,"p90_seconds":900,"max_seconds":900,"resolution_seconds":1,` +
			`"buckets":[{"le_seconds":300,"count":0},{"le_seconds":900,"count":1},{"le_seconds":1800,"count":0},{"le_seconds":3600,"count":0},{"le_seconds":7200,"count":0},{"le_seconds":14400,"count":0},{"count":0}]}`,
	} {
		if string(got[k]) != want {
			t.Errorf("JSON %s = %s, want %s", k, got[k], want)
		}
	}
}

func TestReportWriteText(t *testing.T) {
	t.Parallel()
	var lines []string
	for i := 0; i < 10; i++ {
		lines = append(lines, act(int64(i), "warn", strconv.Itoa(i)))
	}
	for i := 0; i < 10; i++ {
		if i < 4 {
			lines = append(lines, act(60+int64(i), "close", strconv.Itoa(i)))
		} else {
			lines = append(lines, act(30+int64(i), "heeded", strconv.Itoa(i)))
		}
	}
	lines = append(lines,
		// A hostile user name and rule: escape sequences, a bidi override.
		act(3600, "close", "90", "SSHWARDEN_USER=\x1b[2Jroot\u202e", "SSHWARDEN_RULE=", "SSHWARDEN_LOCAL_PORT="),
		act(3600, "warn", "91", "SSHWARDEN_DRY_RUN=yes"),
		act(3610, "heeded", "91", "SSHWARDEN_DRY_RUN=yes"),
		act(7200, "close-failed", "92", "SSHWARDEN_REASON=max-session-time", "SSHWARDEN_USER=bob"),
		act(7300, "close", "93", "SSHWARDEN_REASON=max-session-time", "SSHWARDEN_USER=bob", "SSHWARDEN_IDLE_SECONDS=5"),
		"garbage",
		`{"SYSLOG_IDENTIFIER":"cron"}`,
	)
	rep := readLines(t, lines, ReportOptions{Location: time.UTC})
	var buf bytes.Buffer
	if err := rep.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	hours := ""
	for h := 0; h < 24; h++ {
		switch h {
		case 12:
			hours += "  12      4 ########################################\n"
		case 13, 14:
			hours += fmt.Sprintf("  %d      1 ##########\n", h)
		default:
			hours += fmt.Sprintf("  %02d      0\n", h)
		}
	}
	want := `Audit records from 2026-11-22 12:00:00 UTC to 2026-11-22 14:01:40 UTC: 25.

Warned            10  (heeded 6: input came after an idle warning, calling off its close)
Closed             6  (idle 5, max-session-time 1)
Warn failed        0
Close failed       1
Dry run (SSHWARDEN_DRY_RUN=yes), not counted above: warned 1 (heeded 1), closed 0 (idle 0, max-session-time 0), warn failed 0, close failed 0.

USER                 WARNED  CLOSED  HEEDED  CLOSE-FAILED
alice                    10       4       6             0
"\x1b[2Jroot\u202e"       0       1       0             0
bob                       0       1       0             1

RULE                           WARNED  CLOSED  HEEDED  CLOSE-FAILED
/etc/sshwarden/policy.conf:36      10       5       6             1
default                             0       1       0             0

LOCAL PORT  WARNED  CLOSED  HEEDED  CLOSE-FAILED
22              10       5       6             1
-                0       1       0             0

Idle time at idle closes: 5 closes, median 15m, p90 15m, max 15m
  up to 5m          0
  5m to 15m         5 ########################################
  15m to 30m        0
  30m to 1h         0
  1h to 2h          0
  2h to 4h          0
  over 4h           0

Closes by hour of day (UTC):
` + hours + `
Suggestions (hints from the numbers, not verdicts):
  - Rule /etc/sshwarden/policy.conf:36: 6 heeded records for its 10 warnings (60%): input came after the warning, calling off the close. People seem to be at their keyboards when warned, so the limit may be short for how these sessions are used.
  - 1 session was closed at the maximum session time (max-session-time), of 1 user: bob 1. Work still running was cut off, active or not; check that these users expect the limit.
  - 1 close failed (close-failed): those sessions stayed open past their limit. ` + "`journalctl MESSAGE_ID=da2b86b38ef2464eb49c34bf450d7e12`" + ` shows why.

Skipped lines: 2 (1 malformed, 1 other-program)
`
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("WriteText (-want +got):\n%s", diff)
	}
	for _, c := range buf.String() {
		if c == 0x1b || c == '\u202e' {
			t.Errorf("WriteText wrote %U to the terminal", c)
		}
	}
}

// printableKey must leave nothing that a terminal interprets.
func TestReportPrintableKey(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"alice", "alice"},
		{"", "-"},
		{"bad\nname", `"bad\nname"`},
		{"a b", `"a b"`},
		{"\xff", `"\xff"`},
		{"ok\uFFFD", "ok\uFFFD"},
		{"é", "é"},
		{strings.Repeat("a", 100), strings.Repeat("a", 77) + "..."},
	}
	for _, tt := range tests {
		if got := printableKey(tt.in, "-"); got != tt.want {
			t.Errorf("printableKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// reportRecord is a realistic journal record of a session action, as
// `journalctl -o json` prints it.
func reportRecord(buf []byte, sec int64, action, reason string, pid, user, rule int, idle, limit int64) []byte {
	buf = append(buf, `{"__CURSOR":"s=6b3b5c9d6b4b4b0c9f1f2e3d4c5b6a79;i=`...)
	buf = strconv.AppendInt(buf, sec, 16)
	buf = append(buf, `;b=3f0e2c1d9a8b4c7d8e9f0a1b2c3d4e5f;m=1a2b3c;t=`...)
	buf = strconv.AppendInt(buf, sec, 16)
	buf = append(buf, `;x=9e8d7c6b5a493827","__REALTIME_TIMESTAMP":"`...)
	buf = strconv.AppendInt(buf, (reportBase+sec)*1000000+123456, 10)
	buf = append(buf, `","__MONOTONIC_TIMESTAMP":"`...)
	buf = strconv.AppendInt(buf, sec*1000000, 10)
	buf = append(buf, `","_BOOT_ID":"3f0e2c1d9a8b4c7d8e9f0a1b2c3d4e5f","_MACHINE_ID":"0123456789abcdef0123456789abcdef","_HOSTNAME":"bastion-1",`+
		`"PRIORITY":"6","_TRANSPORT":"journal","_UID":"0","_GID":"0","_COMM":"sshwarden","_EXE":"/usr/sbin/sshwarden","_CMDLINE":"/usr/sbin/sshwarden agent",`+
		`"_SYSTEMD_UNIT":"sshwarden.service","_PID":"812","SYSLOG_IDENTIFIER":"sshwarden","MESSAGE_ID":"`...)
	buf = append(buf, MessageID(action)...)
	buf = append(buf, `","MESSAGE":"Closed the SSH session of \"user`...)
	buf = strconv.AppendInt(buf, int64(user), 10)
	buf = append(buf, `\" from 192.0.2.7 port 51234 on pts/3 (sshd pid `...)
	buf = strconv.AppendInt(buf, int64(pid), 10)
	buf = append(buf, `): idle for 15m, limit IdleTimeout 15m.","SSHWARDEN_ACTION":"`...)
	buf = append(buf, action...)
	buf = append(buf, `","SSHWARDEN_REASON":"`...)
	buf = append(buf, reason...)
	buf = append(buf, `","SSHWARDEN_PID":"`...)
	buf = strconv.AppendInt(buf, int64(pid), 10)
	buf = append(buf, `","SSHWARDEN_SESSION_ID":"`...)
	buf = strconv.AppendInt(buf, int64(pid)+7, 10)
	buf = append(buf, `","SSHWARDEN_USER":"user`...)
	buf = strconv.AppendInt(buf, int64(user), 10)
	buf = append(buf, `","SSHWARDEN_UID":"1000","SSHWARDEN_REMOTE_ADDR":"192.0.2.7","SSHWARDEN_REMOTE_PORT":"51234","SSHWARDEN_LOCAL_PORT":"22","SSHWARDEN_TTY":"pts/3","SSHWARDEN_KIND":"pty","SSHWARDEN_IDLE_SECONDS":"`...)
	buf = strconv.AppendInt(buf, idle, 10)
	buf = append(buf, `","SSHWARDEN_SESSION_SECONDS":"3600","SSHWARDEN_LIMIT_SECONDS":"`...)
	buf = strconv.AppendInt(buf, limit, 10)
	buf = append(buf, `","SSHWARDEN_RULE":"/etc/sshwarden/policy.conf:`...)
	buf = strconv.AppendInt(buf, int64(rule), 10)
	buf = append(buf, "\"}\n"...)
	return buf
}

// reportTrail writes n records, one a second: sessions of 2,000 users
// warned for idleness, 70% of them closed the next second, the others
// heeded (a heeded record instead of the close).
func reportTrail(w io.Writer, n int) {
	var buf []byte
	for i := 0; i < n; i++ {
		pid := 10000 + i/2
		user, rule := pid%2000, 30+pid%5
		buf = buf[:0]
		switch {
		case i%2 == 0:
			buf = reportRecord(buf, int64(i), ActionWarn, ReasonIdle, pid, user, rule, 840, 900)
		case pid%10 < 7:
			buf = reportRecord(buf, int64(i), ActionClose, ReasonIdle, pid, user, rule, 900, 900)
		default:
			buf = reportRecord(buf, int64(i), ActionHeeded, ReasonIdle, pid, user, rule, 2, 900)
		}
		_, _ = w.Write(buf)
	}
}

func BenchmarkReadReport(b *testing.B) {
	const n = 1000000
	var trail bytes.Buffer
	trail.Grow(n * 1250)
	reportTrail(&trail, n)
	input := trail.Bytes()
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rep, err := ReadReport(bytes.NewReader(input), ReportOptions{Location: time.UTC})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Warned != n/2 || rep.Closed != n/2*7/10 || rep.Heeded != n/2*3/10 || rep.Records != n {
			b.Fatalf("Warned, Closed, Heeded, Records = %d, %d, %d, %d; want %d, %d, %d, %d",
				rep.Warned, rep.Closed, rep.Heeded, rep.Records, n/2, n/2*7/10, n/2*3/10, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(len(input))/float64(n), "bytes/record")
}

// heapReader yields records made by gen, and measures the live heap
// (after a GC) at each of the record counts in at, while ReadReport holds
// its state.
type heapReader struct {
	n, i int
	gen  func(buf []byte, i int) []byte
	buf  []byte
	at   map[int]bool
	heap map[int]uint64
}

func (r *heapReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.i == r.n {
			return 0, io.EOF
		}
		if r.at[r.i] {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			r.heap[r.i] = ms.HeapInuse
		}
		r.buf = r.gen(r.buf[:0], r.i)
		r.i++
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// TestReadReportMemory checks that the state of ReadReport stays bounded:
// 200,000 warn, heeded and close records, each of another user and rule
// and with another idle time; the heap is measured after a GC while
// ReadReport holds its state, halfway and at the end.
//
// The bound: the 1 MiB line buffer; at most 10,001 rows of users and as
// many of rules at about 150 bytes each (row, key, map entry), 3 MiB; at
// most 10,000 user-rule pairs at about 50 bytes, 0.5 MiB; 4,096 idle
// times at about 20 bytes, 0.1 MiB. That is about 5 MiB; the limit,
// 12 MiB, leaves room for maps that just doubled. Keeping the records
// read (1.2 KB each) would take 230 MiB.
func TestReadReportMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 200,000 records")
	}
	const (
		n     = 200000
		limit = 12 << 20
	)
	actions := [3]string{ActionWarn, ActionHeeded, ActionClose}
	gen := func(buf []byte, i int) []byte {
		// 100 records a second; every record of another user and rule.
		return reportRecord(buf, int64(i/100), actions[i%3], ReasonIdle, 100000+i, i, i, int64(i), 900)
	}
	r := &heapReader{n: n, gen: gen, at: map[int]bool{n / 2: true, n - 1: true}, heap: map[int]uint64{}}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	rep, err := ReadReport(r, ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if heeded := (n + 1) / 3; rep.Warned+rep.Heeded+rep.Closed != n || rep.Heeded != heeded || rep.Records != n {
		t.Errorf("Warned, Heeded, Closed, Records = %d, %d, %d, %d; want %d in all, %d heeded", rep.Warned, rep.Heeded, rep.Closed, rep.Records, n, heeded)
	}
	if len(rep.ByUser) != maxReportKeys+1 || len(rep.ByRule) != maxReportKeys+1 {
		t.Errorf("len(ByUser), len(ByRule) = %d, %d; want %d", len(rep.ByUser), len(rep.ByRule), maxReportKeys+1)
	}
	if rep.IdleAtClose.Count != rep.Closed || rep.IdleAtClose.ResolutionSeconds < 2 {
		t.Errorf("IdleAtClose: %d values at a resolution of %d s; want %d, coarser than 1 s", rep.IdleAtClose.Count, rep.IdleAtClose.ResolutionSeconds, rep.Closed)
	}
	if grew := int64(r.heap[n-1]) - int64(r.heap[n/2]); grew > 2<<20 {
		t.Errorf("heap in use grew by %d bytes from record %d to %d, want at most 2 MiB", grew, n/2, n-1)
	}
	for _, at := range []int{n / 2, n - 1} {
		used := int64(r.heap[at]) - int64(base)
		t.Logf("heap in use after %d records: %.1f MiB more than before ReadReport", at, float64(used)/(1<<20))
		if used > limit {
			t.Errorf("heap in use after %d records: %d bytes more than before ReadReport, want at most %d", at, used, limit)
		}
	}
}

// FuzzReportParse checks the report's JSON scanner against encoding/json:
// on a valid JSON object it takes the same names and values in the same
// order (names matched exactly), on anything else it does not crash.
func FuzzReportParse(f *testing.F) {
	for _, s := range []string{
		act(0, "warn", "100"),
		`{"SYSLOG_IDENTIFIER":[115,115,104],"SSHWARDEN_USER":["a","b"],"SSHWARDEN_RULE":[[47,114],"x"],"MESSAGE":null,"x":{"y":[1,{"z":"}"}]}}`,
		`{"SSHWARDEN_USER":"a\"b\\","SSHWARDEN_USER":"c","sshwarden_user":"d","SSHWARDEN_\u0050ID":"7","n":-1.5e+3,"t":true,"f":false}`,
		`{"time":"2026-11-22T12:00:00Z","SSHWARDEN_PID":42,"SSHWARDEN_REASON":{"a":1}}`,
		`{"SSHWARDEN_ACTION":["close"],"SSHWARDEN_ACTION":"warn","__REALTIME_TIMESTAMP":"5","__REALTIME_TIMESTAMP":["0"],"time":{"a":1}}`,
		` { } `, `{"a":}`, `{"a":1,}`, `{"a" 1}`, `[1]`, `{"a":"\`, `{"a":tru}`, `{"a":01}`, `{"a":-}`, `{"a":1.}`, `{"a":1e}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got rawRecord
		ok := got.parse(b)
		if !json.Valid(b) {
			return
		}
		// encoding/json's names and values, in their order.
		dec := json.NewDecoder(bytes.NewReader(b))
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			if ok {
				t.Fatalf("parse(%q) took a valid JSON value that is not an object", b)
			}
			return
		}
		if !ok {
			t.Fatalf("parse(%q) refused a JSON object", b)
		}
		var want rawRecord
		seenAction := false
		for dec.More() {
			tok, err := dec.Token()
			name, isName := tok.(string)
			var raw json.RawMessage
			if err != nil || !isName || dec.Decode(&raw) != nil {
				t.Fatalf("decoding %q: %v, %v", b, tok, err)
			}
			if !want.set([]byte(name), raw, &seenAction) {
				t.Fatalf("set(%q, %q) refused the value", name, raw)
			}
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("parse(%q) (-encoding/json +parse):\n%s", b, diff)
		}
	})
}

// TestReportIdleResolution checks the percentiles once the idle times have
// more distinct values than the histogram keeps.
func TestReportIdleResolution(t *testing.T) {
	t.Parallel()
	var h secondsHist
	for v := int64(1); v <= 5000; v++ {
		h.add(v)
	}
	keys := make([]int64, 0, len(h.counts))
	for k := range h.counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if h.grain != 2 || len(h.counts) > maxIdleValues {
		t.Fatalf("grain %d with %d values, want 2 and at most %d", h.grain, len(h.counts), maxIdleValues)
	}
	// Exact: 2500 and 4500; rounded down to even seconds, the same.
	if got := h.quantile(keys, 50); got != 2500 {
		t.Errorf("median = %d, want 2500", got)
	}
	if got := h.quantile(keys, 90); got != 4500 {
		t.Errorf("p90 = %d, want 4500", got)
	}
	if h.max != 5000 || h.n != 5000 {
		t.Errorf("max, n = %d, %d; want 5000, 5000", h.max, h.n)
	}
}

// TestReportFields: every field ReadReport reads from a journal record is
// in ReportFields, so that journalctl --output-fields keeps it.
func TestReportFields(t *testing.T) {
	t.Parallel()
	for _, name := range ReportFields {
		var r rawRecord
		if name != "MESSAGE" && r.lookup([]byte(name)) == nil {
			t.Errorf("ReportFields has %s, which ReadReport does not read", name)
		}
	}
	var r rawRecord
	for _, name := range append(slices.Clone(ReportFields), "SSHWARDEN_UID", "SSHWARDEN_SESSION_SECONDS", "SSHWARDEN_LIMIT_SECONDS", "SSHWARDEN_TTY", "_HOSTNAME", "SSHWARDEN_KIND") {
		if r.lookup([]byte(name)) != nil && !slices.Contains(ReportFields, name) {
			t.Errorf("ReadReport reads %s, which ReportFields lacks", name)
		}
	}
}

// hostTrail is a central trail of three hosts and a line without a host:
//
//   - web1: alice warned, heeded, warned and closed (pid 100); bob warned
//     and closed (pid 101); a warning that could not be written (pid 102);
//   - db1: carol warned and closed (pid 200), dave closed at the maximum
//     session time (pid 201), a close that failed (pid 202), a dry-run
//     close (pid 203), and a warning found in the MESSAGE of a record
//     without SSHWARDEN_ACTION (the agent's stderr in the journal, pid
//     204), which counts for db1;
//   - bastion: only the agent's start and its policy, no action;
//   - a close (pid 300) read from the agent's stderr: no _HOSTNAME.
func hostTrail() []string {
	web1, db1, bastion := "_HOSTNAME=web1", "_HOSTNAME=db1", "_HOSTNAME=bastion"
	return []string{
		jline(0, "SSHWARDEN_ACTION=agent-started", bastion),
		jline(1, "SSHWARDEN_ACTION=policy-loaded", bastion),
		act(0, "warn", "100", web1),
		act(30, "heeded", "100", web1),
		act(900, "warn", "100", web1),
		act(960, "close", "100", web1),
		act(10, "warn", "101", web1, "SSHWARDEN_USER=bob"),
		act(70, "close", "101", web1, "SSHWARDEN_USER=bob"),
		act(20, "warn-failed", "102", web1, "SSHWARDEN_USER=bob"),
		act(0, "warn", "200", db1, "SSHWARDEN_USER=carol"),
		act(60, "close", "200", db1, "SSHWARDEN_USER=carol"),
		act(100, "close", "201", db1, "SSHWARDEN_USER=dave", "SSHWARDEN_REASON=max-session-time"),
		act(110, "close-failed", "202", db1, "SSHWARDEN_USER=dave"),
		act(120, "close", "203", db1, "SSHWARDEN_USER=dave", "SSHWARDEN_DRY_RUN=yes"),
		jline(130, db1, "MESSAGE="+`{"time":"2026-11-22T12:02:10Z","level":"INFO","msg":"Warned ...","SSHWARDEN_ACTION":"warn","SSHWARDEN_JOURNAL_ERROR":"no buffer space","SSHWARDEN_PID":"204","SSHWARDEN_REASON":"idle","SSHWARDEN_USER":"erin","SYSLOG_IDENTIFIER":"sshwarden"}`),
		`{"time":"2026-11-22T12:03:00Z","level":"INFO","msg":"Closed ...","SSHWARDEN_ACTION":"close","SSHWARDEN_IDLE_SECONDS":"900","SSHWARDEN_PID":"300","SSHWARDEN_REASON":"idle","SSHWARDEN_USER":"alice","SYSLOG_IDENTIFIER":"sshwarden"}`,
	}
}

// TestReportByHost: the per-host breakdown of a central trail, exact.
func TestReportByHost(t *testing.T) {
	t.Parallel()
	rep := readLines(t, hostTrail(), ReportOptions{Location: time.UTC})
	want := []ReportRow{
		{Key: "db1", Warned: 2, Closed: 2, CloseFailed: 1},
		{Key: "web1", Warned: 3, Closed: 2, Heeded: 1},
		{Key: "", Closed: 1},
		{Key: "bastion"},
	}
	if diff := cmp.Diff(want, rep.ByHost, reportCmp); diff != "" {
		t.Errorf("ByHost (-want +got):\n%s", diff)
	}
	wantCounts := Counts{Warned: 5, Closed: 5, Heeded: 1, WarnFailed: 1, CloseFailed: 1, ClosedByReason: reasonCounts(4, 1)}
	if diff := cmp.Diff(wantCounts, rep.Counts); diff != "" {
		t.Errorf("Counts (-want +got):\n%s", diff)
	}
	if rep.DryRun.Closed != 1 || rep.Records != 16 || len(rep.Skipped) != 0 {
		t.Errorf("DryRun.Closed, Records, Skipped = %d, %d, %v; want 1, 16, none", rep.DryRun.Closed, rep.Records, rep.Skipped)
	}
	// The rows of the hosts add up to the totals.
	var sum ReportRow
	for _, r := range rep.ByHost {
		sum.Warned += r.Warned
		sum.Closed += r.Closed
		sum.Heeded += r.Heeded
		sum.CloseFailed += r.CloseFailed
	}
	if sum.Warned != rep.Warned || sum.Closed != rep.Closed || sum.Heeded != rep.Heeded || sum.CloseFailed != rep.CloseFailed {
		t.Errorf("ByHost sums to %+v, want the totals %+v", sum, rep.Counts)
	}

	// Bounds: SSHWARDEN_ fields and a _HOSTNAME of another line do not
	// leak into the next; --since keeps the hosts of the records counted.
	rep = readLines(t, hostTrail(), ReportOptions{Since: time.Unix(reportBase+900, 0)})
	want = []ReportRow{{Key: "web1", Warned: 1, Closed: 1}}
	if diff := cmp.Diff(want, rep.ByHost, reportCmp); diff != "" {
		t.Errorf("ByHost since second 900 (-want +got):\n%s", diff)
	}
}

// TestReportByHostOneHost: a trail of one host, with or without
// _HOSTNAME, has one row and no HOST table in the text; two hosts have it.
func TestReportByHostOneHost(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		lines []string
		rows  []ReportRow
		table bool
	}{
		{"no _HOSTNAME", []string{act(0, "warn", "1"), act(60, "close", "1")}, []ReportRow{{Key: "", Warned: 1, Closed: 1}}, false},
		{"one host", []string{act(0, "warn", "1", "_HOSTNAME=web1"), act(60, "close", "1", "_HOSTNAME=web1")}, []ReportRow{{Key: "web1", Warned: 1, Closed: 1}}, false},
		{"two hosts", []string{act(0, "warn", "1", "_HOSTNAME=web1"), act(60, "close", "1", "_HOSTNAME=web2")},
			[]ReportRow{{Key: "web2", Closed: 1}, {Key: "web1", Warned: 1}}, true},
		{"a host and a line without", []string{act(0, "warn", "1", "_HOSTNAME=web1"), act(60, "close", "1")},
			[]ReportRow{{Key: "", Closed: 1}, {Key: "web1", Warned: 1}}, true},
		{"none", nil, []ReportRow{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := readLines(t, tc.lines, ReportOptions{Location: time.UTC})
			if diff := cmp.Diff(tc.rows, rep.ByHost, reportCmp); diff != "" {
				t.Errorf("ByHost (-want +got):\n%s", diff)
			}
			var buf bytes.Buffer
			if err := rep.WriteText(&buf); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(buf.String(), "\nHOST "); got != tc.table {
				t.Errorf("HOST table in the text: %v, want %v\n%s", got, tc.table, buf.String())
			}
		})
	}
}

// TestReportByHostText: the HOST table comes first, as the others are
// printed, before the USER table.
func TestReportByHostText(t *testing.T) {
	t.Parallel()
	rep := readLines(t, hostTrail(), ReportOptions{Location: time.UTC})
	var buf bytes.Buffer
	if err := rep.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	want := `Dry run (SSHWARDEN_DRY_RUN=yes), not counted above: warned 0 (heeded 0), closed 1 (idle 1, max-session-time 0), warn failed 0, close failed 0.

HOST     WARNED  CLOSED  HEEDED  CLOSE-FAILED
db1           2       2       0             1
web1          3       2       1             0
-             0       1       0             0
bastion       0       0       0             0

USER   WARNED  CLOSED  HEEDED  CLOSE-FAILED
alice       2       2       1             0
`
	if !strings.Contains(buf.String(), want) {
		t.Errorf("WriteText lacks\n%s\nin:\n%s", want, buf.String())
	}
}

// TestReportByHostBounds: the host table is capped like the others: 20
// rows in the text, 10,000 in the report and the rest under (other).
func TestReportByHostBounds(t *testing.T) {
	t.Parallel()
	var lines []string
	for i := range maxReportKeys + 5 {
		lines = append(lines, act(int64(i), "close", "1", fmt.Sprintf("_HOSTNAME=host%05d", i)))
	}
	rep := readLines(t, lines, ReportOptions{Location: time.UTC})
	if len(rep.ByHost) != maxReportKeys+1 {
		t.Fatalf("len(ByHost) = %d, want %d", len(rep.ByHost), maxReportKeys+1)
	}
	if r := rep.ByHost[0]; r.Key != OtherKey || r.Closed != 5 {
		t.Errorf("ByHost[0] = %+v, want %s with 5 closes", r, OtherKey)
	}
	var buf bytes.Buffer
	if err := rep.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("(and %d more)\n\nUSER", maxReportKeys+1-reportRows); !strings.Contains(buf.String(), want) {
		t.Errorf("WriteText: no %q after the host table", want)
	}
}

// TestReportRepeat: a journal entry read again (a resumed
// systemd-journal-upload sends the entry at its cursor twice) is counted
// once; entries that differ in their boot, monotonic time or host are not
// repeats, nor are lines without a boot ID (the agent's stderr), and the
// window of remembered entries is bounded.
func TestReportRepeat(t *testing.T) {
	t.Parallel()
	entry := func(sec int64, action, pid, boot, mono, host string) string {
		return act(sec, action, pid, "_BOOT_ID="+boot, "__MONOTONIC_TIMESTAMP="+mono, "_HOSTNAME="+host)
	}
	stderrClose := `{"time":"2026-11-22T12:03:00Z","SSHWARDEN_ACTION":"close","SSHWARDEN_PID":"300","SSHWARDEN_REASON":"idle","SSHWARDEN_USER":"alice","SYSLOG_IDENTIFIER":"sshwarden"}`
	lines := []string{
		entry(0, "warn", "100", "b1", "1000", "web1"),
		entry(60, "close", "100", "b1", "61000", "web1"),
		entry(60, "close", "100", "b1", "61000", "web1"), // the resent entry
		entry(10, "warn", "100", "b1", "1000", "db1"),    // another host, same boot and times
		entry(70, "close", "100", "b1", "61000", "db1"),
		entry(60, "close", "100", "b2", "61000", "web1"), // another boot
		entry(60, "close", "100", "b1", "61001", "web1"), // another entry of the same second
		stderrClose,
		stderrClose, // no boot ID: each line counts
		entry(60, "close", "100", "b1", "61000", "web1"), // resent again, later
	}
	rep := readLines(t, lines, ReportOptions{Location: time.UTC})
	if rep.Warned != 2 || rep.Closed != 6 || rep.Skipped[SkipRepeat] != 2 || rep.Records != 8 {
		t.Errorf("warned %d closed %d records %d skipped %v; want 2, 6, 8 and 2 repeats", rep.Warned, rep.Closed, rep.Records, rep.Skipped)
	}

	// Past the window an entry is no longer remembered.
	var r recentEntries
	first := rawRecord{Boot: jsonField("b"), Mono: jsonField("0")}
	if r.repeated(&first, &first) || !r.repeated(&first, &first) {
		t.Fatal("an entry read twice in a row is not a repeat")
	}
	for i := 1; i <= repeatWindow; i++ {
		rec := rawRecord{Boot: jsonField("b"), Mono: jsonField(strconv.Itoa(i))}
		if r.repeated(&rec, &rec) {
			t.Fatalf("entry %d: a repeat", i)
		}
	}
	if len(r.seen) != repeatWindow || len(r.ring) != repeatWindow {
		t.Errorf("remembers %d entries in a ring of %d, want %d", len(r.seen), len(r.ring), repeatWindow)
	}
	if r.repeated(&first, &first) {
		t.Error("an entry older than the window is still remembered")
	}
}

// TestReportGaps: the periods the agent did not run, per host, from its
// start and stop records: a clean stop and start, a start with no stop
// before it (killed: the gap begins at the host's last record), a stop
// with no start after it, and a host whose agent never stopped.
func TestReportGaps(t *testing.T) {
	t.Parallel()
	life := func(sec int64, action, host string) string {
		return jline(sec, "SSHWARDEN_ACTION="+action, "MESSAGE_ID="+MessageID(action), "_HOSTNAME="+host)
	}
	rep := readLines(t, []string{
		life(0, ActionAgentStarted, "a"),
		life(0, ActionAgentStarted, "b"),
		act(100, "warn", "1", "_HOSTNAME=a"),
		life(200, ActionAgentStopped, "a"), // clean: a is down 200..300
		life(300, ActionAgentStarted, "a"),
		act(400, "warn", "1", "_HOSTNAME=a"), // a killed after 400
		life(900, ActionAgentStarted, "a"),   // a down 400..900, unclean
		life(950, ActionAgentStopped, "a"),   // a down from 950 on
		act(500, "warn", "2", "_HOSTNAME=b"), // b never stops
		life(50, ActionAgentStopped, "c"),    // c ran before the range, down from 50 on
	}, ReportOptions{Location: time.UTC})
	at := func(sec int64) time.Time { return time.Unix(reportBase+sec, 0).UTC() }
	want := []Gap{
		{Host: "a", From: at(200), Clean: true, To: at(300)},
		{Host: "a", From: at(400), To: at(900)},
		{Host: "a", From: at(950), Clean: true},
		{Host: "c", From: at(50), Clean: true},
	}
	if diff := cmp.Diff(want, rep.Gaps); diff != "" {
		t.Errorf("Gaps (-want +got):\n%s", diff)
	}
	if rep.GapsTruncated {
		t.Error("GapsTruncated with 7 lifecycle records")
	}
}
