// Package oracle runs the real OpenSSH sshd as a reference: `sshd -T` on a
// configuration tree, so tests can compare sshwarden's reading of a config
// with sshd's own.
//
// A tree is a set of files under /etc (keys like "etc/ssh/sshd_config").
// sshd must see them at their real paths, because Include lines name
// absolute paths. Run therefore starts sshd in a private mount namespace
// (unshare --mount) where /etc is an overlay of the tree on the host's /etc
// and /etc/ssh is exactly the tree's: nothing outside that one process sees
// the change, and the host's /etc/ssh is never touched. It needs root,
// unshare(1) and overlayfs.
//
// The sshd is the host's ([New]) or that of another OpenSSH release
// ([NewRelease], [NeedRelease]): an upstream release built once into a
// cache by `make openssh`, or a Debian root whose sshd runs chrooted, with
// the tree laid over the root's /etc the same way. See [Release].
//
// The tree gets a host key, and /etc/passwd and /etc/group gain the test
// users of [Passwd] and [Group], so that Match Group has users to look at.
package oracle

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
)

// SSHD is where Debian installs sshd.
const SSHD = "/usr/sbin/sshd"

// Extra users and groups added to the host's /etc/passwd and /etc/group
// inside the namespace. alice is in admins, developers, wheel, ssh-users;
// bob in developers, ssh-users; carol in sftponly, ssh-users; deploy alone.
const (
	extraPasswd = "alice:x:2001:2001:Alice:/home/alice:/bin/bash\n" +
		"bob:x:2002:2002:Bob:/home/bob:/bin/bash\n" +
		"carol:x:2003:2003:Carol:/home/carol:/bin/bash\n" +
		"deploy:x:2004:2004:Deploy:/home/deploy:/bin/bash\n"
	extraGroup = "alice:x:2001:\nbob:x:2002:\ncarol:x:2003:\ndeploy:x:2004:\n" +
		"admins:x:2100:alice\ndevelopers:x:2101:alice,bob\nsftponly:x:2102:carol\n" +
		"wheel:x:2103:alice\nssh-users:x:2104:alice,bob,carol\n"
)

// Result is what one `sshd -T` run printed.
type Result struct {
	Stdout string
	Stderr string
	Exit   int
}

// Oracle runs the sshd of one release. It is safe for concurrent use.
type Oracle struct {
	rel     Release
	hostKey []byte
	passwd  []byte
	group   []byte
}

// New checks that the host's sshd can run here (root, sshd, unshare,
// /run/sshd) and returns an Oracle with a fresh host key, or an error
// saying what is missing.
func New() (*Oracle, error) {
	return NewRelease(Host)
}

// NewRelease is [New] for the sshd of rel.
func NewRelease(rel Release) (*Oracle, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("oracle: needs root (private mount namespace)")
	}
	tools := []string{"/usr/bin/unshare", "/usr/bin/ssh-keygen"}
	if rel.Root != "" {
		tools = append(tools, "/usr/sbin/chroot")
	}
	for _, p := range append([]string{rel.SSHD()}, tools...) {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("oracle: %s: %w (%s)", rel.Name, err, rel.hint())
		}
	}
	// sshd -t and -T exit 255 without its privilege separation directory:
	// /run/sshd for Debian's builds, DESTDIR/var/empty (made by the build)
	// for upstream's.
	if rel.Dest == "" {
		if err := os.MkdirAll(filepath.Join(rel.Root, "/run/sshd"), 0o755); err != nil {
			return nil, fmt.Errorf("oracle: %w", err)
		}
	}
	dir, err := os.MkdirTemp("", "oracle-key")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	key := filepath.Join(dir, "k")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("oracle: ssh-keygen: %v: %s", err, out)
	}
	o := &Oracle{rel: rel}
	if o.hostKey, err = os.ReadFile(key); err != nil {
		return nil, err
	}
	// A Debian root's sshd reads the root's users; the others, the host's.
	pw, err := os.ReadFile(filepath.Join(rel.Root, "/etc/passwd"))
	if err != nil {
		return nil, err
	}
	gr, err := os.ReadFile(filepath.Join(rel.Root, "/etc/group"))
	if err != nil {
		return nil, err
	}
	o.passwd = append(withNewline(pw), extraPasswd...)
	o.group = append(withNewline(gr), extraGroup...)
	return o, nil
}

func withNewline(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] != '\n' {
		return append(b, '\n')
	}
	return b
}

