package oracle

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/diff"
	"github.com/sshwarden/sshwarden/internal/sshdtest"
)

// ReleaseTestEnv names the environment variable that turns on the tests of
// every release (`make test-openssh`): they need the releases `make
// openssh` builds, which `make test` does not.
const ReleaseTestEnv = "SSHWARDEN_OPENSSH_TEST"

// verifyDir is ../shared/openssh/verify beside the module, or
// $SSHWARDEN_OPENSSH_SRC/verify: what each release's sshd printed when
// ../shared/openssh/verify.sh checked it.
func verifyDir(t *testing.T) string {
	t.Helper()
	src := os.Getenv("SSHWARDEN_OPENSSH_SRC")
	if src == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		src = filepath.Join(wd, "../../../shared/openssh") // internal/oracle -> module -> ..
	}
	dir := filepath.Join(src, "verify")
	if _, err := os.Stat(filepath.Join(dir, "KEYWORDS.tsv")); err != nil {
		sshdtest.Missing(t, "no recorded outputs of the releases: "+err.Error())
	}
	return dir
}

// verifyName is the directory of verify/ that recorded the release; "" for
// the host's, which verify.sh did not record.
func verifyName(r Release) string {
	if s, ok := Debian[r.Name]; ok {
		return "debian-" + s
	}
	if r.Dest != "" {
		return r.Name
	}
	return ""
}

// TestReleaseIsThatRelease proves that each release's oracle runs that
// release: its sshd -V names it, and on the configurations verify.sh
// recorded (the release's own stock sshd_config; ChannelTimeout,
// PerSourcePenalties and Debian's keywords, which some releases refuse)
// it exits, prints and complains as recorded there. Allowed differences:
// the DESTDIR in paths ([Release.Canon] on both sides), the hostkey lines
// (verify.sh passed -h; the oracle uses the default host keys) and the
// configuration's file name in error messages.
func TestReleaseIsThatRelease(t *testing.T) {
	if os.Getenv(ReleaseTestEnv) == "" {
		t.Skip(ReleaseTestEnv + " is unset: make test-openssh runs this test")
	}
	verify := verifyDir(t)
	const spec = "user=root,host=h,addr=10.1.2.3,laddr=127.0.0.1,lport=22"
	for _, name := range Releases() {
		t.Run(name, func(t *testing.T) {
			o := NeedRelease(t, name)
			r := o.Release()
			v, err := r.Version()
			if err != nil {
				t.Fatal(err)
			}
			// Upstream: exactly the release. Debian: its version, with
			// Debian's suffix, except 9.2's, whose -V prints neither the
			// portable suffix nor Debian's ("OpenSSH_9.2, OpenSSL ...").
			want := "OpenSSH_" + strings.TrimSuffix(name, "-debian")
			ok := v == want
			if r.Dest == "" {
				ok = strings.HasPrefix(v, want) && (r.Root == "" || strings.Contains(v, " Debian-"))
			}
			if !ok {
				t.Fatalf("%s: sshd -V says %q", r.SSHD(), v)
			}
			t.Logf("%s: %s", r.SSHD(), v)
			stock, err := os.ReadFile(r.StockConfig())
			if err != nil {
				t.Fatal(err)
			}
			vn := verifyName(r)
			if vn == "" {
				res, err := o.Run(map[string][]byte{"etc/ssh/sshd_config": stock}, "/etc/ssh/sshd_config", []string{spec})
				if err != nil {
					t.Fatal(err)
				}
				if res[0].Exit != 0 || !strings.Contains("\n"+res[0].Stdout, "\nport 22\n") {
					t.Fatalf("sshd -T on %s: exit %d, %s%s", r.StockConfig(), res[0].Exit, res[0].Stdout, res[0].Stderr)
				}
				t.Logf("no recorded output for %s: sshd -T on its stock config exits 0 (%d lines)", name, strings.Count(res[0].Stdout, "\n"))
				return
			}
			dir := filepath.Join(verify, vn)
			recorded, err := os.ReadFile(filepath.Join(dir, "stock_sshd_config"))
			if err != nil {
				t.Fatal(err)
			}
			if string(recorded) != string(stock) {
				t.Fatalf("%s is not the stock config verify.sh recorded in %s", r.StockConfig(), dir)
			}
			cases := []struct{ name, conf string }{
				{"stock", "stock_sshd_config"},
				{"newkw", "newkw.conf"},
				{"channeltimeout", "channeltimeout.conf"},
				{"persourcepenalties", "persourcepenalties.conf"},
				{"debian", "debian.conf"},
			}
			for _, c := range cases {
				conf, err := os.ReadFile(filepath.Join(dir, c.conf))
				if err != nil {
					t.Fatal(err)
				}
				res, err := o.Run(map[string][]byte{"etc/ssh/sshd_config": conf}, "/etc/ssh/sshd_config", []string{spec})
				if err != nil {
					t.Fatal(err)
				}
				got := res[0]
				wantOut, wantErr, wantRC := readRecorded(t, dir, c.name)
				if got.Exit != wantRC {
					t.Errorf("%s: exit %d, recorded %d", c.name, got.Exit, wantRC)
				}
				g := withoutHostKeys(r.Canon(got.Stdout))
				w := withoutHostKeys(Release{Dest: recordedDest(wantOut)}.Canon(wantOut))
				if g != w {
					t.Errorf("%s: sshd -T differs from %s/%s.out:\n%s", c.name, dir, c.name, diff.Diff("recorded", []byte(w), "oracle", []byte(g)))
				}
				ge := strings.ReplaceAll(got.Stderr, "/etc/ssh/sshd_config", c.conf)
				if ge != wantErr {
					t.Errorf("%s: stderr %q, recorded %q", c.name, ge, wantErr)
				}
			}
		})
	}
}

func readRecorded(t *testing.T, dir, name string) (stdout, stderr string, rc int) {
	t.Helper()
	var b [3][]byte
	for i, ext := range []string{".out", ".err", ".rc"} {
		var err error
		if b[i], err = os.ReadFile(filepath.Join(dir, name+ext)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fmt.Sscan(string(b[2]), &rc); err != nil {
		t.Fatalf("%s/%s.rc: %v", dir, name, err)
	}
	return string(b[0]), string(b[1]), rc
}

var pidfileRE = regexp.MustCompile(`(?im)^pidfile (/\S+)/var/run/sshd\.pid$`)

// recordedDest is the DESTDIR of a recorded upstream run (its pidfile is
// DEST/var/run/sshd.pid), "" for a Debian build's (/run/sshd.pid).
func recordedDest(out string) string {
	if m := pidfileRE.FindStringSubmatch(out); m != nil {
		return m[1]
	}
	return ""
}

var hostKeyRE = regexp.MustCompile(`(?im)^hostkey .*\n`)

func withoutHostKeys(s string) string { return hostKeyRE.ReplaceAllString(s, "") }
