package enforcer

// The warning of a session without a tty goes to the stderr pipe of its
// command, a process the session's user owns and can change at any
// moment: these tests race such a user against the agent.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
	"github.com/sshwarden/sshwarden/watcher"
)

// swapTargetEnv names the file that TestActSwapHelper puts on its fd 2.
const swapTargetEnv = "SSHWARDEN_TEST_SWAP_TARGET"

// TestActSwapHelper is not a test: it is the session command of
// TestWarnPipeSwap, this test binary run as the session's user with
// swapTargetEnv set, and does nothing otherwise. It opens the file named
// there with O_PATH (which needs no permission on the file), prints
// "ready", and on "swap" on stdin swaps its fd 2 back and forth between
// sshd's stderr pipe and that descriptor, as fast as it can, until "stop"
// (it prints "swapping" and "stopped"). It leaves the pipe on fd 2 and
// exits at EOF, or after two minutes.
func TestActSwapHelper(t *testing.T) {
	target := os.Getenv(swapTargetEnv)
	if target == "" {
		return
	}
	fail := func(format string, args ...any) {
		fmt.Printf("error: "+format+"\n", args...)
		os.Exit(1)
	}
	opath, err := unix.Open(target, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		fail("O_PATH open of %s: %v", target, err)
	}
	if fd, err := unix.Open(target, unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
		unix.Close(fd)
		fail("%s opens for reading: it must be a file the session's user may not open", target)
	}
	pipe, err := unix.FcntlInt(2, unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		fail("dup of fd 2: %v", err)
	}
	time.AfterFunc(2*time.Minute, func() { os.Exit(2) })
	var stop atomic.Bool
	done := make(chan struct{})
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "swap":
			stop.Store(false)
			done = make(chan struct{})
			go func() {
				defer close(done)
				for !stop.Load() {
					_ = unix.Dup3(opath, 2, 0)
					_ = unix.Dup3(pipe, 2, 0)
				}
			}()
			fmt.Println("swapping")
		case "stop":
			stop.Store(true)
			<-done
			fmt.Println("stopped")
		}
	}
	stop.Store(true)
	os.Exit(0)
}

