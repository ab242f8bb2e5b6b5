package watcher

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The listener of most cases: pid 100, /usr/sbin/sshd on 0.0.0.0:22.
const lis = 100

// TestScan builds a /proc tree per case and compares the sessions a scan
// finds with the ones the case built (and no others).
func TestScan(t *testing.T) {
	t.Parallel()
	alice := func(mon int) login {
		return login{Listener: lis, Mon: mon, Child: mon + 1, UID: 1000, Remote: "203.0.113.7:50022", Local: "192.0.2.1:22"}
	}
	tests := []struct {
		name  string
		build func(f *fixture) []Session // the sessions the scan must report
		check func(t *testing.T, got []Session)
	}{
		{"9.2 pty", func(f *fixture) []Session {
			l := alice(200)
			l.PTYs, l.Idle = []int{3}, 95*time.Second
			return []Session{f.login(l)}
		}, func(t *testing.T, got []Session) {
			s := got[0]
			if s.User != "alice" || s.UID != 1000 || s.TTY != "pts/3" || s.Kind != KindPTY || s.Idle == nil || *s.Idle != 95*time.Second ||
				s.Remote.String() != "203.0.113.7:50022" || s.Local.String() != "192.0.2.1:22" || s.Child != 201 || s.Listener != lis {
				t.Errorf("got %+v", s)
			}
		}},
		{"notty exec", func(f *fixture) []Session {
			l := alice(200)
			l.Exec = []string{"sleep", "600"}
			return []Session{f.login(l)}
		}, func(t *testing.T, got []Session) {
			if s := got[0]; s.Command != "sleep 600" || s.Kind != KindNoTTY || s.Idle != nil || s.TTY != "" {
				t.Errorf("got %+v", s)
			}
		}},
		{"internal-sftp", func(f *fixture) []Session {
			l := alice(200)
			l.SFTP = true
			return []Session{f.login(l)}
		}, func(t *testing.T, got []Session) {
			if s := got[0]; s.Command != "" || s.Kind != KindNoTTY || len(s.Procs) != 1 {
				t.Errorf("got %+v", s)
			}
		}},
		{"ssh -N", func(f *fixture) []Session {
			return []Session{f.login(alice(200))}
		}, func(t *testing.T, got []Session) {
			if s := got[0]; s.Kind != KindNone || s.Procs != nil || s.Idle != nil {
				t.Errorf("got %+v", s)
			}
		}},
		{"root logins are one process", func(f *fixture) []Session {
			pty := login{Listener: lis, Mon: 300, UID: 0, Remote: "203.0.113.8:40000", Local: "192.0.2.1:22", PTYs: []int{1}, Idle: time.Hour}
			exec := login{Listener: lis, Mon: 310, UID: 0, Remote: "203.0.113.8:40001", Local: "192.0.2.1:22", Exec: []string{"sleep", "602"}}
			sftp := login{Listener: lis, Mon: 320, UID: 0, Remote: "203.0.113.8:40002", Local: "192.0.2.1:22", SFTP: true}
			none := login{Listener: lis, Mon: 330, UID: 0, Remote: "203.0.113.8:40003", Local: "192.0.2.1:22"}
			return []Session{f.login(pty), f.login(exec), f.login(sftp), f.login(none)}
		}, func(t *testing.T, got []Session) {
			for _, s := range got {
				if s.User != "root" || s.Child != 0 {
					t.Errorf("got %+v", s)
				}
			}
		}},
		{"before authentication", func(f *fixture) []Session {
			f.preauth(lis, 400, "", "accepted")
			f.preauth(lis, 410, "alice", "net")
			f.preauth(lis, 420, "root", "net")
			f.preauth(lis, 430, "alice", "auth")
			return []Session{f.login(alice(200))}
		}, nil},
		{"OpenSSH 9.8 sshd-session", func(f *fixture) []Session {
			l := alice(200)
			l.Version, l.PTYs = "9.8", []int{0}
			r := login{Listener: lis, Mon: 300, Child: 301, UID: 0, Version: "9.8", Remote: "203.0.113.8:40000", Local: "192.0.2.1:22", Exec: []string{"sleep", "1"}}
			return []Session{f.login(l), f.login(r)}
		}, nil},
		{"root logins are two processes from 9.8", func(f *fixture) []Session {
			var want []Session
			for i, v := range []string{"9.8", "10.0", "10.5"} {
				root := func(mon int) login {
					return login{Listener: lis, Mon: mon, Child: mon + 1, UID: 0, Version: v, Remote: fmt.Sprintf("203.0.113.8:%d", 40000+mon), Local: "192.0.2.1:22"}
				}
				pty, exec, sftp, none := root(300+100*i), root(320+100*i), root(340+100*i), root(360+100*i)
				pty.PTYs, pty.Idle = []int{20 + i}, time.Hour
				exec.Exec = []string{"sleep", "602"}
				sftp.SFTP = true
				want = append(want, f.login(pty), f.login(exec), f.login(sftp), f.login(none))
			}
			return want
		}, func(t *testing.T, got []Session) {
			for _, s := range got {
				if s.User != "root" || s.UID != 0 || s.Child != s.PID+1 {
					t.Errorf("got %+v, want root's with child %d", s, s.PID+1)
				}
			}
		}},
		{"OpenSSH 10.5 [postauth] monitors", func(f *fixture) []Session {
			l := alice(200)
			l.Version, l.PTYs = "10.5", []int{2}
			f.preauth(lis, 400, "bob", "auth") // "bob [priv]" while it authenticates
			return []Session{f.login(l)}
		}, nil},
		{"OpenSSH 10.0 sshd-auth before authentication", func(f *fixture) []Session {
			f.preauth(lis, 400, "bob", "auth")
			l := alice(200)
			l.Version, l.SFTP = "10.0", true
			return []Session{f.login(l)}
		}, nil},
		{"IPv6 and v4-mapped peers", func(f *fixture) []Session {
			f.listener(110, "[::]:22")
			v6 := login{Listener: 110, Mon: 200, Child: 201, UID: 1000, Remote: "[2001:db8::1]:50000", Local: "[2001:db8::2]:22"}
			mapped := login{Listener: 110, Mon: 210, Child: 211, UID: 1001, Remote: "[::ffff:198.51.100.3]:50001", Local: "[::ffff:192.0.2.1]:22"}
			return []Session{f.login(v6), f.login(mapped)}
		}, func(t *testing.T, got []Session) {
			if got[0].Remote.String() != "[2001:db8::1]:50000" || got[1].Remote.String() != "198.51.100.3:50001" || got[1].Local.String() != "192.0.2.1:22" {
				t.Errorf("got %v %v, %v %v", got[0].Remote, got[0].Local, got[1].Remote, got[1].Local)
			}
		}},
		{"two listeners", func(f *fixture) []Session {
			f.listener(110, "127.0.0.1:2222")
			a := alice(200)
			b := login{Listener: 110, Mon: 300, Child: 301, UID: 1001, Remote: "127.0.0.1:60000", Local: "127.0.0.1:2222", PTYs: []int{7}}
			return []Session{f.login(a), f.login(b)}
		}, func(t *testing.T, got []Session) {
			if got[0].Local.Port() != 22 || got[1].Local.Port() != 2222 || got[1].Listener != 110 {
				t.Errorf("got ports %v %v", got[0].Local, got[1].Local)
			}
		}},
		{"ControlMaster: one connection, several channels", func(f *fixture) []Session {
			l := alice(200)
			l.PTYs, l.Idle, l.Exec = []int{4, 5}, 30*time.Second, []string{"sleep", "9"}
			return []Session{f.login(l)}
		}, func(t *testing.T, got []Session) {
			s := got[0]
			if s.TTY != "pts/4" || !cmp.Equal(s.TTYs, []string{"pts/4", "pts/5"}) || *s.Idle != 30*time.Second || len(s.Procs) != 3 || s.Command != "" {
				t.Errorf("got %+v", s)
			}
		}},
		{"spoofed titles of an unprivileged user", func(f *fixture) []Session {
			// A user's processes titled like sshd, under init.
			f.add(fakeProc{PID: 500, PPID: 1, UID: 1000, Exe: "bash", Comm: "sshd", Args: []string{"sshd: root [priv]"}})
			f.add(fakeProc{PID: 501, PPID: 500, UID: 1000, Exe: "bash", Comm: "sshd", Args: []string{"sshd: root@pts/0"}})
			// A user's fake listener running the real binary, on a high port.
			f.listener(510, "0.0.0.0:8022")
			f.setUID(510, 1000)
			f.add(fakeProc{PID: 511, PPID: 510, UID: 1000, Exe: "sshd", Args: []string{"sshd: root [priv]"}})
			f.add(fakeProc{PID: 512, PPID: 511, UID: 1000, Exe: "sshd", Args: []string{"sshd: root@pts/0"}})
			// Under the real listener but uid 1000 (the kernel would not let
			// a user there; the rule must hold anyway).
			f.add(fakeProc{PID: 520, PPID: lis, UID: 1000, Exe: "sshd", Args: []string{"sshd: root@pts/0"}})
			f.add(fakeProc{PID: 530, PPID: lis, UID: 1000, Exe: "sshd", Args: []string{"sshd: root [priv]"}})
			f.add(fakeProc{PID: 531, PPID: 530, UID: 1000, Exe: "sshd", Args: []string{"sshd: root@pts/0"}})
			return []Session{f.login(alice(200))}
		}, nil},
		{"root processes of untrusted binaries", func(f *fixture) []Session {
			f.binary("gw/sshd", 0o775, 0)    // group-writable
			f.binary("uw/sshd", 0o755, 1000) // owned by a user
			f.binary("ow/sshd", 0o757, 0)    // writable by others
			f.binary("other/evil", 0o755, 0) // not named sshd
			l := login{Listener: lis, Mon: 300, UID: 0, Remote: "203.0.113.8:40000", Local: "192.0.2.1:22", PTYs: []int{1}}
			for i, exe := range []string{"gw/sshd", "uw/sshd", "ow/sshd", "other/evil"} {
				l.Mon, l.Remote = 300+10*i, fmt.Sprintf("203.0.113.8:%d", 40000+i)
				l.PTYs = []int{10 + i}
				f.login(l)
				f.remove(l.Mon)
				f.add(fakeProc{PID: l.Mon, PPID: lis, Exe: exe, Comm: "sshd", Args: []string{"sshd: root@pts/0"}, Start: 1,
					FDs: []fakeFD{{7, "/dev/ptmx", 10 + i}}})
			}
			// A root listener of an untrusted binary, and a login under it.
			f.listener(110, "0.0.0.0:2200")
			f.remove(110, "exe")
			f.must(os.Symlink(filepath.Join(f.bin, "gw/sshd"), filepath.Join(f.proc, "110", "exe")))
			f.login(login{Listener: 110, Mon: 400, Child: 401, UID: 1000, Remote: "203.0.113.9:1", Local: "192.0.2.1:2200"})
			return []Session{f.login(alice(200))}
		}, nil},
		{"a user's own sshd on a high port", func(f *fixture) []Session {
			f.listener(110, "0.0.0.0:2022")
			u := login{Listener: 110, Mon: 300, Child: 301, UID: 1001, Remote: "203.0.113.9:2", Local: "192.0.2.1:2022", PTYs: []int{9}}
			f.login(u)
			f.setUID(110, 1001) // all of it runs as bob: the listener,
			f.setUID(300, 1001) // the monitor
			return []Session{f.login(alice(200))}
		}, nil},
		{"an sshd that does not listen is no listener", func(f *fixture) []Session {
			f.add(fakeProc{PID: 110, PPID: 1, Exe: "sshd", Args: []string{"sshd: /usr/sbin/sshd -i"}, FDs: []fakeFD{{3, "socket:[5]", 0}}})
			f.login(login{Listener: 110, Mon: 300, Child: 301, UID: 1001, Remote: "203.0.113.9:2", Local: "192.0.2.1:22"})
			return []Session{f.login(alice(200))}
		}, nil},
		{"a root login that listens for ssh -R is no listener", func(f *fixture) []Session {
			r := login{Listener: lis, Mon: 300, UID: 0, Remote: "203.0.113.8:40000", Local: "192.0.2.1:22"}
			want := f.login(r)
			// The forwarded port and a connection to it, on lower fds than
			// the client's socket: the peer is still the socket on the
			// listener's port.
			l := f.tcp(fixNS, netip.MustParseAddrPort("127.0.0.1:8080"), netip.MustParseAddrPort("0.0.0.0:0"), true)
			c := f.tcp(fixNS, netip.MustParseAddrPort("127.0.0.1:8080"), netip.MustParseAddrPort("127.0.0.1:33000"), false)
			f.remove(300)
			f.add(fakeProc{PID: 300, PPID: lis, Exe: "sshd", Args: []string{"sshd: root"}, Start: monStart(300), SessionID: 300, LoginUID: 0,
				FDs: []fakeFD{{1, fmt.Sprintf("socket:[%d]", l), 0}, {2, fmt.Sprintf("socket:[%d]", c), 0}, {4, fmt.Sprintf("socket:[%d]", f.inode-2), 0}}})
			return []Session{want}
		}, nil},
		{"processes that vanish mid-scan", func(f *fixture) []Session {
			a := alice(200)
			a.PTYs = []int{1}
			want := f.login(a)
			f.add(fakeProc{PID: 203, PPID: 201, UID: 1000, Exe: "sleep", Args: []string{"sleep"}})
			f.remove(203) // a command under the child
			b := alice(300)
			b.Exec = []string{"true"}
			f.login(b)
			f.remove(300) // a monitor
			c := alice(400)
			f.login(c)
			f.remove(401, "status", "exe") // a user child, half gone
			d := alice(500)
			d.PTYs = []int{2}
			wantD := f.login(d)
			f.remove(502, "stat") // its shell: the session stays, without it
			wantD.Procs = nil
			wantD.Kind = KindPTY
			return []Session{want, wantD}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.listener(lis, "0.0.0.0:22")
			want := tt.build(f)
			got, problems := f.scan()
			if diff := cmp.Diff(want, got, cmpAddr); diff != "" {
				t.Errorf("Scan() sessions (-want +got):\n%s", diff)
			}
			if len(problems) != 0 {
				t.Errorf("Scan() problems = %q, want none", problems)
			}
			if tt.check != nil && len(got) == len(want) {
				tt.check(t, got)
			}
		})
	}
}

