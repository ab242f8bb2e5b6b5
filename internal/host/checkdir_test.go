package host

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/sshdconf"
)

// checkDirs returns the names of the folders of checks in tmp.
func checkDirs(t *testing.T, tmp string) []string {
	t.Helper()
	entries, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "sshwarden-check-") {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestCheckLeftovers kills a process in the middle of a check by sshd -t
// (on this host, of a copy, of a --root tree), and checks that the next
// check leaves no folder of either in the temporary folder, and that no
// sshd -t of the killed process runs on.
func TestCheckLeftovers(t *testing.T) {
	needSSHD(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // for this process and the helpers
	bin := t.TempDir()
	// A stand-in for sshd that says it runs, and then waits to be killed.
	slow := filepath.Join(bin, "slow-sshd")
	started := filepath.Join(bin, "started")
	script := fmt.Sprintf("#!/bin/sh\necho $$ >%s.new && mv %s.new %s\nexec sleep 60\n", started, started, started)
	if err := os.WriteFile(slow, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	quick := filepath.Join(bin, "quick-sshd")
	if err := os.WriteFile(quick, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(bin, "sshd_config")
	if err := os.WriteFile(config, []byte("ClientAliveInterval 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tree := makeTreeFiles(t, []treeFile{{name: "etc/ssh/sshd_config", content: "ClientAliveInterval 0\n"}})

	tests := []struct {
		name string
		spec checkSpec
		next *Checker // the next run's check
	}{
		{"this host", checkSpec{SSHD: slow, Config: config}, &Checker{SSHD: quick}},
		{"a copy", checkSpec{SSHD: slow, Config: config, Copy: true}, &Checker{SSHD: quick, Copy: true}},
		{"a --root tree", checkSpec{Root: tree, Config: "/etc/ssh/sshd_config", Kill: true}, &Checker{Root: tree}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(started)
			cmd := helper(t, crashSpec{Check: &tt.spec})
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			sshdPid := 0
			if !tt.spec.Kill {
				// Kill the helper once its sshd runs.
				for deadline := time.Now().Add(20 * time.Second); ; {
					if b, err := os.ReadFile(started); err == nil {
						sshdPid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
						break
					}
					if time.Now().After(deadline) {
						cmd.Process.Kill()
						<-done
						t.Fatalf("sshd -t did not start; helper output:\n%s", out.String())
					}
					time.Sleep(10 * time.Millisecond)
				}
				cmd.Process.Kill()
			}
			checkKilled(t, <-done, []byte(out.String()))
			if sshdPid > 0 {
				t.Cleanup(func() { syscall.Kill(sshdPid, syscall.SIGKILL) })
				gone := false
				for deadline := time.Now().Add(5 * time.Second); !gone && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
					gone = syscall.Kill(sshdPid, 0) != nil
				}
				if !gone {
					t.Errorf("the sshd -t of the killed run (pid %d) still runs", sshdPid)
				}
			}
			t.Logf("left by the kill: %q", checkDirs(t, tmp))

			main := tt.spec.Config
			fsys := os.DirFS("/")
			if tt.spec.Root != "" {
				fsys = os.DirFS(tt.spec.Root)
			}
			cfg, err := sshdconf.Load(fsys, main, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.next.Check(context.Background(), cfg, nil); err != nil {
				t.Fatalf("the next Check() = %v", err)
			}
			if left := checkDirs(t, tmp); len(left) > 0 {
				t.Errorf("after the next run, %s holds %q, want no folder of a check", tmp, left)
			}
		})
	}
}

// TestCheckDirsOfTheLiving: the next run leaves the folder of a check in
// progress (its process lives, or holds the lock from another PID
// namespace) and anything not named as a check's folder.
func TestCheckDirsOfTheLiving(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	mine, err := newCheckDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	defer mine.remove()
	// A folder whose PID is dead (never used: past pid_max) but whose lock
	// is held, as by a process of another PID namespace.
	locked := filepath.Join(tmp, "sshwarden-check-99999999-1-0123456789abcdef")
	other := []string{
		"sshwarden-check-12",                           // the old format: not provably ours
		"sshwarden-check-99999999-1-0123456789abcdeg",  // not hex
		"sshwarden-check-99999999-1-0123456789abcdef0", // too long
		"something-else-99999999-1-0123456789abcdef",   // not ours
		"sshwarden-check-99999999-x-0123456789abcdef",  // no start time
	}
	for _, d := range append([]string{locked}, other...) {
		if err := os.Mkdir(filepath.Join(tmp, filepath.Base(d)), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(locked)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(tmp, "sshwarden-check-99999999-7-fedcba9876543210")
	if err := os.MkdirAll(filepath.Join(stale, "root", "etc"), 0o700); err != nil {
		t.Fatal(err)
	}

	next, err := newCheckDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	defer next.remove()
	for _, d := range append([]string{mine.path, locked, next.path}, other...) {
		if _, err := os.Stat(filepath.Join(tmp, filepath.Base(d))); err != nil {
			t.Errorf("%s: %v, want it kept", filepath.Base(d), err)
		}
	}
	if _, err := os.Stat(stale); err == nil {
		t.Errorf("%s is kept, want it removed (its process is dead and its lock free)", stale)
	}
}
