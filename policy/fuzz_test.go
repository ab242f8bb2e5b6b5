package policy

import (
	"errors"
	"testing"

	"github.com/sshwarden/sshwarden/sshdconf"
)

// FuzzParse: the policy loader never panics, and every error it returns
// names the file and a line of it.
func FuzzParse(f *testing.F) {
	for _, n := range []string{"default", "cis", "stig", "pci"} {
		b, err := profiles.ReadFile("profiles/" + n + ".conf")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("Match User=a Address 10.0.0.0/8\n IdleTimeout 1h\nMatch\nWarnMessage\n\"Idle\x00Timeout\" 5\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := Parse("p.conf", src)
		if err == nil {
			if p == nil {
				t.Fatal("nil policy without error")
			}
			return
		}
		var list sshdconf.ErrorList
		if !errors.As(err, &list) || len(list) == 0 {
			t.Fatalf("error %v is not a list of positioned errors", err)
		}
		for _, d := range list {
			if d.Pos.File != "p.conf" || d.Pos.Line < 1 {
				t.Fatalf("error without a position: %+v", d)
			}
		}
	})
}
