package fix

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
	"strings"
	"syscall"

	"github.com/sshwarden/sshwarden/sshdconf"
)

// DefaultSSHD is where Debian and RHEL install sshd.
const DefaultSSHD = "/usr/sbin/sshd"

// ErrNoSSHD is returned by [Checker.Check] when sshd is not installed, so
// only the sshdconf model checked the configuration.
var ErrNoSSHD = errors.New("sshd is not installed")

// SSHDRefused is the error of a configuration the real `sshd -t` refuses.
type SSHDRefused struct {
	Output string // what sshd printed
}

func (e *SSHDRefused) Error() string {
	return "sshd -t refuses it: " + strings.TrimSpace(e.Output)
}

// Checker runs the real `sshd -t` on a configuration as it will be once
// changes are written, before anything is replaced.
type Checker struct {
	SSHD string // the sshd binary; default DefaultSSHD
	// Root is the --root tree: sshd must read its files at their absolute
	// paths. "" checks this host's configuration.
	Root string

	// Copy checks a rewritten copy of the configuration (see checkCopy)
	// instead of the files at their paths in a mount namespace. Check
	// falls back to it by itself where it may not make a mount namespace
	// (the hardened sshwarden.service has no CAP_SYS_ADMIN).
	Copy bool

	// hostKey is the throwaway host key of Root checks, made once: a
	// Checker is for one goroutine at a time.
	hostKey []byte
}

// errNoNamespace is returned by inMountNamespace when the process may not
// make a mount namespace or mount in it (EPERM: no CAP_SYS_ADMIN, or a
// seccomp filter or RestrictNamespaces= in its unit).
type errNoNamespace struct{ err error }

func (e *errNoNamespace) Error() string { return e.err.Error() }
func (e *errNoNamespace) Unwrap() error { return e.err }

// Check runs `sshd -t -f MAIN` on c with changes applied, in a private
// mount namespace of its own, so that sshd reads every file (main file and
// includes) at the path it names, and nothing outside that one process
// sees the new contents:
//
//   - on this host, each changed file's new content is bind-mounted over
//     it; everything else is the host's, host keys included;
//   - under Root, every file c read is staged with its new content in a
//     temporary tree, /etc becomes an overlay of that tree on the host's
//     /etc, /etc/ssh is exactly the tree's, and a throwaway host key is
//     added with -o HostKey (a checked-out tree has none).
//
// Where the process may not make a mount namespace, or with k.Copy, it
// checks a rewritten copy instead (see checkCopy).
//
// It needs root. It returns ErrNoSSHD when sshd is not installed, and an
// *SSHDRefused when sshd refuses the configuration.
func (k *Checker) Check(ctx context.Context, c *sshdconf.Config, changes []FileChange) error {
	sshd := k.SSHD
	if sshd == "" {
		sshd = DefaultSSHD
	}
	if _, err := os.Stat(sshd); errors.Is(err, os.ErrNotExist) {
		return ErrNoSSHD
	}
	if os.Geteuid() != 0 {
		return errors.New("checking with sshd -t needs root (a private mount namespace)")
	}
	// sshd, even sshd -t, exits 255 without its privilege separation
	// directory; ssh.service creates it with RuntimeDirectory=sshd.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return err
	}
	if k.Copy {
		return k.checkCopy(ctx, sshd, c, changes)
	}
	tmp, err := os.MkdirTemp("", "sshwarden-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	args := []string{"-t", "-f", c.Path(c.Main)}
	var setup func() error
	if k.Root == "" {
		setup, err = k.bindChanges(c, changes, tmp)
	} else {
		var key string
		setup, key, err = k.stageTree(ctx, c, changes, tmp)
		args = append(args, "-o", "HostKey="+key)
	}
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, sshd, args...)
	cmd.Dir = "/"
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = inMountNamespace(setup, cmd)
	var noNS *errNoNamespace
	if errors.As(err, &noNS) && errors.Is(err, syscall.EPERM) {
		return k.checkCopy(ctx, sshd, c, changes)
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return &SSHDRefused{Output: out.String()}
	}
	if err != nil {
		return fmt.Errorf("running sshd -t: %w", err)
	}
	return nil
}

// bindChanges writes each new content to dir and returns the setup that
// bind-mounts it over the file it replaces.
func (k *Checker) bindChanges(c *sshdconf.Config, changes []FileChange, dir string) (func() error, error) {
	type bind struct{ src, dst string }
	var binds []bind
	for i, fc := range changes {
		dst, err := filepath.EvalSymlinks(c.Path(fc.Name))
		if err != nil {
			return nil, err
		}
		src := filepath.Join(dir, fmt.Sprint(i))
		if err := os.WriteFile(src, fc.New, 0o600); err != nil {
			return nil, err
		}
		binds = append(binds, bind{src, dst})
	}
	return func() error {
		for _, b := range binds {
			if err := syscall.Mount(b.src, b.dst, "", syscall.MS_BIND, ""); err != nil {
				return fmt.Errorf("bind-mounting the new %s: %w", b.dst, err)
			}
		}
		return nil
	}, nil
}

