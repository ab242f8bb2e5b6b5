package sshdtest

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
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
	// Root, when set, is a Debian root (see [DebianRoot]) whose own sshd
	// runs instead of the host's, chrooted into it in a private mount
	// namespace (see [Server.Root]).
	Root string
	// RootLogin lets root log in too, with the same client key
	// (PermitRootLogin prohibit-password, AllowUsers USER root). The key
	// is never put in root's ~/.ssh: on the host it is in a file of the
	// server's directory, named by a Match User root block at the end of
	// the config (with StrictModes no, since that directory lies under
	// /tmp); in a Root it is in the server's directory there.
	RootLogin bool
	// Binary, when set, is the sshd to run instead of /usr/sbin/sshd (on
	// the host, not with Root): an absolute path, for example a copy that
	// the test replaces under live sessions as an upgrade does, or an
	// upstream release `make openssh` built (internal/oracle's
	// FindRelease(name).SSHD()), releases before 9.2 included.
	Binary string
}

// Server is a running sshd. Its fields are set by Start and read-only.
type Server struct {
	Port        int    // TCP port on 127.0.0.1
	ConfigPath  string // the sshd_config sshd runs with
	User        string // the user the client key logs in as
	KeyPath     string // private client key; KeyPath+".pub" is installed
	HostKeyPath string // private host key of the generated config
	PID         int    // the listener, leader of its own process group
	Dir         string // the server's temporary directory (client key, sshd's log)

	// Root is Options.Root, "" for the host's sshd. With a Root, sshd is
	// ROOT/usr/sbin/sshd, run as `unshare --mount --propagation private`
	// then, in that namespace only, /proc, /dev and /dev/pts bind-mounted
	// into the root, /run/sshd made, and `chroot ROOT /usr/sbin/sshd -D
	// -e`. Its config, host key, pid file and authorized_keys files are in
	// ServerDir, a directory of its own under ROOT/run/sshdtest; ConfigPath
	// and HostKeyPath are their paths on the host, the config names them
	// as sshd sees them (without the ROOT prefix). The user exists in the
	// root with the host's uid, gid and home (see [Start]). The listener
	// keeps its pid through the execs: PID is sshd's.
	Root string
	// ServerDir holds the config, host key and pid file: Dir on the host,
	// ROOT/run/sshdtest/srv-* with a Root.
	ServerDir string
	// Release is what `sshd -V` prints before its first comma:
	// "OpenSSH_9.2" (Debian 12's), "OpenSSH_10.0p2 Debian-7+deb13u4"
	// (Debian 13's).
	Release string

	binary  string // the sshd run on the host: Options.Binary or SSHD
	logPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed when cmd has been waited for
	waitErr error         // cmd.Wait's error, valid after done

	mu      sync.Mutex
	adopted map[int]uint64 // pid -> start: the logins' processes when StopListener ended the listener
}

