package sshdtest

import "time"

// WaitFor polls cond every interval until it holds or timeout has passed,
// and says whether it held and, if not, what cond said last (for the
// test's message).
func WaitFor(timeout, every time.Duration, cond func() (ok bool, why string)) (bool, string) {
	deadline := time.Now().Add(timeout)
	for {
		ok, why := cond()
		if ok {
			return true, ""
		}
		if time.Now().After(deadline) {
			return false, why
		}
		time.Sleep(every)
	}
}
