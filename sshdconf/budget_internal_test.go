package sshdconf

import (
	"bytes"
	"errors"
	"github.com/sshwarden/sshwarden/sshdconf/internal/memfs"
	"runtime"
	"strings"
	"testing"
)

// fuzzBudget is a small budget, so that the fuzzer reaches every limit
// with small inputs.
var fuzzBudget = LoadOptions{MaxFiles: 40, MaxBytes: 4096, MaxLines: 400, MaxMatchCriteria: 8}

// FuzzLoadBudget loads a tree of four files cut from the input (two of
// them in a folder an Include pattern can fan out over) with a small
// budget, and checks that no input makes a load exceed it by more than a
// constant: the first pass reads at most MaxFiles+1 files, MaxLines+1
// lines and MaxBytes plus one file's bytes; the later passes (Directives,
// Effective) read no more than it did; a load that stops before sshd would
// says where with a *BudgetError; and the whole allocates a bounded amount.
// It never panics.
func FuzzLoadBudget(f *testing.F) {
	f.Add([]byte("Include d/*.conf\n\x1eInclude d/*.conf d/*.conf\n\x1eInclude /etc/ssh/d/*.conf\n"))
	f.Add([]byte("Include x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x\n\x1e\x1e\x1ePort 22\n"))
	f.Add([]byte("Match User a User b User c User d User e User f User g User h User i\n  MaxSessions 2\n"))
	f.Add([]byte("Include d/*[a-c]*.conf\n\x1eAcceptEnv A B C D E F G H\nInclude ../x\n\x1eMatch all\nInclude /etc/ssh/x\n\x1eAcceptEnv X\n"))
	f.Add([]byte(strings.Repeat("#\n", 450)))
	names := []string{"/etc/ssh/sshd_config", "/etc/ssh/d/a.conf", "/etc/ssh/d/b.conf", "/etc/ssh/x"}
	spec := ConnSpec{User: "alice", Host: "h", Addr: "10.1.2.3", LAddr: "10.0.0.1", LPort: 22}
	f.Fuzz(func(t *testing.T, src []byte) {
		files := map[string][]byte{}
		for i, part := range bytes.SplitN(src, []byte{0x1e}, len(names)) {
			files[names[i]] = part
		}
		m := memfs.New(files)
		opt := fuzzBudget
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c, err := load(m, names[0], &opt)
		var over *BudgetError
		switch {
		case errors.As(err, &over):
			if over.Pos.File == "" || over.Msg == "" || !strings.Contains(over.Msg, "budget exceeded") {
				t.Fatalf("budget error without a place or a reason: %#v", over)
			}
		case err != nil:
			t.Fatalf("Load: %v", err)
		}
		w := c.work
		fileLimit := opt.MaxFileSize
		if fileLimit == 0 || fileLimit > opt.MaxBytes {
			fileLimit = opt.MaxBytes
		}
		if w.files > opt.MaxFiles+1 || w.lines > opt.MaxLines+1 || w.bytes > opt.MaxBytes+fileLimit {
			t.Fatalf("the first pass read %d files, %d lines, %d bytes: more than the budget %+v", w.files, w.lines, w.bytes, opt)
		}
		if err != nil {
			return
		}
		if n := len(c.Directives()); n > opt.MaxLines {
			t.Fatalf("%d directives, more than MaxLines", n)
		}
		if _, err := c.Effective(spec); errors.As(err, &over) && c.over == nil {
			t.Fatalf("Effective ran out of a budget the first pass kept: %v", err)
		}
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
			t.Fatalf("the load allocated %d bytes", n)
		}
	})
}
