package sshdtest_test

// The claims of lint's release-dependent checks, measured with the real sshd
// of each release they name: the host's (Debian 12, 9.2), the upstream
// builds of `make openssh` (8.0p1, 8.2p1, 10.5p1) and the sshd of the Debian
// roots (trixie's 10.0p1, forky's 10.6p1). A release that is not built here
// skips its subtest, or with CI=true fails it. Every wait is bounded by a
// few seconds; the measured times are logged (`go test -v`).

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/internal/oracle"
	"github.com/sshwarden/sshwarden/internal/sshdtest"
)

// startReleaseServer starts the sshd of the release called name (as
// internal/oracle names them: "9.2-debian" is the host's) with opts.
func startReleaseServer(t *testing.T, name string, opts sshdtest.Options) *sshdtest.Server {
	t.Helper()
	switch suite, debian := oracle.Debian[name]; {
	case name == oracle.Host.Name:
	case debian:
		opts.Root = sshdtest.DebianRoot(t, suite)
	default:
		r, err := oracle.FindRelease(name)
		if err != nil {
			sshdtest.Missing(t, err.Error())
		}
		opts.Binary = r.SSHD()
	}
	s := sshdtest.Start(t, opts)
	t.Logf("sshd %s (%s), port %d", s.Release, name, s.Port)
	return s
}

// TestClaimClientAliveCountMaxRelease: what ClientAliveCountMax 0 does
// changed in 8.2 (serverloop.c client_alive_check: 8.2p1 tests
// "options.client_alive_count_max > 0" first, 8.0p1 does not). Before,
// sshd closed the connection the first time ClientAliveInterval passed
// without traffic, before sending any probe, so that a client that would
// have answered was dropped too; from 8.2 a count of 0 switches the check
// off. (TestClaimClientAliveCountMax measures the host's 9.2.)
func TestClaimClientAliveCountMaxRelease(t *testing.T) {
	t.Parallel()
	extra := []string{"ClientAliveInterval 1", "ClientAliveCountMax 0"}

	t.Run("8.0p1 drops a frozen client", func(t *testing.T) {
		t.Parallel()
		s := startReleaseServer(t, "8.0p1", sshdtest.Options{Extra: extra})
		c, mon, _ := frozenClient(t, s)
		frozen := time.Now()
		gone := waitUntil(frozenFor, func() bool { return !sshdtest.Alive(mon) })
		dropped := time.Since(frozen)
		if !gone {
			t.Errorf("8.0p1, ClientAliveInterval 1, ClientAliveCountMax 0: a client frozen for %v is still connected (monitor %d); "+
				"want it dropped after about 1 s\nsshd log:\n%s", dropped.Round(10*time.Millisecond), mon, s.Log())
		}
		if !strings.Contains(s.Log(), "Timeout, client not responding") {
			t.Errorf("8.0p1: sshd closed the login without logging %q:\n%s", "Timeout, client not responding", s.Log())
		}
		r := thaw(t, c)
		t.Logf("measured: 8.0p1, ClientAliveInterval 1, ClientAliveCountMax 0: frozen client dropped %v after SIGSTOP; client: %v",
			dropped.Round(10*time.Millisecond), r)
	})

	t.Run("8.0p1 drops an idle client that answers", func(t *testing.T) {
		t.Parallel()
		s := startReleaseServer(t, "8.0p1", sshdtest.Options{Extra: extra})
		r := s.Run(t.Context(), 20*time.Second, "-o", "ServerAliveInterval=0", "sleep", "8")
		if r.Exit != 255 || r.Elapsed > 6*time.Second {
			t.Errorf("8.0p1, ClientAliveInterval 1, ClientAliveCountMax 0: a live, idle client running `sleep 8`: %v; "+
				"want it closed (exit 255) after about 1 s of silence\nsshd log:\n%s", r, s.Log())
		}
		if !strings.Contains(s.Log(), "Timeout, client not responding") {
			t.Errorf("8.0p1: sshd closed the login without logging %q:\n%s", "Timeout, client not responding", s.Log())
		}
		t.Logf("measured: 8.0p1, ClientAliveInterval 1, ClientAliveCountMax 0: live idle client running `sleep 8`: %v", r)
	})

	t.Run("8.2p1 keeps a frozen client", func(t *testing.T) {
		t.Parallel()
		s := startReleaseServer(t, "8.2p1", sshdtest.Options{Extra: extra})
		c, mon, cmd := frozenClient(t, s)
		time.Sleep(frozenFor)
		if !sshdtest.Alive(mon) || !sshdtest.Alive(cmd) || strings.Contains(s.Log(), "Timeout, client not responding") {
			t.Errorf("8.2p1, ClientAliveInterval 1, ClientAliveCountMax 0: sshd dropped a client frozen for %v "+
				"(monitor %d alive %v, remote sleep %d alive %v); want it kept: a count of 0 disables the check\nsshd log:\n%s",
				frozenFor, mon, sshdtest.Alive(mon), cmd, sshdtest.Alive(cmd), s.Log())
		}
		t.Logf("measured: 8.2p1, ClientAliveInterval 1, ClientAliveCountMax 0: client frozen for %v, its login still open", frozenFor)
		c.Wait(0)
	})
}

