// Package poll waits for a condition with a deadline: the one way tests (and
// the tools that start a stack) wait for something that happens elsewhere,
// instead of sleeping a guessed time or looping with no end.
//
// It imports only the standard library.
package poll

import (
	"fmt"
	"testing"
	"time"
)

// Interval is how long Until waits between two calls of cond: short enough
// that a test waits little past the moment cond holds, long enough that a
// cond doing a network round trip does not keep a core busy.
const Interval = 20 * time.Millisecond

// Until calls cond until it returns nil (then nil) or timeout passes (then
// cond's last error, wrapped). cond runs at least once, even when timeout is
// zero.
func Until(timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still failing after %s: %w", timeout, err)
		}
		time.Sleep(Interval)
	}
}

// Eventually is Until failing the test with cond's last error.
func Eventually(tb testing.TB, timeout time.Duration, cond func() error) {
	tb.Helper()
	if err := Until(timeout, cond); err != nil {
		tb.Fatal(err)
	}
}
