package host

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sshwarden/sshwarden/sshdconf/fix"
)

// Change is the new content of one file.
type Change struct {
	// Path names the file to replace: for [Write] its path on this host,
	// for [WriteIn] the name sshd opens it by (the tree being its /).
	Path string
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
	return lockDir(ctx, dir, d)
}

// LockIn is [Lock] for the directory that sshd names dir in the tree
// root, resolved as [WriteIn] resolves names: it never opens a directory
// outside root.
func LockIn(ctx context.Context, root, dir string) (unlock func(), err error) {
	t, err := openTree(root)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", filepath.Join(root, dir), err)
	}
	defer t.close()
	show := t.show(dir)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("lock %s: %w", show, err)
	}
	rel, err := t.resolve(dir)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", show, err)
	}
	d, err := t.root.OpenFile(rel, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("lock %s: open %s: %w", show, t.show(rel), underlying(err))
	}
	return lockDir(ctx, show, d)
}

// lockDir takes the lock of [Lock] on d, the open directory dir.
func lockDir(ctx context.Context, dir string, d *os.File) (unlock func(), err error) {
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
// and SELinux label. Files are replaced one at a time, so a crash between
// two leaves the first new and the second old: [fix.Order] chooses an order in
// which sshd accepts every such state.
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
	t, err := openTree("/")
	if err != nil {
		return err
	}
	defer t.close()
	w := writer{t: t}
	return w.write(changes)
}

// WriteIn is [Write] for the files of a --root tree: the Path of each
// change is the name sshd opens (absolute, or relative to /), and it is
// resolved inside root as if root were / (a chroot): a symbolic link with
// an absolute target starts again at root, ".." stops there, and no
// operation of WriteIn (read, create, rename, sync, removal of stale
// temporary files) reaches outside root, even if the tree changes
// meanwhile. So a link in the tree that points to a file of this host
// replaces the file of that name in the tree, or fails naming it when the
// tree has none; it never touches the host's.
func WriteIn(root string, changes []Change) error {
	t, err := openTree(root)
	if err != nil {
		return fmt.Errorf("write in %s: %w", root, err)
	}
	defer t.close()
	w := writer{t: t, inTree: true}
	return w.write(changes)
}

// writer does the work of [Write] and [WriteIn]; tests set crash to kill
// the process at the named points.
type writer struct {
	t      *tree
	inTree bool // names are sshd's, under t (else host paths)
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
		name, show := c.Path, c.Path
		if w.inTree {
			// Not cleaned: ".." after a link goes where the link leads.
			show = strings.TrimSuffix(w.t.dir, "/") + "/" + strings.TrimLeft(name, "/")
		} else if !filepath.IsAbs(name) {
			abs, err := filepath.Abs(name)
			if err != nil {
				return fmt.Errorf("write %s: %w", show, err)
			}
			name = abs
		}
		if err := w.writeFile(i, name, c, cleaned); err != nil {
			return fmt.Errorf("write %s: %w", show, err)
		}
	}
	return nil
}

// writeFile writes change i to the file name; cleaned records the
// directories already rid of the temporary files of crashed runs.
func (w *writer) writeFile(i int, name string, c Change, cleaned map[string]bool) error {
	t := w.t
	target, err := t.resolve(name)
	if err != nil {
		return err
	}
	cur, fi, label, err := t.readRegular(target)
	if err != nil {
		return err
	}
	if !bytes.Equal(cur, c.Old) {
		return errors.New("changed since it was read; run fix again")
	}
	dir, base := path.Split(target)
	dir = path.Clean(dir)
	if !cleaned[dir] {
		if err := t.removeStaleTemps(dir); err != nil {
			return err
		}
		cleaned[dir] = true
	}
	if bytes.Equal(cur, c.New) {
		return nil
	}

	tmp, f, err := t.createTemp(dir, base)
	if err != nil {
		return err
	}
	w.hit(pointTempCreated, i)
	if err := fillTemp(f, t.show(tmp), c.New, fi, label); err != nil {
		f.Close()
		t.root.Remove(tmp)
		return err
	}
	w.hit(pointTempWritten, i)
	if err := f.Sync(); err != nil {
		f.Close()
		t.root.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		t.root.Remove(tmp)
		return err
	}
	w.hit(pointTempSynced, i)
	if err := t.root.Rename(tmp, target); err != nil {
		t.root.Remove(tmp)
		return &os.LinkError{Op: "rename", Old: t.show(tmp), New: t.show(target), Err: underlying(err)}
	}
	w.hit(pointRenamed, i)
	if err := t.syncDir(dir); err != nil {
		return err
	}
	w.hit(pointDirSynced, i)
	return nil
}

// selinuxXattr is the extended attribute that holds a file's SELinux
// label.
const selinuxXattr = "security.selinux"

