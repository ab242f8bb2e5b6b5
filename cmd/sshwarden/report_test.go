package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/internal/journaltest"
	"github.com/sshwarden/sshwarden/internal/sshdtest"
	"github.com/sshwarden/sshwarden/watcher"
)

// reportJSON is the part of `report --json` the tests read.
type reportJSON struct {
	Warned         int            `json:"warned"`
	Closed         int            `json:"closed"`
	Heeded         int            `json:"heeded"`
	ClosedByReason map[string]int `json:"closed_by_reason"`
	WarnFailed     int            `json:"warn_failed"`
	CloseFailed    int            `json:"close_failed"`
	DryRun         struct {
		Warned, Closed, Heeded int
	} `json:"dry_run"`
	Records int             `json:"records"`
	Skipped map[string]int  `json:"skipped"`
	ByUser  []reportRowJSON `json:"by_user"`
	ByRule  []reportRowJSON `json:"by_rule"`
	ByPort  []reportRowJSON `json:"by_local_port"`
	Idle    struct {
		Count         int   `json:"count"`
		MedianSeconds int64 `json:"median_seconds"`
	} `json:"idle_at_close"`
	ClosesByHour [24]int  `json:"closes_by_hour"`
	Suggestions  []string `json:"suggestions"`
}

type reportRowJSON struct {
	Key                    string
	Warned, Closed, Heeded int
}

func runReportCmd(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(append([]string{"report"}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

// TestReportEndToEnd: the real agent closes one idle session and sees
// another answer its warning, through a real sshd; its records go to a real
// journald; `sshwarden report` reads them back with journalctl and counts
// exactly that.
func TestReportEndToEnd(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{})
	j := journaltest.Start(t)
	policy := filepath.Join(t.TempDir(), "policy.conf")
	if err := os.WriteFile(policy, []byte(agentPolicy(s.Port)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	idle, err := s.StartClient(ctx, "-tt", "sleep 611")
	if err != nil {
		t.Fatal(err)
	}
	heeder := s.SSH(ctx, "-tt", "cat")
	keys, err := heeder.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var heederOut sshdtest.Buffer
	heeder.Stdout, heeder.Stderr = &heederOut, &heederOut
	if err := heeder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = heeder.Process.Kill(); _ = heeder.Wait() }()
	sIdle := waitSession(t, s, func(x watcher.Session) bool {
		return x.Kind == watcher.KindPTY && runs(x, "611")
	})
	sHeeder := waitSession(t, s, func(x watcher.Session) bool { return x.Kind == watcher.KindPTY && x.PID != sIdle.PID })

	agent := startAgent(t, j, "--policy", policy, "-f", s.ConfigPath)
	// The heeder answers its warning with a key, then logs out before a
	// second warning.
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(heederOut.String(), "sshwarden:") {
		if time.Now().After(deadline) {
			t.Fatalf("no warning on the heeder's terminal within 30s: %q\nagent: %s", heederOut.String(), agent.stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := keys.Write([]byte("k\n")); err != nil {
		t.Fatal(err)
	}
	heeded := waitRecord(t, j, "heeded", 1)
	_ = heeder.Process.Signal(syscall.SIGKILL)
	if r := idle.Wait(45 * time.Second); r.TimedOut {
		t.Fatalf("the idle session was not closed: %v", r)
	}
	if _, code := agent.stop(t); code != 0 {
		t.Errorf("agent exit code %d", code)
	}
	j.WaitFor(t, 10*time.Second, func(recs []map[string]string) bool { return count(recs, "agent-stopped") > 0 }, "SYSLOG_IDENTIFIER=sshwarden")
	if heeded[0]["SSHWARDEN_PID"] != strconv.Itoa(sHeeder.PID) {
		t.Errorf("heeded record of pid %s, want the heeder %d", heeded[0]["SSHWARDEN_PID"], sHeeder.PID)
	}

	out, errOut, code := runReportCmd(t, "--namespace", j.Namespace, "--json")
	if code != 0 {
		t.Fatalf("report --json: exit %d\n%s", code, errOut)
	}
	var got reportJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("report --json: %v\n%s", err, out)
	}
	rule := policy + ":6" // IdleTimeout
	port := strconv.Itoa(s.Port)
	if got.Warned != 2 || got.Heeded != 1 || got.Closed != 1 || got.ClosedByReason["idle"] != 1 || got.WarnFailed != 0 || got.CloseFailed != 0 {
		t.Errorf("counts: warned %d heeded %d closed %d (%v) warn-failed %d close-failed %d; want 2 1 1 (idle 1) 0 0",
			got.Warned, got.Heeded, got.Closed, got.ClosedByReason, got.WarnFailed, got.CloseFailed)
	}
	if got.DryRun.Warned+got.DryRun.Closed+got.DryRun.Heeded != 0 {
		t.Errorf("dry-run counts %+v, want none", got.DryRun)
	}
	for name, rows := range map[string][]reportRowJSON{s.User: got.ByUser, rule: got.ByRule, port: got.ByPort} {
		if len(rows) != 1 || rows[0] != (reportRowJSON{Key: name, Warned: 2, Closed: 1, Heeded: 1}) {
			t.Errorf("breakdown rows %+v, want one: %s warned 2 closed 1 heeded 1", rows, name)
		}
	}
	if got.Idle.Count != 1 || got.Idle.MedianSeconds < 20 || got.Idle.MedianSeconds > 40 {
		t.Errorf("idle at close: %+v, want 1 close at 20..40 s", got.Idle)
	}
	hours := 0
	for _, n := range got.ClosesByHour {
		hours += n
	}
	if hours != 1 {
		t.Errorf("closes by hour sum to %d, want 1", hours)
	}
	if got.Records < 5 { // started, policy, warn, heeded, warn, close, stopped
		t.Errorf("%d records counted, want at least 5", got.Records)
	}

	// The text report says the same.
	text, errOut, code := runReportCmd(t, "--namespace", j.Namespace)
	if code != 0 {
		t.Fatalf("report: exit %d\n%s", code, errOut)
	}
	for _, want := range []string{s.User, rule, port} {
		if !strings.Contains(text, want) {
			t.Errorf("text report lacks %q:\n%s", want, text)
		}
	}
	if t.Failed() {
		t.Logf("text report:\n%s\nJSON:\n%s\nagent stderr:\n%s", text, out, agent.stderr)
	}
}

func TestParseWhen(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 15, 4, 5, 0, time.Local)
	for in, want := range map[string]time.Time{
		"now":                  now,
		"today":                time.Date(2026, 11, 22, 0, 0, 0, 0, time.Local),
		"yesterday":            time.Date(2026, 11, 21, 0, 0, 0, 0, time.Local),
		"@1700000000":          time.Unix(1_700_000_000, 0),
		"2026-11-01":           time.Date(2026, 11, 1, 0, 0, 0, 0, time.Local),
		"2026-11-01 08:30":     time.Date(2026, 11, 1, 8, 30, 0, 0, time.Local),
		"2026-11-01T08:30:15Z": time.Date(2026, 11, 1, 8, 30, 15, 0, time.UTC),
		"24h":                  now.Add(-24 * time.Hour),
		"-90m":                 now.Add(-90 * time.Minute),
		"7d":                   now.Add(-7 * 24 * time.Hour),
		"1w2d3h":               now.Add(-(9*24 + 3) * time.Hour),
	} {
		got, err := parseWhen(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0h", "7x", "d", "2026-13-01", "@x", "tomorrow", "99999999d"} {
		if got, err := parseWhen(in, now); err == nil {
			t.Errorf("parseWhen(%q) = %v, want an error", in, got)
		}
	}
}