var cmpAddr = cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })

// monStart is the start of a login's monitor as login() picks it.
func monStart(mon int) uint64 { return 100 * uint64(1000+mon) }

// TestScanMany scans a tree large enough for the scan to spread its
// reading over several goroutines.
func TestScanMany(t *testing.T) {
	t.Parallel()
	f, want := synthetic(t, 700, 100) // more than 512 processes and 64 monitors: several workers
	got, problems := f.scan()
	if diff := cmp.Diff(want, got, cmpAddr); diff != "" {
		t.Errorf("Scan() sessions (-want +got):\n%s", diff)
	}
	if len(problems) != 0 {
		t.Errorf("Scan() problems = %q, want none", problems)
	}
}

// TestScanProblems: what limits a scan is said, once.
func TestScanProblems(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.listener(lis, "0.0.0.0:22")
	for _, mon := range []int{200, 300} {
		f.login(login{Listener: lis, Mon: mon, Child: mon + 1, UID: 1000, Remote: fmt.Sprintf("203.0.113.7:%d", mon), Local: "192.0.2.1:22", PTYs: []int{mon / 100}})
	}
	// The pts devices are gone: not pts devices any more.
	for _, n := range []string{"2", "3"} {
		f.must(os.Remove(filepath.Join(f.dev, "pts", n)))
	}
	f.write(filepath.Join(f.dev, "pts", "3"), "a regular file")
	got, problems := f.scan()
	want := []string{
		fmt.Sprintf("%s/pts/2, the terminal of session 200, is not a pts device", f.dev),
		fmt.Sprintf("%s/pts/3, the terminal of session 300, is not a pts device", f.dev),
	}
	if diff := cmp.Diff(want, problems); diff != "" {
		t.Errorf("Scan() problems (-want +got):\n%s", diff)
	}
	if len(got) != 2 || got[0].Kind != KindPTY || got[0].TTY != "" || got[0].Idle != nil {
		t.Errorf("Scan() = %+v, want 2 pty sessions without tty", got)
	}
}

