package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/audit"
	"github.com/sshwarden/sshwarden/enforcer"
	"github.com/sshwarden/sshwarden/internal/host"
	"github.com/sshwarden/sshwarden/internal/journaltest"
	"github.com/sshwarden/sshwarden/internal/sshdtest"
	"github.com/sshwarden/sshwarden/watcher"
)

// The agent end to end: the real binary, a real sshd on 127.0.0.1 with real
// ssh clients, and a real journald (a namespace of its own, which the agent
// reaches through its standard socket path in a mount namespace of its
// own). The policy exempts every session but the test sshd's (Match
// LocalPort), so the agent never touches a session of this host.

// agentPolicy scopes the agent to one sshd port with short limits.
func agentPolicy(port int, extra ...string) string {
	return fmt.Sprintf(`# sshwarden test policy
Exempt yes
ScanInterval 2s
Match LocalPort %d
    Exempt no
    IdleTimeout 20s
    WarnBefore 10s
    CloseNoTTY yes
%s`, port, strings.Join(extra, "\n"))
}

// agentProc is a running `sshwarden agent`.
type agentProc struct {
	cmd    *exec.Cmd
	stderr *sshdtest.Buffer
	done   chan struct{}
}

func startAgent(t *testing.T, j *journaltest.Journal, args ...string) *agentProc {
	t.Helper()
	return startAgentEnv(t, j, nil, args...)
}

// startAgentEnv starts the agent with env added to the test's environment.
func startAgentEnv(t *testing.T, j *journaltest.Journal, env []string, args ...string) *agentProc {
	t.Helper()
	bin, err := exec.LookPath("sshwarden") // this test binary, by testscript.Main
	if err != nil {
		t.Fatal(err)
	}
	a := &agentProc{cmd: j.Command(bin, append([]string{"agent"}, args...)...), stderr: &sshdtest.Buffer{}, done: make(chan struct{})}
	a.cmd.Stdout, a.cmd.Stderr = io.Discard, a.stderr
	if env != nil {
		a.cmd.Env = append(os.Environ(), env...)
	}
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = a.cmd.Wait(); close(a.done) }()
	t.Cleanup(func() {
		_ = a.cmd.Process.Kill()
		<-a.done
	})
	return a
}

// stop sends SIGTERM and returns how long the agent took to exit, and its
// exit code.
func (a *agentProc) stop(t *testing.T) (time.Duration, int) {
	t.Helper()
	start := time.Now()
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("the agent did not stop within 15s of SIGTERM\n%s", a.stderr)
	}
	return time.Since(start), a.cmd.ProcessState.ExitCode()
}

