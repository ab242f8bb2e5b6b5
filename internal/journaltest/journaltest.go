// Package journaltest runs a real, throwaway systemd-journald for a test,
// in a journal namespace of its own, and reads back what it stored.
//
// [Start] picks a namespace name no one uses ("sshwtest" and 16 random hex
// digits) and runs `systemd-journald NAMESPACE` (systemd-journald.service(8),
// "Journal Namespaces") as a child of the test. That journald listens in
// /run/systemd/journal.NAMESPACE/ (socket, stdout, dev-log and its varlink
// socket) and stores its files in /var/log/journal/MACHINE-ID.NAMESPACE/
// when /var/log/journal exists (Storage=auto, as on Debian), else in
// /run/log/journal/MACHINE-ID.NAMESPACE/. [Journal.Records] reads them with
// `journalctl --namespace NAMESPACE -o json`.
//
// Programs that log through go-systemd's journal package, like sshwarden,
// send to the fixed path /run/systemd/journal/socket. [Journal.Command]
// runs such a program in a private mount namespace where that directory is
// the test journald's, so the real binary logs to the test's journald and
// never to the host's.
//
// [StartOptions] with a Hostname runs journald in a UTS namespace of its
// own, named so: journald stamps every record with _HOSTNAME from
// gethostname(2), so two such journals stand for two hosts of a fleet
// (their _MACHINE_ID and _BOOT_ID are this machine's).
//
// A namespace's journald exits by itself after about 30 s without
// records or clients (measured with systemd 252); its files stay, and
// [Journal.Restart] starts it again.
//
// # Safety
//
// These tests run as root on a real machine, possibly with a production
// journald. So the package:
//
//   - never mounts anything in the host's mount namespace; the only change
//     outside its own paths is an empty /run/systemd/journal directory
//     when there was none (the mount point inside the private namespaces);
//   - signals only the journald it started;
//   - removes in [testing.TB.Cleanup] what its journald created:
//     /run/systemd/journal.NAMESPACE and the MACHINE-ID.NAMESPACE
//     directories (on a host without /var/log/journal, journald may also
//     create /run/log/journal, the standard volatile directory, which
//     stays);
//   - bounds every wait in time.
//
// # Missing components
//
// Without root, systemd-journald, journalctl or unshare, Start skips the
// test; with the environment variable CI=true it fails it instead: a test
// that lacks a real component fails in CI; it never skips.
package journaltest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
)

// Journald is the journald Start runs (Debian's path).
const Journald = "/lib/systemd/systemd-journald"

// Storage directories: journald writes MACHINE-ID.NAMESPACE under the
// persistent one when it exists, else under the volatile one.
const (
	persistentRoot = "/var/log/journal"
	volatileRoot   = "/run/log/journal"
)

// Bounds on every wait.
const (
	startTimeout = 10 * time.Second // until the socket takes datagrams
	stopGrace    = 3 * time.Second  // SIGTERM to SIGKILL
	stopTimeout  = 5 * time.Second  // after SIGKILL
	toolTimeout  = 10 * time.Second // one journalctl
	pollEvery    = 10 * time.Millisecond
)

// Journal is a running (or stopped) namespaced journald.
type Journal struct {
	// Namespace is the journal namespace: "sshwtest" and 16 hex digits.
	Namespace string

	hostname string // "": the host's

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}    // closed when cmd has been waited for
	log  *sshdtest.Buffer // journald's stdout and stderr, all runs
}

// Start starts a journald in a new namespace, and in t.Cleanup stops it and
// removes everything it created. It fails the test if journald does not
// start in time, and skips it if a component is missing, unless CI=true.
func Start(t testing.TB) *Journal {
	t.Helper()
	return StartWith(t, StartOptions{})
}

// StartOptions configure [StartWith]. The zero value is [Start]'s.
type StartOptions struct {
	// Hostname, when set, is the host name journald runs with, in a UTS
	// namespace of its own (unshare --uts), and so the _HOSTNAME of every
	// record it stores. At most 64 bytes (HOST_NAME_MAX).
	Hostname string
}

// StartWith is [Start] with options.
func StartWith(t testing.TB, o StartOptions) *Journal {
	t.Helper()
	requireReal(t)
	if h := o.Hostname; len(h) > 64 {
		t.Fatalf("journaltest: bad host name %q", h)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("journaltest: %v", err)
	}
	j := &Journal{Namespace: "sshwtest" + hex.EncodeToString(b[:]), hostname: o.Hostname, log: &sshdtest.Buffer{}}
	if _, err := os.Lstat(j.Dir()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("journaltest: %s exists already (%v)", j.Dir(), err)
	}
	t.Cleanup(func() { j.cleanup(t) })
	if err := j.start(); err != nil {
		t.Fatalf("journaltest: %v", err)
	}
	return j
}

