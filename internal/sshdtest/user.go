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

// ensureRootUser makes name, a user of the host, a user of the Debian
// root too, with the same uid, gid, password field and home: its
// passwd, group (its primary group) and shadow lines are copied into the
// root, replacing the root's lines of the same name, and its home is made
// in the root. A root's user or group of another name with the same id is
// an error. Files change only when a line differs, each by a rename, so
// that an sshd of another test that reads them meanwhile sees either
// version.
func ensureRootUser(root, name string) error {
	return withLock(func() error {
		u, uid, gid, err := lookup(name)
		if err != nil {
			return err
		}
		for _, f := range []struct {
			file string
			key  func(fields []string) bool // the host's line to copy
			id   int                        // field 2's value in it
		}{
			{"passwd", func(f []string) bool { return f[0] == name }, uid},
			{"group", func(f []string) bool { return len(f) > 2 && f[2] == strconv.Itoa(gid) }, gid},
			{"shadow", func(f []string) bool { return f[0] == name }, -1},
		} {
			hostLine, err := findLine("/etc/"+f.file, f.key)
			if err != nil {
				return err
			}
			if err := replaceLine(filepath.Join(root, "etc", f.file), hostLine, f.id); err != nil {
				return err
			}
		}
		home := filepath.Join(root, u.HomeDir)
		if _, err := os.Stat(home); !os.IsNotExist(err) {
			return err
		}
		if err := os.MkdirAll(home, 0o755); err != nil {
			return err
		}
		return os.Chown(home, uid, gid)
	})
}

// findLine returns the first line of a colon-separated file that key
// accepts.
func findLine(path string, key func(fields []string) bool) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	for l := range strings.Lines(string(b)) {
		l = strings.TrimRight(l, "\n")
		if key(strings.Split(l, ":")) {
			return l, nil
		}
	}
	return "", fmt.Errorf("%s has no line for the test user", path)
}

// replaceLine puts line in path instead of the lines with its name (the
// first field). id, unless -1, is its third field (uid or gid): another
// name with that id is an error.
func replaceLine(path, line string, id int) error {
	name, _, _ := strings.Cut(line, ":")
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var out strings.Builder
	for l := range strings.Lines(string(b)) {
		f := strings.Split(strings.TrimRight(l, "\n"), ":")
		if f[0] == name {
			continue
		}
		if id >= 0 && len(f) > 2 && f[2] == strconv.Itoa(id) {
			return fmt.Errorf("%s: %q has id %d, which the host's %s has: remove it from the root", path, f[0], id, name)
		}
		out.WriteString(l)
		if !strings.HasSuffix(l, "\n") {
			out.WriteByte('\n')
		}
	}
	out.WriteString(line + "\n")
	if out.String() == string(b) {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	sys := st.Sys().(*syscall.Stat_t)
	tmp := path + ".sshdtest"
	if err := os.WriteFile(tmp, []byte(out.String()), 0o600); err != nil {
		return err
	}
	if err := chownMod(tmp, int(sys.Uid), int(sys.Gid), st.Mode().Perm()); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// serverDir makes a new directory for one server under ROOT/run/sshdtest:
// root's, mode 0755 all the way (sshd opens authorized_keys files there
// as the user, and StrictModes wants every directory root's and writable
// by root alone).
func serverDir(root string) (string, error) {
	parent := filepath.Join(root, "run", "sshdtest")
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	if err := os.Chmod(parent, 0o755); err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(parent, "srv-")
	if err != nil {
		return "", err
	}
	return dir, os.Chmod(dir, 0o755)
}

// writeKeys writes key as DIR/USER for each user: root's files, mode 0644,
// in a directory of root's, mode 0755.
func writeKeys(dir string, users []string, key string) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	for _, u := range users {
		path := filepath.Join(dir, u)
		if err := os.WriteFile(path, []byte(key+"\n"), 0o644); err != nil {
			return err
		}
		if err := os.Chmod(path, 0o644); err != nil {
			return err
		}
	}
	return nil
}
