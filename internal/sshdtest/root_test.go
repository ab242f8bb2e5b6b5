package sshdtest_test

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
)

// TestRoot runs the sshd of each Debian root: a user and a root login
// work, Release says which sshd ran, nothing is mounted in the host's
// namespace, and after StopListener the login lives on until Cleanup
// ends it.
func TestRoot(t *testing.T) {
	// sshd -V of Debian's builds: "OpenSSH_10.0p2 Debian-7+deb13u4" (trixie),
	// "OpenSSH_10.6p1 Debian-1" (forky, as built on 2026-12-07).
	debian := regexp.MustCompile(`^OpenSSH_\d+\.\d+p\d+ Debian-\S+$`)
	for _, tt := range []struct {
		suite        string
		major, minor int
	}{
		{"trixie", 10, 0},
		{"forky", 10, 6},
	} {
		t.Run(tt.suite, func(t *testing.T) {
			t.Parallel()
			root := sshdtest.DebianRoot(t, tt.suite)
			var orphan, monitor int
			var dir string
			t.Run("server", func(t *testing.T) {
				s := sshdtest.Start(t, sshdtest.Options{Root: root, RootLogin: true})
				dir = s.ServerDir
				if !debian.MatchString(s.Release) {
					t.Errorf("Release = %q, want it to match %v", s.Release, debian)
				}
				if !s.ReleaseAtLeast(tt.major, tt.minor) || s.ReleaseAtLeast(tt.major+1, 0) {
					t.Errorf("ReleaseAtLeast(%d, %d), ReleaseAtLeast(%d, 0) = %v, %v for %q, want true, false", tt.major, tt.minor, tt.major+1,
						s.ReleaseAtLeast(tt.major, tt.minor), s.ReleaseAtLeast(tt.major+1, 0), s.Release)
				}
				if !strings.HasPrefix(s.ConfigPath, root+"/run/sshdtest/srv-") {
					t.Errorf("ConfigPath = %q, want it under %s/run/sshdtest", s.ConfigPath, root)
				}
				for _, user := range []string{s.User, "root"} {
					r := s.RunAs(t.Context(), 20*time.Second, user, "id -un; cat /proc/self/sessionid")
					if r.Exit != 0 || !strings.HasPrefix(r.Stdout, user+"\n") {
						t.Fatalf("ssh %s@127.0.0.1 id -un: %v; want exit 0, stdout %q first\nsshd log:\n%s", user, r, user+"\n", s.Log())
					}
				}
				mounts, err := os.ReadFile("/proc/self/mountinfo")
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(string(mounts), root) {
					t.Errorf("the host's mount namespace has mounts in %s:\n%s", root, mounts)
				}

				c := sshdtest.StartLogin(t, "pty", s.SSH(t.Context(), "-tt"))
				if _, err := c.Stdin.Write([]byte("sleep 300 & echo ORPHAN=$!\n")); err != nil {
					t.Fatal(err)
				}
				m := c.WaitOutput(regexp.MustCompile(`ORPHAN=(\d+)`), 20*time.Second)
				if m == nil {
					t.Fatalf("no ORPHAN= from the shell: %q", c.Out.String())
				}
				fmt.Sscan(m[1], &orphan)
				for _, p := range s.Processes() {
					if p.PPID == s.PID {
						monitor = p.PID
					}
				}
				if err := s.StopListener(); err != nil {
					t.Fatal(err)
				}
				if sshdtest.Alive(s.PID) {
					t.Errorf("listener %d alive after StopListener", s.PID)
				}
				if !sshdtest.Alive(monitor) || !sshdtest.Alive(orphan) {
					t.Errorf("after StopListener: monitor %d alive %v, the shell's sleep %d alive %v; want both alive",
						monitor, sshdtest.Alive(monitor), orphan, sshdtest.Alive(orphan))
				}
				if ps := s.Processes(); len(ps) == 0 || ps[0].PID != monitor {
					t.Errorf("Processes() after StopListener = %v, want the monitor %d first", ps, monitor)
				}
			})
			for _, pid := range []int{orphan, monitor} {
				if pid != 0 && sshdtest.Alive(pid) {
					syscall.Kill(pid, syscall.SIGKILL)
					t.Errorf("process %d of the login survived Cleanup", pid)
				}
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("the server's directory %s after Cleanup: %v, want it gone", dir, err)
			}
		})
	}
}
