package packaging_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The documentation: README.md, the guides in docs/ and the command
// reference, the man page sshwarden(8) beside this file.
const (
	repoRoot = ".."
	manPage  = "sshwarden.8"
)

// docFiles returns README.md and docs/*.md, relative to this folder.
func docFiles(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) == 0 {
		t.Fatal("no docs/*.md")
	}
	return append([]string{filepath.Join(repoRoot, "README.md")}, docs...)
}

// mdLine is one line of a Markdown file with what it holds outside code:
// the text with inline code spans removed, and the line's code (fenced
// blocks and inline spans).
type mdLine struct {
	n     int
	prose string
	code  []string
}

var inlineCode = regexp.MustCompile("`[^`]*`")

// mdLines splits a Markdown file into lines, telling fenced code blocks
// from prose.
func mdLines(src string) []mdLine {
	var out []mdLine
	fenced := false
	for i, l := range strings.Split(src, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			fenced = !fenced
			continue
		}
		line := mdLine{n: i + 1}
		if fenced {
			line.code = []string{l}
		} else {
			for _, c := range inlineCode.FindAllString(l, -1) {
				line.code = append(line.code, strings.Trim(c, "`"))
			}
			line.prose = inlineCode.ReplaceAllString(l, "")
		}
		out = append(out, line)
	}
	return out
}

// anchors returns the anchors GitHub makes for the headings of a Markdown
// file: lower case, spaces to hyphens, punctuation other than hyphens and
// underscores dropped, inline code kept as its text.
func anchors(src string) map[string]bool {
	a := map[string]bool{}
	fenced := false
	for _, l := range strings.Split(src, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			fenced = !fenced
			continue
		}
		if fenced || !strings.HasPrefix(l, "#") {
			continue
		}
		h := strings.TrimSpace(strings.TrimLeft(l, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(h) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
				b.WriteRune(r)
			}
		}
		a[b.String()] = true
	}
	return a
}

var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestDocLinks: every relative link in README.md and docs/*.md names a
// file of the repository, and every #anchor a heading of that file.
func TestDocLinks(t *testing.T) {
	for _, doc := range docFiles(t) {
		src, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		links := 0
		for _, l := range mdLines(string(src)) {
			for _, m := range mdLink.FindAllStringSubmatch(l.prose, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				links++
				file, anchor, _ := strings.Cut(target, "#")
				path := doc
				if file != "" {
					path = filepath.Join(filepath.Dir(doc), file)
					if _, err := os.Stat(path); err != nil {
						t.Errorf("%s:%d: link %s: %v", doc, l.n, target, err)
						continue
					}
				}
				if anchor == "" {
					continue
				}
				if !strings.HasSuffix(path, ".md") {
					t.Errorf("%s:%d: link %s: an anchor into a file that is not Markdown", doc, l.n, target)
					continue
				}
				dst, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if !anchors(string(dst))[anchor] {
					t.Errorf("%s:%d: link %s: %s has no heading for #%s", doc, l.n, target, path, anchor)
				}
			}
		}
		if links == 0 {
			t.Errorf("%s: no relative links found; is the link syntax still [text](target)?", doc)
		}
	}
}

var (
	sshwardenCommand = regexp.MustCompile(`(?:^|[\s$|(])sshwarden\s+(lint|effective|fix|sessions|agent|report|version|help)\b(.*)`)
	commandOption    = regexp.MustCompile(`(?:^|\s)(--?[A-Za-z][A-Za-z0-9-]*)`)
)

// TestDocOptionsInManPage: the command reference is sshwarden(8) alone.
// Every option that README.md or docs/*.md shows on a sshwarden command
// line (in code) must be one the man page documents.
func TestDocOptionsInManPage(t *testing.T) {
	man, err := os.ReadFile(manPage)
	if err != nil {
		t.Fatal(err)
	}
	// In the man page's source a dash is \-.
	documented := strings.ReplaceAll(string(man), `\-`, "-")
	seen := 0
	for _, doc := range docFiles(t) {
		src, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range mdLines(string(src)) {
			for _, code := range l.code {
				for _, c := range sshwardenCommand.FindAllStringSubmatch(code, -1) {
					args, _, _ := strings.Cut(c[2], "#") // a shell comment
					args, _, _ = strings.Cut(args, "|")
					for _, o := range commandOption.FindAllStringSubmatch(args, -1) {
						seen++
						opt := o[1]
						if !regexp.MustCompile(`(^|[\s\[(])` + regexp.QuoteMeta(opt) + `\b`).MatchString(documented) {
							t.Errorf("%s:%d: sshwarden %s %s: %s does not document %s", doc, l.n, c[1], opt, manPage, opt)
						}
					}
				}
			}
		}
	}
	if seen < 20 {
		t.Errorf("found %d options on sshwarden command lines in the docs; the pattern no longer matches them", seen)
	}
}

// TestReadmeStartsWithDemoAndTest: the README's first block, right after
// the title and the one-liner, is the two commands that work on a fresh
// Debian machine, and the Makefile has both targets.
func TestReadmeStartsWithDemoAndTest(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(src), "```\n")
	head, _, _ := strings.Cut(rest, "```")
	if !ok || !strings.HasPrefix(head, "make demo ") || !strings.Contains(head, "\nmake test ") {
		t.Errorf("README.md's first code block is not make demo and make test:\n%s", head)
	}
	if strings.Count(string(src[:len(src)-len(rest)]), "\n## ") > 0 {
		t.Errorf("README.md has a section before make demo and make test")
	}
	mk, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"demo:", "test:"} {
		if !regexp.MustCompile(`(?m)^` + target).Match(mk) {
			t.Errorf("the Makefile has no %s target", target)
		}
	}
}
