package enforcer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/sshwarden/sshwarden/watcher"
)

// Actor carries out warnings and closes on live sessions. The zero value
// acts on the host: /proc, /dev, a grace of 5 s.
//
// An Actor acts only on processes it has verified, and only through
// pidfds: it opens a pidfd first, then checks in /proc that the process
// behind the pid is the scanned one (its start time equals
// [watcher.Session.Started]), then checks that the pidfd's process has
// not exited, which proves that the pid was not reused in between. It
// never follows a process title. See ../shared/OPENSSH.md, "Closing a
// session" and "Warnings", for what sshd does with the signals and writes.
//
// Proc must show the Actor's own pid namespace (its "self" link names the
// caller's pid), since pidfds name processes in that namespace: Warn and
// Close refuse a tree that does not, such as a fixture.
//
// An Actor holds no state: several goroutines may use one at once.
type Actor struct {
	Proc string // procfs root, "/proc" by default
	// FS, when set, is the proc file system to read processes through
	// instead of Proc: the scanner's ([watcher.Scanner.FS]), so that a
	// process's start time compares equal to the scanned one.
	FS    *watcher.FS
	Dev   string        // names the terminals in what Warn returns (Dev/pts/N), "/dev" by default; no path under it is opened
	Grace time.Duration // how long to wait for a signalled process to exit before escalating; 5 s by default
}

// DefaultGrace is the Grace of the zero [Actor].
const DefaultGrace = 5 * time.Second

var (
	// ErrCannotWarn is returned, wrapped with the reason, by [Actor.Warn]
	// for a session that has nothing a warning can be written to: ssh -N,
	// an sftp server, a command whose stderr is not a pipe to sshd.
	ErrCannotWarn = errors.New("the session cannot be warned")
	// ErrSessionGone is returned, wrapped, by [Actor.Warn] and
	// [Actor.Close] when the process at the session's PID is not the
	// scanned monitor any more: it exited, or its pid now belongs to
	// another process (the start time differs).
	ErrSessionGone = errors.New("the session is gone")
)

// CloseResult is what [Actor.Close] did.
type CloseResult struct {
	Terminated []int // pids sent SIGTERM: the monitor, then leftover command processes
	Killed     []int // pids sent SIGKILL after the grace period (escalation)
	Gone       bool  // the monitor is gone at the end
}

// Bounds on what the Actor writes, follows and waits for.
const (
	// maxWarnText bounds the sanitized text. With the frame and \r\n it
	// stays below PIPE_BUF (4096), so that a write to a pipe is atomic:
	// all of it or EAGAIN.
	maxWarnText    = 1024
	maxParentLinks = 64 // parent links from a command process up to the user child
	maxKillWait    = time.Second
)

func (a *Actor) proc() string {
	if a.FS != nil {
		return a.FS.Root()
	}
	if a.Proc == "" {
		return "/proc"
	}
	return filepath.Clean(a.Proc)
}

func (a *Actor) dev() string {
	if a.Dev == "" {
		return "/dev"
	}
	return filepath.Clean(a.Dev)
}

func (a *Actor) grace() time.Duration {
	if a.Grace <= 0 {
		return DefaultGrace
	}
	return a.Grace
}

// killWait is how long to wait for a process sent SIGKILL: it dies at
// once unless it sleeps uninterruptibly in the kernel, and then waiting
// longer does not help.
func (a *Actor) killWait() time.Duration { return min(a.grace(), maxKillWait) }

// Warn writes text, the already expanded warning, to session s without
// ever blocking, and returns where it went ("/dev/pts/3", "stderr of pid
// 1234").
//
// The text is sanitized first: control characters and terminal escape
// sequences are dropped, as is anything unprintable, and it is cut to
// 1 KiB. On a terminal it starts on a line of its own with a bell and
// ends with a line break, its newlines written as \r\n (the terminal may
// be in raw mode); on a pipe it is framed by newlines.
//
// For a pty session it writes to every pts N of s.TTYs, which it opens
// through the pty master of index N that the monitor, verified by its
// start time, holds (pidfd_getfd, then TIOCGPTPEER), not by a path: so
// the terminal is the session's own, also for the sshd of a container
// with a devpts of its own (see writePTS). It is opened without becoming
// a controlling tty and without blocking, and must be the pts N (a
// character device of the Unix98 pty slave majors); a monitor that holds
// no master N (it closes the master of a channel that ended, and the
// index may then serve another login) is not written to. The write is one
// non-blocking write(2): a terminal whose output buffer is full (a
// stopped client, a frozen network) gets EAGAIN, which is an error, as is
// a short write. Writing moves only the pts mtime, so a warning does not
// count as input (the idle clock reads atime).
//
// For a session without a tty it writes to the stderr of the session's
// commands (the processes of s.Procs directly under the user child, or
// under a root login's process), only when that is a pipe whose read end
// the user child holds: then sshd sends what it reads there to the
// client's stderr. The agent takes that pipe from the command with
// pidfd_getfd(2) and checks it before it writes; it never opens
// /proc/PID/fd/2, which the user could point elsewhere (see writePipe).
// Never to stdout, which would corrupt scp, sftp and
// rsync streams; so a command whose stderr is its stdout (2>&1) is not
// warned. (A command that swapped the two through a third fd writes its
// own data to stderr, and would get the warning on stdout: /proc cannot
// tell sshd's two pipes apart but by their use.) Neither are sftp
// servers: internal-sftp, which is sshd's own
// code, and /usr/lib/openssh/sftp-server; sshd discards the stderr of
// every subsystem, and one that is neither of those two cannot be told
// from a command in /proc, so a warning to it reports success and is
// lost.
//
// An ssh -N session (KindNone) has nowhere to write to. Sessions that
// cannot be warned give ErrCannotWarn, wrapped with the reason; a session
// whose monitor is not the scanned one any more gives ErrSessionGone. When
// a session has several terminals or commands, via lists those that got
// the warning and err says why the others did not.
func (a *Actor) Warn(s watcher.Session, text string) (via []string, err error) {
	if err := checkActable(s); err != nil {
		return nil, err
	}
	msg := warnText(text)
	if msg == "" {
		return nil, fmt.Errorf("warning session %d: the text is empty once control characters are removed", s.PID)
	}
	switch s.Kind {
	case watcher.KindNone:
		return nil, fmt.Errorf("warning session %d: %w: it has no channel (ssh -N)", s.PID, ErrCannotWarn)
	case watcher.KindPTY, watcher.KindNoTTY:
	default:
		return nil, fmt.Errorf("warning session %d: unknown kind %q", s.PID, s.Kind)
	}
	if err := a.sameNamespace(); err != nil {
		return nil, fmt.Errorf("warning session %d: %w", s.PID, err)
	}
	mon, err := a.monitor(s)
	if err != nil {
		return nil, fmt.Errorf("warning session %d: %w", s.PID, err)
	}
	defer mon.close()
	if s.Kind == watcher.KindPTY {
		return a.warnPTY(s, mon, msg)
	}
	return a.warnPipe(s, mon, msg)
}

