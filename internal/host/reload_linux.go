package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
	"golang.org/x/sys/unix"

	"github.com/sshwarden/sshwarden/watcher"
)

// SessionsNote ends every message of [Reload]: a reload changes what sshd
// does with new connections only.
const SessionsNote = "sessions already open keep their old settings, the sshwarden agent enforces the policy on them"

// Bounds on the waits of Reload.
const (
	sshdTestTimeout = 30 * time.Second      // sshd -t
	systemdTimeout  = 2 * time.Minute       // connect, find the unit, the reload job
	restartTimeout  = 5 * time.Second       // the listener listens again after SIGHUP
	restartPoll     = 25 * time.Millisecond // how often to look meanwhile
	pidFileMax      = 32                    // bytes read from a PidFile at most
	pidLimit        = 1 << 22               // PID_MAX_LIMIT on 64-bit Linux
	systemdRunDir   = "/run/systemd/system" // a directory when systemd runs, see sd_booted(3)
)

// ReloadOptions say how to find, check and reload sshd. The zero value
// reloads the system's sshd through systemd when systemd runs; the signal
// path needs PidFile.
type ReloadOptions struct {
	// SSHD is the sshd binary, default [DefaultSSHD].
	SSHD string
	// Config is the main configuration file, checked with `sshd -t -f
	// Config` before either way of reloading; default /etc/ssh/sshd_config.
	Config string
	// PidFile is the effective PidFile of Config (an OS path, as `sshd -T`
	// prints it). The signal path needs it; "none" means sshd writes none.
	PidFile string
	// Units are the systemd units to try, in order; the first one loaded is
	// reloaded. Default ssh.service, then sshd.service.
	Units []string
	// SystemdBus, when set, is the D-Bus address to reach systemd on,
	// instead of the system bus (tests).
	SystemdBus string
	// Systemd forces the systemd path (true) or the signal path (false).
	// nil detects: systemd, when it runs (/run/systemd/system is a
	// directory, sd_booted(3)) and Config is the system's
	// /etc/ssh/sshd_config, which the unit runs; else the signal path, so
	// that reloading another sshd's configuration never reloads the
	// system's service.
	Systemd *bool
	// FS is the proc file system the signal path reads the listener's
	// process through; nil means /proc.
	FS *watcher.FS
}

func (o ReloadOptions) withDefaults() ReloadOptions {
	if o.SSHD == "" {
		o.SSHD = DefaultSSHD
	}
	if o.Config == "" {
		o.Config = "/etc/ssh/sshd_config"
	}
	if len(o.Units) == 0 {
		// Debian's name, then Fedora's, Arch's and upstream's (on
		// Debian an alias of ssh.service).
		o.Units = []string{"ssh.service", "sshd.service"}
	}
	return o
}

// viaSystemd says whether Reload goes through systemd, given whether
// systemd runs (see [ReloadOptions.Systemd]).
func (o ReloadOptions) viaSystemd(systemdRuns bool) bool {
	if o.Systemd != nil {
		return *o.Systemd
	}
	return systemdRuns && filepath.Clean(o.Config) == "/etc/ssh/sshd_config"
}

// Reload reloads sshd after its configuration changed, and says how, e.g.
// "systemd reloaded ssh.service; " + [SessionsNote].
//
// First it runs `sshd -t -f Config`, whatever the path, and reloads
// nothing if sshd refuses the configuration: a listener that gets SIGHUP
// with an invalid configuration exits, and not every unit's ExecReload
// checks first (Debian's does, Fedora's sends the signal).
//
// Through systemd (when it runs and Config is /etc/ssh/sshd_config, or
// Systemd says so) it asks systemd over
// D-Bus to reload the first of Units whose LoadState is "loaded", and waits
// for the job: a result other than "done" is an error.
//
// Otherwise it sends SIGHUP to the listener whose pid PidFile holds, which
// re-executes itself in place and reads the configuration again. Because
// Reload runs as root, PidFile and the process are not trusted: the
// PidFile must be a small regular file owned by root, writable by no one
// else, holding a pid > 1; the process must run, as root (real and
// effective uid), the binary SSHD or one named sshd, a regular file owned
// by root, writable by no one else and not deleted; its parent must not be an
// sshd (per-connection processes are children of the listener, and a
// SIGHUP closes their session) and it must hold a listening TCP socket.
// The signal goes through a pidfd, so it cannot reach another process that
// reused the pid. Then Reload waits up to 5 s until the same process
// listens on new sockets, as sshd does after re-executing, and fails if it
// exited.
func Reload(ctx context.Context, o ReloadOptions) (string, error) {
	o = o.withDefaults()
	if err := sshdAccepts(ctx, o.SSHD, o.Config); err != nil {
		return "", err
	}
	fi, statErr := os.Lstat(systemdRunDir)
	var how string
	var err error
	if o.viaSystemd(statErr == nil && fi.IsDir()) {
		how, err = reloadSystemd(ctx, o)
	} else {
		how, err = reloadSignal(ctx, o)
	}
	if err != nil {
		return "", err
	}
	return how + "; " + SessionsNote, nil
}

