package sshdtest

import (
	"testing"
	"time"
)

func TestWaitFor(t *testing.T) {
	t.Parallel()
	n := 0
	ok, why := WaitFor(time.Minute, time.Millisecond, func() (bool, string) {
		n++
		return n == 3, "not yet"
	})
	if !ok || why != "" || n != 3 {
		t.Errorf("WaitFor(true on the 3rd poll) = %v, %q after %d polls; want true, \"\" after 3", ok, why, n)
	}
	start := time.Now()
	ok, why = WaitFor(20*time.Millisecond, time.Millisecond, func() (bool, string) { return false, "still false" })
	if ok || why != "still false" || time.Since(start) < 20*time.Millisecond {
		t.Errorf("WaitFor(never) = %v, %q after %v; want false, \"still false\" after the timeout", ok, why, time.Since(start))
	}
}
