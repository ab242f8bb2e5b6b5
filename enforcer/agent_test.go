package enforcer

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sshwarden/sshwarden/audit"
	"github.com/sshwarden/sshwarden/policy"
	"github.com/sshwarden/sshwarden/watcher"
)

// The loop is tested in a synctest bubble: time is fake and moves only when
// every goroutine of the test waits, so ten minutes of agent life take
// milliseconds, and each wake-up, scan and action happens at an exact time.
// The sessions and their input are scripted (fakeHost); what the agent does
// with them is recorded (fakeHost's actions, fakeAudit). The real scanner,
// actor and journald are tested against a real sshd elsewhere
// (watcher/live_test.go, act_linux_test.go, cmd/sshwarden/agent_test.go).

// fakeSession is one scripted session: its pts atime follows the kernel's
// rule (moved on input only when the time crosses an 8-second window).
type fakeSession struct {
	s           watcher.Session
	atime       time.Time
	fingerprint uint64
}

type fakeHost struct {
	mu       sync.Mutex
	sessions map[int]*fakeSession
	scans    []time.Time
	scanErr  error
	warns    []event
	closes   []event
	closeErr error
	looks    int          // Activity calls
	noAddr   map[int]bool // sessions whose scans lack the addresses
}

type event struct {
	pid  int
	at   time.Time
	text string
}

// counts is how many warnings and closes the agent made so far.
func (h *fakeHost) counts() (warns, closes int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.warns), len(h.closes)
}

func newHost() *fakeHost { return &fakeHost{sessions: map[int]*fakeSession{}} }

func (h *fakeHost) login(pid int, kind watcher.Kind, user string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	s := watcher.Session{PID: pid, Child: pid + 1, User: user, UID: 1000 + pid, Kind: kind, Started: now,
		Remote: netip.MustParseAddrPort("192.0.2.7:50000"), Local: netip.MustParseAddrPort("127.0.0.1:22")}
	if kind == watcher.KindPTY {
		s.TTY, s.TTYs = fmt.Sprintf("pts/%d", pid), []string{fmt.Sprintf("pts/%d", pid)}
	}
	h.sessions[pid] = &fakeSession{s: s, atime: now}
}

// input is a keystroke (pty) or work done (notty) in session pid now.
func (h *fakeHost) input(pid int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := h.sessions[pid]
	now := time.Now()
	if (f.atime.Unix()^now.Unix())&^7 != 0 {
		f.atime = now
	}
	f.fingerprint++
}

func (h *fakeHost) Scan(now time.Time) ([]watcher.Session, []string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.scans = append(h.scans, now)
	if h.scanErr != nil {
		return nil, nil, h.scanErr
	}
	var out []watcher.Session
	for _, f := range h.sessions {
		s := f.s
		if h.noAddr[s.PID] {
			s.Remote, s.Local = netip.AddrPort{}, netip.AddrPort{}
		}
		if s.Kind == watcher.KindPTY {
			idle := now.Sub(f.atime)
			s.Idle = &idle
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b watcher.Session) int { return a.PID - b.PID })
	return out, nil, nil
}

func (h *fakeHost) Activity(s watcher.Session) (uint64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.looks++
	if f := h.sessions[s.PID]; f != nil {
		return f.fingerprint, true
	}
	return 0, false
}

func (h *fakeHost) Warn(s watcher.Session, text string) ([]string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.warns = append(h.warns, event{s.PID, time.Now(), text})
	if s.Kind == watcher.KindNone {
		return nil, errors.New("cannot warn")
	}
	return []string{"/dev/" + s.TTY}, nil
}

func (h *fakeHost) Close(ctx context.Context, s watcher.Session) (CloseResult, error) {
	time.Sleep(time.Second) // the monitor takes a moment to go
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closes = append(h.closes, event{pid: s.PID, at: time.Now()})
	if h.closeErr != nil {
		return CloseResult{}, h.closeErr
	}
	delete(h.sessions, s.PID)
	return CloseResult{Terminated: []int{s.PID}, Gone: true}, nil
}

