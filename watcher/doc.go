// Package watcher finds the live SSH sessions of a host in /proc, from
// kernel facts a user cannot forge: uids, exe links, parent links, file
// descriptors and socket inodes. Process titles are written by their
// owners, so a title alone never makes a session.
//
// A [Scanner] reads a /proc tree through procfs.NewFS (so a test, or
// `sshwarden sessions --proc DIR`, can point it at a tree of its own);
// [Scanner.Scan] returns one [Session] per logged-in connection. The
// process model is the one of sshd(8) in OpenSSH 9.2 as measured on
// Debian 12 (../shared/OPENSSH.md, "Sessions in /proc"), and the shapes
// of 9.8 and 10.0 as their sources describe them.
//
// # What a session is
//
// A listener is a process running as uid 0 (real and effective) from a
// trusted sshd binary ([Options.TrustedExe]), that holds a listening TCP
// socket, and whose parent is not a root sshd process (a root login's
// process listens too, for `ssh -R`). Every listener counts: a second
// sshd on another port, or a chroot sftp instance; sessions carry their
// local address and port.
//
// A session is a monitor under a listener: a uid-0 process of a trusted
// binary, named sshd (up to 9.7, title "sshd: USER [priv]") or
// sshd-session (9.8 and later, "sshd-session: USER [priv]", and from
// 10.5 "USER [postauth]" once authenticated), with its user child: a
// child named sshd or sshd-session running as the user ("USER@pts/N",
// "USER@notty", "USER" for ssh -N). The user is the uid of that child,
// named through [Options.Users]. A root login is one process up to 9.7,
// the monitor itself with no user child ("root@pts/0"); from 9.8 it is
// two, the monitor and a uid-0 sshd-session child titled like a login.
// Both run as root, so only root wrote those titles.
//
// # Sessions whose listener exited
//
// `systemctl restart ssh`, and so every upgrade of openssh-server, ends
// the listener only: the sessions go on, their monitors reparented to
// PID 1 or a subreaper. A scan finds them as it finds listeners: a root
// process of a trusted sshd or sshd-session binary whose parent is not
// a root sshd process. Such a process that serves a login (the rules
// above) and holds a TCP connection is a session, with the same fields
// and Listener 0; one that holds no connection is a listener, or nothing
// (a listener closes each accepted socket once the monitor has it). Its
// peer is its TCP connection, the lowest fd first.
//
// A connection that has not authenticated is not a session: its monitor
// has a child running as sshd's privilege separation user (a user named
// sshd or _sshd: "sshd: USER [net]"), or, from 10.0, a child named
// sshd-auth; or it has no child yet and its title, which only root can
// write to a root process, is "[accepted]" or "USER [priv]". Note that
// "USER [priv]" is also the title of a monitor before authentication,
// once the client named the user.
//
// # Replaced binaries
//
// An upgrade replaces the sshd-session binary under live sessions, and
// their exe link reads "PATH (deleted)". Such a process is trusted when
// the file it runs, which the link still reaches, is root-owned and not
// writable by group or others: not on the strength of the new file at
// PATH.
//
// # Containers and chroots
//
// The sshd of a container or chroot on the same host is an sshd like
// the host's: its processes run as uid 0 of the host (unless the
// container maps uids) from root-owned binaries under its root, and its
// sessions are listed, with the addresses of their own network
// namespace. A policy tells them apart by LocalAddress and LocalPort
// only where those differ from the host's own sshd; a container with a
// private network has its own 127.0.0.1:22, which Match LocalPort 22
// does not tell from the host's.
//
// The names (comm, in /proc/PID/stat) only narrow the candidates: the
// kernel sets them from the executed file's name, and a process can
// rename only itself. The uid and the exe link decide. So a process of
// an unprivileged user that calls itself "sshd: root@pts/0" or
// "sshd: root [priv]" is never a session: it does not run as uid 0 under
// a listener that runs as uid 0.
//
// # A user's own sshd
//
// Any user can run /usr/sbin/sshd on a high port. Its processes run as
// that user, its listener too, so its "sessions" are not sessions of the
// system's sshd and are not listed: nothing in them can be told apart
// from any other process of the user, and a policy must never act on
// them on the strength of their titles.
//
// # Fields
//
// The peer and the local end come from the socket inode of the monitor's
// TCP socket (a "socket:[INODE]" fd link) looked up in the TCP tables
// (/proc/PID/net/tcp and tcp6) of the listener's network namespace, read
// once per scan; IPv6, and v4-mapped addresses unmapped to IPv4. Of
// several TCP sockets, the one on a port its listener listens on wins.
//
// TTY is the pts of a pty master the monitor holds (its /dev/ptmx fds,
// "tty-index:\tN" in /proc/PID/fdinfo/FD), checked against the device:
// Dev/pts/N must be a character device of the pts majors, minor N. The
// monitor keeps a copy of each pty master of its user child; it runs as
// root, so the user cannot change what it holds.
//
// Kind is [KindPTY] when the monitor holds a pty master, [KindNoTTY] when
// processes run under the user child (or its title says "@notty" or
// "@internal-sftp"), [KindNone] otherwise (ssh -N).
//
// Started is the monitor's start (field 22 of /proc/PID/stat, in clock
// ticks after boot, plus btime from /proc/stat): the accept of the
// connection. SessionID is the user child's /proc/PID/sessionid (the
// root login process's for root), which pam_loginuid gives each login
// and which orphans keep; 0 when there is none. Command is the command
// line of the oldest process under the child of an exec session, up to
// 4 KiB. Procs are all the processes under the user child, at any depth.
//
// # Idle
//
// For a pty, Idle is now minus the pts device's atime. The kernel moves
// atime on input only, and only when the time has crossed an 8-second
// aligned window since the last update: the last keystroke lies within
// [atime, atime&^7 + 8 s). Output, and warnings written to the pts, move
// mtime, not atime. For notty sessions a single scan cannot tell (the
// agent measures the counters of Procs between scans; sshd's own
// counters move with keepalives); for ssh -N there is nothing to see.
//
// # Several channels (ControlMaster)
//
// A client with ControlMaster multiplexes several sessions over one
// connection: one monitor, one user child, several shells and commands
// under it, several pty masters. The scan reports one Session per
// connection, not per channel, because closing is per connection:
// signalling the monitor ends every channel. TTYs lists every pty of the
// connection, TTY is the first, Idle is the least idle of them (the
// connection is idle only when all its terminals are); Kind is pty when
// any channel has a pty, and Command is set only for connections without
// one.
//
// # Without root
//
// The exe links and fds of other users' processes need root (or
// CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH). Without them Scan lists what
// it can still prove, which is who: the uids in /proc/PID/status and the
// parent links are readable by anyone, and only root can make a uid-0
// process under a uid-0 listener. What it cannot read it leaves empty
// (peers, and binaries not verified), takes terminals from the
// controlling tty of the session's processes, and says so once in its
// problems. A session whose listener exited is then listed only when its
// monitor has a user child: a one-process root login (up to 9.7) cannot
// be told from a listener without the sockets.
//
// # Processes that come and go
//
// A process may exit while a scan reads it: a file that is gone makes
// the scan skip that process (or that fact) silently. Garbage in any file
// is skipped the same way; it can hide a session, never make one.
//
// # Cost
//
// A scan reads /proc/PID/stat of every process (ppid, name, start) and,
// for processes named like sshd, /proc/PID/status (uids); then per
// monitor its exe link, fd links, pty fdinfo, sessionid and pts device.
// It issues its system calls on paths built in its own buffers, relative
// to the tree's directory (os.Open and os.ReadFile allocate per call), so
// a scan of 5,000 processes and 1,000 sessions allocates under 1 MB, most
// of it the result. That is why procfs serves for the tree's root
// (procfs.NewFS) and the boot time only: its per-process parsers allocate
// strings and slices for every field of every process. The reading is
// spread over the CPUs. On a 2-core VM where one open, read and close of a
// /proc file costs about 8 us, the 5,000-process scan takes about 60 ms
// (see BenchmarkScan): the system calls are the floor.
//
// # Fixtures
//
// Tests build /proc trees in a temporary directory (fixture_test.go). The
// exe links there point at binaries the fixture creates, root-owned with
// mode 0755 and named sshd, sshd-session, sshd-auth or bash, by their
// absolute paths, so the default TrustedExe checks them as it checks
// /usr/sbin/sshd; the pts devices are made with mknod(2), which needs
// root.
package watcher
