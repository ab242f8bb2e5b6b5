package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"maps"
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
	if got := run([]string{"fix", "--root", root, "--openssh", "9.2-debian", "-w"}, io.Discard, &stderr); got != exitChanged {
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
	if got := run([]string{"fix", "--root", root, "--openssh", "9.2-debian", "-w"}, io.Discard, io.Discard); got != exitOK {
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

// TestFixRootConfined runs fix and fix -w --root on hostile trees, whose
// links (absolute and relative, to files and to folders) lead to files
// outside the tree that carry a marker and break the policy, or whose
// configuration names such files: fix never shows a byte of them, changes
// nothing outside the tree, and either fails naming the tree's file or
// works inside the tree as if it were / (where sshd -t, too, finds the
// names it opens).
func TestFixRootConfined(t *testing.T) {
	outside := t.TempDir()
	b := make([]byte, 8)
	rand.Read(b)
	marker := "MARKER" + hex.EncodeToString(b)
	secret := "# " + marker + "\nPasswordAuthentication yes\nClientAliveInterval 0\n"
	mustWrite := func(p, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mustWrite(filepath.Join(outside, "secret.conf"), secret)
	mustWrite(filepath.Join(outside, "sub", "50-site.conf"), secret)
	mustWrite(filepath.Join(outside, "ssh", "sshd_config"), secret)
	fifo := filepath.Join(outside, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(t.TempDir(), "policy.conf")
	mustWrite(policy, "ClientAliveInterval 300\nPasswordAuthentication no\n")
	before := hashTree(t, outside)
	up := strings.Repeat("../", 10)
	inc := "Include /etc/ssh/sshd_config.d/*.conf\nClientAliveInterval 0\n"

	type file struct{ name, content, link string }
	tests := []struct {
		name  string
		files []file
		// The tree's file fix names in its error; "" if it works inside
		// the tree.
		names string
	}{
		{"main file: absolute link to a file outside", []file{{name: "etc/ssh/sshd_config", link: filepath.Join(outside, "secret.conf")}}, "etc/ssh/sshd_config"},
		{"main file: relative link out", []file{{name: "etc/ssh/sshd_config", link: up + filepath.Join(outside, "secret.conf")[1:]}}, "etc/ssh/sshd_config"},
		{"drop-in folder: absolute link to a folder outside", []file{{name: "etc/ssh/sshd_config", content: inc}, {name: "etc/ssh/sshd_config.d", link: filepath.Join(outside, "sub")}}, "etc/ssh/sshd_config.d/50-site.conf"},
		{"drop-in folder: relative link out", []file{{name: "etc/ssh/sshd_config", content: inc}, {name: "etc/ssh/sshd_config.d", link: up + filepath.Join(outside, "sub")[1:]}}, "etc/ssh/sshd_config.d/50-site.conf"},
		{"drop-in: absolute link to a file outside", []file{{name: "etc/ssh/sshd_config", content: inc}, {name: "etc/ssh/sshd_config.d/50-site.conf", link: filepath.Join(outside, "secret.conf")}}, "etc/ssh/sshd_config.d/50-site.conf"},
		{"drop-in: relative link out", []file{{name: "etc/ssh/sshd_config", content: inc}, {name: "etc/ssh/sshd_config.d/50-site.conf", link: up + filepath.Join(outside, "secret.conf")[1:]}}, "etc/ssh/sshd_config.d/50-site.conf"},
		{"/etc/ssh: absolute link to a folder outside", []file{{name: "etc/ssh", link: filepath.Join(outside, "ssh")}}, "etc/ssh"},
		{"the configuration names files outside", []file{{name: "etc/ssh/sshd_config", content: "Include " + filepath.Join(outside, "secret.conf") + " " + up + "etc/os-release\nHostKey " + fifo + "\nHostKey /etc/ssh/ssh_host_ed25519_key\nClientAliveInterval 0\n"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for _, f := range tt.files {
				p := filepath.Join(root, f.name)
				if f.link == "" {
					mustWrite(p, f.content)
					continue
				}
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(f.link, p); err != nil {
					t.Fatal(err)
				}
			}
			treeBefore := hashTree(t, root)
			changed := true
			for _, args := range [][]string{{"fix"}, {"fix", "-w", "-d"}} {
				args = append(args, "--root", root, "--openssh", "9.2-debian", "--policy", policy)
				var stdout, stderr bytes.Buffer
				code := run(args, &stdout, &stderr)
				all := stdout.String() + stderr.String()
				if strings.Contains(all, marker) {
					t.Errorf("%q shows a file outside the tree:\n%s", args, all)
				}
				// An error naming the tree's file, or (as a chroot would
				// read the tree) a change inside it.
				failed := (code == exitUsage || code == exitFindings) && strings.HasPrefix(stderr.String(), "sshwarden: error: ") &&
					strings.Contains(stderr.String(), "/"+tt.names)
				switch {
				case tt.names != "" && !failed && code != exitChanged:
					t.Errorf("%q = %d, want an error naming %s or %d\nstdout:\n%s\nstderr:\n%s", args, code, tt.names, exitChanged, &stdout, &stderr)
				case tt.names == "" && code != exitChanged:
					t.Errorf("%q = %d, want %d\nstdout:\n%s\nstderr:\n%s", args, code, exitChanged, &stdout, &stderr)
				}
				if code != exitChanged {
					changed = false
				}
			}
			if after := hashTree(t, outside); !maps.Equal(after, before) {
				t.Errorf("files outside the tree changed:\n%v\nwere\n%v", after, before)
			}
			treeAfter := hashTree(t, root)
			if !changed && !maps.Equal(treeAfter, treeBefore) {
				t.Errorf("fix -w changed the tree though it failed:\n%v\nwas\n%v", treeAfter, treeBefore)
			}
			if changed {
				b, err := os.ReadFile(filepath.Join(root, "etc/ssh/sshd_config"))
				if err != nil || !strings.Contains(string(b), "ClientAliveInterval 300\n") {
					t.Errorf("the tree's sshd_config after fix -w = %q, %v; want it fixed", b, err)
				}
			}
		})
	}
}

// hashTree returns the content digest, mode and modification time of each
// file under dir, by name (links not followed).
func hashTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		sum := ""
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h := sha256.Sum256(b)
			sum = hex.EncodeToString(h[:])
		}
		out[p] = fmt.Sprintf("%s %v %v", sum, info.Mode(), info.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
