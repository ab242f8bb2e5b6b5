package sshdconf_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/internal/memfs"
)

// dropIns returns n files d/NNNNN.conf under /etc/ssh, each body.
func dropIns(files map[string][]byte, dir string, n int, body string) {
	for i := range n {
		files[fmt.Sprintf("/etc/ssh/%s/%05d.conf", dir, i)] = []byte(body)
	}
}

// TestBudget loads the trees of issue 17 that took every command minutes
// or gigabytes: each must end with a clear error naming the file and line
// where the budget ran out (or, where sshd stops first, sshd's own error),
// allocating a few megabytes at most.
func TestBudget(t *testing.T) {
	stars := strings.Repeat("*a", 60) + "b"
	tests := []struct {
		name  string
		files func() map[string][]byte
		// want is the Load error; empty when Load must succeed with
		// refused (sshd's error at that position) or accepted ("").
		want, refused string
		alloc         uint64 // most bytes the load may allocate
	}{
		{
			name: "five files that include the five",
			files: func() map[string][]byte {
				f := map[string][]byte{"/etc/ssh/sshd_config": []byte("Include d/*.conf\n")}
				dropIns(f, "d", 5, "Include d/*.conf\n")
				return f
			},
			// sshd stops at the 17th level, long before the fan-out
			// (5^16 inclusions) would end.
			refused: "/etc/ssh/d/00000.conf:1:9: includes nest more than 16 levels deep",
			alloc:   8 << 20,
		},
		{
			name: "a tree of drop-ins without a loop",
			files: func() map[string][]byte {
				f := map[string][]byte{"/etc/ssh/sshd_config": []byte("Include d1/*.conf\n")}
				dropIns(f, "d1", 12, "Include d2/*.conf\n")
				dropIns(f, "d2", 12, "Include d3/*.conf\n")
				dropIns(f, "d3", 12, "MaxSessions 4\n")
				return f
			},
			want:  "/etc/ssh/d2/00004.conf:1: include budget exceeded: more than 1000 files read (counting every inclusion of a file)",
			alloc: 8 << 20,
		},
		{
			name: "10,000 drop-ins that include each other",
			files: func() map[string][]byte {
				f := map[string][]byte{"/etc/ssh/sshd_config": []byte("Include d/*.conf\n")}
				dropIns(f, "d", 10000, "Include d/*.conf\n")
				return f
			},
			want:  "/etc/ssh/sshd_config:1: include budget exceeded: /etc/ssh/d/*.conf names more than 1000 files",
			alloc: 32 << 20, // the in-memory file system lists its 10,000 files
		},
		{
			name: "900 drop-ins that include each other",
			files: func() map[string][]byte {
				f := map[string][]byte{"/etc/ssh/sshd_config": []byte("Include d/*.conf\n")}
				dropIns(f, "d", 900, "Include d/*.conf\n")
				return f
			},
			refused: "/etc/ssh/d/00000.conf:1:9: includes nest more than 16 levels deep",
			alloc:   32 << 20,
		},
		{
			name: "a pattern of 60 stars against a long name",
			files: func() map[string][]byte {
				return map[string][]byte{
					"/etc/ssh/sshd_config":                   []byte("Include d/" + stars + "\nPort 22\n"),
					"/etc/ssh/d/" + strings.Repeat("a", 250): []byte("Port 2\n"),
				}
			},
			alloc: 1 << 20,
		},
		{
			name: "a 15 MB file",
			files: func() map[string][]byte {
				return map[string][]byte{"/etc/ssh/sshd_config": bytes.Repeat([]byte("AcceptEnv LANG LC_ALL\n"), 15_000_000/22)}
			},
			want:  "/etc/ssh/sshd_config: configuration budget exceeded: the file is larger than 4194304 bytes",
			alloc: 1 << 20, // refused before it is read
		},
		{
			name: "an included 15 MB file",
			files: func() map[string][]byte {
				return map[string][]byte{
					"/etc/ssh/sshd_config":         []byte("Port 22\nInclude big.conf\n"),
					"/etc/ssh/big.conf":            bytes.Repeat([]byte("AcceptEnv LANG LC_ALL\n"), 15_000_000/22),
					"/etc/ssh/sshd_config.d/x.txt": nil,
				}
			},
			want:  "/etc/ssh/sshd_config:2: configuration budget exceeded: /etc/ssh/big.conf is larger than 4194304 bytes",
			alloc: 1 << 20,
		},
		{
			name: "five 1 MB files",
			files: func() map[string][]byte {
				f := map[string][]byte{"/etc/ssh/sshd_config": []byte("# drop-ins\nInclude d/*.conf\n")}
				dropIns(f, "d", 5, strings.Repeat("# a comment of about a hundred bytes, repeated to make a file of a megabyte......\n", 1<<20/82))
				return f
			},
			want:  "/etc/ssh/sshd_config:2: configuration budget exceeded: more than 4194304 bytes read (counting every inclusion of a file)",
			alloc: 48 << 20,
		},
		{
			name: "a Match of 10,000 criteria",
			files: func() map[string][]byte {
				var b strings.Builder
				b.WriteString("Port 22\nMatch")
				for i := range 10000 {
					fmt.Fprintf(&b, " User u%d", i)
				}
				b.WriteString("\n  ClientAliveInterval 0\n")
				return map[string][]byte{"/etc/ssh/sshd_config": []byte(b.String())}
			},
			want:  "/etc/ssh/sshd_config:2: match budget exceeded: more than 1000 criteria on one Match line",
			alloc: 8 << 20, // the line is 108 KB
		},
		{
			name: "a Match of 1,000 criteria",
			files: func() map[string][]byte {
				var b strings.Builder
				b.WriteString("Match")
				for i := range 1000 {
					fmt.Fprintf(&b, " User u%d", i)
				}
				b.WriteString("\n  ClientAliveInterval 5\n")
				return map[string][]byte{"/etc/ssh/sshd_config": []byte(b.String())}
			},
			alloc: 2 << 20,
		},
		{
			name: "200,001 lines",
			files: func() map[string][]byte {
				return map[string][]byte{"/etc/ssh/sshd_config": bytes.Repeat([]byte("#\n"), 200_001)}
			},
			want:  "/etc/ssh/sshd_config:200001: configuration budget exceeded: more than 200000 lines read (counting every inclusion of a file)",
			alloc: 32 << 20, // a syntax line each
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := tt.files()
			var (
				cfg *sshdconf.Config
				err error
			)
			done := make(chan struct{})
			var n uint64
			go func() {
				defer close(done)
				n = allocated(func() { cfg, err = loadAll(files, nil) })
			}()
			select {
			case <-done:
			case <-time.After(60 * time.Second):
				t.Fatal("the load did not end within a minute")
			}
			if n > tt.alloc {
				t.Errorf("the load allocated %d bytes, more than %d", n, tt.alloc)
			}
			if tt.want != "" {
				var over *sshdconf.BudgetError
				if !errors.As(err, &over) || err.Error() != tt.want {
					t.Fatalf("Load: %v, want the budget error %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			got := ""
			if d, ok := cfg.Err().(sshdconf.Diag); ok {
				got = d.Pos.String() + ": " + d.Msg
			}
			if got != tt.refused {
				t.Errorf("refused with %q, want %q", got, tt.refused)
			}
		})
	}
}

// endless is a file system whose one file, /etc/ssh/sshd_config, says it
// is empty and never ends (a device, a /proc file): the read must stop at
// the budget.
type endless struct{}

func (endless) Open(name string) (fs.File, error) {
	if name != "etc/ssh/sshd_config" {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return endlessFile{}, nil
}

type endlessFile struct{}

func (endlessFile) Stat() (fs.FileInfo, error) { return endlessInfo{}, nil }
func (endlessFile) Close() error               { return nil }
func (endlessFile) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = '\n'
	}
	return len(b), nil
}

type endlessInfo struct{}

func (endlessInfo) Name() string       { return "sshd_config" }
func (endlessInfo) Size() int64        { return 0 }
func (endlessInfo) Mode() fs.FileMode  { return 0o644 }
func (endlessInfo) ModTime() time.Time { return time.Time{} }
func (endlessInfo) IsDir() bool        { return false }
func (endlessInfo) Sys() any           { return nil }

func TestBudgetEndlessFile(t *testing.T) {
	var err error
	n := allocated(func() {
		_, err = sshdconf.Load(endless{}, "/etc/ssh/sshd_config", &sshdconf.LoadOptions{MaxBytes: 1 << 20})
	})
	if want := "/etc/ssh/sshd_config: configuration budget exceeded: the file is larger than 1048576 bytes"; err == nil || err.Error() != want {
		t.Errorf("Load: %v, want %s", err, want)
	}
	if n > 8<<20 {
		t.Errorf("reading 1 MB allocated %d bytes", n)
	}
}

// TestBudgetReadFile: the files checks read beside the configuration
// (Config.ReadFile) count against MaxBytes too.
func TestBudgetReadFile(t *testing.T) {
	t.Parallel()
	files := map[string][]byte{"/etc/ssh/sshd_config": []byte("Include sshd_config.d/*.conf\n")}
	for i := range 10 {
		files[fmt.Sprintf("/etc/ssh/sshd_config.d/%d.conf.disabled", i)] = bytes.Repeat([]byte("#\n"), 100<<10)
	}
	cfg, err := sshdconf.Load(memfs.New(files), "/etc/ssh/sshd_config", &sshdconf.LoadOptions{MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	read := 0
	for i := range 10 {
		if b, err := cfg.ReadFile(fmt.Sprintf("/etc/ssh/sshd_config.d/%d.conf.disabled", i)); err == nil {
			read += len(b)
		}
	}
	if read > 1<<20 {
		t.Errorf("ReadFile read %d bytes, more than MaxBytes", read)
	}
	if read < 800<<10 {
		t.Errorf("ReadFile read %d bytes: it stopped long before MaxBytes", read)
	}
}
