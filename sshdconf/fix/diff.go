package fix

import (
	"bytes"
	"fmt"
	"strings"
)

// Diff returns the unified diff (three lines of context, as diff -u prints
// it) that turns old into new, with name on the --- and +++ lines; "" when
// they are equal. A CRLF line shows its '\r'; a last line without a line
// end is marked "\ No newline at end of file", so patch(1) and git apply
// reproduce new exactly.
//
// It is not github.com/rogpeppe/go-internal/diff, whose output differs
// from diff -u and so from what fix has always printed: a "diff OLD NEW"
// line first, "@@ -1,1 +1,1 @@" where diff -u writes "@@ -1 +1 @@", two
// hunks where the changes are six lines apart (diff -u joins them: the
// golden odd-syntax@cis.diff), and an anchored alignment that pairs
// repeated lines (blank lines, comments) otherwise than a shortest edit
// script does.
func Diff(name string, old, new []byte) string {
	if bytes.Equal(old, new) {
		return ""
	}
	a, b := splitLines(old), splitLines(new)
	ops := lineOps(a, b)
	const ctx = 3
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", name, name)
	// Group the ops into hunks: runs of changes with at most 2*ctx equal
	// lines between them.
	i := 0
	for i < len(ops) {
		for i < len(ops) && ops[i].kind == ' ' {
			i++
		}
		if i == len(ops) {
			break
		}
		start := max(i-ctx, 0)
		end := i
		for {
			for end < len(ops) && ops[end].kind != ' ' {
				end++
			}
			eq := end
			for eq < len(ops) && ops[eq].kind == ' ' {
				eq++
			}
			if eq == len(ops) || eq-end > 2*ctx {
				end = min(end+ctx, len(ops))
				break
			}
			end = eq
		}
		h := ops[start:end]
		aStart, bStart := h[0].a, h[0].b
		var aN, bN int
		for _, op := range h {
			if op.kind != '+' {
				aN++
			}
			if op.kind != '-' {
				bN++
			}
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", hunkRange(aStart, aN), hunkRange(bStart, bN))
		for _, op := range h {
			var line string
			if op.kind == '+' {
				line = b[op.b]
			} else {
				line = a[op.a]
			}
			out.WriteByte(op.kind)
			out.WriteString(strings.TrimSuffix(line, "\n"))
			out.WriteByte('\n')
			if !strings.HasSuffix(line, "\n") {
				out.WriteString("\\ No newline at end of file\n")
			}
		}
		i = end
	}
	return out.String()
}

// hunkRange formats a hunk's start,count (0-based start in, 1-based out;
// an empty range names the line before it).
func hunkRange(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

// splitLines splits s after each '\n', keeping it.
func splitLines(s []byte) []string {
	var out []string
	for len(s) > 0 {
		i := bytes.IndexByte(s, '\n') + 1
		if i == 0 {
			i = len(s)
		}
		out = append(out, string(s[:i]))
		s = s[i:]
	}
	return out
}

// op is one line of an edit script: ' ' kept, '-' removed from a, '+'
// added from b; a and b index the lines (for '+', a is where it goes).
type op struct {
	kind byte
	a, b int
}

// lineOps computes a shortest edit script from a to b: the common prefix
// and suffix are kept, and the middle is aligned by longest common
// subsequence (fix changes few lines, so the middle is small; a middle of
// more than 4000 lines a side is shown as replaced whole rather than
// aligned, to bound time and memory).
func lineOps(a, b []string) []op {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var ops []op
	for i := range pre {
		ops = append(ops, op{' ', i, i})
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	if len(ma) > 4000 || len(mb) > 4000 {
		for i := range ma {
			ops = append(ops, op{'-', pre + i, pre})
		}
		for j := range mb {
			ops = append(ops, op{'+', pre + len(ma), pre + j})
		}
	} else {
		// lcs[i][j] is the LCS length of ma[i:] and mb[j:].
		w := len(mb) + 1
		lcs := make([]int32, (len(ma)+1)*w)
		for i := len(ma) - 1; i >= 0; i-- {
			for j := len(mb) - 1; j >= 0; j-- {
				if ma[i] == mb[j] {
					lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
				} else {
					lcs[i*w+j] = max(lcs[(i+1)*w+j], lcs[i*w+j+1])
				}
			}
		}
		i, j := 0, 0
		for i < len(ma) || j < len(mb) {
			switch {
			case i < len(ma) && j < len(mb) && ma[i] == mb[j]:
				ops = append(ops, op{' ', pre + i, pre + j})
				i, j = i+1, j+1
			case i < len(ma) && (j == len(mb) || lcs[(i+1)*w+j] >= lcs[i*w+j+1]):
				ops = append(ops, op{'-', pre + i, pre + j})
				i++
			default:
				ops = append(ops, op{'+', pre + i, pre + j})
				j++
			}
		}
	}
	for k := range suf {
		ops = append(ops, op{' ', len(a) - suf + k, len(b) - suf + k})
	}
	return ops
}