// waitSession waits for the scanner to see a session of s matching ok.
func waitSession(t *testing.T, s *sshdtest.Server, ok func(watcher.Session) bool) watcher.Session {
	t.Helper()
	sc, err := watcher.NewScanner(watcher.Options{})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		sessions, _, err := sc.Scan(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range sessions {
			if x.Listener == s.PID && ok(x) {
				return x
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no such session of the test sshd within 15s")
	return watcher.Session{}
}

func TestAgentEndToEnd(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{Extra: []string{"Subsystem sftp /usr/lib/openssh/sftp-server"}})
	j := journaltest.Start(t)
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.conf")
	metrics := filepath.Join(dir, "sshwarden.prom")
	if err := os.WriteFile(policy, []byte(agentPolicy(s.Port)), 0o644); err != nil {
		t.Fatal(err)
	}
	// MetricsFile is agent-wide: it goes before the first Match.
	b, _ := os.ReadFile(policy)
	b = []byte(strings.Replace(string(b), "ScanInterval 2s\n", "ScanInterval 2s\nMetricsFile "+metrics+"\n", 1))
	if err := os.WriteFile(policy, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	// The sessions, each told apart by its command.
	idlePTY, err := s.StartClient(ctx, "-tt", "sleep 601")
	if err != nil {
		t.Fatal(err)
	}
	typing := s.SSH(ctx, "-tt", "cat")
	keys, err := typing.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var typingOut sshdtest.Buffer
	typing.Stdout, typing.Stderr = &typingOut, &typingOut
	if err := typing.Start(); err != nil {
		t.Fatal(err)
	}
	idleExec, err := s.StartClient(ctx, "sleep 602")
	if err != nil {
		t.Fatal(err)
	}
	busyExec, err := s.StartClient(ctx, "while :; do echo busy; sleep 1; done")
	if err != nil {
		t.Fatal(err)
	}
	tunnel, err := s.StartClient(ctx, "-N")
	if err != nil {
		t.Fatal(err)
	}
	// An sftp session that does nothing (its stdin stays open).
	sftp := s.SSH(ctx, "-s", "sftp")
	sftpIn, err := sftp.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var sftpErr sshdtest.Buffer
	sftp.Stdout, sftp.Stderr = io.Discard, &sftpErr
	if err := sftp.Start(); err != nil {
		t.Fatal(err)
	}
	sftpDone := make(chan error, 1)
	go func() { sftpDone <- sftp.Wait() }()
	defer sftpIn.Close()

	sIdle := waitSession(t, s, func(x watcher.Session) bool {
		return x.Kind == watcher.KindPTY && runs(x, "601")
	})
	sTyping := waitSession(t, s, func(x watcher.Session) bool { return x.Kind == watcher.KindPTY && x.PID != sIdle.PID })
	sExec := waitSession(t, s, func(x watcher.Session) bool { return x.Command == "sleep 602" })
	sBusy := waitSession(t, s, func(x watcher.Session) bool { return strings.Contains(x.Command, "busy") })
	sSFTP := waitSession(t, s, func(x watcher.Session) bool {
		return x.Kind == watcher.KindNoTTY && x.PID != sExec.PID && x.PID != sBusy.PID
	})
	// Until its channel opens, any login looks like ssh -N: the tunnel is
	// the one left once the others have theirs.
	sTunnel := waitSession(t, s, func(x watcher.Session) bool { return x.Kind == watcher.KindNone && x.PID != sSFTP.PID })
	loggedIn := time.Now()
	var sleepPID int // the idle exec session's command, which sshd orphans
	for _, p := range sExec.Procs {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p)); err == nil && strings.HasPrefix(string(b), "sleep\x00602") {
			sleepPID = p
		}
	}
	if sleepPID == 0 {
		t.Fatalf("no sleep 602 among the exec session's processes %v", sExec.Procs)
	}

	stopTyping, typed := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(typed)
		for { // a keystroke every 2 s, until the idle sessions are closed
			if _, err := io.WriteString(keys, "k\n"); err != nil {
				return
			}
			select {
			case <-stopTyping:
				return
			case <-time.After(2 * time.Second):
			}
		}
	}()

	agent := startAgentEnv(t, j, []string{"SSHWARDEN_TEST_METRICS_DIR=" + dir}, "--policy", policy, "-f", s.ConfigPath)

	rIdle := idlePTY.Wait(45 * time.Second)
	closedAfter := time.Since(loggedIn)
	rExec := idleExec.Wait(20 * time.Second)
	// By now the typing session has lived past the idle limit too.
	time.Sleep(2 * time.Second)
	close(stopTyping)
	<-typed

	// The idle pty: warned on its terminal, then closed by sshd's monitor
	// going away, about 20 s after its last input (the kernel's 8 s
	// granularity, plus a scan interval).
	if rIdle.TimedOut || rIdle.Exit != 255 || !strings.Contains(rIdle.Stderr, "closed by remote host") {
		t.Errorf("idle pty session: %v", rIdle)
	}
	if !strings.Contains(rIdle.Stdout, "sshwarden: this session has been idle for") {
		t.Errorf("idle pty session: no warning on its terminal: %q", rIdle.Stdout)
	}
	if closedAfter < 20*time.Second || closedAfter > 35*time.Second {
		t.Errorf("idle pty session closed %v after login, want 20s to 35s", closedAfter)
	}
	// The idle exec session: warned on stderr (never stdout), closed, and
	// its orphaned command ended.
	if rExec.TimedOut || !strings.Contains(rExec.Stderr, "sshwarden:") || strings.Contains(rExec.Stdout, "sshwarden") {
		t.Errorf("idle exec session: %v", rExec)
	}
	if sshdtest.Alive(sleepPID) {
		t.Errorf("the idle exec session's command (pid %d) outlived the close", sleepPID)
	}
	// The idle sftp session: it cannot be warned (sshd drops a subsystem's
	// stderr), and it is closed.
	select {
	case <-sftpDone:
	case <-time.After(10 * time.Second):
		t.Errorf("the idle sftp session was not closed")
	}
	// The active ones are untouched.
	for name, pid := range map[string]int{"typing pty": sTyping.PID, "busy exec": sBusy.PID, "ssh -N": sTunnel.PID} {
		if !sshdtest.Alive(pid) {
			t.Errorf("%s session (monitor %d) was closed", name, pid)
		}
	}
	if strings.Contains(typingOut.String(), "sshwarden") {
		t.Errorf("the typing session was warned: %q", typingOut.String())
	}

	took, code := agent.stop(t)
	if code != 0 || took > 5*time.Second {
		t.Errorf("after SIGTERM the agent exited %d in %v, want 0 within 5s", code, took)
	}
	_ = keys.Close()
	_ = busyExec.Signal(syscall.SIGKILL)
	_ = tunnel.Signal(syscall.SIGKILL)

	records := j.WaitFor(t, 10*time.Second, func(recs []map[string]string) bool {
		return count(recs, "agent-stopped") > 0
	}, "SYSLOG_IDENTIFIER=sshwarden")
	byAction := map[string][]map[string]string{}
	for _, r := range records {
		byAction[r["SSHWARDEN_ACTION"]] = append(byAction[r["SSHWARDEN_ACTION"]], r)
		if r["SYSLOG_IDENTIFIER"] != "sshwarden" || r["MESSAGE_ID"] != audit.MessageID(r["SSHWARDEN_ACTION"]) {
			t.Errorf("record %v: want SYSLOG_IDENTIFIER sshwarden and the action's MESSAGE_ID", r)
		}
		if pid := r["SSHWARDEN_PID"]; pid != "" && pid != strconv.Itoa(sIdle.PID) && pid != strconv.Itoa(sExec.PID) && pid != strconv.Itoa(sSFTP.PID) {
			t.Errorf("a record about a session that is not idle: %v", r)
		}
	}
	for action, want := range map[string]int{"agent-started": 1, "warn": 2, "warn-failed": 1, "close": 3, "agent-stopped": 1} {
		if got := len(byAction[action]); got != want {
			t.Errorf("%d %s records, want %d", got, action, want)
		}
	}
	if r := byAction["warn-failed"]; len(r) == 1 && (r[0]["SSHWARDEN_PID"] != strconv.Itoa(sSFTP.PID) || !strings.Contains(r[0]["SSHWARDEN_ERROR"], "cannot be warned")) {
		t.Errorf("warn-failed record: %v", r[0])
	}
	for _, r := range append(byAction["warn"], byAction["close"]...) {
		x := sIdle
		switch r["SSHWARDEN_PID"] {
		case strconv.Itoa(sExec.PID):
			x = sExec
		case strconv.Itoa(sSFTP.PID):
			x = sSFTP
		}
		want := map[string]string{
			"SSHWARDEN_USER":          s.User,
			"SSHWARDEN_UID":           strconv.Itoa(x.UID),
			"SSHWARDEN_REMOTE_ADDR":   "127.0.0.1",
			"SSHWARDEN_REMOTE_PORT":   strconv.Itoa(int(x.Remote.Port())),
			"SSHWARDEN_LOCAL_PORT":    strconv.Itoa(s.Port),
			"SSHWARDEN_TTY":           x.TTY,
			"SSHWARDEN_KIND":          string(x.Kind),
			"SSHWARDEN_SESSION_ID":    strconv.FormatUint(uint64(x.SessionID), 10),
			"SSHWARDEN_REASON":        "idle",
			"SSHWARDEN_LIMIT_SECONDS": "20",
			"SSHWARDEN_RULE":          policy + ":7", // IdleTimeout, below MetricsFile
		}
		for k, v := range want {
			if r[k] != v {
				t.Errorf("%s record for pid %s: %s = %q, want %q", r["SSHWARDEN_ACTION"], r["SSHWARDEN_PID"], k, r[k], v)
			}
		}
		idle, _ := strconv.Atoi(r["SSHWARDEN_IDLE_SECONDS"])
		if r["SSHWARDEN_ACTION"] == "close" && idle < 20 {
			t.Errorf("closed at %d s idle, before the 20 s limit: %v", idle, r)
		}
		if r["SSHWARDEN_ACTION"] == "warn" && (idle < 10 || idle >= 20) {
			t.Errorf("warned at %d s idle, want 10..19: %v", idle, r)
		}
		if !strings.Contains(r["MESSAGE"], s.User) || !strings.Contains(r["MESSAGE"], "127.0.0.1") {
			t.Errorf("MESSAGE %q does not say who and from where", r["MESSAGE"])
		}
	}
	// The metrics file, as node_exporter reads it.
	prom, err := os.ReadFile(metrics)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`sshwarden_closes_total{reason="idle"} 3`, `sshwarden_warnings_total{reason="idle"} 3`, `sshwarden_close_failures_total 0`} {
		if !strings.Contains(string(prom), want+"\n") {
			t.Errorf("metrics file lacks %q:\n%s", want, prom)
		}
	}
	if !strings.Contains(string(prom), `sshwarden_sessions{kind="pty"} `) {
		t.Errorf("metrics file lacks the session gauges:\n%s", prom)
	}
	if t.Failed() {
		t.Logf("agent stderr:\n%s", agent.stderr)
		for _, r := range records {
			t.Logf("record: %s %s", r["SSHWARDEN_ACTION"], r["MESSAGE"])
		}
	}
}