// Start starts an sshd for the test and stops it in t.Cleanup. It fails
// the test if sshd refuses the configuration or does not start in time.
// It skips the test if a component is missing, unless CI=true.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	requireReal(t, opts.Root)
	if opts.User == "" {
		opts.User = DefaultUser
	}
	dir := t.TempDir()
	s := &Server{
		User:      opts.User,
		Dir:       dir,
		ServerDir: dir,
		Root:      opts.Root,
		binary:    cmp.Or(opts.Binary, SSHD),
		KeyPath:   filepath.Join(dir, "id_ed25519"),
		logPath:   filepath.Join(dir, "sshd.log"),
	}
	// sshd, even sshd -t, exits 255 without its privilege separation
	// directory.
	if err := os.MkdirAll(s.host("/run/sshd"), 0o755); err != nil {
		t.Fatalf("sshdtest: %v", err)
	}
	if err := ensureUser(s.User); err != nil {
		t.Fatalf("sshdtest: %v", err)
	}
	if s.Root != "" {
		if err := ensureRootUser(s.Root, s.User); err != nil {
			t.Fatalf("sshdtest: %v", err)
		}
		srv, err := serverDir(s.Root)
		if err != nil {
			t.Fatalf("sshdtest: %v", err)
		}
		t.Cleanup(func() {
			if err := os.RemoveAll(srv); err != nil {
				t.Errorf("sshdtest: %v", err)
			}
		})
		s.ServerDir = srv
	}
	s.ConfigPath = filepath.Join(s.ServerDir, "sshd_config")
	s.HostKeyPath = filepath.Join(s.ServerDir, "ssh_host_ed25519_key")
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
	if s.Root != "" {
		// Keys of the server's own, for sshd's AuthorizedKeysFile
		// .../authorized_keys/%u: root-owned files in root-owned
		// directories satisfy StrictModes for every user.
		users := []string{s.User}
		if opts.RootLogin {
			users = append(users, "root")
		}
		if err := writeKeys(filepath.Join(s.ServerDir, "authorized_keys"), users, line); err != nil {
			t.Fatalf("sshdtest: %v", err)
		}
	} else {
		if err := authorize(s.User, line); err != nil {
			t.Fatalf("sshdtest: %v", err)
		}
		t.Cleanup(func() {
			if err := unauthorize(s.User, line); err != nil {
				t.Errorf("sshdtest: %v", err)
			}
		})
		if opts.RootLogin {
			if err := os.WriteFile(filepath.Join(s.ServerDir, "root_authorized_keys"), []byte(line+"\n"), 0o600); err != nil {
				t.Fatalf("sshdtest: %v", err)
			}
		}
	}
	if s.Release, err = s.release(); err != nil {
		t.Fatalf("sshdtest: %v", err)
	}

	config := opts.Config
	if config == "" {
		config = s.defaultConfig(opts.Extra, opts.RootLogin)
	}
	if err := os.WriteFile(s.ConfigPath, []byte(config), 0o600); err != nil {
		t.Fatalf("sshdtest: %v", err)
	}
	if out, err := s.runSSHD("-t", "-f", s.inside(s.ConfigPath)); err != nil {
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

// host returns the host's path of path as sshd sees it: inside the Root
// if there is one.
func (s *Server) host(path string) string {
	if s.Root == "" {
		return path
	}
	return filepath.Join(s.Root, path)
}

// inside returns path, a path on the host, as sshd sees it: without the
// Root prefix.
func (s *Server) inside(path string) string {
	if s.Root == "" {
		return path
	}
	rel, err := filepath.Rel(s.Root, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return path // not in the root: the config check reports it
	}
	return "/" + rel
}

// sshdCommand returns the argv that runs sshd with args: the host's
// /usr/sbin/sshd, or the Root's through chroot (sshd -t, -T and -V need
// no mounts).
func (s *Server) sshdCommand(args ...string) []string {
	if s.Root == "" {
		return append([]string{s.binary}, args...)
	}
	return append([]string{toolPath("chroot"), s.Root, SSHD}, args...)
}

func (s *Server) runSSHD(args ...string) (string, error) {
	argv := s.sshdCommand(args...)
	return runTool(argv[0], argv[1:]...)
}

// Effective runs `sshd -T -C spec` on the server's configuration with the
// server's own sshd, and returns what it printed: the values sshd says a
// connection of spec gets ("user=U,host=H,addr=A,laddr=L,lport=P").
func (s *Server) Effective(spec string) (string, error) {
	return s.runSSHD("-T", "-f", s.inside(s.ConfigPath), "-p", strconv.Itoa(s.Port), "-C", spec)
}

// release runs sshd -V: "OpenSSH_10.0p2 Debian-7+deb13u4, OpenSSL 3.5.9
// 29 Sep 2026" on stderr, exit 0 (from 9.2 on; older releases print
// "unknown option -- V", then a usage text whose first line is the
// version, exit 1).
func (s *Server) release() (string, error) {
	out, err := s.runSSHD("-V")
	for l := range strings.Lines(out) {
		if rel, _, _ := strings.Cut(strings.TrimSpace(l), ", "); strings.HasPrefix(rel, "OpenSSH_") {
			return rel, nil
		}
	}
	return "", fmt.Errorf("sshd -V printed %q (%v), not a release", out, err)
}

// ReleaseAtLeast reports whether s runs OpenSSH major.minor or later.
func (s *Server) ReleaseAtLeast(major, minor int) bool {
	v := strings.TrimPrefix(s.Release, "OpenSSH_")
	a, b, _ := strings.Cut(v, ".")
	if i := strings.IndexFunc(b, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		b = b[:i] // "2p1 Debian-2"
	}
	ma, err1 := strconv.Atoi(a)
	mi, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}

func (s *Server) defaultConfig(extra []string, rootLogin bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# written by sshdtest\n")
	fmt.Fprintf(&b, "ListenAddress 127.0.0.1\n")
	fmt.Fprintf(&b, "HostKey %s\n", s.inside(s.HostKeyPath))
	fmt.Fprintf(&b, "PidFile %s\n", s.inside(filepath.Join(s.ServerDir, "sshd.pid")))
	fmt.Fprintf(&b, "UsePAM yes\n")
	fmt.Fprintf(&b, "PasswordAuthentication no\n")
	fmt.Fprintf(&b, "KbdInteractiveAuthentication no\n")
	if rootLogin {
		fmt.Fprintf(&b, "AllowUsers %s root\n", s.User)
		fmt.Fprintf(&b, "PermitRootLogin prohibit-password\n")
	} else {
		fmt.Fprintf(&b, "AllowUsers %s\n", s.User)
	}
	if s.Root != "" {
		fmt.Fprintf(&b, "AuthorizedKeysFile %s/%%u\n", s.inside(filepath.Join(s.ServerDir, "authorized_keys")))
	} else if rootLogin {
		fmt.Fprintf(&b, "StrictModes no\n")
	}
	fmt.Fprintf(&b, "LogLevel VERBOSE\n")
	// The default, 10:30:100, drops at random a new connection while 10
	// others have not authenticated yet: tests that start a dozen
	// clients at once on a loaded machine lost one (a 10.6 run here:
	// "drop connection #10 ... MaxStartups").
	fmt.Fprintf(&b, "MaxStartups 100\n")
	if s.ReleaseAtLeast(9, 8) {
		// From 9.8 on, sshd refuses for a while a source address whose
		// connections end without authenticating (Start's own probe, a
		// test's pre-auth client, a login a test kills): tests connect
		// from 127.0.0.1 only.
		fmt.Fprintf(&b, "PerSourcePenalties no\n")
	}
	for _, l := range extra {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	if s.Root == "" && rootLogin {
		fmt.Fprintf(&b, "Match User root\n\tAuthorizedKeysFile %s\n", filepath.Join(s.ServerDir, "root_authorized_keys"))
	}
	return b.String()
}

// checkSafe asks sshd -T where this configuration would listen and write
// its pid, and refuses anything but 127.0.0.1:Port and a pid file of its
// own (in a Root, /run/sshd.pid would be the root's, but a pid file of
// its own is asked all the same).
func (s *Server) checkSafe() error {
	spec := fmt.Sprintf("user=%s,host=localhost,addr=127.0.0.1,laddr=127.0.0.1,lport=%d", s.User, s.Port)
	out, err := s.runSSHD("-T", "-f", s.inside(s.ConfigPath), "-p", strconv.Itoa(s.Port), "-C", spec)
	if err != nil {
		return fmt.Errorf("sshd -T -C %s refused %s: %v\n%s", spec, s.ConfigPath, err, out)
	}
	want := fmt.Sprintf("127.0.0.1:%d", s.Port)
	listens := 0
	for l := range strings.Lines(out) {
		k, v, _ := strings.Cut(strings.TrimSpace(l), " ")
		switch strings.ToLower(k) { // mixed case from 10.5 on
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

// rootScript runs a Root's sshd: in the private mount namespace unshare
// made (nothing it mounts reaches the host's, and it all goes with the
// namespace's last process), /proc (pam_loginuid writes
// /proc/self/loginuid), /dev and /dev/pts (the host's ptys, so that the
// host sees the sessions' terminals as /dev/pts/N) are bind-mounted into
// the root; then sshd runs chrooted, with the pid unshare started with.
const rootScript = `set -e
PATH=/usr/sbin:/usr/bin:/sbin:/bin
root=$1 config=$2 port=$3
mount --bind /proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
mkdir -p "$root/run/sshd"
exec chroot "$root" /usr/sbin/sshd -D -e -f "$config" -p "$port"
`

// start runs the listener on s.Port and waits until it listens there.
func (s *Server) start() error {
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	var cmd *exec.Cmd
	if s.Root == "" {
		cmd = exec.Command(s.binary, "-D", "-e", "-f", s.ConfigPath, "-p", strconv.Itoa(s.Port))
	} else {
		cmd = exec.Command(toolPath("unshare"), "--mount", "--propagation", "private", "--",
			"/bin/sh", "-c", rootScript, "sshdtest", s.Root, s.inside(s.ConfigPath), strconv.Itoa(s.Port))
	}
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

// StopListener ends the listener alone, as `systemctl restart ssh` does
// (KillMode=process): SIGTERM to its pid, not to its process group, and
// waits until it has exited. The logins it served keep running, their
// monitors reparented to PID 1 or to a subreaper; their processes, taken
// while the listener was stopped (SIGSTOP, so that it forks no new one
// meanwhile), still count as s's: [Server.Processes] lists them and
// t.Cleanup kills them.
func (s *Server) StopListener() error {
	if !s.listenerAlive() {
		return fmt.Errorf("sshd listener %d is not running", s.PID)
	}
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		return fmt.Errorf("stopping sshd listener %d: %w", s.PID, err)
	}
	procs := s.Processes()
	s.mu.Lock()
	if s.adopted == nil {
		s.adopted = map[int]uint64{}
	}
	for _, p := range procs {
		s.adopted[p.PID] = p.Start
	}
	s.mu.Unlock()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	_ = s.cmd.Process.Signal(syscall.SIGCONT)
	select {
	case <-s.done:
		return nil
	case <-time.After(stopTimeout):
		return fmt.Errorf("sshd listener %d still running %v after SIGTERM", s.PID, stopTimeout)
	}
}

// listenerAlive reports whether the listener has not been waited for yet
// (so its pid is still its own).
func (s *Server) listenerAlive() bool {
	select {
	case <-s.done:
		return false
	default:
		return s.cmd != nil
	}
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
	listener := unsetSession
	if s.listenerAlive() {
		listener = sessionID(s.PID)
	}
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
// real sshd needs is missing here: the host's, or root's (a Debian root).
func requireReal(t testing.TB, root string) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	tools := []string{"ssh", "ssh-keygen", "useradd", "usermod"}
	if root == "" {
		if _, err := os.Stat(SSHD); err != nil {
			missing = append(missing, SSHD+" (apt-get install openssh-server)")
		}
	} else {
		if _, err := os.Stat(filepath.Join(root, SSHD)); err != nil {
			missing = append(missing, filepath.Join(root, SSHD)+" (a Debian root: see DebianRoot)")
		}
		tools = append(tools, "unshare", "chroot", "mount")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(toolPath(tool)); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	Missing(t, "sshdtest: a real sshd needs "+strings.Join(missing, ", "))
}

// Missing is for a test that lacks a real component (a binary, root, a
// kernel feature), said by msg ("this test needs ..."): it skips the
// test, or with CI=true fails it, since in CI a test never skips.
func Missing(t testing.TB, msg string) {
	t.Helper()
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
