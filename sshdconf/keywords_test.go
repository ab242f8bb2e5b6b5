package sshdconf_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/internal/memfs"
)

// TestKeywordDefaults checks the table's defaults against what the model
// prints for an empty configuration (itself checked against sshd -T), and
// that every keyword sshd -T prints is in the table.
func TestKeywordDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := sshdconf.Load(memfs.New(map[string][]byte{"/etc/ssh/sshd_config": nil}), "/etc/ssh/sshd_config", nil)
	if err != nil {
		t.Fatal(err)
	}
	eff, err := cfg.Effective(sshdconf.ConnSpec{})
	if err != nil {
		t.Fatal(err)
	}
	printed := map[string]string{}
	for _, s := range eff.Settings {
		if _, dup := printed[s.Keyword]; !dup {
			printed[s.Keyword] = s.Value
		}
		if s.Keyword != "listenaddress" && sshdconf.Lookup(s.Keyword) == nil {
			t.Errorf("sshd -T prints %q, which the keyword table lacks", s.Keyword)
		}
	}
	for _, k := range sshdconf.Keywords() {
		if k.Default == "" || k.AliasOf != "" || newerThan92(k.Since) {
			continue
		}
		got, ok := printed[strings.ToLower(k.Name)]
		if !ok {
			t.Errorf("%s: default %q, but sshd -T prints no %s line", k.Name, k.Default, strings.ToLower(k.Name))
			continue
		}
		if got != k.Default {
			t.Errorf("%s: table default %q, sshd -T prints %q", k.Name, k.Default, got)
		}
	}
}

// newerThan92 reports whether OpenSSH release v came after 9.2.
func newerThan92(v string) bool {
	var major, minor int
	if _, err := fmt.Sscanf(v, "%d.%d", &major, &minor); err != nil {
		return false
	}
	return major > 9 || major == 9 && minor > 2
}

func TestLookup(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"clientaliveinterval": "ClientAliveInterval", "MACS": "MACs", "challengeresponseauthentication": "ChallengeResponseAuthentication",
	} {
		k := sshdconf.Lookup(name)
		if k == nil || k.Name != want {
			t.Errorf("Lookup(%q) = %v, want %s", name, k, want)
		}
	}
	if k := sshdconf.Lookup("ChallengeResponseAuthentication"); k.AliasOf != "KbdInteractiveAuthentication" || !k.Match {
		t.Errorf("ChallengeResponseAuthentication = %+v", k)
	}
	if k := sshdconf.Lookup("Port"); k.Match {
		t.Error("Port is allowed in Match, want not")
	}
	if sshdconf.Lookup("Frobnicate") != nil {
		t.Error("Lookup(Frobnicate) != nil")
	}
}