// TestClaimChannelTimeoutInMatch: a ChannelTimeout set in a Match block is
// what `sshd -T -C` prints for the user, but before 10.5 the running
// session does not get it: a silent command outlives it. (10.5p1's
// getpwnamallow, in auth.c, sets the channel timeouts again after applying
// the user's Match blocks; 10.2p1's does not.) The same line outside Match
// closes it, and so does a "Match all" block.
func TestClaimChannelTimeoutInMatch(t *testing.T) {
	t.Parallel()
	const (
		timeout = "session:*=3s"
		run     = 8 * time.Second // the silent command: `sleep 8`
	)
	user := "Match User " + sshdtest.DefaultUser
	for _, tc := range []struct {
		release string
		global  string // a global ChannelTimeout, or ""
		match   string // the Match line
		value   string // its ChannelTimeout, what sshd -T -C prints
		closes  bool   // the session is closed after about 3 s
	}{
		{"9.2-debian", "", user, timeout, false},
		{"10.0-debian", "", user, timeout, false},
		{"10.5p1", "", user, timeout, true},
		{"10.6-debian", "", user, timeout, true},
		// The session keeps the global value, not the Match block's.
		{"9.2-debian", timeout, user, "session:*=1h", true},
		// sshd applies "Match all" blocks when it reads its configuration
		// at start (as sshd -T without -C does): their values are the
		// global ones.
		{"9.2-debian", "", "Match all", timeout, true},
		{"10.0-debian", "", "Match all", timeout, true},
	} {
		name := tc.release + " " + tc.match
		if tc.global != "" {
			name += " under a global " + tc.global
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var extra []string
			if tc.global != "" {
				extra = append(extra, "ChannelTimeout "+tc.global)
			}
			s := startReleaseServer(t, tc.release, sshdtest.Options{Extra: append(extra, tc.match, "\tChannelTimeout "+tc.value)})
			spec := "user=" + s.User + ",host=localhost,addr=127.0.0.1,laddr=127.0.0.1,lport=" + strconv.Itoa(s.Port)
			out, err := s.Effective(spec)
			if err != nil || !hasLineFold(out, "channeltimeout "+tc.value) {
				t.Errorf("%s: sshd -T -C %s: %v; want it to print \"channeltimeout %s\"\n%s", name, spec, err, tc.value, out)
			}
			r := s.Run(t.Context(), run+10*time.Second, "sleep", strconv.Itoa(int(run/time.Second)))
			closed := strings.Contains(s.Log(), "seconds of inactivity")
			switch {
			case tc.closes && (r.TimedOut || r.Elapsed > run-2*time.Second || !closed):
				t.Errorf("%s / ChannelTimeout %s: `sleep %d` with no output: %v (sshd logged a channel timeout: %v); "+
					"want the channel closed after about 3 s\nsshd log:\n%s", name, tc.value, run/time.Second, r, closed, s.Log())
			case !tc.closes && (r.Exit != 0 || r.Elapsed < run-500*time.Millisecond || closed):
				t.Errorf("%s / ChannelTimeout %s: `sleep %d` with no output: %v (sshd logged a channel timeout: %v); "+
					"want it to run to its end: before 10.5 the session does not get a Match block's ChannelTimeout\nsshd log:\n%s",
					name, tc.value, run/time.Second, r, closed, s.Log())
			}
			t.Logf("measured: %s: sshd -T -C prints channeltimeout %s for %s; `sleep %d`: %v, channel timeout logged: %v",
				name, tc.value, s.User, run/time.Second, r, closed)
		})
	}
	// The control: the same line, global, closes the session on the
	// releases above where Match does not (9.2 is TestClaimChannelTimeout).
	t.Run("10.0-debian global", func(t *testing.T) {
		t.Parallel()
		s := startReleaseServer(t, "10.0-debian", sshdtest.Options{Extra: []string{"ChannelTimeout " + timeout}})
		r := s.Run(t.Context(), run+10*time.Second, "sleep", strconv.Itoa(int(run/time.Second)))
		if r.TimedOut || r.Elapsed > run-2*time.Second || !strings.Contains(s.Log(), "seconds of inactivity") {
			t.Errorf("10.0-debian: global ChannelTimeout %s: `sleep %d` with no output: %v; want the channel closed after about 3 s\nsshd log:\n%s",
				timeout, run/time.Second, r, s.Log())
		}
		t.Logf("measured: 10.0-debian: global ChannelTimeout %s: `sleep %d`: %v", timeout, run/time.Second, r)
	})
}

// hasLineFold reports whether out has the line want, the keyword in any
// case (sshd -T prints mixed case from 10.5 on).
func hasLineFold(out, want string) bool {
	for l := range strings.Lines(out) {
		k, v, _ := strings.Cut(strings.TrimSpace(l), " ")
		wk, wv, _ := strings.Cut(want, " ")
		if strings.EqualFold(k, wk) && v == wv {
			return true
		}
	}
	return false
}

// TestClaimUnusedConnectionTimeoutInMatch: unlike ChannelTimeout, an
// UnusedConnectionTimeout set in a Match block reaches the session: an
// `ssh -N` login of the user it matches is closed after about its time.
// This is why channeltimeout-in-match is about ChannelTimeout only.
func TestClaimUnusedConnectionTimeoutInMatch(t *testing.T) {
	t.Parallel()
	for _, release := range []string{"9.2-debian", "10.0-debian"} {
		t.Run(release, func(t *testing.T) {
			t.Parallel()
			s := startReleaseServer(t, release, sshdtest.Options{Extra: []string{
				"Match User " + sshdtest.DefaultUser, "\tUnusedConnectionTimeout 2s"}})
			c := startClient(t, s, forwardOnly(t)...)
			r := c.Wait(15 * time.Second)
			if r.TimedOut || r.Elapsed > 8*time.Second {
				t.Errorf("%s: Match User %s / UnusedConnectionTimeout 2s: `ssh -N` without a channel: %v; want it closed after about 2-4 s\nsshd log:\n%s",
					release, s.User, r, s.Log())
			}
			t.Logf("measured: %s: Match User %s / UnusedConnectionTimeout 2s: `ssh -N`: %v", release, s.User, r)
		})
	}
}