// stageTree copies every file c read, with the changes applied, into
// dir/root and returns the setup that shows it at /etc, and a throwaway
// host key.
func (k *Checker) stageTree(ctx context.Context, c *sshdconf.Config, changes []FileChange, dir string) (func() error, string, error) {
	changed := map[string][]byte{}
	for _, fc := range changes {
		changed[fc.Name] = fc.New
	}
	root := filepath.Join(dir, "root")
	for _, f := range c.Files {
		name := filepath.Clean(c.Path(f.Name))
		if !strings.HasPrefix(name, "/etc/") {
			return nil, "", fmt.Errorf("%s: sshd can only check files under /etc of a --root tree", f.Name)
		}
		p := filepath.Join(root, name)
		if st, err := os.Stat(filepath.Join(k.Root, name)); err == nil && st.IsDir() {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return nil, "", err
			}
			continue
		}
		b, ok := changed[f.Name]
		if !ok {
			b = f.Bytes()
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, "", err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return nil, "", err
		}
	}
	etc := filepath.Join(root, "etc")
	if err := os.MkdirAll(filepath.Join(etc, "ssh"), 0o755); err != nil {
		return nil, "", err
	}
	key := filepath.Join(dir, "hostkey")
	if err := k.writeHostKey(ctx, key); err != nil {
		return nil, "", err
	}
	return func() error {
		if err := syscall.Mount("overlay", "/etc", "overlay", 0, "lowerdir="+etc+":/etc"); err != nil {
			return fmt.Errorf("overlay on /etc: %w", err)
		}
		if err := syscall.Mount(filepath.Join(etc, "ssh"), "/etc/ssh", "", syscall.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind on /etc/ssh: %w", err)
		}
		return nil
	}, key, nil
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

// checkCopy runs `sshd -t` on a copy of every file c read, with changes
// applied, under a temporary folder: each Include argument of the copies is
// rewritten to point into the copy (a relative one first made absolute
// under /etc/ssh, as sshd does), so that sshd reads the copy and nothing
// else of the configuration, on the same lines. Other paths (host keys,
// AuthorizedKeysFile...) stay as they are, so on a host sshd loads its real
// host keys; under Root a throwaway one is added. sshd's messages name the
// original paths again. It needs no privilege beyond reading the files.
func (k *Checker) checkCopy(ctx context.Context, sshd string, c *sshdconf.Config, changes []FileChange) error {
	tmp, err := os.MkdirTemp("", "sshwarden-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	root := filepath.Join(tmp, "root")
	changed := map[string][]byte{}
	for _, fc := range changes {
		changed[fc.Name] = fc.New
	}
	inCopy := func(name string) string { return root + path.Clean("/"+name) }
	for _, f := range c.Files {
		name := c.Path(f.Name)
		// k.Root is "" on a host, where Join leaves name as it is.
		if st, err := os.Stat(filepath.Join(k.Root, name)); err == nil && st.IsDir() {
			continue // sshd reports a directory it cannot read as a file
		}
		b, ok := changed[f.Name]
		if !ok {
			b = f.Bytes()
		}
		pf := sshdconf.Parse(name, b)
		for _, l := range pf.Lines {
			if !l.IsDirective() || !strings.EqualFold(l.KeywordName(), "include") || len(l.Args) == 0 {
				continue
			}
			args := make([]string, len(l.Args))
			for i, a := range l.Args {
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
	args := []string{"-t", "-f", inCopy(c.Path(c.Main))}
	if k.Root != "" {
		key := filepath.Join(tmp, "hostkey")
		if err := k.writeHostKey(ctx, key); err != nil {
			return err
		}
		args = append(args, "-o", "HostKey="+key)
	}
	cmd := exec.CommandContext(ctx, sshd, args...)
	cmd.Dir = "/"
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return &SSHDRefused{Output: strings.ReplaceAll(out.String(), root, "")}
	}
	if err != nil {
		return fmt.Errorf("running sshd -t: %w", err)
	}
	return nil
}

// writeHostKey writes the Checker's throwaway host key to path, making it
// with ssh-keygen the first time.
func (k *Checker) writeHostKey(ctx context.Context, path string) error {
	if k.hostKey != nil {
		return os.WriteFile(path, k.hostKey, 0o600)
	}
	if out, err := exec.CommandContext(ctx, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path).CombinedOutput(); err != nil {
		return fmt.Errorf("ssh-keygen: %v: %s", err, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	k.hostKey = b
	return nil
}