type fakeAudit struct {
	mu      sync.Mutex
	records []audit.Record
}

func (a *fakeAudit) Record(r audit.Record) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.records = append(a.records, r)
}

func (a *fakeAudit) actions() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, r := range a.records {
		out = append(out, r.Action)
	}
	return out
}

func mustPolicy(t *testing.T, src string) *policy.Policy {
	t.Helper()
	p, err := policy.Parse("policy.conf", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// run starts the agent in the bubble; the returned stop ends it and waits.
func run(t *testing.T, a *Agent, p *policy.Policy) (stop func()) {
	t.Helper()
	a.SetPolicy(p)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

const basePolicy = `IdleTimeout 60s
WarnBefore 20s
ScanInterval 15s
`

func TestAgentIdleWarnThenClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, rec := newHost(), &fakeAudit{}
		t0 := time.Now()
		h.login(100, watcher.KindPTY, "alice") // idle from t0
		h.login(200, watcher.KindPTY, "bob")   // types every 10s
		a := &Agent{Sessions: h, Actions: h, Audit: rec}
		stop := run(t, a, mustPolicy(t, basePolicy))
		for range 30 { // five minutes
			time.Sleep(10 * time.Second)
			h.input(200)
		}
		stop()

		if len(h.warns) != 1 || h.warns[0].pid != 100 {
			t.Fatalf("warns = %+v, want one for pid 100", h.warns)
		}
		if len(h.closes) != 1 || h.closes[0].pid != 100 {
			t.Fatalf("closes = %+v, want one for pid 100", h.closes)
		}
		// The last input lies in [t0, t0&^7+8s): the agent takes the end of
		// the window, so it acts between 0 and 8 s late, never early, and
		// wakes for the deadline itself (not for the next 15 s scan).
		window := time.Unix(t0.Unix()&^7+8, 0)
		warnAt, closeAt := h.warns[0].at, h.closes[0].at.Add(-time.Second) // Close takes 1 s
		if want := window.Add(40 * time.Second); !warnAt.Equal(want) {
			t.Errorf("warned at t0+%v, want t0+%v", warnAt.Sub(t0), want.Sub(t0))
		}
		if want := window.Add(60 * time.Second); !closeAt.Equal(want) {
			t.Errorf("closed at t0+%v, want t0+%v", closeAt.Sub(t0), want.Sub(t0))
		}
		if !strings.Contains(h.warns[0].text, "idle for 40s") || !strings.Contains(h.warns[0].text, "closed in 20s") {
			t.Errorf("warning text = %q", h.warns[0].text)
		}
		got := rec.actions()
		if want := []string{"warn", "close"}; !slices.Equal(got, want) {
			t.Fatalf("records = %v, want %v", got, want)
		}
		w, c := rec.records[0], rec.records[1]
		if w.Session == nil || w.Session.PID != 100 || w.Rule != "policy.conf:1" || w.Limit != time.Minute || w.Reason != audit.ReasonIdle {
			t.Errorf("warn record = %+v", w)
		}
		if c.Idle != 60*time.Second || c.Fields["SSHWARDEN_SIGNALLED"] != "100" {
			t.Errorf("close record = %+v", c)
		}
		for _, want := range []string{`"alice" from 192.0.2.7 port 50000 on pts/100`, "idle for 1m, limit IdleTimeout 1m (policy.conf:1)", "SIGTERM to process 100"} {
			if !strings.Contains(c.Message, want) {
				t.Errorf("close message %q lacks %q", c.Message, want)
			}
		}
	})
}