// TestWarnPipeSwap: a session's user swaps the fd 2 of their command, a
// pipe to sshd when the scan saw it, for an O_PATH descriptor of a file
// that only root may open, again and again while the agent warns the
// session. The agent must never open that file (inotify would see it);
// it may warn the pipe, or refuse. Without the swaps, the warning
// reaches the client's stderr.
//
// An agent that checks /proc/PID/fd/2 and then opens it by that path
// opens the file, as root, in about a quarter of the attempts.
func TestWarnPipeSwap(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{})

	// The helper (this test binary) and the target, in a folder the
	// test user may search: the target is root's, mode 0600.
	dir, err := os.MkdirTemp("", "sshwarden-swap-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	helper := filepath.Join(dir, "helper")
	if err := copyFile(self, helper, 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "root-only")
	if err := os.WriteFile(target, []byte("root's\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	cmd := fmt.Sprintf("%s=%s exec %s -test.run='^TestActSwapHelper$'", swapTargetEnv, target, helper)
	c := actStart(t, "swap", s.SSH(t.Context(), cmd))
	actWaitFor(t, "the helper to start", func() (bool, string) {
		return strings.Contains(c.stdout.String(), "ready\n"), fmt.Sprintf("stdout %q, stderr %q", c.stdout.String(), c.stderr.String())
	})
	sess := actFind(t, s, "the helper's session", func(x watcher.Session) bool {
		return x.Kind == watcher.KindNoTTY && strings.Contains(x.Command, "TestActSwapHelper") && len(x.Procs) == 1
	})
	helperPID := sess.Procs[0]

	// From here on, any open of the target is the agent's.
	in, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		t.Fatalf("inotify_init1: %v", err)
	}
	defer unix.Close(in)
	if _, err := unix.InotifyAddWatch(in, target, unix.IN_OPEN|unix.IN_ACCESS|unix.IN_MODIFY|unix.IN_CLOSE_WRITE|unix.IN_CLOSE_NOWRITE); err != nil {
		t.Fatalf("inotify_add_watch %s: %v", target, err)
	}
	opened := func() string {
		var buf [4096]byte
		n, err := unix.Read(in, buf[:])
		if err == unix.EAGAIN || n <= 0 {
			return ""
		}
		var events []string
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			mask := uint32(buf[off+4]) | uint32(buf[off+5])<<8 | uint32(buf[off+6])<<16 | uint32(buf[off+7])<<24
			events = append(events, fmt.Sprintf("%#x", mask))
			l := int(buf[off+12]) | int(buf[off+13])<<8 | int(buf[off+14])<<16 | int(buf[off+15])<<24
			off += unix.SizeofInotifyEvent + l
		}
		return strings.Join(events, " ")
	}

	a := testActor()
	if _, err := io.WriteString(c.stdin, "swap\n"); err != nil {
		t.Fatal(err)
	}
	actWaitFor(t, "the helper to swap", func() (bool, string) {
		return strings.Contains(c.stdout.String(), "swapping\n"), fmt.Sprintf("stdout %q", c.stdout.String())
	})
	const attempts = 1000
	var warned, refused, changed, other int
	deadline := time.Now().Add(30 * time.Second)
	for i := range attempts {
		via, err := a.Warn(sess, "sshwarden-swap-marker")
		switch {
		case err == nil && len(via) == 1:
			warned++
		case errors.Is(err, ErrCannotWarn):
			refused++ // the scan of the fd saw the target
		case err != nil && strings.Contains(err.Error(), "changed"):
			changed++ // the fd was swapped after its link was read
		default:
			other++
			if other <= 5 {
				t.Logf("attempt %d: Warn = %q, %v", i, via, err)
			}
		}
		if ev := opened(); ev != "" {
			t.Fatalf("attempt %d: the agent opened %s, which the session's user had put on fd 2 of pid %d (inotify events %s); Warn = %q, %v", i, target, helperPID, ev, via, err)
		}
		if errors.Is(err, ErrSessionGone) {
			t.Fatalf("attempt %d: %v", i, err)
		}
		if time.Now().After(deadline) {
			t.Logf("stopped after %d attempts (30 s)", i+1)
			break
		}
	}
	t.Logf("while the user swapped fd 2: warned %d, refused %d (not a pipe at the scan), failed %d (swapped after the scan), other %d", warned, refused, changed, other)
	if changed == 0 {
		t.Errorf("no attempt met a descriptor swapped after the scan of the fd links: the test proved nothing")
	}
	if other > 0 {
		t.Errorf("%d attempts failed otherwise", other)
	}

	// Without swaps: the warning reaches the client, on stderr only.
	if _, err := io.WriteString(c.stdin, "stop\n"); err != nil {
		t.Fatal(err)
	}
	actWaitFor(t, "the helper to stop swapping", func() (bool, string) {
		return strings.Contains(c.stdout.String(), "stopped\n"), fmt.Sprintf("stdout %q", c.stdout.String())
	})
	via, err := a.Warn(sess, "sshwarden: the last warning")
	if want := []string{"stderr of pid " + strconv.Itoa(helperPID)}; err != nil || !slices.Equal(via, want) {
		t.Fatalf("Warn without swaps = %q, %v; want %q", via, err, want)
	}
	actWaitFor(t, "the warning on the client's stderr", func() (bool, string) {
		return strings.Contains(c.stderr.String(), "\nsshwarden: the last warning\n"), fmt.Sprintf("stderr %q", c.stderr.String())
	})
	if strings.Contains(c.stdout.String(), "sshwarden") {
		t.Errorf("client stdout %q carries a warning", c.stdout.String())
	}
	if ev := opened(); ev != "" {
		t.Errorf("the agent opened %s (inotify events %s)", target, ev)
	}
}

