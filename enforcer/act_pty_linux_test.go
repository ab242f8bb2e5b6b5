package enforcer

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sshwarden/sshwarden/watcher"
)

// Environment of TestActPTYHelper.
const (
	ptyHelperDir   = "SSHWARDEN_TEST_PTY_DIR"
	ptyHelperIndex = "SSHWARDEN_TEST_PTY_INDEX"
)

// TestActPTYHelper is not a test: it is the stand-in monitor of
// TestWarnOwnDevpts, this test binary run in a mount namespace of its own
// with ptyHelperDir and ptyHelperIndex set, and does nothing otherwise.
// Like the sshd of a container, it mounts a devpts instance of its own
// (at DIR/dev/pts) and takes ptys from it until it holds the master of
// pty INDEX, and its slave; it prints "ready", then "got %q" for what it
// reads from that master: what was written to the slave. It exits at EOF
// on stdin, or after two minutes.
func TestActPTYHelper(t *testing.T) {
	dir, index := os.Getenv(ptyHelperDir), os.Getenv(ptyHelperIndex)
	if dir == "" {
		return
	}
	fail := func(format string, args ...any) {
		fmt.Printf("error: "+format+"\n", args...)
		os.Exit(1)
	}
	want, err := strconv.Atoi(index)
	if err != nil || want < 0 || want > 64 {
		fail("index %q", index)
	}
	pts := filepath.Join(dir, "dev", "pts")
	if err := os.MkdirAll(pts, 0o755); err != nil {
		fail("%v", err)
	}
	if err := unix.Mount("devpts", pts, "devpts", 0, "newinstance,ptmxmode=0666,mode=0620"); err != nil {
		fail("mounting a devpts instance on %s: %v", pts, err)
	}
	var master int
	for {
		m, err := unix.Open(filepath.Join(pts, "ptmx"), unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
		if err != nil {
			fail("opening %s/ptmx: %v", pts, err)
		}
		n, err := unix.IoctlGetUint32(m, unix.TIOCGPTN)
		if err != nil {
			fail("TIOCGPTN: %v", err)
		}
		if int(n) == want {
			master = m
			break
		}
		if int(n) > want {
			fail("the new devpts gave pty %d before %d", n, want)
		}
	}
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		fail("unlockpt: %v", err)
	}
	slave, err := unix.Open(filepath.Join(pts, index), unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		fail("opening the slave: %v", err)
	}
	defer unix.Close(slave)
	time.AfterFunc(2*time.Minute, func() { os.Exit(2) })
	go func() {
		_, _ = bufio.NewReader(os.Stdin).ReadString(0)
		os.Exit(0)
	}()
	fmt.Println("ready")
	buf := make([]byte, 4096)
	for {
		n, err := unix.Read(master, buf)
		if err != nil {
			fail("reading the master: %v", err)
		}
		fmt.Printf("got %q\n", buf[:n])
	}
}

// TestWarnOwnDevpts: the sshd of a container or chroot allocates its ptys
// from a devpts of its own, whose pts N is not the host's /dev/pts/N,
// though both are device 136:N. A warning to such a session must reach
// its own terminal, and never the host's terminal of the same number
// (here one the test holds; on a real host another user's).
func TestWarnOwnDevpts(t *testing.T) {
	if os.Geteuid() != 0 {
		actNeed(t, "root (to mount a devpts instance)", true)
	}
	_, err := exec.LookPath("unshare")
	actNeed(t, "unshare (util-linux)", err != nil)

	// The host's terminal: pty H of /dev/pts, whose master the test reads.
	host, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("opening /dev/ptmx: %v", err)
	}
	defer unix.Close(host)
	h, err := unix.IoctlGetUint32(host, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	if h > 64 {
		t.Skipf("the host's new pty is pts/%d: too many for the helper to reach", h)
	}
	if err := unix.IoctlSetPointerInt(host, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	var hostOut strings.Builder
	var mu sync.Mutex
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := unix.Read(host, buf)
			if err != nil {
				return
			}
			mu.Lock()
			hostOut.Write(buf[:n])
			mu.Unlock()
		}
	}()

	// The stand-in monitor, holding master H of a devpts of its own.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), "unshare", "--mount", "--propagation", "private", self, "-test.run=^TestActPTYHelper$")
	cmd.Env = append(os.Environ(), ptyHelperDir+"="+t.TempDir(), ptyHelperIndex+"="+strconv.Itoa(int(h)))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func(what string) string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the helper ended before %s", what)
			}
			if strings.HasPrefix(l, "error: ") {
				t.Fatalf("helper: %s", l)
			}
			return l
		case <-time.After(actWait):
			t.Fatalf("no %s from the helper within %v", what, actWait)
		}
		return ""
	}
	if l := next("ready"); l != "ready" {
		t.Fatalf("helper said %q, want ready", l)
	}

	p, err := hostFS().Process(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	tty := "pts/" + strconv.Itoa(int(h))
	sess := watcher.Session{PID: cmd.Process.Pid, Started: p.Started, Kind: watcher.KindPTY, TTY: tty, TTYs: []string{tty}}
	via, err := testActor().Warn(sess, "sshwarden-devpts-marker")
	if err != nil || !slices.Equal(via, []string{"/dev/" + tty}) {
		t.Errorf("Warn = %q, %v; want it on /dev/%s", via, err, tty)
	}
	// Wait for the warning on either terminal.
	own := false
	deadline := time.After(actWait)
	for !own {
		mu.Lock()
		onHost := strings.Contains(hostOut.String(), "sshwarden")
		mu.Unlock()
		if onHost {
			break
		}
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the helper ended")
			}
			own = strings.Contains(l, "sshwarden-devpts-marker")
		case <-time.After(actPoll):
		case <-deadline:
			t.Fatalf("the warning reached neither terminal within %v", actWait)
		}
	}
	time.Sleep(200 * time.Millisecond) // a write to the host's pts would show by now
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(hostOut.String(), "sshwarden") {
		t.Errorf("the warning went to the host's /dev/%s, another terminal: %q", tty, hostOut.String())
	}
	if !own {
		t.Errorf("the warning did not reach the session's own terminal, pts %d of its devpts", h)
	}
}
