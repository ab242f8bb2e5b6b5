package fix_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sshwarden/sshwarden/internal/host"
	"github.com/sshwarden/sshwarden/internal/oracle"
	"github.com/sshwarden/sshwarden/policy"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/fix"
	"github.com/sshwarden/sshwarden/sshdconf/internal/memfs"
)

// BenchmarkMake plans the fix of Debian's stock configuration for
// builtin:default (one line to add), model check of the result included:
// what fix costs before it runs sshd -t.
func BenchmarkMake(b *testing.B) {
	data, err := os.ReadFile("../../testdata/trees/debian12-stock.txtar")
	if err != nil {
		b.Fatal(err)
	}
	a := oracle.ParseArchive(data)
	files := map[string][]byte{}
	for n, f := range a.Files {
		files["/"+n] = f
	}
	pol, err := policy.Load("builtin:default")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		cfg, err := sshdconf.Load(memfs.New(files), a.Main, nil)
		if err != nil {
			b.Fatal(err)
		}
		p, err := fix.Make(cfg, pol.Requirements)
		if err != nil || len(p.Files) != 1 {
			b.Fatalf("Make = %v, %v; want one file changed", p, err)
		}
	}
}

// benchTree writes the corpus tree name into a new folder and returns it,
// the configuration loaded from it and the plan of its fix for
// builtin:default.
func benchTree(b *testing.B, name string) (string, *sshdconf.Config, *fix.Plan) {
	b.Helper()
	if os.Geteuid() != 0 {
		b.Skip("checking with sshd -t needs root")
	}
	if _, err := os.Stat(host.DefaultSSHD); err != nil {
		b.Skip(err)
	}
	data, err := os.ReadFile("../../testdata/trees/" + name + ".txtar")
	if err != nil {
		b.Fatal(err)
	}
	a := oracle.ParseArchive(data)
	dir := b.TempDir()
	for n, f := range a.Files {
		p := filepath.Join(dir, n)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, f, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	cfg, err := sshdconf.Load(os.DirFS(dir), a.Main, nil)
	if err != nil {
		b.Fatal(err)
	}
	pol, err := policy.Load("builtin:default")
	if err != nil {
		b.Fatal(err)
	}
	p, err := fix.Make(cfg, pol.Requirements)
	if err != nil || len(p.Files) != 1 {
		b.Fatalf("Make = %v, %v; want one file changed", p, err)
	}
	return dir, cfg, p
}

// BenchmarkCheckTree checks the fix of Debian's stock configuration, as a
// --root tree, with the real sshd -t: what fix --root adds to Make.
func BenchmarkCheckTree(b *testing.B) {
	dir, cfg, p := benchTree(b, "debian12-stock")
	k := &host.Checker{Root: dir}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := k.Check(ctx, cfg, p.Files); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckHost checks the same change to files of this host (a copy
// of the tree in a temporary folder, with a host key of its own), with the
// new content bind-mounted over the file.
func BenchmarkCheckHost(b *testing.B) {
	dir, _, p := benchTree(b, "debian12-stock")
	key := filepath.Join(dir, "hostkey")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		b.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	// The same files, named by their paths on this host: Include lines
	// made absolute under dir, and a host key.
	main := filepath.Join(dir, "etc/ssh/sshd_config")
	files := map[string][]byte{}
	err := filepath.WalkDir(filepath.Join(dir, "etc/ssh"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		data = bytes.ReplaceAll(data, []byte("Include /etc/ssh/"), []byte("Include "+dir+"/etc/ssh/"))
		if path == main {
			data = append([]byte("HostKey "+key+"\n"), data...)
		}
		files[path] = data
		return os.WriteFile(path, data, 0o644)
	})
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := sshdconf.Load(os.DirFS("/"), main, nil)
	if err != nil {
		b.Fatal(err)
	}
	var changes []fix.FileChange
	for _, fc := range p.Files {
		name := filepath.Join(dir, fc.Name)
		changes = append(changes, fix.FileChange{Name: name, Old: files[name], New: append([]byte("ClientAliveInterval 300\n"), files[name]...)})
	}
	k := &host.Checker{}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := k.Check(ctx, cfg, changes); err != nil {
			b.Fatal(err)
		}
	}
}
