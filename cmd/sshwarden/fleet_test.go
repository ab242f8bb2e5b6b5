package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sshwarden/sshwarden/audit"
	"github.com/sshwarden/sshwarden/enforcer"
	"github.com/sshwarden/sshwarden/internal/journaltest"
	"github.com/sshwarden/sshwarden/internal/sshdtest"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/watcher"
)

// The central audit trail of a fleet, with systemd's own tools: each host's
// journald ships its journal with systemd-journal-upload to one
// systemd-journal-remote, which stores it in a journal directory; there
// `journalctl -D DIR` and `sshwarden report --directory DIR` read the
// records of every host. The hosts are journald namespaces, each run with a
// host name of its own (journaltest.StartOptions.Hostname), so their
// records carry distinct _HOSTNAME fields, as a fleet's do.

// Bounds of the fleet test.
const (
	fleetToolTimeout = 30 * time.Second // one upload, one journalctl, one helper
	fleetStopGrace   = 5 * time.Second  // SIGTERM to SIGKILL of journal-remote
)

// fleetHelperEnv makes TestFleetAuditHelper write the records in it (a JSON
// list of fleetRecord) through audit.NewJournal, as the agent does.
const fleetHelperEnv = "SSHWARDEN_FLEET_RECORDS"

// fleetRecord is an audit record for the helper: a session action of sshd
// pid PID, or an operational record (no PID).
type fleetRecord struct {
	Action, Reason, User string
	PID                  int
	Idle, Limit          int // seconds
	RuleLine             int // of /etc/sshwarden/policy.conf
}

