package host

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/fix"
)

// outside is a folder outside every test tree, with files whose content
// carries a marker that must never show, nor change.
type outside struct {
	dir    string
	marker string
	secret string // a file: "MARKER yes", a line sshd refuses, naming MARKER
	sub    string // a folder with secret.conf and 50-site.conf
	fifo   string // a FIFO: a process that opens it blocks
}

func newOutside(t *testing.T) *outside {
	t.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	o := &outside{dir: t.TempDir(), marker: "MARKER" + hex.EncodeToString(b)}
	o.secret = filepath.Join(o.dir, "secret.conf")
	o.sub = filepath.Join(o.dir, "sub")
	o.fifo = filepath.Join(o.dir, "fifo")
	line := o.marker + " yes\n"
	if err := os.WriteFile(o.secret, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(o.sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"secret.conf", "50-site.conf"} {
		if err := os.WriteFile(filepath.Join(o.sub, n), []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(o.fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	return o
}

// hashes returns a digest of every file under the folder, with its mode
// and times, to show that nothing there changed.
func (o *outside) hashes(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(o.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			return err
		}
		h := sha256.New()
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h.Write(b)
		}
		out[p] = hex.EncodeToString(h.Sum(nil)) + " " + strings.Join([]string{
			time.Unix(st.Mtim.Unix()).String(), time.Unix(st.Ctim.Unix()).String(), fs.FileMode(st.Mode).String(),
		}, " ")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rel is the path that leads from the folder dir, depth folders below the
// root of a tree, to p: as many ".." as to get past the tree's root and
// then p, as a symbolic link escaping the tree would be.
func escaping(p string) string {
	return strings.Repeat("../", 12) + strings.TrimPrefix(p, "/")
}

// treeFile is a file of a test tree.
type treeFile struct {
	name    string // slash-separated, relative to the tree
	content string
	link    string // if set, a symbolic link to link
	dir     bool
}

func makeTreeFiles(t *testing.T, files []treeFile) string {
	t.Helper()
	root := t.TempDir()
	for _, f := range files {
		p := filepath.Join(root, f.name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case f.link != "":
			err = os.Symlink(f.link, p)
		case f.dir:
			err = os.Mkdir(p, 0o755)
		default:
			err = os.WriteFile(p, []byte(f.content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestCheckTreeConfined runs the real sshd -t on hostile trees: whatever
// the tree names (Include, HostKey, HostCertificate; absolute, with "..",
// through symbolic links to files and folders, absolute and relative),
// sshd opens it inside the tree, as if it were /, never on this host: a
// file outside is never read (its marker never shows), a FIFO outside is
// never opened (sshd would block), and an absolute link inside the tree
// leads to the tree's file.
func TestCheckTreeConfined(t *testing.T) {
	needSSHD(t)
	t.Parallel()
	o := newOutside(t)
	before := o.hashes(t)
	const main = "/etc/ssh/sshd_config"
	inc := "Include /etc/ssh/sshd_config.d/*.conf\n"
	tests := []struct {
		name    string
		files   []treeFile
		changes []fix.FileChange
		want    string // "" accepted, else in sshd's refusal
	}{
		{
			name:  "Include of an absolute path outside",
			files: []treeFile{{name: "etc/ssh/sshd_config", content: "Include " + o.secret + "\n"}},
		},
		{
			name:  "Include of a relative path out through ..",
			files: []treeFile{{name: "etc/ssh/sshd_config", content: "Include " + escaping(o.secret) + "\n"}},
		},
		{
			name: "Include through an absolute link to a folder outside",
			files: []treeFile{
				{name: "etc/ssh/sshd_config", content: inc},
				{name: "etc/ssh/sshd_config.d", link: o.sub},
			},
		},
		{
			name: "Include through a relative link to a folder outside",
			files: []treeFile{
				{name: "etc/ssh/sshd_config", content: inc},
				{name: "etc/ssh/sshd_config.d", link: escaping(o.sub)},
			},
		},
		{
			name: "Include of an absolute link to a file outside",
			files: []treeFile{
				{name: "etc/ssh/sshd_config", content: inc},
				{name: "etc/ssh/sshd_config.d/50-site.conf", link: o.secret},
			},
			want: "/etc/ssh/sshd_config.d/50-site.conf: No such file or directory",
		},
		{
			name: "Include of a relative link to a file outside",
			files: []treeFile{
				{name: "etc/ssh/sshd_config", content: inc},
				{name: "etc/ssh/sshd_config.d/50-site.conf", link: escaping(o.secret)},
			},
			want: "/etc/ssh/sshd_config.d/50-site.conf: No such file or directory",
		},
		{
			name:  "main file an absolute link to a file outside",
			files: []treeFile{{name: "etc/ssh/sshd_config", link: o.secret}},
			want:  "/etc/ssh/sshd_config: No such file or directory",
		},
		{
			name:  "host keys and an Include that are FIFOs outside",
			files: []treeFile{{name: "etc/ssh/sshd_config", content: "HostKey " + o.fifo + "\nHostCertificate " + o.fifo + "\nInclude " + o.fifo + "\n"}},
		},
		{
			name:  "host keys of this host",
			files: []treeFile{{name: "etc/ssh/sshd_config", content: "HostKey /etc/ssh/ssh_host_ed25519_key\nHostKey /etc/ssh/ssh_host_rsa_key\nAuthorizedKeysFile /etc/shadow\nBanner /etc/shadow\n"}},
		},
		{
			name:  "Include of a file this host has",
			files: []treeFile{{name: "etc/ssh/sshd_config", content: "Include /etc/os-release /etc/hostname /etc/passwd.d\n"}},
		},
		{
			name: "an absolute link inside the tree leads to the tree's file",
			files: []treeFile{
				{name: "etc/ssh/sshd_config", content: inc},
				{name: "etc/ssh/sshd_config.d/50-site.conf", link: "/srv/site.conf"},
				{name: "srv/site.conf", content: "ClientAliveInterval 5x\n"},
			},
			want: "/etc/ssh/sshd_config.d/50-site.conf line 1: invalid time value.",
		},
		{
			name: "a change to a linked file lies over the link's target in the tree",
			files: []treeFile{
				{name: "etc/ssh/sshd_config", link: "../../srv/main.conf"},
				{name: "srv/main.conf", content: "ClientAliveInterval 0\n"},
			},
			changes: []fix.FileChange{{Name: main, Old: []byte("ClientAliveInterval 0\n"), New: []byte("ClientAliveInterval 7x\n")}},
			want:    "/etc/ssh/sshd_config line 1: invalid time value.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := makeTreeFiles(t, tt.files)
			// Loaded as a loader that follows links on this host would
			// (sshd reads the tree itself).
			cfg, err := sshdconf.Load(os.DirFS(root), main, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			k := &Checker{Root: root}
			err = k.Check(ctx, cfg, tt.changes)
			if ctx.Err() != nil {
				t.Fatalf("Check() = %v after %v: sshd blocked on a FIFO outside the tree", err, 20*time.Second)
			}
			got := ""
			if err != nil {
				got = err.Error()
			}
			if strings.Contains(got, o.marker) {
				t.Errorf("Check() = %q shows the content of a file outside the tree", got)
			}
			var r *fix.SSHDRefused
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Check() = %v, want nil", err)
			case tt.want != "" && (!errors.As(err, &r) || !strings.Contains(r.Output, tt.want)):
				t.Errorf("Check() = %v, want sshd's refusal with %q", err, tt.want)
			}
		})
	}
	t.Cleanup(func() {
		after := o.hashes(t)
		for p, h := range before {
			if after[p] != h {
				t.Errorf("%s outside the tree changed: %s, was %s", p, after[p], h)
			}
		}
	})
}

// TestWriteInConfined writes changes into hostile trees: a name that
// reaches outside (through an absolute or relative link to a file or a
// folder, or "..") is resolved inside the tree as if it were /, so it
// fails, naming the file, where the tree has no such file, and writes the
// tree's file where it has one; nothing outside changes.
func TestWriteInConfined(t *testing.T) {
	t.Parallel()
	o := newOutside(t)
	before := o.hashes(t)
	secret := o.marker + " yes\n"
	tests := []struct {
		name    string
		files   []treeFile
		change  string // the name sshd opens
		old     string
		want    map[string]string // content after, by name in the tree
		wantErr string            // ROOT stands for the tree
	}{
		{
			name:    "absolute link to a file outside",
			files:   []treeFile{{name: "etc/ssh/sshd_config", link: o.secret}},
			change:  "/etc/ssh/sshd_config",
			old:     secret,
			wantErr: "write ROOT/etc/ssh/sshd_config: lstat ROOT" + o.secret + ": no such file or directory",
		},
		{
			name:    "relative link to a file outside",
			files:   []treeFile{{name: "etc/ssh/sshd_config", link: escaping(o.secret)}},
			change:  "/etc/ssh/sshd_config",
			old:     secret,
			wantErr: "write ROOT/etc/ssh/sshd_config: lstat ROOT" + o.secret + ": no such file or directory",
		},
		{
			name:    "absolute link to a folder outside",
			files:   []treeFile{{name: "etc/ssh/sshd_config.d", link: o.sub}},
			change:  "/etc/ssh/sshd_config.d/50-site.conf",
			old:     secret,
			wantErr: "write ROOT/etc/ssh/sshd_config.d/50-site.conf: lstat ROOT" + o.sub + "/50-site.conf: no such file or directory",
		},
		{
			name:    "relative link to a folder outside",
			files:   []treeFile{{name: "etc/ssh/sshd_config.d", link: escaping(o.sub)}},
			change:  "/etc/ssh/sshd_config.d/50-site.conf",
			old:     secret,
			wantErr: "write ROOT/etc/ssh/sshd_config.d/50-site.conf: lstat ROOT" + o.sub + "/50-site.conf: no such file or directory",
		},
		{
			name:    "a name with .. past the root",
			files:   []treeFile{{name: "etc/ssh/sshd_config", content: "old\n"}},
			change:  "/../../../etc/ssh/../../etc/ssh/sshd_config",
			old:     "old\n",
			want:    map[string]string{"etc/ssh/sshd_config": "new\n"},
			wantErr: "",
		},
		{
			name: "absolute link inside the tree",
			files: []treeFile{
				{name: "etc/ssh/sshd_config", link: "/srv/sshd_config"},
				{name: "srv/sshd_config", content: "old\n"},
			},
			change: "/etc/ssh/sshd_config",
			old:    "old\n",
			want:   map[string]string{"srv/sshd_config": "new\n"},
		},
		{
			name: "absolute link to a folder inside the tree, with .. in it",
			files: []treeFile{
				{name: "etc/ssh", link: "/srv/ssh/../ssh"},
				{name: "srv/ssh/sshd_config", content: "old\n"},
			},
			change: "/etc/ssh/sshd_config",
			old:    "old\n",
			want:   map[string]string{"srv/ssh/sshd_config": "new\n"},
		},
		{
			name: "a loop of links",
			files: []treeFile{
				{name: "etc/ssh/a", link: "/etc/ssh/b"},
				{name: "etc/ssh/b", link: "a"},
			},
			change:  "/etc/ssh/a",
			old:     "old\n",
			wantErr: "write ROOT/etc/ssh/a: resolve ROOT/etc/ssh/a: too many levels of symbolic links",
		},
		{
			name:    "a missing folder, then ..",
			files:   []treeFile{{name: "etc/ssh/sshd_config", content: "old\n"}},
			change:  "/etc/nope/../ssh/sshd_config",
			old:     "old\n",
			wantErr: "write ROOT/etc/nope/../ssh/sshd_config: lstat ROOT/etc/nope: no such file or directory",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := makeTreeFiles(t, tt.files)
			err := WriteIn(root, []Change{{Path: tt.change, Old: []byte(tt.old), New: []byte("new\n")}})
			got := ""
			if err != nil {
				got = strings.ReplaceAll(err.Error(), root, "ROOT")
			}
			if got != tt.wantErr {
				t.Errorf("WriteIn() error = %q, want %q", got, tt.wantErr)
			}
			if strings.Contains(got, o.marker) {
				t.Errorf("WriteIn() error %q shows the content of a file outside the tree", got)
			}
			for name, want := range tt.want {
				b, err := os.ReadFile(filepath.Join(root, name))
				if err != nil || string(b) != want {
					t.Errorf("%s = %q, %v; want %q", name, b, err, want)
				}
			}
			for _, f := range tt.files {
				if f.link == "" {
					continue
				}
				if got, err := os.Readlink(filepath.Join(root, f.name)); err != nil || got != f.link {
					t.Errorf("link %s = %q, %v; want %q", f.name, got, err, f.link)
				}
			}
			checkNoTemps(t, root)
		})
	}
	t.Cleanup(func() {
		after := o.hashes(t)
		for p, h := range before {
			if after[p] != h {
				t.Errorf("%s outside the tree changed: %s, was %s", p, after[p], h)
			}
		}
	})
}

// TestLockInConfined: the lock of a tree's folder is taken inside the
// tree; a link to a folder outside is not followed (a lock held there
// does not make LockIn wait, and LockIn names the missing folder).
func TestLockInConfined(t *testing.T) {
	t.Parallel()
	o := newOutside(t)
	unlock, err := Lock(context.Background(), o.sub)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	root := makeTreeFiles(t, []treeFile{{name: "etc/ssh", link: o.sub}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = LockIn(ctx, root, "/etc/ssh")
	want := "lock " + root + "/etc/ssh: open " + root + o.sub + ": no such file or directory"
	if err == nil || err.Error() != want {
		t.Errorf("LockIn() = %v, want %q", err, want)
	}

	inside := makeTreeFiles(t, []treeFile{{name: "etc/ssh", link: "/srv/ssh"}, {name: "srv/ssh", dir: true}})
	u1, err := LockIn(ctx, inside, "/etc/ssh")
	if err != nil {
		t.Fatalf("LockIn() = %v", err)
	}
	defer u1()
	short, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	if _, err := Lock(short, filepath.Join(inside, "srv/ssh")); err == nil || !strings.HasPrefix(err.Error(), "another sshwarden holds the lock") {
		t.Errorf("Lock() of the link's target while LockIn holds it = %v, want it held", err)
	}
}

// TestInside: a configuration read through a link that leads out of the
// tree is not the tree's (Inside names the file); one read inside is.
func TestInside(t *testing.T) {
	t.Parallel()
	o := newOutside(t)
	const main = "/etc/ssh/sshd_config"
	load := func(root string) *sshdconf.Config {
		// os.DirFS follows links on this host, as a loader that does not
		// confine its reads would.
		cfg, err := sshdconf.Load(os.DirFS(root), main, nil)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	good := makeTreeFiles(t, []treeFile{
		{name: "etc/ssh/sshd_config", content: "Include /etc/ssh/sshd_config.d/*.conf\n"},
		{name: "etc/ssh/sshd_config.d/10-a.conf", content: "MaxAuthTries 3\n"},
		{name: "etc/ssh/sshd_config.d/20-b.conf", link: "10-a.conf"},
	})
	if err := Inside(good, load(good)); err != nil {
		t.Errorf("Inside(a tree read inside) = %v, want nil", err)
	}
	for _, link := range []string{o.secret, escaping(o.secret)} {
		bad := makeTreeFiles(t, []treeFile{
			{name: "etc/ssh/sshd_config", content: "Include /etc/ssh/sshd_config.d/*.conf\n"},
			{name: "etc/ssh/sshd_config.d/50-site.conf", link: link},
		})
		err := Inside(bad, load(bad))
		want := bad + "/etc/ssh/sshd_config.d/50-site.conf: it is not the file of that name inside the tree"
		if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), o.marker) {
			t.Errorf("Inside(a link to %s) = %v, want %q...", link, err, want)
		}
	}
}
