package watcher

import (
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
)

// synthetic builds a /proc tree of nprocs processes of which nsessions
// are logins under one listener (60% pty, 25% exec, 10% sftp, 5% ssh -N,
// one in ten a root login); the rest are services under init and kernel
// threads. It returns the sessions a scan should find.
func synthetic(tb testing.TB, nprocs, nsessions int) (*fixture, []Session) {
	tb.Helper()
	f := newFixture(tb)
	var want []Session
	f.add(fakeProc{PID: 1, Exe: "bash", Comm: "systemd", Args: []string{"/sbin/init"}})
	f.add(fakeProc{PID: 2, Comm: "kthreadd"})
	f.listener(lis, "0.0.0.0:22", "[::]:22")
	n := 3 // init, kthreadd, the listener
	for i := range nsessions {
		mon := 10000 + 10*i
		l := login{Listener: lis, Mon: mon, Child: mon + 1, UID: 1000 + i%50,
			Remote: fmt.Sprintf("198.51.%d.%d:%d", i/250, i%250, 40000+i), Local: "192.0.2.1:22"}
		switch {
		case i%20 < 12:
			l.PTYs, l.Idle = []int{i}, time.Duration(i)*time.Second
		case i%20 < 17:
			l.Exec = []string{"sleep", "600"}
		case i%20 < 19:
			l.SFTP = true
		}
		if i%10 == 0 {
			l.Child, l.UID = 0, 0 // a root login
		}
		s := f.login(l)
		want = append(want, s)
		n += 1 + len(s.Procs)
		if s.Child != 0 {
			n++
		}
	}
	for pid := 100000; n < nprocs; pid++ {
		if pid%3 == 0 {
			f.add(fakeProc{PID: pid, PPID: 2, Comm: fmt.Sprintf("kworker/%d", pid)})
		} else {
			f.add(fakeProc{PID: pid, PPID: 1, UID: pid % 7, Exe: "sleep", Comm: "service", Args: []string{"/usr/bin/service", "--daemon"}})
		}
		n++
	}
	f.flush()
	return f, want
}

// BenchmarkScan scans a synthetic /proc of 5,000 processes and 1,000
// sessions. The goal (issue 5): at most 10 ms and 1 MB per scan.
func BenchmarkScan(b *testing.B) {
	f, _ := synthetic(b, 5000, 1000)
	s, err := NewScanner(Options{Proc: f.proc, Dev: f.dev, Users: fixUsers})
	if err != nil {
		b.Fatal(err)
	}
	got, problems, err := s.Scan(fixNow)
	if err != nil || len(got) != 1000 || len(problems) > 0 {
		b.Fatalf("Scan() = %d sessions, %q, %v; want 1000 sessions", len(got), problems, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.Scan(fixNow); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanLive scans this machine's /proc, for comparison with
// BenchmarkPSLive.
func BenchmarkScanLive(b *testing.B) {
	s, err := NewScanner(Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.Scan(fixNow); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPSLive runs `ps -e -o pid,ppid,uid,tty,args`, what an admin
// would run to see the same processes.
func BenchmarkPSLive(b *testing.B) {
	ps, err := exec.LookPath("ps")
	if err != nil {
		sshdtest.Missing(b, err.Error())
	}
	for b.Loop() {
		if err := exec.Command(ps, "-e", "-o", "pid,ppid,uid,tty,args").Run(); err != nil {
			b.Fatal(err)
		}
	}
}