// TestFleetAuditHelper is not a test: run by writeAudit in a journal
// namespace's mount namespace, it writes the records of fleetHelperEnv to
// journald with the agent's audit writer, then prints its sink and the
// records it dropped.
func TestFleetAuditHelper(t *testing.T) {
	spec := os.Getenv(fleetHelperEnv)
	if spec == "" {
		return
	}
	var recs []fleetRecord
	if err := json.Unmarshal([]byte(spec), &recs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	a := audit.NewJournal(audit.Options{Journal: audit.SinkJournal})
	for i, r := range recs {
		if r.PID == 0 {
			a.Record(audit.Record{Action: r.Action, Message: "sshwarden: " + r.Action + " (fleet test)"})
			continue
		}
		s := watcher.Session{
			PID: r.PID, User: r.User, UID: 1000 + i, Kind: watcher.KindPTY, TTY: "pts/" + strconv.Itoa(i),
			Remote: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.7"), uint16(50000+i)),
			Local:  netip.MustParseAddrPort("192.0.2.1:22"),
		}
		rec := enforcer.ActionRecord(enforcer.Action{
			Kind: r.Action, Reason: r.Reason, Session: s,
			Limit: time.Duration(r.Limit) * time.Second, Idle: time.Duration(r.Idle) * time.Second,
			Rule: sshdconf.Pos{File: "/etc/sshwarden/policy.conf", Line: r.RuleLine},
		})
		rec.Message = fmt.Sprintf("%s: the SSH session of %s (sshd pid %d), %s (fleet test).", r.Action, r.User, r.PID, r.Reason)
		a.Record(rec)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Close(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("sink %s dropped %d\n", a.Sink(), a.Dropped())
	os.Exit(0)
}

// fleetTools are the paths of systemd-journal-remote and -upload, from the
// package systemd-journal-remote. With CI=true a missing one fails the
// test; else it skips it.
func fleetTools(t *testing.T) (remote, upload string) {
	t.Helper()
	find := func(name string) string {
		for _, dir := range []string{"/lib/systemd", "/usr/lib/systemd"} {
			if p := filepath.Join(dir, name); isExecutable(p) {
				return p
			}
		}
		return ""
	}
	remote, upload = find("systemd-journal-remote"), find("systemd-journal-upload")
	var missing []string
	if remote == "" {
		missing = append(missing, "systemd-journal-remote")
	}
	if upload == "" {
		missing = append(missing, "systemd-journal-upload")
	}
	if _, err := exec.LookPath("journalctl"); err != nil {
		missing = append(missing, "journalctl")
	}
	if len(missing) > 0 {
		msg := "the central audit trail needs " + strings.Join(missing, ", ") + " (apt-get install systemd-journal-remote)"
		sshdtest.Missing(t, msg)
	}
	return remote, upload
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// writeAudit writes recs to j with the agent's audit writer, run in j's
// mount namespace, and waits until j holds want records of sshwarden.
func writeAudit(t *testing.T, j *journaltest.Journal, recs []fleetRecord, want int) {
	t.Helper()
	spec, err := json.Marshal(recs)
	if err != nil {
		t.Fatal(err)
	}
	inner := j.Command(os.Args[0], "-test.run=^TestFleetAuditHelper$", "-test.count=1")
	ctx, cancel := context.WithTimeout(t.Context(), fleetToolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, inner.Path, inner.Args[1:]...)
	cmd.Env = append(os.Environ(), fleetHelperEnv+"="+string(spec))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("audit helper: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	// Every record went to journald: none fell back to stderr.
	if got := stdout.String(); got != "sink journal dropped 0\n" || stderr.Len() > 0 {
		t.Fatalf("audit helper: stdout %q, stderr %q; want sink journal, nothing dropped, nothing on stderr", got, stderr.String())
	}
	j.WaitFor(t, 10*time.Second, func(recs []map[string]string) bool { return len(recs) >= want }, "SYSLOG_IDENTIFIER=sshwarden")
}

// journalRemote is a running systemd-journal-remote.
type journalRemote struct {
	cmd  *exec.Cmd
	done chan struct{}
	out  *sshdtest.Buffer
}

// startRemote runs systemd-journal-remote on a listening socket the test
// makes on addr (127.0.0.1:0 for a free port) and hands over as systemd's
// socket activation does (LISTEN_FDS, --listen-http=-3): no port to guess
// and no wait, the socket takes connections before the program runs. It
// writes to dir, one file per peer (--split-mode=host). It returns the
// port.
func startRemote(t *testing.T, bin, addr, dir string) (*journalRemote, int) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ln.(*net.TCPListener).File()
	ln.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close() // the child's copy keeps the socket
	port := ln.Addr().(*net.TCPAddr).Port
	// sh's pid is the program's after exec: LISTEN_PID names it.
	const script = `LISTEN_PID=$$ LISTEN_FDS=1; export LISTEN_PID LISTEN_FDS; exec "$0" "$@"`
	r := &journalRemote{
		cmd:  exec.Command("sh", "-c", script, bin, "--listen-http=-3", "--output="+dir+"/", "--split-mode=host"),
		done: make(chan struct{}),
		out:  &sshdtest.Buffer{},
	}
	r.cmd.ExtraFiles = []*os.File{f} // fd 3
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill()
		<-r.done
	})
	return r, port
}

// stop stops journal-remote, SIGTERM then SIGKILL, and waits for it: its
// socket is closed then, and connections to the port are refused.
func (r *journalRemote) stop(t *testing.T) {
	t.Helper()
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
		return
	case <-time.After(fleetStopGrace):
	}
	_ = r.cmd.Process.Kill()
	select {
	case <-r.done:
	case <-time.After(fleetStopGrace):
		t.Fatalf("systemd-journal-remote does not exit after SIGKILL")
	}
	t.Errorf("systemd-journal-remote did not exit within %v of SIGTERM:\n%s", fleetStopGrace, r.out)
}

// uploadJournal ships the journal files of dir with systemd-journal-upload,
// resuming after the cursor saved in state, and returns its output.
// --follow=no: upload what is there, then exit.
func uploadJournal(t *testing.T, bin, dir string, port int, state string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), fleetToolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--directory="+dir, "--url=http://127.0.0.1:"+strconv.Itoa(port),
		"--save-state="+state, "--follow=no")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s: no exit within %v\n%s", cmd, fleetToolTimeout, out)
	}
	return string(out), err
}

// journalctl runs journalctl with args and returns its output.
func journalctl(t *testing.T, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), fleetToolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "journalctl", append([]string{"--no-pager", "-q"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, stderr.String())
	}
	return out
}

