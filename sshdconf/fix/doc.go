// Package fix changes an sshd configuration so that its effective values
// meet a policy, the way `sshwarden fix` does it: the edits of the lint
// policy findings are applied to the files they name ([Make]), shown as a
// unified diff ([Diff]), checked by the real `sshd -t` on the whole
// resulting configuration before anything is replaced ([Checker]),
// ordered so that sshd accepts the configuration after each file is
// written too ([Order]), written atomically under a lock ([Lock],
// [Write]), and followed on request by a reload of sshd ([Reload]).
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
// Files are replaced one at a time, in the order [Order] chooses: one in
// which the real `sshd -t` accepted every intermediate configuration
// before the first write, since sshd may restart at any moment. A plan
// with no such order is refused ([Interdependent]). What a check stages
// lives in a folder named after the process and locked while it lives, on
// a tmpfs only its mount namespace sees; the next check removes the
// folders that killed runs left ([Checker.Check]), and the next [Write]
// the temporary files.
package fix