// sshdAccepts runs `sshd -t -f config`.
func sshdAccepts(ctx context.Context, sshd, config string) error {
	ctx, cancel := context.WithTimeout(ctx, sshdTestTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, sshd, "-t", "-f", config)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		return fmt.Errorf("checking the configuration with %s -t -f %s, nothing was reloaded: %w", sshd, config, ctx.Err())
	}
	if err != nil {
		output := strings.TrimSpace(out.String())
		if output != "" {
			output = "\n" + output
		}
		return fmt.Errorf("%s -t -f %s refused the configuration, nothing was reloaded: %w%s", sshd, config, err, output)
	}
	return nil
}

// reloadSystemd asks systemd to reload the first loaded unit of o.Units.
func reloadSystemd(ctx context.Context, o ReloadOptions) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, systemdTimeout)
	defer cancel()
	conn, err := dialSystemd(ctx, o.SystemdBus)
	if err != nil {
		return "", fmt.Errorf("connecting to systemd: %w", err)
	}
	defer conn.Close()

	unit := ""
	var states []string
	for _, u := range o.Units {
		p, err := conn.GetUnitPropertyContext(ctx, u, "LoadState")
		if err != nil {
			return "", fmt.Errorf("asking systemd for the LoadState of %s: %w", u, err)
		}
		state, _ := p.Value.Value().(string)
		if state == "loaded" {
			unit = u
			break
		}
		states = append(states, fmt.Sprintf("%s is %q", u, state))
	}
	if unit == "" {
		return "", fmt.Errorf("no sshd unit to reload: %s", strings.Join(states, ", "))
	}

	done := make(chan string, 1)
	if _, err := conn.ReloadUnitContext(ctx, unit, "replace", done); err != nil {
		return "", fmt.Errorf("systemd refused to reload %s: %w", unit, err)
	}
	select {
	case result := <-done:
		if result != "done" {
			return "", fmt.Errorf("systemd reload of %s ended with %q, not \"done\" (see journalctl -u %s)", unit, result, unit)
		}
	case <-ctx.Done():
		return "", fmt.Errorf("waiting for systemd to reload %s: %w", unit, ctx.Err())
	}
	return "systemd reloaded " + unit, nil
}

// dialSystemd connects to systemd on the system bus, or on the bus at
// address.
func dialSystemd(ctx context.Context, address string) (*sddbus.Conn, error) {
	if address == "" {
		return sddbus.NewSystemConnectionContext(ctx)
	}
	return sddbus.NewConnection(func() (*dbus.Conn, error) {
		c, err := dbus.Dial(address, dbus.WithContext(ctx))
		if err != nil {
			return nil, err
		}
		if err := c.Auth([]dbus.Auth{dbus.AuthExternal(strconv.Itoa(os.Getuid()))}); err != nil {
			c.Close()
			return nil, err
		}
		if err := c.Hello(); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	})
}

