package sshdtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Paths and defaults.
const (
	// SSHD is where Debian installs sshd; Start runs no other.
	SSHD = "/usr/sbin/sshd"
	// DefaultUser is the test user when Options.User is empty.
	DefaultUser = "sshtest"
)

// Bounds on every wait.
const (
	startTimeout = 10 * time.Second // until the listener accepts
	stopGrace    = 3 * time.Second  // SIGTERM to SIGKILL
	stopTimeout  = 5 * time.Second  // after SIGKILL
	toolTimeout  = 10 * time.Second // ssh-keygen, useradd, sshd -t
	portAttempts = 3                // a picked port may be taken before sshd binds it
)

// Options configure a Server. The zero value is a working server.
type Options struct {
	// User is the login user, created when missing; default DefaultUser.
	User string
	// Extra lines are appended to the generated sshd_config, after the
	// defaults (which come first and so win for global keywords; Match
	// blocks go here).
	Extra []string
	// Config, when not empty, is the whole sshd_config instead of the
	// generated one, written verbatim: it must name its own HostKey and
	// PidFile. Start still refuses it if sshd would listen on anything
	// but 127.0.0.1 on the picked port, or write /run/sshd.pid.
	Config string
}

// Server is a running sshd. Its fields are set by Start and read-only.
type Server struct {
	Port        int    // TCP port on 127.0.0.1
	ConfigPath  string // the sshd_config sshd runs with
	User        string // the user the client key logs in as
	KeyPath     string // private client key; KeyPath+".pub" is installed
	HostKeyPath string // private host key of the generated config
	PID         int    // the listener, leader of its own process group
	Dir         string // the server's temporary directory

	logPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed when cmd has been waited for
	waitErr error         // cmd.Wait's error, valid after done
}

// Start starts an sshd for the test and stops it in t.Cleanup. It fails
// the test if sshd refuses the configuration or does not start in time.
// It skips the test if a component is missing, unless CI=true.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	requireReal(t)
	if opts.User == "" {
		opts.User = DefaultUser
	}
	dir := t.TempDir()
	s := &Server{
		User:        opts.User,
		Dir:         dir,
		ConfigPath:  filepath.Join(dir, "sshd_config"),
		KeyPath:     filepath.Join(dir, "id_ed25519"),
		HostKeyPath: filepath.Join(dir, "ssh_host_ed25519_key"),
		logPath:     filepath.Join(dir, "sshd.log"),
	}
	// sshd, even sshd -t, exits 255 without its privilege separation
	// directory.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatalf("sshdtest: %v", err)
	}
	if err := ensureUser(s.User); err != nil {
		t.Fatalf("sshdtest: %v", err)
	}
	for _, key := range []string{s.KeyPath, s.HostKeyPath} {
		if err := keygen(key); err != nil {
			t.Fatalf("sshdtest: %v", err)
		}
	}
	pub, err := os.ReadFile(s.KeyPath + ".pub")
	if err != nil {
		t.Fatalf("sshdtest: %v", err)
	}
	line := strings.TrimSpace(string(pub))
	if err := authorize(s.User, line); err != nil {
		t.Fatalf("sshdtest: %v", err)
	}
	t.Cleanup(func() {
		if err := unauthorize(s.User, line); err != nil {
			t.Errorf("sshdtest: %v", err)
		}
	})

	config := opts.Config
	if config == "" {
		config = s.defaultConfig(opts.Extra)
	}
	if err := os.WriteFile(s.ConfigPath, []byte(config), 0o600); err != nil {
		t.Fatalf("sshdtest: %v", err)
	}
	if out, err := runTool(SSHD, "-t", "-f", s.ConfigPath); err != nil {
		t.Fatalf("sshdtest: sshd -t refused %s: %v\n%s\nconfig:\n%s", s.ConfigPath, err, out, config)
	}

	var lastErr error
	for range portAttempts {
		s.Port, err = freePort()
		if err != nil {
			t.Fatalf("sshdtest: %v", err)
		}
		if err := s.checkSafe(); err != nil {
			t.Fatalf("sshdtest: %v\nconfig:\n%s", err, config)
		}
		lastErr = s.start()
		if lastErr == nil {
			break
		}
		if !errors.Is(lastErr, errPortTaken) {
			break
		}
	}
	if lastErr != nil {
		t.Fatalf("sshdtest: %v\nsshd log:\n%s", lastErr, s.Log())
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("sshdtest: %v", err)
		}
		if t.Failed() {
			t.Logf("sshd log (%s):\n%s", s.logPath, s.Log())
		}
	})
	return s
}

