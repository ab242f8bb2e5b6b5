package sshdtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// SSH returns an unstarted ssh client that logs in to s as s.User with
// s.KeyPath, reading no ssh_config and no known_hosts. args follow the
// destination: ssh options first (ssh parses options after the
// destination too), then the remote command, as in
//
//	s.SSH(ctx, "-N", "-L", "8022:127.0.0.1:22")
//	s.SSH(ctx, "id", "-un")
//
// The client runs in a session of its own (setsid), so job control and
// hangups aimed at the test's terminal do not reach it, and a test can
// stop and continue it alone. ctx kills it (SIGKILL); pass t.Context()
// so that nothing outlives the test.
func (s *Server) SSH(ctx context.Context, args ...string) *exec.Cmd {
	argv := []string{
		"-F", "/dev/null",
		"-i", s.KeyPath,
		"-o", "IdentitiesOnly=yes",
		"-o", "BatchMode=yes",
		"-o", "StrictHostKeyChecking=no",
		"-o", "UserKnownHostsFile=/dev/null",
		"-o", "LogLevel=ERROR",
		"-p", strconv.Itoa(s.Port),
		s.User + "@127.0.0.1",
	}
	cmd := exec.CommandContext(ctx, toolPath("ssh"), append(argv, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

// Client is a started ssh client.
type Client struct {
	Cmd     *exec.Cmd
	Started time.Time

	stdout, stderr bytes.Buffer
}

// StartClient starts s.SSH(ctx, args...) with its output captured.
func (s *Server) StartClient(ctx context.Context, args ...string) (*Client, error) {
	c := &Client{Cmd: s.SSH(ctx, args...)}
	c.Cmd.Stdout = &c.stdout
	c.Cmd.Stderr = &c.stderr
	c.Started = time.Now()
	if err := c.Cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting ssh: %w", err)
	}
	return c, nil
}

// Signal sends sig to the client process (not to a reused pid: os.Process
// signals through a pidfd).
func (c *Client) Signal(sig os.Signal) error { return c.Cmd.Process.Signal(sig) }

// Result is how a client run ended.
type Result struct {
	Exit     int           // exit status; -1 if killed by a signal or not run
	Stdout   string        // what it printed on stdout
	Stderr   string        // and on stderr
	Elapsed  time.Duration // from start to exit
	TimedOut bool          // killed by the Wait or Run timeout
	Err      error         // a failure other than a non-zero exit
}

func (r Result) String() string {
	s := fmt.Sprintf("exit %d after %v", r.Exit, r.Elapsed.Round(10*time.Millisecond))
	if r.TimedOut {
		s += " (killed at the timeout)"
	}
	if r.Err != nil {
		s += fmt.Sprintf(" (error: %v)", r.Err)
	}
	return s + fmt.Sprintf(", stdout %q, stderr %q", r.Stdout, r.Stderr)
}

// Wait waits for the client to exit, at most timeout, after which it kills
// it (SIGKILL, which also ends a stopped client) and waits for that. Call
// it once.
func (c *Client) Wait(timeout time.Duration) Result {
	type exit struct {
		err error
		at  time.Time
	}
	done := make(chan exit, 1)
	go func() {
		err := c.Cmd.Wait()
		done <- exit{err, time.Now()}
	}()
	var r Result
	var e exit
	select {
	case e = <-done:
	case <-time.After(timeout):
		r.TimedOut = true
		_ = c.Cmd.Process.Kill()
		e = <-done // bounded: SIGKILL, then Cmd.WaitDelay for the pipes
	}
	r.Elapsed = e.at.Sub(c.Started)
	r.Stdout, r.Stderr = c.stdout.String(), c.stderr.String()
	r.Exit = -1
	if c.Cmd.ProcessState != nil {
		r.Exit = c.Cmd.ProcessState.ExitCode()
	}
	var exitErr *exec.ExitError
	if e.err != nil && !errors.As(e.err, &exitErr) {
		r.Err = e.err
	}
	return r
}

// Run runs an ssh client (see SSH) to its end, at most timeout.
func (s *Server) Run(ctx context.Context, timeout time.Duration, args ...string) Result {
	c, err := s.StartClient(ctx, args...)
	if err != nil {
		return Result{Exit: -1, Err: err}
	}
	return c.Wait(timeout)
}

// Buffer is a bytes.Buffer that a running command (an ssh client, the
// agent) may write while the test reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
