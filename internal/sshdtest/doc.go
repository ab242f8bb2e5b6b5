// Package sshdtest runs a real, throwaway OpenSSH sshd on 127.0.0.1 for
// tests, with a test user and a client key that can log in to it, and
// builds real ssh client commands against it.
//
// [Start] creates (once, whoever asks first) the test user, a fresh
// ed25519 client key installed in the user's ~/.ssh/authorized_keys, a
// fresh host key and an sshd_config in [testing.TB.TempDir]; checks the
// configuration with `sshd -t`; starts `/usr/sbin/sshd -D -e` in a process
// group of its own and waits until it listens. [Server.SSH],
// [Server.StartClient] and [Server.Run] build and run clients with no user
// or system ssh configuration. Everything is undone in [testing.TB.Cleanup]: the key
// leaves authorized_keys, the sessions and the listener are stopped. The
// user stays, so that the next test run finds it.
//
// # Releases
//
// [Server.Release] says which sshd runs (`sshd -V`). Besides the host's
// (Debian 12: OpenSSH 9.2p1), Start runs the sshd of a Debian root:
// [DebianRoot] returns a debootstrap minbase tree with Debian's
// openssh-server for a suite ("trixie": 10.0p1, "forky": 10.6p1), built
// once by test/lab/debian-root.sh into /var/cache/sshwarden-test/roots
// ($SSHWARDEN_ROOTS), and [Options.Root] runs its sshd chrooted in a
// private mount namespace (see [Server.Root]), on 127.0.0.1 like the
// host's, with the host's ssh clients. The test user exists in the root
// with the host's uid, gid and password field (its passwd, group and
// shadow lines are copied), and has a home there. [Options.RootLogin]
// lets root log in with the client key too, from either sshd.
// [Server.StopListener] ends the listener alone, as `systemctl restart
// ssh` does: the logins live on.
//
// For the live tests of sessions: [Server.SSHAs], [Server.SFTP] and
// [Server.PasswordPrompt] build clients (another user, `sftp -b -`, a
// client that stays at its password prompt), [StartLogin] runs one with
// its stdin held open, and [TakeSnapshot] and [Snapshot.Place] say where
// ss(8) and ps(1) put a client's login (monitor, child, addresses,
// processes), as an oracle independent of the watcher.
//
// # Safety
//
// These tests run as root on a real machine, possibly one with a
// production sshd. So the package:
//
//   - never touches port 22 or the host's sshd, and never writes /etc/ssh
//     or /run/sshd.pid: Start refuses any configuration whose `sshd -T`
//     listens on something other than 127.0.0.1 on the port it picked, or
//     names /run/sshd.pid as its PidFile;
//   - signals only processes it started: the listener (by its process
//     group), the processes under it, the clients it started, and the
//     orphans of the logins it served (a command whose channel was closed,
//     a background job), found by their audit session id
//     (/proc/PID/sessionid, which pam_loginuid gives each login) or by an
//     SSH_CONNECTION ending in "127.0.0.1 PORT";
//   - bounds every wait in time;
//   - appends to the test user's authorized_keys under a lock file, only
//     keys it generated, and removes them again;
//   - with a Root, mounts nothing in the host's mount namespace (the bind
//     mounts of /proc, /dev and /dev/pts into the root live in the
//     namespace of sshd and its sessions, and go with its last process),
//     keeps the server's files in a directory of its own under
//     ROOT/run/sshdtest, removed in Cleanup, and changes in the root only
//     the test user's passwd, group and shadow lines and its home;
//   - from 9.8 on writes PerSourcePenalties no, so that the connections a
//     test ends before they authenticate never lock 127.0.0.1 out.
//   - writes MaxStartups 100, so that a test that opens a dozen
//     connections at once never has one dropped at random before it
//     authenticates.
//
// # Missing components
//
// Without root, sshd, ssh, ssh-keygen, useradd or usermod (and with a
// Root, unshare, chroot or mount), Start skips the test; with the
// environment variable CI=true it fails it instead: a test that lacks a
// real component fails in CI; it never skips. DebianRoot likewise, and
// with CI=true a failed build fails the test too.
//
// It follows sshd(8) and sshd_config(5) of OpenSSH 9.2 (Debian 12), and
// its own tests check against the real sshd what sshwarden's lint messages
// say about ClientAliveInterval, ClientAliveCountMax, ChannelTimeout and
// UnusedConnectionTimeout (claims_test.go).
package sshdtest
