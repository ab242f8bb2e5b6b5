package sshdconf_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/sshwarden/sshwarden/internal/oracle"
	"github.com/sshwarden/sshwarden/sshdconf"
)

// writeTree writes the files of an archive under dir.
func writeTree(t *testing.T, dir string, a *oracle.Archive) {
	t.Helper()
	for name, b := range a.Files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDirFSConformance runs the standard library's file system checks on
// DirFS: Open, Stat, ReadDir, ReadFile and folders opened as files.
func TestDirFSConformance(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"etc/ssh/sshd_config":                 "Include /etc/ssh/sshd_config.d/*.conf\n",
		"etc/ssh/sshd_config.d/50-a.conf":     "PasswordAuthentication no\n",
		"etc/ssh/sshd_config.d/README":        "not read\n",
		"etc/ssh/sshd_config.d/empty.conf":    "",
		"etc/ssh/sshd_config.d/sub/deep.conf": "Port 22\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := fstest.TestFS(sshdconf.DirFS(dir), "etc/ssh/sshd_config", "etc/ssh/sshd_config.d/50-a.conf",
		"etc/ssh/sshd_config.d/README", "etc/ssh/sshd_config.d/empty.conf", "etc/ssh/sshd_config.d/sub/deep.conf"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"/etc/ssh/sshd_config", "../x", "etc/../etc/ssh/sshd_config", ""} {
		if _, err := sshdconf.DirFS(dir).Open(bad); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("Open(%q): %v, want fs.ErrInvalid", bad, err)
		}
	}
	if _, err := sshdconf.DirFS(dir).Open("etc/ssh/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of a missing file: %v, want fs.ErrNotExist", err)
	}
}

// TestDirFSLoadsAsOSDirFS loads every test tree through DirFS and through
// os.DirFS: the files, diagnostics and first-pass settings must be the same,
// and each file's Info must be the one os.Stat gives.
func TestDirFSLoadsAsOSDirFS(t *testing.T) {
	names, err := filepath.Glob("../testdata/trees/*.txtar")
	if err != nil || len(names) < 20 {
		t.Fatalf("test trees: %d, %v", len(names), err)
	}
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		a := oracle.ParseArchive(data)
		dir := t.TempDir()
		writeTree(t, dir, a)
		opt := &sshdconf.LoadOptions{Users: sshdconf.LoadFileUsers(os.DirFS("/")), Services: func(string) (int, bool) { return 0, false }}
		want, werr := sshdconf.Load(os.DirFS(dir), a.Main, opt)
		got, gerr := sshdconf.Load(sshdconf.DirFS(dir), a.Main, opt)
		if fmt.Sprint(werr) != fmt.Sprint(gerr) {
			t.Errorf("%s: error %v, os.DirFS gives %v", name, gerr, werr)
			continue
		}
		if werr != nil {
			continue
		}
		if g, w := fmt.Sprint(got.Diags()), fmt.Sprint(want.Diags()); g != w {
			t.Errorf("%s: diagnostics\n%s\nos.DirFS gives\n%s", name, g, w)
		}
		if g, w := got.Global().Settings, want.Global().Settings; !reflect.DeepEqual(g, w) {
			t.Errorf("%s: first-pass settings differ from os.DirFS's", name)
		}
		if len(got.Files) != len(want.Files) {
			t.Errorf("%s: %d files read, os.DirFS reads %d", name, len(got.Files), len(want.Files))
			continue
		}
		for i, f := range got.Files {
			if f.Name != want.Files[i].Name || string(f.Bytes()) != string(want.Files[i].Bytes()) {
				t.Errorf("%s: file %d is %s, os.DirFS reads %s", name, i, f.Name, want.Files[i].Name)
			}
			if f.Info == nil {
				t.Errorf("%s: %s has no Info", name, f.Name)
				continue
			}
			st, err := os.Stat(filepath.Join(dir, f.Name))
			if err != nil {
				t.Fatal(err)
			}
			if f.Info.Mode() != st.Mode() || f.Info.Size() != st.Size() || !f.Info.ModTime().Equal(st.ModTime()) || f.Info.Name() != st.Name() {
				t.Errorf("%s: %s Info %v %d %v %s, os.Stat %v %d %v %s", name, f.Name,
					f.Info.Mode(), f.Info.Size(), f.Info.ModTime(), f.Info.Name(), st.Mode(), st.Size(), st.ModTime(), st.Name())
			}
			if f.Info.Sys().(*syscall.Stat_t).Ino != st.Sys().(*syscall.Stat_t).Ino {
				t.Errorf("%s: %s Info names another inode", name, f.Name)
			}
		}
	}
}

// TestDirFSFIFO: a FIFO matched by an Include pattern reads as an empty
// file instead of blocking Load (sshd itself would wait for a writer).
func TestDirFSFIFO(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(dir+"/etc/ssh/sshd_config.d", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/etc/ssh/sshd_config", []byte("Include /etc/ssh/sshd_config.d/*.conf\nPort 2222\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(dir+"/etc/ssh/sshd_config.d/10-pipe.conf", 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var cfg *sshdconf.Config
	go func() {
		var err error
		cfg, err = sshdconf.Load(sshdconf.DirFS(dir), "/etc/ssh/sshd_config", nil)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Load blocked on a FIFO")
	}
	if err := cfg.Err(); err != nil {
		t.Fatalf("the FIFO made the configuration invalid: %v", err)
	}
	var names []string
	for _, f := range cfg.Files {
		names = append(names, f.Name)
		if f.Name == "/etc/ssh/sshd_config.d/10-pipe.conf" && (len(f.Bytes()) != 0 || f.Info.Mode()&fs.ModeNamedPipe == 0) {
			t.Errorf("the FIFO read as %q, mode %v", f.Bytes(), f.Info.Mode())
		}
	}
	if got := strings.Join(names, " "); got != "/etc/ssh/sshd_config /etc/ssh/sshd_config.d/10-pipe.conf" {
		t.Errorf("files read: %s", got)
	}
	if got := cfg.Global().Value("port"); got != "2222" {
		t.Errorf("port %s, want 2222", got)
	}
}
