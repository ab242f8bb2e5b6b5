package sshdconf

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/sshwarden/sshwarden/internal/oracle"
)

// hostile is a tree that tries to make a --root load read a file outside
// it (issue 17): a secret file on the host, and links and Include lines
// that name it every way a tree can.
type hostile struct {
	marker string // in every secret file, in no file of the tree
	host   string // a folder outside the tree, holding the secrets
	secret string // host/secret.conf, absolute
}

// newHostile writes the secret files: host/secret.conf and
// host/secretdir/a.conf, whose lines, read as sshd_config, would be printed
// by lint (an unknown keyword) and by effective (a Banner).
func newHostile(t *testing.T) *hostile {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	h := &hostile{marker: "sshwarden-secret-" + hex.EncodeToString(b), host: t.TempDir()}
	h.secret = filepath.Join(h.host, "secret.conf")
	body := fmt.Sprintf("%s yes\nBanner /%s\nPort 2222\n", h.marker, h.marker)
	write(t, h.secret, body)
	write(t, filepath.Join(h.host, "secretdir", "a.conf"), body)
	write(t, filepath.Join(h.host, "etc", "ssh", "sshd_config"), body)
	return h
}

// write writes body to name, making its folders.
func write(t *testing.T, name, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// symlink makes name (under dir) a link to target, making its folders.
func symlink(t *testing.T, dir, name, target string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

// up is a relative path from the folder rel (in a tree whose top is at
// depth treeDepth on the host) that climbs above the host's "/" and comes
// down to abs.
func up(abs string) string {
	return strings.Repeat("../", 40) + strings.TrimPrefix(abs, "/")
}

// hostileCases are the trees of the issue: each builds a tree in dir
// (relative to h) and says where the error or finding must point.
func hostileCases(h *hostile) []struct {
	name  string
	build func(t *testing.T, dir string)
	want  string // a diagnostic (or Load error) that must be there: "FILE:LINE: text"
} {
	main := "Include /etc/ssh/sshd_config.d/*.conf\nPort 22\n"
	return []struct {
		name  string
		build func(t *testing.T, dir string)
		want  string
	}{
		{"drop-in absolute link", func(t *testing.T, dir string) {
			write(t, dir+"/etc/ssh/sshd_config", main)
			symlink(t, dir, "etc/ssh/sshd_config.d/50-x.conf", h.secret)
		}, "/etc/ssh/sshd_config:1: included file /etc/ssh/sshd_config.d/50-x.conf: No such file or directory"},
		{"drop-in relative link", func(t *testing.T, dir string) {
			write(t, dir+"/etc/ssh/sshd_config", main)
			symlink(t, dir, "etc/ssh/sshd_config.d/50-x.conf", up(h.secret))
		}, "/etc/ssh/sshd_config:1: included file /etc/ssh/sshd_config.d/50-x.conf: No such file or directory"},
		{"link chain", func(t *testing.T, dir string) {
			write(t, dir+"/etc/ssh/sshd_config", main)
			symlink(t, dir, "etc/ssh/sshd_config.d/50-x.conf", "../hop")
			symlink(t, dir, "etc/ssh/hop", "/../.."+h.secret)
		}, "/etc/ssh/sshd_config:1: included file /etc/ssh/sshd_config.d/50-x.conf: No such file or directory"},
		{"main file absolute link", func(t *testing.T, dir string) {
			symlink(t, dir, "etc/ssh/sshd_config", h.secret)
		}, "load: /etc/ssh/sshd_config: No such file or directory"},
		{"main file relative link", func(t *testing.T, dir string) {
			symlink(t, dir, "etc/ssh/sshd_config", up(h.secret))
		}, "load: /etc/ssh/sshd_config: No such file or directory"},
		{"folder link", func(t *testing.T, dir string) {
			write(t, dir+"/etc/ssh/sshd_config", main)
			symlink(t, dir, "etc/ssh/sshd_config.d", filepath.Join(h.host, "secretdir"))
		}, ""},
		{"etc link", func(t *testing.T, dir string) {
			symlink(t, dir, "etc", filepath.Join(h.host, "etc"))
		}, "load: /etc/ssh/sshd_config: No such file or directory"},
		{"link to slash", func(t *testing.T, dir string) {
			write(t, dir+"/etc/ssh/sshd_config", "Include /etc/ssh/top"+h.secret+"\nInclude /etc/ssh/top/../../.."+h.secret+"\n")
			symlink(t, dir, "etc/ssh/top", "/")
		}, "/etc/ssh/top" + h.secret + " \n"}, // the Include matches nothing
		{"include dot-dot", func(t *testing.T, dir string) {
			write(t, dir+"/etc/ssh/sshd_config", "Include "+up(h.secret)+"\nInclude /etc/ssh/../../../.."+h.secret+"\nInclude sshd_config.d/../../../../../../"+up(h.secret)+"\n")
		}, ""},
		{"include absolute", func(t *testing.T, dir string) {
			write(t, dir+"/etc/ssh/sshd_config", "Include "+h.secret+"\nInclude "+filepath.Join(h.host, "secretdir")+"/*.conf\n")
		}, ""},
		{"include through folder link", func(t *testing.T, dir string) {
			write(t, dir+"/etc/ssh/sshd_config", "Include /etc/ssh/linked/*.conf\nInclude /etc/ssh/linked/a.conf\n")
			symlink(t, dir, "etc/ssh/linked", up(filepath.Join(h.host, "secretdir")))
		}, ""},
	}
}

// resolvers are the ways a RootFS resolves names: the kernel's openat2,
// and pathrs-lite's emulation, used where openat2 is refused.
var resolvers = []struct {
	name string
	emul bool
}{{"openat2", false}, {"pathrs-lite", true}}

func openRoot(t *testing.T, dir string, emul bool) *RootFS {
	t.Helper()
	r, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.emul && !emul {
		t.Skip("openat2 is refused here: only the pathrs-lite resolver can be tested")
	}
	r.emul = emul
	t.Cleanup(func() { r.Close() })
	return r
}

// TestRootConfinesHostile loads each hostile tree under OpenRoot, with
// both resolvers: nothing of the secret may appear in what the load read
// (files, diagnostics, directives, effective settings), and the error or
// finding must name the file and line.
func TestRootConfinesHostile(t *testing.T) {
	for _, res := range resolvers {
		h := newHostile(t)
		for _, tc := range hostileCases(h) {
			t.Run(res.name+"/"+tc.name, func(t *testing.T) {
				dir := t.TempDir()
				tc.build(t, dir)
				r := openRoot(t, dir, res.emul)
				cfg, err := Load(r, "/etc/ssh/sshd_config", nil)
				var seen []string
				if err != nil {
					seen = append(seen, "load: "+err.Error())
				} else {
					seen = append(seen, readBack(cfg)...)
				}
				all := strings.Join(seen, "\n")
				if strings.Contains(all, h.marker) {
					t.Fatalf("the secret was read:\n%s", all)
				}
				if tc.want != "" && !strings.Contains(all, tc.want) {
					t.Errorf("no %q in:\n%s", tc.want, all)
				}
			})
		}
	}
}

// readBack is everything a command could print from cfg: the files' bytes,
// the diagnostics with their positions, the directives, the settings of
// the first pass and of a connection, every Include's files, and every
// file a check may read in the folders the Includes name.
func readBack(cfg *Config) []string {
	var out []string
	for _, f := range cfg.Files {
		out = append(out, f.Name+": "+string(f.Bytes()))
	}
	for _, d := range cfg.Diags() {
		out = append(out, fmt.Sprintf("%s:%d: %s (%s)", d.Pos.File, d.Pos.Line, d.Msg, d.SSHD))
	}
	for _, d := range cfg.Directives() {
		out = append(out, d.Name+" "+strings.Join(d.Args, " "))
	}
	for _, inc := range cfg.Includes() {
		out = append(out, inc.Pattern+" "+strings.Join(inc.Files, " "))
		dir := inc.Pattern[:strings.LastIndexByte(inc.Pattern, '/')+1]
		ents, _ := cfg.ReadDir(dir)
		for _, e := range ents {
			b, _ := cfg.ReadFile(dir + e.Name())
			out = append(out, string(b))
			if info, err := e.Info(); err == nil {
				out = append(out, fmt.Sprint(info.Size()))
			}
		}
	}
	for _, s := range cfg.Global().Settings {
		out = append(out, s.String())
	}
	if eff, err := cfg.Effective(ConnSpec{User: "root", Host: "h", Addr: "192.0.2.1", LAddr: "192.0.2.2", LPort: 22}); err == nil {
		for _, s := range eff.Settings {
			out = append(out, s.String())
		}
	} else {
		out = append(out, err.Error())
	}
	return out
}

// TestRootChrootSemantics: links in the tree resolve as they would after
// chroot(DIR): an absolute target is a path in the tree, ".." stops at
// the tree's top, and the files they lead to are read.
func TestRootChrootSemantics(t *testing.T) {
	for _, res := range resolvers {
		t.Run(res.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir+"/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nInclude /etc/ssh/up/../../../../../etc/ssh/extra.conf\n")
			write(t, dir+"/srv/policy/10-a.conf", "ClientAliveInterval 60\n")
			write(t, dir+"/srv/policy/20-b.conf", "ClientAliveCountMax 2\n")
			write(t, dir+"/etc/ssh/extra.conf", "MaxSessions 4\n")
			symlink(t, dir, "etc/ssh/sshd_config.d", "/srv/policy")                // absolute: in the tree
			symlink(t, dir, "srv/policy/30-c.conf", "../../../../../../etc/ssh/x") // climbs to the top, then down
			write(t, dir+"/etc/ssh/x", "MaxStartups 3\n")
			symlink(t, dir, "etc/ssh/up", "/")
			r := openRoot(t, dir, res.emul)
			cfg, err := Load(r, "/etc/ssh/sshd_config", nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := cfg.Err(); err != nil {
				t.Fatalf("refused: %v", err)
			}
			g := cfg.Global()
			for kw, want := range map[string]string{"clientaliveinterval": "60", "clientalivecountmax": "2", "maxsessions": "4", "maxstartups": "3:30:3"} {
				if got := g.Value(kw); got != want {
					t.Errorf("%s = %q, want %q", kw, got, want)
				}
			}
			ents, err := cfg.ReadDir("/etc/ssh/sshd_config.d")
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range ents {
				info, err := e.Info()
				if err != nil {
					t.Fatalf("%s: Info: %v", e.Name(), err)
				}
				names = append(names, fmt.Sprintf("%s %v", e.Name(), info.Mode().Type() == fs.ModeSymlink))
			}
			if got, want := strings.Join(names, ", "), "10-a.conf false, 20-b.conf false, 30-c.conf true"; got != want {
				t.Errorf("ReadDir: %s, want %s", got, want)
			}
		})
	}
}

// TestRootFSConformance runs the standard library's file system checks on
// a RootFS, with both resolvers.
func TestRootFSConformance(t *testing.T) {
	for _, res := range resolvers {
		t.Run(res.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir+"/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\n")
			write(t, dir+"/etc/ssh/sshd_config.d/50-a.conf", "PasswordAuthentication no\n")
			write(t, dir+"/etc/ssh/sshd_config.d/sub/deep.conf", "Port 22\n")
			r := openRoot(t, dir, res.emul)
			if err := fstest.TestFS(r, "etc/ssh/sshd_config", "etc/ssh/sshd_config.d/50-a.conf", "etc/ssh/sshd_config.d/sub/deep.conf"); err != nil {
				t.Fatal(err)
			}
			for _, bad := range []string{"/etc/ssh/sshd_config", "../x", "etc/../etc/ssh/sshd_config", ""} {
				if _, err := r.Open(bad); !errors.Is(err, fs.ErrInvalid) {
					t.Errorf("Open(%q): %v, want fs.ErrInvalid", bad, err)
				}
			}
		})
	}
}

