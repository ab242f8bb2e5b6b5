package watcher

import (
	"net/netip"
	"time"
)

// Kind is what a session carries.
type Kind string

// Kinds of session.
const (
	KindPTY   Kind = "pty"   // an interactive login with a terminal
	KindNoTTY Kind = "notty" // an exec or sftp session without a terminal
	KindNone  Kind = "none"  // no channel at all (ssh -N: port forwarding only)
)

// Session is one live SSH login served by a trusted sshd, as the kernel
// shows it. Every field comes from kernel facts (uids, exe links, parent
// links, file descriptors, socket inodes), never from a process title alone.
type Session struct {
	// PID is the per-connection monitor ("sshd: USER [priv]", uid 0); for a
	// root login up to 9.7, the single process that serves it.
	PID int
	// Child is the privilege-separated child that runs as the user
	// ("USER@pts/N", "USER@notty", "USER"), uid 0 for a root login from
	// OpenSSH 9.8; 0 for a root login up to 9.7 (one process).
	Child int
	// Listener is the pid of the sshd listener the monitor is a child of,
	// 0 once that listener exited (systemctl restart ssh): the session
	// goes on, its monitor reparented to PID 1 or a subreaper.
	Listener int

	User string // from UID through the user database; the uid in decimal when unknown
	UID  int    // uid of the user child (0 for a root login)

	Remote netip.AddrPort // the peer, from the monitor's TCP socket (v4-mapped addresses unmapped)
	Local  netip.AddrPort // our end: which listener address and port

	// TTY is "pts/N" for KindPTY (the first of TTYs), else "". It comes
	// from the tty-index of the pty masters the monitor holds, checked
	// against the device: Dev/pts/N must be a pts character device.
	TTY string
	// TTYs are all the ptys of the connection, in order: one connection
	// multiplexed by ControlMaster carries several pty channels, and they
	// all end when the connection is closed.
	TTYs []string
	// Kind is KindPTY when the monitor holds a pty master, KindNoTTY when
	// processes run under the user child (or it serves internal-sftp or an
	// exec channel), KindNone otherwise (ssh -N).
	Kind    Kind
	Started time.Time // the monitor's start time (the accept of the connection)

	// Idle is how long the session has had no input, when known: for a pty
	// now minus the pts atime (the kernel updates it at most every 8 s;
	// with several ptys, the least idle one); nil
	// for notty sessions (a single scan cannot see their counters move) and
	// for KindNone.
	Idle *time.Duration

	// SessionID is the login's audit session id (/proc/PID/sessionid), 0
	// when there is none (no pam_loginuid).
	SessionID uint32
	// Command is the command line of an exec session's command ("" for
	// shells, sftp and -N).
	Command string
	// Procs are the pids of the session's own processes, sorted:
	// everything under the user child (or under a root login's process),
	// the monitor and the user child excluded. An internal-sftp server is
	// included: it is sshd's code, but its counters move only with the
	// user's sftp traffic, not with keepalives.
	Procs []int
}