// warnPTY writes msg to each terminal of s.
func (a *Actor) warnPTY(s watcher.Session, mon *procHandle, msg string) ([]string, error) {
	ttys := s.TTYs
	if len(ttys) == 0 && s.TTY != "" {
		ttys = []string{s.TTY}
	}
	if len(ttys) == 0 {
		return nil, fmt.Errorf("warning session %d: %w: it has no terminal", s.PID, ErrCannotWarn)
	}
	b := []byte("\r\n\a" + strings.ReplaceAll(msg, "\n", "\r\n") + "\r\n")
	var via []string
	var errs []error
	for _, tty := range ttys {
		path, err := a.writePTS(mon, tty, b)
		if errors.Is(err, ErrSessionGone) {
			return via, fmt.Errorf("warning session %d: %w", s.PID, err)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("warning session %d on %q: %w", s.PID, tty, err))
			continue
		}
		via = append(via, path)
	}
	return via, errors.Join(errs...)
}

// writePTS writes b to the terminal tty ("pts/N") of the session whose
// verified monitor is mon, and returns its name, Dev/pts/N.
//
// It opens no path. Opening Dev/pts/N would be sound for the host's sshd
// (Dev and Dev/pts are root's; in the kernel's devpts no one, not even
// root, can create, rename, remove or link a name: mknod, ln -s, touch and
// mkdir there fail with EPERM or EACCES, measured on 6.18; a user can
// only chmod their own pts), but not for the sshd of a container or
// chroot with a devpts of its own: its pts N is another terminal than the
// host's /dev/pts/N, and the two cannot be told apart by their device
// numbers (136:N in every devpts) nor by the index of the master the
// monitor holds. So the terminal is reached through that master instead:
// pidfd_getfd(2) duplicates the monitor's descriptor of it (the monitor
// is root's sshd, whose descriptors no user can change), TIOCGPTN checks
// that it is the master of pty N, and TIOCGPTPEER opens the very slave
// of that master, in whichever devpts it is, without becoming a
// controlling tty and without blocking, and the slave must be pts N. A
// monitor that holds no master N any more (it closes the master of a
// channel that ended, and the index may then serve another login) is not
// written to.
func (a *Actor) writePTS(mon *procHandle, tty string, b []byte) (string, error) {
	n, err := parsePTS(tty)
	if err != nil {
		return "", err
	}
	name := filepath.Join(a.dev(), "pts", strconv.Itoa(n))
	fd, err := a.openPTS(mon, n)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	if err := mon.check(); err != nil {
		return "", err
	}
	return name, writeNonBlocking(fd, b, name)
}

// openPTS opens, for writing, the slave of the pty master of index n that
// the monitor mon holds.
func (a *Actor) openPTS(mon *procHandle, n int) (int, error) {
	dir := a.path(mon.pid, "fd")
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return -1, fmt.Errorf("monitor %d: %w", mon.pid, ErrSessionGone)
		}
		return -1, fmt.Errorf("listing %s: %w", dir, err)
	}
	for _, e := range ents {
		target, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		// /dev/ptmx or /dev/pts/ptmx, under the root of a chroot as the
		// host sees it: a cheap filter, the ioctls below decide.
		link, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil || !strings.HasSuffix(link, "/dev/ptmx") && !strings.HasSuffix(link, "/dev/pts/ptmx") {
			continue
		}
		m, err := pidfdGetfd(mon.fd, target)
		switch {
		case err == unix.EPERM:
			return -1, fmt.Errorf("pidfd_getfd on fd %d of monitor %d: %w (it needs CAP_SYS_PTRACE, and a system call filter that allows pidfd_getfd)", target, mon.pid, err)
		case err == unix.ESRCH:
			return -1, fmt.Errorf("monitor %d: %w", mon.pid, ErrSessionGone)
		case err != nil:
			continue // closed since
		}
		fd, err := ptsPeer(m, n)
		unix.Close(m)
		if fd >= 0 || err != nil {
			return fd, err
		}
	}
	return -1, fmt.Errorf("monitor %d holds no pty master of pts/%d: the terminal is not this session's", mon.pid, n)
}