// reloadSignal sends SIGHUP to the listener of o.PidFile, after checking
// that it is one, and waits until it listens again.
func reloadSignal(ctx context.Context, o ReloadOptions) (string, error) {
	if o.PidFile == "" {
		return "", errors.New("no PidFile given: cannot find the sshd listener to reload")
	}
	if o.PidFile == "none" {
		return "", errors.New("sshd writes no PidFile (PidFile none): cannot find the listener to reload")
	}
	fsys := o.FS
	if fsys == nil {
		var err error
		if fsys, err = watcher.NewFS(""); err != nil {
			return "", err
		}
	}
	sshd := o.SSHD
	if p, err := filepath.EvalSymlinks(sshd); err == nil {
		sshd = p
	}
	pid, err := readPidFile(o.PidFile)
	if err != nil {
		return "", err
	}
	refuse := func(format string, args ...any) error {
		return fmt.Errorf("refusing to signal pid %d from %s: %s", pid, o.PidFile, fmt.Sprintf(format, args...))
	}

	// The pidfd pins the process: if it exits and its pid is reused
	// after this, the signal fails instead of reaching the newcomer, so
	// what the checks below read of /proc/PID is about the process
	// signalled.
	fd, err := unix.PidfdOpen(pid, 0)
	pinned := err == nil
	switch {
	case err == nil:
		defer unix.Close(fd)
	case errors.Is(err, unix.ESRCH):
		return "", refuse("no such process")
	case errors.Is(err, unix.ENOSYS):
		// Linux before 5.3: plain kill(2), with the pid-reuse window
		// between the checks and the signal.
	default:
		return "", refuse("pidfd_open: %v", err)
	}

	old, err := inspectListener(fsys, pid, sshd)
	if err != nil {
		return "", refuse("%v", err)
	}
	if pinned {
		err = unix.PidfdSendSignal(fd, unix.SIGHUP, nil, 0)
	} else {
		err = unix.Kill(pid, unix.SIGHUP)
	}
	if err != nil {
		return "", fmt.Errorf("sending SIGHUP to the sshd listener, pid %d from %s: %w", pid, o.PidFile, err)
	}

	// sshd closes its listening sockets and re-executes itself with the
	// same pid; it listens on new sockets once it has read the
	// configuration again.
	deadline := time.Now().Add(restartTimeout)
	var last error
	for {
		select {
		case <-time.After(restartPoll):
		case <-ctx.Done():
			return "", fmt.Errorf("sent SIGHUP to the sshd listener, pid %d from %s, but stopped waiting for it to listen again: %w", pid, o.PidFile, ctx.Err())
		}
		alive := true
		if pinned {
			alive = unix.PidfdSendSignal(fd, 0, nil, 0) == nil
		}
		if alive {
			var now []uint64
			now, last = inspectListener(fsys, pid, sshd)
			if last == nil && !slices.ContainsFunc(now, func(s uint64) bool { return slices.Contains(old, s) }) {
				return fmt.Sprintf("sent SIGHUP to the sshd listener, pid %d (%s), which listens again", pid, o.PidFile), nil
			}
			if errors.Is(last, errProcessGone) {
				alive = false
			}
		}
		if !alive {
			return "", fmt.Errorf("sshd exited after the reload: the listener, pid %d from %s, is gone (see sshd's log)", pid, o.PidFile)
		}
		if time.Now().After(deadline) {
			if last == nil {
				last = errors.New("it still holds its old listening sockets")
			}
			return "", fmt.Errorf("sent SIGHUP to the sshd listener, pid %d from %s, but it did not listen again within %v: %w", pid, o.PidFile, restartTimeout, last)
		}
	}
}

