package host_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/sshwarden/sshwarden/internal/host"
	"github.com/sshwarden/sshwarden/internal/sshdtest"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/fix"
	"github.com/sshwarden/sshwarden/sshdconf/lint"
)

// fakeChecker answers for sshd -t: before for the configuration as it is,
// after for it with changes; it counts the calls.
type fakeChecker struct {
	before, after error
	calls         int
}

func (k *fakeChecker) Check(_ context.Context, _ *sshdconf.Config, changes []fix.FileChange) error {
	k.calls++
	if len(changes) == 0 {
		return k.before
	}
	return k.after
}

// TestApply runs host.Apply on a one-file configuration with a fake sshd -t,
// step by step: what it reports and what it leaves on disk.
func TestApply(t *testing.T) {
	const old = "# test\nClientAliveInterval 0\n"
	const fixed = "# test\nClientAliveInterval 300\n"
	reqs := []lint.Requirement{{Keyword: "clientaliveinterval", Max: 300, Pos: sshdconf.Pos{File: "policy", Line: 1}}}
	errNoRoot := errors.New("checking with sshd -t needs root (a private mount namespace)")
	refused := &fix.SSHDRefused{Output: "line 2: Bad configuration option"}

	tests := []struct {
		name    string
		content string
		until   host.Step
		checker *fakeChecker
		load    error

		wantStep    host.Step // of the error; -1: none
		wantFixed   bool
		wantErr     error
		wantChecked bool
		wantUncheck error
		wantFiles   int
		wantOnDisk  string
	}{
		{name: "plan only", content: old, until: host.StepPlan, checker: &fakeChecker{},
			wantStep: -1, wantFiles: 1, wantOnDisk: old},
		{name: "checked and ordered", content: old, until: host.StepOrder, checker: &fakeChecker{},
			wantStep: -1, wantChecked: true, wantFiles: 1, wantOnDisk: old},
		{name: "written", content: old, until: host.StepWrite, checker: &fakeChecker{},
			wantStep: -1, wantChecked: true, wantFiles: 1, wantOnDisk: fixed},
		{name: "nothing to do", content: fixed, until: host.StepWrite, checker: &fakeChecker{},
			wantStep: -1, wantOnDisk: fixed},
		{name: "no sshd", content: old, until: host.StepWrite, checker: &fakeChecker{before: fix.ErrNoSSHD, after: fix.ErrNoSSHD},
			wantStep: -1, wantUncheck: fix.ErrNoSSHD, wantFiles: 1, wantOnDisk: fixed},
		{name: "sshd refuses the fixed one", content: old, until: host.StepOrder, checker: &fakeChecker{after: refused},
			wantStep: host.StepCheck, wantFixed: true, wantErr: refused, wantFiles: 1, wantOnDisk: old},
		{name: "sshd refuses the current one", content: old, until: host.StepWrite, checker: &fakeChecker{before: refused},
			wantStep: host.StepCheck, wantErr: refused, wantFiles: 1, wantOnDisk: old},
		{name: "sshd cannot run, a dry run goes on", content: old, until: host.StepOrder, checker: &fakeChecker{before: errNoRoot},
			wantStep: -1, wantUncheck: errNoRoot, wantFiles: 1, wantOnDisk: old},
		{name: "sshd cannot run, a write stops", content: old, until: host.StepWrite, checker: &fakeChecker{before: errNoRoot},
			wantStep: host.StepCheck, wantErr: errNoRoot, wantFiles: 1, wantOnDisk: old},
		{name: "load fails", content: old, until: host.StepWrite, checker: &fakeChecker{}, load: errors.New("unreadable"),
			wantStep: host.StepLoad, wantOnDisk: old},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			main := filepath.Join(dir, "sshd_config")
			if err := os.WriteFile(main, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			load := func() (*sshdconf.Config, error) {
				if tt.load != nil {
					return nil, tt.load
				}
				return sshdconf.Load(sshdconf.DirFS("/"), main, nil)
			}
			res, err := host.Apply(context.Background(), host.ApplyOptions{
				Main: main, Load: load, Requirements: reqs, Until: tt.until, Checker: tt.checker,
			})
			var failed *host.ApplyError
			switch {
			case tt.wantStep < 0 && err != nil:
				t.Fatalf("Apply: %v, want no error", err)
			case tt.wantStep >= 0 && !errors.As(err, &failed):
				t.Fatalf("Apply: %v, want an *ApplyError at %v", err, tt.wantStep)
			case tt.wantStep >= 0:
				if failed.Step != tt.wantStep || failed.Fixed != tt.wantFixed {
					t.Errorf("Apply failed at %v (fixed %v), want %v (fixed %v)", failed.Step, failed.Fixed, tt.wantStep, tt.wantFixed)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("Apply: %v, want %v", err, tt.wantErr)
				}
			}
			if res.Checked != tt.wantChecked || !errors.Is(res.Unchecked, tt.wantUncheck) {
				t.Errorf("Checked, Unchecked = %v, %v; want %v, %v", res.Checked, res.Unchecked, tt.wantChecked, tt.wantUncheck)
			}
			files := 0
			if res.Plan != nil {
				files = len(res.Plan.Files)
			}
			if files != tt.wantFiles {
				t.Errorf("the plan changes %d files, want %d", files, tt.wantFiles)
			}
			if res.Written != (tt.wantOnDisk != tt.content) {
				t.Errorf("Written = %v, want %v", res.Written, !res.Written)
			}
			if b, err := os.ReadFile(main); err != nil || string(b) != tt.wantOnDisk {
				t.Errorf("on disk: %q (%v), want %q", b, err, tt.wantOnDisk)
			}
			if tt.until == host.StepPlan && tt.checker.calls != 0 {
				t.Errorf("a plan ran sshd -t %d times", tt.checker.calls)
			}
		})
	}
}

