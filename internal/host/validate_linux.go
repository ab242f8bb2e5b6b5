package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/fix"
)

// DefaultSSHD is where Debian and RHEL install sshd.
const DefaultSSHD = "/usr/sbin/sshd"

// Checker runs the real `sshd -t` on a configuration as it will be once
// changes are written, before anything is replaced.
type Checker struct {
	SSHD string // the sshd binary; default DefaultSSHD
	// Root is the --root tree: sshd runs with it as its / (see
	// [Checker.Check]). "" checks this host's configuration.
	Root string

	// Copy checks a rewritten copy of this host's configuration (see
	// checkCopy) instead of the files at their paths in a mount namespace.
	// Check falls back to it by itself where it may not make a mount
	// namespace (the hardened sshwarden.service has no CAP_SYS_ADMIN). A
	// Root tree is never checked so.
	Copy bool

	// What a Root check takes from this host, found once, and its
	// throwaway host key, made once: a Checker is for one goroutine at a
	// time.
	bins    *sandboxBins
	hostKey []byte

	crash func(point string) // tests: called once the check is staged ("check-staged")
}

// pointStaged is the point at which a check has staged everything and is
// about to run sshd.
const pointStaged = "check-staged"

func (k *Checker) hit(point string) {
	if k.crash != nil {
		k.crash(point)
	}
}

// errNoNamespace is returned by inMountNamespace when the process may not
// make a mount namespace or mount in it (EPERM: no CAP_SYS_ADMIN, or a
// seccomp filter or RestrictNamespaces= in its unit).
type errNoNamespace struct{ err error }

func (e *errNoNamespace) Error() string { return e.err.Error() }
func (e *errNoNamespace) Unwrap() error { return e.err }

// Check runs `sshd -t` on c with changes applied, in a private mount
// namespace of its own, so that nothing outside that one process sees the
// new contents:
//
//   - on this host, sshd reads every file (main file and includes) at the
//     path it names: each changed file's new content is bind-mounted over
//     it; everything else is the host's, host keys included;
//   - under Root, sshd runs with the tree as its / (a read-only overlay of
//     the tree, see sandbox_linux.go): every path it opens, named by the
//     tree or not (Include, HostKey, AuthorizedKeysFile, Banner, a
//     symbolic link, ".."), resolves inside the tree, and a file of this
//     host is never opened. Only sshd's binary, its dynamic loader and
//     libraries (read-only) and /dev/null come from this host, with the
//     few files sshd needs to start (a user database with its privilege
//     separation user, its empty privilege separation folder) and a
//     throwaway host key, added with -o HostKey (a checked-out tree has
//     none). The changed files' new contents lie over the tree's files
//     there.
//
// Where the process may not make a mount namespace, or with k.Copy, it
// checks a rewritten copy of this host's configuration instead (see
// checkCopy); a Root tree then goes unchecked, with an error.
//
// Whatever Check stages goes to a folder of its own in the temporary
// folder (on a tmpfs that only its namespace sees, unless it checks a
// copy), removed when it returns; a folder left by a run that was killed
// is removed by the next check.
//
// It needs root. It returns ErrNoSSHD when sshd is not installed, and an
// *SSHDRefused when sshd refuses the configuration.
func (k *Checker) Check(ctx context.Context, c *sshdconf.Config, changes []fix.FileChange) error {
	sshd := k.SSHD
	if sshd == "" {
		sshd = DefaultSSHD
	}
	if _, err := os.Stat(sshd); errors.Is(err, os.ErrNotExist) {
		return fix.ErrNoSSHD
	}
	if os.Geteuid() != 0 {
		return errors.New("checking with sshd -t needs root (a private mount namespace)")
	}
	if k.Root != "" {
		if k.Copy {
			return errors.New("a --root tree is checked by sshd -t in a mount namespace only: sshd run on a copy would open the files of this host that the tree names")
		}
		return k.checkTree(ctx, sshd, c, changes)
	}
	// sshd, even sshd -t, exits 255 without its privilege separation
	// directory; ssh.service creates it with RuntimeDirectory=sshd.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return err
	}
	if k.Copy {
		return k.checkCopy(ctx, sshd, c, changes)
	}
	err := k.checkHost(ctx, sshd, c, changes)
	var noNS *errNoNamespace
	if errors.As(err, &noNS) && errors.Is(err, syscall.EPERM) {
		return k.checkCopy(ctx, sshd, c, changes)
	}
	return err
}

