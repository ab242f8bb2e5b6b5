package sshdconf

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// A Release is the OpenSSH build whose sshd reads a configuration: an
// upstream release ("8.7p1") or a distribution's build of one ("10.0-debian",
// Debian's patches, which Ubuntu's builds carry too). What differs between
// releases (keywords, where Match allows them, defaults, algorithms, which
// value wins, what `sshd -T` prints and how) is data keyed by the version
// here and in the keyword table, not a copy of the code per release.
//
// Releases are values made once; a *Release is never written after.
type Release struct {
	major, minor int
	patch        int    // the portable release's pN (1 unless known otherwise)
	debian       bool   // Debian's build (DebianBanner, GSSAPI key exchange)
	gssapi       bool   // built with GSSAPI and Kerberos
	checked      string // the oracle it was compared with ("" when only modelled)
	alg          *algorithms
}

// knownReleases are the builds compared with their own sshd (see
// docs/openssh.md): what RHEL 8, Ubuntu 20.04, Debian 11 and SLES 15,
// RHEL 9 and Amazon Linux 2023, Ubuntu 22.04, Debian 12, Ubuntu 24.04,
// RHEL 10, Debian 13 and Debian forky ship, and the newest upstream tags.
// Other versions from 8.0 on are modelled by the same rules, unchecked.
var knownReleases = []struct {
	name   string
	gssapi bool
}{
	{"8.0p1", true}, {"8.2p1", true}, {"8.4p1", true}, {"8.7p1", true}, {"8.9p1", true},
	{"9.2-debian", true}, {"9.6p1", true}, {"9.9p2", true}, {"10.0-debian", true},
	{"10.2p1", true}, {"10.5p1", true},
	// Debian forky's openssh-server is built without GSSAPI and Kerberos
	// (openssh-server-gssapi has them).
	{"10.6-debian", false},
}

var (
	oldest = Release{major: 8, minor: 0}
	newest = Release{major: 10, minor: 6}
)

// releaseRE reads a VERSION as users write it: "8.7", "9.6p1", "10.0-debian",
// "10.0p2-debian", "OpenSSH_9.6p1".
var releaseRE = regexp.MustCompile(`^(?:openssh_)?([0-9]{1,2})\.([0-9]{1,2})(?:p([0-9]{1,2}))?(-debian|-upstream)?$`)

// ParseRelease returns the release named s: a version such as "8.7",
// "9.6p1" or "10.0", with "-debian" for Debian's (and Ubuntu's) build.
// Versions from 8.0 to the newest the model knows are accepted; the ones
// compared with their real sshd are listed by [Releases].
func ParseRelease(s string) (*Release, error) {
	r, ok := parseName(strings.ToLower(strings.TrimSpace(s)))
	if !ok {
		return nil, fmt.Errorf("%q is not an OpenSSH release (write one such as 8.7, 9.6p1 or 10.0-debian)", s)
	}
	if r.less(oldest) || newest.less(r) {
		return nil, fmt.Errorf("OpenSSH %d.%d is not known: this sshwarden models OpenSSH %s to %s (sshwarden version lists them)", r.major, r.minor, oldest.version(), newest.version())
	}
	if p, ok := releaseByKey[r.key()]; ok {
		return p, nil
	}
	return newRelease(r), nil
}

// MustRelease is ParseRelease for names known to be valid; it panics
// otherwise.
func MustRelease(s string) *Release {
	r, err := ParseRelease(s)
	if err != nil {
		panic(err)
	}
	return r
}

// Releases returns the releases compared with their own sshd, oldest first.
func Releases() []*Release { return append([]*Release(nil), checkedReleases...) }

// Newest returns the newest upstream release the model knows: what
// commands read a tree as when nothing says which release serves it.
func Newest() *Release { return releaseByKey["10.5"] }

// DefaultRelease is the release [Load] reads as when LoadOptions.Release is
// nil: Debian 12's OpenSSH 9.2p1, which the package was first written
// against and which the host's tests run.
func DefaultRelease() *Release { return releaseByKey["9.2-debian"] }

var checkedReleases, releaseByKey = buildReleases()

func buildReleases() ([]*Release, map[string]*Release) {
	var list []*Release
	by := map[string]*Release{}
	for _, k := range knownReleases {
		r, _ := parseName(k.name)
		r.gssapi, r.checked = k.gssapi, k.name
		p := newRelease(r)
		list = append(list, p)
		by[p.key()] = p
	}
	return list, by
}

