// Package system is sshwarden's system test: it boots Debian 12 (OpenSSH
// 9.2p1, systemd 252) and Debian 13 (OpenSSH 10.0p1, systemd 257) with
// systemd as PID 1 in systemd-nspawn containers, installs the .deb that
// `make package` builds, and checks the product as an admin would: the
// service and its watchdog, its sandbox, idle sessions of the container's
// own sshd warned and closed with their audit records, reloads, drift of
// sshd_config, upgrade and purge.
//
// The package holds no code: the test is system_test.go, the containers
// are made by lab.sh (see its header). Run as root:
//
//	make package
//	SSHWARDEN_SYSTEM_TEST=1 go test -count=1 -v -timeout 40m ./test/system
//
// # Environment
//
//   - SSHWARDEN_SYSTEM_TEST=1 runs the test (it boots containers and
//     takes minutes); without it the test skips, and fails with CI=true.
//   - SSHWARDEN_DEB: the package to test (default: the newest
//     dist/sshwarden_*_amd64.deb).
//   - SSHWARDEN_DEB_NEXT: a package of a higher version, for the upgrade
//     (default: built by the test with `make package VERSION=v99.0.0
//     ARCHES=amd64` into a temporary folder, or with VERSION set to the
//     first package's version and ".1" when that one sorts higher).
//   - SSHWARDEN_SYSTEM_SUITES: the Debian suites, default "bookworm trixie".
//   - LAB_CACHE, LAB_COPY, MIRROR: see lab.sh (the cached roots are in
//     /var/cache/sshwarden-test/lab/SUITE by default).
package system
