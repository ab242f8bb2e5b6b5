package fix

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Change is the new content of one file.
type Change struct {
	Path string // OS path of the file to replace (already joined with --root)
	Old  []byte // the content the change was computed from
	New  []byte
}

// lockRetry is how often [Lock] tries again while another process holds
// the lock.
const lockRetry = 50 * time.Millisecond

// Lock takes an exclusive flock(2) on the directory dir, so that two runs
// that change the files under it (an admin's `sshwarden fix -w` and the
// agent) cannot interleave. While another process holds the lock, Lock
// tries again every 50ms until ctx is done, and then fails with an error
// that says another sshwarden holds the lock on dir. Lock creates no file.
//
// The lock belongs to the open directory, not to the process or the
// goroutine: a second Lock of the same dir waits for the first to be
// released even in the same process. The returned unlock releases the
// lock; calling it more than once is harmless.
func Lock(ctx context.Context, dir string) (unlock func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	d, err := os.OpenFile(dir, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	fd := int(d.Fd())
	for {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if err == syscall.EINTR {
			continue
		}
		if err != syscall.EWOULDBLOCK {
			d.Close()
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		t := time.NewTimer(lockRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			d.Close()
			return nil, fmt.Errorf("another sshwarden holds the lock on %s: %w", dir, context.Cause(ctx))
		case <-t.C:
		}
	}
	return sync.OnceFunc(func() {
		syscall.Flock(fd, syscall.LOCK_UN)
		d.Close()
	}), nil
}

// Write replaces the file of each change with its New content, in order,
// atomically per file: a crash at any moment leaves each file with either
// its old or its new content, never a mix, and with its old owner, mode
// and SELinux label.
//
// A symbolic link is followed, and its target is replaced: sshd reads the
// target, and the link stays what the admin made it. The file must exist
// and be a regular file; Write never creates one. A hard link to the file
// keeps the old content, as with most editors.
//
// The file is read again first, and Write fails if its content is no
// longer the Old content of the change (an editor that does not take the
// [Lock] changed it); it then writes nothing more, but the files of
// earlier changes of the same call stay replaced. A file whose content is
// already New is not touched, so that its modification time stays.
//
// The new content goes to a temporary file in the same directory, whose
// name starts with a dot, so that no Include pattern of sshd_config(5)
// picks it up (glob(3) skips dot files); it is synced, renamed over the
// file, and the directory is synced. Write also removes the temporary
// files that an earlier run left when it crashed, from the directory of
// each file it may change (even one it leaves as is). The caller holds the
// [Lock] while it reads the files, computes the changes and calls Write.
func Write(changes []Change) error {
	var w writer
	return w.write(changes)
}

// writer does the work of [Write]; tests set crash to kill the process at
// the named points.
type writer struct {
	// crash, if not nil, is called at each point of a write, named
	// "temp-created", "temp-written", "temp-synced", "renamed" and
	// "dir-synced", followed by ":" and the index of the change.
	crash func(point string)
}

// Crash points, in the order a write reaches them.
const (
	pointTempCreated = "temp-created"
	pointTempWritten = "temp-written"
	pointTempSynced  = "temp-synced"
	pointRenamed     = "renamed"
	pointDirSynced   = "dir-synced"
)

func (w *writer) hit(point string, i int) {
	if w.crash != nil {
		w.crash(point + ":" + strconv.Itoa(i))
	}
}

func (w *writer) write(changes []Change) error {
	cleaned := make(map[string]bool)
	for i, c := range changes {
		if err := w.writeFile(i, c, cleaned); err != nil {
			return fmt.Errorf("write %s: %w", c.Path, err)
		}
	}
	return nil
}

// writeFile writes change i; cleaned records the directories already rid
// of the temporary files of crashed runs.
func (w *writer) writeFile(i int, c Change, cleaned map[string]bool) error {
	target, err := filepath.EvalSymlinks(c.Path)
	if err != nil {
		return err
	}
	cur, fi, err := readRegular(target)
	if err != nil {
		return err
	}
	if !bytes.Equal(cur, c.Old) {
		return errors.New("changed since it was read; run fix again")
	}
	dir, base := filepath.Split(target)
	dir = filepath.Clean(dir)
	if !cleaned[dir] {
		if err := removeStaleTemps(dir); err != nil {
			return err
		}
		cleaned[dir] = true
	}
	if bytes.Equal(cur, c.New) {
		return nil
	}
	label, err := selinuxLabel(target)
	if err != nil {
		return err
	}

	tmp, f, err := createTemp(dir, base)
	if err != nil {
		return err
	}
	w.hit(pointTempCreated, i)
	if err := fillTemp(f, tmp, c.New, fi, label); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	w.hit(pointTempWritten, i)
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	w.hit(pointTempSynced, i)
	if err := os.Rename(tmp, target); err != nil {
		os.Remove(tmp)
		return err
	}
	w.hit(pointRenamed, i)
	if err := syncDir(dir); err != nil {
		return err
	}
	w.hit(pointDirSynced, i)
	return nil
}

// readRegular returns the content and the file info of the regular file
// name, which is not a symbolic link.
func readRegular(name string) ([]byte, fs.FileInfo, error) {
	// Lstat first, so that a FIFO does not block the open.
	if fi, err := os.Lstat(name); err != nil {
		return nil, nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, nil, errors.New("not a regular file")
	}
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, errors.New("not a regular file")
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, nil, err
	}
	return b, fi, nil
}

// selinuxXattr is the extended attribute that holds a file's SELinux
// label.
const selinuxXattr = "security.selinux"

// selinuxLabel returns the SELinux label of the file name, or nil if it
// has none or the file system has no labels.
func selinuxLabel(name string) ([]byte, error) {
	for {
		n, err := syscall.Getxattr(name, selinuxXattr, nil)
		if err != nil {
			if noXattr(err) {
				return nil, nil
			}
			return nil, fmt.Errorf("get %s of %s: %w", selinuxXattr, name, err)
		}
		buf := make([]byte, n)
		n, err = syscall.Getxattr(name, selinuxXattr, buf)
		if err == syscall.ERANGE {
			continue // the label grew between the two calls
		}
		if err != nil {
			if noXattr(err) {
				return nil, nil
			}
			return nil, fmt.Errorf("get %s of %s: %w", selinuxXattr, name, err)
		}
		return buf[:n], nil
	}
}

// noXattr reports whether err from getxattr(2) means that there is no such
// attribute.
func noXattr(err error) bool {
	return err == syscall.ENODATA || err == syscall.ENOTSUP || err == syscall.EOPNOTSUPP
}

// tempMarker separates the name of the file from the random part in the
// name of a temporary file: "." + base + tempMarker + tempHexLen hex
// digits.
const (
	tempMarker = ".sshwarden-"
	tempHexLen = 16
)

// tempName returns a new name for a temporary file next to the file base.
func tempName(base string) string {
	b := make([]byte, tempHexLen/2)
	rand.Read(b) // never fails
	return "." + base + tempMarker + hex.EncodeToString(b)
}

// isTemp reports whether name is the name of a temporary file of
// [Write]: a dot, any text, [tempMarker] and exactly [tempHexLen]
// lower-case hex digits.
func isTemp(name string) bool {
	i := strings.LastIndex(name, tempMarker)
	if i < 1 || name[0] != '.' {
		return false
	}
	h := name[i+len(tempMarker):]
	if len(h) != tempHexLen {
		return false
	}
	for _, c := range h {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// removeStaleTemps removes the regular files of dir that are temporary
// files of [Write], left by a run that crashed.
func removeStaleTemps(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !isTemp(e.Name()) {
			continue
		}
		err := os.Remove(filepath.Join(dir, e.Name()))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove stale temporary file: %w", err)
		}
	}
	return nil
}

// createTemp creates a new temporary file for the file base of dir,
// writable only by its owner.
func createTemp(dir, base string) (string, *os.File, error) {
	const flag = os.O_WRONLY | os.O_CREATE | os.O_EXCL | syscall.O_NOFOLLOW | syscall.O_CLOEXEC
	for try := 0; ; try++ {
		name := filepath.Join(dir, tempName(base))
		f, err := os.OpenFile(name, flag, 0o600)
		if err == nil {
			return name, f, nil
		}
		if !errors.Is(err, fs.ErrExist) || try == 10 {
			return "", nil, err
		}
	}
}

// fillTemp writes content to the temporary file f named name and gives it
// the owner, the mode and the SELinux label of the file of fi.
func fillTemp(f *os.File, name string, content []byte, fi fs.FileInfo, label []byte) error {
	if _, err := f.Write(content); err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("no owner in the file info of %s", fi.Name())
	}
	// Owner first: chown(2) clears the set-user-ID and set-group-ID bits.
	// Only when it differs: the file created already has ours, and the
	// hardened unit's system call filter refuses fchown.
	var tst syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &tst); err != nil {
		return err
	}
	if tst.Uid != st.Uid || tst.Gid != st.Gid {
		if err := f.Chown(int(st.Uid), int(st.Gid)); err != nil {
			return fmt.Errorf("give %s the owner %d:%d of the file it replaces: %w", name, st.Uid, st.Gid, err)
		}
	}
	if err := f.Chmod(fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)); err != nil {
		return err
	}
	if label != nil {
		// The syscall package has no fsetxattr, so this goes by name; only
		// who may rename in dir, and so replace the file anyway, could
		// swap the temporary file created with O_EXCL.
		if err := syscall.Setxattr(name, selinuxXattr, label, 0); err != nil {
			return fmt.Errorf("set %s of %s: %w", selinuxXattr, name, err)
		}
	}
	return nil
}

// syncDir flushes the directory dir, so that a rename in it survives a
// crash of the system.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return d.Close()
}

// WriteFile replaces or creates the file path with content and mode, as
// [Write] replaces a file: a temporary file next to it (the same names),
// synced, renamed over path, the folder synced. A reader sees the old file
// or the new one, never a part; on failure path is untouched and the
// temporary file removed. It is for files sshwarden owns (the agent's
// metrics textfile): no old content is checked, no owner kept, no lock
// taken, so one writer per file.
func WriteFile(path string, content []byte, mode fs.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, f, err := createTemp(dir, base)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(content); err != nil {
		return err
	}
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	// The rename is done: the temporary file is gone, and the new file is
	// in place; only its durability depends on the folder's sync.
	if err := syncDir(dir); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}

// RemoveStaleTemps removes the temporary files of path (of [WriteFile]
// or [Write]) older than age: the leftovers of a crash, not a running
// writer's. Errors are ignored: leftovers only take space.
func RemoveStaleTemps(path string, age time.Duration) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := "." + base + tempMarker
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), prefix) || !isTemp(e.Name()) || len(e.Name()) != len(prefix)+tempHexLen {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > age {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
