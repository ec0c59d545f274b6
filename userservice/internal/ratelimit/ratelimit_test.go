package ratelimit

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTest(n int, per time.Duration, keys int) (*Limiter, *clock) {
	l := New(n, per, keys)
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l.now = c.now
	return l, c
}

func TestBurstThenRetryAfter(t *testing.T) {
	l, c := newTest(3, time.Minute, 10)
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("event %d refused within the burst", i+1)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait <= 0 || wait > 20*time.Second {
		t.Fatalf("4th = %v, %v; want refused with a wait of up to 20s", ok, wait)
	}
	// A refused event takes nothing: the wait does not grow.
	if _, again := l.Allow("a"); again != wait {
		t.Errorf("wait grew from %v to %v", wait, again)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Error("another key was limited")
	}
	c.add(wait)
	if ok, _ := l.Allow("a"); !ok {
		t.Error("refused after waiting Retry-After")
	}
}

func TestKeysAreBounded(t *testing.T) {
	l, _ := newTest(1, time.Hour, 3)
	for i := range 10 {
		l.Allow(fmt.Sprint(i))
	}
	if n := l.Len(); n != 3 {
		t.Fatalf("%d keys remembered, want 3", n)
	}
	// The most recent keys are kept: 9 is still spent, 0 was forgotten.
	if ok, _ := l.Allow("9"); ok {
		t.Error("recent key 9 was forgotten")
	}
	if ok, _ := l.Allow("0"); !ok {
		t.Error("old key 0 is still remembered")
	}
}

func TestRecentUseKeepsAKey(t *testing.T) {
	l, _ := newTest(1, time.Hour, 2)
	l.Allow("a")
	l.Allow("b")
	l.Allow("a") // refused, but a is now the most recent
	l.Allow("c") // evicts b
	if ok, _ := l.Allow("a"); ok {
		t.Error("a was evicted although used more recently than b")
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Error("b was kept")
	}
}

func TestOff(t *testing.T) {
	for _, l := range []*Limiter{New(0, time.Minute, 10), New(5, 0, 10), nil} {
		if l != nil {
			t.Fatalf("New with no limit = %v, want nil", l)
		}
		for range 100 {
			if ok, _ := l.Allow("a"); !ok {
				t.Fatal("a nil limiter refused")
			}
		}
		if l.Len() != 0 {
			t.Fatal("a nil limiter remembers keys")
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	l := New(1000, time.Hour, 50)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				if ok, _ := l.Allow(fmt.Sprint((g + i) % 2)); ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if allowed != 2000 {
		t.Errorf("%d allowed, want 2000 (1000 per key)", allowed)
	}
}

func TestLongKeysAreDigestedAndShortOnesCopied(t *testing.T) {
	l, _ := newTest(1, time.Hour, 10)
	long := strings.Repeat("x", 1<<20)
	if ok, _ := l.Allow(long); !ok {
		t.Fatal("first event of a long key refused")
	}
	if ok, _ := l.Allow(strings.Repeat("x", 1<<20)); ok {
		t.Error("the same long key got a second event")
	}
	if ok, _ := l.Allow(long + "y"); !ok {
		t.Error("another long key shared the first one's bucket")
	}
	buf := "short" + strings.Repeat(" ", 1<<20)
	l.Allow(buf[:5])
	l.mu.Lock()
	defer l.mu.Unlock()
	for k := range l.keys {
		if len(k) > MaxKeyBytes {
			t.Errorf("a key of %d bytes is stored", len(k))
		}
		if k == "short" && unsafe.StringData(k) == unsafe.StringData(buf) {
			t.Error("the short key points into the caller's buffer")
		}
	}
}
