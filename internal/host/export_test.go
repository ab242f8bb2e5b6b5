package host

// ReleaseOf is releaseOf, for the tests of a Debian root's sshd, which
// runs chrooted.
var ReleaseOf = releaseOf