// ptsPeer opens the slave of the pty master m, for writing, when m is the
// master of pty n; else it returns -1 and no error.
func ptsPeer(m, n int) (int, error) {
	var st unix.Stat_t
	if err := unix.Fstat(m, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != unix.Mkdev(5, 2) {
		return -1, nil // not a pty master (ptmx, 5:2)
	}
	if i, err := unix.IoctlGetUint32(m, unix.TIOCGPTN); err != nil || int(i) != n {
		return -1, nil
	}
	r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(m), unix.TIOCGPTPEER, uintptr(unix.O_WRONLY|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC))
	if errno != 0 {
		return -1, fmt.Errorf("opening pts/%d through its master (TIOCGPTPEER): %w", n, errno)
	}
	fd := int(r)
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("fstat of pts/%d: %w", n, err)
	}
	if i, ok := ptsIndex(uint64(st.Rdev)); st.Mode&unix.S_IFMT != unix.S_IFCHR || !ok || i != n {
		unix.Close(fd)
		return -1, fmt.Errorf("the peer of pty master %d is device %d:%d, not pts %d", n, unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev)), n)
	}
	return fd, nil
}

// parsePTS parses "pts/N" strictly: decimal, no sign, no leading zero.
func parsePTS(tty string) (int, error) {
	num, ok := strings.CutPrefix(tty, "pts/")
	if !ok || num == "" || len(num) > 7 || (len(num) > 1 && num[0] == '0') {
		return 0, fmt.Errorf("%q is not a terminal name of the form pts/N", tty)
	}
	n := 0
	for _, c := range []byte(num) {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a terminal name of the form pts/N", tty)
		}
		n = n*10 + int(c-'0')
	}
	if n >= 1<<20 {
		return 0, fmt.Errorf("%q: no such pts index", tty)
	}
	return n, nil
}

// ptsIndex returns the pts index of a device number: a Unix98 pty slave
// has a major in 136..143, index minor + (major-136)*256.
func ptsIndex(rdev uint64) (int, bool) {
	major, minor := unix.Major(rdev), unix.Minor(rdev)
	if major < 136 || major > 143 || minor > 255 {
		return 0, false
	}
	return int(minor) + int(major-136)*256, true
}

// warnPipe writes msg to the stderr pipes of the commands of s.
func (a *Actor) warnPipe(s watcher.Session, mon *procHandle, msg string) ([]string, error) {
	top := mon
	if s.Child != 0 {
		child, err := a.child(s, mon)
		if err != nil {
			return nil, fmt.Errorf("warning session %d: %w", s.PID, err)
		}
		defer child.close()
		top = child
	}
	monExe, _ := os.Readlink(a.path(s.PID, "exe"))
	b := []byte("\n" + msg + "\n")
	var via []string
	var reasons []string
	var errs []error
	done := map[uint64]bool{} // pipes written to: one command may have forked another
	for _, pid := range s.Procs {
		if pid <= 0 || pid == s.PID || pid == s.Child {
			continue
		}
		// A pidfd on the command, verified as a child of top started no
		// earlier than the session: the fd links read below are its,
		// and pidfd_getfd takes its fd 2 through it.
		cmd, err := a.open(pid, "command", func(p watcher.Process) error {
			if p.PPID != top.pid || p.Started.Before(s.Started) {
				return errNotScanned
			}
			return nil
		})
		if errors.Is(err, ErrSessionGone) {
			continue // not a command of the session (any more)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("warning session %d on the stderr of pid %d: %w", s.PID, pid, err))
			continue
		}
		ino, why := a.stderrPipe(pid, monExe)
		if why != "" || done[ino] {
			cmd.close()
			if why != "" {
				reasons = append(reasons, fmt.Sprintf("pid %d: %s", pid, why))
			}
			continue
		}
		err = a.writePipe(mon, top, cmd, ino, b)
		cmd.close()
		var cannot cannotWarn
		switch {
		case errors.As(err, &cannot):
			reasons = append(reasons, fmt.Sprintf("pid %d: %s", pid, cannot))
		case errors.Is(err, ErrSessionGone):
			return via, fmt.Errorf("warning session %d: %w", s.PID, err)
		case err != nil:
			errs = append(errs, fmt.Errorf("warning session %d on the stderr of pid %d: %w", s.PID, pid, err))
		default:
			done[ino] = true
			via = append(via, fmt.Sprintf("stderr of pid %d", pid))
		}
	}
	if len(via) == 0 && len(errs) == 0 {
		why := "no command process"
		if len(reasons) > 0 {
			why = strings.Join(reasons, "; ")
		}
		return nil, fmt.Errorf("warning session %d: %w: %s", s.PID, ErrCannotWarn, why)
	}
	return via, errors.Join(errs...)
}

// cannotWarn is why a command's stderr cannot carry a warning.
type cannotWarn string

func (e cannotWarn) Error() string { return string(e) }

