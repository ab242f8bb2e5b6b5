// Package evidence tells what closes an idle SSH session on a host, from
// each mechanism's own source: the sshwarden agent and its policy, sshd's
// effective configuration (ChannelTimeout, UnusedConnectionTimeout,
// ClientAlive*), systemd-logind (StopIdleSessionSec=, KillUserProcesses=)
// and the shells (TMOUT), each value with the file and line that set it.
//
// The readers here take a file system rooted at "/" (the host, or a tree
// read as "/" for --root) and never fail on a bad line: a line the real
// reader would ignore comes back as a Problem naming its file and line.
package evidence
