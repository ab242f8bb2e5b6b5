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
//     keys it generated, and removes them again.
//
// # Missing components
//
// Without root, sshd, ssh, ssh-keygen, useradd or usermod, Start skips the
// test; with the environment variable CI=true it fails it instead: a test
// that lacks a real component fails in CI; it never skips.
//
// It follows sshd(8) and sshd_config(5) of OpenSSH 9.2 (Debian 12), and
// its own tests check against the real sshd what sshwarden's lint messages
// say about ClientAliveInterval, ClientAliveCountMax, ChannelTimeout and
// UnusedConnectionTimeout (claims_test.go).
package sshdtest
