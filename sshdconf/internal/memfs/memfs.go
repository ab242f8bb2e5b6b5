// Package memfs is a read-only file system held in memory, rooted at "/":
// what sshdconf.Parsed, sshdconf's overlays and the tests of sshdconf and
// its checks load configurations from.
package memfs

import (
	"bytes"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
)

// FS is an [fs.FS] of files held in memory, by slash-separated name
// without the leading '/' ("etc/ssh/sshd_config"). A folder exists where
// a file is below it; it lists as the names below it.
type FS map[string][]byte

// New returns the FS of files, whose names may start with '/' and are
// cleaned ("/etc/ssh//x" is "etc/ssh/x").
func New(files map[string][]byte) FS {
	m := FS{}
	for n, b := range files {
		m[strings.TrimPrefix(path.Clean("/"+n), "/")] = b
	}
	return m
}

// Open opens the file or folder name.
func (m FS) Open(name string) (fs.File, error) {
	if b, ok := m[name]; ok {
		return File(name, b), nil
	}
	if st, err := m.Stat(name); err == nil {
		return &file{Reader: bytes.NewReader(nil), info: st.(info)}, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// ReadFile returns a copy of the bytes of file name.
func (m FS) ReadFile(name string) ([]byte, error) {
	if b, ok := m[name]; ok {
		return bytes.Clone(b), nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// Stat describes the file or folder name.
func (m FS) Stat(name string) (fs.FileInfo, error) {
	if b, ok := m[name]; ok {
		return Info(name, int64(len(b))), nil
	}
	prefix := name + "/"
	if name == "." {
		prefix = ""
	}
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			return info{name: path.Base(name), dir: true}, nil
		}
	}
	return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
}

// ReadDir lists folder name, sorted by name; a folder with nothing below
// it does not exist.
func (m FS) ReadDir(name string) ([]fs.DirEntry, error) {
	prefix := name + "/"
	if name == "." {
		prefix = ""
	}
	seen := map[string]bool{}
	var out []fs.DirEntry
	for k := range m {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		rest := k[len(prefix):]
		n, _, isDir := strings.Cut(rest, "/")
		if seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, fs.FileInfoToDirEntry(info{name: n, dir: isDir}))
	}
	if len(out) == 0 {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// File returns an open regular file named name (its base name is
// kept) that reads b.
func File(name string, b []byte) fs.File {
	return &file{Reader: bytes.NewReader(b), info: info{name: path.Base(name), size: int64(len(b))}}
}

// Info describes a regular file named name (its base name is kept) of
// size bytes, mode 0644.
func Info(name string, size int64) fs.FileInfo {
	return info{name: path.Base(name), size: size}
}

type file struct {
	*bytes.Reader
	info info
}

func (f *file) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *file) Close() error               { return nil }

type info struct {
	name string
	size int64
	dir  bool
}

func (f info) Name() string { return f.name }
func (f info) Size() int64  { return f.size }
func (f info) Mode() fs.FileMode {
	if f.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (f info) ModTime() time.Time { return time.Time{} }
func (f info) IsDir() bool        { return f.dir }
func (f info) Sys() any           { return nil }
