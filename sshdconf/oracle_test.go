package sshdconf_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sshwarden/sshwarden/internal/oracle"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/internal/memfs"
	"github.com/sshwarden/sshwarden/sshdconf/lint"
)

// oracleUsers is the user database sshd sees in the oracle's namespace.
func oracleUsers(o *oracle.Oracle) sshdconf.Users {
	return sshdconf.LoadFileUsers(fstest.MapFS{
		"etc/passwd": {Data: o.Passwd()},
		"etc/group":  {Data: o.Group()},
	})
}

// compareTree runs sshd -T and our model on the same tree for each spec,
// and reports every difference. It returns whether sshd accepted the tree.
func compareTree(t *testing.T, o *oracle.Oracle, name string, files map[string][]byte, main string, specs []string) bool {
	t.Helper()
	res, err := o.Run(files, main, specs)
	if err != nil {
		t.Fatal(err)
	}
	abs := map[string][]byte{}
	for n, b := range files {
		abs["/"+n] = b
	}
	services := sshdconf.ServicesFile(os.DirFS("/"))
	cfg, err := sshdconf.Load(memfs.New(abs), main, &sshdconf.LoadOptions{Users: oracleUsers(o), Services: services})
	if err != nil {
		t.Fatalf("%s: Load: %v", name, err)
	}
	accepted := true
	for i, spec := range specs {
		r := res[i]
		if spec == "-t" {
			accepted = r.Exit == 0
			if got := cfg.Err(); (got == nil) != accepted {
				t.Errorf("%s: sshd -t exit %d (%s), model error: %v", name, r.Exit, lastLine(r.Stderr), got)
			}
			// With no policy, lint reports an error exactly when sshd
			// refuses the configuration.
			var errs []string
			for _, f := range lint.Run(&lint.Pass{Config: cfg}, lint.Checks(), nil) {
				if f.Severity == lint.Error {
					errs = append(errs, f.Pos.String()+": "+f.Message)
				}
			}
			if (len(errs) == 0) != accepted {
				t.Errorf("%s: sshd -t exit %d (%s), but lint --policy none reports %d errors: %q", name, r.Exit, lastLine(r.Stderr), len(errs), errs)
			}
			continue
		}
		cs, err := sshdconf.ParseConnSpecWith(spec, services)
		if err != nil {
			// sshd -C refuses the spec before it reads the configuration.
			var se *sshdconf.SpecError
			if !errors.As(err, &se) || r.Exit != 1 || lastLine(r.Stderr) != se.SSHD {
				t.Errorf("%s [%s]: sshd exit %d (%s), the model refuses the spec: %v", name, spec, r.Exit, lastLine(r.Stderr), err)
			}
			continue
		}
		eff, err := cfg.Effective(cs)
		if r.Exit != 0 {
			if err == nil {
				t.Errorf("%s [%s]: sshd refused the config (%s), the model accepted it", name, spec, lastLine(r.Stderr))
				continue
			}
			want := lastLine(r.Stderr)
			if got := err.(sshdconf.Diag).SSHD; got != want {
				t.Errorf("%s [%s]: sshd says %q, the model says %q", name, spec, want, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s [%s]: sshd accepted the config, the model says: %v", name, spec, err)
			continue
		}
		var got []string
		for _, s := range eff.Settings {
			got = append(got, s.String())
		}
		if d := lineDiff(strings.Split(strings.TrimRight(r.Stdout, "\n"), "\n"), got); d != "" {
			t.Errorf("%s [%s]: sshd -T and the model differ (- sshd, + model):\n%s", name, spec, d)
		}
	}
	return accepted
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(s, "\r", ""), "\n"), "\n")
	return lines[len(lines)-1]
}

// lineDiff lists the lines only in want (-) and only in got (+), keeping
// order; "" when equal.
func lineDiff(want, got []string) string {
	if strings.Join(want, "\n") == strings.Join(got, "\n") {
		return ""
	}
	var b strings.Builder
	n := len(want)
	if len(got) > n {
		n = len(got)
	}
	for i := 0; i < n; i++ {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			b.WriteString("  - " + w + "\n  + " + g + "\n")
		}
	}
	return b.String()
}

// TestCorpusAgainstSSHD compares the model with sshd -T on every tree of
// testdata/trees, for each connection spec the tree names.
func TestCorpusAgainstSSHD(t *testing.T) {
	o := oracle.Need(t)
	paths, err := filepath.Glob("../testdata/trees/*.txtar")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no trees: %v", err)
	}
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".txtar")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			a := oracle.ParseArchive(b)
			specs := append([]string{"-t", ""}, a.Specs...)
			accepted := compareTree(t, o, name, a.Files, a.Main, specs)
			if accepted == a.Invalid {
				t.Errorf("%s: marked invalid=%v but sshd accepted=%v", name, a.Invalid, accepted)
			}
		})
	}
}
