package host_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/internal/host"
	"github.com/sshwarden/sshwarden/internal/oracle"
	"github.com/sshwarden/sshwarden/internal/sshdtest"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/fix"
)

// TestSSHDReleaseReal reads the release of real sshd binaries: the host's
// (Debian 12, whose sshd -V prints only "OpenSSH_9.2"), the upstream
// builds of the oracle (before 9.2 from the usage text, exit 1) and
// Debian's builds in the Debian roots (run chrooted).
func TestSSHDReleaseReal(t *testing.T) {
	// These must be here (the CI builds them); the others are read when
	// built.
	must := []string{"8.7p1", "10.5p1", "10.0-debian"}
	for _, name := range oracle.Releases() {
		t.Run(name, func(t *testing.T) {
			if suite, ok := oracle.Debian[name]; ok && slices.Contains(must, name) {
				sshdtest.DebianRoot(t, suite)
			}
			r, err := oracle.FindRelease(name)
			if err != nil {
				if slices.Contains(must, name) {
					sshdtest.Missing(t, err.Error())
				}
				t.Logf("not built here: %v", err)
				return
			}
			var got *sshdconf.Release
			if r.Root == "" {
				if _, err := os.Stat(r.SSHD()); err != nil {
					sshdtest.Missing(t, "no sshd: "+err.Error())
				}
				got, err = host.SSHDRelease(context.Background(), r.SSHD())
			} else {
				if os.Geteuid() != 0 {
					sshdtest.Missing(t, "running a Debian root's sshd chrooted needs root")
				}
				var bin []byte
				bin, err = os.ReadFile(r.SSHD())
				if err != nil {
					t.Fatal(err)
				}
				got, err = host.ReleaseOf(context.Background(), r.SSHD(), bin,
					[]string{"/usr/sbin/chroot", r.Root, oracle.SSHD, "-V"})
			}
			if err != nil {
				t.Fatalf("SSHDRelease(%s): %v", r.SSHD(), err)
			}
			want := sshdconf.MustRelease(name)
			if got != want {
				t.Errorf("SSHDRelease(%s) = %s (%s), want %s", r.SSHD(), got.Name(), got, want.Name())
			}
		})
	}
}

// TestSSHDRelease reads the release from what sshd -V prints and from the
// binary's bytes, and bounds the wait.
func TestSSHDRelease(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, body string
		want       string // the release's name, or "" for an error
	}{
		{"upstream", `echo "OpenSSH_9.6p1, OpenSSL 3.0.2 15 Mar 2022"`, "9.6p1"},
		// Debian 12: -V says 9.2 only; the binary knows debianbanner.
		{"debian12", "# debianbanner\necho 'OpenSSH_9.2, OpenSSL 3.0.19 27 Jan 2026' >&2", "9.2-debian"},
		{"plain92", "echo 'OpenSSH_9.2, OpenSSL 3.0.19 27 Jan 2026' >&2", "9.2p1"},
		// Debian forky's keyword table spells it DebianBanner.
		{"forky", "# DebianBanner\necho 'OpenSSH_10.6p1, OpenSSL 3.6.5' >&2", "10.6-debian"},
		{"ubuntu", `echo "OpenSSH_9.6p1 Ubuntu-3ubuntu13.5, OpenSSL 3.0.13 30 Jan 2024" >&2`, "9.6-debian"},
		// Before 9.2: the usage text, exit 1.
		{"usage", "echo 'unknown option -- V' >&2\necho 'OpenSSH_8.0p1, OpenSSL 1.1.1k' >&2\necho 'usage: sshd [-46DdeiqTt]' >&2\nexit 1", "8.0p1"},
		{"garbage", "echo 'sshd: not today' >&2\nexit 255", ""},
		{"too old", `echo "OpenSSH_7.4p1, OpenSSL 1.0.2k-fips"`, ""},
	}
	for _, tt := range tests {
		got, err := host.SSHDRelease(context.Background(), script(tt.name, tt.body))
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("%s: SSHDRelease = %s, want an error", tt.name, got.Name())
		case tt.want != "" && err != nil:
			t.Errorf("%s: SSHDRelease: %v, want %s", tt.name, err, tt.want)
		case tt.want != "" && got.Name() != tt.want:
			t.Errorf("%s: SSHDRelease = %s, want %s", tt.name, got.Name(), tt.want)
		}
	}

	if _, err := host.SSHDRelease(context.Background(), filepath.Join(dir, "nosuch")); !errors.Is(err, fix.ErrNoSSHD) {
		t.Errorf("SSHDRelease(missing) = %v, want %v", err, fix.ErrNoSSHD)
	}

	// A binary that never answers: the caller's deadline holds.
	hang := script("hang", "sleep 60")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := host.SSHDRelease(ctx, hang); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("SSHDRelease(hang) = %v, want %v", err, context.DeadlineExceeded)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("SSHDRelease(hang) took %v", d)
	}
}