// TestScanNoTables: a listener whose TCP table is missing cannot be
// verified: its sessions are not listed, and the scan says why.
func TestScanNoTables(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.listener(lis, "0.0.0.0:22")
	f.login(login{Listener: lis, Mon: 200, Child: 201, UID: 1000, Remote: "203.0.113.7:1", Local: "192.0.2.1:22"})
	f.flush()
	f.must(os.Remove(filepath.Join(f.dir, "netns", fmt.Sprint(fixNS), "tcp")))
	s, err := NewScanner(f.options())
	if err != nil {
		t.Fatal(err)
	}
	got, problems, err := s.Scan(fixNow)
	want := []string{fmt.Sprintf("cannot read %s/100/net/tcp: no such file or directory", f.proc)}
	if err != nil || len(got) != 0 || !cmp.Equal(problems, want) {
		t.Errorf("Scan() = %v, %q, %v; want no sessions, %q", got, problems, err, want)
	}
}

// TestScanTCPRereads plays a kernel whose reads of the TCP table skip
// the sockets the scan looks for (as reads under churn do) up to some
// read: a socket the scan did not find is looked for in a new read, at
// most tcpReads reads of a table, and a table that has everything is
// read once.
func TestScanTCPRereads(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		found     int // the read of net/tcp from which the sockets are there; 0: never
		wantReads int
	}{
		{"steady", 1, 1},
		{"second read", 2, 2},
		{"last read", tcpReads, tcpReads},
		{"never", 0, tcpReads},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.listener(lis, "0.0.0.0:22")
			want := f.login(login{Listener: lis, Mon: 200, Child: 201, UID: 1000, Remote: "203.0.113.7:1", Local: "192.0.2.1:22"})
			f.flush()
			s, err := NewScanner(f.options())
			f.must(err)
			reads := 0
			s.readTable = func(r *reader, pid int, file string, line func([]byte)) error {
				if file != "net/tcp" {
					return readTable(r, pid, file, line)
				}
				reads++
				if tc.found > 0 && reads >= tc.found {
					return readTable(r, pid, file, line)
				}
				return readTable(r, pid, file, func([]byte) {}) // skips every line
			}
			got, problems, err := s.Scan(fixNow)
			if err != nil || len(problems) > 0 {
				t.Fatalf("Scan: %v, problems %q", err, problems)
			}
			if reads != tc.wantReads {
				t.Errorf("net/tcp was read %d times, want %d", reads, tc.wantReads)
			}
			if tc.found == 0 {
				if len(got) != 0 {
					t.Errorf("a listener whose listening socket was never found: got sessions\n%+v", got)
				}
				return
			}
			if len(got) != 1 || got[0].PID != want.PID || got[0].Remote != want.Remote || got[0].Local != want.Local {
				t.Errorf("got %+v, want the session of monitor %d from %v", got, want.PID, want.Remote)
			}
		})
	}
}