// stderrPipe returns the inode of the pipe on fd 2 of process pid, or
// why it may not carry a warning. monExe is the monitor's binary.
func (a *Actor) stderrPipe(pid int, monExe string) (ino uint64, why string) {
	exe, err := os.Readlink(a.path(pid, "exe"))
	if err != nil {
		return 0, fmt.Sprintf("reading its exe link: %v", err)
	}
	exe = strings.TrimSuffix(exe, " (deleted)")
	switch {
	case monExe != "" && exe == strings.TrimSuffix(monExe, " (deleted)"):
		return 0, "it runs sshd's own code (internal-sftp), whose stderr sshd discards"
	case filepath.Base(exe) == "sftp-server":
		return 0, "it is an sftp server, whose stderr sshd discards"
	}
	var links [3]string
	for fd := range links {
		links[fd], _ = os.Readlink(a.path(pid, "fd/"+strconv.Itoa(fd)))
	}
	ino, ok := pipeInode(links[2])
	switch {
	case !ok:
		return 0, fmt.Sprintf("its stderr is %q, not a pipe", links[2])
	case links[2] == links[1]:
		return 0, "its stderr is its stdout (2>&1)"
	case links[2] == links[0]:
		return 0, "its stderr is its stdin"
	}
	return ino, ""
}

// writePipe writes b once to fd 2 of the command cmd, when that is the
// pipe ino whose read end top (the user child, or a root login's process)
// holds.
//
// It never opens a path that the session's user can change, such as
// /proc/PID/fd/2: the user owns the command and can replace its fd 2
// between any check and such an open (dup2 of an O_PATH descriptor of a
// file or device node they may not open themselves), and an open as root
// of a device node can have effects of its own (a watchdog, a tape).
// Instead pidfd_getfd(2) duplicates the command's fd 2, the very open
// file description it holds at that moment, into the agent; fstat of the
// duplicate checks that it is the pipe ino, and only then is b written to
// it, without blocking (see writeNoWait). Whatever the user put on fd 2,
// the agent gets no more than the user already holds, and writes only to
// the pipe it checked. pidfd_getfd needs CAP_SYS_PTRACE, and a system
// call filter that allows it (systemd's @system-service does not: it is
// in @debug).
func (a *Actor) writePipe(mon, top, cmd *procHandle, ino uint64, b []byte) error {
	if ok, err := a.holdsReadEnd(top.pid, ino); err != nil {
		return err
	} else if !ok {
		return cannotWarn(fmt.Sprintf("its stderr is a pipe that pid %d does not read", top.pid))
	}
	fd, err := pidfdGetfd(cmd.fd, 2)
	switch {
	case err == unix.ESRCH:
		return cannotWarn("it exited")
	case err == unix.EBADF:
		return cannotWarn("its stderr is closed")
	case err == unix.EPERM:
		return fmt.Errorf("pidfd_getfd on fd 2 of pid %d: %w (it needs CAP_SYS_PTRACE, and a system call filter that allows pidfd_getfd)", cmd.pid, err)
	case err != nil:
		return fmt.Errorf("pidfd_getfd on fd 2 of pid %d: %w", cmd.pid, err)
	}
	defer unix.Close(fd)
	what := fmt.Sprintf("the stderr of pid %d", cmd.pid)
	if err := checkPipe(fd, ino, what); err != nil {
		return err
	}
	// We hold the pipe now. If the verified user child still reads it, a
	// write reaches the session's stderr channel.
	if ok, err := a.holdsReadEnd(top.pid, ino); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("pid %d no longer reads pipe %d", top.pid, ino)
	}
	if err := top.check(); err != nil {
		return err
	}
	if err := mon.check(); err != nil {
		return err
	}
	return writeNoWait(a.proc(), fd, b, what)
}

