package watcher_test

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
	"github.com/sshwarden/sshwarden/watcher"
)

// TestScanReplacedBinary plays an upgrade of openssh-server under a live
// session: the package renames a new sshd over the old one, and the
// listener and the monitor now run a deleted file ("PATH (deleted)" in
// their exe link). They are still trusted, for the file they run, and the
// session is still listed; a login after the upgrade runs the new file.
// The same once nothing is at PATH any more.
func TestScanReplacedBinary(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "sshd")
	copyFile(t, sshdtest.SSHD, bin)
	s := sshdtest.Start(t, sshdtest.Options{Binary: bin})
	sc := newScanner(t)
	c, err := s.StartClient(t.Context(), "sleep 600")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Signal(os.Kill); c.Wait(5 * time.Second) })
	before := scanUntil(t, sc, "the login", func(ss []watcher.Session) bool {
		mine := ofListener(ss, s.PID)
		return len(mine) == 1 && mine[0].Command == "sleep 600"
	})
	mon := ofListener(before, s.PID)[0]

	copyFile(t, sshdtest.SSHD, bin+".new")
	if err := os.Rename(bin+".new", bin); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int{s.PID, mon.PID} {
		if exe, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "exe")); err != nil || exe != bin+" (deleted)" {
			t.Fatalf("exe of %d = %q, %v; want %q", pid, exe, err, bin+" (deleted)")
		}
	}
	after, problems := scan(t, sc, time.Now())
	got := ofListener(after, s.PID)
	if len(got) != 1 || got[0].PID != mon.PID || got[0].Child != mon.Child || got[0].Remote != mon.Remote || got[0].Command != "sleep 600" {
		t.Fatalf("after the upgrade, Scan lists %s; want the session of monitor %d (problems %q)", dump(got), mon.PID, problems)
	}
	if r := s.Run(t.Context(), 10*time.Second, "true"); r.Exit != 0 {
		t.Errorf("a login after the upgrade: %v", r)
	}

	// An upgrade that moves the binary (as 9.8 moved the per-connection
	// code to /usr/lib/openssh/sshd-session): nothing is at PATH now.
	if err := os.Remove(bin); err != nil {
		t.Fatal(err)
	}
	after, problems = scan(t, sc, time.Now())
	// (The login after the upgrade may still be ending: look for ours.)
	if got, ok := byPID(ofListener(after, s.PID), mon.PID); !ok || got.Child != mon.Child || got.Remote != mon.Remote {
		t.Fatalf("after the binary was removed, Scan lists %s; want the session of monitor %d (problems %q)", dump(after), mon.PID, problems)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