// Dir is the namespace's socket directory, /run/systemd/journal.NAMESPACE.
func (j *Journal) Dir() string { return "/run/systemd/journal." + j.Namespace }

// Socket is the native protocol socket that journal.Send writes to.
func (j *Journal) Socket() string { return filepath.Join(j.Dir(), "socket") }

// StorageDirs are the directories that hold the namespace's journal files
// now, MACHINE-ID.NAMESPACE under /var/log/journal or /run/log/journal.
func (j *Journal) StorageDirs() []string {
	var dirs []string
	for _, root := range []string{persistentRoot, volatileRoot} {
		matches, _ := filepath.Glob(filepath.Join(root, "*."+j.Namespace))
		for _, m := range matches {
			if id, _, _ := strings.Cut(filepath.Base(m), "."); isMachineID(id) {
				dirs = append(dirs, m)
			}
		}
	}
	return dirs
}

// isMachineID reports whether s is 32 lower-case hex digits.
func isMachineID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Log is what journald printed (it logs its own start and stop there).
func (j *Journal) Log() string { return j.log.String() }

// Stop stops journald, SIGTERM then SIGKILL, and waits for it. Its
// directory, stale sockets and files stay: senders now fail, and
// [Journal.Restart] takes up the same namespace.
func (j *Journal) Stop(t testing.TB) {
	t.Helper()
	if err := j.stop(); err != nil {
		t.Fatalf("journaltest: %v", err)
	}
}

// Restart starts journald again in the same namespace (stopping it first
// if it runs). Programs started by [Journal.Command] before see the new
// journald: their bind mount is of the directory, which stays.
func (j *Journal) Restart(t testing.TB) {
	t.Helper()
	if err := j.stop(); err != nil {
		t.Fatalf("journaltest: %v", err)
	}
	if err := j.start(); err != nil {
		t.Fatalf("journaltest: %v", err)
	}
}

// Command returns a command that runs name with args in a private mount
// namespace in which /run/systemd/journal is the test journald's
// directory, so that /run/systemd/journal/socket (go-systemd's fixed path),
// /run/systemd/journal/stdout and /dev/log reach it:
//
//	unshare --mount --propagation private sh -c \
//	    'mkdir -p /run/systemd/journal && mount --bind "$0" /run/systemd/journal && exec "$@"' \
//	    /run/systemd/journal.NAMESPACE NAME ARGS...
//
// The host's mount namespace is not touched; mkdir may create an empty
// /run/systemd/journal on the host.
func (j *Journal) Command(name string, args ...string) *exec.Cmd {
	const script = `mkdir -p /run/systemd/journal && mount --bind "$0" /run/systemd/journal && exec "$@"`
	argv := append([]string{"--mount", "--propagation", "private", "sh", "-c", script, j.Dir(), name}, args...)
	return exec.Command("unshare", argv...)
}

// Records returns the namespace's journal entries, oldest first, each as
// its fields, read with `journalctl --namespace NAMESPACE -o json --all`
// and the matches, such as "SYSLOG_IDENTIFIER=sshwarden" (journalctl(1)).
// A binary value (journalctl prints it as an array of bytes) is returned as
// its bytes; a field an entry carries more than once has its values joined
// by "\n". It fails the test if journalctl fails.
func (j *Journal) Records(t testing.TB, match ...string) []map[string]string {
	t.Helper()
	recs, err := j.records(match)
	if err != nil {
		t.Fatalf("journaltest: %v", err)
	}
	return recs
}

// WaitFor reads the records (as Records does, with the matches) until cond
// holds for them, and returns them. journald stores what it receives
// asynchronously: a record just sent may be missing for a moment. (With
// systemd 252, a record sent by a process that has exited was there on the
// first read in every measurement; `journalctl --sync` works on a namespace
// but costs about as much as a read, so WaitFor polls instead.) It fails
// the test when timeout passes first.
func (j *Journal) WaitFor(t testing.TB, timeout time.Duration, cond func([]map[string]string) bool, match ...string) []map[string]string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		recs, err := j.records(match)
		if err != nil {
			t.Fatalf("journaltest: %v", err)
		}
		if cond(recs) {
			return recs
		}
		if time.Now().After(deadline) {
			t.Fatalf("journaltest: namespace %s: not there after %v; %d records%s:\n%s\njournald said:\n%s",
				j.Namespace, timeout, len(recs), matchText(match), summary(recs), j.Log())
		}
		time.Sleep(pollEvery)
	}
}

func matchText(match []string) string {
	if len(match) == 0 {
		return ""
	}
	return " matching " + strings.Join(match, " ")
}

