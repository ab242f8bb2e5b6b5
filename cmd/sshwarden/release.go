package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sshwarden/sshwarden/internal/host"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/fix"
)

// releaseFlag is --openssh VERSION: the release whose sshd reads the
// configuration. A value sshdconf.ParseRelease refuses is a usage error.
type releaseFlag struct{ rel **sshdconf.Release }

func (f releaseFlag) String() string {
	if f.rel == nil || *f.rel == nil {
		return ""
	}
	return (*f.rel).Name()
}

func (f releaseFlag) Set(v string) error {
	r, err := sshdconf.ParseRelease(v)
	if err != nil {
		return err
	}
	*f.rel = r
	return nil
}

// opensshUsage is the help of --openssh.
const opensshUsage = "read the configuration as the sshd of OpenSSH `version` reads it: 8.7, 9.6p1, 10.0-debian " +
	"(-debian for Debian's and Ubuntu's builds; sshwarden version lists them). " +
	"Default: this host's sshd (sshd -V); with --root, the newest release known"

// hostRelease is the release of this host's sshd (e.sshd, by default
// host.DefaultSSHD), or when it cannot be told (no sshd installed, a binary
// that does not answer), the newest release known, with a note on stderr
// saying why and how to choose.
func (e *env) hostRelease() *sshdconf.Release {
	sshd := cmp.Or(e.sshd, host.DefaultSSHD)
	rel, err := host.SSHDRelease(context.Background(), sshd)
	if err == nil {
		return rel
	}
	why := fmt.Sprintf("cannot tell the release of this host's sshd (%v)", err)
	if errors.Is(err, fix.ErrNoSSHD) {
		why = fmt.Sprintf("sshd is not installed here (no %s)", sshd)
	}
	newest := sshdconf.Newest()
	fmt.Fprintf(e.stderr, "sshwarden: note: %s: reading the configuration as %s, the newest release known; "+
		"pass --openssh VERSION for another (sshwarden version lists them)\n", why, newest)
	return newest
}

// newestNote says on stderr that the trees were read as the newest
// release, since nothing said which release serves them.
func newestNote(stderr io.Writer, trees []string, listed bool) {
	what := "the trees"
	switch {
	case len(trees) == 1:
		what = trees[0]
	case len(trees) <= 3:
		what = strings.Join(trees[:len(trees)-1], ", ") + " and " + trees[len(trees)-1]
	default:
		what = fmt.Sprintf("%s, %s and %d more trees", trees[0], trees[1], len(trees)-2)
	}
	how := "pass --openssh VERSION for another"
	if listed {
		how = "pass --openssh VERSION, or end a line of the --roots-from list with --openssh VERSION, for another"
	}
	fmt.Fprintf(stderr, "sshwarden: note: reading %s as %s, the newest release known; %s (sshwarden version lists them)\n",
		what, sshdconf.Newest(), how)
}

// shippedIn says which systems run each release the model is checked
// against (the upstream version, with the distribution's build where it is
// Debian's).
var shippedIn = map[string]string{
	"8.0p1":       "RHEL 8",
	"8.2p1":       "Ubuntu 20.04 (its build: 8.2-debian)",
	"8.4p1":       "Debian 11 (its build: 8.4-debian), SLES 15",
	"8.7p1":       "RHEL 9, Amazon Linux 2023",
	"8.9p1":       "Ubuntu 22.04 (its build: 8.9-debian)",
	"9.2-debian":  "Debian 12",
	"9.6p1":       "Ubuntu 24.04 (its build: 9.6-debian)",
	"9.9p2":       "RHEL 10",
	"10.0-debian": "Debian 13",
	"10.2p1":      "upstream",
	"10.5p1":      "upstream; the newest upstream release known",
	"10.6-debian": "Debian forky (testing), without GSSAPI",
}

// writeReleases lists the releases the model knows, for sshwarden version.
func writeReleases(w io.Writer) {
	all := sshdconf.Releases()
	fmt.Fprintf(w, "\nOpenSSH releases modelled (--openssh VERSION):\n")
	fmt.Fprintf(w, "  %-12s %-24s %-22s %s\n", "VERSION", "READ AS THE SSHD OF", "CHECKED AGAINST", "RUN BY")
	for _, r := range all {
		checked := "unchecked"
		if r.Checked() != "" {
			checked = "its sshd, " + r.Checked()
		}
		fmt.Fprintf(w, "  %-12s %-24s %-22s %s\n", r.Name(), r.String(), checked, shippedIn[r.Name()])
	}
	fmt.Fprintf(w, "Versions in between (%s to %s, upstream or -debian) are modelled by the same rules, unchecked.\n",
		all[0].Version(), all[len(all)-1].Version())
	fmt.Fprintf(w, "Default: this host's sshd (sshd -V); with --root, the newest, %s.\n", sshdconf.Newest().Name())
}
