package fix

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
)

func TestDiffExact(t *testing.T) {
	t.Parallel()
	old := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\n"
	new := "a\nb\nc\nd\nE\nf\ng\nh\ni\nj\nk\nl"
	want := `--- f
+++ f
@@ -2,10 +2,11 @@
 b
 c
 d
-e
+E
 f
 g
 h
 i
 j
 k
+l
\ No newline at end of file
`
	if got := Diff("f", []byte(old), []byte(new)); got != want {
		t.Errorf("Diff =\n%s\nwant\n%s", got, want)
	}
	if got := Diff("f", []byte(old), []byte(old)); got != "" {
		t.Errorf("Diff of equal files = %q, want \"\"", got)
	}
}

// TestDiffPatch checks that patch(1) turns old into new with the diff, for
// random files with CRLF lines, missing final newlines and scattered edits.
func TestDiffPatch(t *testing.T) {
	t.Parallel()
	patch, err := exec.LookPath("patch")
	if err != nil {
		sshdtest.Missing(t, "patch(1) is missing (apt-get install patch)")
	}
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"a\n", "b\n", "c\r\n", "#x\n", "Port 22\n", "\n"}
	gen := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = words[r.IntN(len(words))]
		}
		return out
	}
	dir := t.TempDir()
	for i := range 200 {
		a := gen(r.IntN(30))
		b := append([]string(nil), a...)
		for range 1 + r.IntN(4) {
			switch k := r.IntN(3); {
			case k == 0 || len(b) == 0:
				at := r.IntN(len(b) + 1)
				b = append(b[:at], append([]string{"new " + words[r.IntN(len(words))]}, b[at:]...)...)
			case k == 1:
				at := r.IntN(len(b))
				b = append(b[:at], b[at+1:]...)
			default:
				b[r.IntN(len(b))] = "changed\n"
			}
		}
		old, new := strings.Join(a, ""), strings.Join(b, "")
		if r.IntN(3) == 0 {
			old = strings.TrimSuffix(old, "\n")
		}
		if r.IntN(3) == 0 {
			new = strings.TrimSuffix(new, "\n")
		}
		d := Diff("f", []byte(old), []byte(new))
		if (d == "") != (old == new) {
			t.Fatalf("case %d: Diff(%q, %q) = %q", i, old, new, d)
		}
		if d == "" {
			continue
		}
		f := filepath.Join(dir, "f")
		if err := os.WriteFile(f, []byte(old), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(patch, "-s", "-p0", "--binary", "--no-backup-if-mismatch", "-r", "-")
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(d)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("case %d: patch: %v\n%s\ndiff:\n%s", i, err, out, d)
		}
		got, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != new {
			t.Fatalf("case %d: patched %q, want %q\ndiff:\n%s", i, got, new, d)
		}
	}
}
