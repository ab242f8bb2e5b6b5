package enforcer

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
	"github.com/sshwarden/sshwarden/watcher"
)

// TestIdleLineBuffered measures, on a real sshd and its pty sessions,
// what the idle warning (DefaultWarnMessage) tells the user to do: the
// pts atime, the idle clock, moves when a program reads input, so in a
// program that reads its terminal line by line (cat, read) keys typed
// without Enter leave it still, and Enter moves it; at bash's prompt,
// which reads each key, one key moves it.
//
// The kernel moves atime only once the time has left the 8-second window
// of the last update (OPENSSH.md, "Idle"), so each step first waits for
// that, and the test takes about 20 s.
func TestIdleLineBuffered(t *testing.T) {
	t.Parallel()
	s := sshdtest.Start(t, sshdtest.Options{})
	cat := actStart(t, "cat", s.SSH(t.Context(), "-tt", "cat"))
	catSess := actFind(t, s, "the session running cat", func(x watcher.Session) bool {
		return x.Kind == watcher.KindPTY && len(x.TTYs) == 1 && len(x.Procs) > 0
	})
	shell := actStart(t, "bash", s.SSH(t.Context(), "-tt"))
	shellSess := actFind(t, s, "the login shell", func(x watcher.Session) bool {
		return x.Kind == watcher.KindPTY && x.PID != catSess.PID && len(x.TTYs) == 1 && len(x.Procs) > 0
	})
	// Wait for bash's prompt; the user's shell is bash (useradd -s).
	if _, err := io.WriteString(shell.stdin, "PS1='prompt> '\n"); err != nil {
		t.Fatal(err)
	}
	actWaitFor(t, "bash's prompt", func() (bool, string) {
		return strings.Contains(shell.stdout.String(), "prompt> "), fmt.Sprintf("stdout %q", shell.stdout.String())
	})
	catPTS, shellPTS := "/dev/"+catSess.TTYs[0], "/dev/"+shellSess.TTYs[0]

	atime := func(path string) time.Time {
		t.Helper()
		var st unix.Stat_t
		if err := unix.Stat(path, &st); err != nil {
			t.Fatalf("stat %s: %v", path, err)
		}
		return time.Unix(st.Atim.Unix())
	}
	// nextWindow waits until input would move atime a of a pts.
	nextWindow := func(a ...time.Time) {
		var until time.Time
		for _, x := range a {
			if w := time.Unix(x.Unix()&^7+8, 200e6); w.After(until) {
				until = w
			}
		}
		time.Sleep(time.Until(until))
	}
	moved := func(path string, before time.Time, within time.Duration) (time.Time, bool) {
		deadline := time.Now().Add(within)
		for {
			if a := atime(path); !a.Equal(before) {
				return a, true
			}
			if time.Now().After(deadline) {
				return before, false
			}
			time.Sleep(actPoll)
		}
	}
	type2 := func(c *actClient, keys string) {
		t.Helper()
		if _, err := io.WriteString(c.stdin, keys); err != nil {
			t.Fatalf("typing into %s: %v", c.name, err)
		}
	}

	catA, shellA := atime(catPTS), atime(shellPTS)
	nextWindow(catA, shellA)
	type2(cat, "abc")
	type2(shell, "x")
	if a, ok := moved(catPTS, catA, 2*time.Second); ok {
		t.Errorf("cat: keys without Enter moved the atime of %s from %v to %v", catPTS, catA, a)
	}
	if _, ok := moved(shellPTS, shellA, 2*time.Second); !ok {
		t.Errorf("bash's prompt: a key did not move the atime of %s from %v", shellPTS, shellA)
	}
	// The keys did reach the terminal: cat's line holds them (echoed).
	actWaitFor(t, "the echo of the keys typed into cat", func() (bool, string) {
		return strings.Contains(cat.stdout.String(), "abc"), fmt.Sprintf("stdout %q", cat.stdout.String())
	})
	t.Logf("cat: %s atime %v after keys without Enter; bash: %s atime %v -> %v after one key", catPTS, atime(catPTS), shellPTS, shellA, atime(shellPTS))

	nextWindow(catA)
	type2(cat, "\n")
	if _, ok := moved(catPTS, catA, 2*time.Second); !ok {
		t.Errorf("cat: Enter did not move the atime of %s from %v", catPTS, catA)
	}
	actWaitFor(t, "cat to print the line", func() (bool, string) {
		return strings.Count(cat.stdout.String(), "abc") >= 2, fmt.Sprintf("stdout %q", cat.stdout.String())
	})
	t.Logf("cat: %s atime %v -> %v after Enter", catPTS, catA, atime(catPTS))
}
