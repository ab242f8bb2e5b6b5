package sshdtest_test

// The claims sshwarden's lint messages make about sshd's own timeouts,
// checked against the real sshd with real clients. Every subtest has a
// server of its own and runs in parallel with the others; the margins are
// wide (a loaded CI machine), and the measured times are logged, so that
// `go test -v` shows what this sshd did.

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
)

const (
	loginTimeout = 15 * time.Second // until a client's login is visible in /proc
	frozenFor    = 8 * time.Second  // how long a frozen client is watched
)

// TestClaimClientAliveCountMax: ClientAliveCountMax 0 switches the dead-peer
// check off (OpenSSH 8.2+), a count of 1 drops a client that cannot answer.
func TestClaimClientAliveCountMax(t *testing.T) {
	t.Parallel()

	t.Run("0 keeps a frozen client", func(t *testing.T) {
		t.Parallel()
		s := sshdtest.Start(t, sshdtest.Options{Extra: []string{"ClientAliveInterval 1", "ClientAliveCountMax 0"}})
		c, mon, cmd := frozenClient(t, s)
		time.Sleep(frozenFor)
		if !sshdtest.Alive(mon) || !sshdtest.Alive(cmd) {
			t.Errorf("ClientAliveInterval 1, ClientAliveCountMax 0: sshd dropped a client frozen for %v "+
				"(monitor %d alive %v, remote sleep %d alive %v); want it kept: a count of 0 disables the check\nsshd log:\n%s",
				frozenFor, mon, sshdtest.Alive(mon), cmd, sshdtest.Alive(cmd), s.Log())
		}
		if strings.Contains(s.Log(), "Timeout, client not responding") {
			t.Errorf("ClientAliveInterval 1, ClientAliveCountMax 0: sshd logged a client timeout within %v:\n%s", frozenFor, s.Log())
		}
		t.Logf("measured: ClientAliveInterval 1, ClientAliveCountMax 0: client frozen for %v, its login (monitor %d, remote sleep %d) still open",
			frozenFor, mon, cmd)
		c.Wait(0) // SIGKILL ends a stopped client too

	})

	t.Run("1 drops a frozen client", func(t *testing.T) {
		t.Parallel()
		s := sshdtest.Start(t, sshdtest.Options{Extra: []string{"ClientAliveInterval 1", "ClientAliveCountMax 1"}})
		c, mon, _ := frozenClient(t, s)
		frozen := time.Now()
		gone := waitUntil(15*time.Second, func() bool { return !sshdtest.Alive(mon) })
		dropped := time.Since(frozen)
		// 9.2 probes every 2*Interval: expect about 2*1*(1+1) = 4 s.
		if !gone || dropped > 10*time.Second {
			t.Errorf("ClientAliveInterval 1, ClientAliveCountMax 1: a client frozen for %v was still connected (monitor %d alive %v); "+
				"want it dropped within 10 s (about 4 s on 9.2)\nsshd log:\n%s", dropped.Round(10*time.Millisecond), mon, !gone, s.Log())
		}
		if !strings.Contains(s.Log(), "Timeout, client not responding") {
			t.Errorf("ClientAliveInterval 1, ClientAliveCountMax 1: sshd closed the login without logging %q:\n%s",
				"Timeout, client not responding", s.Log())
		}
		r := thaw(t, c)
		t.Logf("measured: ClientAliveInterval 1, ClientAliveCountMax 1: frozen client dropped %v after SIGSTOP; after SIGCONT the client ended with %v",
			dropped.Round(10*time.Millisecond), r)
	})
}

// TestClaimClientAliveIdle: ClientAlive* never closes an idle session whose
// client answers the probes.
func TestClaimClientAliveIdle(t *testing.T) {
	t.Parallel()
	s := sshdtest.Start(t, sshdtest.Options{Extra: []string{"ClientAliveInterval 1", "ClientAliveCountMax 1"}})
	r := s.Run(t.Context(), 40*time.Second, "-o", "ServerAliveInterval=0", "sleep", "12")
	if r.Exit != 0 || r.Elapsed < 11500*time.Millisecond {
		t.Errorf("ClientAliveInterval 1, ClientAliveCountMax 1: idle responsive client running `sleep 12`: %v; "+
			"want exit 0 after 12 s (ClientAlive* does not close idle sessions)\nsshd log:\n%s", r, s.Log())
	}
	if strings.Contains(s.Log(), "Timeout, client not responding") {
		t.Errorf("ClientAliveInterval 1, ClientAliveCountMax 1: sshd logged a client timeout for a responsive client:\n%s", s.Log())
	}
	t.Logf("measured: ClientAliveInterval 1, ClientAliveCountMax 1: idle client running `sleep 12`: %v", r)
}

