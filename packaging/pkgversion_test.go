package packaging_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
)

// TestPkgVersion runs packaging/pkgversion on what `git describe --tags
// --always --dirty` prints; each package version must sort after the one
// before it for dpkg.
func TestPkgVersion(t *testing.T) {
	for _, tc := range []struct{ describe, want string }{
		{"devel", "0.0.0+devel"},
		{"0768a0b", "0.0.0+git0768a0b"}, // an untagged commit whose hash starts with digits is no version
		{"abc1234-dirty", "0.0.0+gitabc1234.dirty"},
		{"v1.3.0-rc1", "1.3.0~rc1"},
		{"v1.3.0", "1.3.0"},
		{"v1.3.0-dirty", "1.3.0+dirty"},
		{"v1.3.0-4-gabc1234", "1.3.0+git4.abc1234"},
	} {
		out, err := exec.Command("./pkgversion", tc.describe).Output()
		if got := strings.TrimSpace(string(out)); err != nil || got != tc.want {
			t.Errorf("pkgversion %s = %q, %v; want %q", tc.describe, got, err, tc.want)
		}
	}
	if _, err := exec.LookPath("dpkg"); err != nil {
		sshdtest.Missing(t, "no dpkg to compare versions")
	}
	order := []string{"0.0.0+devel", "0.0.0+git0768a0b", "1.3.0~rc1", "1.3.0", "1.3.0+dirty", "1.3.0+git4.abc1234"}
	for i := 1; i < len(order); i++ {
		if err := exec.Command("dpkg", "--compare-versions", order[i], "gt", order[i-1]).Run(); err != nil {
			t.Errorf("dpkg: %s does not sort after %s", order[i], order[i-1])
		}
	}
}
