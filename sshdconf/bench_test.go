package sshdconf_test

import (
	"os"
	"testing"

	"github.com/sshwarden/sshwarden/internal/oracle"
	"github.com/sshwarden/sshwarden/sshdconf"
)

func loadArchive(b *testing.B, name string) *oracle.Archive {
	b.Helper()
	data, err := os.ReadFile("../testdata/trees/" + name + ".txtar")
	if err != nil {
		b.Fatal(err)
	}
	return oracle.ParseArchive(data)
}

// BenchmarkParse parses a large configuration (the Debian stock file and
// a multi-Match file repeated to about 1 MiB); -benchmem and the MB/s column
// are the figures to quote.
func BenchmarkParse(b *testing.B) {
	a := loadArchive(b, "multi-match")
	d := loadArchive(b, "debian12-stock")
	unit := append(append([]byte(nil), d.Files["etc/ssh/sshd_config"]...), a.Files["etc/ssh/sshd_config"]...)
	var src []byte
	for len(src) < 1<<20 {
		src = append(src, unit...)
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		sshdconf.Parse("big", src)
	}
}

// BenchmarkLoad reads and evaluates the first pass of a stock tree.
func BenchmarkLoad(b *testing.B) {
	a := loadArchive(b, "ubuntu2204-cloudinit")
	files := map[string][]byte{}
	for n, f := range a.Files {
		files["/"+n] = f
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sshdconf.Parsed(files, a.Main, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEffective evaluates a loaded stock tree for one connection, the
// work sshd -T -C does after reading its files.
func BenchmarkEffective(b *testing.B) {
	a := loadArchive(b, "ubuntu2204-cloudinit")
	files := map[string][]byte{}
	for n, f := range a.Files {
		files["/"+n] = f
	}
	cfg, err := sshdconf.Parsed(files, a.Main, nil)
	if err != nil {
		b.Fatal(err)
	}
	spec := sshdconf.ConnSpec{User: "alice", Host: "h", Addr: "192.0.2.10", LAddr: "192.0.2.1", LPort: 22}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cfg.Effective(spec); err != nil {
			b.Fatal(err)
		}
	}
}
