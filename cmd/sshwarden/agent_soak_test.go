package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/internal/journaltest"
	"github.com/sshwarden/sshwarden/internal/sshdtest"
	"github.com/sshwarden/sshwarden/watcher"
)

// TestAgentSoak is `make soak`: SSHWARDEN_SOAK=DURATION runs it (10m in the
// Makefile; not in CI, which must stay short). Half of the sessions sit idle
// and are replaced as the agent closes them, half type at random intervals
// below the idle limit. It reports wrong closes (a typing session closed:
// goal 0), missed closes (an idle session alive well past its deadline:
// goal 0), the close latency after the deadline, and the agent's CPU time
// and peak memory.
func TestAgentSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("SSHWARDEN_SOAK"))
	if err != nil {
		t.Skip("set SSHWARDEN_SOAK=DURATION (make soak) to run the soak test")
	}
	const (
		idleN, typingN = 25, 25
		limit          = 30 * time.Second
		// The kernel moves a tty's atime at most every 8 s, and the agent
		// acts on the end of that window; a scan adds up to a second.
		slack = 8*time.Second + 2*time.Second
	)
	s := sshdtest.Start(t, sshdtest.Options{Extra: []string{"MaxSessions 100", "MaxStartups 100:30:200"}})
	j := journaltest.Start(t)
	policy := filepath.Join(t.TempDir(), "policy.conf")
	if err := os.WriteFile(policy, fmt.Appendf(nil, "Exempt yes\nMatch LocalPort %d\n  Exempt no\n  IdleTimeout %s\n  WarnBefore 10s\n", s.Port, limit), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	agent := startAgent(t, j, "--policy", policy, "-f", s.ConfigPath)
	cpu0 := cpuTime(t, agent.cmd.Process.Pid)
	start := time.Now()
	end := start.Add(d)

	var (
		mu                sync.Mutex
		latencies         []time.Duration
		wrong, missed, ok int
		wg                sync.WaitGroup
	)
	// Idle sessions: each is expected closed at login+limit; a new one
	// replaces it.
	for i := range idleN {
		wg.Go(func() {
			time.Sleep(time.Duration(i) * 200 * time.Millisecond)
			for time.Now().Add(limit + slack).Before(end) {
				c, err := s.StartClient(ctx, "-tt", "sleep 3600")
				if err != nil {
					t.Error(err)
					return
				}
				r := c.Wait(limit + slack + 5*time.Second)
				// The session's last input is its login, a little after
				// the client started: latency is measured from the start,
				// an upper bound.
				late := r.Elapsed - limit
				mu.Lock()
				switch {
				case r.TimedOut:
					missed++
				case r.Exit != 255 || !strings.Contains(r.Stderr, "closed by remote host"):
					t.Errorf("idle session ended otherwise: %v", r)
				default:
					ok++
					latencies = append(latencies, late)
				}
				mu.Unlock()
			}
		})
	}
	// Typing sessions: a keystroke at random intervals below the limit
	// minus the kernel's granularity; none may be closed.
	for i := range typingN {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			cmd := s.SSH(ctx, "-tt", "cat")
			keys, err := cmd.StdinPipe()
			if err != nil {
				t.Error(err)
				return
			}
			cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
			if err := cmd.Start(); err != nil {
				t.Error(err)
				return
			}
			exited := make(chan struct{})
			go func() { _ = cmd.Wait(); close(exited) }()
			for time.Now().Before(end) {
				if _, err := io.WriteString(keys, "k\n"); err != nil {
					break
				}
				select {
				case <-exited:
					mu.Lock()
					wrong++
					mu.Unlock()
					return
				case <-time.After(time.Second + time.Duration(rng.Int64N(int64(limit-slack-time.Second)))):
				}
			}
			_ = keys.Close()
			_ = cmd.Process.Kill()
			<-exited
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime(t, agent.cmd.Process.Pid) - cpu0
	hwm := peakRSS(t, agent.cmd.Process.Pid)
	agent.stop(t)
	// The agent's own lateness: at each close, how far the session's idle
	// time (from the end of the pts atime window) was past the limit.
	var agentLate []time.Duration
	for _, r := range j.Records(t, "SSHWARDEN_ACTION=close") {
		if n, err := strconv.Atoi(r["SSHWARDEN_IDLE_SECONDS"]); err == nil {
			agentLate = append(agentLate, time.Duration(n)*time.Second-limit)
		}
	}
	slices.Sort(agentLate)
	if n := len(agentLate); n > 0 {
		t.Logf("agent's lateness after the deadline it computed (idle at close minus limit, whole seconds): min %v, median %v, max %v over %d closes",
			agentLate[0], agentLate[n/2], agentLate[n-1], n)
	}

	slices.Sort(latencies)
	pct := func(p float64) time.Duration {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[int(p*float64(len(latencies)-1))].Round(100 * time.Millisecond)
	}
	t.Logf("soak %v: %d idle sessions closed, %d wrong closes, %d missed closes", elapsed.Round(time.Second), ok, wrong, missed)
	t.Logf("close after the deadline (from the client's start): p50 %v, p95 %v, max %v", pct(0.5), pct(0.95), pct(1))
	t.Logf("agent CPU %v in %v = %.3f%% of a core; peak RSS %d KiB", cpu, elapsed.Round(time.Second), 100*cpu.Seconds()/elapsed.Seconds(), hwm)
	if wrong > 0 || missed > 0 {
		t.Errorf("%d wrong closes and %d missed closes, want 0 and 0", wrong, missed)
	}
	if len(latencies) > 0 && latencies[0] < 0 {
		t.Errorf("a session was closed %v before its deadline", -latencies[0])
	}
}

// cpuTime is the user+system CPU time of pid so far.
func cpuTime(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// peakRSS is VmHWM of pid in KiB.
func peakRSS(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}

// TestAgentIdleCPU measures the agent's cost in the steady state the issue
// sets a goal for: 100 idle sessions, none near its limit, the default
// ScanInterval. SSHWARDEN_SOAK=DURATION runs it (make soak).
func TestAgentIdleCPU(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("SSHWARDEN_SOAK"))
	if err != nil {
		t.Skip("set SSHWARDEN_SOAK=DURATION (make soak) to run the soak test")
	}
	d = min(d, 3*time.Minute)
	const n = 100
	s := sshdtest.Start(t, sshdtest.Options{Extra: []string{"MaxSessions 200", "MaxStartups 200:30:300"}})
	j := journaltest.Start(t)
	policy := filepath.Join(t.TempDir(), "policy.conf")
	if err := os.WriteFile(policy, fmt.Appendf(nil, "Exempt yes\nMatch LocalPort %d\n  Exempt no\n  IdleTimeout 1h\n", s.Port), 0o644); err != nil {
		t.Fatal(err)
	}
	var clients []*sshdtest.Client
	for i := range n {
		c, err := s.StartClient(t.Context(), "-tt", "sleep 3600")
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
		if i%10 == 9 {
			time.Sleep(time.Second) // within MaxStartups
		}
	}
	waitSession(t, s, func(watcher.Session) bool { return true })
	time.Sleep(5 * time.Second) // the last logins
	agent := startAgent(t, j, "--policy", policy, "-f", s.ConfigPath)
	time.Sleep(3 * time.Second) // start-up: policy, first lint, first scan
	cpu0, t0 := cpuTime(t, agent.cmd.Process.Pid), time.Now()
	time.Sleep(d)
	cpu, elapsed := cpuTime(t, agent.cmd.Process.Pid)-cpu0, time.Since(t0)
	hwm := peakRSS(t, agent.cmd.Process.Pid)
	agent.stop(t)
	for _, c := range clients {
		_ = c.Signal(os.Kill)
	}
	recs := j.Records(t, "SYSLOG_IDENTIFIER=sshwarden")
	t.Logf("%d idle sessions, default ScanInterval: agent CPU %v in %v = %.3f%% of a core; peak RSS %d KiB; %d records",
		n, cpu, elapsed.Round(time.Second), 100*cpu.Seconds()/elapsed.Seconds(), hwm, len(recs))
}
