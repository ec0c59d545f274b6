package chat

import (
	"errors"
	"testing"
	"time"

	"github.com/privateim/privateim/messageservice/internal/frame"
)

func TestUserBucketsOutliveTheConnectionUntilRefilled(t *testing.T) {
	l := newLimits(Rate{PerSecond: 1, Burst: 2}, FrameLimits{Read: Rate{PerSecond: 1, Burst: 4}})
	if l.keep != 4*time.Second {
		t.Fatalf("keep = %v, want the longest refill, 4s", l.keep)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	u := l.opened(1, t0)
	for range 2 {
		if take(u.send, t0) != 0 {
			t.Fatal("the burst was refused")
		}
	}
	l.closed(u, t0)
	if again := l.opened(1, t0.Add(time.Second)); again != u || take(again.send, t0) == 0 {
		t.Fatal("a reconnect got a fresh send bucket")
	}
	l.closed(u, t0.Add(time.Second))
	online := l.opened(2, t0)

	l.mu.Lock()
	l.sweepLocked(t0.Add(4 * time.Second)) // 3s after user 1 left: not refilled
	n := len(l.m)
	l.sweepLocked(t0.Add(5 * time.Second))
	l.mu.Unlock()
	if n != 2 || l.len() != 1 || l.m[2] != online {
		t.Fatalf("kept %d then %d users; want both, then only the one online", n, l.len())
	}
}

func TestAdmitRefusesWithRetryAfterThenCloses(t *testing.T) {
	f := FrameLimits{PerConn: Rate{PerSecond: 1, Burst: 2}, Abuse: Rate{PerSecond: 1, Burst: 1}}
	l := newLimits(Rate{}, f)
	ss := &Session{lims: connLimits{user: l.opened(1, time.Now()), frames: f.PerConn.limiter(), abuse: f.Abuse.limiter()}}
	for range 2 {
		if err := ss.Admit(&frame.Ping{}); err != nil {
			t.Fatal(err)
		}
	}
	var rl *RateLimitError
	if err := ss.Admit(nil); !errors.As(err, &rl) || !errors.Is(err, ErrRateLimited) || rl.Limit != "connection" || rl.RetryAfter <= 0 || rl.Close {
		t.Fatalf("3rd frame: %v; want a connection limit with a retry-after, not closing yet", err)
	}
	if err := ss.Admit(nil); !errors.As(err, &rl) || !rl.Close {
		t.Fatalf("a refusal past the abuse burst: %v; want Close", err)
	}
}

// BenchmarkAdmit is the cost every client frame pays: three buckets.
func BenchmarkAdmit(b *testing.B) {
	f := FrameLimits{PerConn: Rate{PerSecond: 1e9, Burst: 1 << 30}, PerUser: Rate{PerSecond: 1e9, Burst: 1 << 30}, Read: Rate{PerSecond: 1e9, Burst: 1 << 30}}
	l := newLimits(Rate{}, f)
	ss := &Session{lims: connLimits{user: l.opened(1, time.Now()), frames: f.PerConn.limiter()}}
	read := &frame.Read{}
	for b.Loop() {
		if ss.Admit(read) != nil {
			b.Fatal("refused")
		}
	}
}