// TestAgentUnknownAddresses: when the policy's Match blocks test
// addresses, a session whose addresses the scan did not find is left
// alone (said once), never given the rules of another address: alice's
// address is exempt, and she is idle far past the global limit.
func TestAgentUnknownAddresses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, rec := newHost(), &fakeAudit{}
		h.login(100, watcher.KindPTY, "alice")
		h.login(200, watcher.KindPTY, "bob")
		h.noAddr = map[int]bool{100: true, 200: true}
		a := &Agent{Sessions: h, Actions: h, Audit: rec}
		stop := run(t, a, mustPolicy(t, basePolicy+"Match Address 192.0.2.0/24\n\tExempt yes\n"))
		time.Sleep(5 * time.Minute)
		// bob's addresses come back, and with them his rules (the
		// exemption too: both sessions come from 192.0.2.7); alice's
		// never do.
		h.mu.Lock()
		h.noAddr[200] = false
		if f := h.sessions[200]; f != nil { // nil: closed already, which the checks below report
			f.s.Remote = netip.MustParseAddrPort("198.51.100.4:40000")
		}
		h.mu.Unlock()
		time.Sleep(5 * time.Minute)
		stop()

		if len(h.warns) != 1 || h.warns[0].pid != 200 || len(h.closes) != 1 || h.closes[0].pid != 200 {
			t.Errorf("warns %+v, closes %+v; want one of each, for bob (200) only", h.warns, h.closes)
		}
		var left []string
		for _, r := range rec.records {
			if r.Action == audit.ActionError {
				left = append(left, r.Fields["SSHWARDEN_ERROR"])
			}
		}
		if want := []string{"session 100: its addresses are unknown", "session 200: its addresses are unknown"}; !slices.Equal(left, want) {
			t.Errorf("error records %q, want %q (each once)", left, want)
		}
	})
}

// A session seen once without its addresses, then gone (a logout: sshd
// closes the socket before its processes exit), is no error; one whose
// addresses stay unknown is recorded once, at the first scan 5 s or more
// after the first that missed them (here the next, ScanInterval 15s).
func TestAgentUnknownAddressesOneScan(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, rec := newHost(), &fakeAudit{}
		h.login(100, watcher.KindNoTTY, "alice")
		h.noAddr = map[int]bool{100: true}
		a := &Agent{Sessions: h, Actions: h, Audit: rec}
		stop := run(t, a, mustPolicy(t, basePolicy+"Match Address 192.0.2.0/24\n\tExempt yes\n"))
		time.Sleep(5 * time.Second) // the first scan
		h.mu.Lock()
		delete(h.sessions, 100)
		h.mu.Unlock()
		time.Sleep(time.Minute)
		if n := len(rec.records); n != 0 {
			t.Errorf("a session without addresses in one scan only: records %+v, want none", rec.records)
		}
		h.login(200, watcher.KindNoTTY, "bob")
		h.mu.Lock()
		h.noAddr[200] = true
		h.mu.Unlock()
		time.Sleep(time.Minute)
		stop()
		if len(rec.records) != 1 || rec.records[0].Fields["SSHWARDEN_ERROR"] != "session 200: its addresses are unknown" ||
			!strings.Contains(rec.records[0].Message, "its socket was not found for 15s") {
			t.Errorf("a session whose addresses stay unknown: records %+v, want one error, after 15s", rec.records)
		}
	})
}

func TestAgentInputAfterWarning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, rec := newHost(), &fakeAudit{}
		h.login(100, watcher.KindPTY, "alice")
		a := &Agent{Sessions: h, Actions: h, Audit: rec}
		stop := run(t, a, mustPolicy(t, basePolicy))
		time.Sleep(55 * time.Second) // warned at 40..48 s
		if w, _ := h.counts(); w != 1 {
			t.Fatalf("after 55s: %d warnings, want 1", w)
		}
		h.input(100) // the user is back
		time.Sleep(60 * time.Second)
		if w, c := h.counts(); c != 0 || w != 2 {
			t.Fatalf("after input following the warning: %d closes (want 0), %d warnings (want 2: a new idle period warns again)", c, w)
		}
		time.Sleep(30 * time.Second)
		stop()
		if len(h.closes) != 1 {
			t.Fatalf("closes = %+v, want 1 at the end of the second idle period", h.closes)
		}
		if got, want := rec.actions(), []string{"warn", "heeded", "warn", "close"}; !slices.Equal(got, want) {
			t.Fatalf("records = %v, want %v", got, want)
		}
		if r := rec.records[1]; r.Reason != audit.ReasonIdle || r.Rule != "policy.conf:1" || r.Limit != time.Minute || !strings.Contains(r.Message, "the close is called off") {
			t.Errorf("heeded record = %+v", r)
		}
	})
}