// TestClaimChannelTimeout: on 9.2 a command's channel is "session:command",
// so `session=` matches nothing and `session:*=` closes it.
func TestClaimChannelTimeout(t *testing.T) {
	t.Parallel()

	t.Run("session=2s ignores a silent command", func(t *testing.T) {
		t.Parallel()
		s := sshdtest.Start(t, sshdtest.Options{Extra: []string{"ChannelTimeout session=2s"}})
		r := s.Run(t.Context(), 40*time.Second, "sleep", "8")
		if r.Exit != 0 || r.Elapsed < 7500*time.Millisecond {
			t.Errorf("ChannelTimeout session=2s: `sleep 8` with no output: %v; want exit 0 after 8 s "+
				"(the channel type is session:command, which session= does not match)\nsshd log:\n%s", r, s.Log())
		}
		if strings.Contains(s.Log(), "seconds of inactivity") {
			t.Errorf("ChannelTimeout session=2s: sshd logged a channel timeout:\n%s", s.Log())
		}
		t.Logf("measured: ChannelTimeout session=2s: `sleep 8`: %v", r)
	})

	t.Run("session:*=2s closes a silent command", func(t *testing.T) {
		t.Parallel()
		s := sshdtest.Start(t, sshdtest.Options{Extra: []string{"ChannelTimeout session:*=2s"}})
		r := s.Run(t.Context(), 40*time.Second, "sleep", "8")
		// 9.2 counts whole seconds: the channel closes after 1 to 2 s
		// without traffic, plus the login.
		if r.TimedOut || r.Elapsed > 6*time.Second {
			t.Errorf("ChannelTimeout session:*=2s: `sleep 8` with no output: %v; want the channel closed after about 2 s, well before 6 s\nsshd log:\n%s",
				r, s.Log())
		}
		const logged = "channel 0: closing after 2 seconds of inactivity"
		if !strings.Contains(s.Log(), logged) {
			t.Errorf("ChannelTimeout session:*=2s: sshd did not log %q:\n%s", logged, s.Log())
		}
		t.Logf("measured: ChannelTimeout session:*=2s: `sleep 8`: %v", r)
	})
}

// TestClaimUnusedConnectionTimeout: ChannelTimeout closes channels, not
// connections; a connection with no channel is closed by
// UnusedConnectionTimeout only.
func TestClaimUnusedConnectionTimeout(t *testing.T) {
	t.Parallel()

	t.Run("closes ssh -N", func(t *testing.T) {
		t.Parallel()
		s := sshdtest.Start(t, sshdtest.Options{Extra: []string{"ChannelTimeout session:*=2s", "UnusedConnectionTimeout 2s"}})
		c := startClient(t, s, forwardOnly(t)...)
		mon, _ := waitLogin(t, s, c, "sshd: "+s.User)
		authenticated := time.Now()
		r := c.Wait(20 * time.Second)
		closed := time.Since(authenticated)
		if r.TimedOut || closed > 6*time.Second {
			t.Errorf("ChannelTimeout session:*=2s, UnusedConnectionTimeout 2s: `ssh -N -L` was closed %v after login (%v); "+
				"want it closed within about 2-4 s\nsshd log:\n%s", closed.Round(10*time.Millisecond), r, s.Log())
		}
		// The client sees the close as the monitor exits: give the
		// monitor a moment to be reaped.
		for end := time.Now().Add(3 * time.Second); sshdtest.Alive(mon) && time.Now().Before(end); {
			time.Sleep(20 * time.Millisecond)
		}
		if sshdtest.Alive(mon) {
			t.Errorf("UnusedConnectionTimeout 2s: the client ended (%v) but its login (monitor %d) is still open 3s later", r, mon)
		}
		t.Logf("measured: ChannelTimeout session:*=2s, UnusedConnectionTimeout 2s: `ssh -N -L` closed %v after login; client: %v",
			closed.Round(10*time.Millisecond), r)
	})

	t.Run("without it ssh -N stays", func(t *testing.T) {
		t.Parallel()
		s := sshdtest.Start(t, sshdtest.Options{Extra: []string{"ChannelTimeout session:*=2s"}})
		c := startClient(t, s, forwardOnly(t)...)
		mon, _ := waitLogin(t, s, c, "sshd: "+s.User)
		const open = 6 * time.Second
		time.Sleep(open)
		if !sshdtest.Alive(mon) || !sshdtest.Alive(c.Cmd.Process.Pid) {
			t.Errorf("ChannelTimeout session:*=2s without UnusedConnectionTimeout: `ssh -N -L` closed within %v of login "+
				"(monitor %d alive %v, client alive %v); want it open\nsshd log:\n%s",
				open, mon, sshdtest.Alive(mon), sshdtest.Alive(c.Cmd.Process.Pid), s.Log())
		}
		t.Logf("measured: ChannelTimeout session:*=2s without UnusedConnectionTimeout: `ssh -N -L` still open %v after login", open)
		c.Wait(0)
	})

	t.Run("connection outlives its closed session channel", func(t *testing.T) {
		t.Parallel()
		s := sshdtest.Start(t, sshdtest.Options{Extra: []string{"ChannelTimeout session:*=2s"}})
		// A forwarded TCP connection is a second channel (direct-tcpip,
		// which session:* does not match) that keeps the client connected
		// after its session channel is closed.
		target, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer target.Close()
		lport := sshdtest.FreePort(t)
		c := startClient(t, s, "-o", "ExitOnForwardFailure=yes",
			"-L", fmt.Sprintf("127.0.0.1:%d:%s", lport, target.Addr()), "sleep", "60")
		mon, cmd := waitLogin(t, s, c, "sleep 60")
		fwd, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(lport)), 5*time.Second)
		if err != nil {
			t.Fatalf("connecting to the forward 127.0.0.1:%d: %v", lport, err)
		}
		defer fwd.Close()
		target.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
		held, err := target.Accept()
		if err != nil {
			t.Fatalf("the forward did not reach its target %s: %v", target.Addr(), err)
		}
		defer held.Close()
		const logged = "channel 0: closing after 2 seconds of inactivity"
		start := c.Started
		if !waitUntil(10*time.Second, func() bool { return strings.Contains(s.Log(), logged) }) {
			t.Fatalf("ChannelTimeout session:*=2s: sshd did not log %q within %v of the client's start\nsshd log:\n%s",
				logged, time.Since(start).Round(10*time.Millisecond), s.Log())
		}
		channelClosed := time.Since(start)
		const open = 4 * time.Second
		time.Sleep(open)
		if !sshdtest.Alive(mon) || !sshdtest.Alive(c.Cmd.Process.Pid) {
			t.Errorf("ChannelTimeout session:*=2s: session channel closed %v after the client's start, then the connection closed too "+
				"(monitor %d alive %v, client alive %v, %v later); want it open while a forwarded channel is\nsshd log:\n%s",
				channelClosed.Round(10*time.Millisecond), mon, sshdtest.Alive(mon), sshdtest.Alive(c.Cmd.Process.Pid), open, s.Log())
		}
		t.Logf("measured: ChannelTimeout session:*=2s: session channel closed %v after the client's start; "+
			"connection still open %v later with a forwarded channel open (remote sleep %d alive %v)",
			channelClosed.Round(10*time.Millisecond), open, cmd, sshdtest.Alive(cmd))
		held.Close()
		fwd.Close()
		r := c.Wait(10 * time.Second)
		if r.TimedOut {
			t.Errorf("the client did not end within 10 s of its last channel closing: %v", r)
		}
		t.Logf("measured: after the forwarded connection closed, the client ended: %v", r)
	})
}

