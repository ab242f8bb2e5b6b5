package sshdtest_test

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
)

func TestLogin(t *testing.T) {
	// Parallel servers share the test user and its authorized_keys.
	for i := range 3 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			s := sshdtest.Start(t, sshdtest.Options{})
			r := s.Run(t.Context(), 20*time.Second, "id", "-un")
			if r.Exit != 0 || strings.TrimSpace(r.Stdout) != s.User {
				t.Fatalf("ssh -p %d %s@127.0.0.1 id -un: %v; want exit 0, stdout %q\nsshd log:\n%s",
					s.Port, s.User, r, s.User+"\n", s.Log())
			}
			if s.User != sshdtest.DefaultUser {
				t.Errorf("User = %q, want %q", s.User, sshdtest.DefaultUser)
			}
			if !strings.Contains(s.Log(), "Accepted publickey for "+s.User) {
				t.Errorf("sshd log lacks %q:\n%s", "Accepted publickey for "+s.User, s.Log())
			}
		})
	}
}

func TestExtraAndCleanup(t *testing.T) {
	var key string
	var orphan int
	t.Run("server", func(t *testing.T) {
		s := sshdtest.Start(t, sshdtest.Options{Extra: []string{"SetEnv SSHDTEST_MARK=extra-works"}})
		pub, err := os.ReadFile(s.KeyPath + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		key = strings.TrimSpace(string(pub))
		if got := authorizedKeys(t, s.User); !strings.Contains(got, key+"\n") {
			t.Fatalf("authorized_keys of %s lacks the client key %q", s.User, key)
		}
		r := s.Run(t.Context(), 20*time.Second, "echo", "$SSHDTEST_MARK")
		if r.Exit != 0 || r.Stdout != "extra-works\n" {
			t.Fatalf("remote echo $SSHDTEST_MARK with Extra SetEnv: %v; want exit 0, stdout %q", r, "extra-works\n")
		}
		// A background command outlives its client and sits under init,
		// not under the listener: Cleanup must find it by session id.
		r = s.Run(t.Context(), 20*time.Second, "sleep 300 </dev/null >/dev/null 2>&1 & echo $!")
		if r.Exit != 0 {
			t.Fatalf("starting a remote orphan: %v", r)
		}
		if _, err := fmt.Sscan(r.Stdout, &orphan); err != nil || !sshdtest.Alive(orphan) {
			t.Fatalf("remote orphan pid %q not running (%v)", r.Stdout, err)
		}
		if !sshdtest.Alive(s.PID) {
			t.Fatalf("listener %d not alive", s.PID)
		}
	})
	if t.Failed() {
		return
	}
	if got := authorizedKeys(t, sshdtest.DefaultUser); strings.Contains(got, key) {
		t.Errorf("authorized_keys still holds the key after Cleanup")
	}
	if sshdtest.Alive(orphan) {
		syscall.Kill(orphan, syscall.SIGKILL)
		t.Errorf("the login's orphaned sleep %d survived Cleanup", orphan)
	}
}

func authorizedKeys(t *testing.T, name string) string {
	t.Helper()
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(u.HomeDir, ".ssh", "authorized_keys"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fatalTB records the first Fatal of Start instead of failing the test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fatalTB) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	runtime.Goexit()
}

// startFails runs Start with opts and returns its fatal message, or "" if
// it started.
func startFails(t *testing.T, opts sshdtest.Options) string {
	t.Helper()
	f := &fatalTB{TB: t}
	var wg sync.WaitGroup
	wg.Go(func() { sshdtest.Start(f, opts) })
	wg.Wait()
	return f.msg
}

func TestRefuses(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{}) // skips here if it must
	hostKey := s.HostKeyPath
	pid := filepath.Join(t.TempDir(), "pid")
	tests := []struct {
		name string
		opts sshdtest.Options
		want []string
	}{
		{"sshd -t", sshdtest.Options{Extra: []string{"ClientAliveInterval 5x"}},
			[]string{"sshd -t refused", "invalid time value"}},
		{"all addresses", sshdtest.Options{Config: "HostKey " + hostKey + "\nPidFile " + pid + "\n"},
			[]string{"refusing to start", "would listen on "}},
		{"host pid file", sshdtest.Options{Config: "ListenAddress 127.0.0.1\nHostKey " + hostKey + "\n"},
			[]string{"refusing to start", "/run/sshd.pid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := startFails(t, tt.opts)
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("Start(%+v) failed with %q, want it to contain %q", tt.opts, msg, w)
				}
			}
		})
	}
}

func TestConfig(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{})
	b, err := os.ReadFile(s.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	// A whole config of the caller's own, reusing the first server's key.
	pid := filepath.Join(t.TempDir(), "pid")
	custom := "ListenAddress 127.0.0.1\nHostKey " + s.HostKeyPath + "\nPidFile " + pid + "\nUsePAM yes\nPermitTTY no\n"
	c := sshdtest.Start(t, sshdtest.Options{Config: custom})
	got, err := os.ReadFile(c.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != custom {
		t.Errorf("Config written as %q, want %q", got, custom)
	}
	if r := c.Run(t.Context(), 20*time.Second, "id", "-un"); r.Exit != 0 || strings.TrimSpace(r.Stdout) != c.User {
		t.Errorf("id -un through a custom Config: %v", r)
	}
	if c.Port == s.Port {
		t.Errorf("two servers on one port %d", c.Port)
	}
	for _, want := range []string{"ListenAddress 127.0.0.1\n", "AllowUsers sshtest\n", "LogLevel VERBOSE\n", "UsePAM yes\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("generated config lacks %q:\n%s", want, b)
		}
	}
}
