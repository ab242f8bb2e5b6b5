package lint_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/sshwarden/sshwarden/policy"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/internal/memfs"
	"github.com/sshwarden/sshwarden/sshdconf/lint"
)

// FuzzLint lints trees of up to four files cut from the input, read as one
// of the releases, with every check and the default policy: it must never
// panic, every finding must point into a file of the tree, and the error
// findings of the sshd-refuses check must appear exactly when the model
// says sshd refuses the tree.
func FuzzLint(f *testing.F) {
	f.Add([]byte("Include /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication no\n\x1ePasswordAuthentication yes\n"))
	f.Add([]byte("Match User a\n\tClientAliveInterval 0\n\nX 1\n\x1eMatch all\nClientAliveCountMax 0\n\x1e\x1eChannelTimeout session=1m\n"))
	f.Add([]byte("Include /etc/ssh/x\n\x1e\x1e\x1eInclude /etc/ssh/x\n"))
	p, err := policy.Load("builtin:default")
	if err != nil {
		f.Fatal(err)
	}
	rels := sshdconf.Releases()
	names := []string{"/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/a.conf", "/etc/ssh/sshd_config.d/b.conf.disabled", "/etc/ssh/x"}
	f.Fuzz(func(t *testing.T, src []byte) {
		files := map[string][]byte{}
		for i, part := range bytes.SplitN(src, []byte{0x1e}, len(names)) {
			files[names[i]] = part
		}
		// Read as one of the releases, chosen by the input's length.
		rel := rels[len(src)%len(rels)]
		cfg, err := sshdconf.Load(memfs.New(files), names[0], &sshdconf.LoadOptions{MaxLines: 20000, Release: rel})
		var over *sshdconf.BudgetError
		if errors.As(err, &over) {
			return // too much work to model: lint says so and checks nothing
		}
		if err != nil {
			t.Fatal(err)
		}
		refused := false
		for _, fd := range lint.Run(&lint.Pass{Config: cfg, Requirements: p.Requirements}, lint.Checks(), nil) {
			if _, ok := files[fd.Pos.File]; !ok {
				t.Fatalf("finding outside the tree: %+v", fd)
			}
			refused = refused || fd.Check == "sshd-refuses"
		}
		if refused != (cfg.Err() != nil) {
			t.Fatalf("sshd-refuses findings = %v, model error = %v", refused, cfg.Err())
		}
	})
}