// TestScanGarbage writes garbage into every file of a fixture, one file
// at a time: the scan must not panic, and may lose sessions but never
// invent one or change who a session belongs to.
func TestScanGarbage(t *testing.T) {
	t.Parallel()
	build := func(t *testing.T) *fixture {
		f := newFixture(t)
		f.listener(lis, "0.0.0.0:22", "[::]:22")
		f.login(login{Listener: lis, Mon: 200, Child: 201, UID: 1000, Remote: "203.0.113.7:1", Local: "192.0.2.1:22", PTYs: []int{1}, Exec: []string{"sleep", "1"}})
		f.login(login{Listener: lis, Mon: 300, UID: 0, Remote: "[2001:db8::1]:2", Local: "[2001:db8::2]:22", SFTP: true})
		f.login(login{Listener: lis, Mon: 400, Child: 401, UID: 1001, Remote: "203.0.113.7:3", Local: "192.0.2.1:22"})
		f.preauth(lis, 500, "alice", "net")
		f.flush()
		return f
	}
	clean, _ := build(t).scan()
	if len(clean) != 3 {
		t.Fatalf("clean scan found %d sessions, want 3", len(clean))
	}
	owner := map[int]string{}
	for _, s := range clean {
		owner[s.PID] = fmt.Sprintf("%s %d %d", s.User, s.UID, s.Child)
	}
	garbage := []string{
		"", "\x00", "\n\n\n", "garbage", "(", ")", ")(", "1 (x) ", "1 (sshd) S",
		"1 (sshd) S -1 " + strings.Repeat("9", 40), strings.Repeat(")", 5000),
		"Uid:\t-1\t-1\nUid:", "\nUid:\t99999999999999999999 0", "\nUid:\t4294967295\t0\n",
		"tty-index:\t-3\n", "tty-index:\t99999999999\n", "tty-index:", "socket:[", "socket:[]", "socket:[-1]",
		"net:[x]", "btime x", "   0: 0100007F:08FB", "   0: ZZZZZZZZ:08FB 0100007F:CAEC 01 0:0 0:0 0 0 0 1",
		"   0: 0100007F:0016 0100007F:CAEC 01 00000000:00000000 00:00000000 00000000 0 0 900001 1\n" + strings.Repeat("x", 70000) + "\n",
		strings.Repeat("\xff\xfe\x00", 30000),
	}
	// One fixture: each file in turn holds each garbage, then is put back.
	f := build(t)
	s, err := NewScanner(f.options())
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range f.files() {
		rel, _ := filepath.Rel(f.dir, path)
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		var link string
		var content []byte
		if fi.Mode()&os.ModeSymlink != 0 {
			link, err = os.Readlink(path) // never read through it: fd links point at /dev/pts/N
		} else {
			content, err = os.ReadFile(path)
		}
		if err != nil {
			t.Fatal(err)
		}
		for i, junk := range garbage {
			if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			if fi.Mode()&os.ModeSymlink != 0 {
				if junk == "" || strings.ContainsRune(junk, 0) || os.Symlink(junk, path) != nil {
					continue // no such link
				}
			} else if err := os.WriteFile(path, []byte(junk), 0o644); err != nil {
				t.Fatal(err)
			}
			got, _, err := s.Scan(fixNow)
			if err != nil {
				if rel == "proc/stat" {
					continue // no boot time: the scan cannot be done
				}
				t.Fatalf("garbage %d in %s: Scan: %v", i, rel, err)
			}
			for _, s := range got {
				if o, ok := owner[s.PID]; !ok || o != fmt.Sprintf("%s %d %d", s.User, s.UID, s.Child) {
					t.Errorf("garbage %d in %s: session %d %s %d (child %d), clean scan: %q", i, rel, s.PID, s.User, s.UID, s.Child, o)
				}
			}
		}
		os.Remove(path)
		if fi.Mode()&os.ModeSymlink != 0 {
			err = os.Symlink(link, path)
		} else {
			err = os.WriteFile(path, content, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if got, _, err := s.Scan(fixNow); err != nil || !cmp.Equal(got, clean, cmpAddr) {
		t.Errorf("after the garbage, Scan() = %v, %v; want the clean scan back", got, err)
	}
}

// TestScanNoProc: a tree that is not there is an error of NewScanner.
func TestScanNoProc(t *testing.T) {
	t.Parallel()
	_, err := NewScanner(Options{Proc: filepath.Join(t.TempDir(), "nothing")})
	if err == nil || !strings.HasPrefix(err.Error(), "opening the proc file system: ") {
		t.Errorf("NewScanner(missing dir) error = %v, want opening the proc file system: ...", err)
	}
}

// TestParseTCP checks the decoding of the kernel's address format on
// lines measured on Linux 6.1.
func TestParseTCP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line   string
		inode  uint64
		local  string
		remote string
		listen bool
	}{
		{"   0: 0100007F:08FB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 845193 1 00000000d1512b42 100 0 0 10 0                    ",
			845193, "127.0.0.1:2299", "0.0.0.0:0", true},
		{"  19: 0100007F:08FB 0100007F:CAEC 01 00000000:00000000 02:000ACCC6 00000000     0        0 845252 2 0000000021ef9b90 20 4 19 18 -1                   ",
			845252, "127.0.0.1:2299", "127.0.0.1:51948", false},
		{"   1: 00000000000000000000000001000000:B26E 00000000000000000000000001000000:9092 01 00000000:00000000 00:00000000 00000000     0        0 846630 1 0000000061404949 20 0 0 10 -1",
			846630, "[::1]:45678", "[::1]:37010", false},
		{"   2: 0000000000000000FFFF00000100007F:B26E 0000000000000000FFFF00000100007F:92C6 01 00000000:00000000 00:00000000 00000000     0        0 846628 1 0000000032d0237a 21 0 0 10 -1",
			846628, "127.0.0.1:45678", "127.0.0.1:37574", false},
	}
	for _, tt := range tests {
		s, ok := parseTCPLine([]byte(tt.line))
		if !ok || s.inode != tt.inode || s.local.String() != tt.local || s.remote.String() != tt.remote || s.listen != tt.listen {
			t.Errorf("parseTCPLine(%q) = %v %v %v %v %v, want %v %v %v %v", tt.line, s.inode, s.local, s.remote, s.listen, ok, tt.inode, tt.local, tt.remote, tt.listen)
		}
	}
	for _, bad := range []string{"", "  sl  local_address rem_address   st tx_queue", "0: 0100007F:08FB"} {
		if _, ok := parseTCPLine([]byte(bad)); ok {
			t.Errorf("parseTCPLine(%q) ok, want not", bad)
		}
	}
}

// FuzzParsers: the parsers of /proc files never panic, and what they
// accept is in range.
func FuzzParsers(f *testing.F) {
	for _, s := range []string{
		"4367 (sshd) S 4333 4367 4367 0 -1 4194560 782 663 2 1 1 2 2 2 20 0 1 0 644973 18214912",
		"Name:\tsshd\nUid:\t0\t0\t0\t0\n", "pos:\t0\ntty-index:\t2\n", "socket:[845252]", "net:[4026531833]",
		"  19: 0100007F:08FB 0100007F:CAEC 01 00000000:00000000 02:000ACCC6 00000000     0        0 845252 2",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if s, ok := parseStat(b); ok && s.ppid < 0 {
			t.Errorf("parseStat(%q) = %+v", b, s)
		}
		if r, e, ok := parseUID(b); ok && (r < 0 || e < 0 || r > 1<<32-1) {
			t.Errorf("parseUID(%q) = %d %d", b, r, e)
		}
		if n, ok := parseTTYIndex(b); ok && (n < 0 || n > 1<<20) {
			t.Errorf("parseTTYIndex(%q) = %d", b, n)
		}
		parseSocket(b)
		parseNetNS(b)
		if s, ok := parseTCPLine(b); ok && (!s.local.IsValid() || !s.remote.IsValid()) {
			t.Errorf("parseTCPLine(%q) = %+v", b, s)
		}
	})
}

