package decimal

import (
	"strconv"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"7", 7, true},
		{"0042", 42, true},
		{"4294967295", 4294967295, true},
		{"999999999999999999", 999999999999999999, true}, // 18 digits
		{"1000000000000000000", 0, false},                // 19 digits
		{"", 0, false},
		{"-1", 0, false},
		{"+1", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"1\n", 0, false},
		{"12a", 0, false},
		{"1.5", 0, false},
		{"１", 0, false}, // a full-width digit
	} {
		n, ok := Parse([]byte(tt.in))
		if n != tt.want || ok != tt.ok {
			t.Errorf("Parse(%q) = %d, %v, want %d, %v", tt.in, n, ok, tt.want, tt.ok)
		}
	}
}

// FuzzParse: Parse agrees with strconv.ParseUint on the inputs it takes,
// which are the strings of at most 18 ASCII digits.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"0", "123", "999999999999999999", "-1", "", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := Parse([]byte(s))
		digits := len(s) > 0 && len(s) <= 18
		for i := 0; i < len(s); i++ {
			digits = digits && s[i] >= '0' && s[i] <= '9'
		}
		if ok != digits {
			t.Fatalf("Parse(%q) ok = %v, want %v", s, ok, digits)
		}
		if !ok {
			return
		}
		want, err := strconv.ParseUint(s, 10, 64)
		if err != nil || uint64(n) != want {
			t.Fatalf("Parse(%q) = %d, strconv.ParseUint = %d, %v", s, n, want, err)
		}
	})
}
