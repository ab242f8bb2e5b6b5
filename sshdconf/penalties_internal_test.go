package sshdconf

import "testing"

// TestConvtimeDouble checks the port of 10.3's convtime_double against
// what 10.5p1's sshd accepts and prints for PerSourcePenalties (see
// TestReleasePrint for the comparison with the real sshd).
func TestConvtimeDouble(t *testing.T) {
	for in, want := range map[string]float64{
		"10": 10, "1.5": 1.5, "0.25s": 0.25, "1m30s": 90, "1m30": 90, "2h": 7200, "1w1d": 8 * 86400,
		".5": 0.5, "1M": 60,
		"": -1, "1.5m": -1, "5.": -1, "1.2.3": -1, "1e5": -1, "10x": -1, "-1": -1, "1s2s": -1, ".": -1, "0x10": -1,
	} {
		if got := convtimeDouble(in); got != want {
			t.Errorf("convtimeDouble(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestPenaltiesString checks how each release prints PerSourcePenalties.
func TestPenaltiesString(t *testing.T) {
	p := blankOptions.penalties
	p.authfail = 1.5
	p.fill()
	for name, want := range map[string]string{
		"9.9p2":  "crash:90 authfail:1 noauth:1 grace-exceeded:10 refuseconnection:10 max:600 min:15 max-sources4:65536 max-sources6:65536 overflow:permissive overflow6:permissive",
		"10.5p1": "crash:90.000000 authfail:1.500000 noauth:1.000000 invaliduser:5.000000 grace-exceeded:10.000000 refuseconnection:10.000000 max:600.000000 min:15.000000 max-sources4:65536 max-sources6:65536 overflow:permissive overflow6:permissive",
	} {
		if got := p.String(MustRelease(name)); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	p.enabled = 0
	if got := p.String(MustRelease("10.5")); got != "no" {
		t.Errorf("disabled: %q, want no", got)
	}
}
