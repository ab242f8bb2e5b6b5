package watcher

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// deletedSuffix is what the kernel appends to an exe link's target once
// the file was deleted or replaced (a package upgrade renames a new file
// over it).
const deletedSuffix = " (deleted)"

// ExeReason says why a binary is not a trusted sshd: see [ExeError].
type ExeReason int

// The reasons, in the order [FS.CheckExe] tests them.
const (
	ExeDeleted    ExeReason = iota + 1 // deleted or replaced since the process started
	ExeNotSSHD                         // its name is not one of sshd's
	ExeUnreadable                      // stat failed
	ExeNotRegular                      // not a regular file
	ExeNotRoot                         // not owned by root
	ExeWritable                        // writable by group or others
)

// ExeError says why the binary that a process runs is not a trusted
// sshd. Its text speaks of the process as "it" ("its binary
// /usr/bin/sleep is not sshd"), for a caller that names the process.
type ExeError struct {
	// Exe is the binary as the process's exe link names it: its path,
	// followed by " (deleted)" when the file was deleted since.
	Exe    string
	Reason ExeReason
	// Mode is the file's permission bits (when stat succeeded).
	Mode os.FileMode
	// Err is the error of stat, with ExeUnreadable.
	Err error
}

func (e *ExeError) Error() string {
	switch e.Reason {
	case ExeDeleted:
		return fmt.Sprintf("its binary %s: it was upgraded or removed since the process started", e.Exe)
	case ExeNotSSHD:
		return fmt.Sprintf("its binary %s is not sshd", e.Exe)
	case ExeUnreadable:
		return fmt.Sprintf("cannot stat its binary %s: %v", e.Exe, e.Err)
	case ExeNotRegular:
		return fmt.Sprintf("its binary %s is not a regular file", e.Exe)
	case ExeNotRoot:
		return fmt.Sprintf("its binary %s is not owned by root", e.Exe)
	case ExeWritable:
		return fmt.Sprintf("its binary %s is writable by group or others (%v)", e.Exe, e.Mode)
	}
	return fmt.Sprintf("its binary %s is not trusted (reason %d)", e.Exe, e.Reason)
}

func (e *ExeError) Unwrap() error { return e.Err }

// checkExe is the one check of a binary that root runs: exe names it as
// an exe link does, named says whether a path is an sshd's, and mode,
// uid and statErr are what stat said of the file. It returns nil or an
// *ExeError, testing the reasons in their order.
func checkExe(exe string, named func(path string) bool, mode, uid uint32, statErr error) error {
	switch {
	case strings.HasSuffix(exe, deletedSuffix):
		return &ExeError{Exe: exe, Reason: ExeDeleted}
	case !named(exe):
		return &ExeError{Exe: exe, Reason: ExeNotSSHD}
	case statErr != nil:
		return &ExeError{Exe: exe, Reason: ExeUnreadable, Err: statErr}
	}
	if r := fileReason(mode, uid); r != 0 {
		return &ExeError{Exe: exe, Reason: r, Mode: os.FileMode(mode & 0o777)}
	}
	return nil
}

// fileReason says why a file of mode and owner uid is not one that root
// may run as sshd: 0 when it is a regular file owned by root and not
// writable by group or others.
func fileReason(mode, uid uint32) ExeReason {
	switch {
	case mode&unix.S_IFMT != unix.S_IFREG:
		return ExeNotRegular
	case uid != 0:
		return ExeNotRoot
	case mode&0o022 != 0:
		return ExeWritable
	}
	return 0
}

// SSHDName reports whether path names a binary of sshd that runs as
// root for a listener or a session: its base name is sshd, or
// sshd-session (OpenSSH 9.8 and later). sshd-auth (10.0) runs
// unprivileged and is not one.
func SSHDName(path string) bool {
	switch filepath.Base(path) {
	case "sshd", "sshd-session":
		return true
	}
	return false
}

// TrustedSSHD is the default [Options.TrustedExe]: path is a regular file
// owned by root, not writable by group or others, named sshd or
// sshd-session ([SSHDName]).
func TrustedSSHD(path string) bool {
	if !SSHDName(path) {
		return false // no stat
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return false
	}
	return checkExe(path, SSHDName, st.Mode, st.Uid, nil) == nil
}

// trustedFile reports whether the file that the NUL-terminated path p,
// relative to dir, leads to is root-owned and not writable by group or
// others. Through /proc/PID/exe that is the executed file, also once
// it was deleted.
func trustedFile(dir int, p []byte) bool {
	var st unix.Stat_t
	return unix.Fstatat(dir, string(p[:len(p)-1]), &st, 0) == nil && fileReason(st.Mode, st.Uid) == 0
}

// CheckExe checks the binary that process pid runs: it must not be
// deleted since the process started, named must accept its path, and
// the file it executed, reached through its exe link (whatever lies at
// its path now), must be a regular file owned by root and writable by no
// one else. It returns nil, an *[ExeError] saying why not, an error
// wrapping [ErrNoProcess] when there is no process pid, or the error of
// reading the link.
//
// A scan applies the same check with [SSHDName] ([TrustedSSHD]), but
// accepts a binary deleted since its process started when the file it
// runs passes (an sshd upgraded under live sessions).
func (fs *FS) CheckExe(pid int, named func(path string) bool) error {
	exe, err := fs.Exe(pid)
	if err != nil {
		return err
	}
	link := fs.Path(pid, "exe")
	var st unix.Stat_t
	if err := unix.Stat(link, &st); err != nil { // the file the process runs, not its path
		return checkExe(exe, named, 0, 0, &os.PathError{Op: "stat", Path: link, Err: err})
	}
	return checkExe(exe, named, st.Mode, st.Uid, nil)
}