// summary lists records by MESSAGE, for failure messages.
func summary(recs []map[string]string) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "  %s: %q\n", r["SYSLOG_IDENTIFIER"], r["MESSAGE"])
	}
	return b.String()
}

func (j *Journal) records(match []string) ([]map[string]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	args := []string{"--namespace", j.Namespace, "--output", "json", "--all", "--no-pager", "--quiet"}
	if len(match) > 0 {
		args = append(append(args, "--"), match...)
	}
	cmd := exec.CommandContext(ctx, "journalctl", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("journalctl %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return Parse(out)
}

// Parse parses the output of `journalctl -o json` as Records returns it.
func Parse(out []byte) ([]map[string]string, error) {
	var recs []map[string]string
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var raw map[string]json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("journalctl -o json: %v", err)
		}
		rec := make(map[string]string, len(raw))
		for name, v := range raw {
			s, err := value(v)
			if err != nil {
				return nil, fmt.Errorf("journalctl -o json: field %s: %v", name, err)
			}
			rec[name] = s
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// value decodes one field of journalctl's JSON: a string, an array of
// bytes (binary data), null (a value too large without --all), or an
// array of those (a field present several times).
func value(v json.RawMessage) (string, error) {
	var s *string
	if err := json.Unmarshal(v, &s); err == nil {
		if s == nil {
			return "", nil
		}
		return *s, nil
	}
	var bs []byte // from a JSON array of numbers (a string would be base64)
	if err := json.Unmarshal(v, &bs); err == nil {
		return string(bs), nil
	}
	var many []json.RawMessage
	if err := json.Unmarshal(v, &many); err != nil {
		return "", fmt.Errorf("neither a string, bytes nor a list: %s", v)
	}
	vals := make([]string, len(many))
	for i, m := range many {
		s, err := value(m)
		if err != nil {
			return "", err
		}
		vals[i] = s
	}
	return strings.Join(vals, "\n"), nil
}

// start runs journald and waits until its socket takes datagrams.
func (j *Journal) start() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.cmd != nil {
		return fmt.Errorf("journald of namespace %s runs already", j.Namespace)
	}
	// A previous run left its socket: wait for the new one, not that.
	if err := os.Remove(j.Socket()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	cmd := exec.Command(Journald, j.Namespace)
	if j.hostname != "" {
		// unshare and sh exec: journald keeps the pid that is signalled.
		const script = `printf '%s' "$0" >/proc/sys/kernel/hostname && exec "$@"`
		cmd = exec.Command("unshare", "--uts", "sh", "-c", script, j.hostname, Journald, j.Namespace)
	}
	cmd.Stdout, cmd.Stderr = j.log, j.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s %s: %v", Journald, j.Namespace, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	j.cmd, j.done = cmd, done

	deadline := time.Now().Add(startTimeout)
	for {
		c, err := net.Dial("unixgram", j.Socket())
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-done:
			j.cmd, j.done = nil, nil
			return fmt.Errorf("%s %s exited at start: %v\n%s", Journald, j.Namespace, cmd.ProcessState, j.Log())
		default:
		}
		if time.Now().After(deadline) {
			stopErr := j.stopLocked()
			return fmt.Errorf("%s %s: no socket at %s after %v (%v; stop: %v)\n%s", Journald, j.Namespace, j.Socket(), startTimeout, err, stopErr, j.Log())
		}
		time.Sleep(pollEvery)
	}
}

// stop stops journald if it runs.
func (j *Journal) stop() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.stopLocked()
}

func (j *Journal) stopLocked() error {
	if j.cmd == nil {
		return nil
	}
	pid := j.cmd.Process.Pid
	_ = j.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-j.done:
	case <-time.After(stopGrace):
		_ = j.cmd.Process.Kill()
		select {
		case <-j.done:
		case <-time.After(stopTimeout):
			return fmt.Errorf("journald %d of namespace %s does not exit after SIGKILL", pid, j.Namespace)
		}
	}
	j.cmd, j.done = nil, nil
	return nil
}

// cleanup stops journald and removes its directories.
func (j *Journal) cleanup(t testing.TB) {
	if err := j.stop(); err != nil {
		t.Errorf("journaltest: %v", err)
		return // it may still write there
	}
	for _, dir := range append(j.StorageDirs(), j.Dir()) {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("journaltest: %v", err)
		}
	}
}

func requireReal(t testing.TB) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	if _, err := os.Stat(Journald); err != nil {
		missing = append(missing, Journald+" (apt-get install systemd)")
	}
	for _, tool := range []string{"journalctl", "unshare", "mount", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	sshdtest.Missing(t, "journaltest: a real journald needs "+strings.Join(missing, ", "))
}
