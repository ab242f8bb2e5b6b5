package sshdconf

import (
	"github.com/sshwarden/sshwarden/sshdconf/internal/memfs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sshwarden/sshwarden/internal/oracle"
)

// TestGetIndex: Effective.Get, with its index by printedRank, returns the
// same lines as a scan of the settings, for every keyword of every test
// tree's first pass; no printed keyword lacks a rank.
func TestGetIndex(t *testing.T) {
	names, _ := filepath.Glob("../testdata/trees/*.txtar")
	if len(names) < 20 {
		t.Fatalf("%d test trees", len(names))
	}
	checked := 0
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		a := oracle.ParseArchive(b)
		cfg, err := Load(memfs.New(a.Files), a.Main, nil)
		if err != nil || cfg.Err() != nil {
			continue
		}
		checked++
		g := cfg.Global()
		for _, s := range g.Settings {
			if _, ok := printedRank[s.Keyword]; !ok {
				t.Errorf("%s: %s has no rank", n, s.Keyword)
			}
		}
		for kw := range printedRank {
			var want []Setting
			for _, s := range g.Settings {
				if s.Keyword == kw {
					want = append(want, s)
				}
			}
			if got := g.Get(kw); !slices.Equal(got, want) {
				t.Errorf("%s: Get(%q) = %v, want %v", n, kw, got, want)
			}
			if got := g.Get(strings.ToUpper(kw)); !slices.Equal(got, want) {
				t.Errorf("%s: Get(%q) = %v, want %v", n, strings.ToUpper(kw), got, want)
			}
		}
		if got := g.Get("nosuchkeyword"); got != nil {
			t.Errorf("Get of an unknown keyword: %v", got)
		}
	}
	if checked < 10 {
		t.Errorf("only %d trees loaded", checked)
	}
}
