package host

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
	"github.com/sshwarden/sshwarden/watcher"
)

// procTree is a /proc tree in a temporary folder, with binaries beside it,
// for the checks of inspectListener that a live test cannot stage (a
// binary that is not root's, a zombie, an sshd-session parent).
type procTree struct {
	t     *testing.T
	root  string // the tree
	bin   string // the binaries the exe links point at
	inode uint64
}

func newProcTree(t *testing.T) *procTree {
	t.Helper()
	dir := t.TempDir()
	p := &procTree{t: t, root: filepath.Join(dir, "proc"), bin: filepath.Join(dir, "bin"), inode: 5000}
	p.write(filepath.Join(p.root, "stat"), "cpu  1 2 3 4 5 6 7 0 0 0\nbtime 1700000000\n")
	return p
}

func (p *procTree) write(name, content string) {
	p.t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// binary creates bin/NAME with mode and owner uid and returns its path.
func (p *procTree) binary(name string, mode os.FileMode, uid int) string {
	p.t.Helper()
	path := filepath.Join(p.bin, name)
	p.write(path, "#!/bin/false\n")
	if err := os.Chmod(path, mode); err != nil {
		p.t.Fatal(err)
	}
	if err := os.Chown(path, uid, 0); err != nil {
		sshdtest.Missing(p.t, "chown needs root: "+err.Error())
	}
	return path
}

// proc adds process pid, child of ppid, in state, run by uid from the
// binary exe, holding a TCP socket (listening or connected) in the table
// tcp or tcp6 of its own namespace, and returns the socket's inode.
func (p *procTree) proc(pid, ppid int, state byte, uid int, exe, table string, listen bool) uint64 {
	p.t.Helper()
	d := filepath.Join(p.root, strconv.Itoa(pid))
	p.write(filepath.Join(d, "stat"), fmt.Sprintf("%d (sshd) %c %d %d %d 0 -1 4194560 782 663 2 1 1 2 2 2 20 0 1 0 500 18214912\n", pid, state, ppid, pid, pid))
	p.write(filepath.Join(d, "status"), fmt.Sprintf("Name:\tsshd\nState:\t%c (sleeping)\nPPid:\t%d\nUid:\t%d\t%d\t%d\t%d\n", state, ppid, uid, uid, uid, uid))
	if err := os.Symlink(exe, filepath.Join(d, "exe")); err != nil {
		p.t.Fatal(err)
	}
	p.inode++
	if err := os.MkdirAll(filepath.Join(d, "fd"), 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.Symlink(fmt.Sprintf("socket:[%d]", p.inode), filepath.Join(d, "fd", "3")); err != nil {
		p.t.Fatal(err)
	}
	st, remote := "01", "0100007F:C350"
	if listen {
		st, remote = "0A", "00000000:0000"
	}
	local := "0100007F:0016"
	if table == "tcp6" {
		local = "00000000000000000000000001000000:0016"
		remote = strings.Repeat("0", 32) + remote[8:]
	}
	p.write(filepath.Join(d, "net", table), fmt.Sprintf(
		"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"+
			"   0: %s %s %s 00000000:00000000 00:00000000 00000000     0        0 %d 1 0000000000000000 100 0 0 10 0\n",
		local, remote, st, p.inode))
	return p.inode
}

// TestInspectListener checks inspectListener's verdicts and messages on a
// tree: reload accepts only a root listener of a binary named sshd (or the
// configured one), not deleted, root's and writable by no one else, whose
// parent is not an sshd, that listens.
func TestInspectListener(t *testing.T) {
	p := newProcTree(t)
	sshd := p.binary("sbin/sshd", 0o755, 0)
	custom := p.binary("opt/sshd-9.9", 0o755, 0)
	session := p.binary("lib/sshd-session", 0o755, 0)
	auth := p.binary("lib/sshd-auth", 0o755, 0)
	writable := p.binary("w/sshd", 0o775, 0)
	users := p.binary("u/sshd", 0o755, 1000)

	listener := p.proc(100, 1, 'S', 0, sshd, "tcp", true)
	p.proc(101, 1, 'S', 0, custom, "tcp6", true)
	p.proc(102, 1, 'S', 0, session, "tcp", true)
	p.proc(103, 1, 'S', 0, writable, "tcp", true)
	p.proc(104, 1, 'S', 0, users, "tcp", true)
	p.proc(105, 1, 'S', 0, sshd+" (deleted)", "tcp", true)
	p.proc(106, 1, 'S', 1000, sshd, "tcp", true)
	p.proc(107, 1, 'Z', 0, sshd, "tcp", true)
	p.proc(108, 1, 'S', 0, sshd, "tcp", false)
	p.proc(109, 102, 'S', 0, sshd, "tcp", true)
	p.proc(110, 111, 'S', 0, sshd, "tcp", true)
	p.proc(111, 1, 'S', 0, auth, "tcp", false)
	p.proc(112, 1, 'S', 0, p.binary("bin/sleep", 0o755, 0), "tcp", true)

	fsys, err := watcher.NewFS(p.root)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := inspectListener(fsys, 100, "/usr/sbin/sshd"); err != nil || !slices.Equal(got, []uint64{listener}) {
		t.Errorf("inspectListener(listener) = %v, %v, want [%d]", got, err, listener)
	}
	if _, err := inspectListener(fsys, 101, custom); err != nil {
		t.Errorf("inspectListener(the configured sshd, named %s) = %v, want it accepted", filepath.Base(custom), err)
	}
	for _, tt := range []struct {
		pid  int
		want string
	}{
		{101, fmt.Sprintf("its binary %s is not sshd", custom)}, // not the configured sshd
		{102, fmt.Sprintf("its binary %s is not sshd", session)},
		{103, fmt.Sprintf("its binary %s is writable by group or others (-rwxrwxr-x)", writable)},
		{104, fmt.Sprintf("its binary %s is not owned by root", users)},
		{105, fmt.Sprintf("its binary %s (deleted): sshd was upgraded or removed since the listener started; restart it rather than reload it", sshd)},
		{106, "it does not run as root (real uid 1000, effective uid 1000)"},
		{107, errProcessGone.Error()},
		{108, "it holds no listening TCP socket: it is not the listener"},
		{109, fmt.Sprintf("its parent, pid 102, is an sshd too (%s): it serves a connection, it is not the listener", session)},
		{110, fmt.Sprintf("its parent, pid 111, is an sshd too (%s): it serves a connection, it is not the listener", auth)},
		{112, fmt.Sprintf("its binary %s is not sshd", filepath.Join(p.bin, "bin/sleep"))},
		{4242, errProcessGone.Error()},
	} {
		_, err := inspectListener(fsys, tt.pid, sshd)
		if err == nil || err.Error() != tt.want {
			t.Errorf("inspectListener(%d) = %v, want %q", tt.pid, err, tt.want)
		}
		if tt.want == errProcessGone.Error() && !errors.Is(err, errProcessGone) {
			t.Errorf("inspectListener(%d) = %v, want errProcessGone", tt.pid, err)
		}
	}
}
