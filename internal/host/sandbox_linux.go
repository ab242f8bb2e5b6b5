package host

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/fix"
)

// A --root tree is checked by the host's sshd run with the tree as its /,
// so that every path sshd opens resolves inside the tree, as a chroot
// would resolve it: an absolute symbolic link starts again at the tree's
// root, ".." stops there, and a path the tree names (Include, HostKey,
// HostCertificate, AuthorizedKeysFile, Banner, ModuliFile, ...) or that
// sshd and its libraries name themselves reaches no file of this host.
// This is done by the kernel, for every path, rather than by rewriting the
// paths of the configuration: a rewrite has to know every keyword that
// names a file, in every release, and every file its libraries open.
//
// The view sshd gets, in a private mount namespace, on a tmpfs only that
// namespace sees:
//
//	/                 overlay, read-only, nosuid, nodev, noexec:
//	                  the tree (lower layer) under a layer of our own (upper)
//	/.sshwarden/      ours: sshd, its dynamic loader and libraries (each a
//	                  read-only bind mount of this host's file: the only
//	                  executable files of the view), a throwaway host key,
//	                  an empty OpenSSL configuration
//	/etc/passwd, /etc/group, /etc/nsswitch.conf
//	                  ours: the users sshd -t looks up (root and the
//	                  privilege separation user sshd) from files
//	/etc/ld.so.preload, /run/nscd/socket
//	                  hidden (overlay whiteouts)
//	/run/sshd ...     ours: the empty privilege separation folder(s) the
//	                  binary names
//	/dev/null         this host's, bind-mounted
//	changed files     their new content, over the tree's
//
// Where the tree has a symbolic link in one of these paths (/etc -> ...),
// our file goes where the link leads inside the tree. sshd is started
// through the loader with the library path and no cache
// (`/.sshwarden/ld.so --inhibit-cache --library-path /.sshwarden/lib
// /.sshwarden/sshd -t ...`), so no file of the tree chooses the code it
// runs; noexec would refuse a library of the tree anyway. The view
// replaces the namespace's root (pivot_root) and the host's is unmounted
// from it; sshd runs with root's uid, CAP_DAC_OVERRIDE alone in its
// bounding set (to read the tree's files as sshd would), no_new_privs, in
// new PID and IPC namespaces, and dies with its parent.

// sandboxDir is our folder at the root of the view.
const sandboxDir = ".sshwarden"

// sandboxBins is what a tree check takes from this host to run sshd.
type sandboxBins struct {
	sshd    string
	interp  string    // sshd's dynamic loader; "" for a static binary
	libs    []hostLib // the libraries it loads
	privsep []string  // the privilege separation folders the binary names
}

type hostLib struct{ name, path string }

// privsepDirs returns where builds put sshd's privilege separation folder
// (_PATH_PRIVSEP_CHROOT_DIR): Debian, older Debian, upstream, RHEL 7 and
// SUSE, Fedora and RHEL 8 on.
func privsepDirs() []string {
	return []string{"/run/sshd", "/var/run/sshd", "/var/empty", "/var/empty/sshd", "/usr/share/empty.sshd"}
}

// findSandboxBins finds sshd's loader and libraries, as the loader itself
// lists them (`ld.so --list sshd`), and the privilege separation folders
// the binary names.
func findSandboxBins(ctx context.Context, sshd string) (*sandboxBins, error) {
	f, err := elf.Open(sshd)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", sshd, err)
	}
	b := &sandboxBins{sshd: sshd}
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		data := make([]byte, p.Filesz)
		if _, err := p.ReadAt(data, 0); err != nil {
			f.Close()
			return nil, fmt.Errorf("reading the loader of %s: %w", sshd, err)
		}
		b.interp = strings.TrimRight(string(data), "\x00")
	}
	f.Close()
	if b.interp != "" {
		cmd := exec.CommandContext(ctx, b.interp, "--list", sshd)
		cmd.Env = []string{}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("listing the libraries of %s with %s: %v: %s", sshd, b.interp, err, bytes.TrimSpace(stderr.Bytes()))
		}
		seen := map[string]bool{}
		libc := ""
		for _, line := range strings.Split(string(out), "\n") {
			cols := strings.Fields(line)
			if len(cols) < 3 || cols[1] != "=>" {
				continue
			}
			if !strings.HasPrefix(cols[2], "/") {
				return nil, fmt.Errorf("%s needs %s, which its loader does not find", sshd, cols[0])
			}
			name := path.Base(cols[0])
			if !seen[name] {
				seen[name] = true
				b.libs = append(b.libs, hostLib{name, cols[2]})
			}
			if name == "libc.so.6" {
				libc = cols[2]
			}
		}
		// Before glibc 2.34 getpwnam loads the files backend as a
		// library.
		if nss := filepath.Join(filepath.Dir(libc), "libnss_files.so.2"); libc != "" && !seen["libnss_files.so.2"] {
			if _, err := os.Stat(nss); err == nil {
				b.libs = append(b.libs, hostLib{"libnss_files.so.2", nss})
			}
		}
	}
	bin, err := os.ReadFile(sshd)
	if err != nil {
		return nil, err
	}
	for _, d := range privsepDirs() {
		if bytes.Contains(bin, []byte("\x00"+d+"\x00")) {
			b.privsep = append(b.privsep, d)
		}
	}
	if len(b.privsep) == 0 {
		b.privsep = privsepDirs()
	}
	return b, nil
}