// runs reports whether a process of session x has arg in its command
// line: a pty session has no Command (its shell runs it), so the tests
// tell their pty sessions apart by what runs under them.
func runs(x watcher.Session, arg string) bool {
	for _, p := range x.Procs {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p)); err == nil && strings.Contains(string(b), arg) {
			return true
		}
	}
	return false
}

func count(recs []map[string]string, action string) int {
	n := 0
	for _, r := range recs {
		if r["SSHWARDEN_ACTION"] == action {
			n++
		}
	}
	return n
}

// waitRecord waits until the journal holds n records of action (at most
// 20 s) and returns them.
func waitRecord(t *testing.T, j *journaltest.Journal, action string, n int) []map[string]string {
	t.Helper()
	recs := j.WaitFor(t, 20*time.Second, func(recs []map[string]string) bool {
		return count(recs, action) >= n
	}, "SYSLOG_IDENTIFIER=sshwarden")
	var out []map[string]string
	for _, r := range recs {
		if r["SSHWARDEN_ACTION"] == action {
			out = append(out, r)
		}
	}
	return out
}

// writePolicy writes a policy as an editor saves it: a new file renamed
// over the old one.
func writePolicy(t *testing.T, path, text string) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// runtimeDirFor makes the folder systemd would make as the unit's
// RuntimeDirectory, and the environment that names it.
func runtimeDirFor(t *testing.T) (dir string, env []string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, []string{"RUNTIME_DIRECTORY=" + dir}
}

