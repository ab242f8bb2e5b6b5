package fix_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sshwarden/sshwarden/internal/host"
	"github.com/sshwarden/sshwarden/internal/oracle"
	"github.com/sshwarden/sshwarden/policy"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/fix"
	"github.com/sshwarden/sshwarden/sshdconf/internal/memfs"
	"github.com/sshwarden/sshwarden/sshdconf/lint"
)

var update = flag.Bool("update", false, "rewrite the golden diffs in testdata/fix/golden")

// specs every case is checked with, besides the archive's own: a member of
// several groups, root, a user in sftponly, from outside and inside 10/8.
var defaultSpecs = []string{
	"user=alice,host=h.example.com,addr=192.0.2.10,laddr=192.0.2.1,lport=22",
	"user=root,host=h.example.com,addr=198.51.100.7,laddr=192.0.2.1,lport=22",
	"user=carol,host=h.example.com,addr=10.1.2.3,laddr=10.0.0.1,lport=2222",
	"user=deploy,host=h.example.com,addr=10.9.9.9,laddr=192.0.2.1,lport=22",
}

// fixCase is one tree and one policy.
type fixCase struct {
	name   string // golden file name
	arch   *oracle.Archive
	policy string // builtin:NAME or the archive's policy.conf
}

func fixCases(t *testing.T) []fixCase {
	var cases []fixCase
	trees, _ := filepath.Glob("../../testdata/trees/*.txtar")
	for _, p := range trees {
		a := readArchive(t, p)
		base := strings.TrimSuffix(filepath.Base(p), ".txtar")
		for _, pol := range []string{"default", "cis"} {
			cases = append(cases, fixCase{name: base + "@" + pol, arch: a, policy: "builtin:" + pol})
		}
	}
	own, _ := filepath.Glob("testdata/*.txtar")
	for _, p := range own {
		a := readArchive(t, p)
		pol := "builtin:default"
		for _, line := range strings.Split(a.Comment, "\n") {
			if v, ok := strings.CutPrefix(line, "policy "); ok {
				pol = strings.TrimSpace(v)
			}
		}
		cases = append(cases, fixCase{name: strings.TrimSuffix(filepath.Base(p), ".txtar"), arch: a, policy: pol})
	}
	if len(cases) < 40 {
		t.Fatalf("found %d cases, want the corpus and testdata/*.txtar", len(cases))
	}
	return cases
}

func readArchive(t *testing.T, path string) *oracle.Archive {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return oracle.ParseArchive(b)
}

