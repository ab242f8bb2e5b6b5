package sshdconf_test

import (
	"testing"

	"github.com/sshwarden/sshwarden/sshdconf"
)

func TestParseRelease(t *testing.T) {
	for in, want := range map[string]string{
		"8.7": "8.7p1", "8.7p1": "8.7p1", "9.6p1": "9.6p1", "10.0-debian": "10.0-debian",
		"10.0p2-debian": "10.0-debian", "OpenSSH_9.9p2": "9.9p2", "9.9": "9.9p2", "9.2": "9.2p1",
		"10.6-DEBIAN": "10.6-debian", " 10.5 ": "10.5p1", "9.3": "9.3p1",
	} {
		r, err := sshdconf.ParseRelease(in)
		if err != nil || r.Name() != want {
			t.Errorf("ParseRelease(%q) = %v, %v; want %s", in, r, err, want)
		}
	}
	for _, in := range []string{"", "7.9", "10.7", "11.0", "9", "9.x", "9.6p", "9.6-redhat", "1e3.2"} {
		if r, err := sshdconf.ParseRelease(in); err == nil {
			t.Errorf("ParseRelease(%q) = %v, want an error", in, r)
		}
	}
	if r := sshdconf.MustRelease("10.0-debian"); r.Checked() != "10.0-debian" || !r.Debian() || r.String() != "OpenSSH 10.0 (Debian)" {
		t.Errorf("10.0-debian: checked %q, debian %v, %s", r.Checked(), r.Debian(), r)
	}
	if r := sshdconf.MustRelease("9.3"); r.Checked() != "" {
		t.Errorf("9.3 is not checked against a real sshd, Checked() = %q", r.Checked())
	}
	if !sshdconf.MustRelease("9.6").AtLeast("9.3") || sshdconf.MustRelease("9.2").AtLeast("9.3") || !sshdconf.MustRelease("10.0").AtLeast("9.10") {
		t.Error("AtLeast compares versions wrongly")
	}
}

func TestParseBanner(t *testing.T) {
	for _, c := range []struct {
		text   string
		debian bool
		want   string
	}{
		{"OpenSSH_10.0p2 Debian-7+deb13u4, OpenSSL 3.5.9 29 Sep 2026\n", false, "10.0-debian"},
		{"OpenSSH_9.2, OpenSSL 3.0.19 27 Jan 2026\n", true, "9.2-debian"},
		{"OpenSSH_9.6p1 Ubuntu-3ubuntu13.5, OpenSSL 3.0.13 30 Jan 2024", false, "9.6-debian"},
		{"unknown option -- V\nOpenSSH_8.7p1, OpenSSL 3.0.22 25 Aug 2026\nusage: sshd [-46DdeiqTt]", false, "8.7p1"},
		{"OpenSSH_10.6p1 Debian-1, OpenSSL 3.5.4", false, "10.6-debian"},
	} {
		r, err := sshdconf.ParseBanner(c.text, c.debian)
		if err != nil || r.Name() != c.want {
			t.Errorf("ParseBanner(%q, %v) = %v, %v; want %s", c.text, c.debian, r, err, c.want)
		}
	}
	if _, err := sshdconf.ParseBanner("Dropbear v2022.83", false); err == nil {
		t.Error("ParseBanner(Dropbear) succeeded")
	}
}
