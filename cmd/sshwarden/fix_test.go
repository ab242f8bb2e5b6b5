package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
)

// TestFixWrite checks what fix -w leaves on disk: the changed file keeps
// its owner and mode, a file without changes is not rewritten (same mtime,
// same inode), no other file appears in the folders, and a second run
// changes nothing.
func TestFixWrite(t *testing.T) {
	root := t.TempDir()
	ssh := filepath.Join(root, "etc", "ssh")
	drop := filepath.Join(ssh, "sshd_config.d")
	if err := os.MkdirAll(drop, 0o755); err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(ssh, "sshd_config")
	other := filepath.Join(drop, "10-site.conf")
	write := func(p, text string, mode os.FileMode) {
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	write(main, "Include /etc/ssh/sshd_config.d/*.conf\r\n#ClientAliveInterval 0\r\nPort 22\r\n", 0o600)
	write(other, "MaxAuthTries 3\n", 0o640)
	if err := os.Chown(main, 1234, 5678); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(other, old, old); err != nil {
		t.Fatal(err)
	}
	before := stat(t, other)

	var stderr bytes.Buffer
	if got := run([]string{"fix", "--root", root, "-w"}, io.Discard, &stderr); got != exitChanged {
		t.Fatalf("fix -w = %d, want %d\n%s", got, exitChanged, &stderr)
	}
	b, err := os.ReadFile(main)
	if err != nil {
		t.Fatal(err)
	}
	want := "Include /etc/ssh/sshd_config.d/*.conf\r\n#ClientAliveInterval 0\r\nClientAliveInterval 300\r\nPort 22\r\n"
	if string(b) != want {
		t.Errorf("%s = %q, want %q", main, b, want)
	}
	st := stat(t, main)
	if st.Mode&0o7777 != 0o600 || st.Uid != 1234 || st.Gid != 5678 {
		t.Errorf("%s: mode %o owner %d:%d, want 600 1234:5678", main, st.Mode&0o7777, st.Uid, st.Gid)
	}
	if after := stat(t, other); after.Mtim != before.Mtim || after.Ino != before.Ino {
		t.Errorf("%s was rewritten, though it needed no change", other)
	}
	for dir, want := range map[string][]string{ssh: {"sshd_config", "sshd_config.d"}, drop: {"10-site.conf"}} {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		if !slices.Equal(names, want) {
			t.Errorf("%s holds %q, want %q", dir, names, want)
		}
	}
	mainBefore := stat(t, main)
	if got := run([]string{"fix", "--root", root, "-w"}, io.Discard, io.Discard); got != exitOK {
		t.Errorf("second fix -w = %d, want %d", got, exitOK)
	}
	if after := stat(t, main); after.Mtim != mainBefore.Mtim || after.Ino != mainBefore.Ino {
		t.Errorf("the second fix -w rewrote %s", main)
	}
}

func stat(t *testing.T, p string) *syscall.Stat_t {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	return &st
}

// TestFixReloadLive runs fix -w --reload against a real sshd on 127.0.0.1:
// its config lets the test user have a pty through a Match block, the
// policy says PermitTTY no; after the fix and the reload a new connection
// gets no pty, while a session opened before keeps its own.
func TestFixReloadLive(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{Extra: []string{
		"Match User " + sshdtest.DefaultUser,
		"\tPermitTTY yes",
	}})
	ctx := context.Background()
	if r := s.Run(ctx, 20*time.Second, "-tt", "tty"); !strings.Contains(r.Stdout, "/dev/pts/") {
		t.Fatalf("before the fix: ssh -tt tty: %v, want a pty", r)
	}
	old, err := s.StartClient(ctx, "-tt", "tty; sleep 60")
	if err != nil {
		t.Fatal(err)
	}
	defer old.Wait(5 * time.Second)
	defer old.Signal(syscall.SIGTERM)

	policy := filepath.Join(t.TempDir(), "policy.conf")
	if err := os.WriteFile(policy, []byte("PermitTTY no\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if got := run([]string{"fix", "-f", s.ConfigPath, "--policy", policy, "-w", "-d", "--reload"}, &stdout, &stderr); got != exitChanged {
		t.Fatalf("fix -w --reload = %d, want %d\nstdout:\n%s\nstderr:\n%s", got, exitChanged, &stdout, &stderr)
	}
	for _, want := range []string{"+PermitTTY no", "-\tPermitTTY yes", "+\tPermitTTY no"} {
		if !strings.Contains(stdout.String(), want+"\n") {
			t.Errorf("the diff lacks %q:\n%s", want, &stdout)
		}
	}
	for _, want := range []string{"sshd -t accepted", "SIGHUP", "keep their old settings"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, &stderr)
		}
	}
	if !sshdtest.Alive(s.PID) {
		t.Fatalf("the listener (pid %d) is gone after the reload", s.PID)
	}
	r := s.Run(ctx, 20*time.Second, "-tt", "tty")
	if strings.Contains(r.Stdout, "/dev/pts/") || !strings.Contains(r.Stderr, "PTY allocation request failed") {
		t.Errorf("after the fix: ssh -tt tty: %v, want no pty", r)
	}
	if !sshdtest.Alive(old.Cmd.Process.Pid) {
		t.Errorf("the session opened before the reload is gone")
	}
}
