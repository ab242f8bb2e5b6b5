package oracle

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
)

// Release is one OpenSSH build whose sshd the oracle runs: the host's
// ([Host]), an upstream release built into a DESTDIR, or Debian's build in
// a Debian root (run chrooted).
type Release struct {
	// Name is the release: "8.7p1" (upstream), "10.0-debian" (Debian's
	// build of 10.0p1), "9.2-debian" (the host's, Debian 12).
	Name string
	// Dest is the DESTDIR of an upstream build (DEST/sbin/sshd,
	// DEST/etc/sshd_config), "" otherwise.
	Dest string
	// Root is a Debian root (ROOT/usr/sbin/sshd), "" otherwise.
	Root string
}

// Host is the host's sshd, Debian 12's OpenSSH 9.2p1.
var Host = Release{Name: "9.2-debian"}

// Upstream lists the upstream releases `make openssh` builds, oldest
// first: what RHEL 8, Ubuntu 20.04, Debian 11 and SLES 15, RHEL 9 and
// Amazon Linux 2023, Ubuntu 22.04, Ubuntu 24.04 and RHEL 10 ship, and the
// newest upstream tags.
var Upstream = []string{"8.0p1", "8.2p1", "8.4p1", "8.7p1", "8.9p1", "9.6p1", "9.9p2", "10.2p1", "10.5p1"}

// Debian maps the Debian builds to their suites' roots (sshdtest.DebianRoot);
// "9.2-debian" is the host's.
var Debian = map[string]string{"10.0-debian": "trixie", "10.6-debian": "forky"}

// Releases lists every release name the oracle knows, upstream ones first.
func Releases() []string {
	return append(append([]string{}, Upstream...), Host.Name, "10.0-debian", "10.6-debian")
}

const (
	// CacheEnv names the environment variable that overrides DefaultCache.
	CacheEnv = "SSHWARDEN_OPENSSH"
	// DefaultCache holds one upstream DESTDIR per release, CACHE/VER,
	// built by `make openssh` (test/openssh.sh).
	DefaultCache = "/var/cache/sshwarden-test/openssh"
)

func cacheDir() string {
	if d := os.Getenv(CacheEnv); d != "" {
		return d
	}
	return DefaultCache
}

func rootsDir() string {
	if d := os.Getenv(sshdtest.RootsEnv); d != "" {
		return d
	}
	return sshdtest.DefaultRoots
}

// FindRelease finds the release called name in the caches: an upstream
// release in $SSHWARDEN_OPENSSH (DefaultCache), a Debian build in the
// roots of sshdtest ($SSHWARDEN_ROOTS), or the host's. It builds nothing:
// an error says what is missing and how to build it.
func FindRelease(name string) (Release, error) {
	if name == Host.Name {
		return Host, nil
	}
	if suite, ok := Debian[name]; ok {
		r := Release{Name: name, Root: filepath.Join(rootsDir(), suite)}
		if _, err := os.Stat(filepath.Join(r.Root, ".debian-root-ok")); err != nil {
			return Release{}, fmt.Errorf("oracle: %s: no finished Debian root %s (%s)", name, r.Root, r.hint())
		}
		return r, nil
	}
	for _, v := range Upstream {
		if v == name {
			r := Release{Name: name, Dest: filepath.Join(cacheDir(), name)}
			if _, err := os.Stat(r.SSHD()); err != nil {
				return Release{}, fmt.Errorf("oracle: %s: %v (%s)", name, err, r.hint())
			}
			return r, nil
		}
	}
	return Release{}, fmt.Errorf("oracle: unknown release %q (known: %s)", name, strings.Join(Releases(), " "))
}

// hint says how to get the release's sshd.
func (r Release) hint() string {
	switch {
	case r.Dest != "":
		return "build it: make openssh RELEASES=" + r.Name
	case r.Root != "":
		return "build it: make openssh RELEASES= (or make roots)"
	}
	return "apt-get install openssh-server openssh-client util-linux"
}

// NeedRelease returns an Oracle for the release called name, or skips the
// test when it is not built or cannot run here; with CI=true it fails the
// test instead (sshdtest.Missing). A missing Debian root is built first
// (sshdtest.DebianRoot); upstream releases come only from `make openssh`.
func NeedRelease(t testing.TB, name string) *Oracle {
	t.Helper()
	if suite, ok := Debian[name]; ok {
		sshdtest.DebianRoot(t, suite)
	}
	r, err := FindRelease(name)
	if err != nil {
		sshdtest.Missing(t, err.Error())
	}
	o, err := NewRelease(r)
	if err != nil {
		sshdtest.Missing(t, "no real sshd here: "+err.Error())
	}
	return o
}