// The loop sleeps until the next deadline or scan, never on a fast tick:
// an hour with sessions that need nothing costs ScanInterval's scans.
func TestAgentWakeups(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost()
		for pid := 100; pid < 200; pid++ {
			h.login(pid, watcher.KindPTY, "backup")
		}
		a := &Agent{Sessions: h, Actions: h, Audit: &fakeAudit{}}
		stop := run(t, a, mustPolicy(t, "IdleTimeout 60s\nWarnBefore 20s\nScanInterval 1m\nMatch User backup\n  Exempt yes\n"))
		time.Sleep(time.Hour)
		stop()
		// One scan at start, then one a minute.
		if n := len(h.scans); n < 60 || n > 62 {
			t.Errorf("%d scans in an hour with ScanInterval 1m", n)
		}
		if len(h.warns)+len(h.closes) != 0 {
			t.Errorf("exempt sessions were acted on: %d warns %d closes", len(h.warns), len(h.closes))
		}
	})
}

func TestAgentDryRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, rec := newHost(), &fakeAudit{}
		h.login(100, watcher.KindPTY, "alice")
		a := &Agent{Sessions: h, Actions: h, Audit: rec, DryRun: true}
		stop := run(t, a, mustPolicy(t, basePolicy))
		time.Sleep(2 * time.Minute)
		stop()
		if len(h.warns)+len(h.closes) != 0 {
			t.Fatalf("dry run touched sessions: %+v %+v", h.warns, h.closes)
		}
		got := rec.actions()
		if want := []string{"warn", "close"}; !slices.Equal(got, want) {
			t.Fatalf("records = %v, want %v (a close is decided once)", got, want)
		}
		for _, r := range rec.records {
			if !r.DryRun || !strings.HasPrefix(r.Message, "Would ") {
				t.Errorf("dry-run record %+v", r)
			}
		}
	})
}

func TestAgentNoTTY(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, rec := newHost(), &fakeAudit{}
		t0 := time.Now()
		h.login(100, watcher.KindNoTTY, "idle")
		h.login(200, watcher.KindNoTTY, "busy")
		h.login(300, watcher.KindNone, "tunnel")
		a := &Agent{Sessions: h, Actions: h, Audit: rec}
		stop := run(t, a, mustPolicy(t, basePolicy+"CloseNoTTY yes\n"))
		for range 60 {
			time.Sleep(5 * time.Second)
			h.input(200)
		}
		stop()
		if len(h.closes) != 1 || h.closes[0].pid != 100 {
			t.Fatalf("closes = %+v, want only the idle notty session", h.closes)
		}
		// Activity of a notty session is known to the scan: first seen at
		// t0, unchanged since, so closed at the first scan at or after
		// t0+60s.
		if at := h.closes[0].at.Add(-time.Second).Sub(t0); at < 60*time.Second || at > 61*time.Second {
			t.Errorf("closed the idle notty session at t0+%v, want t0+60s", at)
		}
		for _, w := range h.warns {
			if w.pid == 300 {
				t.Errorf("ssh -N session warned")
			}
		}
	})
}