// waitState waits (at most 20 s) for the agent's reload state in dir to
// satisfy ok.
func waitState(t *testing.T, dir string, ok func(enforcer.ReloadState) bool) enforcer.ReloadState {
	t.Helper()
	var last enforcer.ReloadState
	var err error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if last, err = enforcer.ReadReloadState(dir); err == nil && ok(last) {
			return last
		}
	}
	t.Fatalf("reload state in %s: %+v, %v; not the one awaited within 20s", dir, last, err)
	return last
}

// reloadResult is what `sshwarden agent --reload` did.
type reloadResult struct {
	code           int
	stdout, stderr string
}

// reloadAgent runs `sshwarden agent --reload PID` as the unit's
// ExecReload= does: with the RUNTIME_DIRECTORY systemd sets.
func reloadAgent(t *testing.T, env []string, pid int, args ...string) reloadResult {
	t.Helper()
	bin, err := exec.LookPath("sshwarden")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"agent", "--reload", strconv.Itoa(pid)}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("agent --reload: %v", err)
	}
	return reloadResult{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

func fileDigest(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// A broken policy is reported with its file:line and the last good one
// stays; a good one is loaded on change; a SIGHUP that finds the file as
// it was is answered (in the reload state) but records nothing; a deleted
// file changes nothing.
func TestAgentPolicyReload(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{})
	j := journaltest.Start(t)
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.conf")
	run, env := runtimeDirFor(t)
	write := func(text string) { t.Helper(); writePolicy(t, policy, text) }
	write(agentPolicy(s.Port))
	agent := startAgentEnv(t, j, env, "--policy", policy, "-f", s.ConfigPath)
	waitRecord(t, j, "agent-started", 1)

	write(agentPolicy(s.Port, "    MaxSessionTime 15x"))
	errs := waitRecord(t, j, "policy-error", 1)
	if r := errs[0]; r["SSHWARDEN_FILE"] != policy || r["SSHWARDEN_LINE"] != "9" || !strings.Contains(r["MESSAGE"], "last good policy stays") ||
		r["SSHWARDEN_POLICY_SHA256"] != fileDigest(t, policy) {
		t.Errorf("policy-error record: %v", r)
	}

	write(agentPolicy(s.Port, "    WarnMessage %u: bye in %l"))
	loaded := waitRecord(t, j, "policy-loaded", 1)
	if !strings.Contains(loaded[0]["MESSAGE"], "the file changed") || loaded[0]["SSHWARDEN_POLICY_SHA256"] != fileDigest(t, policy) {
		t.Errorf("policy-loaded record: %v", loaded[0])
	}
	st := waitState(t, run, func(st enforcer.ReloadState) bool { return st.Outcome == enforcer.OutcomeLoaded && st.Generation > 0 })
	if err := agent.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	hup := waitState(t, run, func(x enforcer.ReloadState) bool {
		return x.Generation > st.Generation && x.Trigger == enforcer.TriggerSIGHUP
	})
	if hup.Outcome != enforcer.OutcomeUnchanged || hup.InForce != fileDigest(t, policy) {
		t.Errorf("reload state after SIGHUP of an unchanged file: %+v, want outcome unchanged", hup)
	}
	if err := os.Remove(policy); err != nil {
		t.Fatal(err)
	}
	waitRecord(t, j, "policy-error", 2)

	// The agent still works with the last good policy: its WarnMessage.
	c, err := s.StartClient(t.Context(), "-tt", "sleep 603")
	if err != nil {
		t.Fatal(err)
	}
	r := c.Wait(45 * time.Second)
	if !strings.Contains(r.Stdout, s.User+": bye in") || r.Exit != 255 {
		t.Errorf("session under the last good policy: %v", r)
	}
	if took, code := agent.stop(t); code != 0 {
		t.Errorf("agent exited %d after %v\n%s", code, took, agent.stderr)
	}
	recs := j.WaitFor(t, 10*time.Second, func(recs []map[string]string) bool { return count(recs, "agent-stopped") > 0 }, "SYSLOG_IDENTIFIER=sshwarden")
	if n := count(recs, "policy-loaded"); n != 1 {
		t.Errorf("%d policy-loaded records, want 1: the SIGHUP of an unchanged file records nothing", n)
	}
	if _, err := os.Stat(filepath.Join(run, "reload")); !os.IsNotExist(err) {
		t.Errorf("the stopped agent left its reload state: %v", err)
	}
}

// `sshwarden agent --reload PID`, the unit's ExecReload=, against the real
// agent: it returns once the agent has the new policy in force, fails with
// the file:line of a broken one (which the agent refuses, keeping the old
// one), and one edit followed by one reload is one record.
func TestAgentReloadCommand(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{})
	j := journaltest.Start(t)
	policy := filepath.Join(t.TempDir(), "policy.conf")
	run, env := runtimeDirFor(t)
	write := func(text string) string {
		t.Helper()
		writePolicy(t, policy, text)
		return fileDigest(t, policy)
	}
	sumA := write(agentPolicy(s.Port))
	agent := startAgentEnv(t, j, env, "--policy", policy, "-f", s.ConfigPath)
	pid := agent.cmd.Process.Pid
	waitRecord(t, j, "agent-started", 1)
	st := waitState(t, run, func(enforcer.ReloadState) bool { return true })
	if want := (enforcer.ReloadState{PID: pid, Trigger: enforcer.TriggerStart, Outcome: enforcer.OutcomeLoaded, Policy: policy, InForce: sumA, Read: sumA}); st != want {
		t.Errorf("reload state at start: %+v, want %+v", st, want)
	}

	// An edit the watch sees, then systemctl reload: one record.
	sumB := write(agentPolicy(s.Port, "Match User sshwarden-nosuch-b", "    IdleTimeout 1h"))
	loaded := waitRecord(t, j, "policy-loaded", 1)
	if m := loaded[0]["MESSAGE"]; !strings.Contains(m, "the file changed") || !strings.Contains(m, "globally Exempt, and 2 Match blocks") {
		t.Errorf("policy-loaded record: %v", loaded[0])
	}
	r := reloadAgent(t, env, pid)
	if r.code != 0 || r.stdout != fmt.Sprintf("policy %s unchanged (sha256 %s): already in force\n", policy, sumB[:16]) || r.stderr != "" {
		t.Errorf("reload after the watch loaded the edit: %+v, want exit 0 and unchanged", r)
	}

	// An edit and systemctl reload at once: the command returns when the
	// new policy is in force, whichever of the watch and SIGHUP saw it.
	sumC := write(agentPolicy(s.Port, "    WarnMessage %u: policy C, bye in %l",
		"Match User sshwarden-nosuch-c1", "    IdleTimeout 1h", "Match User sshwarden-nosuch-c2", "    IdleTimeout 2h"))
	r = reloadAgent(t, env, pid)
	st, err := enforcer.ReadReloadState(run)
	if err != nil || st.InForce != sumC {
		t.Errorf("reload state when the reload returned: %+v, %v; want the policy C (%s) in force", st, err, sumC)
	}
	reloaded := fmt.Sprintf("policy %s reloaded (sha256 %s): globally Exempt, and 3 Match blocks\n", policy, sumC[:16])
	unchanged := fmt.Sprintf("policy %s unchanged (sha256 %s): already in force\n", policy, sumC[:16])
	if r.code != 0 || (r.stdout != reloaded && r.stdout != unchanged) || r.stderr != "" {
		t.Errorf("reload of a new policy: %+v, want exit 0 and %q (or unchanged, when the watch was first)", r, reloaded)
	}

	// A broken policy: refused, with its file:line, and C stays in force.
	sumD := write(agentPolicy(s.Port, "    MaxSessionTime 15x"))
	r = reloadAgent(t, env, pid)
	wantErr := fmt.Sprintf("sshwarden: error: %s:9:5: MaxSessionTime: invalid time \"15x\" (use 900, 15m, 1h30m)\n"+
		"sshwarden: error: policy %s not reloaded: the policy in force (sha256 %s) stays\n", policy, policy, sumC[:16])
	if r.code != exitFindings || r.stderr != wantErr || r.stdout != "" {
		t.Errorf("reload of a broken policy: %+v, want exit 1 and stderr\n%s", r, wantErr)
	}
	st, err = enforcer.ReadReloadState(run)
	if err != nil || st.Outcome != enforcer.OutcomeRefused || st.InForce != sumC || st.Read != sumD || !strings.Contains(st.Error, policy+":9:5: MaxSessionTime") {
		t.Errorf("reload state after the broken policy: %+v, %v", st, err)
	}
	waitRecord(t, j, "policy-error", 1)

	// No answer in time (the agent is stopped): exit 2, and the SIGHUP is
	// answered later, changing nothing.
	if err := agent.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	r = reloadAgent(t, env, pid, "--timeout", "1s")
	_ = agent.cmd.Process.Signal(syscall.SIGCONT)
	if want := fmt.Sprintf("sshwarden: error: the agent (pid %d) did not answer the reload within 1s\n", pid); r.code != exitUsage || !strings.HasSuffix(r.stderr, want) {
		t.Errorf("reload of a stopped agent: %+v, want exit 2 and %q", r, want)
	}
	// Not the agent's pid: refused before any signal.
	other := exec.Command("sleep", "60")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Process.Kill(); _ = other.Wait() }()
	r = reloadAgent(t, env, other.Process.Pid)
	if want := fmt.Sprintf("sshwarden: error: the reload state in %s is the agent's with pid %d, not pid %d\n", run, pid, other.Process.Pid); r.code != exitUsage || r.stderr != want {
		t.Errorf("reload of another pid: %+v, want exit 2 and %q", r, want)
	}
	if !sshdtest.Alive(other.Process.Pid) {
		t.Errorf("reload of another pid signalled it")
	}
	// Not the agent's policy.
	r = reloadAgent(t, env, pid, "--policy", "builtin:cis")
	if want := fmt.Sprintf("sshwarden: error: the agent (pid %d) runs the policy %s, not builtin:cis\n", pid, policy); r.code != exitUsage || r.stderr != want {
		t.Errorf("reload with another --policy: %+v, want exit 2 and %q", r, want)
	}

	// The policy in force is C: its WarnMessage reaches a session.
	c, err := s.StartClient(t.Context(), "-tt", "sleep 607")
	if err != nil {
		t.Fatal(err)
	}
	if res := c.Wait(45 * time.Second); !strings.Contains(res.Stdout, s.User+": policy C, bye in") || res.Exit != 255 {
		t.Errorf("session after the refused reload: %v, want policy C's warning", res)
	}

	if took, code := agent.stop(t); code != 0 {
		t.Errorf("agent exited %d after %v\n%s", code, took, agent.stderr)
	}
	recs := j.WaitFor(t, 10*time.Second, func(recs []map[string]string) bool { return count(recs, "agent-stopped") > 0 }, "SYSLOG_IDENTIFIER=sshwarden")
	var got []string
	for _, rec := range recs {
		switch rec["SSHWARDEN_ACTION"] {
		case "policy-loaded", "policy-error":
			got = append(got, rec["SSHWARDEN_ACTION"]+" "+rec["SSHWARDEN_POLICY_SHA256"])
		}
	}
	if want := []string{"policy-loaded " + sumB, "policy-loaded " + sumC, "policy-error " + sumD}; !slices.Equal(got, want) {
		t.Errorf("policy records %q, want %q: one per version of the file", got, want)
		for _, rec := range recs {
			t.Logf("record: %s %s", rec["SSHWARDEN_ACTION"], rec["MESSAGE"])
		}
	}
}

