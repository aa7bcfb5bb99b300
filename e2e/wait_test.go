package e2e

import (
	"os"
	"testing"
	"time"
)

// Waiting in the end-to-end tests is for a condition, with a deadline: never
// a fixed sleep. cond is polled with a backoff that starts at a millisecond
// and doubles up to pollMax, so a quick condition is seen at once and a slow
// one (a daemon's timeout) costs little.

const pollMax = 50 * time.Millisecond

// within polls cond until it holds (true) or limit has passed (false).
func within(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for wait := time.Millisecond; !cond(); wait = min(2*wait, pollMax) {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		time.Sleep(min(wait, left))
	}
	return true
}

// waitFor polls cond until it holds, failing the test if it does not within
// limit; what says what was waited for.
func waitFor(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	if !within(limit, cond) {
		t.Fatalf("timed out after %v waiting for %s", limit, what)
	}
}

// eventually is waitFor (the older name, kept for the tests that use it).
func eventually(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	waitFor(t, limit, what, cond)
}

// replayWait is how long a client may take to show what the master logged.
const replayWait = 5 * time.Second

// waitSeen waits until path exists (e.g. a file the master made, replayed
// on a client's mount).
func waitSeen(t testing.TB, path string) {
	t.Helper()
	waitFor(t, replayWait, path+" to appear", func() bool {
		_, err := os.Stat(path)
		return err == nil
	})
}
