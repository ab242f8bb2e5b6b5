package journaltest

import (
	"bufio"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	t.Parallel()
	out := `{"MESSAGE":"plain","A":[104,105,10,255],"B":["one",[116,119,111]],"C":null}
{"MESSAGE":"second"}
`
	got, err := Parse([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	want := []map[string]string{
		{"MESSAGE": "plain", "A": "hi\n\xff", "B": "one\ntwo", "C": ""},
		{"MESSAGE": "second"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse() mismatch (-want +got):\n%s", diff)
	}
	if _, err := Parse([]byte(`{"A":{"b":1}}`)); err == nil {
		t.Errorf("Parse(object value) = nil error, want one")
	}
}

// logLines runs a shell in j's mount namespace that sends each line it
// reads as a record (SYSLOG_IDENTIFIER=journaltest) with logger --journald,
// and answers "ok" or "fail". send sends one and returns the answer.
func logLines(t *testing.T, j *Journal) (send func(msg string) string) {
	t.Helper()
	const script = `while read -r msg; do
	if printf 'MESSAGE=%s\nSYSLOG_IDENTIFIER=journaltest\nJOURNALTEST_FIELD=x\n' "$msg" | logger --journald 2>/dev/null
	then echo ok; else echo fail; fi
done`
	cmd := j.Command("sh", "-c", script)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	answers := make(chan string)
	go func() {
		defer close(answers)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			answers <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() {
			for range answers {
			}
			done <- cmd.Wait()
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("logger shell: %v", err)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("logger shell did not exit")
		}
	})
	return func(msg string) string {
		t.Helper()
		if _, err := io.WriteString(stdin, msg+"\n"); err != nil {
			t.Fatal(err)
		}
		select {
		case a, ok := <-answers:
			if !ok {
				t.Fatalf("logger shell exited")
			}
			return a
		case <-time.After(10 * time.Second):
			t.Fatalf("logger shell did not answer")
		}
		return ""
	}
}

// mountedAt reports whether the calling process's mount namespace has a
// mount at path.
func mountedAt(t *testing.T, path string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == path {
			return true
		}
	}
	return false
}

func hasMessage(msg string) func([]map[string]string) bool {
	return func(recs []map[string]string) bool {
		for _, r := range recs {
			if r["MESSAGE"] == msg {
				return true
			}
		}
		return false
	}
}

// TestJournal starts a journald, logs to it through Command, reads the
// record back, and checks that the cleanup leaves nothing behind.
func TestJournal(t *testing.T) {
	t.Parallel()
	var dirs []string
	var socketDir string
	t.Run("run", func(t *testing.T) {
		begin := time.Now()
		j := Start(t)
		started := time.Since(begin)
		socketDir = j.Dir()
		if _, err := os.Stat(j.Socket()); err != nil {
			t.Fatalf("socket: %v", err)
		}
		send := logLines(t, j)
		if a := send("hello from journaltest"); a != "ok" {
			t.Fatalf("logger = %s, want ok", a)
		}
		sent := time.Now()
		recs := j.WaitFor(t, 10*time.Second, hasMessage("hello from journaltest"), "SYSLOG_IDENTIFIER=journaltest")
		t.Logf("journald started in %v; the record was readable %v after logger returned",
			started.Round(time.Millisecond), time.Since(sent).Round(time.Millisecond))
		if len(recs) != 1 {
			t.Fatalf("Records(SYSLOG_IDENTIFIER=journaltest) = %d records, want 1: %v", len(recs), recs)
		}
		r := recs[0]
		for name, want := range map[string]string{
			"SYSLOG_IDENTIFIER": "journaltest",
			"JOURNALTEST_FIELD": "x",
			"_NAMESPACE":        j.Namespace,
			"_TRANSPORT":        "journal",
			// Not _COMM: journald reads it from /proc/PID, and logger may
			// have exited by then.
		} {
			if r[name] != want {
				t.Errorf("record %s = %q, want %q", name, r[name], want)
			}
		}
		if mountedAt(t, "/run/systemd/journal") {
			t.Errorf("/run/systemd/journal is a mount point in the test's own mount namespace: Command leaked its bind mount")
		}
		dirs = j.StorageDirs()
		if len(dirs) != 1 {
			t.Fatalf("StorageDirs() = %q, want one directory", dirs)
		}
		t.Logf("journal files in %s", dirs[0])
	})
	for _, dir := range append(dirs, socketDir) {
		if dir == "" {
			continue
		}
		if _, err := os.Lstat(dir); !os.IsNotExist(err) {
			t.Errorf("after cleanup, %s: %v, want it removed", dir, err)
		}
	}
}

// TestRestart checks that a program started by Command before journald
// stops fails to log while it is stopped and logs again after Restart.
func TestRestart(t *testing.T) {
	t.Parallel()
	j := Start(t)
	send := logLines(t, j)
	if a := send("before"); a != "ok" {
		t.Fatalf("logger before the stop = %s, want ok", a)
	}
	j.WaitFor(t, 10*time.Second, hasMessage("before"), "SYSLOG_IDENTIFIER=journaltest")
	j.Stop(t)
	if a := send("while stopped"); a != "fail" {
		t.Errorf("logger while journald is stopped = %s, want fail", a)
	}
	begin := time.Now()
	j.Restart(t)
	t.Logf("restart took %v", time.Since(begin).Round(time.Millisecond))
	if a := send("after"); a != "ok" {
		t.Fatalf("logger after the restart = %s, want ok", a)
	}
	recs := j.WaitFor(t, 10*time.Second, hasMessage("after"), "SYSLOG_IDENTIFIER=journaltest")
	var got []string
	for _, r := range recs {
		got = append(got, r["MESSAGE"])
	}
	if diff := cmp.Diff([]string{"before", "after"}, got); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
}

// TestHostname: a journald started with a Hostname stamps its records with
// that _HOSTNAME, and after a Restart too; the test's own host name does
// not change.
func TestHostname(t *testing.T) {
	t.Parallel()
	own, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	const name = "journaltest-web1"
	j := StartWith(t, StartOptions{Hostname: name})
	send := logLines(t, j)
	if a := send("from web1"); a != "ok" {
		t.Fatalf("logger = %s, want ok", a)
	}
	j.Restart(t)
	if a := send("after the restart"); a != "ok" {
		t.Fatalf("logger after the restart = %s, want ok", a)
	}
	recs := j.WaitFor(t, 10*time.Second, hasMessage("after the restart"), "SYSLOG_IDENTIFIER=journaltest")
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2: %v", len(recs), recs)
	}
	for _, r := range recs {
		if r["_HOSTNAME"] != name {
			t.Errorf("record %q: _HOSTNAME = %q, want %q", r["MESSAGE"], r["_HOSTNAME"], name)
		}
	}
	if now, err := os.Hostname(); err != nil || now != own {
		t.Errorf("the test's host name is %q (%v), was %q", now, err, own)
	}
}