// TestFixCorpus fixes every tree of the corpus (and the cases of
// testdata/) for a policy, and checks the result the way an admin would:
// the diff is the golden one, comments and blank lines are all kept,
// the real sshd -t accepts the result before it is written, the real sshd
// -T shows every requirement met for several connections, and a second fix
// changes nothing.
func TestFixCorpus(t *testing.T) {
	o := oracle.Need(t)
	users := sshdconf.LoadFileUsers(fstest.MapFS{"etc/passwd": {Data: o.Passwd()}, "etc/group": {Data: o.Group()}})
	for _, c := range fixCases(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			var policyFile string
			for name, b := range c.arch.Files {
				p := filepath.Join(dir, name)
				if name == "policy.conf" {
					p = filepath.Join(t.TempDir(), name)
					policyFile = p
				}
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			pol := c.policy
			if pol == "policy.conf" {
				pol = policyFile
			}
			p, err := policy.Load(pol)
			if err != nil {
				t.Fatalf("policy %s: %v", pol, err)
			}
			load := func() *sshdconf.Config {
				cfg, err := sshdconf.Load(os.DirFS(dir), c.arch.Main, &sshdconf.LoadOptions{Users: users, Services: sshdconf.ServicesFile(os.DirFS("/"))})
				if err != nil {
					t.Fatal(err)
				}
				return cfg
			}
			cfg := load()
			checker := &host.Checker{Root: dir}
			ctx := context.Background()

			plan, err := fix.Make(cfg, p.Requirements)
			if c.arch.Invalid {
				var refused *fix.Refused
				if !errors.As(err, &refused) {
					t.Fatalf("Make on a tree sshd refuses = %v, want *Refused", err)
				}
				var sshdRefused *fix.SSHDRefused
				if err := checker.Check(ctx, cfg, nil); !errors.As(err, &sshdRefused) {
					t.Fatalf("Check on a tree sshd refuses = %v, want *SSHDRefused", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Make: %v", err)
			}
			if len(plan.Unfixable) > 0 {
				t.Errorf("unfixable findings: %v", plan.Unfixable)
			}
			if err := checker.Check(ctx, cfg, nil); err != nil {
				t.Fatalf("sshd -t on the tree as it is: %v", err)
			}
			if err := checker.Check(ctx, cfg, plan.Files); err != nil {
				t.Fatalf("sshd -t on the fixed tree: %v", err)
			}
			// The files can be written one at a time, sshd accepting the
			// tree after each.
			ordered, err := fix.Order(cfg, plan.Files, func(ch []fix.FileChange) error { return checker.Check(ctx, cfg, ch) })
			if err != nil || len(ordered) != len(plan.Files) {
				t.Fatalf("Order(%d files) = %d files, %v", len(plan.Files), len(ordered), err)
			}

			var diff strings.Builder
			for _, fc := range plan.Files {
				diff.WriteString(fix.Diff(fc.Name, fc.Old, fc.New))
				for _, n := range fc.Notes {
					diff.WriteString("# " + n + "\n")
				}
				if got, want := nonDirectives(fc.New), nonDirectives(fc.Old); !equal(got, want) {
					t.Errorf("%s: comments or blank lines changed:\n%q\nwant\n%q", fc.Name, got, want)
				}
			}
			got := diff.String()
			if policyFile != "" {
				got = strings.ReplaceAll(got, policyFile, "policy.conf")
			}
			golden(t, filepath.Join("testdata", "golden", c.name+".diff"), got)

			// Write the result, as fix -w would, and check it with sshd -T.
			after := map[string][]byte{}
			for name, b := range c.arch.Files {
				if name != "policy.conf" {
					after[name] = b
				}
			}
			for _, fc := range plan.Files {
				name := strings.TrimPrefix(fc.Name, "/")
				if _, ok := after[name]; !ok {
					t.Fatalf("fix changed %s, which is not in the tree", fc.Name)
				}
				after[name] = fc.New
				if err := os.WriteFile(filepath.Join(dir, name), fc.New, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			again, err := fix.Make(load(), p.Requirements)
			if err != nil {
				t.Fatalf("second Make: %v", err)
			}
			if len(again.Files) > 0 || len(again.Fixed) > 0 {
				t.Errorf("a second fix changes %d files for %d findings, want none: %v", len(again.Files), len(again.Fixed), again.Fixed)
			}
			specs := append(append([]string(nil), c.arch.Specs...), defaultSpecs...)
			res, err := o.Run(after, c.arch.Main, specs)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range res {
				if r.Exit != 0 {
					t.Errorf("sshd -T -C %q on the fixed tree: exit %d: %s", specs[i], r.Exit, r.Stderr)
					continue
				}
				for _, req := range p.Requirements {
					if why := unmet(req, r.Stdout); why != "" {
						t.Errorf("sshd -T -C %q on the fixed tree: %s", specs[i], why)
					}
				}
			}
		})
	}
}

// unmet says how the output of sshd -T breaks r, or "".
func unmet(r lint.Requirement, out string) string {
	k := sshdconf.Lookup(r.Keyword)
	var vals []string
	for _, line := range strings.Split(out, "\n") {
		if kw, v, ok := strings.Cut(line, " "); ok && kw == k.Printed() {
			vals = append(vals, v)
		}
	}
	if len(vals) != 1 {
		return fmt.Sprintf("%s printed %d times", k.Printed(), len(vals))
	}
	v := vals[0]
	if r.Max > 0 {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > r.Max {
			return fmt.Sprintf("%s %s, want 1..%d", k.Printed(), v, r.Max)
		}
		return ""
	}
	if v != r.Value {
		return fmt.Sprintf("%s %s, want %s", k.Printed(), v, r.Value)
	}
	return ""
}

// nonDirectives returns the comment and blank lines of a file, in order.
func nonDirectives(b []byte) []string {
	var out []string
	for _, l := range sshdconf.Parse("f", b).Lines() {
		if !l.IsDirective() {
			out = append(out, l.Text())
		}
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if got == "" {
			os.Remove(path)
			return
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		want, err = nil, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("diff differs from %s (go test -update to rewrite):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// TestGoldenFilesUsed fails when a golden diff has no case any more.
func TestGoldenFilesUsed(t *testing.T) {
	names := map[string]bool{}
	for _, c := range fixCases(t) {
		names[c.name+".diff"] = true
	}
	files, _ := filepath.Glob("testdata/golden/*.diff")
	var stale []string
	for _, f := range files {
		if !names[filepath.Base(f)] {
			stale = append(stale, f)
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("golden files without a case: %v", stale)
	}
}

// TestCheckerHost checks a change to files on this host (not --root): sshd
// -t sees the new content through bind mounts in a private namespace,
// refuses a bad one, and nothing outside that namespace ever sees it. The
// same holds for the check of a rewritten copy, which the hardened unit
// uses, with sshd's messages naming the real files. A --root tree is never
// checked by a copy (sshd would open the files of this host it names).
func TestCheckerHost(t *testing.T) {
	for _, copied := range []bool{false, true} {
		t.Run(fmt.Sprintf("copy=%v", copied), func(t *testing.T) { testCheckerHost(t, copied) })
	}
	t.Run("copy of a tree", func(t *testing.T) {
		oracle.Need(t)
		cfg, err := sshdconf.Load(memfs.New(map[string][]byte{"/etc/ssh/sshd_config": []byte("Port 22\n")}), "/etc/ssh/sshd_config", nil)
		if err != nil {
			t.Fatal(err)
		}
		k := &host.Checker{Root: t.TempDir(), Copy: true}
		var refused *fix.SSHDRefused
		if err := k.Check(context.Background(), cfg, nil); err == nil || errors.As(err, &refused) {
			t.Errorf("Check(a copy of a tree) = %v, want an error that it is not checked", err)
		}
	})
}

func testCheckerHost(t *testing.T, copied bool) {
	oracle.Need(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "hostkey")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	main := filepath.Join(dir, "sshd_config")
	drop := filepath.Join(dir, "drop.conf")
	old := fmt.Sprintf("Include %s\nHostKey %s\nClientAliveInterval 0\n", drop, key)
	if err := os.WriteFile(main, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(drop, []byte("MaxAuthTries 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := sshdconf.Load(os.DirFS("/"), main, nil)
	if err != nil {
		t.Fatal(err)
	}
	k := &host.Checker{Copy: copied}
	ctx := context.Background()
	if err := k.Check(ctx, cfg, nil); err != nil {
		t.Fatalf("Check(as it is) = %v, want nil", err)
	}
	good := []fix.FileChange{{Name: drop, Old: []byte("MaxAuthTries 3\n"), New: []byte("MaxAuthTries 2\n")}}
	if err := k.Check(ctx, cfg, good); err != nil {
		t.Errorf("Check(good change) = %v, want nil", err)
	}
	bad := []fix.FileChange{{Name: drop, Old: []byte("MaxAuthTries 3\n"), New: []byte("MaxAuthTries 2\nClientAliveInterval 5x\n")}}
	err = k.Check(ctx, cfg, bad)
	var refused *fix.SSHDRefused
	if !errors.As(err, &refused) || !strings.Contains(refused.Output, drop+" line 2: invalid time value") {
		t.Errorf("Check(bad change in the drop-in) = %v, want sshd's refusal naming %s line 2", err, drop)
	}
	if b, _ := os.ReadFile(drop); string(b) != "MaxAuthTries 3\n" {
		t.Errorf("after Check, %s reads %q outside the namespace, want the old content", drop, b)
	}
	if b, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(b), dir) {
		t.Errorf("a mount of the check is visible outside its namespace:\n%s", b)
	}
}

// TestCheckerNoSSHD: where sshd is not installed, Check says so with
// ErrNoSSHD (fix then relies on the model and tells the user).
func TestCheckerNoSSHD(t *testing.T) {
	cfg, err := sshdconf.Load(memfs.New(map[string][]byte{"/etc/ssh/sshd_config": []byte("Port 22\n")}), "/etc/ssh/sshd_config", nil)
	if err != nil {
		t.Fatal(err)
	}
	k := &host.Checker{SSHD: filepath.Join(t.TempDir(), "sshd")}
	if err := k.Check(context.Background(), cfg, nil); !errors.Is(err, fix.ErrNoSSHD) {
		t.Errorf("Check without sshd = %v, want ErrNoSSHD", err)
	}
}