// TestApplyUnfixable checks that a finding no edit corrects stops Apply
// at the plan, with every such finding.
func TestApplyUnfixable(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "sshd_config")
	// A NUL byte in the file: fix does not edit such a file.
	if err := os.WriteFile(main, []byte("ClientAliveInterval 0\n#\x00\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	reqs := []lint.Requirement{{Keyword: "clientaliveinterval", Max: 300}}
	_, err := host.Apply(context.Background(), host.ApplyOptions{
		Main: main, Requirements: reqs, Until: host.StepWrite, Checker: &fakeChecker{},
		Load: func() (*sshdconf.Config, error) {
			return sshdconf.Load(sshdconf.DirFS("/"), main, nil)
		},
	})
	var failed *host.ApplyError
	var unfixable *host.Unfixable
	if !errors.As(err, &failed) || failed.Step != host.StepPlan || !errors.As(err, &unfixable) {
		t.Fatalf("Apply: %v, want an *Unfixable at the plan", err)
	}
	if len(unfixable.Findings) == 0 {
		t.Errorf("Unfixable has no findings")
	}
}

// TestApplyOtherRelease: where the host's sshd is another release than the
// one a --root tree is read as, its sshd -t does not judge the tree: Apply
// goes on, the model of the release the only check, and says why. This
// host's own configuration, written, is checked by its sshd whatever
// release it was read as: that sshd reads it next.
func TestApplyOtherRelease(t *testing.T) {
	hostRel, err := host.SSHDRelease(context.Background(), host.DefaultSSHD)
	if err != nil {
		sshdtest.Missing(t, "this test needs the host's sshd: "+err.Error())
	}
	other := sshdconf.MustRelease("8.7p1")
	if host.SameRelease(hostRel, other) {
		other = sshdconf.MustRelease("10.5p1")
	}
	root := t.TempDir()
	main := filepath.Join(root, "etc/ssh/sshd_config")
	if err := os.MkdirAll(filepath.Dir(main), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(main, []byte("ClientAliveInterval 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	reqs := []lint.Requirement{{Keyword: "clientaliveinterval", Max: 300, Pos: sshdconf.Pos{File: "policy", Line: 1}}}
	load := func(dir string) func() (*sshdconf.Config, error) {
		return func() (*sshdconf.Config, error) {
			r, err := sshdconf.OpenRoot(dir)
			if err != nil {
				return nil, err
			}
			t.Cleanup(func() { r.Close() })
			return sshdconf.Load(r, "/etc/ssh/sshd_config", &sshdconf.LoadOptions{Release: other})
		}
	}
	res, err := host.Apply(context.Background(), host.ApplyOptions{
		Main: "/etc/ssh/sshd_config", Root: root, Requirements: reqs, Until: host.StepWrite, Load: load(root),
	})
	if err != nil {
		t.Fatalf("Apply: %v, want no error", err)
	}
	var o *host.OtherRelease
	if res.Checked || !errors.As(res.Unchecked, &o) || o.Want != other || !host.SameRelease(o.Host, hostRel) {
		t.Errorf("Checked, Unchecked = %v, %v; want false, no sshd of %s runs here", res.Checked, res.Unchecked, other)
	}
	if want := fmt.Sprintf("no sshd of %s runs here (this host's is %s)", other, hostRel); res.Unchecked != nil && res.Unchecked.Error() != want {
		t.Errorf("Unchecked = %q, want %q", res.Unchecked, want)
	}
	if b, _ := os.ReadFile(main); string(b) != "ClientAliveInterval 300\n" || !res.Written {
		t.Errorf("on disk: %q (written %v), want the fix written", b, res.Written)
	}

	// This host's configuration (a file of this host, no --root), written:
	// the host's sshd -t checks it, though it is another release than the
	// one the configuration was read as, since it is the sshd that reads
	// it next. It refuses a configuration whose only host key is missing,
	// which the model does not look at.
	if os.Geteuid() != 0 {
		sshdtest.Missing(t, "sshd -t in a mount namespace needs root")
	}
	dir := t.TempDir()
	own := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(own, []byte("HostKey /nonexistent/ssh_host_ed25519_key\nClientAliveInterval 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = host.Apply(context.Background(), host.ApplyOptions{
		Main: own, Requirements: reqs, Until: host.StepWrite,
		Load: func() (*sshdconf.Config, error) {
			return sshdconf.Load(sshdconf.DirFS("/"), own, &sshdconf.LoadOptions{Release: other})
		},
	})
	var failed *host.ApplyError
	var refused *fix.SSHDRefused
	if !errors.As(err, &failed) || failed.Step != host.StepCheck || !errors.As(err, &refused) {
		t.Errorf("Apply of this host's configuration read as %s: %v, want the host's sshd -t to refuse it", other, err)
	}
	if b, _ := os.ReadFile(own); string(b) != "HostKey /nonexistent/ssh_host_ed25519_key\nClientAliveInterval 0\n" {
		t.Errorf("on disk: %q, want it unchanged", b)
	}
}