// selinuxLabel returns the SELinux label of the file name, or nil if it
// has none or the file system has no labels.
func selinuxLabel(name string) ([]byte, error) {
	label, err := getLabel(func(buf []byte) (int, error) { return unix.Getxattr(name, selinuxXattr, buf) })
	if err != nil {
		return nil, fmt.Errorf("get %s of %s: %w", selinuxXattr, name, err)
	}
	return label, nil
}

// fileLabel returns the SELinux label of the open file f, or nil.
func fileLabel(f *os.File) ([]byte, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var label []byte
	var gerr error
	if err := rc.Control(func(fd uintptr) {
		label, gerr = getLabel(func(buf []byte) (int, error) { return unix.Fgetxattr(int(fd), selinuxXattr, buf) })
	}); err != nil {
		return nil, err
	}
	if gerr != nil {
		return nil, fmt.Errorf("get %s: %w", selinuxXattr, gerr)
	}
	return label, nil
}

// getLabel reads the label with get, which is getxattr(2) or fgetxattr(2)
// into its buffer.
func getLabel(get func(buf []byte) (int, error)) ([]byte, error) {
	for {
		n, err := get(nil)
		if err != nil {
			if noXattr(err) {
				return nil, nil
			}
			return nil, err
		}
		buf := make([]byte, n)
		n, err = get(buf)
		if err == unix.ERANGE {
			continue // the label grew between the two calls
		}
		if err != nil {
			if noXattr(err) {
				return nil, nil
			}
			return nil, err
		}
		return buf[:n], nil
	}
}

// noXattr reports whether err from getxattr(2) means that there is no such
// attribute.
func noXattr(err error) bool {
	return err == unix.ENODATA || err == unix.ENOTSUP || err == unix.EOPNOTSUPP
}

// tempMarker separates the name of the file from the random part in the
// name of a temporary file: "." + base + tempMarker + tempHexLen hex
// digits, as fix's Order expects.
const (
	tempMarker = fix.TempMarker
	tempHexLen = fix.TempHexLen
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
func (t *tree) removeStaleTemps(dir string) error {
	d, err := t.root.Open(dir)
	if err != nil {
		return &fs.PathError{Op: "open", Path: t.show(dir), Err: underlying(err)}
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return &fs.PathError{Op: "readdir", Path: t.show(dir), Err: underlying(err)}
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !isTemp(e.Name()) {
			continue
		}
		err := t.root.Remove(path.Join(dir, e.Name()))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove stale temporary file %s: %w", t.show(path.Join(dir, e.Name())), underlying(err))
		}
	}
	return nil
}

// createTemp creates a new temporary file for the file base of dir,
// writable only by its owner, and returns its name in t.
func (t *tree) createTemp(dir, base string) (string, *os.File, error) {
	const flag = os.O_WRONLY | os.O_CREATE | os.O_EXCL | syscall.O_NOFOLLOW | syscall.O_CLOEXEC
	for try := 0; ; try++ {
		name := path.Join(dir, tempName(base))
		f, err := t.root.OpenFile(name, flag, 0o600)
		if err == nil {
			return name, f, nil
		}
		if !errors.Is(err, fs.ErrExist) || try == 10 {
			return "", nil, &fs.PathError{Op: "open", Path: t.show(name), Err: underlying(err)}
		}
	}
}

// createTemp creates a new temporary file for the file base of dir on
// this host, writable only by its owner.
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
	tfi, err := f.Stat()
	if err != nil {
		return err
	}
	if tst, ok := tfi.Sys().(*syscall.Stat_t); !ok || tst.Uid != st.Uid || tst.Gid != st.Gid {
		if err := f.Chown(int(st.Uid), int(st.Gid)); err != nil {
			return fmt.Errorf("give %s the owner %d:%d of the file it replaces: %w", name, st.Uid, st.Gid, err)
		}
	}
	if err := f.Chmod(fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)); err != nil {
		return err
	}
	if label != nil {
		rc, err := f.SyscallConn()
		if err != nil {
			return err
		}
		var serr error
		if err := rc.Control(func(fd uintptr) { serr = unix.Fsetxattr(int(fd), selinuxXattr, label, 0) }); err != nil {
			return err
		}
		if serr != nil {
			return fmt.Errorf("set %s of %s: %w", selinuxXattr, name, serr)
		}
	}
	return nil
}

// syncDir flushes the directory dir of t, so that a rename in it survives
// a crash of the system.
func (t *tree) syncDir(dir string) error {
	d, err := t.root.Open(dir)
	if err != nil {
		return &fs.PathError{Op: "open", Path: t.show(dir), Err: underlying(err)}
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return fmt.Errorf("sync directory %s: %w", t.show(dir), underlying(err))
	}
	return d.Close()
}

// syncDir flushes the directory dir of this host.
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
