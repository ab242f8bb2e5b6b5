package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sshwarden/sshwarden/internal/journaltest"
	"github.com/sshwarden/sshwarden/internal/sshdtest"
)

// The journald tests run this test binary again, as a helper process
// inside journaltest's mount namespace, where go-systemd's fixed socket
// /run/systemd/journal/socket is the test journald's. The environment
// variable auditHelperEnv makes TestAuditHelperProcess act:
//
//   - "records": write auditCases() through NewJournal with
//     SSHWARDEN_AUDIT_SINK as Journal, print the Sink, then Close;
//   - "lines": write each line of stdin as an "error" record through
//     NewJournal (journal), and Close at the end of stdin.
const auditHelperEnv = "SSHWARDEN_AUDIT_HELPER"

// Bounds of the journald tests.
const (
	auditHelperTimeout  = 30 * time.Second
	auditJournalTimeout = 10 * time.Second
)

func TestAuditHelperProcess(t *testing.T) {
	mode := os.Getenv(auditHelperEnv)
	if mode == "" {
		return // a helper process for the journald tests, nothing on its own
	}
	a := NewJournal(Options{Journal: os.Getenv("SSHWARDEN_AUDIT_SINK")})
	fmt.Printf("sink %s\n", a.Sink())
	switch mode {
	case "records":
		for _, c := range auditCases() {
			a.Record(c.rec)
		}
	case "lines":
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			a.Record(Record{Action: ActionError, Message: sc.Text()})
		}
	default:
		fmt.Fprintf(os.Stderr, "unknown %s=%s\n", auditHelperEnv, mode)
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Close(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("dropped %d\n", a.Dropped())
	os.Exit(0)
}

// auditHelper returns the command of a helper process in j's mount namespace.
func auditHelper(j *journaltest.Journal, mode, sink string) *exec.Cmd {
	cmd := j.Command(os.Args[0], "-test.run=^TestAuditHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), auditHelperEnv+"="+mode, "SSHWARDEN_AUDIT_SINK="+sink)
	return cmd
}

// auditOwnFields drops the fields journald adds itself (those starting with _).
func auditOwnFields(rec map[string]string) map[string]string {
	own := map[string]string{}
	for k, v := range rec {
		if !strings.HasPrefix(k, "_") {
			own[k] = v
		}
	}
	return own
}

// TestAuditJournald writes every case to a real journald through the
// native protocol and reads each back with journalctl, field by field.
func TestAuditJournald(t *testing.T) {
	t.Parallel()
	j := journaltest.Start(t)
	cmd := auditHelper(j, "records", SinkAuto)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	begin := time.Now()
	if err := auditRun(cmd, auditHelperTimeout); err != nil {
		t.Fatalf("helper: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.Bytes(), stderr.Bytes())
	}
	ran := time.Since(begin)
	if got, want := stdout.String(), "sink journal\ndropped 0\n"; got != want {
		t.Errorf("helper stdout = %q, want %q (auto finds the namespace's journald, drops nothing)", got, want)
	}
	if stderr.Len() != 0 {
		t.Errorf("helper stderr = %q, want nothing: no record may fall back to stderr", stderr.Bytes())
	}

	cases := auditCases()
	begin = time.Now()
	recs := j.WaitFor(t, auditJournalTimeout, func(r []map[string]string) bool { return len(r) >= len(cases) }, "SYSLOG_IDENTIFIER=sshwarden")
	t.Logf("helper ran %v; its %d records were all readable %v later", ran.Round(time.Millisecond), len(cases), time.Since(begin).Round(time.Millisecond))
	if len(recs) != len(cases) {
		t.Fatalf("%d records, want %d", len(recs), len(cases))
	}
	for i, c := range cases {
		rec := recs[i]
		want := map[string]string{"MESSAGE": c.message, "PRIORITY": strconv.Itoa(int(c.priority))}
		for k, v := range c.fields {
			want[k] = v
		}
		if diff := cmp.Diff(want, auditOwnFields(rec)); diff != "" {
			t.Errorf("%s: journal record mismatch (-want +got):\n%s", c.name, diff)
		}
		if rec["_NAMESPACE"] != j.Namespace || rec["_TRANSPORT"] != "journal" {
			t.Errorf("%s: _NAMESPACE=%q _TRANSPORT=%q, want %q and journal", c.name, rec["_NAMESPACE"], rec["_TRANSPORT"], j.Namespace)
		}
	}

	// The injection attempts: journalctl's own matching finds exactly the
	// records that were meant.
	for _, m := range []struct {
		match string
		want  int
	}{
		{"SSHWARDEN_ACTION=close", 1},
		{"MESSAGE_ID=" + MessageIDClose, 1},
		{"SSHWARDEN_ACTION=warn", 2},
		{"SSHWARDEN_UID=0", 1},
	} {
		got := j.Records(t, "SYSLOG_IDENTIFIER=sshwarden", m.match)
		if len(got) != m.want {
			t.Errorf("journalctl %s: %d records, want %d", m.match, len(got), m.want)
		}
	}

	// Without --all, journalctl -o json prints fields of 4096 bytes and more as
	// null: the cut command line must still be there.
	out, err := exec.Command("journalctl", "--namespace", j.Namespace, "-o", "json", "-q", "--no-pager",
		"SYSLOG_IDENTIFIER=sshwarden", "SSHWARDEN_USER=bob").Output()
	if err != nil {
		t.Fatalf("journalctl: %v", err)
	}
	plain, err := journaltest.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(plain) != 1 || plain[0][FieldCommand] != cases[4].fields[FieldCommand] {
		t.Errorf("journalctl -o json without --all: SSHWARDEN_COMMAND of bob's record not printed in full")
	}

	t.Run("catalog", func(t *testing.T) { checkAuditCatalogText(t, j) })
}

// checkAuditCatalogText compiles the catalog under a private root and
// checks that `journalctl -x` explains a close with the record's own
// values. journalctl -x reads the fixed /var/lib/systemd/catalog/database,
// so it runs in a private mount namespace where that directory is the
// private root's.
func checkAuditCatalogText(t *testing.T, j *journaltest.Journal) {
	root := auditCatalogRoot(t)
	const script = `mkdir -p /var/lib/systemd/catalog && mount --bind "$0" /var/lib/systemd/catalog && exec "$@"`
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script,
		filepath.Join(root, "var/lib/systemd/catalog"),
		"journalctl", "--namespace", j.Namespace, "-x", "-q", "--no-pager", "MESSAGE_ID="+MessageIDClose)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := auditRun(cmd, auditHelperTimeout); err != nil {
		t.Fatalf("journalctl -x: %v\n%s", err, out.Bytes())
	}
	for _, want := range []string{
		"Subject: SSH session of root closed",
		"Defined-By: sshwarden",
		"sshwarden closed the SSH session of root (uid 0)",
		"from 2001:db8::5 port 40000",
		"set at /etc/sshwarden/policy.conf:3 of the policy",
	} {
		if !bytes.Contains(out.Bytes(), []byte(want)) {
			t.Errorf("journalctl -x does not say %q:\n%s", want, out.Bytes())
		}
	}
}

// auditCatalogRoot returns a directory with the catalog compiled under it by
// journalctl's own parser (`journalctl --root DIR --update-catalog`), so
// that nothing is written to the host's /var/lib/systemd/catalog.
func auditCatalogRoot(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("journalctl"); err != nil {
		sshdtest.Missing(t, "journalctl: "+err.Error())
	}
	root := t.TempDir()
	src, err := os.ReadFile("../packaging/sshwarden.catalog")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "usr/lib/systemd/catalog")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sshwarden.catalog"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("journalctl", "--root", root, "--update-catalog").CombinedOutput(); err != nil || len(out) != 0 {
		t.Fatalf("journalctl --update-catalog: %v\n%s", err, out)
	}
	return root
}