// entryKind is what a layer entry is.
type entryKind int

const (
	entryDir      entryKind = iota
	entryFile               // data, with mode
	entryWhiteout           // hides the tree's file
	entryBind               // an empty file, with src bind-mounted on it
)

// layerEntry is one file or folder of our layer of the view.
type layerEntry struct {
	rel  string // relative to the view's root
	kind entryKind
	data []byte
	mode os.FileMode
	src  string // entryBind: the host's file
	dev  bool   // entryBind: src is a device (no nodev)
	what string // for errors: the name sshd opens
}

// layer is the list of our entries, one per path.
type layer struct {
	entries []layerEntry
	byRel   map[string]int
}

// add adds e; an entry of the same kind already at its path is kept,
// and another kind there is an error.
func (l *layer) add(e layerEntry) error {
	if i, ok := l.byRel[e.rel]; ok {
		if l.entries[i].kind == e.kind && e.kind != entryFile {
			return nil
		}
		return fmt.Errorf("%s and %s are the same file of the tree: sshd -t cannot check that", l.entries[i].what, e.what)
	}
	if l.byRel == nil {
		l.byRel = map[string]int{}
	}
	l.byRel[e.rel] = len(l.entries)
	l.entries = append(l.entries, e)
	return nil
}

// checkTree checks the configuration of the tree k.Root, with changes
// applied, by sshd run with the tree as its / (see above).
func (k *Checker) checkTree(ctx context.Context, sshd string, c *sshdconf.Config, changes []fix.FileChange) error {
	if k.bins == nil || k.bins.sshd != sshd {
		bins, err := findSandboxBins(ctx, sshd)
		if err != nil {
			return err
		}
		k.bins = bins
	}
	if k.hostKey == nil {
		k.hostKey = newHostKey()
	}
	rootDir, err := filepath.Abs(k.Root)
	if err != nil {
		return err
	}
	t, err := openTree(rootDir)
	if err != nil {
		return err
	}
	defer t.close()

	var l layer
	ours := func(rel string, kind entryKind, data []byte, mode os.FileMode, src string) {
		l.add(layerEntry{rel: path.Join(sandboxDir, rel), kind: kind, data: data, mode: mode, src: src, what: "/" + sandboxDir + "/" + rel})
	}
	ours(".", entryDir, nil, 0o755, "")
	ours("sshd", entryBind, nil, 0, k.bins.sshd)
	args := []string{"/" + sandboxDir + "/sshd"}
	if k.bins.interp != "" {
		ours("ld.so", entryBind, nil, 0, k.bins.interp)
		ours("lib", entryDir, nil, 0o755, "")
		for _, lib := range k.bins.libs {
			ours("lib/"+lib.name, entryBind, nil, 0, lib.path)
		}
		args = []string{"/" + sandboxDir + "/ld.so", "--inhibit-cache", "--library-path", "/" + sandboxDir + "/lib", "/" + sandboxDir + "/sshd"}
	}
	ours("hostkey", entryFile, k.hostKey, 0o600, "")
	ours("openssl.cnf", entryFile, nil, 0o644, "")

	// The files sshd needs to start, where the tree would have them.
	home := k.bins.privsep[0]
	infra := []layerEntry{
		{what: "/etc/passwd", kind: entryFile, mode: 0o644, data: []byte("root:x:0:0:root:/root:/bin/sh\nsshd:x:65534:65534:sshd privilege separation:" + home + ":/usr/sbin/nologin\n")},
		{what: "/etc/group", kind: entryFile, mode: 0o644, data: []byte("root:x:0:\nnogroup:x:65534:\n")},
		{what: "/etc/nsswitch.conf", kind: entryFile, mode: 0o644, data: []byte("passwd: files\ngroup: files\nshadow: files\nhosts: files\n")},
		{what: "/etc/ld.so.preload", kind: entryWhiteout},
		{what: "/run/nscd/socket", kind: entryWhiteout},
		{what: "/var/run/nscd/socket", kind: entryWhiteout},
		{what: "/dev/null", kind: entryBind, src: "/dev/null", dev: true},
	}
	for _, d := range k.bins.privsep {
		infra = append(infra, layerEntry{what: d, kind: entryDir, mode: 0o755})
	}
	for _, fc := range changes {
		infra = append(infra, layerEntry{what: c.Path(fc.Name), kind: entryFile, mode: 0o644, data: fc.New})
	}
	for _, e := range infra {
		rel, err := t.resolve(e.what)
		if err != nil {
			return fmt.Errorf("checking %s with sshd -t: %w", rootDir, err)
		}
		if rel == "." || rel == sandboxDir || strings.HasPrefix(rel, sandboxDir+"/") {
			return fmt.Errorf("checking %s with sshd -t: %s is %s of the tree", rootDir, e.what, "/"+rel)
		}
		e.rel = rel
		if err := l.add(e); err != nil {
			return fmt.Errorf("checking %s with sshd -t: %w", rootDir, err)
		}
	}

	dir, err := newCheckDir("")
	if err != nil {
		return err
	}
	defer dir.remove()

	args = append(args, "-t", "-f", c.Path(c.Main), "-o", "HostKey=/"+sandboxDir+"/hostkey")
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = "/"
	cmd.Env = []string{"OPENSSL_CONF=/" + sandboxDir + "/openssl.cnf"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Pdeathsig:  syscall.SIGKILL,
		Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWIPC,
	}
	err = inMountNamespace(func() error {
		if err := buildView(dir.path, rootDir, &l); err != nil {
			return err
		}
		k.hit(pointStaged)
		return confine()
	}, cmd)
	var noNS *errNoNamespace
	if errors.As(err, &noNS) {
		return fmt.Errorf("checking a --root tree with sshd -t needs a private mount namespace: %w", err)
	}
	// sshd refuses a configuration with 255 (fatal) or 1 (a file it
	// cannot open); other statuses (127: the loader failed) are ours.
	var exit *exec.ExitError
	if errors.As(err, &exit) && (exit.ExitCode() == 255 || exit.ExitCode() == 1) {
		return &fix.SSHDRefused{Output: out.String()}
	}
	if err != nil {
		return fmt.Errorf("running sshd -t in %s: %w: %s", rootDir, err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

// buildView mounts the view of the tree rootDir with our layer l on a
// tmpfs on dir, and makes it the root of this thread's mount namespace.
func buildView(dir, rootDir string, l *layer) error {
	if err := mountTmpfs(dir); err != nil {
		return err
	}
	// Relative names from here on: the overlay's options cannot hold
	// every path.
	if err := unix.Chdir(dir); err != nil {
		return err
	}
	for _, d := range []string{"layer", "lower", "root"} {
		if err := unix.Mkdir(d, 0o755); err != nil {
			return fmt.Errorf("mkdir %s: %w", d, err)
		}
	}
	if err := unix.Chmod("layer", 0o755); err != nil {
		return err
	}
	for _, e := range l.entries {
		if err := makeEntry("layer", e); err != nil {
			return err
		}
	}
	// Nothing of the tree's own folder of that name shows.
	unix.Setxattr("layer/"+sandboxDir, "trusted.overlay.opaque", []byte("y"), 0)

	if err := unix.Mount(rootDir, "lower", "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind-mounting %s: %w", rootDir, err)
	}
	const ro = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	if err := unix.Mount("overlay", "root", "overlay", ro, "lowerdir=layer:lower,redirect_dir=nofollow,metacopy=off"); err != nil {
		return fmt.Errorf("mounting an overlay of %s: %w", rootDir, err)
	}
	for _, e := range l.entries {
		if e.kind != entryBind {
			continue
		}
		dst := "root/" + e.rel
		if err := unix.Mount(e.src, dst, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind-mounting %s: %w", e.src, err)
		}
		flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY | unix.MS_NOSUID)
		if !e.dev {
			flags |= unix.MS_NODEV
		}
		if err := unix.Mount("", dst, "", flags, ""); err != nil {
			return fmt.Errorf("making %s read-only: %w", e.src, err)
		}
	}

	// The view becomes the root, and the host's root goes.
	old, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(old)
	if err := unix.Chdir("root"); err != nil {
		return err
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Fchdir(old); err != nil {
		return err
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("unmounting the host's root: %w", err)
	}
	return unix.Chdir("/")
}

// makeEntry creates e under the folder base.
func makeEntry(base string, e layerEntry) error {
	p := base + "/" + e.rel
	if err := os.MkdirAll(path.Dir(p), 0o755); err != nil {
		return err
	}
	switch e.kind {
	case entryDir:
		if err := unix.Mkdir(p, uint32(e.mode)); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("mkdir %s: %w", e.what, err)
		}
		return unix.Chmod(p, uint32(e.mode))
	case entryWhiteout:
		if err := unix.Mknod(p, unix.S_IFCHR, 0); err != nil {
			return fmt.Errorf("mknod %s: %w", e.what, err)
		}
		return nil
	case entryBind:
		return os.WriteFile(p, nil, 0o644)
	}
	if err := os.WriteFile(p, e.data, 0o600); err != nil {
		return err
	}
	return unix.Chmod(p, uint32(e.mode))
}

// confine leaves sshd, which this thread starts next, no capability but
// CAP_DAC_OVERRIDE and no way to gain one.
func confine() error {
	for c := 0; ; c++ {
		if c == unix.CAP_DAC_OVERRIDE {
			continue
		}
		err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0)
		if err == unix.EINVAL {
			break // past the last capability
		}
		if err != nil {
			return fmt.Errorf("dropping capability %d: %w", c, err)
		}
	}
	return unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
}
