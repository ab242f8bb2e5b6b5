package watcher

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCheckExe checks each reason of FS.CheckExe, its text, and that
// TrustedSSHD, the scan's check of a path, agrees with it on the binaries
// that are not deleted.
func TestCheckExe(t *testing.T) {
	f := newFixture(t)
	f.listener(lis, "0.0.0.0:22")
	sshd := filepath.Join(f.bin, "sshd")
	dir := filepath.Join(f.bin, "dir", "sshd")
	f.must(os.MkdirAll(dir, 0o755))
	tests := []struct {
		exe    string // the exe link's target
		reason ExeReason
		want   string // the error's text; "" for none
	}{
		{sshd, 0, ""},
		{filepath.Join(f.bin, "sshd-session"), 0, ""},
		{filepath.Join(f.bin, "sshd-auth"), ExeNotSSHD, "its binary %s is not sshd"},
		{filepath.Join(f.bin, "sleep"), ExeNotSSHD, "its binary %s is not sshd"},
		{sshd + " (deleted)", ExeDeleted, "its binary %s: it was upgraded or removed since the process started"},
		{filepath.Join(f.bin, "missing", "sshd"), ExeUnreadable, "cannot stat its binary %s: stat EXELINK: no such file or directory"},
		{dir, ExeNotRegular, "its binary %s is not a regular file"},
		{f.binary("user/sshd", 0o755, 1000), ExeNotRoot, "its binary %s is not owned by root"},
		{f.binary("group/sshd", 0o775, 0), ExeWritable, "its binary %s is writable by group or others (-rwxrwxr-x)"},
		{f.binary("other/sshd", 0o757, 0), ExeWritable, "its binary %s is writable by group or others (-rwxr-xrwx)"},
	}
	for i, tt := range tests {
		pid := 1000 + i
		f.add(fakeProc{PID: pid, PPID: 1, Exe: tt.exe, Comm: "sshd"})
		fs, err := NewFS(f.proc)
		if err != nil {
			t.Fatal(err)
		}
		if exe, err := fs.Exe(pid); exe != tt.exe || err != nil {
			t.Errorf("Exe(%d) = %q, %v, want %q", pid, exe, err, tt.exe)
		}
		err = fs.CheckExe(pid, SSHDName)
		var e *ExeError
		if tt.want == "" {
			if err != nil {
				t.Errorf("CheckExe(%s) = %v, want nil", tt.exe, err)
			}
		} else if !errors.As(err, &e) || e.Reason != tt.reason || e.Exe != tt.exe {
			t.Errorf("CheckExe(%s) = %#v, want an ExeError of reason %d", tt.exe, err, tt.reason)
		} else if want := strings.ReplaceAll(fmt.Sprintf(tt.want, tt.exe), "EXELINK", fs.Path(pid, "exe")); err.Error() != want {
			t.Errorf("CheckExe(%s) = %q, want %q", tt.exe, err, want)
		}
		if tt.reason != ExeDeleted {
			if got := TrustedSSHD(tt.exe); got != (tt.want == "") {
				t.Errorf("TrustedSSHD(%s) = %v, CheckExe says %v", tt.exe, got, err)
			}
		}
	}
	// A name of one's own: the check of a listener that reload makes.
	fs, err := NewFS(f.proc)
	if err != nil {
		t.Fatal(err)
	}
	f.add(fakeProc{PID: 2000, PPID: 1, Exe: "sshd-session"})
	if err := fs.CheckExe(2000, func(p string) bool { return filepath.Base(p) == "sshd" }); err == nil || err.Error() != fmt.Sprintf("its binary %s is not sshd", filepath.Join(f.bin, "sshd-session")) {
		t.Errorf("CheckExe(sshd-session, named sshd) = %v, want not sshd", err)
	}
	for _, pid := range []int{0, 4242} {
		if err := fs.CheckExe(pid, SSHDName); !errors.Is(err, ErrNoProcess) {
			t.Errorf("CheckExe(%d) = %v, want ErrNoProcess", pid, err)
		}
	}
}

// TestFSListener reads what reload checks of a listener, and of a
// process that is not one, from a fixture.
func TestFSListener(t *testing.T) {
	f := newFixture(t)
	f.listener(lis, "0.0.0.0:22", "[::]:22")
	l := login{Listener: lis, Mon: 200, Child: 201, UID: 1000, Remote: "203.0.113.7:50022", Local: "192.0.2.1:22", PTYs: []int{3}}
	f.login(l)
	f.flush()
	fs, err := NewFS(f.proc)
	if err != nil {
		t.Fatal(err)
	}

	socks, err := fs.Sockets(lis)
	if err != nil || len(socks) != 2 {
		t.Fatalf("Sockets(listener) = %v, %v, want 2", socks, err)
	}
	var listening []uint64
	for _, table := range []string{"tcp", "tcp6"} {
		l, err := fs.ListeningTCP(lis, table)
		if err != nil || len(l) != 1 {
			t.Errorf("ListeningTCP(listener, %s) = %v, %v, want one", table, l, err)
		}
		listening = append(listening, l...)
	}
	slices.Sort(listening)
	if !slices.Equal(listening, socks) {
		t.Errorf("listening sockets %v, the listener's %v", listening, socks)
	}
	mon, err := fs.Sockets(200)
	if err != nil || len(mon) == 0 || slices.ContainsFunc(mon, func(i uint64) bool { return slices.Contains(listening, i) }) {
		t.Errorf("Sockets(monitor) = %v, %v, want some, none listening", mon, err)
	}

	for _, c := range []struct {
		pid             int
		real, effective uint32
	}{{lis, 0, 0}, {200, 0, 0}, {201, 1000, 1000}} {
		r, e, err := fs.UIDs(c.pid)
		if r != c.real || e != c.effective || err != nil {
			t.Errorf("UIDs(%d) = %d, %d, %v, want %d, %d", c.pid, r, e, err, c.real, c.effective)
		}
	}
	if _, _, err := fs.UIDs(4242); !errors.Is(err, ErrNoProcess) {
		t.Errorf("UIDs(4242) = %v, want ErrNoProcess", err)
	}
	if _, err := fs.Sockets(4242); !errors.Is(err, ErrNoProcess) {
		t.Errorf("Sockets(4242) = %v, want ErrNoProcess", err)
	}
	if _, err := fs.ListeningTCP(4242, "tcp"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ListeningTCP(4242) = %v, want ErrNotExist", err)
	}
}
