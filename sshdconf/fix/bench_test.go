package fix_test

import (
	"os"
	"testing"

	"github.com/sshwarden/sshwarden/enforcer"
	"github.com/sshwarden/sshwarden/internal/oracle"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/fix"
)

// BenchmarkMake plans the fix of Debian's stock configuration for
// builtin:default (one line to add), model check of the result included:
// what fix costs before it runs sshd -t.
func BenchmarkMake(b *testing.B) {
	data, err := os.ReadFile("../../testdata/trees/debian12-stock.txtar")
	if err != nil {
		b.Fatal(err)
	}
	a := oracle.ParseArchive(data)
	files := map[string][]byte{}
	for n, f := range a.Files {
		files["/"+n] = f
	}
	pol, err := enforcer.Load("builtin:default")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		cfg, err := sshdconf.Parsed(files, a.Main, nil)
		if err != nil {
			b.Fatal(err)
		}
		p, err := fix.Make(cfg, pol.Requirements)
		if err != nil || len(p.Files) != 1 {
			b.Fatalf("Make = %v, %v; want one file changed", p, err)
		}
	}
}
