package sshdconf_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/internal/memfs"
)

// FuzzParse checks the printer: Print(Parse(x)) == x for every input, and a
// rewrite of any directive's arguments re-parses to those arguments and is
// idempotent.
func FuzzParse(f *testing.F) {
	for _, s := range roundTripInputs {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		file := sshdconf.Parse("f", src)
		if got := file.Bytes(); !bytes.Equal(got, src) {
			t.Fatalf("Print(Parse(%q)) = %q", src, got)
		}
		for i, l := range file.Lines() {
			if !l.IsDirective() || strings.ContainsAny(l.Text(), "\x00") || strings.Contains(l.Keyword().Raw, `"`) {
				continue
			}
			var vals []string
			for _, a := range l.Args() {
				vals = append(vals, a.Value())
			}
			if len(vals) == 0 {
				continue
			}
			l.SetArgs(vals...)
			once := file.Bytes()
			again := sshdconf.Parse("f", once)
			var got []string
			for _, a := range again.Lines()[i].Args() {
				got = append(got, a.Value())
			}
			if strings.Join(got, "\x00") != strings.Join(vals, "\x00") {
				t.Fatalf("SetArgs(%q) on %q wrote %q, which reads back as %q", vals, src, again.Lines()[i].Text(), got)
			}
			again.Lines()[i].SetArgs(vals...)
			if twice := again.Bytes(); !bytes.Equal(once, twice) {
				t.Fatalf("SetArgs not idempotent: %q then %q", once, twice)
			}
		}
	})
}

// FuzzLoadEffective loads a tree of up to four files cut from the input
// (including Include loops and fan-out) and evaluates it: it must never
// panic, and must finish within the budget.
func FuzzLoadEffective(f *testing.F) {
	f.Add([]byte("Include /etc/ssh/sshd_config\n"))
	f.Add([]byte("Include sshd_config.d/*.conf\nPort 22\n\x1ePasswordAuthentication no\nInclude /etc/ssh/sshd_config.d/*.conf /etc/ssh/sshd_config.d/*.conf\n"))
	f.Add([]byte("Match User alice\n Include x\n\x1eMatch Address 10.0.0.0/8\nClientAliveInterval 5\n\x1e\x1eUnusedConnectionTimeout none\n"))
	f.Add([]byte("Ciphers +aes128-cbc\nKexAlgorithms gss-group14-sha256-x\nMatch LocalPort 22\n"))
	names := []string{"/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/a.conf", "/etc/ssh/sshd_config.d/b.conf", "/etc/ssh/x"}
	f.Fuzz(func(t *testing.T, src []byte) {
		files := map[string][]byte{}
		for i, part := range bytes.SplitN(src, []byte{0x1e}, len(names)) {
			files[names[i]] = part
		}
		cfg, err := sshdconf.Load(memfs.New(files), names[0], &sshdconf.LoadOptions{MaxLines: 20000})
		var over *sshdconf.BudgetError
		if errors.As(err, &over) {
			return // FuzzLoadBudget checks it
		}
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		spec := sshdconf.ConnSpec{User: "alice", Host: "h", Addr: "10.1.2.3", LAddr: "10.0.0.1", LPort: 22}
		eff, err := cfg.Effective(spec)
		if err == nil && len(eff.Settings) == 0 {
			t.Fatal("an accepted config printed nothing")
		}
		_ = cfg.SSHDMessages()
	})
}