// readPidFile reads a pid written by sshd: a regular file owned by root,
// writable by no one else, of a few bytes, holding a decimal pid > 1 and
// an optional newline.
func readPidFile(name string) (int, error) {
	// O_NOFOLLOW: not a symbolic link; O_NONBLOCK: a FIFO does not block
	// the open, and is refused below.
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return 0, fmt.Errorf("PidFile %s is a symbolic link", name)
		}
		return 0, fmt.Errorf("reading the PidFile: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("reading the PidFile: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("PidFile %s is not a regular file (%v)", name, fi.Mode().Type())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || st.Uid != 0 {
		return 0, fmt.Errorf("PidFile %s is not owned by root", name)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return 0, fmt.Errorf("PidFile %s is writable by group or others (%v)", name, fi.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(f, pidFileMax+1))
	if err != nil {
		return 0, fmt.Errorf("reading the PidFile: %w", err)
	}
	if len(b) > pidFileMax {
		return 0, fmt.Errorf("PidFile %s holds more than %d bytes, not a pid", name, pidFileMax)
	}
	s := strings.TrimSuffix(string(b), "\n")
	pid, ok := parsePid(s)
	if !ok {
		return 0, fmt.Errorf("PidFile %s holds %q, not a pid", name, b)
	}
	if pid <= 1 {
		return 0, fmt.Errorf("PidFile %s holds pid %d, not an sshd's", name, pid)
	}
	return pid, nil
}

// parsePid parses digits only (no sign, no spaces) up to pidLimit.
func parsePid(s string) (int, bool) {
	if s == "" || len(s) > len(strconv.Itoa(pidLimit)) {
		return 0, false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > pidLimit {
		return 0, false
	}
	return n, true
}

// errProcessGone says the process exited (or is a zombie). Its text follows
// "refusing to signal pid N from FILE: ".
var errProcessGone = errors.New("the process exited")

// inspectListener checks, through fsys, that pid is an sshd listener run
// by root from the binary sshd (resolved) or one named sshd, and returns
// the inodes of its listening sockets.
func inspectListener(fsys *watcher.FS, pid int, sshd string) ([]uint64, error) {
	p, err := fsys.Process(pid)
	if errors.Is(err, watcher.ErrNoProcess) {
		return nil, errProcessGone
	}
	if err != nil {
		return nil, err
	}
	if !p.Alive() {
		return nil, errProcessGone
	}
	real, effective, err := fsys.UIDs(pid)
	if errors.Is(err, watcher.ErrNoProcess) {
		return nil, errProcessGone
	}
	if err != nil {
		return nil, err
	}
	if real != 0 || effective != 0 {
		return nil, fmt.Errorf("it does not run as root (real uid %d, effective uid %d)", real, effective)
	}
	if err := checkListenerExe(fsys, pid, sshd); err != nil {
		return nil, err
	}
	if p.PPID > 1 {
		// A parent that is gone, or not readable, is not an sshd we
		// know of: the checks of the process itself stand.
		if pexe, err := fsys.Exe(p.PPID); err == nil && isSSHDBinary(pexe, sshd) {
			return nil, fmt.Errorf("its parent, pid %d, is an sshd too (%s): it serves a connection, it is not the listener", p.PPID, pexe)
		}
	}
	sockets, err := listeningSockets(fsys, pid)
	if err != nil {
		return nil, err
	}
	if len(sockets) == 0 {
		return nil, errors.New("it holds no listening TCP socket: it is not the listener")
	}
	return sockets, nil
}

// checkListenerExe checks the binary that process pid runs with
// [watcher.FS.CheckExe]: the file it executed, reached through the /proc
// link (whatever now lies at its path), must not be deleted, must be sshd
// (resolved) or named sshd, a regular file owned by root and writable by
// no one else.
func checkListenerExe(fsys *watcher.FS, pid int, sshd string) error {
	err := fsys.CheckExe(pid, func(exe string) bool { return filepath.Base(exe) == "sshd" || exe == sshd })
	var bad *watcher.ExeError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, watcher.ErrNoProcess):
		return errProcessGone
	case errors.As(err, &bad) && bad.Reason == watcher.ExeDeleted:
		return fmt.Errorf("its binary %s: sshd was upgraded or removed since the listener started; restart it rather than reload it", bad.Exe)
	case bad != nil:
		return err
	}
	return fmt.Errorf("cannot read its binary: %w", err)
}

// isSSHDBinary reports whether exe, a parent's binary, is an sshd: the binary
// sshd (resolved), one named sshd, or the per-connection binaries of
// OpenSSH 9.8 and later.
func isSSHDBinary(exe, sshd string) bool {
	switch filepath.Base(exe) {
	case "sshd", "sshd-session", "sshd-auth":
		return true
	}
	return exe == sshd
}

// listeningSockets returns the inodes of the TCP sockets in state LISTEN
// among the open files of process pid, as its network namespace's
// /proc/PID/net/tcp and tcp6 list them.
func listeningSockets(fsys *watcher.FS, pid int) ([]uint64, error) {
	open, err := fsys.Sockets(pid)
	if errors.Is(err, watcher.ErrNoProcess) {
		return nil, errProcessGone
	}
	if err != nil {
		return nil, fmt.Errorf("cannot list its open files: %w", err)
	}
	var out []uint64
	for _, table := range []string{"tcp", "tcp6"} {
		listening, err := fsys.ListeningTCP(pid, table)
		if errors.Is(err, os.ErrNotExist) {
			continue // no IPv6
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read its %s table: %w", table, err)
		}
		for _, ino := range listening {
			if _, ok := slices.BinarySearch(open, ino); ok {
				out = append(out, ino)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