func TestAgentSetPolicy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost()
		h.login(100, watcher.KindPTY, "alice")
		a := &Agent{Sessions: h, Actions: h, Audit: &fakeAudit{}}
		stop := run(t, a, mustPolicy(t, "IdleTimeout 1h\nScanInterval 10m\n"))
		time.Sleep(time.Minute)
		// A reload with a shorter limit applies at once, not at the next
		// scan 10 minutes later.
		a.SetPolicy(mustPolicy(t, "IdleTimeout 90s\nScanInterval 10m\n"))
		time.Sleep(time.Minute)
		stop()
		if len(h.closes) != 1 {
			t.Fatalf("closes = %+v, want the session closed under the new policy", h.closes)
		}
		if at := h.closes[0].at.Sub(h.sessionsStart()); at > 100*time.Second {
			t.Errorf("closed %v after login, want about 98s", at)
		}
	})
}

func (h *fakeHost) sessionsStart() time.Time {
	return time.Unix(946684800, 0) // synctest's epoch: 2000-01-01 UTC
}

func TestAgentScanErrorsAndCloseFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, rec := newHost(), &fakeAudit{}
		h.scanErr = errors.New("/proc is gone")
		a := &Agent{Sessions: h, Actions: h, Audit: rec}
		stop := run(t, a, mustPolicy(t, basePolicy))
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := rec.actions(); !slices.Equal(got, []string{"error"}) {
			t.Fatalf("records after a minute of failed scans = %v, want one error", got)
		}
		h.mu.Lock()
		h.scanErr = nil
		h.closeErr = errors.New("pidfd_send_signal: operation not permitted")
		h.mu.Unlock()
		h.login(100, watcher.KindPTY, "alice")
		time.Sleep(2 * time.Minute)
		stop()
		if n := len(h.scans); n < 12 {
			t.Errorf("only %d scans: a failed scan must be retried", n)
		}
		got := rec.actions()
		if want := []string{"error", "warn", "close-failed"}; !slices.Equal(got, want) {
			t.Fatalf("records = %v, want %v", got, want)
		}
		if r := rec.records[2]; !strings.Contains(r.Message, "operation not permitted") || r.Fields["SSHWARDEN_ERROR"] == "" {
			t.Errorf("close-failed record %+v", r)
		}
	})
}

func TestAgentNotifyAndOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost()
		h.login(100, watcher.KindPTY, "alice")
		var mu sync.Mutex
		var states []string
		notify := func(s string) { mu.Lock(); states = append(states, s); mu.Unlock() }
		a := &Agent{Sessions: h, Actions: h, Audit: &fakeAudit{}, Notify: notify, Watchdog: 20 * time.Second}
		stop := run(t, a, mustPolicy(t, basePolicy+"Exempt yes\n"))
		time.Sleep(time.Minute)
		stop()
		mu.Lock()
		defer mu.Unlock()
		if len(states) == 0 || states[0] != "READY=1\nSTATUS=watching 1 SSH sessions (1 pty, 0 notty, 0 -N)" {
			t.Errorf("first notification %q", states)
		}
		if n := strings.Count(strings.Join(states, "\n"), "WATCHDOG=1"); n < 5 || n > 7 {
			t.Errorf("%d watchdog pings in 60s with WatchdogSec 20s, want 6", n)
		}
		if states[len(states)-1] != "STOPPING=1" {
			t.Errorf("last notification %q, want STOPPING=1", states[len(states)-1])
		}

		h2 := newHost()
		once := &Agent{Sessions: h2, Actions: h2, Audit: &fakeAudit{}, Once: true}
		once.SetPolicy(mustPolicy(t, basePolicy))
		if err := once.Run(t.Context()); err != nil || len(h2.scans) != 1 {
			t.Errorf("Once: err %v, %d scans", err, len(h2.scans))
		}
	})
}

