package host

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/sshwarden/sshwarden/sshdconf"
)

// maxLinks is how many symbolic links one name may go through, as in
// Linux (MAXSYMLINKS); one more fails with ELOOP.
const maxLinks = 40

// tree is the file tree the names of a configuration are resolved in:
// the host's ("/") or a --root tree, opened as an [os.Root], so that no
// operation reaches outside it.
type tree struct {
	dir  string // the tree's folder on this host, as given
	root *os.Root
}

func openTree(dir string) (*tree, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &tree{dir: dir, root: r}, nil
}

func (t *tree) close() { t.root.Close() }

// show is how errors name the file rel (relative to the tree's root) of
// this host.
func (t *tree) show(rel string) string { return filepath.Join(t.dir, rel) }

// resolve returns the path, relative to the tree's root, of the file that
// sshd opens as name (absolute, or relative to /) if the tree were its /:
// each symbolic link is resolved inside the tree, an absolute target
// starting again at the tree's root, and ".." stopping there, as in a
// chroot. Every component of the result but those from the first missing
// one on exists and is not a symbolic link (a later change of the tree is
// caught by the [os.Root] the result is used with: it never leaves the
// tree). The tree's root itself is ".".
func (t *tree) resolve(name string) (string, error) {
	var done []string
	todo := strings.Split(name, "/")
	links := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		p := path.Join(append(done, c)...)
		fi, err := t.root.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			// Nothing below a missing name can be looked up: the rest
			// names a file to create, or the caller's next step fails
			// with ENOENT, as the kernel's would. A ".." in the rest
			// would be resolved lexically here and not by the kernel.
			rest := append([]string{c}, todo...)
			if slices.Contains(rest, "..") {
				return "", &fs.PathError{Op: "lstat", Path: t.show(p), Err: syscall.ENOENT}
			}
			return path.Join(append(done, rest...)...), nil
		}
		if err != nil {
			return "", &fs.PathError{Op: "lstat", Path: t.show(p), Err: underlying(err)}
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			done = append(done, c)
			continue
		}
		if links++; links > maxLinks {
			return "", &fs.PathError{Op: "resolve", Path: t.show(p), Err: syscall.ELOOP}
		}
		target, err := t.root.Readlink(p)
		if err != nil {
			return "", &fs.PathError{Op: "readlink", Path: t.show(p), Err: underlying(err)}
		}
		if strings.HasPrefix(target, "/") {
			done = done[:0]
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	if len(done) == 0 {
		return ".", nil
	}
	return path.Join(done...), nil
}

// underlying is the error inside an *fs.PathError, whose path is relative
// to the tree's root.
func underlying(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// readRegular returns the content, the file info and the SELinux label
// (nil if none) of the regular file rel, which is not a symbolic link.
func (t *tree) readRegular(rel string) ([]byte, fs.FileInfo, []byte, error) {
	// Lstat first, so that a FIFO does not block the open (which has
	// O_NONBLOCK as well, for one swapped in meanwhile).
	if fi, err := t.root.Lstat(rel); err != nil {
		return nil, nil, nil, &fs.PathError{Op: "lstat", Path: t.show(rel), Err: underlying(err)}
	} else if !fi.Mode().IsRegular() {
		return nil, nil, nil, errors.New("not a regular file")
	}
	f, err := t.root.OpenFile(rel, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, nil, &fs.PathError{Op: "open", Path: t.show(rel), Err: underlying(err)}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, nil, errors.New("not a regular file")
	}
	label, err := fileLabel(f)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", t.show(rel), err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, nil, nil, err
	}
	return b, fi, label, nil
}

// Inside checks that every file c read is, byte for byte, the file that
// sshd would open by that name if the tree root were its / (see
// [WriteIn] for how names resolve there). It fails, naming the file,
// where the two differ: the file was read through a symbolic link that
// leads out of the tree (to this host's file of that name), or it changed
// since. `sshwarden fix --root` runs it before it shows or checks
// anything, so that neither the diff nor sshd's messages can carry a byte
// of a file outside the tree.
func Inside(root string, c *sshdconf.Config) error {
	t, err := openTree(root)
	if err != nil {
		return err
	}
	defer t.close()
	var errs []error
	for _, f := range c.Files {
		name := c.Path(f.Name)
		if err := t.same(name, f); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t.show(name), err))
		}
	}
	return errors.Join(errs...)
}

// same checks that the file sshd opens as name in t holds what f holds.
func (t *tree) same(name string, f *sshdconf.File) error {
	const outside = "it is not the file of that name inside the tree (a symbolic link that leads out of it?); fix reads and writes only inside --root"
	rel, err := t.resolve(name)
	if err != nil {
		return fmt.Errorf("%s: %w", outside, err)
	}
	fi, err := t.root.Stat(rel)
	if err != nil {
		return fmt.Errorf("%s: %w", outside, underlying(err))
	}
	if f.Info != nil && f.Info.IsDir() {
		if !fi.IsDir() {
			return errors.New(outside)
		}
		return nil
	}
	if !fi.Mode().IsRegular() {
		// A FIFO or a device inside the tree reads as empty; it is
		// inside all the same.
		if len(f.Bytes()) > 0 {
			return errors.New(outside)
		}
		return nil
	}
	b, _, _, err := t.readRegular(rel)
	if err != nil {
		return fmt.Errorf("%s: %w", outside, err)
	}
	if !bytes.Equal(b, f.Bytes()) {
		return errors.New(outside)
	}
	return nil
}