// Release is the release whose sshd o runs.
func (o *Oracle) Release() Release { return o.rel }

// Passwd and Group return the /etc/passwd and /etc/group sshd sees.
func (o *Oracle) Passwd() []byte { return o.passwd }

// Group returns the /etc/group sshd sees.
func (o *Oracle) Group() []byte { return o.group }

// Run writes tree (paths relative to /, all under etc/) to a temporary
// directory and runs `sshd -T -f main -C spec` once per spec there, with
// cwd /. An empty spec runs `sshd -T -f main` alone; the special spec "-t"
// runs `sshd -t -f main`.
//
// The sshd of an upstream release also finds the tree's etc/ssh at its
// build's sysconfdir (DESTDIR/etc, bind-mounted), so that relative
// Includes and the default host keys resolve in the tree as they do for a
// distribution's build; `sshd -T` still prints DESTDIR's paths (see
// [Release.Canon]). A Debian root's sshd sees the tree over the root's
// /etc, and runs chrooted.
func (o *Oracle) Run(tree map[string][]byte, main string, specs []string) ([]Result, error) {
	dir, err := os.MkdirTemp("", "oracle")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	root := filepath.Join(dir, "root")
	for name, b := range tree {
		clean := filepath.Clean("/" + name)
		if !strings.HasPrefix(clean, "/etc/") {
			return nil, fmt.Errorf("oracle: %s: only files under /etc are supported", name)
		}
		p := filepath.Join(root, clean)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return nil, err
			}
			continue
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return nil, err
		}
	}
	etc := filepath.Join(root, "etc")
	if err := os.MkdirAll(filepath.Join(etc, "ssh"), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(etc, "ssh", "ssh_host_ed25519_key"), o.hostKey, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(etc, "passwd"), o.passwd, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(etc, "group"), o.group, 0o644); err != nil {
		return nil, err
	}
	var script strings.Builder
	sysEtc := filepath.Join(o.rel.Root, "/etc") // the /etc sshd sees
	fmt.Fprintf(&script, "set -e\nmount -t overlay overlay -o lowerdir=%s:%s %s\nmount --bind %s %s\n",
		shellQuote(etc), shellQuote(sysEtc), shellQuote(sysEtc), shellQuote(filepath.Join(etc, "ssh")), shellQuote(filepath.Join(sysEtc, "ssh")))
	if o.rel.Dest != "" {
		fmt.Fprintf(&script, "mount --bind %s %s\n", shellQuote(filepath.Join(etc, "ssh")), shellQuote(filepath.Join(o.rel.Dest, "etc")))
	}
	script.WriteString("cd /\nset +e\n")
	sshd := shellQuote(o.rel.SSHD())
	if o.rel.Root != "" {
		sshd = "/usr/sbin/chroot " + shellQuote(o.rel.Root) + " " + SSHD
	}
	for i, spec := range specs {
		args := "-T -f " + shellQuote(main)
		switch {
		case spec == "-t":
			args = "-t -f " + shellQuote(main)
		case spec != "":
			args += " -C " + shellQuote(spec)
		}
		fmt.Fprintf(&script, "%s %s >%s/out.%d 2>%s/err.%d; echo $? >%s/rc.%d\n", sshd, args, dir, i, dir, i, dir, i)
	}
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script.String())
	cmd.Env = append(os.Environ(), "PATH=/usr/sbin:/usr/bin:/sbin:/bin")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("oracle: unshare: %v: %s", err, stderr.String())
	}
	res := make([]Result, len(specs))
	for i := range specs {
		out, _ := os.ReadFile(fmt.Sprintf("%s/out.%d", dir, i))
		errb, _ := os.ReadFile(fmt.Sprintf("%s/err.%d", dir, i))
		rcb, err := os.ReadFile(fmt.Sprintf("%s/rc.%d", dir, i))
		if err != nil {
			return nil, fmt.Errorf("oracle: run %d did not finish: %s", i, stderr.String())
		}
		rc, _ := strconv.Atoi(strings.TrimSpace(string(rcb)))
		res[i] = Result{Stdout: string(out), Stderr: string(errb), Exit: rc}
	}
	return res, nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Need returns an Oracle for a test, or skips the test when sshd cannot
// run here; with the environment variable CI=true it fails the test
// instead: a test that lacks a real component fails in CI, it never skips.
func Need(t testing.TB) *Oracle {
	t.Helper()
	o, err := New()
	if err != nil {
		sshdtest.Missing(t, "no real sshd here: "+err.Error())
	}
	return o
}
