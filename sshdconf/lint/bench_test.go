package lint_test

import (
	"os"
	"testing"

	"github.com/sshwarden/sshwarden/internal/oracle"
	"github.com/sshwarden/sshwarden/policy"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/internal/memfs"
	"github.com/sshwarden/sshwarden/sshdconf/lint"
)

// stockTree returns the Debian 12 stock tree (files keyed by sshd's name),
// its main file, and the requirements of builtin:default.
func stockTree(b *testing.B) (map[string][]byte, string, []lint.Requirement) {
	b.Helper()
	data, err := os.ReadFile("../../testdata/trees/debian12-stock.txtar")
	if err != nil {
		b.Fatal(err)
	}
	a := oracle.ParseArchive(data)
	files := map[string][]byte{}
	for n, f := range a.Files {
		files["/"+n] = f
	}
	pol, err := policy.Load("builtin:default")
	if err != nil {
		b.Fatal(err)
	}
	return files, a.Main, pol.Requirements
}

func BenchmarkLintStock(b *testing.B) {
	files, main, reqs := stockTree(b)
	cfg, err := sshdconf.Load(memfs.New(files), main, nil)
	if err != nil {
		b.Fatal(err)
	}
	checks := lint.Checks()
	n := len(lint.Run(&lint.Pass{Config: cfg, Requirements: reqs}, checks, nil))
	b.ReportAllocs()
	for b.Loop() {
		if got := len(lint.Run(&lint.Pass{Config: cfg, Requirements: reqs}, checks, nil)); got != n {
			b.Fatalf("%d findings, then %d", n, got)
		}
	}
}

// BenchmarkLoadAndLint reads the Debian 12 stock configuration and lints
// it, as `sshwarden lint` does for each file: the per-tree cost of the
// model in `make bench-lint`.
func BenchmarkLoadAndLint(b *testing.B) {
	files, main, reqs := stockTree(b)
	checks := lint.Checks()
	b.ReportAllocs()
	for b.Loop() {
		cfg, err := sshdconf.Load(memfs.New(files), main, nil)
		if err != nil {
			b.Fatal(err)
		}
		lint.Run(&lint.Pass{Config: cfg, Requirements: reqs}, checks, nil)
	}
}