// SSHD is the path of the release's sshd on the host.
func (r Release) SSHD() string {
	if r.Dest != "" {
		return filepath.Join(r.Dest, "sbin/sshd")
	}
	return filepath.Join(r.Root, SSHD)
}

// StockConfig is the host's path of the sshd_config the release ships:
// the source tree's for upstream, /etc/ssh/sshd_config in a Debian root,
// and Debian's template /usr/share/openssh/sshd_config for the host (its
// /etc/ssh/sshd_config is the admin's).
func (r Release) StockConfig() string {
	switch {
	case r.Dest != "":
		return filepath.Join(r.Dest, "etc/sshd_config")
	case r.Root != "":
		return filepath.Join(r.Root, "etc/ssh/sshd_config")
	}
	return "/usr/share/openssh/sshd_config"
}

var versionRE = regexp.MustCompile(`OpenSSH_[0-9][0-9.p]*( Debian-[^ ,]+)?`)

// Version runs `sshd -V` and returns its version, "OpenSSH_8.7p1" or
// "OpenSSH_10.0p2 Debian-7+deb13u4". Before 9.2 sshd has no -V, and the
// first line of the usage it prints instead names the version.
func (r Release) Version() (string, error) {
	argv := []string{r.SSHD(), "-V"}
	if r.Root != "" {
		argv = []string{"/usr/sbin/chroot", r.Root, SSHD, "-V"}
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "PATH=/usr/sbin:/usr/bin:/sbin:/bin")
	out, _ := cmd.CombinedOutput() // exit 1 before 9.2
	v := versionRE.FindString(string(out))
	if v == "" {
		return "", fmt.Errorf("oracle: %s: sshd -V printed no version: %q", r.Name, out)
	}
	return v, nil
}

// Canon rewrites the DESTDIR paths an upstream build's `sshd -T` prints
// (pidfile, modulifile, sshdsessionpath, sshdauthpath, the default
// hostkeys) as if it had been configured with --prefix=/usr
// --sysconfdir=/etc/ssh: DEST/etc to /etc/ssh, DEST/libexec to
// /usr/libexec, DEST/var to /var. Other releases' output is returned as is.
func (r Release) Canon(out string) string {
	if r.Dest == "" {
		return out
	}
	d := strings.TrimSuffix(r.Dest, "/")
	return strings.NewReplacer(d+"/etc/", "/etc/ssh/", d+"/libexec/", "/usr/libexec/", d+"/var/", "/var/").Replace(out)
}

// ReleasesEnv names the environment variable that chooses the releases the
// per-release tests compare with: names separated by blanks, or "all".
const ReleasesEnv = "SSHWARDEN_OPENSSH_RELEASES"

// CIReleases are the releases every `make test` (and CI) compares with:
// RHEL 9's 8.7, Debian 12's 9.2 (the host's), Ubuntu 24.04's 9.6, Debian
// 13's 10.0, and the newest (upstream 10.5p1, Debian forky's 10.6p1).
// `make test-openssh` runs all of Releases().
var CIReleases = []string{"8.7p1", "9.2-debian", "9.6p1", "10.0-debian", "10.5p1", "10.6-debian"}

// Selected returns the releases the per-release tests compare with:
// $SSHWARDEN_OPENSSH_RELEASES ("all" for every release), or CIReleases.
// An unknown name is an error.
func Selected() ([]string, error) {
	v := strings.Fields(os.Getenv(ReleasesEnv))
	switch {
	case len(v) == 0:
		return append([]string(nil), CIReleases...), nil
	case len(v) == 1 && v[0] == "all":
		return Releases(), nil
	}
	known := Releases()
	for _, n := range v {
		if !slices.Contains(known, n) {
			return nil, fmt.Errorf("%s: unknown release %q (known: %s)", ReleasesEnv, n, strings.Join(known, " "))
		}
	}
	return v, nil
}

// ForEachRelease runs f as a subtest for each selected release (Selected),
// with that release's oracle; a release not built here fails the subtest
// under CI=true and skips it otherwise (NeedRelease).
func ForEachRelease(t *testing.T, f func(t *testing.T, o *Oracle)) {
	t.Helper()
	names, err := Selected()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) { f(t, NeedRelease(t, name)) })
	}
}
