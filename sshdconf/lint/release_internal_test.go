package lint

import (
	"testing"

	"github.com/sshwarden/sshwarden/sshdconf"
)

// TestRefusal: why a release refuses a keyword, for each way it can: a
// newer keyword, one it removed, a Debian patch on an upstream build.
func TestRefusal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		k       sshdconf.Keyword
		release string
		want    string
	}{
		{sshdconf.Keyword{Name: "PerSourcePenalties", Since: "9.8"}, "9.6p1", "PerSourcePenalties needs OpenSSH 9.8; this tree is checked as OpenSSH 9.6p1"},
		{sshdconf.Keyword{Name: "PerSourcePenalties", Since: "9.8"}, "9.9p2", ""},
		{sshdconf.Keyword{Name: "Old", Until: "8.7"}, "8.7p1", "Old was removed in OpenSSH 8.7; this tree is checked as OpenSSH 8.7p1"},
		{sshdconf.Keyword{Name: "Old", Until: "8.7"}, "8.4", ""},
		{sshdconf.Keyword{Name: "DebianBanner", Debian: true}, "10.5p1", "DebianBanner is a Debian patch; OpenSSH 10.5p1 upstream refuses it"},
		{sshdconf.Keyword{Name: "DebianBanner", Debian: true}, "9.2-debian", ""},
	}
	for _, tt := range tests {
		if got := refusal(&tt.k, sshdconf.MustRelease(tt.release)); got != tt.want {
			t.Errorf("refusal(%+v, %s) = %q, want %q", tt.k, tt.release, got, tt.want)
		}
	}
}