// parseName reads a lower-case VERSION (releaseRE) into a release built
// with GSSAPI, not yet in the table.
func parseName(s string) (Release, bool) {
	m := releaseRE.FindStringSubmatch(s)
	if m == nil {
		return Release{}, false
	}
	r := Release{patch: 1, debian: m[4] == "-debian", gssapi: true}
	r.major, _ = strconv.Atoi(m[1])
	r.minor, _ = strconv.Atoi(m[2])
	if m[3] != "" {
		r.patch, _ = strconv.Atoi(m[3])
	}
	return r, true
}

func newRelease(r Release) *Release {
	p := &r
	p.alg = algorithmsFor(p)
	return p
}

// key is the version and build without the patch level: "9.6", "10.0-debian".
func (r *Release) key() string {
	k := r.version()
	if r.debian {
		k += "-debian"
	}
	return k
}

func (r *Release) version() string { return fmt.Sprintf("%d.%d", r.major, r.minor) }

func (r Release) less(o Release) bool {
	if r.major != o.major {
		return r.major < o.major
	}
	return r.minor < o.minor
}

// Name is the release as --openssh takes it: "8.7p1", "10.0-debian".
func (r *Release) Name() string {
	if r.debian {
		return r.version() + "-debian"
	}
	return fmt.Sprintf("%sp%d", r.version(), r.patch)
}

// String names the release in messages: "OpenSSH 9.2 (Debian)",
// "OpenSSH 8.7p1".
func (r *Release) String() string {
	if r.debian {
		return "OpenSSH " + r.version() + " (Debian)"
	}
	return "OpenSSH " + r.Name()
}

// Version is the release's major.minor: "10.0".
func (r *Release) Version() string { return r.version() }

// Debian reports whether r is Debian's build (and Ubuntu's).
func (r *Release) Debian() bool { return r.debian }

// GSSAPI reports whether r is built with GSSAPI and Kerberos.
func (r *Release) GSSAPI() bool { return r.gssapi }

// Checked names the real sshd the model of r was compared with ("" when r
// is modelled by the rules of its neighbours, unchecked).
func (r *Release) Checked() string { return r.checked }

// AtLeast reports whether r is version v ("9.3", "10.0") or later.
func (r *Release) AtLeast(v string) bool {
	// By hand: the model asks this for many lines of every load.
	a, b, i := 0, 0, 0
	for ; i < len(v) && v[i] != '.'; i++ {
		a = a*10 + int(v[i]-'0')
	}
	for i++; i < len(v); i++ {
		b = b*10 + int(v[i]-'0')
	}
	return r.major > a || r.major == a && r.minor >= b
}

// Before reports whether r is older than version v.
func (r *Release) Before(v string) bool { return !r.AtLeast(v) }

// bannerRE reads the version sshd prints: `sshd -V` from 9.2 on
// ("OpenSSH_10.0p2 Debian-7+deb13u4, OpenSSL 3.5.9 ..."), or the first line
// of the usage text older releases print for an unknown option.
var bannerRE = regexp.MustCompile(`OpenSSH_([0-9]{1,2})\.([0-9]{1,2})(?:p([0-9]{1,2}))?( Debian-| Ubuntu-)?`)

// ParseBanner returns the release an sshd's version text names. debian
// says the build is Debian's when the text does not (Debian 12's sshd -V
// prints only "OpenSSH_9.2"); callers find it out otherwise (see
// [IsDebianBuild]).
func ParseBanner(text string, debian bool) (*Release, error) {
	m := bannerRE.FindStringSubmatch(text)
	if m == nil {
		first, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
		return nil, fmt.Errorf("no OpenSSH version in %q", first)
	}
	name := m[1] + "." + m[2]
	if m[3] != "" {
		name += "p" + m[3]
	}
	if debian || m[4] != "" {
		name = m[1] + "." + m[2] + "-debian"
	}
	return ParseRelease(name)
}

// IsDebianBuild reports whether an sshd binary's bytes are Debian's build:
// Debian's patch adds the DebianBanner keyword, which no upstream sshd
// knows. Its keyword table spells it "debianbanner" up to 10.0 and
// "DebianBanner" from 10.5 on (Debian forky's 10.6p1, measured).
func IsDebianBuild(binary []byte) bool {
	return bytes.Contains(binary, []byte("debianbanner")) || bytes.Contains(binary, []byte("DebianBanner"))
}

// Release returns the release c was read as.
func (c *Config) Release() *Release { return c.rel }