// centralRecords are the records of the journal files in dir that match.
func centralRecords(t *testing.T, dir string, match ...string) []map[string]string {
	t.Helper()
	recs, err := journaltest.Parse(journalctl(t, append([]string{"-D", dir, "-o", "json", "--all"}, match...)...))
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// storageDir is the one directory of j's journal files.
func storageDir(t *testing.T, j *journaltest.Journal) string {
	t.Helper()
	dirs := j.StorageDirs()
	if len(dirs) != 1 {
		t.Fatalf("journal namespace %s: storage directories %q, want one", j.Namespace, dirs)
	}
	return dirs[0]
}

// shipped is a record without the field that journal-remote rewrites:
// __CURSOR (its own file's position). Every other field must arrive as it
// was: the sender's _HOSTNAME, _BOOT_ID, timestamps, SSHWARDEN_*.
func shipped(rec map[string]string) map[string]string {
	out := make(map[string]string, len(rec))
	for k, v := range rec {
		if k != "__CURSOR" {
			out[k] = v
		}
	}
	return out
}

// recordKey names a record across journals: the host, the time journald
// stored it, and the message.
func recordKey(rec map[string]string) string {
	return strings.Join([]string{rec["_HOSTNAME"], rec["_BOOT_ID"], rec["__REALTIME_TIMESTAMP"], rec["__MONOTONIC_TIMESTAMP"], rec["MESSAGE"]}, "|")
}

func sortRecords(recs []map[string]string) {
	slices.SortFunc(recs, func(a, b map[string]string) int { return strings.Compare(recordKey(a), recordKey(b)) })
}

// fleetReport is the part of `report --json` the fleet test reads.
type fleetReport struct {
	reportJSON
	ByHost []reportRowJSON `json:"by_host"`
}

// reportDirectory runs `sshwarden report --directory dir --json`.
func reportDirectory(t *testing.T, dir string) (fleetReport, string) {
	t.Helper()
	out, errOut, code := runReportCmd(t, "--directory", dir, "--json")
	if code != 0 {
		t.Fatalf("report --directory %s --json: exit %d\n%s", dir, code, errOut)
	}
	var rep fleetReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report --json: %v\n%s", err, out)
	}
	return rep, out
}

// sortRows sorts rows as the report does: by closes, most first, then by
// key.
func sortRows(rows []reportRowJSON) {
	slices.SortFunc(rows, func(a, b reportRowJSON) int {
		if a.Closed != b.Closed {
			return b.Closed - a.Closed
		}
		return strings.Compare(a.Key, b.Key)
	})
}

// wantReport checks a report's totals and its host and user rows.
func wantReport(t *testing.T, what string, got fleetReport, warned, closed, heeded int, hosts, users []reportRowJSON) {
	t.Helper()
	if got.Warned != warned || got.Closed != closed || got.Heeded != heeded || got.WarnFailed+got.CloseFailed != 0 {
		t.Errorf("%s: warned %d closed %d heeded %d failed %d; want %d %d %d 0", what, got.Warned, got.Closed, got.Heeded, got.WarnFailed+got.CloseFailed, warned, closed, heeded)
	}
	if diff := cmp.Diff(hosts, got.ByHost); diff != "" {
		t.Errorf("%s: by_host (-want +got):\n%s", what, diff)
	}
	if diff := cmp.Diff(users, got.ByUser); diff != "" {
		t.Errorf("%s: by_user (-want +got):\n%s", what, diff)
	}
}

