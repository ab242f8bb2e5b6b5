package sshdconf

import (
	"strings"
	"testing"
	"time"
)

// TestGlobLinear runs patterns that took the recursive ports exponential
// time (issue 17: an Include of "*a*a*a...b" hung lint, effective, fix and
// the agent for more than 30 s): each must finish within a generous
// deadline, where the recursive port would not finish this year.
func TestGlobLinear(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 4096)
	stars := strings.Repeat("*a", 200) + "b"
	brackets := strings.Repeat("*[", 2000) + "]" // unterminated brackets, each a literal '['
	classes := strings.Repeat("[[:alpha:]", 1000) + "x"
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, tt := range []struct {
			p, s string
			want bool
		}{
			{stars, long, false},
			{stars, long + "b", true},
			{brackets, long, false},
			{classes, long, false},
			{strings.Repeat("*", 5000) + "b", long, false},
		} {
			if got := fnmatch(tt.p, tt.s); got != tt.want {
				t.Errorf("fnmatch(%.20q..., %.20q...) = %v, want %v", tt.p, tt.s, got, tt.want)
			}
			if got := GlobMatch(tt.p, tt.s); got != tt.want {
				t.Errorf("GlobMatch(%.20q..., %.20q...) = %v, want %v", tt.p, tt.s, got, tt.want)
			}
		}
		if matchPattern(long, stars) {
			t.Errorf("matchPattern(a..., *a*a...b) = true")
		}
		if matchPatternList(long, strings.Repeat("*a", 500)+"b,"+stars, false) != 0 {
			t.Errorf("matchPatternList matched")
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("glob matching took more than 20 s")
	}
}
