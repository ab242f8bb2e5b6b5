package watcher

import (
	"bytes"
	"errors"
	"strconv"
	"syscall"
	"unsafe"

	"github.com/sshwarden/sshwarden/internal/decimal"
)

// reader reads the files of one /proc tree for one scan. It reuses its
// buffers and calls openat, readlinkat and getdents64 relative to the
// tree's directory with paths built in its own NUL-terminated buffer, so
// reading thousands of processes allocates almost nothing (os.Open,
// os.ReadFile and os.Readlink allocate on every call), and costs few
// system calls: on a virtual machine one costs about a microsecond. Its
// results are valid until its next call.
type reader struct {
	dir   int    // the tree's directory
	path  []byte // NUL-terminated path of the last call, relative to dir
	buf   []byte // file contents
	link  []byte // a symbolic link's target
	dents []byte // getdents64 records
}

const (
	maxFile  = 1 << 20 // files are read up to this size (cmdline, status, ...)
	linkSize = 4096    // PATH_MAX
)

// newReader opens the tree at root. Close it when done.
func newReader(root string) (*reader, error) {
	dir, err := syscall.Open(root, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return &reader{
		dir:   dir,
		path:  make([]byte, 0, 64),
		buf:   make([]byte, 4096),
		link:  make([]byte, linkSize),
		dents: make([]byte, 8192),
	}, nil
}

func (r *reader) close() { syscall.Close(r.dir) }

// fork returns a reader of the same tree with buffers of its own, for
// another goroutine. Only the first reader is closed.
func (r *reader) fork() *reader {
	return &reader{
		dir:   r.dir,
		path:  make([]byte, 0, 64),
		buf:   make([]byte, 4096),
		link:  make([]byte, linkSize),
		dents: make([]byte, 8192),
	}
}

// at builds the NUL-terminated path pid/name ("." for pid 0 and no name).
func (r *reader) at(pid int, name string) []byte {
	p := r.path[:0]
	if pid > 0 {
		p = strconv.AppendInt(p, int64(pid), 10)
		if name != "" {
			p = append(p, '/')
		}
	}
	p = append(p, name...)
	if len(p) == 0 {
		p = append(p, '.')
	}
	r.path = append(p, 0)
	return r.path
}

// atFD builds the NUL-terminated path pid/dir/fd.
func (r *reader) atFD(pid int, dir string, fd []byte) []byte {
	p := r.at(pid, dir)
	p = append(p[:len(p)-1], '/')
	p = append(p, fd...)
	r.path = append(p, 0)
	return r.path
}

// readFile reads the file at the NUL-terminated path p, up to maxFile
// bytes. A read that does not fill the buffer ends it: for a regular
// file that is the end, and /proc's one-record files (stat, status,
// cmdline, sessionid, fdinfo) come whole in one read.
func (r *reader) readFile(p []byte) ([]byte, error) {
	fd, err := r.open(p, syscall.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	n := 0
	for {
		if n == len(r.buf) {
			if len(r.buf) >= maxFile {
				return r.buf[:n], nil
			}
			r.buf = append(r.buf, make([]byte, len(r.buf))...)
		}
		m, err := syscall.Read(fd, r.buf[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		n += m
		if m == 0 || n < len(r.buf) {
			return r.buf[:n], nil
		}
	}
}

// readLines calls line for every line of the file at p, read in chunks
// of the reader's buffer, so that a long file (/proc/net/tcp) does not
// need a buffer of its size. Lines longer than the buffer are skipped.
func (r *reader) readLines(p []byte, line func([]byte)) error {
	fd, err := r.open(p, syscall.O_RDONLY)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	if len(r.buf) < 32768 {
		r.buf = make([]byte, 32768)
	}
	have, skipping := 0, false
	for {
		m, err := syscall.Read(fd, r.buf[have:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if m == 0 {
			if have > 0 && !skipping {
				line(r.buf[:have])
			}
			return nil
		}
		data := r.buf[:have+m]
		for {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				break
			}
			if !skipping {
				line(data[:i])
			}
			skipping = false
			data = data[i+1:]
		}
		have = copy(r.buf, data)
		if have == len(r.buf) { // a line longer than the buffer
			have, skipping = 0, true
		}
	}
}

// readLink returns the target of the symbolic link at the NUL-terminated
// path p.
func (r *reader) readLink(p []byte) ([]byte, error) {
	for {
		n, _, e := syscall.Syscall6(syscall.SYS_READLINKAT, uintptr(r.dir),
			uintptr(unsafe.Pointer(&p[0])), uintptr(unsafe.Pointer(&r.link[0])), uintptr(len(r.link)), 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return nil, e
		}
		return r.link[:n], nil
	}
}

// readDir calls entry with the name of every entry of the directory at
// the NUL-terminated path p but "." and "..". The name is only valid
// during the call. With small set (a /proc/PID/fd directory, which
// procfs fills in as far as the buffer goes), a read that leaves room in
// the buffer ends the listing without one more getdents64.
func (r *reader) readDir(p []byte, small bool, entry func(name []byte)) error {
	fd, err := r.open(p, syscall.O_RDONLY|syscall.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	return r.listDir(fd, small, entry)
}

func (r *reader) listDir(fd int, small bool, entry func(name []byte)) error {
	for {
		n, err := syscall.ReadDirent(fd, r.dents)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n <= 0 {
			return nil
		}
		// struct linux_dirent64: d_ino u64, d_off s64, d_reclen u16,
		// d_type u8, d_name NUL-terminated.
		for b := r.dents[:n]; len(b) >= 19; {
			reclen := int(*(*uint16)(unsafe.Pointer(&b[16])))
			if reclen < 19 || reclen > len(b) {
				break
			}
			name := b[19:reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			if !(len(name) == 1 && name[0] == '.') && !(len(name) == 2 && name[0] == '.' && name[1] == '.') {
				entry(name)
			}
			b = b[reclen:]
		}
		if small && n < len(r.dents)-1024 {
			return nil
		}
	}
}

// open opens the NUL-terminated path p relative to the tree without
// allocating (syscall.Open copies its string argument on every call).
func (r *reader) open(p []byte, flags int) (int, error) {
	for {
		fd, _, e := syscall.Syscall6(syscall.SYS_OPENAT, uintptr(r.dir),
			uintptr(unsafe.Pointer(&p[0])), uintptr(flags|syscall.O_CLOEXEC), 0, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return -1, e
		}
		return int(fd), nil
	}
}

// gone reports whether err means the process (or the file) is not there
// any more: it exited during the scan.
func gone(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ESRCH) || errors.Is(err, syscall.ENOTDIR)
}

// isDenied reports whether err means we may not read the file.
func isDenied(err error) bool {
	return errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM)
}

// field returns the first field of b, fields being separated by runs of
// spaces and tabs, and the rest of b after it.
func field(b []byte) (f, rest []byte) {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for i, c := range b {
		if c == ' ' || c == '\t' {
			return b[:i], b[i:]
		}
	}
	return b, nil
}

// procStat holds the fields of /proc/PID/stat a scan uses.
type procStat struct {
	comm  []byte // valid while the reader's buffer is
	state byte
	ppid  int64
	ttyNr uint32 // field 7: the controlling tty's device number
	cpu   uint64 // fields 14 and 15, utime + stime: clock ticks of CPU
	start uint64 // field 22: clock ticks after boot
}

// parseStat parses /proc/PID/stat: "PID (COMM) STATE PPID ... STARTTIME ...".
// COMM may hold spaces and parentheses: it ends at the last ')'.
func parseStat(b []byte) (procStat, bool) {
	var s procStat
	l := bytes.IndexByte(b, '(')
	r := bytes.LastIndexByte(b, ')')
	if l < 0 || r < l {
		return s, false
	}
	s.comm = b[l+1 : r]
	rest := b[r+1:]
	for i := 3; i <= 22; i++ {
		var f []byte
		f, rest = field(rest)
		switch i {
		case 3:
			if len(f) != 1 {
				return s, false
			}
			s.state = f[0]
		case 4:
			n, ok := decimal.Parse(f)
			if !ok {
				return s, false
			}
			s.ppid = n
		case 7:
			n, ok := decimal.Parse(f)
			if !ok || n >= 1<<32 {
				return s, false
			}
			s.ttyNr = uint32(n)
		case 14, 15:
			n, ok := decimal.Parse(f)
			if !ok {
				return s, false
			}
			s.cpu += uint64(n)
		case 22:
			n, ok := decimal.Parse(f)
			if !ok {
				return s, false
			}
			s.start = uint64(n)
		default:
			if len(f) == 0 {
				return s, false
			}
		}
	}
	return s, true
}

// parseUID returns the real and effective uid from /proc/PID/status
// ("Uid:\tREAL\tEFFECTIVE\tSAVED\tFS").
func parseUID(b []byte) (real, effective int64, ok bool) {
	i := bytes.Index(b, []byte("\nUid:"))
	if i < 0 {
		return 0, 0, false
	}
	line := b[i+len("\nUid:"):]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	f0, line := field(line)
	f1, _ := field(line)
	real, ok1 := decimal.Parse(f0)
	effective, ok2 := decimal.Parse(f1)
	if !ok1 || !ok2 || real > 1<<32-1 || effective > 1<<32-1 {
		return 0, 0, false
	}
	return real, effective, true
}

// parseTTYIndex returns N from the "tty-index:\tN" line of the fdinfo of a
// pty master (Linux 4.x and later).
func parseTTYIndex(b []byte) (int, bool) {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if v, ok := bytes.CutPrefix(line, []byte("tty-index:")); ok {
			n, ok := decimal.Parse(bytes.TrimSpace(v))
			if !ok || n > 1<<20 {
				return 0, false
			}
			return int(n), true
		}
	}
	return 0, false
}

// parseSocket returns INODE from a fd link "socket:[INODE]".
func parseSocket(b []byte) (uint64, bool) {
	v, ok := bytes.CutPrefix(b, []byte("socket:["))
	if !ok || len(v) < 2 || v[len(v)-1] != ']' {
		return 0, false
	}
	n, ok := decimal.Parse(v[:len(v)-1])
	return uint64(n), ok && n > 0
}

// parseNetNS returns INODE from a namespace link "net:[INODE]".
func parseNetNS(b []byte) (int64, bool) {
	v, ok := bytes.CutPrefix(b, []byte("net:["))
	if !ok || len(v) < 2 || v[len(v)-1] != ']' {
		return 0, false
	}
	return decimal.Parse(v[:len(v)-1])
}
