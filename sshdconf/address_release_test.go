package sshdconf_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/sshwarden/sshwarden/internal/oracle"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/internal/memfs"
)

// addressReleases are the releases TestAddressCasesAcrossReleases runs
// besides the host's 9.2 (TestEdgeCasesAgainstSSHD): one per mask syntax
// and Debian's and upstream's newest builds. With SSHWARDEN_OPENSSH_TEST=1
// (make test-openssh) it runs every release.
var addressReleases = []string{"8.7p1", "9.6p1", "10.0-debian", "10.5p1"}

// addressKeys are the keywords addressCases set in their Match blocks.
var addressKeys = []string{"x11forwarding", "maxsessions", "maxauthtries", "listenaddress", "permittty", "allowtcpforwarding", "allowagentforwarding"}

// TestAddressCasesAcrossReleases compares the model of each release with
// that release's sshd on addressCases: whether sshd -t accepts the tree,
// and for each spec sshd -T's exit code, its message when it refuses the
// spec or the configuration, and the values of addressKeys.
func TestAddressCasesAcrossReleases(t *testing.T) {
	releases := addressReleases
	if os.Getenv("SSHWARDEN_OPENSSH_TEST") == "1" {
		releases = oracle.Releases()
	}
	for _, name := range releases {
		t.Run(name, func(t *testing.T) {
			o := oracle.NeedRelease(t, name)
			rel := sshdconf.MustRelease(name)
			// A Debian root's sshd reads the root's /etc/services (the
			// roots here have none), an upstream build the host's.
			root := o.Release().Root
			if root == "" {
				root = "/"
			}
			services := sshdconf.ServicesFile(os.DirFS(root))
			for _, c := range addressCases {
				if rel.Before("8.2") && strings.HasPrefix(c.name, "spec-empty-fields") {
					// 8.0's sshd dies at any Match criterion whose field
					// a spec lacks ("'Match Host' in configuration but
					// 'host' not in connection test specification."): a
					// Match criteria difference, not a spec one.
					continue
				}
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					compareAddressCase(t, o, rel, services, c)
				})
			}
		})
	}
}

func compareAddressCase(t *testing.T, o *oracle.Oracle, rel *sshdconf.Release, services func(string) (int, bool), c edgeCase) {
	t.Helper()
	files := map[string][]byte{}
	abs := map[string][]byte{}
	for n, s := range c.files {
		files[n] = []byte(s)
		abs["/"+n] = []byte(s)
	}
	const main = "/etc/ssh/sshd_config"
	specs := append([]string{"-t", ""}, c.specs...)
	if rel.Before("8.2") {
		// sshd 8.0 -T without -C dies at any Match criterion but "all"
		// ("'Match Address' in configuration but 'addr' not in connection
		// test specification."): a Match criteria difference, not an
		// address one, left out here.
		specs = append([]string{"-t"}, c.specs...)
	}
	res, err := o.Run(files, main, specs)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := sshdconf.Load(memfs.New(abs), main, &sshdconf.LoadOptions{Release: rel, Users: oracleUsers(o), Services: services})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	for i, spec := range specs {
		r := res[i]
		t.Logf("%s %s [%s]: exit %d, %s%s", rel.Name(), c.name, spec, r.Exit, keyValues(r.Stdout), lastLine(r.Stderr))
		if spec == "-t" {
			if got := cfg.Err(); (got == nil) != (r.Exit == 0) {
				t.Errorf("sshd -t exit %d (%s), model error: %v", r.Exit, lastLine(r.Stderr), got)
			}
			continue
		}
		cs, err := sshdconf.ParseConnSpecWith(spec, services)
		if err != nil {
			var se *sshdconf.SpecError
			if !errors.As(err, &se) || r.Exit != 1 || lastLine(r.Stderr) != se.SSHD {
				t.Errorf("[%s]: sshd exit %d (%s), the model refuses the spec: %v", spec, r.Exit, lastLine(r.Stderr), err)
			}
			continue
		}
		eff, err := cfg.Effective(cs)
		if r.Exit != 0 {
			var d sshdconf.Diag
			switch {
			case err == nil:
				t.Errorf("[%s]: sshd exit %d (%s), the model accepted it", spec, r.Exit, lastLine(r.Stderr))
			case !errors.As(err, &d) || d.SSHD != lastLine(r.Stderr):
				t.Errorf("[%s]: sshd says %q, the model says %v", spec, lastLine(r.Stderr), err)
			}
			continue
		}
		if err != nil {
			t.Errorf("[%s]: sshd accepted it, the model says: %v", spec, err)
			continue
		}
		var got strings.Builder
		for _, s := range eff.Settings {
			got.WriteString(s.String() + "\n")
		}
		if w, g := keyValues(r.Stdout), keyValues(got.String()); w != g {
			t.Errorf("[%s]: sshd -T: %s, model: %s", spec, w, g)
		}
	}
}

// keyValues picks the addressKeys out of sshd -T output, keywords in lower
// case (10.5 prints them in mixed case).
func keyValues(out string) string {
	vals := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		k, v, _ := strings.Cut(line, " ")
		vals[strings.ToLower(k)] = append(vals[strings.ToLower(k)], v)
	}
	var b strings.Builder
	for _, k := range addressKeys {
		for _, v := range vals[k] {
			fmt.Fprintf(&b, "%s %s, ", k, v)
		}
	}
	return b.String()
}
