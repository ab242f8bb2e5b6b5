package sshdconf_test

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/internal/memfs"
)

// allocated returns the bytes f allocates (runtime.MemStats.TotalAlloc:
// everything, garbage included, so it bounds the peak too).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// loadAll loads files (keyed by sshd name, main /etc/ssh/sshd_config) and
// does every pass a command does: the first, the walk of Directives, the
// settings of the first pass and of a connection.
func loadAll(files map[string][]byte, opt *sshdconf.LoadOptions) (*sshdconf.Config, error) {
	cfg, err := sshdconf.Load(memfs.New(files), "/etc/ssh/sshd_config", opt)
	if err != nil {
		return nil, err
	}
	cfg.Directives()
	cfg.Global()
	cfg.Effective(sshdconf.ConnSpec{User: "alice", Host: "h", Addr: "192.0.2.1", LAddr: "192.0.2.2", LPort: 22})
	return cfg, nil
}

// shapes are configurations of about size bytes that cost the most per
// byte: Match blocks (an SFTP host's one per customer), values that
// accumulate, unknown keywords (a diagnostic each), a long Match list,
// quoted Match criteria, comments.
func shapes(size int) map[string][]byte {
	fill := func(line func(i int) string) []byte {
		var b bytes.Buffer
		for i := 0; b.Len() < size; i++ {
			b.WriteString(line(i))
		}
		return b.Bytes()
	}
	return map[string][]byte{
		"match-blocks": fill(func(i int) string {
			return fmt.Sprintf("Match User cust%d\n  ChrootDirectory /srv/cust%d\n  ForceCommand internal-sftp\n", i, i)
		}),
		"acceptenv":     fill(func(int) string { return "AcceptEnv LANG LC_ALL\n" }),
		"unknown":       fill(func(int) string { return "Xyzzy 1\n" }),
		"comments":      fill(func(int) string { return "# a comment, the most common line.....\n" }),
		"port":          fill(func(int) string { return "Port 22\n" }),
		"match-list":    append(append([]byte("Match User "), fill(func(i int) string { return fmt.Sprintf("user%d,", i) })...), "x\n  MaxSessions 2\n"...),
		"match-quoted":  fill(func(int) string { return "Match" + strings.Repeat(` "User" "u1"`, 400) + "\n  MaxSessions 3\n" }),
		"long-argument": append(append([]byte("Banner /"), bytes.Repeat([]byte("x"), size)...), '\n'),
	}
}

// maxAllocPerByte bounds what loading a configuration allocates per byte
// of it (every pass: first, Directives, Global, Effective; garbage
// included). Measured: 16 to 20 for long lines and Match blocks, 45 to 52
// for lines of one short value (a syntax line, a directive and a value
// each).
const maxAllocPerByte = 64

// TestLoadMemoryProportional: a load allocates in proportion to its input,
// with a small factor, for every shape of input.
func TestLoadMemoryProportional(t *testing.T) {
	const size = 1 << 20
	for name, b := range shapes(size) {
		t.Run(name, func(t *testing.T) {
			files := map[string][]byte{"/etc/ssh/sshd_config": b}
			var err error
			n := allocated(func() { _, err = loadAll(files, nil) })
			if err != nil {
				t.Fatal(err)
			}
			per := float64(n) / float64(len(b))
			t.Logf("%s: %d bytes, %d allocated, %.1f per byte", name, len(b), n, per)
			if per > maxAllocPerByte {
				t.Errorf("%s: %.1f bytes allocated per byte of input, more than %d", name, per, maxAllocPerByte)
			}
		})
	}
}

// BenchmarkLoadShapes loads each shape of TestLoadMemoryProportional (1 MB):
// -benchmem gives the bytes allocated, alloc/byte the factor.
func BenchmarkLoadShapes(b *testing.B) {
	for name, src := range shapes(1 << 20) {
		b.Run(name, func(b *testing.B) {
			files := map[string][]byte{"/etc/ssh/sshd_config": src}
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			var n uint64
			for b.Loop() {
				var ms0, ms1 runtime.MemStats
				runtime.ReadMemStats(&ms0)
				if _, err := loadAll(files, nil); err != nil {
					b.Fatal(err)
				}
				runtime.ReadMemStats(&ms1)
				n = ms1.TotalAlloc - ms0.TotalAlloc
			}
			b.ReportMetric(float64(n)/float64(len(src)), "alloc/byte")
		})
	}
}