// copyFile copies the regular file src to a new file dst of mode perm.
func copyFile(src, dst string, perm os.FileMode) error {
	r, err := os.Open(src)
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Close()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return os.Chmod(dst, perm)
}

// TestWriteNoWait writes to a blocking pipe both ways, RWF_NOWAIT and the
// reopened description of kernels before 6.4: the bytes arrive, the
// pipe's own description stays blocking, and a full pipe or one without
// a reader fails at once instead of blocking.
func TestWriteNoWait(t *testing.T) {
	t.Parallel()
	for _, nowait := range []bool{true, false} {
		t.Run(fmt.Sprintf("nowait=%v", nowait), func(t *testing.T) {
			t.Parallel()
			var p [2]int
			if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
				t.Fatal(err)
			}
			defer unix.Close(p[0])
			defer unix.Close(p[1])
			msg := []byte("\nsshwarden: idle\n")
			if err := writeNoWaitUsing("/proc", p[1], msg, "the pipe", nowait); err != nil {
				t.Fatalf("writeNoWaitUsing: %v", err)
			}
			buf := make([]byte, 100)
			if n, err := unix.Read(p[0], buf); err != nil || string(buf[:n]) != string(msg) {
				t.Errorf("read %q, %v; want %q", buf[:n], err, msg)
			}
			if fl, err := unix.FcntlInt(uintptr(p[1]), unix.F_GETFL, 0); err != nil || fl&unix.O_NONBLOCK != 0 {
				t.Errorf("the pipe's flags are %#o, %v: the write changed its description", fl, err)
			}

			// Full: fill it through a non-blocking description of our own.
			w, err := unix.Open("/proc/self/fd/"+strconv.Itoa(p[1]), unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(w)
			chunk := make([]byte, 4096)
			for {
				if _, err := unix.Write(w, chunk); err == unix.EAGAIN {
					break
				} else if err != nil {
					t.Fatal(err)
				}
			}
			start := time.Now()
			err = writeNoWaitUsing("/proc", p[1], msg, "the pipe", nowait)
			if !errors.Is(err, unix.EAGAIN) || time.Since(start) > time.Second {
				t.Errorf("writeNoWaitUsing on a full pipe = %v after %v, want EAGAIN at once", err, time.Since(start))
			}

			// No reader: an error (EPIPE, or ENXIO from the open).
			unix.Close(p[0])
			p[0] = -1
			err = writeNoWaitUsing("/proc", p[1], msg, "the pipe", nowait)
			if !errors.Is(err, unix.EPIPE) && !errors.Is(err, unix.ENXIO) {
				t.Errorf("writeNoWaitUsing without a reader = %v, want EPIPE or ENXIO", err)
			}
		})
	}
}

// TestCheckPipe: only the write end of the very pipe passes.
func TestCheckPipe(t *testing.T) {
	t.Parallel()
	var p, q [2]int
	for _, x := range []*[2]int{&p, &q} {
		if err := unix.Pipe2(x[:], unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		defer unix.Close(x[0])
		defer unix.Close(x[1])
	}
	ino := func(fd int) uint64 {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			t.Fatal(err)
		}
		return st.Ino
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// A FIFO opened read-write does not wait for a peer.
	named, err := unix.Open(fifo, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(named)
	file, err := unix.Open(filepath.Join(t.TempDir()), unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(file)
	cases := []struct {
		name string
		fd   int
		ino  uint64
		ok   bool
	}{
		{"the write end", p[1], ino(p[1]), true},
		{"the read end", p[0], ino(p[0]), false},
		{"another pipe", q[1], ino(p[1]), false},
		{"a named FIFO (another file system)", named, ino(named), false},
		{"a folder", file, ino(file), false},
	}
	for _, tc := range cases {
		err := checkPipe(tc.fd, tc.ino, "fd")
		if (err == nil) != tc.ok {
			t.Errorf("%s: checkPipe = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}
