// Package fix changes an sshd configuration so that its effective values
// meet a policy, the way `sshwarden fix` does it: the edits of the lint
// policy findings are applied to the files they name ([Apply]), shown as a
// unified diff ([Diff]), checked by the real `sshd -t` on the whole
// resulting configuration before anything is replaced ([Validate]),
// written atomically under a lock ([Lock], [Write]), and followed on
// request by a reload of sshd ([Reload]).
package fix