// Drift: a configuration that breaks the policy is recorded and, with
// EnforceConfig yes, fixed and reloaded, at start and after each change.
func TestAgentDriftEnforce(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{Extra: []string{"ClientAliveInterval 900"}})
	j := journaltest.Start(t)
	policy := filepath.Join(t.TempDir(), "policy.conf")
	if err := os.WriteFile(policy, []byte("Exempt yes\nClientAliveInterval 300\nEnforceConfig yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The service manager's side of sd_notify, with a 1 s watchdog.
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var notes sshdtest.Buffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			notes.Write(append(buf[:n:n], '|'))
		}
	}()
	agent := startAgentEnv(t, j, []string{"NOTIFY_SOCKET=" + sock, "WATCHDOG_USEC=1000000"}, "--policy", policy, "-f", s.ConfigPath)

	drift := waitRecord(t, j, "config-drift", 1)
	if r := drift[0]; r["SSHWARDEN_FILE"] != s.ConfigPath || !strings.Contains(r["SSHWARDEN_FINDINGS"], "ClientAliveInterval") {
		t.Errorf("config-drift record: %v", r)
	}
	fixed := waitRecord(t, j, "config-fixed", 1)
	if !strings.Contains(fixed[0]["MESSAGE"], "900") || !strings.Contains(fixed[0]["MESSAGE"], "300") {
		t.Errorf("config-fixed record: %v", fixed[0])
	}
	b, err := os.ReadFile(s.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "ClientAliveInterval 300\n") || strings.Contains(string(b), "900") {
		t.Fatalf("after the fix sshd_config is:\n%s", b)
	}

	// Someone puts it back; the agent sees the change and fixes it again.
	if err := os.WriteFile(s.ConfigPath, []byte(strings.Replace(string(b), "ClientAliveInterval 300", "ClientAliveInterval 1200", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	waitRecord(t, j, "config-drift", 2)
	fixed = waitRecord(t, j, "config-fixed", 2)
	if !strings.Contains(fixed[1]["MESSAGE"], "1200") {
		t.Errorf("second config-fixed record: %v", fixed[1])
	}
	if b, _ := os.ReadFile(s.ConfigPath); !strings.Contains(string(b), "ClientAliveInterval 300\n") {
		t.Errorf("after the second fix sshd_config is:\n%s", b)
	}
	if !sshdtest.Alive(s.PID) {
		t.Errorf("the test sshd died in the reloads\n%s", s.Log())
	}
	if r := s.Run(t.Context(), 10*time.Second, "true"); r.Exit != 0 {
		t.Errorf("login after the reloads: %v", r)
	}
	if _, code := agent.stop(t); code != 0 {
		t.Errorf("agent exit %d\n%s", code, agent.stderr)
	}
	time.Sleep(100 * time.Millisecond) // the last datagram
	got := notes.String()
	if !strings.HasPrefix(got, "READY=1\nSTATUS=watching ") || !strings.Contains(got, "|WATCHDOG=1|") || !strings.HasSuffix(got, "|STOPPING=1|") {
		t.Errorf("sd_notify messages: %q, want READY=1 with STATUS first, WATCHDOG=1 pings, STOPPING=1 last", got)
	}
}

// TestAgentConfigCheckBeside: the configuration check runs beside the
// loop. While another fix holds the lock on sshd_config's folder (the
// agent's EnforceConfig fix waits for it, up to 30 s), the agent is
// already scanning and READY; once the lock is free, the fix lands.
func TestAgentConfigCheckBeside(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{Extra: []string{"ClientAliveInterval 900"}})
	j := journaltest.Start(t)
	policy := filepath.Join(t.TempDir(), "policy.conf")
	if err := os.WriteFile(policy, []byte("Exempt yes\nClientAliveInterval 300\nEnforceConfig yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	unlock, err := host.Lock(t.Context(), filepath.Dir(s.ConfigPath))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	startAgentEnv(t, j, []string{"NOTIFY_SOCKET=" + sock}, "--policy", policy, "-f", s.ConfigPath)
	buf := make([]byte, 4096)
	if err := conn.SetReadDeadline(time.Now().Add(15 * time.Second)); err != nil {
		t.Fatal(err)
	}
	n, err := conn.Read(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "READY=1\n") {
		t.Fatalf("first sd_notify message %q, %v; want READY=1 while the fix waits for the lock", buf[:n], err)
	}
	t.Logf("READY after %v with the lock held", time.Since(start).Round(time.Millisecond))
	waitRecord(t, j, "config-drift", 1)
	if b, _ := os.ReadFile(s.ConfigPath); !strings.Contains(string(b), "ClientAliveInterval 900") {
		t.Fatalf("sshd_config changed while the lock was held:\n%s", b)
	}
	unlock()
	fixed := waitRecord(t, j, "config-fixed", 1)
	if !strings.Contains(fixed[0]["MESSAGE"], "900") {
		t.Errorf("config-fixed record: %v", fixed[0])
	}
}

// --once --dry-run, where no journald answers: the records are JSON lines
// on stderr, each marked as a dry run, and nothing reaches the session.
func TestAgentOnceDryRunStderr(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{})
	policy := filepath.Join(t.TempDir(), "policy.conf")
	if err := os.WriteFile(policy, fmt.Appendf(nil, "Exempt yes\nMatch LocalPort %d\n    Exempt no\n    MaxSessionTime 1s\n    WarnBefore 1s\n", s.Port), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := s.StartClient(t.Context(), "-tt", "sleep 604")
	if err != nil {
		t.Fatal(err)
	}
	x := waitSession(t, s, func(x watcher.Session) bool { return x.Kind == watcher.KindPTY })
	time.Sleep(1100 * time.Millisecond) // past MaxSessionTime

	bin, err := exec.LookPath("sshwarden")
	if err != nil {
		t.Fatal(err)
	}
	// An empty /run/systemd/journal in a mount namespace of its own: no
	// journald, whatever the host runs.
	cmd := exec.CommandContext(t.Context(), "unshare", "--mount", "--propagation", "private", "sh", "-c",
		`mkdir -p /run/systemd/journal && mount -t tmpfs none /run/systemd/journal && exec "$@"`,
		"sh", bin, "agent", "--once", "--dry-run", "--policy", policy, "-f", s.ConfigPath)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("agent --once --dry-run: %v\n%s", err, stderr.String())
	}
	var actions []string
	for line := range strings.Lines(stderr.String()) {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("stderr line %q is not JSON: %v", line, err)
		}
		actions = append(actions, fmt.Sprint(r["SSHWARDEN_ACTION"]))
		if r["SSHWARDEN_DRY_RUN"] != "yes" || r["MESSAGE_ID"] != audit.MessageID(fmt.Sprint(r["SSHWARDEN_ACTION"])) {
			t.Errorf("record %v: want SSHWARDEN_DRY_RUN=yes and its MESSAGE_ID", r)
		}
		if r["SSHWARDEN_ACTION"] == "warn" {
			if r["SSHWARDEN_PID"] != strconv.Itoa(x.PID) || r["SSHWARDEN_REASON"] != "max-session-time" || !strings.HasPrefix(fmt.Sprint(r["msg"]), "Would warn") {
				t.Errorf("warn record %v", r)
			}
		}
	}
	if want := []string{"agent-started", "warn", "agent-stopped"}; !slices.Equal(actions, want) {
		t.Errorf("records %q, want %q\n%s", actions, want, stderr.String())
	}
	if stdout.Len() > 0 {
		t.Errorf("the agent wrote to stdout: %q", stdout.String())
	}
	if !sshdtest.Alive(x.PID) {
		t.Errorf("a dry run closed the session")
	}
	_ = c.Signal(syscall.SIGKILL)
	if r := c.Wait(5 * time.Second); strings.Contains(r.Stdout, "sshwarden") {
		t.Errorf("a dry run warned the session: %q", r.Stdout)
	}
}

// The agent's drift check reads sshd_config as the host's sshd does: the
// release that sshd -V names, told at start. A stand-in sshd plays the
// host's (SSHWARDEN_TEST_SSHD): as RHEL 9's 8.7, UnusedConnectionTimeout
// (9.2) is refused, a config-drift record; as Debian 12's 9.2, it is not.
func TestAgentDriftHostRelease(t *testing.T) {
	sshdtest.RequireTools(t, "unshare", "mount")
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	config := write("sshd_config", "ClientAliveInterval 300\nClientAliveCountMax 3\nUnusedConnectionTimeout 5m\n", 0o644)
	policy := write("policy.conf", "Exempt yes\n", 0o644)
	stands := map[string]string{
		"8.7p1":      "echo 'unknown option -- V' >&2\necho 'OpenSSH_8.7p1, OpenSSL 3.0.7 1 Nov 2022' >&2\nexit 1",
		"9.2-debian": "# debianbanner\necho 'OpenSSH_9.2, OpenSSL 3.0.19 27 Jan 2026' >&2",
	}
	bin, err := exec.LookPath("sshwarden")
	if err != nil {
		t.Fatal(err)
	}
	for rel, body := range stands {
		sshd := write("sshd-"+rel, "#!/bin/sh\n"+body+"\n", 0o755)
		// An empty /run/systemd/journal in a mount namespace of its own:
		// the records are JSON lines on stderr.
		cmd := exec.CommandContext(t.Context(), "unshare", "--mount", "--propagation", "private", "sh", "-c",
			`mkdir -p /run/systemd/journal && mount -t tmpfs none /run/systemd/journal && exec "$@"`,
			"sh", bin, "agent", "--once", "--dry-run", "--policy", policy, "-f", config)
		cmd.Env = append(os.Environ(), "SSHWARDEN_TEST_SSHD="+sshd)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: agent --once --dry-run: %v\n%s", rel, err, stderr.String())
		}
		var drift []string
		for line := range strings.Lines(stderr.String()) {
			var r map[string]any
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("%s: stderr line %q is not JSON: %v", rel, line, err)
			}
			if r["SSHWARDEN_ACTION"] == "config-drift" {
				drift = append(drift, fmt.Sprint(r["msg"]))
			}
		}
		switch rel {
		case "8.7p1":
			if len(drift) != 1 || !strings.Contains(drift[0], "UnusedConnectionTimeout") {
				t.Errorf("as 8.7p1: config-drift records %q, want one naming UnusedConnectionTimeout", drift)
			}
		default:
			if len(drift) != 0 {
				t.Errorf("as %s: config-drift records %q, want none", rel, drift)
			}
		}
	}
}