// pidfdGetfd is pidfd_getfd(2): a duplicate, close-on-exec, of fd
// targetfd of the process of pidfd.
func pidfdGetfd(pidfd, targetfd int) (int, error) {
	for {
		fd, err := unix.PidfdGetfd(pidfd, targetfd, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// checkPipe checks that fd is the write end (or a read-write end) of the
// anonymous pipe ino: a FIFO of pipefs, the file system of pipe(2), with
// that inode number.
func checkPipe(fd int, ino uint64, what string) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("fstat %s: %w", what, err)
	}
	dev, err := pipefsDev()
	if err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFIFO || st.Dev != dev || st.Ino != ino {
		return fmt.Errorf("%s changed: it is not pipe %d any more (mode %#o, device %d:%d, inode %d)", what, ino, st.Mode, unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
	}
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return fmt.Errorf("fcntl F_GETFL on %s: %w", what, err)
	}
	if flags&unix.O_ACCMODE == unix.O_RDONLY {
		return fmt.Errorf("%s changed: it is the read end of pipe %d", what, ino)
	}
	return nil
}

// pipefsDev is the device of pipefs, the file system of every pipe(2).
func pipefsDev() (uint64, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return 0, fmt.Errorf("pipe2: %w", err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	var st unix.Stat_t
	if err := unix.Fstat(p[0], &st); err != nil {
		return 0, fmt.Errorf("fstat of a pipe: %w", err)
	}
	return st.Dev, nil
}

// writeNoWait writes b, at most PIPE_BUF bytes, to the pipe fd without
// blocking and without changing its open file description, which the
// session's command shares: setting O_NONBLOCK on it would make the
// command's own writes to its stderr fail with EAGAIN. A full pipe (the
// client does not read) and a short write are errors.
//
// Since Linux 6.4 a pipe takes pwritev2(2)'s RWF_NOWAIT. Older kernels
// refuse that with EOPNOTSUPP; then the pipe is opened anew through
// PROC/self/fd/FD, the agent's own descriptor (a path no other user can
// change, to the pipe just checked, whose open has no effect), with
// O_NONBLOCK on the new description, which is the agent's alone. That
// open needs the permission to write the pipe's inode, mode 0600 and
// owned by the user: CAP_DAC_OVERRIDE.
func writeNoWait(proc string, fd int, b []byte, what string) error {
	return writeNoWaitUsing(proc, fd, b, what, true)
}

// writeNoWaitUsing is writeNoWait; without nowait it takes the path of
// kernels before 6.4 at once.
func writeNoWaitUsing(proc string, fd int, b []byte, what string, nowait bool) error {
	if nowait {
		n, err := pwriteNoWait(fd, b)
		switch {
		case err == unix.EOPNOTSUPP:
			// A kernel before 6.4: below.
		case err == unix.EAGAIN:
			return fmt.Errorf("writing to %s: its buffer is full (the client does not read): %w", what, err)
		case err != nil:
			return fmt.Errorf("writing to %s: %w", what, err)
		case n < len(b):
			return fmt.Errorf("writing to %s: short write, %d of %d bytes (the client does not read)", what, n, len(b))
		default:
			return nil
		}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("fstat %s: %w", what, err)
	}
	path := proc + "/self/fd/" + strconv.Itoa(fd)
	wfd, err := openNoEINTR(path, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC)
	if err != nil {
		return fmt.Errorf("opening %s anew: %w", what, err)
	}
	defer unix.Close(wfd)
	var st2 unix.Stat_t
	if err := unix.Fstat(wfd, &st2); err != nil {
		return fmt.Errorf("fstat %s: %w", what, err)
	}
	if st2.Dev != st.Dev || st2.Ino != st.Ino {
		return fmt.Errorf("opening %s anew gave another file", what)
	}
	return writeNonBlocking(wfd, b, what)
}

// holdsReadEnd reports whether process pid holds the read end of pipe ino.
func (a *Actor) holdsReadEnd(pid int, ino uint64) (bool, error) {
	dir := a.path(pid, "fd")
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, fmt.Errorf("process %d: %w", pid, ErrSessionGone)
		}
		return false, fmt.Errorf("listing %s: %w", dir, err)
	}
	want := "pipe:[" + strconv.FormatUint(ino, 10) + "]"
	for _, e := range ents {
		if l, err := os.Readlink(filepath.Join(dir, e.Name())); err != nil || l != want {
			continue
		}
		info, err := os.ReadFile(a.path(pid, "fdinfo/"+e.Name()))
		if err != nil {
			continue
		}
		if flags, ok := fdinfoFlags(info); ok && flags&unix.O_ACCMODE == unix.O_RDONLY {
			return true, nil
		}
	}
	return false, nil
}

// fdinfoFlags returns the octal "flags:" of an fdinfo file.
func fdinfoFlags(info []byte) (int, bool) {
	for line := range strings.Lines(string(info)) {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
			return int(n), err == nil
		}
	}
	return 0, false
}

// pipeInode parses "pipe:[INODE]", the fd link of an anonymous pipe.
func pipeInode(link string) (uint64, bool) {
	v, ok := strings.CutPrefix(link, "pipe:[")
	if !ok {
		return 0, false
	}
	v, ok = strings.CutSuffix(v, "]")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 64)
	return n, err == nil && n > 0
}

// pwriteNoWait is pwritev2(fd, b, -1, RWF_NOWAIT).
func pwriteNoWait(fd int, b []byte) (int, error) {
	for {
		n, err := unix.Pwritev2(fd, [][]byte{b}, -1, unix.RWF_NOWAIT)
		if err != unix.EINTR {
			return n, err
		}
	}
}

// writeNonBlocking writes b to the non-blocking fd with one write(2); EAGAIN (a
// full buffer) and a short write are errors.
func writeNonBlocking(fd int, b []byte, what string) error {
	for {
		n, err := unix.Write(fd, b)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return fmt.Errorf("writing to %s: its buffer is full (the client does not read): %w", what, err)
		case err != nil:
			return fmt.Errorf("writing to %s: %w", what, err)
		case n < len(b):
			return fmt.Errorf("writing to %s: short write, %d of %d bytes (the client does not read)", what, n, len(b))
		}
		return nil
	}
}

