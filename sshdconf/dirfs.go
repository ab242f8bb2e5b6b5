package sshdconf

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"syscall"
	"time"
)

// DirFS returns the file system of the tree rooted at dir, for [Load]: "/"
// for the host, or a folder holding a copy of a host's files (--root).
//
// It works as [os.DirFS] does, with the same names and the same symbolic
// links followed, but it opens a file with one system call where os.DirFS
// makes six (open, then the fcntl and epoll_ctl calls of the runtime's
// poller, which refuses regular files anyway). Reading a configuration file
// is then open, fstat, read to the end and close: five calls instead of ten.
// Where a system call costs a microsecond, as on the VM this was measured
// on, the reads are about a third of the time `sshwarden lint` spends on a
// tree (see `make bench-lint`).
//
// Files are opened with O_NONBLOCK, so a FIFO matched by an Include pattern
// reads as empty instead of blocking the linter for ever (sshd would block).
// A file it opens must be closed: it has no finalizer.
//
// DirFS does not confine: a link in dir that points out of it is followed
// on the host. A tree that is not trusted, --root, is read with [OpenRoot].
func DirFS(dir string) fs.FS { return dirFS(dir) }

type dirFS string

func (d dirFS) join(op, name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return string(d), nil
	}
	return path.Join(string(d), name), nil
}

// Open opens name for reading.
func (d dirFS) Open(name string) (fs.File, error) {
	p, err := d.join("open", name)
	if err != nil {
		return nil, err
	}
	var fd int
	for {
		fd, err = syscall.Open(p, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &rawFile{fd: fd, name: name, path: p}, nil
}

// Stat describes name, following a symbolic link as os.Stat does.
func (d dirFS) Stat(name string) (fs.FileInfo, error) {
	p, err := d.join("stat", name)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(p)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: underlying(err)}
	}
	return st, nil
}

// ReadDir lists the folder name, sorted by name.
func (d dirFS) ReadDir(name string) ([]fs.DirEntry, error) {
	p, err := d.join("readdir", name)
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(p)
	if err != nil {
		return ents, &fs.PathError{Op: "readdir", Path: name, Err: underlying(err)}
	}
	return ents, nil
}

// underlying is the error inside an *fs.PathError (whose path names the
// host's file rather than fsys's), or the errno inside the errors
// pathrs-lite wraps, for messages that name the file as sshd would.
func underlying(err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// rawFile is an open file of a dirFS or a RootFS: a bare descriptor,
// handed to an *os.File when it is listed as a folder.
type rawFile struct {
	fd   int
	name string   // in the dirFS
	path string   // on the host (a dirFS's)
	root *RootFS  // the RootFS it was opened in, nil for a dirFS
	dir  *os.File // named by path, so that its entries' Info finds them
}

// ReadDir lists the folder f is, as fs.ReadDirFile does.
func (f *rawFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if f.dir == nil {
		if f.fd < 0 {
			return nil, &fs.PathError{Op: "readdir", Path: f.name, Err: fs.ErrClosed}
		}
		name := f.path
		if f.root != nil {
			// Not a host path: the folder is where the tree's
			// resolution found it, whatever a path says now.
			name = procFD(f.fd)
		}
		f.dir = os.NewFile(uintptr(f.fd), name)
		f.fd = -1
	}
	ents, err := f.dir.ReadDir(n)
	if err != nil && err != io.EOF {
		err = &fs.PathError{Op: "readdir", Path: f.name, Err: underlying(err)}
	}
	if f.root != nil {
		for i, e := range ents {
			ents[i] = rootEntry{DirEntry: e, r: f.root, name: path.Join(f.name, e.Name())}
		}
	}
	return ents, err
}

func (f *rawFile) Stat() (fs.FileInfo, error) {
	if f.dir != nil {
		st, err := f.dir.Stat()
		if err != nil || f.root == nil {
			return st, err
		}
		return namedInfo{st, path.Base(f.name)}, nil
	}
	st := &statInfo{name: path.Base(f.name)}
	for {
		err := syscall.Fstat(f.fd, &st.sys)
		if err == nil {
			return st, nil
		}
		if err != syscall.EINTR {
			return nil, &fs.PathError{Op: "stat", Path: f.name, Err: err}
		}
	}
}

func (f *rawFile) Read(b []byte) (int, error) {
	if f.dir != nil {
		return f.dir.Read(b)
	}
	if len(b) == 0 {
		return 0, nil
	}
	for {
		n, err := syscall.Read(f.fd, b)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return 0, &fs.PathError{Op: "read", Path: f.name, Err: err}
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

func (f *rawFile) Close() error {
	if f.dir != nil {
		return f.dir.Close()
	}
	if f.fd < 0 {
		return &fs.PathError{Op: "close", Path: f.name, Err: fs.ErrClosed}
	}
	err := syscall.Close(f.fd)
	f.fd = -1
	if err != nil {
		return &fs.PathError{Op: "close", Path: f.name, Err: err}
	}
	return nil
}

// namedInfo is an fs.FileInfo under another name.
type namedInfo struct {
	fs.FileInfo
	name string
}

func (n namedInfo) Name() string { return n.name }

// statInfo is an fs.FileInfo from fstat; Sys returns the *syscall.Stat_t.
type statInfo struct {
	name string
	sys  syscall.Stat_t
}

func (s *statInfo) Name() string       { return s.name }
func (s *statInfo) Size() int64        { return s.sys.Size }
func (s *statInfo) ModTime() time.Time { return time.Unix(s.sys.Mtim.Unix()) }
func (s *statInfo) IsDir() bool        { return s.Mode().IsDir() }
func (s *statInfo) Sys() any           { return &s.sys }

// Mode converts the kernel's mode bits as os.Stat does.
func (s *statInfo) Mode() fs.FileMode {
	m := fs.FileMode(s.sys.Mode & 0o777)
	switch s.sys.Mode & syscall.S_IFMT {
	case syscall.S_IFBLK:
		m |= fs.ModeDevice
	case syscall.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFDIR:
		m |= fs.ModeDir
	case syscall.S_IFIFO:
		m |= fs.ModeNamedPipe
	case syscall.S_IFLNK:
		m |= fs.ModeSymlink
	case syscall.S_IFSOCK:
		m |= fs.ModeSocket
	}
	if s.sys.Mode&syscall.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if s.sys.Mode&syscall.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if s.sys.Mode&syscall.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}
