package sshdconf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"runtime"
	"slices"
	"strings"
	"syscall"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// RootFS is a directory tree read as if it were "/" (--root DIR), with
// chroot semantics: every name, every symbolic link and every ".." is
// resolved inside the tree. An absolute link target such as /etc/shadow
// names DIR/etc/shadow, a relative one that climbs above the top stops at
// the top, as ".." does at "/"; nothing outside the tree is opened, read or
// listed, whatever the tree holds. It is an [io/fs.FS] (with Stat and
// ReadDir) for [Load], and [RootFS.OpenFile] gives writers the same
// resolution. It is safe for concurrent use; [RootFS.Close] releases it.
//
// The resolver is the kernel's: openat2(2) with RESOLVE_IN_ROOT (Linux 5.6
// and later), which walks each name from a descriptor of the tree's top and
// re-roots every absolute link and ".." at it. It is race-free (a component
// swapped for a link while a name is resolved is resolved in the tree too)
// and it costs what open(2) costs: reading a file is still open, fstat,
// read and close, as with [DirFS]. Where the kernel refuses openat2 (older
// kernels, or a seccomp filter that does not know it), the tree is read
// through github.com/cyphar/filepath-securejoin's pathrs-lite, which
// emulates RESOLVE_IN_ROOT with O_PATH descriptors and reopens files through
// /proc: the same resolution, about seven times slower per file. The choice
// is made once, by [OpenRoot], never per name, so that a name the kernel
// refuses is not retried with the other resolver.
//
// [os.Root] was not used: it refuses a link that leaves the tree ("path
// escapes from parent") where a chroot follows it inside the tree, so a copy
// of a host's /etc whose links are absolute (Debian's /etc/alternatives,
// cloud images' sshd_config.d links) would not read as the host reads it.
type RootFS struct {
	dir  string
	top  *os.File // an O_PATH descriptor of dir; its finalizer closes it if Close is not called
	fd   int      // top's descriptor
	emul bool     // openat2 is refused here: resolve with pathrs-lite
}

// resolveInRoot are the openat2 resolve flags of every lookup: chroot
// semantics, and no /proc magic links (a tree holding a mounted /proc could
// jump out through /proc/self/root otherwise).
const resolveInRoot = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// OpenRoot opens the directory dir as the root of a [RootFS]. It fails when
// dir is not a directory that can be opened.
func OpenRoot(dir string) (*RootFS, error) {
	top, err := os.OpenFile(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	r := &RootFS{dir: dir, top: top, fd: int(top.Fd())}
	// One lookup tells whether the kernel has openat2 and lets this
	// process use it.
	fd, err := r.openat2(".", unix.O_PATH, 0)
	switch {
	case err == nil:
		unix.Close(fd)
	case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EPERM), errors.Is(err, unix.EINVAL), errors.Is(err, unix.E2BIG):
		r.emul = true
	default:
		top.Close()
		return nil, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	return r, nil
}

// Dir returns the directory r reads as "/".
func (r *RootFS) Dir() string { return r.dir }

// Close releases the tree's descriptor. Files already open stay usable.
func (r *RootFS) Close() error { return r.top.Close() }

// openat2 opens name, relative to the tree's top, with flags (O_CLOEXEC is
// added) and chroot resolution, retrying where a concurrent rename makes
// the kernel give up on a ".." (EAGAIN, EXDEV), as pathrs-lite does.
func (r *RootFS) openat2(name string, flags int, perm uint32) (int, error) {
	how := &unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Mode: uint64(perm), Resolve: resolveInRoot}
	if flags&unix.O_CREAT == 0 && flags&unix.O_TMPFILE != unix.O_TMPFILE {
		how.Mode = 0 // openat2 refuses a mode it would not use
	}
	for tries := 0; ; tries++ {
		fd, err := unix.Openat2(r.fd, name, how)
		runtime.KeepAlive(r.top)
		switch {
		case err == nil:
			return fd, nil
		case err == unix.EINTR:
			continue
		case (err == unix.EAGAIN || err == unix.EXDEV) && tries < 128:
			continue
		}
		return -1, err
	}
}

// open opens name (relative to the top, any spelling) for reading with
// flags, and returns its descriptor.
func (r *RootFS) open(name string, flags int) (int, error) {
	if !r.emul {
		return r.openat2(name, flags, 0)
	}
	h, err := pathrs.OpenatInRoot(r.top, name)
	if err != nil {
		return -1, underlying(err)
	}
	defer h.Close()
	if flags&unix.O_PATH != 0 {
		return dupFile(h)
	}
	f, err := pathrs.Reopen(h, flags)
	if err != nil {
		return -1, underlying(err)
	}
	defer f.Close()
	return dupFile(f)
}