// TestCatalogJournalctl checks the catalog with journalctl's own parser:
// it compiles, and lists each MESSAGE_ID once with its subject.
func TestCatalogJournalctl(t *testing.T) {
	t.Parallel()
	root := auditCatalogRoot(t)
	out, err := exec.Command("journalctl", "--root", root, "--list-catalog").CombinedOutput()
	if err != nil {
		t.Fatalf("journalctl --list-catalog: %v\n%s", err, out)
	}
	listed := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		id, subject, _ := strings.Cut(line, " ")
		listed[id]++
		if !strings.HasPrefix(subject, "sshwarden: ") {
			t.Errorf("journalctl --list-catalog: %q, want Defined-By sshwarden", line)
		}
	}
	for _, action := range auditActions {
		if n := listed[MessageID(action)]; n != 1 {
			t.Errorf("journalctl --list-catalog lists %s (%s) %d times, want 1", MessageID(action), action, n)
		}
	}
	if len(listed) != len(auditActions) {
		t.Errorf("journalctl --list-catalog lists %d IDs, want %d:\n%s", len(listed), len(auditActions), out)
	}
}

// TestAuditJournaldRestart: one Journal in a helper process logs to
// journald; while journald is stopped its records go to stderr; once
// journald runs again, to journald.
func TestAuditJournaldRestart(t *testing.T) {
	t.Parallel()
	j := journaltest.Start(t)
	cmd := auditHelper(j, "lines", SinkJournal)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderrPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{}) // closed when waitErr is set
	var waitErr error
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stderrPipe)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(auditHelperTimeout):
			_ = cmd.Process.Kill()
			t.Errorf("helper did not exit")
		}
	})
	send := func(msg string) {
		t.Helper()
		if _, err := io.WriteString(stdin, msg+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	inJournal := func(msg string) {
		t.Helper()
		j.WaitFor(t, auditJournalTimeout, func(recs []map[string]string) bool {
			for _, r := range recs {
				if r["MESSAGE"] == msg {
					return true
				}
			}
			return false
		}, "SYSLOG_IDENTIFIER=sshwarden")
	}

	send("record 1")
	inJournal("record 1")

	j.Stop(t)
	send("record 2")
	select {
	case line, ok := <-lines:
		if !ok {
			select {
			case <-exited:
			case <-time.After(auditHelperTimeout):
			}
			t.Fatalf("helper closed its stderr: %v", waitErr)
		}
		var got map[string]string
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("stderr line %q: %v", line, err)
		}
		if got["msg"] != "record 2" || got[FieldAction] != ActionError || got["MESSAGE_ID"] != MessageIDError ||
			!strings.Contains(got[FieldJournalError], "/run/systemd/journal/socket") {
			t.Errorf("stderr record = %v, want record 2 with why journald did not take it", got)
		}
	case <-time.After(auditJournalTimeout):
		t.Fatalf("record 2 not on stderr within %v", auditJournalTimeout)
	}

	j.Restart(t)
	send("record 3")
	inJournal("record 3")

	stdin.Close()
	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("helper: %v", waitErr)
		}
	case <-time.After(auditHelperTimeout):
		t.Fatalf("helper did not exit")
	}
	for line := range lines {
		t.Errorf("more on stderr: %s", line)
	}
	if got, want := stdout.String(), "sink journal\ndropped 0\n"; got != want {
		t.Errorf("helper stdout = %q, want %q", got, want)
	}
	var msgs []string
	for _, r := range j.Records(t, "SYSLOG_IDENTIFIER=sshwarden") {
		msgs = append(msgs, r["MESSAGE"])
	}
	if diff := cmp.Diff([]string{"record 1", "record 3"}, msgs); diff != "" {
		t.Errorf("journal messages (-want +got):\n%s", diff)
	}
}

// auditRun runs cmd, killing it after timeout.
func auditRun(cmd *exec.Cmd, timeout time.Duration) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("killed after %v", timeout)
	}
}
