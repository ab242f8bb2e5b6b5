package host

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testFile is a file of a test directory.
type testFile struct {
	name     string // slash-separated, relative to the directory
	content  string
	mode     fs.FileMode // permission and set-id bits; 0 means 0644
	uid, gid int         // owner, if uid is not 0
	link     string      // if set, name is a symbolic link to link
	dir      bool        // if set, name is a directory
}

// testChange is a [Change] of a file of a test directory.
type testChange struct {
	name     string
	old, new string
}

// makeFiles creates files in dir. Their modification time is in 2001, so
// that a rewrite shows.
func makeFiles(t *testing.T, dir string, files []testFile) {
	t.Helper()
	oldTime := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	for _, f := range files {
		name := filepath.Join(dir, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		switch {
		case f.link != "":
			if err := os.Symlink(f.link, name); err != nil {
				t.Fatal(err)
			}
			continue
		case f.dir:
			if err := os.Mkdir(name, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		mode := f.mode
		if mode == 0 {
			mode = 0o644
		}
		if err := os.WriteFile(name, []byte(f.content), 0o600); err != nil {
			t.Fatal(err)
		}
		if f.uid != 0 {
			if err := os.Lchown(name, f.uid, f.gid); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chmod(name, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(name, oldTime, oldTime); err != nil {
			t.Fatal(err)
		}
	}
}

// listDir returns the slash-separated names of all files and directories
// under dir.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != dir {
			rel, _ := filepath.Rel(dir, path)
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func stat(t *testing.T, name string) *syscall.Stat_t {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(name, &st); err != nil {
		t.Fatal(err)
	}
	return &st
}

func TestWrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		files   []testFile
		changes []testChange
		want    map[string]string // content after, by name; others keep theirs
		wantErr string            // DIR stands for the directory
	}{
		{
			name:    "replaces the content",
			files:   []testFile{{name: "sshd_config", content: "PasswordAuthentication yes\n"}},
			changes: []testChange{{"sshd_config", "PasswordAuthentication yes\n", "PasswordAuthentication no\n"}},
			want:    map[string]string{"sshd_config": "PasswordAuthentication no\n"},
		},
		{
			name:    "keeps mode 0640",
			files:   []testFile{{name: "a.conf", content: "old\n", mode: 0o640}},
			changes: []testChange{{"a.conf", "old\n", "new\n"}},
			want:    map[string]string{"a.conf": "new\n"},
		},
		{
			name:    "keeps mode 0600",
			files:   []testFile{{name: "a.conf", content: "old\n", mode: 0o600}},
			changes: []testChange{{"a.conf", "old\n", "new\n"}},
			want:    map[string]string{"a.conf": "new\n"},
		},
		{
			name:    "keeps set-id and sticky bits",
			files:   []testFile{{name: "a.conf", content: "old\n", mode: 0o750 | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky}},
			changes: []testChange{{"a.conf", "old\n", "new\n"}},
			want:    map[string]string{"a.conf": "new\n"},
		},
		{
			name:    "keeps the owner",
			files:   []testFile{{name: "a.conf", content: "old\n", mode: 0o640, uid: 1234, gid: 5678}},
			changes: []testChange{{"a.conf", "old\n", "new\n"}},
			want:    map[string]string{"a.conf": "new\n"},
		},
		{
			name:    "keeps the owner and set-id bits",
			files:   []testFile{{name: "a.conf", content: "old\n", mode: 0o755 | fs.ModeSetuid | fs.ModeSetgid, uid: 1234, gid: 5678}},
			changes: []testChange{{"a.conf", "old\n", "new\n"}},
			want:    map[string]string{"a.conf": "new\n"},
		},
		{
			name: "writes the target of a symbolic link",
			files: []testFile{
				{name: "real/sshd_config", content: "old\n", mode: 0o600},
				{name: "ssh/sshd_config", link: "../real/sshd_config"},
			},
			changes: []testChange{{"ssh/sshd_config", "old\n", "new\n"}},
			want:    map[string]string{"real/sshd_config": "new\n"},
		},
		{
			name: "writes the target of a chain of links",
			files: []testFile{
				{name: "real/a.conf", content: "old\n"},
				{name: "b/a.conf", link: "../real/a.conf"},
				{name: "c/a.conf", link: "../b/a.conf"},
			},
			changes: []testChange{{"c/a.conf", "old\n", "new\n"}},
			want:    map[string]string{"real/a.conf": "new\n"},
		},
		{
			name: "leaves an unchanged file alone",
			files: []testFile{
				{name: "a.conf", content: "same\n", mode: 0o600},
				{name: "b.conf", content: "old\n"},
				{name: "c.conf", content: "same\n"},
			},
			changes: []testChange{
				{"a.conf", "same\n", "same\n"},
				{"b.conf", "old\n", "new\n"},
				{"c.conf", "same\n", "same\n"},
			},
			want: map[string]string{"b.conf": "new\n"},
		},
		{
			name:    "leaves an unchanged empty file alone",
			files:   []testFile{{name: "a.conf"}},
			changes: []testChange{{"a.conf", "", ""}},
		},
		{
			name:    "fills an empty file",
			files:   []testFile{{name: "a.conf"}},
			changes: []testChange{{"a.conf", "", "new\n"}},
			want:    map[string]string{"a.conf": "new\n"},
		},
		{
			name:    "empties a file",
			files:   []testFile{{name: "a.conf", content: "old\n"}},
			changes: []testChange{{"a.conf", "old\n", ""}},
			want:    map[string]string{"a.conf": ""},
		},
		{
			name:    "writes the changes in order",
			files:   []testFile{{name: "a.conf", content: "1\n"}},
			changes: []testChange{{"a.conf", "1\n", "2\n"}, {"a.conf", "2\n", "3\n"}},
			want:    map[string]string{"a.conf": "3\n"},
		},
		{
			name:    "refuses a file changed since it was read",
			files:   []testFile{{name: "a.conf", content: "edited\n"}},
			changes: []testChange{{"a.conf", "old\n", "new\n"}},
			wantErr: "write DIR/a.conf: changed since it was read; run fix again",
		},
		{
			name: "stops at the first file changed since it was read",
			files: []testFile{
				{name: "a.conf", content: "old a\n"},
				{name: "b.conf", content: "edited b\n"},
				{name: "c.conf", content: "old c\n"},
			},
			changes: []testChange{
				{"a.conf", "old a\n", "new a\n"},
				{"b.conf", "old b\n", "new b\n"},
				{"c.conf", "old c\n", "new c\n"},
			},
			want:    map[string]string{"a.conf": "new a\n"},
			wantErr: "write DIR/b.conf: changed since it was read; run fix again",
		},
		{
			name:    "refuses a missing file",
			files:   []testFile{{name: "a.conf", content: "old\n"}},
			changes: []testChange{{"b.conf", "old\n", "new\n"}},
			wantErr: "write DIR/b.conf: lstat DIR/b.conf: no such file or directory",
		},
		{
			name:    "refuses a dangling link",
			files:   []testFile{{name: "a.conf", link: "gone.conf"}},
			changes: []testChange{{"a.conf", "old\n", "new\n"}},
			wantErr: "write DIR/a.conf: lstat DIR/gone.conf: no such file or directory",
		},
		{
			name:    "refuses a directory",
			files:   []testFile{{name: "a.conf", dir: true}},
			changes: []testChange{{"a.conf", "", "new\n"}},
			wantErr: "write DIR/a.conf: not a regular file",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if os.Getuid() != 0 && slices.ContainsFunc(tt.files, func(f testFile) bool { return f.uid != 0 }) {
				t.Skip("chown needs root")
			}
			dir := t.TempDir()
			makeFiles(t, dir, tt.files)
			before := make(map[string]*syscall.Stat_t)
			for _, f := range tt.files {
				before[f.name] = stat(t, filepath.Join(dir, f.name))
			}
			var changes []Change
			for _, c := range tt.changes {
				changes = append(changes, Change{
					Path: filepath.Join(dir, c.name),
					Old:  []byte(c.old),
					New:  []byte(c.new),
				})
			}

			err := Write(changes)
			gotErr := ""
			if err != nil {
				gotErr = strings.ReplaceAll(err.Error(), dir, "DIR")
			}
			if gotErr != tt.wantErr {
				t.Errorf("Write() error = %q, want %q", gotErr, tt.wantErr)
			}

			for _, f := range tt.files {
				name := filepath.Join(dir, f.name)
				st, was := stat(t, name), before[f.name]
				switch {
				case f.link != "":
					if got, err := os.Readlink(name); err != nil || got != f.link {
						t.Errorf("Readlink(%s) = %q, %v, want %q", f.name, got, err, f.link)
					}
					continue
				case f.dir:
					continue
				}
				want, ok := tt.want[f.name]
				if !ok {
					want = f.content
				}
				got, err := os.ReadFile(name)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != want {
					t.Errorf("%s = %q, want %q", f.name, got, want)
				}
				if st.Mode != was.Mode {
					t.Errorf("mode of %s = %#o, want %#o", f.name, st.Mode, was.Mode)
				}
				if st.Uid != was.Uid || st.Gid != was.Gid {
					t.Errorf("owner of %s = %d:%d, want %d:%d", f.name, st.Uid, st.Gid, was.Uid, was.Gid)
				}
				if !ok {
					if st.Ino != was.Ino || st.Mtim != was.Mtim {
						t.Errorf("%s was rewritten: inode %d, mtime %v; want inode %d, mtime %v",
							f.name, st.Ino, time.Unix(st.Mtim.Unix()), was.Ino, time.Unix(was.Mtim.Unix()))
					}
				}
			}

			var want []string
			for _, f := range tt.files {
				for d := filepath.Dir(f.name); d != "."; d = filepath.Dir(d) {
					want = append(want, d)
				}
				want = append(want, f.name)
			}
			slices.Sort(want)
			want = slices.Compact(want)
			if diff := cmp.Diff(want, listDir(t, dir)); diff != "" {
				t.Errorf("files after Write (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIsTemp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want bool
	}{
		{".sshd_config.sshwarden-0123456789abcdef", true},
		{".50-cloud-init.conf.sshwarden-fedcba9876543210", true},
		{"..sshwarden-0123456789abcdef", true},
		{".a.sshwarden-x.sshwarden-0123456789abcdef", true},
		{"sshd_config.sshwarden-0123456789abcdef", false},  // no dot
		{".sshwarden-0123456789abcdef", false},             // nothing before the marker
		{".sshd_config.sshwarden-0123456789ABCDEF", false}, // upper case
		{".sshd_config.sshwarden-0123456789abcde", false},  // too short
		{".sshd_config.sshwarden-0123456789abcdef0", false},
		{".sshd_config.sshwarden-0123456789abcdeg", false},
		{".sshd_config.sshwarden-", false},
		{".sshd_config.sshwarden-0123456789abcdef.bak", false},
		{".sshd_config.swp", false},
		{"50-cloud-init.conf.bak", false},
		{".hidden", false},
		{"sshd_config", false},
	}
	for _, tt := range tests {
		if got := isTemp(tt.name); got != tt.want {
			t.Errorf("isTemp(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestTempName(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"sshd_config", "50-cloud-init.conf", "a"} {
		name := tempName(base)
		if !strings.HasPrefix(name, "."+base+".sshwarden-") || !isTemp(name) {
			t.Errorf("tempName(%q) = %q, want .%s.sshwarden-HEX", base, name, base)
		}
		// The usual Include patterns do not match it, even in
		// filepath.Match, which does not skip dot files as glob(3) and
		// sshd do (the leading dot is what keeps a bare "*" away).
		for _, pattern := range []string{"*.conf", "*_config", "sshd_config.d/*.conf"} {
			if ok, _ := filepath.Match(pattern, name); ok {
				t.Errorf("tempName(%q) = %q matches %q", base, name, pattern)
			}
		}
		if name == tempName(base) {
			t.Errorf("tempName(%q) returned %q twice", base, name)
		}
	}
}

func TestWriteRemovesStaleTemps(t *testing.T) {
	t.Parallel()
	stale := []string{
		".50-cloud-init.conf.sshwarden-0123456789abcdef",
		".sshd_config.sshwarden-fedcba9876543210",
	}
	kept := []string{
		".hidden",
		".sshd_config.sshwarden-0123",
		".sshd_config.sshwarden-0123456789ABCDEF",
		".sshd_config.sshwarden-0123456789abcdef.bak",
		"50-cloud-init.conf",
		"50-cloud-init.conf.bak",
		"sshd_config.sshwarden-0123456789abcdef",
	}
	keptDir := ".d.sshwarden-0123456789abcdef"
	keptLink := ".l.sshwarden-0123456789abcdef"

	tests := []struct {
		name      string
		old, new  string
		disk      string // the content on disk; old if empty
		wantStale bool   // whether the stale files stay
	}{
		{name: "removed before a write", old: "old\n", new: "new\n"},
		{name: "removed for an unchanged file", old: "old\n", new: "old\n"},
		{name: "left when the file changed since it was read", old: "old\n", new: "new\n", disk: "edited\n", wantStale: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			files := []testFile{
				{name: keptDir, dir: true},
				{name: keptLink, link: "50-cloud-init.conf"},
			}
			disk := tt.disk
			if disk == "" {
				disk = tt.old
			}
			for _, name := range append(slices.Clone(stale), kept...) {
				files = append(files, testFile{name: name, content: disk})
			}
			makeFiles(t, dir, files)

			err := Write([]Change{{Path: filepath.Join(dir, "50-cloud-init.conf"), Old: []byte(tt.old), New: []byte(tt.new)}})
			if (err != nil) != (tt.disk != "") {
				t.Fatalf("Write() error = %v", err)
			}
			want := append(slices.Clone(kept), keptDir, keptLink)
			if tt.wantStale {
				want = append(want, stale...)
			}
			slices.Sort(want)
			if diff := cmp.Diff(want, listDir(t, dir)); diff != "" {
				t.Errorf("files after Write (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteSELinuxLabel(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := filepath.Join(dir, "sshd_config")
	makeFiles(t, dir, []testFile{{name: "sshd_config", content: "old\n", mode: 0o600}})
	label := []byte("system_u:object_r:etc_t:s0\x00")
	if err := syscall.Setxattr(name, selinuxXattr, label, 0); err != nil {
		// Setting a label needs CAP_SYS_ADMIN and a file system with
		// security.* attributes; without them Write has none to copy.
		t.Skipf("cannot set %s: %v", selinuxXattr, err)
	}
	if err := Write([]Change{{Path: name, Old: []byte("old\n"), New: []byte("new\n")}}); err != nil {
		t.Fatalf("Write() error = %v", err)
	}
	got, err := selinuxLabel(name)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(label) {
		t.Errorf("label after Write = %q, want %q", got, label)
	}
}

func TestLock(t *testing.T) {
	t.Parallel()

	t.Run("second waits for unlock", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		synctest.Test(t, func(t *testing.T) {
			unlock, err := Lock(context.Background(), dir)
			if err != nil {
				t.Fatalf("Lock() error = %v", err)
			}
			type result struct {
				unlock func()
				err    error
				at     time.Time
			}
			second := make(chan result, 1)
			go func() {
				u, err := Lock(context.Background(), dir)
				second <- result{u, err, time.Now()}
			}()
			time.Sleep(time.Minute)
			synctest.Wait()
			select {
			case r := <-second:
				t.Fatalf("second Lock() returned (%v) while the first held the lock", r.err)
			default:
			}
			unlocked := time.Now()
			unlock()
			r := <-second
			if r.err != nil {
				t.Fatalf("second Lock() error = %v", r.err)
			}
			if d := r.at.Sub(unlocked); d > lockRetry {
				t.Errorf("second Lock() returned %v after unlock, want at most %v", d, lockRetry)
			}
			r.unlock()
			unlock() // again: harmless
		})
	})

	t.Run("fails when ctx ends", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		synctest.Test(t, func(t *testing.T) {
			unlock, err := Lock(context.Background(), dir)
			if err != nil {
				t.Fatalf("Lock() error = %v", err)
			}
			defer unlock()
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			start := time.Now()
			_, err = Lock(ctx, dir)
			want := "another sshwarden holds the lock on " + dir + ": context deadline exceeded"
			if err == nil || err.Error() != want {
				t.Fatalf("Lock() error = %v, want %q", err, want)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Lock() error = %v, want one that is context.DeadlineExceeded", err)
			}
			if d := time.Since(start); d != time.Second {
				t.Errorf("Lock() returned after %v, want 1s", d)
			}
		})
	})

	t.Run("fails when ctx is done", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := Lock(ctx, dir)
		want := "lock " + dir + ": context canceled"
		if err == nil || err.Error() != want {
			t.Errorf("Lock() error = %v, want %q", err, want)
		}
	})

	t.Run("locks again after unlock", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		for range 3 {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			unlock, err := Lock(ctx, dir)
			cancel()
			if err != nil {
				t.Fatalf("Lock() error = %v", err)
			}
			unlock()
		}
	})

	t.Run("creates no file", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		makeFiles(t, dir, []testFile{{name: "sshd_config", content: "x\n"}})
		was := stat(t, dir)
		unlock, err := Lock(context.Background(), dir)
		if err != nil {
			t.Fatalf("Lock() error = %v", err)
		}
		if diff := cmp.Diff([]string{"sshd_config"}, listDir(t, dir)); diff != "" {
			t.Errorf("files while locked (-want +got):\n%s", diff)
		}
		unlock()
		if diff := cmp.Diff([]string{"sshd_config"}, listDir(t, dir)); diff != "" {
			t.Errorf("files after unlock (-want +got):\n%s", diff)
		}
		if st := stat(t, dir); st.Mtim != was.Mtim {
			t.Errorf("Lock changed the directory: mtime %v, want %v", st.Mtim, was.Mtim)
		}
	})

	t.Run("missing directory", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "nope")
		_, err := Lock(context.Background(), dir)
		want := "lock " + dir + ": open " + dir + ": no such file or directory"
		if err == nil || err.Error() != want {
			t.Errorf("Lock() error = %v, want %q", err, want)
		}
	})

	t.Run("not a directory", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		makeFiles(t, dir, []testFile{{name: "sshd_config", content: "x\n"}})
		name := filepath.Join(dir, "sshd_config")
		_, err := Lock(context.Background(), name)
		want := "lock " + name + ": open " + name + ": not a directory"
		if err == nil || err.Error() != want {
			t.Errorf("Lock() error = %v, want %q", err, want)
		}
	})
}

// WriteFile creates a file, replaces it whole with the mode asked, leaves
// no temporary file, and on failure leaves the old file as it was.
func TestWriteFileCreatesAndReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.prom")
	for _, content := range []string{"first\n", "second, longer\n"} {
		if err := WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil || string(b) != content {
			t.Fatalf("after WriteFile(%q): %q, %v", content, b, err)
		}
		st, _ := os.Stat(path)
		if st.Mode() != 0o644 {
			t.Errorf("mode %v, want 0644", st.Mode())
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("folder holds %d entries, want only m.prom", len(ents))
	}
	if err := WriteFile(filepath.Join(dir, "missing", "m.prom"), []byte("x"), 0o644); err == nil {
		t.Errorf("WriteFile into a missing folder: no error")
	}
	// A folder in the way: the rename fails, the temporary file goes.
	if err := os.Mkdir(filepath.Join(dir, "d.prom"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(filepath.Join(dir, "d.prom"), []byte("x"), 0o644); err == nil {
		t.Errorf("WriteFile over a folder: no error")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("a failed WriteFile left a temporary file: %d entries", len(ents))
	}
}