// TestRootOpenFile: writers get the same resolution. A file is created in
// the tree through a folder link with an absolute target; a final link is
// not followed when creating; nothing appears on the host.
func TestRootOpenFile(t *testing.T) {
	for _, res := range resolvers {
		t.Run(res.name, func(t *testing.T) {
			h := newHostile(t)
			dir := t.TempDir()
			write(t, dir+"/etc/ssh/sshd_config", "Port 22\n")
			symlink(t, dir, "etc/ssh/sshd_config.d", filepath.Join(h.host, "secretdir")) // absolute: in the tree
			if err := os.MkdirAll(dir+h.host+"/secretdir", 0o755); err != nil {
				t.Fatal(err)
			}
			symlink(t, dir, "etc/ssh/new.conf", h.secret)
			r := openRoot(t, dir, res.emul)

			f, err := r.OpenFile("/etc/ssh/sshd_config.d/b.conf", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("Port 2\n")
			f.Close()
			if _, err := os.Stat(filepath.Join(dir, h.host, "secretdir", "b.conf")); err != nil {
				t.Errorf("not created in the tree: %v", err)
			}
			if _, err := os.Stat(filepath.Join(h.host, "secretdir", "b.conf")); err == nil {
				t.Errorf("created on the host")
			}
			if _, err := r.OpenFile("etc/ssh/new.conf", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); !errors.Is(err, syscall.ELOOP) {
				t.Errorf("create through a final link: %v, want ELOOP", err)
			}
			f, err = r.OpenFile("etc/ssh/new.conf", os.O_RDONLY, 0)
			if err == nil {
				t.Errorf("read %s through a final link to the host", f.Name())
				f.Close()
			}
			b, err := os.ReadFile(h.secret)
			if err != nil || !strings.Contains(string(b), h.marker) {
				t.Errorf("the host's file changed: %q, %v", b, err)
			}
			d, err := r.OpenFile("/etc/ssh", os.O_RDONLY|syscall.O_DIRECTORY, 0)
			if err != nil {
				t.Fatal(err)
			}
			d.Close()
		})
	}
}

// TestOpenRootNotDir: a --root that is not a folder is refused.
func TestOpenRootNotDir(t *testing.T) {
	dir := t.TempDir()
	write(t, dir+"/file", "x")
	for _, name := range []string{dir + "/file", dir + "/missing"} {
		if r, err := OpenRoot(name); err == nil {
			r.Close()
			t.Errorf("OpenRoot(%s) works", name)
		}
	}
}

// BenchmarkLoadTree loads a cloud image's tree (main file and drop-ins)
// from disk through DirFS, and through a RootFS with each resolver: the
// per-tree cost of reading under --root.
func BenchmarkLoadTree(b *testing.B) {
	data, err := os.ReadFile("../testdata/trees/ubuntu2204-cloudinit.txtar")
	if err != nil {
		b.Fatal(err)
	}
	a := oracle.ParseArchive(data)
	dir := b.TempDir()
	for name, body := range a.Files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, body, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	opt := &LoadOptions{Services: func(string) (int, bool) { return 0, false }}
	run := func(b *testing.B, fsys fs.FS) {
		b.ReportAllocs()
		for b.Loop() {
			cfg, err := Load(fsys, a.Main, opt)
			if err != nil {
				b.Fatal(err)
			}
			cfg.Directives()
			cfg.ReadDir("/etc/ssh/sshd_config.d")
		}
	}
	b.Run("DirFS", func(b *testing.B) { run(b, DirFS(dir)) })
	for _, res := range resolvers {
		b.Run("RootFS-"+res.name, func(b *testing.B) {
			r, err := OpenRoot(dir)
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			r.emul = res.emul
			run(b, r)
		})
	}
}