func TestExpandWarnMessage(t *testing.T) {
	s := watcher.Session{User: "alice", TTY: "pts/3"}
	x := Action{Session: s, Reason: audit.ReasonIdle, Idle: 14 * time.Minute, Left: time.Minute, Age: 2*time.Hour + 5*time.Second}
	for _, c := range []struct{ tmpl, want string }{
		{"", "sshwarden: this session has been idle for 14m; it will be closed in 1m. Press Enter to keep it open."},
		{"%u on %t idle %i, %l left, age %a (%r) 100%% %z %", "alice on pts/3 idle 14m, 1m left, age 2h0m5s (idle) 100% %z %"},
	} {
		x.Message = c.tmpl
		if got := ExpandWarnMessage(x); got != c.want {
			t.Errorf("ExpandWarnMessage(%q) = %q, want %q", c.tmpl, got, c.want)
		}
	}
	x.Message, x.Reason = "", audit.ReasonMaxSessionTime
	if got := ExpandWarnMessage(x); !strings.Contains(got, "open for 2h0m5s") {
		t.Errorf("max-session-time default text %q", got)
	}
}

// Without CloseNoTTY nothing closes a notty session for idleness, so its
// processes are never looked at.
func TestAgentNoTTYNotWatched(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost()
		h.login(100, watcher.KindNoTTY, "backup")
		a := &Agent{Sessions: h, Actions: h, Audit: &fakeAudit{}}
		stop := run(t, a, mustPolicy(t, basePolicy))
		time.Sleep(5 * time.Minute)
		stop()
		if h.looks != 0 || len(h.closes) != 0 {
			t.Errorf("%d looks at the processes and %d closes of a notty session without CloseNoTTY, want 0 and 0", h.looks, len(h.closes))
		}
		if len(h.scans) < 10 {
			t.Errorf("only %d scans", len(h.scans))
		}
	})
}

// TestAgentSinks: each action ends in one record, handed once to each
// sink: the metrics count exactly the records the audit sink got, for real
// actions, failed closes and a dry run alike.
func TestAgentSinks(t *testing.T) {
	for _, tt := range []struct {
		name     string
		dryRun   bool
		closeErr error
		records  []string
		metrics  []string
	}{
		{"closed", false, nil, []string{"warn", "warn", "close", "close"}, []string{
			`sshwarden_warnings_total{reason="idle"} 2`, `sshwarden_closes_total{reason="idle"} 2`, `sshwarden_close_failures_total 0`,
		}},
		{"close fails", false, errors.New("operation not permitted"), []string{"warn", "warn", "close-failed", "close-failed"}, []string{
			`sshwarden_warnings_total{reason="idle"} 2`, `sshwarden_closes_total{reason="idle"} 0`, `sshwarden_close_failures_total 2`,
		}},
		{"dry run", true, nil, []string{"warn", "warn", "close", "close"}, []string{
			`sshwarden_warnings_total{reason="idle"} 2`, `sshwarden_closes_total{reason="idle"} 2`, `sshwarden_close_failures_total 0`,
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h, rec, m := newHost(), &fakeAudit{}, &audit.Metrics{}
				h.closeErr = tt.closeErr
				h.login(100, watcher.KindPTY, "alice")
				h.login(101, watcher.KindPTY, "bob")
				a := &Agent{Sessions: h, Actions: h, Audit: rec, Metrics: m, DryRun: tt.dryRun}
				stop := run(t, a, mustPolicy(t, basePolicy))
				time.Sleep(2 * time.Minute)
				stop()

				got := rec.actions()
				slices.Sort(got)
				want := slices.Sorted(slices.Values(tt.records))
				if !slices.Equal(got, want) {
					t.Errorf("records = %v, want %v", got, want)
				}
				for _, r := range rec.records {
					if r.DryRun != tt.dryRun {
						t.Errorf("record %s: DryRun = %v, want %v", r.Action, r.DryRun, tt.dryRun)
					}
				}
				var b strings.Builder
				if _, err := m.WriteTo(&b); err != nil {
					t.Fatal(err)
				}
				for _, line := range tt.metrics {
					if !strings.Contains(b.String(), line+"\n") {
						t.Errorf("metrics lack %q:\n%s", line, b.String())
					}
				}
				if warns, closes := h.counts(); tt.dryRun && (warns != 0 || closes != 0) {
					t.Errorf("dry run: %d warnings and %d closes made, want none", warns, closes)
				}
			})
		})
	}
}