func openNoEINTR(path string, flags int) (int, error) {
	for {
		fd, err := unix.Open(path, flags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// Close ends session s and reports what it did. It blocks while it waits
// for processes to exit: Grace for the monitor, Grace more when it has to
// kill the user child, Grace for the leftover commands, and up to a
// second after each SIGKILL of a monitor or a command: at most three
// times Grace and two seconds. The caller runs it in a goroutine; ctx
// cuts the waits short (then Close returns ctx's error with what it did
// so far).
//
// It opens a pidfd on the monitor, checks that it is the scanned one
// (else ErrSessionGone, and it signals nothing), and sends it SIGTERM:
// sshd's monitor passes the signal on to the user child, the client sees
// "closed by remote host", a shell gets SIGHUP from the kernel. It never
// sends SIGKILL to a monitor first: its user child would go on serving.
//
// When the monitor stands after Grace (a user can stop their own sshd
// child with SIGSTOP, and the monitor then waits for it), Close sends
// SIGKILL to the user child, waits up to Grace again, and then sends
// SIGKILL to the monitor. A root login is one process: SIGTERM, and
// SIGKILL after Grace.
//
// sshd leaves the commands of a session without a tty running when it
// ends (OPENSSH.md). So for such a session Close takes, before the first
// signal, pidfds on the processes of s.Procs that still belong to it:
// started no earlier than the session, below the user child (a root
// login's process) that still exists, and of the same audit session when
// s.SessionID is set. Once the monitor is gone it sends those still
// running SIGTERM, and SIGKILL after Grace. Processes started after the
// scan are not in s.Procs and are not touched. A pty session's processes
// are left to the SIGHUP of their terminal, so those that left the
// session on purpose (nohup, a detached tmux or screen) go on; so are the
// commands of a connection that carries a pty and commands at once
// (ControlMaster), since the scan calls that a pty session.
func (a *Actor) Close(ctx context.Context, s watcher.Session) (CloseResult, error) {
	var res CloseResult
	if err := checkActable(s); err != nil {
		return res, err
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("closing session %d: %w", s.PID, err)
	}
	if err := a.sameNamespace(); err != nil {
		return res, fmt.Errorf("closing session %d: %w", s.PID, err)
	}
	mon, err := a.monitor(s)
	if err != nil {
		return res, fmt.Errorf("closing session %d: %w", s.PID, err)
	}
	defer mon.close()
	top := mon
	var child *procHandle
	if s.Child != 0 {
		child, err = a.child(s, mon)
		switch {
		case errors.Is(err, ErrSessionGone):
			// The child exited or is not the monitor's: the monitor
			// follows it, and escalation goes straight to the monitor.
			child = nil
		case err != nil:
			return res, fmt.Errorf("closing session %d: %w", s.PID, err)
		default:
			defer child.close()
			top = child
		}
	}
	var cmds []*procHandle
	if s.Kind == watcher.KindNoTTY && (s.Child == 0 || child != nil) {
		cmds = a.commands(s, mon, top)
		defer func() {
			for _, h := range cmds {
				h.close()
			}
		}()
	}

	if err := mon.signal(unix.SIGTERM); err != nil {
		if errors.Is(err, unix.ESRCH) {
			res.Gone = true
			return res, fmt.Errorf("closing session %d: monitor exited before SIGTERM: %w", s.PID, ErrSessionGone)
		}
		return res, fmt.Errorf("closing session %d: SIGTERM to monitor %d: %w", s.PID, s.PID, err)
	}
	res.Terminated = append(res.Terminated, s.PID)
	var errs []error
	gone, err := waitExited(ctx, a.grace(), mon)
	if err != nil {
		return res, fmt.Errorf("closing session %d: waiting for monitor %d: %w", s.PID, s.PID, err)
	}
	if !gone && child != nil && !child.exited() {
		if err := child.signal(unix.SIGKILL); err == nil {
			res.Killed = append(res.Killed, child.pid)
		} else if !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("SIGKILL to user child %d: %w", child.pid, err))
		}
		// The monitor notices and cleans up (PAM, utmp) before it exits.
		if gone, err = waitExited(ctx, a.grace(), mon); err != nil {
			return res, fmt.Errorf("closing session %d: waiting for monitor %d: %w", s.PID, s.PID, err)
		}
	}
	if !gone {
		if err := mon.signal(unix.SIGKILL); err == nil {
			res.Killed = append(res.Killed, s.PID)
		} else if !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("SIGKILL to monitor %d: %w", s.PID, err))
		}
		if gone, err = waitExited(ctx, a.killWait(), mon); err != nil {
			return res, fmt.Errorf("closing session %d: waiting for monitor %d: %w", s.PID, s.PID, err)
		}
		if !gone {
			errs = append(errs, fmt.Errorf("monitor %d still there %v after SIGKILL", s.PID, a.killWait()))
		}
	}
	res.Gone = gone

	if err := a.endCommands(ctx, cmds, &res); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return res, fmt.Errorf("closing session %d: %w", s.PID, err)
	}
	return res, nil
}

// endCommands sends SIGTERM to the commands still running, then SIGKILL
// to those still running after Grace.
func (a *Actor) endCommands(ctx context.Context, cmds []*procHandle, res *CloseResult) error {
	var errs []error
	var alive []*procHandle
	for _, h := range cmds {
		if h.exited() {
			continue
		}
		if err := h.signal(unix.SIGTERM); err != nil {
			if !errors.Is(err, unix.ESRCH) {
				errs = append(errs, fmt.Errorf("SIGTERM to command %d: %w", h.pid, err))
			}
			continue
		}
		res.Terminated = append(res.Terminated, h.pid)
		alive = append(alive, h)
	}
	if len(alive) == 0 {
		return errors.Join(errs...)
	}
	if all, err := waitExited(ctx, a.grace(), alive...); err != nil {
		return errors.Join(append(errs, fmt.Errorf("waiting for the commands: %w", err))...)
	} else if all {
		return errors.Join(errs...)
	}
	var killed []*procHandle
	for _, h := range alive {
		if h.exited() {
			continue
		}
		if err := h.signal(unix.SIGKILL); err != nil {
			if !errors.Is(err, unix.ESRCH) {
				errs = append(errs, fmt.Errorf("SIGKILL to command %d: %w", h.pid, err))
			}
			continue
		}
		res.Killed = append(res.Killed, h.pid)
		killed = append(killed, h)
	}
	if all, err := waitExited(ctx, a.killWait(), killed...); err != nil {
		errs = append(errs, fmt.Errorf("waiting for the commands: %w", err))
	} else if !all {
		for _, h := range killed {
			if !h.exited() {
				errs = append(errs, fmt.Errorf("command %d still there %v after SIGKILL", h.pid, a.killWait()))
			}
		}
	}
	return errors.Join(errs...)
}

