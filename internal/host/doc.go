// Package host is operations on the host's files and sshd: locks
// ([Lock], [LockIn]), atomic replacement of files, under a --root tree
// too ([Write], [WriteIn], [WriteFile]), `sshd -t` on a configuration as
// it will be once changes are written, in a private mount namespace
// ([Checker]), and a reload of sshd ([Reload]). The plan of what to
// change is sshdconf/fix's, which is pure; this package carries it out.
//
// # A --root tree
//
// A tree given with --root is treated as if it were / in a chroot, and
// nothing outside it is read, written or shown, whatever links it holds:
//
//   - [Inside] checks that the files a configuration was read from are the
//     tree's files of those names, before anything is shown;
//   - [LockIn] and [WriteIn] resolve every name inside the tree (an
//     absolute link starts again at the tree's root, ".." stops there) and
//     do every operation through an [os.Root] of it;
//   - [Checker.Check] runs the host's sshd with the tree as its /, in a
//     private mount namespace (see sandbox_linux.go), so that whatever the
//     tree names (Include, HostKey, AuthorizedKeysFile, Banner, ...) is the
//     tree's file.
//
// # Crashes
//
// Each file is replaced by a rename, so it is old or new, never torn.
// Files are replaced one at a time, in the order fix.Order chooses: one in
// which the real `sshd -t` accepted every intermediate configuration
// before the first write, since sshd may restart at any moment. A plan
// with no such order is refused (fix.Interdependent). What a check stages
// lives in a folder named after the process and locked while it lives, on
// a tmpfs only its mount namespace sees; the next check removes the
// folders that killed runs left ([Checker.Check]), and the next [Write]
// the temporary files.
package host