// TestBootTimeStable: btime in /proc/stat follows the wall clock, so it
// moves when the clock is stepped. A session's Started, and the start
// the scanner's FS gives its monitor, must not move with it: the agent keys
// what it did to a session by its start, and checks a process by it
// before it signals it.
func TestBootTimeStable(t *testing.T) {
	f := newFixture(t)
	f.listener(lis, "0.0.0.0:22")
	l := login{Listener: lis, Mon: 200, Child: 201, UID: 1000, Remote: "203.0.113.7:50022", Local: "192.0.2.1:22", PTYs: []int{3}}
	f.login(l)
	before, _ := f.scan()
	if len(before) != 1 {
		t.Fatalf("got %d sessions, want 1", len(before))
	}
	// The clock is stepped 2 seconds forward.
	f.write(filepath.Join(f.proc, "stat"), fmt.Sprintf("cpu  1 2 3 4 5 6 7 0 0 0\nbtime %d\n", fixBoot+2))
	after, _ := f.scan()
	if len(after) != 1 || !after[0].Started.Equal(before[0].Started) {
		t.Fatalf("after btime moved, Started = %v, want %v", after, before[0].Started)
	}
	p, err := f.sc.FS().Process(200)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Started.Equal(before[0].Started) {
		t.Errorf("FS.Process Started = %v, want the scan's %v", p.Started, before[0].Started)
	}
}

