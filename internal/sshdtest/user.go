package sshdtest

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockPath serialises user creation and authorized_keys edits between
// concurrent tests, in this process and in other test binaries (flock
// locks belong to an open file description, so two opens in one process
// exclude each other too).
const lockPath = "/run/lock/sshdtest.lock"

// withLock runs f holding the exclusive lock on lockPath.
func withLock(f func() error) error {
	if err := os.MkdirAll(filepath.Dir(lockPath), 0o755); err != nil {
		return err
	}
	l, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer l.Close()
	if err := syscall.Flock(int(l.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("locking %s: %w", lockPath, err)
	}
	defer syscall.Flock(int(l.Fd()), syscall.LOCK_UN)
	return f()
}

// ensureUser creates name with a home and bash, and with password "*":
// no password can match it, but the account is not locked, so public-key
// logins through PAM work.
func ensureUser(name string) error {
	return withLock(func() error {
		if _, err := user.Lookup(name); err == nil {
			return nil
		}
		if out, err := runTool(toolPath("useradd"), "-m", "-s", "/bin/bash", name); err != nil {
			return fmt.Errorf("useradd %s: %v: %s", name, err, out)
		}
		if out, err := runTool(toolPath("usermod"), "-p", "*", name); err != nil {
			return fmt.Errorf("usermod -p '*' %s: %v: %s", name, err, out)
		}
		return nil
	})
}

// authorize appends key to name's ~/.ssh/authorized_keys unless it is
// there already; the file and directory belong to the user, modes 600 and
// 700.
func authorize(name, key string) error {
	return withLock(func() error {
		u, uid, gid, err := lookup(name)
		if err != nil {
			return err
		}
		dir := filepath.Join(u.HomeDir, ".ssh")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		if err := chownMod(dir, uid, gid, 0o700); err != nil {
			return err
		}
		path := filepath.Join(dir, "authorized_keys")
		old, err := os.ReadFile(path)
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		if !hasLine(string(old), key) {
			f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
			if err != nil {
				return err
			}
			sep := ""
			if len(old) > 0 && old[len(old)-1] != '\n' {
				sep = "\n"
			}
			_, werr := f.WriteString(sep + key + "\n")
			if err := f.Close(); werr == nil {
				werr = err
			}
			if werr != nil {
				return fmt.Errorf("writing %s: %w", path, werr)
			}
		}
		return chownMod(path, uid, gid, 0o600)
	})
}

// unauthorize removes key from name's authorized_keys, replacing the file
// atomically so that a concurrent login never reads half of it.
func unauthorize(name, key string) error {
	return withLock(func() error {
		u, uid, gid, err := lookup(name)
		if err != nil {
			return err
		}
		path := filepath.Join(u.HomeDir, ".ssh", "authorized_keys")
		old, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		var keep strings.Builder
		for l := range strings.Lines(string(old)) {
			if strings.TrimRight(l, "\r\n") != key {
				keep.WriteString(l)
			}
		}
		if keep.Len() == len(old) {
			return nil
		}
		tmp := path + ".sshdtest"
		if err := os.WriteFile(tmp, []byte(keep.String()), 0o600); err != nil {
			return err
		}
		if err := chownMod(tmp, uid, gid, 0o600); err != nil {
			return err
		}
		return os.Rename(tmp, path)
	})
}

func lookup(name string) (*user.User, int, int, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, 0, 0, err
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("user %s: uid %q: %w", name, u.Uid, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("user %s: gid %q: %w", name, u.Gid, err)
	}
	return u, uid, gid, nil
}

func chownMod(path string, uid, gid int, mode os.FileMode) error {
	if err := os.Chown(path, uid, gid); err != nil {
		return err
	}
	return os.Chmod(path, mode)
}

func hasLine(text, line string) bool {
	for l := range strings.Lines(text) {
		if strings.TrimRight(l, "\r\n") == line {
			return true
		}
	}
	return false
}

// toolPath finds name in PATH, or in the sbin directories a non-login
// root shell may lack.
func toolPath(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	return name
}