func (s *Server) defaultConfig(extra []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# written by sshdtest\n")
	fmt.Fprintf(&b, "ListenAddress 127.0.0.1\n")
	fmt.Fprintf(&b, "HostKey %s\n", s.HostKeyPath)
	fmt.Fprintf(&b, "PidFile %s\n", filepath.Join(s.Dir, "sshd.pid"))
	fmt.Fprintf(&b, "UsePAM yes\n")
	fmt.Fprintf(&b, "PasswordAuthentication no\n")
	fmt.Fprintf(&b, "KbdInteractiveAuthentication no\n")
	fmt.Fprintf(&b, "AllowUsers %s\n", s.User)
	fmt.Fprintf(&b, "LogLevel VERBOSE\n")
	for _, l := range extra {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// checkSafe asks sshd -T where this configuration would listen and write
// its pid, and refuses anything but 127.0.0.1:Port and a pid file of its
// own.
func (s *Server) checkSafe() error {
	spec := fmt.Sprintf("user=%s,host=localhost,addr=127.0.0.1,laddr=127.0.0.1,lport=%d", s.User, s.Port)
	out, err := runTool(SSHD, "-T", "-f", s.ConfigPath, "-p", strconv.Itoa(s.Port), "-C", spec)
	if err != nil {
		return fmt.Errorf("sshd -T -C %s refused %s: %v\n%s", spec, s.ConfigPath, err, out)
	}
	want := fmt.Sprintf("127.0.0.1:%d", s.Port)
	listens := 0
	for l := range strings.Lines(out) {
		k, v, _ := strings.Cut(strings.TrimSpace(l), " ")
		switch k {
		case "listenaddress":
			if v != want {
				return fmt.Errorf("refusing to start: %s would listen on %s, not only on %s", s.ConfigPath, v, want)
			}
			listens++
		case "pidfile":
			if p := filepath.Clean(v); p == "/run/sshd.pid" || p == "/var/run/sshd.pid" {
				return fmt.Errorf("refusing to start: %s would overwrite the host sshd's %s", s.ConfigPath, v)
			}
		}
	}
	if listens == 0 {
		return fmt.Errorf("sshd -T printed no listenaddress for %s", s.ConfigPath)
	}
	return nil
}

var errPortTaken = errors.New("port taken")

// start runs the listener on s.Port and waits until it listens there.
func (s *Server) start() error {
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(SSHD, "-D", "-e", "-f", s.ConfigPath, "-p", strconv.Itoa(s.Port))
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting sshd: %w", err)
	}
	s.cmd = cmd
	s.PID = cmd.Process.Pid
	s.done = make(chan struct{})
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-s.done:
			if strings.Contains(s.Log(), "Address already in use") {
				return fmt.Errorf("sshd on port %d: %w", s.Port, errPortTaken)
			}
			return fmt.Errorf("sshd exited before listening on port %d: %v", s.Port, s.waitErr)
		default:
		}
		if listensOn(s.PID, s.Port) {
			c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)), time.Second)
			if err == nil {
				c.Close()
				return nil
			}
		}
		if time.Now().After(deadline) {
			err := fmt.Errorf("sshd did not listen on 127.0.0.1:%d within %v", s.Port, startTimeout)
			if serr := s.stop(); serr != nil {
				err = fmt.Errorf("%w; %w", err, serr)
			}
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop kills the processes of the logins the listener served, then the
// listener: SIGTERM to its process group, SIGKILL after stopGrace.
func (s *Server) stop() error {
	if s.cmd == nil {
		return nil
	}
	var errs []error
	if err := s.killSessions(); err != nil {
		errs = append(errs, err)
	}
	select {
	case <-s.done:
	default:
		_ = syscall.Kill(-s.PID, syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(stopGrace):
			_ = syscall.Kill(-s.PID, syscall.SIGKILL)
			select {
			case <-s.done:
			case <-time.After(stopTimeout):
				errs = append(errs, fmt.Errorf("sshd listener %d still running %v after SIGKILL", s.PID, stopTimeout))
			}
		}
	}
	return errors.Join(errs...)
}

// killSessions SIGKILLs every process below the listener and every
// process of a login it served, until none is left (bounded). A login's
// processes that left the tree (a command orphaned when its channel closed,
// a background job) are found by the audit session id of the logins still
// open, and by the SSH_CONNECTION in their environment, which ends with
// "127.0.0.1 PORT": only this listener's logins have it, as long as the
// listener owns the port. A process that clears its environment and
// outlives its login escapes.
func (s *Server) killSessions() error {
	self := sessionID(os.Getpid())
	listener := sessionID(s.PID)
	logins := map[string]bool{}
	conn := fmt.Sprintf(" 127.0.0.1 %d", s.Port)
	deadline := time.Now().Add(stopTimeout)
	for {
		var victims []int
		for _, p := range s.Processes() {
			if p.State != 'Z' {
				victims = append(victims, p.PID)
			}
			if id := sessionID(p.PID); id != "" && id != unsetSession && id != self && id != listener {
				logins[id] = true
			}
		}
		for _, pid := range allPIDs() {
			if pid == s.PID || pid == os.Getpid() || !Alive(pid) {
				continue
			}
			id := sessionID(pid)
			if logins[id] || connectedTo(pid, conn) {
				victims = append(victims, pid)
			}
		}
		if len(victims) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes of sshd %d still running after %v: %v", s.PID, stopTimeout, victims)
		}
		for _, pid := range victims {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Log returns what sshd has written to its stderr so far.
func (s *Server) Log() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", s.logPath, err)
	}
	return string(b)
}

// Addr returns "127.0.0.1:Port".
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// freePort returns a port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("picking a port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func keygen(path string) error {
	out, err := runTool(toolPath("ssh-keygen"), "-q", "-t", "ed25519", "-N", "", "-C", "sshdtest", "-f", path)
	if err != nil {
		return fmt.Errorf("ssh-keygen %s: %v: %s", path, err, out)
	}
	return nil
}

// runTool runs a short command with a time bound and returns its combined
// output.
func runTool(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w after %v", ctx.Err(), toolTimeout)
	}
	return out.String(), err
}

// requireReal skips or, with CI=true, fails the test when something a
// real sshd needs is missing here.
func requireReal(t testing.TB) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	if _, err := os.Stat(SSHD); err != nil {
		missing = append(missing, SSHD+" (apt-get install openssh-server)")
	}
	for _, tool := range []string{"ssh", "ssh-keygen", "useradd", "usermod"} {
		if _, err := exec.LookPath(toolPath(tool)); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "sshdtest: a real sshd needs " + strings.Join(missing, ", ")
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s; a test that lacks a real component fails in CI, it never skips", msg)
	}
	t.Skip(msg)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := freePort()
	if err != nil {
		t.Fatalf("sshdtest: %v", err)
	}
	return p
}