// checkHost checks this host's configuration with changes bind-mounted
// over the files they replace.
func (k *Checker) checkHost(ctx context.Context, sshd string, c *sshdconf.Config, changes []fix.FileChange) error {
	type bind struct {
		content []byte
		dst     string
	}
	var binds []bind
	for _, fc := range changes {
		dst, err := filepath.EvalSymlinks(c.Path(fc.Name))
		if err != nil {
			return err
		}
		binds = append(binds, bind{fc.New, dst})
	}
	dir, err := newCheckDir("")
	if err != nil {
		return err
	}
	defer dir.remove()

	cmd := exec.CommandContext(ctx, sshd, "-t", "-f", c.Path(c.Main))
	cmd.Dir = "/"
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// A killed sshwarden takes its sshd -t along, and with it the last
	// user of the namespace and its tmpfs.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err = inMountNamespace(func() error {
		if err := mountTmpfs(dir.path); err != nil {
			return &errNoNamespace{err}
		}
		for i, b := range binds {
			src := filepath.Join(dir.path, strconv.Itoa(i))
			if err := os.WriteFile(src, b.content, 0o600); err != nil {
				return err
			}
			if err := syscall.Mount(src, b.dst, "", syscall.MS_BIND, ""); err != nil {
				return fmt.Errorf("bind-mounting the new %s: %w", b.dst, err)
			}
		}
		k.hit(pointStaged)
		return nil
	}, cmd)
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return &fix.SSHDRefused{Output: out.String()}
	}
	if err != nil {
		var noNS *errNoNamespace
		if errors.As(err, &noNS) {
			return err
		}
		return fmt.Errorf("running sshd -t: %w", err)
	}
	return nil
}

// mountTmpfs mounts a new tmpfs, only for its owner, on dir.
func mountTmpfs(dir string) error {
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, "mode=0700"); err != nil {
		return fmt.Errorf("mounting a tmpfs on %s: %w", dir, err)
	}
	return nil
}

// inMountNamespace runs setup and then cmd in a new private mount
// namespace. The namespace belongs to one OS thread, which is never
// unlocked and so ends with the goroutine: the mounts never reach the rest
// of the process or the host.
func inMountNamespace(setup func() error, cmd *exec.Cmd) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // no Unlock: the thread exits with this goroutine
		if err := syscall.Unshare(syscall.CLONE_NEWNS); err != nil {
			errc <- &errNoNamespace{fmt.Errorf("unshare: %w", err)}
			return
		}
		if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
			errc <- &errNoNamespace{fmt.Errorf("making mounts private: %w", err)}
			return
		}
		if err := setup(); err != nil {
			errc <- err
			return
		}
		errc <- cmd.Run() // forks from this thread, in its namespace
	}()
	return <-errc
}

// sshdDir is where sshd resolves a relative Include (its SSHDIR).
const sshdDir = "/etc/ssh"

// checkCopy runs `sshd -t` on a copy of every file c read (this host's
// configuration), with changes applied, under a temporary folder: each
// Include argument of the copies is rewritten to point into the copy (a
// relative one first made absolute under /etc/ssh, as sshd does), so that
// sshd reads the copy and nothing else of the configuration, on the same
// lines. Other paths (host keys, AuthorizedKeysFile...) stay as they are,
// so sshd loads the host's real host keys. sshd's messages name the
// original paths again. It needs no privilege beyond reading the files.
func (k *Checker) checkCopy(ctx context.Context, sshd string, c *sshdconf.Config, changes []fix.FileChange) error {
	dir, err := newCheckDir("")
	if err != nil {
		return err
	}
	defer dir.remove()
	root := filepath.Join(dir.path, "root")
	changed := map[string][]byte{}
	for _, fc := range changes {
		changed[fc.Name] = fc.New
	}
	inCopy := func(name string) string { return root + path.Clean("/"+name) }
	for _, f := range c.Files {
		name := c.Path(f.Name)
		if f.Info != nil && f.Info.IsDir() {
			continue // sshd reports a directory it cannot read as a file
		}
		b, ok := changed[f.Name]
		if !ok {
			b = f.Bytes()
		}
		pf := sshdconf.Parse(name, b)
		for _, l := range pf.Lines() {
			if !l.IsDirective() || !strings.EqualFold(l.KeywordName(), "include") || len(l.Args()) == 0 {
				continue
			}
			args := make([]string, len(l.Args()))
			for i, a := range l.Args() {
				v := a.Value()
				if !strings.HasPrefix(v, "/") {
					v = sshdDir + "/" + v
				}
				args[i] = inCopy(v)
			}
			l.SetArgs(args...)
		}
		p := inCopy(name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(p, pf.Bytes(), 0o600); err != nil {
			return err
		}
	}
	cmd := exec.CommandContext(ctx, sshd, "-t", "-f", inCopy(c.Path(c.Main)))
	cmd.Dir = "/"
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	k.hit(pointStaged)
	// Pdeathsig goes with the thread that forks sshd: keep this one until
	// sshd is done.
	runtime.LockOSThread()
	err = cmd.Run()
	runtime.UnlockOSThread()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return &fix.SSHDRefused{Output: strings.ReplaceAll(out.String(), root, "")}
	}
	if err != nil {
		return fmt.Errorf("running sshd -t: %w", err)
	}
	return nil
}
