package sshdconf_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sshwarden/sshwarden/internal/oracle"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/internal/memfs"
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
		if _, err := sshdconf.Load(memfs.New(files), a.Main, nil); err != nil {
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
	cfg, err := sshdconf.Load(memfs.New(files), a.Main, nil)
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

// stockSingleFile is the Debian 12 stock sshd_config without its Include
// line, plus a host key, so that sshd -T can read it directly.
func stockSingleFile(b *testing.B, hostKey string) []byte {
	d := loadArchive(b, "debian12-stock")
	var out []byte
	for _, l := range strings.SplitAfter(string(d.Files["etc/ssh/sshd_config"]), "\n") {
		if !strings.HasPrefix(l, "Include ") {
			out = append(out, l...)
		}
	}
	return append(out, "HostKey "+hostKey+"\n"...)
}

// BenchmarkStockModel reads the Debian stock file and evaluates it for one
// connection: the model's side of the comparison with BenchmarkStockSSHD.
func BenchmarkStockModel(b *testing.B) {
	src := stockSingleFile(b, "/nonexistent/hostkey")
	spec := sshdconf.ConnSpec{User: "alice", Host: "h", Addr: "192.0.2.10", LAddr: "192.0.2.1", LPort: 22}
	b.ReportAllocs()
	for b.Loop() {
		cfg, err := sshdconf.Load(memfs.New(map[string][]byte{"/etc/ssh/sshd_config": src}), "/etc/ssh/sshd_config", nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := cfg.Effective(spec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStockSSHD runs the real `sshd -T -C` on the same file: the
// reference the model's figures are quoted against.
func BenchmarkStockSSHD(b *testing.B) {
	if _, err := os.Stat(oracle.SSHD); err != nil {
		b.Skip("no sshd")
	}
	dir := b.TempDir()
	key := filepath.Join(dir, "hostkey")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		b.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	conf := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(conf, stockSingleFile(b, key), 0o644); err != nil {
		b.Fatal(err)
	}
	_ = os.MkdirAll("/run/sshd", 0o755)
	for b.Loop() {
		out, err := exec.Command(oracle.SSHD, "-T", "-f", conf, "-C", "user=alice,host=h,addr=192.0.2.10,laddr=192.0.2.1,lport=22").CombinedOutput()
		if err != nil {
			b.Fatalf("sshd -T: %v: %s", err, out)
		}
	}
}