// TestCentralAuditTrail: two hosts ship their journals with
// systemd-journal-upload to one systemd-journal-remote; the central
// journal holds the close records of both with their fields intact,
// `sshwarden report --directory` counts both hosts exactly, and so does
// `report --input -` on journalctl's export of it. Then the remote is
// down: the upload fails and keeps its place, and a later one sends the
// rest.
func TestCentralAuditTrail(t *testing.T) {
	t.Parallel()
	remoteBin, uploadBin := fleetTools(t)
	begin := time.Now()
	web1 := journaltest.StartWith(t, journaltest.StartOptions{Hostname: "web1"})
	db1 := journaltest.StartWith(t, journaltest.StartOptions{Hostname: "db1"})
	tmp := t.TempDir()
	central := filepath.Join(tmp, "central")
	if err := os.Mkdir(central, 0o755); err != nil {
		t.Fatal(err)
	}
	state := map[string]string{"web1": filepath.Join(tmp, "web1.state"), "db1": filepath.Join(tmp, "db1.state")}

	// The agents' records, as they write them: web1 ends with a close.
	writeAudit(t, web1, []fleetRecord{
		{Action: audit.ActionAgentStarted},
		{Action: audit.ActionWarn, Reason: audit.ReasonIdle, User: "bob", PID: 102, Idle: 840, Limit: 900, RuleLine: 3},
		{Action: audit.ActionHeeded, Reason: audit.ReasonIdle, User: "bob", PID: 102, Idle: 2, Limit: 900, RuleLine: 3},
		{Action: audit.ActionWarn, Reason: audit.ReasonIdle, User: "alice", PID: 101, Idle: 840, Limit: 900, RuleLine: 3},
		{Action: audit.ActionClose, Reason: audit.ReasonIdle, User: "alice", PID: 101, Idle: 900, Limit: 900, RuleLine: 3},
	}, 5)
	writeAudit(t, db1, []fleetRecord{
		{Action: audit.ActionAgentStarted},
		{Action: audit.ActionWarn, Reason: audit.ReasonIdle, User: "carol", PID: 201, Idle: 1740, Limit: 1800, RuleLine: 5},
		{Action: audit.ActionClose, Reason: audit.ReasonIdle, User: "carol", PID: 201, Idle: 1800, Limit: 1800, RuleLine: 5},
		{Action: audit.ActionClose, Reason: audit.ReasonMaxSessionTime, User: "dave", PID: 202, Idle: 12, Limit: 28800, RuleLine: 7},
	}, 4)
	written := time.Now()

	remote, port := startRemote(t, remoteBin, "127.0.0.1:0", central)
	for _, h := range []struct {
		name string
		j    *journaltest.Journal
	}{{"web1", web1}, {"db1", db1}} {
		start := time.Now()
		out, err := uploadJournal(t, uploadBin, storageDir(t, h.j), port, state[h.name])
		if err != nil {
			t.Fatalf("upload of %s: %v\n%s\njournal-remote:\n%s", h.name, err, out, remote.out)
		}
		t.Logf("upload of %s: %v", h.name, time.Since(start).Round(time.Millisecond))
	}
	uploaded := time.Now()

	// --split-mode=host names a file after the uploader's address, not
	// after _HOSTNAME: both hosts upload from 127.0.0.1 here, into one file.
	files, err := filepath.Glob(filepath.Join(central, "*"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	if len(names) == 0 || !slices.ContainsFunc(names, func(n string) bool { return n == "remote-127.0.0.1.journal" }) {
		t.Errorf("central journal files %q, want remote-127.0.0.1.journal", names)
	}
	t.Logf("central journal files: %q", names)

	// journalctl -D CENTRAL SSHWARDEN_ACTION=close: exactly the closes of
	// both hosts, every field as the host's journald stored it.
	got := centralRecords(t, central, "SSHWARDEN_ACTION=close")
	want := append(web1.Records(t, "SSHWARDEN_ACTION=close"), db1.Records(t, "SSHWARDEN_ACTION=close")...)
	for i := range got {
		got[i] = shipped(got[i])
	}
	for i := range want {
		want[i] = shipped(want[i])
	}
	sortRecords(got)
	sortRecords(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("central close records (-hosts +central):\n%s", diff)
	}
	var closes []string
	for _, r := range got {
		closes = append(closes, r["_HOSTNAME"]+" "+r["SSHWARDEN_USER"]+" "+r["SSHWARDEN_REASON"]+" pid "+r["SSHWARDEN_PID"])
	}
	slices.Sort(closes)
	if diff := cmp.Diff([]string{"db1 carol idle pid 201", "db1 dave max-session-time pid 202", "web1 alice idle pid 101"}, closes); diff != "" {
		t.Errorf("central closes (-want +got):\n%s", diff)
	}

	// sshwarden report --directory CENTRAL: both hosts, exact.
	hosts := []reportRowJSON{{Key: "db1", Warned: 1, Closed: 2}, {Key: "web1", Warned: 2, Closed: 1, Heeded: 1}}
	users := []reportRowJSON{{Key: "alice", Warned: 1, Closed: 1}, {Key: "carol", Warned: 1, Closed: 1}, {Key: "dave", Closed: 1}, {Key: "bob", Warned: 1, Heeded: 1}}
	rep, repJSON := reportDirectory(t, central)
	wantReport(t, "report --directory", rep, 3, 3, 1, hosts, users)
	if rep.ClosedByReason["idle"] != 2 || rep.ClosedByReason["max-session-time"] != 1 || rep.Records != 9 || len(rep.Skipped) != 0 {
		t.Errorf("report --directory: closed by reason %v, records %d, skipped %v; want idle 2, max-session-time 1, 9 records, none skipped",
			rep.ClosedByReason, rep.Records, rep.Skipped)
	}

	// journalctl -D CENTRAL -o json --output-fields=... | sshwarden report
	// --input -: the same numbers. The export is of the whole journal:
	// the report skips journald's own records as other programs'.
	bin, err := exec.LookPath("sshwarden") // this test binary, by testscript.Main
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), fleetToolTimeout)
	defer cancel()
	export := exec.CommandContext(ctx, "journalctl", "--no-pager", "-q", "-D", central, "-o", "json",
		"--output-fields="+strings.Join(audit.ReportFields, ","))
	report := exec.CommandContext(ctx, bin, "report", "--input", "-", "--json")
	var exportErr, reportOut, reportErr bytes.Buffer
	export.Stderr, report.Stdout, report.Stderr = &exportErr, &reportOut, &reportErr
	if report.Stdin, err = export.StdoutPipe(); err != nil {
		t.Fatal(err)
	}
	if err := export.Start(); err != nil {
		t.Fatal(err)
	}
	if err := report.Run(); err != nil {
		t.Errorf("sshwarden report --input -: %v\n%s", err, reportErr.String())
	}
	if err := export.Wait(); err != nil {
		t.Errorf("journalctl -D %s -o json: %v\n%s", central, err, exportErr.String())
	}
	var piped, direct map[string]any
	if err := json.Unmarshal(reportOut.Bytes(), &piped); err != nil {
		t.Fatalf("report --input - --json: %v\n%s", err, reportOut.String())
	}
	if err := json.Unmarshal([]byte(repJSON), &direct); err != nil {
		t.Fatal(err)
	}
	skipped, _ := piped["skipped"].(map[string]any)
	if n, _ := skipped["other-program"].(float64); len(skipped) != 1 || n < 1 {
		t.Errorf("report --input - skipped %v, want only other-program lines (journald's own records)", skipped)
	}
	delete(piped, "skipped")
	delete(direct, "skipped")
	if diff := cmp.Diff(direct, piped); diff != "" {
		t.Errorf("report --input - of the export (-report --directory +report --input):\n%s", diff)
	}
	if testing.Verbose() {
		t.Logf("$ journalctl -D %s SSHWARDEN_ACTION=close\n%s", central, journalctl(t, "-D", central, "SSHWARDEN_ACTION=close"))
		text, _, _ := runReportCmd(t, "--directory", central)
		t.Logf("$ sshwarden report --directory %s\n%s", central, text)
		t.Logf("report --input - skipped %v", skipped)
		t.Logf("$ sshwarden report --directory %s --json\n%s", central, repJSON)
	}
	checked := time.Now()

	// The remote is down: the upload fails, says why, and keeps its place.
	remote.stop(t)
	writeAudit(t, web1, []fleetRecord{
		{Action: audit.ActionWarn, Reason: audit.ReasonIdle, User: "erin", PID: 103, Idle: 840, Limit: 900, RuleLine: 3},
		{Action: audit.ActionClose, Reason: audit.ReasonIdle, User: "erin", PID: 103, Idle: 900, Limit: 900, RuleLine: 3},
	}, 7)
	before, err := os.ReadFile(state["web1"])
	if err != nil {
		t.Fatal(err)
	}
	out, err := uploadJournal(t, uploadBin, storageDir(t, web1), port, state["web1"])
	var exit *exec.ExitError
	wantMsg := fmt.Sprintf("Upload to http://127.0.0.1:%d/upload failed: Failed to connect to 127.0.0.1 port %d", port, port)
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(out, wantMsg) {
		t.Errorf("upload to a remote that is down: %v\n%s\nwant exit status 1 and %q", err, out, wantMsg)
	}
	t.Logf("upload to a remote that is down: %v: %s", err, strings.TrimSpace(out))
	if after, err := os.ReadFile(state["web1"]); err != nil || !bytes.Equal(after, before) {
		t.Errorf("the state file changed on a failed upload: %q, was %q (%v)", after, before, err)
	}
	// The entry the state file points at: the last one sent.
	var cursor string
	for line := range strings.Lines(string(before)) {
		if c, ok := strings.CutPrefix(strings.TrimSpace(line), "LAST_CURSOR="); ok {
			cursor = c
		}
	}
	if cursor == "" {
		t.Fatalf("no LAST_CURSOR in the state file:\n%s", before)
	}
	atCursor, err := journaltest.Parse(journalctl(t, "-D", storageDir(t, web1), "-o", "json", "--all", "--cursor="+cursor))
	if err != nil || len(atCursor) == 0 {
		t.Fatalf("the entry at the saved cursor: %v, %d entries", err, len(atCursor))
	}

	// The remote is back on the same port: the next upload sends the rest.
	remote, _ = startRemote(t, remoteBin, "127.0.0.1:"+strconv.Itoa(port), central)
	if out, err := uploadJournal(t, uploadBin, storageDir(t, web1), port, state["web1"]); err != nil {
		t.Fatalf("upload of web1 after the remote came back: %v\n%s\njournal-remote:\n%s", err, out, remote.out)
	}
	remote.stop(t)
	// Every record of both hosts is there, the new ones included. The
	// only record there twice may be the one at the saved cursor:
	// systemd-journal-upload 252 sends it again when it resumes.
	all := centralRecords(t, central)
	seen := map[string]int{}
	for _, r := range all {
		seen[recordKey(r)]++
	}
	for _, j := range []*journaltest.Journal{web1, db1} {
		for _, r := range j.Records(t) {
			if seen[recordKey(r)] == 0 {
				t.Errorf("the central journal lacks %s's record %q", r["_HOSTNAME"], r["MESSAGE"])
			}
			delete(seen, recordKey(r))
		}
	}
	if len(seen) > 0 {
		t.Errorf("the central journal has records of no host: %v", seen)
	}
	resent := map[string]string{}
	for _, r := range all {
		seen[recordKey(r)]++
		if seen[recordKey(r)] == 2 {
			if recordKey(r) != recordKey(atCursor[0]) {
				t.Errorf("the central journal has %s's record %q more than once, and it is not the one at the saved cursor", r["_HOSTNAME"], r["MESSAGE"])
			}
			resent = r
		}
		if seen[recordKey(r)] > 2 {
			t.Errorf("the central journal has %s's record %q %d times", r["_HOSTNAME"], r["MESSAGE"], seen[recordKey(r)])
		}
	}
	if len(resent) > 0 {
		t.Logf("systemd-journal-upload sent the record at its saved cursor again on resuming: %s %s %s %q",
			resent["_HOSTNAME"], resent["SSHWARDEN_ACTION"], resent["SSHWARDEN_USER"], resent["MESSAGE"])
	}

	// The report counts each record once: erin's warning and close are
	// new, and the resent record is a repeat (same boot, monotonic time
	// and host), skipped as such.
	warned, closed, heeded := 4, 4, 1
	hosts = []reportRowJSON{{Key: "db1", Warned: 1, Closed: 2}, {Key: "web1", Warned: 3, Closed: 2, Heeded: 1}}
	users = append(slices.Clone(users), reportRowJSON{Key: "erin", Warned: 1, Closed: 1})
	wantRepeats := 0
	if len(resent) > 0 && resent["SYSLOG_IDENTIFIER"] == "sshwarden" {
		wantRepeats = 1
	}
	sortRows(hosts)
	sortRows(users)
	rep, _ = reportDirectory(t, central)
	wantReport(t, "report --directory after the resume", rep, warned, closed, heeded, hosts, users)
	if rep.Skipped[audit.SkipRepeat] != wantRepeats {
		t.Errorf("report --directory after the resume: skipped %v, want %d %s", rep.Skipped, wantRepeats, audit.SkipRepeat)
	}
	if testing.Verbose() {
		t.Logf("after the outage and the resume:\n$ journalctl -D %s SSHWARDEN_ACTION=close\n%s", central, journalctl(t, "-D", central, "SSHWARDEN_ACTION=close"))
		t.Logf("report --directory: warned %d closed %d heeded %d; by_host %+v", rep.Warned, rep.Closed, rep.Heeded, rep.ByHost)
	}
	t.Logf("timings: journalds and records %v, two uploads %v, checks %v, outage and resume %v; total %v",
		written.Sub(begin).Round(time.Millisecond), uploaded.Sub(written).Round(time.Millisecond),
		checked.Sub(uploaded).Round(time.Millisecond), time.Since(checked).Round(time.Millisecond), time.Since(begin).Round(time.Millisecond))
	if t.Failed() {
		t.Logf("journal-remote:\n%s", remote.out)
	}
}
