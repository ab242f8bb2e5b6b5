package watcher

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Activity moves with the I/O and CPU counters of the session's processes,
// and with a process coming or going, and with nothing else; a process
// older than the session (a recycled pid) does not count.
func TestActivity(t *testing.T) {
	f := newFixture(t)
	f.add(fakeProc{PID: 500, PPID: 499, UID: 1000, Exe: "sleep", Args: []string{"sleep", "600"}, Start: 1000, LoginUID: 1000})
	f.add(fakeProc{PID: 501, PPID: 499, UID: 1000, Exe: "sleep", Args: []string{"sleep", "600"}, Start: 1000, LoginUID: 1000})
	f.add(fakeProc{PID: 400, PPID: 1, UID: 1000, Exe: "sleep", Args: []string{"sleep", "600"}, Start: 10, LoginUID: 1000})
	io := func(pid string, rchar, wchar string) {
		f.write(filepath.Join(f.proc, pid, "io"), "rchar: "+rchar+"\nwchar: "+wchar+"\nsyscr: 5\nsyscw: 2\nread_bytes: 0\nwrite_bytes: 0\ncancelled_write_bytes: 0\n")
	}
	io("500", "100", "200")
	io("501", "0", "0")
	sc, err := NewScanner(Options{Proc: f.proc, Dev: f.dev, Users: fixUsers})
	if err != nil {
		t.Fatal(err)
	}
	// The session started at tick 900 (USER_HZ 100: 9 s after boot).
	s := Session{PID: 498, Started: time.Unix(fixBoot, 0).Add(9 * time.Second), Procs: []int{500}}
	fp := func() uint64 {
		t.Helper()
		v, ok := sc.Activity(s)
		if !ok {
			t.Fatalf("Activity: not ok for %v", s.Procs)
		}
		return v
	}
	first := fp()
	if fp() != first {
		t.Fatal("two looks at an idle session differ")
	}
	step := func(what string, change func()) {
		t.Helper()
		before := fp()
		change()
		if fp() == before {
			t.Errorf("%s: the fingerprint did not move", what)
		}
	}
	step("wchar", func() { io("500", "100", "201") })
	step("rchar", func() { io("500", "101", "201") })
	stat := filepath.Join(f.proc, "500", "stat")
	step("utime", func() {
		b, _ := os.ReadFile(stat)
		f.write(stat, strings.Replace(string(b), " 663 2 1 1 2 ", " 663 2 1 7 2 ", 1))
	})
	step("a new process", func() { s.Procs = []int{500, 501} })
	step("a process gone", func() { s.Procs = []int{501} })

	// pid 400 started before the session: not one of its processes.
	s.Procs = []int{400}
	if _, ok := sc.Activity(s); ok {
		t.Errorf("a process older than the session counted")
	}
	s.Procs = []int{400, 501}
	with := fp()
	s.Procs = []int{501}
	if fp() != with {
		t.Errorf("a process older than the session moved the fingerprint")
	}
}
