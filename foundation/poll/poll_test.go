package poll

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestUntil(t *testing.T) {
	errNotYet := errors.New("not yet")
	tests := []struct {
		name      string
		timeout   time.Duration
		okAt      int // the call from which cond holds; 0: never
		wantErr   bool
		wantCalls func(n int) bool
	}{
		{"holds at once", time.Second, 1, false, func(n int) bool { return n == 1 }},
		{"holds on the third call", 10 * time.Second, 3, false, func(n int) bool { return n == 3 }},
		{"zero timeout still calls once", 0, 0, true, func(n int) bool { return n == 1 }},
		{"never holds", 5 * Interval, 0, true, func(n int) bool { return n >= 2 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := Until(tc.timeout, func() error {
				calls++
				if tc.okAt > 0 && calls >= tc.okAt {
					return nil
				}
				return fmt.Errorf("call %d: %w", calls, errNotYet)
			})
			if tc.wantErr != (err != nil) {
				t.Fatalf("Until = %v, want an error: %v", err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, errNotYet) {
				t.Errorf("Until = %v, does not wrap cond's error", err)
			}
			if !tc.wantCalls(calls) {
				t.Errorf("cond called %d times", calls)
			}
		})
	}
}

// recorder is a testing.TB that records Fatal instead of stopping the test.
type recorder struct {
	testing.TB
	fatal string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatal(args ...any) {
	r.fatal = fmt.Sprint(args...)
}

func TestEventually(t *testing.T) {
	r := &recorder{TB: t}
	Eventually(r, time.Second, func() error { return nil })
	if r.fatal != "" {
		t.Errorf("Eventually failed a condition that held: %s", r.fatal)
	}
	Eventually(r, 0, func() error { return errors.New("broken pipe") })
	if !strings.Contains(r.fatal, "broken pipe") {
		t.Errorf("Eventually failed with %q, want the condition's last error", r.fatal)
	}
}