// dupFile returns a new descriptor of f's file, leaving f's mode (blocking
// or not) as it is, as (*os.File).Fd would not.
func dupFile(f *os.File) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd, derr := -1, error(nil)
	if err := rc.Control(func(p uintptr) { fd, derr = unix.FcntlInt(p, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return -1, err
	}
	return fd, derr
}

// Open opens name for reading, as [DirFS] does (one descriptor, O_NONBLOCK
// so that a FIFO reads as empty), with every component resolved in the tree.
func (r *RootFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	fd, err := r.open(name, unix.O_RDONLY|unix.O_NOCTTY|unix.O_NONBLOCK)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &rawFile{fd: fd, name: name, root: r}, nil
}

// Stat describes name, following a final symbolic link in the tree.
func (r *RootFS) Stat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	fd, err := r.open(name, unix.O_PATH)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	defer unix.Close(fd)
	return fstat(fd, name)
}

// lstat describes name without following a final symbolic link: the
// Info of a folder's entries.
func (r *RootFS) lstat(name string) (fs.FileInfo, error) {
	var (
		fd  int
		err error
	)
	if !r.emul {
		fd, err = r.openat2(name, unix.O_PATH|unix.O_NOFOLLOW, 0)
	} else {
		var dir int
		dir, err = r.open(path.Dir(name), unix.O_PATH|unix.O_DIRECTORY)
		if err == nil {
			fd, err = unix.Openat(dir, path.Base(name), unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			unix.Close(dir)
		}
	}
	if err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: name, Err: err}
	}
	defer unix.Close(fd)
	return fstat(fd, name)
}

func fstat(fd int, name string) (fs.FileInfo, error) {
	st := &statInfo{name: path.Base(name)}
	for {
		err := syscall.Fstat(fd, &st.sys)
		if err == nil {
			return st, nil
		}
		if err != syscall.EINTR {
			return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
		}
	}
}

// ReadDir lists the folder name, sorted by name. The entries' Info
// describes them in the tree (without following a final link).
func (r *RootFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	fd, err := r.open(name, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	f := &rawFile{fd: fd, name: name, root: r}
	defer f.Close()
	ents, err := f.ReadDir(-1)
	slices.SortFunc(ents, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return ents, err
}

// OpenFile opens name as [os.OpenFile] does, for the writers of a tree
// (fix -w under --root): name is a path as sshd would open it (absolute or
// not, it starts at the tree's top), and every component, link and ".." is
// resolved in the tree. With O_CREAT a final symbolic link is not followed
// (O_NOFOLLOW is added: the open fails with ELOOP), so a file is created
// only where its name says, and replacing a file is best done by creating a
// file beside it and renaming it over with the descriptor of its folder
// (OpenFile(dir, O_RDONLY|O_DIRECTORY, 0), then renameat). The returned
// file's Name is the host path DIR/name, for messages only.
func (r *RootFS) OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	rel := strings.TrimLeft(name, "/")
	if rel == "" {
		rel = "."
	}
	if strings.IndexByte(rel, 0) >= 0 {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if flag&unix.O_CREAT != 0 {
		flag |= unix.O_NOFOLLOW
	}
	host := path.Join(r.dir, rel)
	var (
		fd  int
		err error
	)
	switch {
	case !r.emul:
		fd, err = r.openat2(rel, flag, uint32(perm.Perm()))
	case flag&unix.O_CREAT != 0:
		// pathrs-lite reopens files that exist; a new one is created in
		// its folder, resolved in the tree.
		var dir int
		dir, err = r.open(path.Dir(rel), unix.O_PATH|unix.O_DIRECTORY)
		if err == nil {
			fd, err = unix.Openat(dir, path.Base(rel), flag|unix.O_CLOEXEC, uint32(perm.Perm()))
			unix.Close(dir)
		}
	default:
		fd, err = r.open(rel, flag)
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: host, Err: err}
	}
	return os.NewFile(uintptr(fd), host), nil
}

// procFD names an open descriptor through /proc, so that the lstat calls
// os.File.ReadDir makes for entries of unknown type (file systems without
// d_type) look in the folder that is open, not at a path on the host.
func procFD(fd int) string { return fmt.Sprintf("/proc/self/fd/%d", fd) }

// rootEntry is an entry of a RootFS folder: its Info is looked up in the tree.
type rootEntry struct {
	fs.DirEntry
	r    *RootFS
	name string
}

func (e rootEntry) Info() (fs.FileInfo, error) { return e.r.lstat(e.name) }
