package sshdtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
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

// RunAs is [Server.Run] logging in as user.
func (s *Server) RunAs(ctx context.Context, timeout time.Duration, user string, args ...string) Result {
	c := &Client{Cmd: s.SSHAs(ctx, user, args...)}
	c.Cmd.Stdout = &c.stdout
	c.Cmd.Stderr = &c.stderr
	c.Started = time.Now()
	if err := c.Cmd.Start(); err != nil {
		return Result{Exit: -1, Err: fmt.Errorf("starting ssh: %w", err)}
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

// SSHAs is [Server.SSH] logging in as user instead of s.User (root, with
// Options.RootLogin).
func (s *Server) SSHAs(ctx context.Context, user string, args ...string) *exec.Cmd {
	cmd := s.SSH(ctx, args...)
	for i, a := range cmd.Args {
		if a == s.User+"@127.0.0.1" {
			cmd.Args[i] = user + "@127.0.0.1"
			break
		}
	}
	return cmd
}

// SFTP returns an unstarted sftp client that logs in to s as user with
// s.KeyPath, like [Server.SSH], in batch mode reading its commands from
// stdin (`sftp -b -`): it stays connected and idle while its stdin stays
// open. sftp runs ssh as its child: ctx kills both (the process group).
func (s *Server) SFTP(ctx context.Context, user string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, toolPath("sftp"),
		"-F", "/dev/null",
		"-i", s.KeyPath,
		"-o", "IdentitiesOnly=yes",
		"-o", "StrictHostKeyChecking=no",
		"-o", "UserKnownHostsFile=/dev/null",
		"-o", "LogLevel=ERROR",
		"-P", strconv.Itoa(s.Port),
		"-b", "-",
		user+"@127.0.0.1")
	groupKill(cmd)
	return cmd
}

// PasswordPrompt returns an unstarted ssh client that logs in to s as
// user with a password only, and whose password prompt (SSH_ASKPASS, a
// script in s.Dir that sleeps) never answers: the connection stays
// before authentication (up to sshd's LoginGraceTime, 120 s by default),
// with the monitor titled `USER [priv]` and its `[net]` child
// (`sshd-auth: USER [net]` from 10.0 on). sshd must offer user password
// authentication: Options.Extra "Match User USER", "\tPasswordAuthentication
// yes". ctx kills the client and its prompt (the process group).
func (s *Server) PasswordPrompt(ctx context.Context, user string) (*exec.Cmd, error) {
	askpass := filepath.Join(s.Dir, "askpass")
	if err := os.WriteFile(askpass, []byte("#!/bin/sh\nexec sleep 3600\n"), 0o755); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, toolPath("ssh"),
		"-F", "/dev/null",
		"-o", "PubkeyAuthentication=no",
		"-o", "PreferredAuthentications=password",
		"-o", "NumberOfPasswordPrompts=1",
		"-o", "StrictHostKeyChecking=no",
		"-o", "UserKnownHostsFile=/dev/null",
		"-o", "LogLevel=ERROR",
		"-p", strconv.Itoa(s.Port),
		user+"@127.0.0.1", "true")
	cmd.Env = append(os.Environ(), "SSH_ASKPASS="+askpass, "SSH_ASKPASS_REQUIRE=force", "DISPLAY=sshdtest:0")
	groupKill(cmd)
	return cmd, nil
}

// groupKill makes cmd run in a session of its own, and its context kill
// the whole process group.
func groupKill(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
}

// Login is a started client whose stdin stays open until the end of the
// test or [Login.Close] (a shell, an sftp client, a remote cat would end
// at EOF).
type Login struct {
	Name    string
	Cmd     *exec.Cmd
	Stdin   io.WriteCloser
	Out     Buffer // stdout and stderr
	Started time.Time

	done  chan struct{}
	ended time.Time
}

// StartLogin starts cmd (from [Server.SSH], SSHAs, SFTP, PasswordPrompt)
// with its stdin open, and in t.Cleanup kills it and its process group.
func StartLogin(t testing.TB, name string, cmd *exec.Cmd) *Login {
	t.Helper()
	l := &Login{Name: name, Cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &l.Out, &l.Out
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	l.Stdin = stdin
	l.Started = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: starting %q: %v", name, cmd.Args, err)
	}
	go func() {
		_ = cmd.Wait() // the exit status is in cmd.ProcessState
		l.ended = time.Now()
		close(l.done)
	}()
	t.Cleanup(func() { l.Close() })
	return l
}

// Close closes the client's stdin, kills its process group and waits
// for it (bounded by the command's WaitDelay).
func (l *Login) Close() {
	l.Stdin.Close()
	if l.Cmd.SysProcAttr != nil && l.Cmd.SysProcAttr.Setsid {
		_ = syscall.Kill(-l.Cmd.Process.Pid, syscall.SIGKILL)
	}
	_ = l.Cmd.Process.Kill()
	select {
	case <-l.done:
	case <-time.After(stopTimeout):
	}
}

// Ended returns when the client exited and its exit status (-1 if killed
// by a signal); ok is false while it runs.
func (l *Login) Ended() (at time.Time, exit int, ok bool) {
	select {
	case <-l.done:
		return l.ended, l.Cmd.ProcessState.ExitCode(), true
	default:
		return time.Time{}, 0, false
	}
}

// WaitEnd waits at most timeout for the client to exit, and returns
// Ended's values.
func (l *Login) WaitEnd(timeout time.Duration) (at time.Time, exit int, ok bool) {
	select {
	case <-l.done:
	case <-time.After(timeout):
	}
	return l.Ended()
}

// WaitOutput waits at most timeout until the client's output matches re,
// and returns the submatches, or nil.
func (l *Login) WaitOutput(re *regexp.Regexp, timeout time.Duration) []string {
	deadline := time.Now().Add(timeout)
	for {
		if m := re.FindStringSubmatch(l.Out.String()); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}
