// Package fix plans the change of an sshd configuration that makes its
// effective values meet a policy, the way `sshwarden fix` does it: the
// edits of the lint policy findings are applied to the files they name
// ([Make]), shown as a unified diff ([Diff]), and ordered so that sshd
// accepts the configuration after each file is written too ([Order]).
// It is pure: it reads and writes no file and runs nothing.
//
// Carrying a plan out is internal/host's: it checks the resulting
// configuration with the real `sshd -t` (Checker, which returns the
// [SSHDRefused] and [ErrNoSSHD] that Order understands), writes the files
// atomically under a lock (Lock, Write, WriteIn, with temporary files
// named as [TempMarker] says), and reloads sshd on request (Reload).
package fix