// commands returns handles on the processes of s.Procs that belong to
// the session: started no earlier than it, below top (the verified user
// child, or a root login's process) through processes started no earlier
// than it, and of its audit session when s.SessionID is set. Others are
// left alone.
func (a *Actor) commands(s watcher.Session, mon, top *procHandle) []*procHandle {
	var out []*procHandle
	seen := map[int]bool{}
	for _, pid := range s.Procs {
		if pid <= 0 || pid == s.PID || pid == s.Child || seen[pid] {
			continue
		}
		seen[pid] = true
		h, err := a.open(pid, "command", func(p watcher.Process) error {
			if p.Started.Before(s.Started) {
				return errNotScanned
			}
			if s.SessionID != 0 && p.SessionID != s.SessionID {
				return errNotScanned
			}
			return a.below(p, top.pid, s.Started)
		})
		if err != nil {
			continue
		}
		// The chain ended at top; top must still be the one we verified.
		if top.check() != nil || mon.check() != nil {
			h.close()
			continue
		}
		out = append(out, h)
	}
	return out
}

// below checks that process p descends from top through processes that
// started no earlier than start.
func (a *Actor) below(p watcher.Process, top int, start time.Time) error {
	for range maxParentLinks {
		if p.PPID == top {
			return nil
		}
		if p.PPID <= 1 {
			return errNotScanned
		}
		q, err := a.process(p.PPID)
		if err != nil || q.Started.Before(start) || !q.Alive() {
			return errNotScanned
		}
		p = q
	}
	return errNotScanned
}

// errNotScanned: the process is not the one the session says.
var errNotScanned = errors.New("not the scanned process")

// monitor opens a procHandle on the monitor of s, verified by its start time.
func (a *Actor) monitor(s watcher.Session) (*procHandle, error) {
	return a.open(s.PID, "monitor", func(p watcher.Process) error {
		if !p.Started.Equal(s.Started) {
			return fmt.Errorf("started %s, not %s", p.Started.Format(time.RFC3339Nano), s.Started.Format(time.RFC3339Nano))
		}
		return nil
	})
}