// TestScanOrphans plays `systemctl restart ssh` (and every upgrade of
// openssh-server, which restarts it): the listener exits, its sessions go
// on with their monitors reparented to PID 1 or a subreaper, and a new
// listener starts beside them. The orphans are sessions with the same
// fields but Listener; what is not a session under a listener is not one
// as an orphan either.
func TestScanOrphans(t *testing.T) {
	t.Parallel()
	const newLis = 150 // the listener after the restart
	orphan := func(mon, uid int, version string) login {
		l := login{Listener: lis, Mon: mon, UID: uid, Version: version, Orphan: 1,
			Remote: fmt.Sprintf("203.0.113.7:%d", 50000+mon), Local: "192.0.2.1:22"}
		if uid != 0 || version != "9.2" {
			l.Child = mon + 1
		}
		return l
	}
	tests := []struct {
		name  string
		build func(f *fixture) []Session
	}{
		{"every release and kind", func(f *fixture) []Session {
			var want []Session
			for i, v := range []string{"9.2", "9.8", "10.0", "10.5"} {
				for j, uid := range []int{1000, 0} {
					base := 1000 + 100*i + 40*j
					pty, exec, sftp, none := orphan(base, uid, v), orphan(base+10, uid, v), orphan(base+20, uid, v), orphan(base+30, uid, v)
					pty.PTYs, pty.Idle = []int{10*i + j}, time.Duration(i+1)*time.Minute
					exec.Exec = []string{"sleep", "600"}
					sftp.SFTP = true
					want = append(want, f.login(pty), f.login(exec), f.login(sftp), f.login(none))
				}
			}
			return want
		}},
		{"beside the new listener and its sessions", func(f *fixture) []Session {
			f.listener(newLis, "0.0.0.0:22")
			a := orphan(200, 1000, "10.0")
			a.PTYs = []int{1}
			b := login{Listener: newLis, Mon: 300, Child: 301, UID: 1001, Version: "10.0", Remote: "203.0.113.9:1", Local: "192.0.2.1:22", PTYs: []int{2}}
			return []Session{f.login(a), f.login(b)}
		}},
		{"under a subreaper", func(f *fixture) []Session {
			f.add(fakeProc{PID: 50, PPID: 1, Exe: "bash", Comm: "containerd-shim", Args: []string{"containerd-shim"}})
			a := orphan(200, 1000, "9.2")
			a.Orphan, a.Exec = 50, []string{"sleep", "600"}
			return []Session{f.login(a)}
		}},
		{"before authentication", func(f *fixture) []Session {
			for k, stage := range []string{"accepted", "net", "auth"} {
				mon := 400 + 10*k
				f.preauth(lis, mon, "alice", stage)
				f.reparent(mon, 1)
			}
			return []Session{f.login(orphan(200, 1000, "9.2"))}
		}},
		{"an orphan without its connection", func(f *fixture) []Session {
			// Its socket is closed (the session is ending): it serves no one.
			a := orphan(200, 1000, "9.2")
			f.login(a)
			f.remove(200, "fd/4")
			return []Session{f.login(orphan(300, 1000, "9.2"))}
		}},
		{"spoofed orphans of an unprivileged user", func(f *fixture) []Session {
			// The real binaries, run by a user under init, holding a TCP
			// connection, with a child titled like a root login.
			c := f.tcp(fixNS, netip.MustParseAddrPort("192.0.2.1:8022"), netip.MustParseAddrPort("203.0.113.66:1"), false)
			for k, exe := range []string{"sshd", "sshd-session"} {
				mon := 500 + 10*k
				f.add(fakeProc{PID: mon, PPID: 1, UID: 1000, Exe: exe, Args: []string{exe + ": root [priv]"},
					FDs: []fakeFD{{4, fmt.Sprintf("socket:[%d]", c), 0}, {7, "/dev/ptmx", 30}}})
				f.add(fakeProc{PID: mon + 1, PPID: mon, UID: 1000, Exe: exe, Args: []string{exe + ": root@pts/30"}})
				f.add(fakeProc{PID: mon + 2, PPID: mon, UID: 1001, Exe: exe, Args: []string{exe + ": bob@pts/30"}})
			}
			// A root process of another binary that renamed itself.
			f.add(fakeProc{PID: 530, PPID: 1, Exe: "bash", Comm: "sshd-session", Args: []string{"sshd-session: root@pts/31"},
				FDs: []fakeFD{{4, fmt.Sprintf("socket:[%d]", c), 0}, {7, "/dev/ptmx", 31}}})
			f.add(fakeProc{PID: 531, PPID: 530, UID: 1000, Exe: "sshd-session", Args: []string{"sshd-session: alice@pts/31"}})
			return []Session{f.login(orphan(200, 1000, "10.0"))}
		}},
		{"an old listener's title has no brackets", func(f *fixture) []Session {
			// Before 8.2 the listener kept its command line as title: it is
			// still no session (it holds no connection), its root login
			// children are no user child of it, and its sessions stay.
			f.listener(110, "0.0.0.0:2222")
			f.remove(110, "cmdline")
			f.write(filepath.Join(f.proc, "110", "cmdline"), "/usr/sbin/sshd\x00-D\x00")
			r := login{Listener: 110, Mon: 300, UID: 0, Remote: "203.0.113.8:40000", Local: "192.0.2.1:2222", PTYs: []int{4}}
			return []Session{f.login(r)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t) // no listener: it exited
			want := tt.build(f)
			f.flush()
			s, err := NewScanner(f.options())
			f.must(err)
			reads := 0
			s.readTable = func(r *reader, pid int, file string, line func([]byte)) error {
				reads++
				return readTable(r, pid, file, line)
			}
			got, problems, err := s.Scan(fixNow)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, cmpAddr); diff != "" {
				t.Errorf("Scan() sessions (-want +got):\n%s", diff)
			}
			if len(problems) != 0 {
				t.Errorf("Scan() problems = %q, want none", problems)
			}
			// One namespace: net/tcp and net/tcp6 once each, unless a socket
			// the scan looks for is missing.
			if wantReads := 2; reads != wantReads && tt.name != "an orphan without its connection" {
				t.Errorf("the TCP tables were read %d times, want %d", reads, wantReads)
			}
		})
	}
}