// forwardOnly returns the arguments of an `ssh -N` client with a local
// forward that nobody uses: a connection without any channel.
func forwardOnly(t *testing.T) []string {
	return []string{"-N", "-o", "ExitOnForwardFailure=no", "-L", fmt.Sprintf("127.0.0.1:%d:127.0.0.1:9", sshdtest.FreePort(t))}
}

// frozenClient starts a client running `sleep 60` that sends no keepalives
// of its own, waits for its login and stops it with SIGSTOP, so that it
// cannot answer sshd's probes. It returns the client, the login's monitor
// and the remote sleep.
func frozenClient(t *testing.T, s *sshdtest.Server) (*sshdtest.Client, int, int) {
	t.Helper()
	c := startClient(t, s, "-o", "ServerAliveInterval=0", "sleep", "60")
	mon, cmd := waitLogin(t, s, c, "sleep 60")
	if err := c.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("SIGSTOP to the client: %v", err)
	}
	return c, mon, cmd
}

// thaw continues a stopped client and waits for it to end.
func thaw(t *testing.T, c *sshdtest.Client) sshdtest.Result {
	t.Helper()
	if err := c.Signal(syscall.SIGCONT); err != nil {
		t.Logf("SIGCONT to the client: %v", err)
	}
	return c.Wait(5 * time.Second)
}

func startClient(t *testing.T, s *sshdtest.Server, args ...string) *sshdtest.Client {
	t.Helper()
	c, err := s.StartClient(t.Context(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitLogin waits until the server runs a process titled title for the
// client's login, and returns the login's monitor (the listener's child)
// and that process.
func waitLogin(t *testing.T, s *sshdtest.Server, c *sshdtest.Client, title string) (mon, pid int) {
	t.Helper()
	ok := waitUntil(loginTimeout, func() bool {
		mon, pid = 0, 0
		for _, p := range s.Processes() {
			if p.PPID == s.PID && p.Title == "sshd: "+s.User+" [priv]" {
				mon = p.PID
			}
			if p.Title == title && p.State != 'Z' {
				pid = p.PID
			}
		}
		return mon != 0 && pid != 0
	})
	if !ok {
		t.Fatalf("no login with a process %q within %v (client alive %v); processes: %+v\nsshd log:\n%s",
			title, loginTimeout, sshdtest.Alive(c.Cmd.Process.Pid), s.Processes(), s.Log())
	}
	return mon, pid
}

// waitUntil polls cond every 50 ms for at most d.
func waitUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}