// child opens a procHandle on the user child of s: a child of the verified
// monitor started no earlier than the session.
func (a *Actor) child(s watcher.Session, mon *procHandle) (*procHandle, error) {
	h, err := a.open(s.Child, "user child", func(p watcher.Process) error {
		if p.PPID != s.PID {
			return fmt.Errorf("its parent is %d, not the monitor %d", p.PPID, s.PID)
		}
		if p.Started.Before(s.Started) {
			return fmt.Errorf("started %s, before the session", p.Started.Format(time.RFC3339Nano))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := mon.check(); err != nil {
		h.close()
		return nil, err
	}
	return h, nil
}

// procHandle is a pidfd on a process whose identity was checked.
type procHandle struct {
	pid  int
	fd   int
	role string // "monitor", "user child", "command"
}

// open opens a pidfd on pid, reads the process's identity in Proc and has
// match check it, then checks that the pidfd's process has not exited:
// it held the pid from before the read to after it, so the identity read
// is the pidfd's. A process that is gone or does not match gives
// ErrSessionGone.
func (a *Actor) open(pid int, role string, match func(watcher.Process) error) (*procHandle, error) {
	if pid <= 0 || pid >= 1<<22 {
		return nil, fmt.Errorf("%s %d: no such pid: %w", role, pid, ErrSessionGone)
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return nil, fmt.Errorf("%s %d: exited: %w", role, pid, ErrSessionGone)
		}
		return nil, fmt.Errorf("pidfd_open(%d) for the %s: %w", pid, role, err)
	}
	h := &procHandle{pid: pid, fd: fd, role: role}
	p, err := a.process(pid)
	if err == nil && !p.Alive() {
		err = watcher.ErrNoProcess
	}
	if err != nil {
		h.close()
		if errors.Is(err, watcher.ErrNoProcess) {
			return nil, fmt.Errorf("%s %d: exited: %w", role, pid, ErrSessionGone)
		}
		return nil, fmt.Errorf("%s %d: %w", role, pid, err)
	}
	if err := match(p); err != nil {
		h.close()
		return nil, fmt.Errorf("%s %d is not the scanned process (%v): %w", role, pid, err, ErrSessionGone)
	}
	if err := h.check(); err != nil {
		h.close()
		return nil, err
	}
	return h, nil
}

func (h *procHandle) close() { unix.Close(h.fd) }

// exited reports whether the process has exited (a zombie has).
func (h *procHandle) exited() bool {
	fds := []unix.PollFd{{Fd: int32(h.fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, 0)
		if err == unix.EINTR {
			continue
		}
		return err != nil || n > 0 && fds[0].Revents != 0
	}
}

// check returns ErrSessionGone, wrapped, when the process has exited.
func (h *procHandle) check() error {
	if h.exited() {
		return fmt.Errorf("%s %d: exited: %w", h.role, h.pid, ErrSessionGone)
	}
	return nil
}

func (h *procHandle) signal(sig unix.Signal) error {
	return unix.PidfdSendSignal(h.fd, sig, nil, 0)
}

// waitExited waits until every one of hs has exited, at most d, and
// reports whether they all did. ctx cuts the wait short with its error.
func waitExited(ctx context.Context, d time.Duration, hs ...*procHandle) (bool, error) {
	deadline := time.Now().Add(d)
	pending := slices.Clone(hs)
	fds := make([]unix.PollFd, 0, len(pending))
	for {
		pending = slices.DeleteFunc(pending, (*procHandle).exited)
		if len(pending) == 0 {
			return true, nil
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false, nil
		}
		fds = fds[:0]
		for _, h := range pending {
			fds = append(fds, unix.PollFd{Fd: int32(h.fd), Events: unix.POLLIN})
		}
		// Short slices, so that ctx is seen soon.
		ms := int(min(left, 100*time.Millisecond)/time.Millisecond) + 1
		if _, err := unix.Poll(fds, ms); err != nil && err != unix.EINTR {
			return false, fmt.Errorf("poll on pidfds: %w", err)
		}
	}
}

// sameNamespace checks that Proc shows our own pid namespace: pidfds
// name processes in it, and the identity checks read Proc.
func (a *Actor) sameNamespace() error {
	self, err := os.Readlink(filepath.Join(a.proc(), "self"))
	if err != nil || self != strconv.Itoa(os.Getpid()) {
		return fmt.Errorf("%s is not the proc file system of this process's pid namespace (%s/self: %q, %v): refusing to act on its pids", a.proc(), a.proc(), self, err)
	}
	return nil
}

func (a *Actor) path(pid int, name string) string {
	return a.proc() + "/" + strconv.Itoa(pid) + "/" + name
}

// checkActable rejects a session that cannot name a process safely.
func checkActable(s watcher.Session) error {
	switch {
	case s.PID <= 0:
		return fmt.Errorf("session with monitor pid %d: not a process", s.PID)
	case s.Started.IsZero():
		return fmt.Errorf("session %d: no start time, so the monitor cannot be told from a process that reused its pid", s.PID)
	case s.Child < 0 || s.Child == s.PID:
		return fmt.Errorf("session %d: user child %d is not a process", s.PID, s.Child)
	}
	return nil
}

// warnText makes text safe to write to a terminal: it drops control
// characters (but newlines), escape sequences (CSI, OSC, DCS and the
// others, in their 7-bit and 8-bit forms) and unprintable runes, turns
// tabs into spaces and invalid UTF-8 into U+FFFD, trims blank lines at
// both ends, and cuts the result to maxWarnText bytes.
func warnText(text string) string {
	var b strings.Builder
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			r = unicode.ReplacementChar
		case r == 0x1b: // ESC
			i = skipEscape(text, i)
			continue
		case r == 0x9b: // CSI
			i = skipCSI(text, i)
			continue
		case r == 0x90 || r == 0x9d || r == 0x98 || r == 0x9e || r == 0x9f: // DCS, OSC, SOS, PM, APC
			i = skipString(text, i)
			continue
		case r == '\t':
			r = ' '
		case r == '\n':
		case !unicode.IsPrint(r):
			continue
		}
		if b.Len()+utf8.RuneLen(r) > maxWarnText {
			break
		}
		b.WriteRune(r)
	}
	return strings.Trim(b.String(), "\n ")
}

// skipEscape returns the index after the escape sequence whose ESC ends
// just before i.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch c := s[i]; {
	case c == '[':
		return skipCSI(s, i+1)
	case c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_':
		return skipString(s, i+1)
	case c >= 0x20 && c <= 0x2f: // intermediates, then a final byte (ESC ( B)
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
			i++
		}
		if i < len(s) {
			i++
		}
		return i
	case c < 0x20:
		return i // a control character: dropped on its own
	default:
		_, size := utf8.DecodeRuneInString(s[i:])
		return i + size // ESC c, ESC 7, ...
	}
}

// skipCSI skips a control sequence's parameters and intermediates and its
// final byte.
func skipCSI(s string, i int) int {
	for i < len(s) {
		c := s[i]
		if c < 0x20 || c >= 0x80 {
			return i // not part of the sequence: handled on its own
		}
		i++
		if c >= 0x40 && c <= 0x7e {
			return i
		}
	}
	return i
}

// skipString skips an OSC, DCS, SOS, PM or APC string up to its
// terminator: BEL, ESC \ or ST (U+009C).
func skipString(s string, i int) int {
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch r {
		case 0x07, 0x9c:
			return i
		case 0x1b:
			if i < len(s) && s[i] == '\\' {
				return i + 1
			}
		}
	}
	return i
}

// process reads the identity of pid through a.FS, or else the tree at
// Proc.
func (a *Actor) process(pid int) (watcher.Process, error) {
	fs := a.FS
	if fs == nil {
		var err error
		if fs, err = watcher.NewFS(a.proc()); err != nil {
			return watcher.Process{}, err
		}
	}
	return fs.Process(pid)
}