// TestScanDeletedBinary: an upgrade replaces the sshd-session binary under
// live sessions, and /proc/PID/exe reads "PATH (deleted)". What is
// checked is the file the process runs, which the exe link still reaches
// (the fixture names it "PATH (deleted)" so that the link resolves), not
// the new file at PATH.
func TestScanDeletedBinary(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.listener(lis, "0.0.0.0:22")
	// Upgraded: the old binary was root's, and PATH is gone (moved).
	old := f.binary("up/sshd-session (deleted)", 0o755, 0)
	a := login{Listener: lis, Mon: 200, Child: 201, UID: 1000, Version: "10.0", Remote: "203.0.113.7:1", Local: "192.0.2.1:22", PTYs: []int{1}}
	want := f.login(a)
	f.remove(200, "exe")
	f.must(os.Symlink(old, filepath.Join(f.proc, "200", "exe")))
	// Replaced by a root-owned file at PATH, but the file that ran was a
	// user's: not trusted.
	f.binary("evil/sshd-session", 0o755, 0)
	bad := f.binary("evil/sshd-session (deleted)", 0o755, 1000)
	b := login{Listener: lis, Mon: 300, Child: 301, UID: 1001, Version: "10.0", Remote: "203.0.113.7:2", Local: "192.0.2.1:22", PTYs: []int{2}}
	f.login(b)
	f.remove(300, "exe")
	f.must(os.Symlink(bad, filepath.Join(f.proc, "300", "exe")))
	got, problems := f.scan()
	if diff := cmp.Diff([]Session{want}, got, cmpAddr); diff != "" || len(problems) > 0 {
		t.Errorf("Scan() sessions (-want +got):\n%s\nproblems %q", diff, problems)
	}
}

// TestScanListenerExitsMidScan: the listener exits after the scan read
// its stat and fds, before its TCP tables (systemctl restart ssh at the
// wrong moment). Its sessions are not lost for that scan: they are
// orphans already.
func TestScanListenerExitsMidScan(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.listener(lis, "0.0.0.0:22")
	a := login{Listener: lis, Mon: 200, Child: 201, UID: 1000, Version: "10.0", Remote: "203.0.113.7:1", Local: "192.0.2.1:22", PTYs: []int{1}}
	r := login{Listener: lis, Mon: 300, Child: 301, UID: 0, Version: "10.0", Remote: "203.0.113.7:2", Local: "192.0.2.1:22", Exec: []string{"sleep", "9"}}
	want := []Session{f.login(a), f.login(r)}
	for i := range want {
		want[i].Listener = 0
	}
	f.flush()
	s, err := NewScanner(f.options())
	f.must(err)
	s.readTable = func(rd *reader, pid int, file string, line func([]byte)) error {
		if pid == lis {
			f.remove(lis)
			return syscall.ENOENT
		}
		// The listening socket went with the listener.
		return readTable(rd, pid, file, func(b []byte) {
			if s, ok := parseTCPLine(b); !ok || !s.listen {
				line(b)
			}
		})
	}
	got, problems, err := s.Scan(fixNow)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmpAddr); diff != "" || len(problems) > 0 {
		t.Errorf("Scan() sessions (-want +got):\n%s\nproblems %q", diff, problems)
	}
}

// TestScanChrootPTY: the sshd of a chroot or container allocates its ptys
// from the devpts at its own /dev/pts. The host sees its pty master as
// ROOT/dev/ptmx (or, for a mount the host does not reach, /dev/ptmx), and
// index N names that instance's pts, not the host's /dev/pts/N: the scan
// looks the terminal up through /proc/PID/root.
func TestScanChrootPTY(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.listener(lis, "0.0.0.0:22")
	a := login{Listener: lis, Mon: 200, Child: 201, UID: 1000, Version: "10.0", Remote: "203.0.113.7:1", Local: "192.0.2.1:22", PTYs: []int{5}, Idle: 10 * time.Minute}
	want := f.login(a) // the host's /dev/pts/5, idle 10 minutes: another terminal
	jail := filepath.Join(f.dir, "jail")
	f.must(os.MkdirAll(filepath.Join(jail, "dev", "pts"), 0o755))
	pts := filepath.Join(jail, "dev", "pts", "5")
	f.must(syscall.Mknod(pts, syscall.S_IFCHR|0o620, ptsMajor<<8|5))
	idle := 30 * time.Second
	f.must(os.Chtimes(pts, fixNow.Add(-idle), fixNow))
	f.must(os.Symlink(jail, filepath.Join(f.proc, "200", "root")))
	f.remove(200, "fd/7")
	f.must(os.Symlink(filepath.Join(jail, "dev", "ptmx"), filepath.Join(f.proc, "200", "fd", "7")))
	want.Idle = &idle
	got, problems := f.scan()
	if diff := cmp.Diff([]Session{want}, got, cmpAddr); diff != "" || len(problems) > 0 {
		t.Errorf("Scan() sessions (-want +got):\n%s\nproblems %q", diff, problems)
	}
}
