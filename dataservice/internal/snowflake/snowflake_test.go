package snowflake

import (
	"sync"
	"testing"
	"time"
)

func TestNodeRange(t *testing.T) {
	for _, n := range []int64{-1, MaxNode + 1} {
		if _, err := New(n); err == nil {
			t.Errorf("New(%d): no error", n)
		}
	}
	for _, n := range []int64{0, 1, MaxNode} {
		g, err := New(n)
		if err != nil {
			t.Fatalf("New(%d): %v", n, err)
		}
		id := g.Next()
		if id <= 0 {
			t.Errorf("node %d: id %d not positive", n, id)
		}
		if got := Node(id); got != n {
			t.Errorf("Node(%d) = %d, want %d", id, got, n)
		}
	}
}

func TestTimeField(t *testing.T) {
	g, err := New(7)
	if err != nil {
		t.Fatal(err)
	}
	// The generator's clock is the start millisecond plus the whole
	// milliseconds elapsed since: two truncations, so an id may read up to
	// one millisecond before the truncated wall time.
	before := time.Now().Truncate(time.Millisecond).Add(-time.Millisecond)
	id := g.Next()
	after := time.Now().Add(time.Millisecond)
	if got := Time(id); got.Before(before) || got.After(after) {
		t.Errorf("Time(id) = %v, want between %v and %v", got, before, after)
	}
}

func TestConcurrentUniqueAndIncreasing(t *testing.T) {
	g, err := New(3)
	if err != nil {
		t.Fatal(err)
	}
	const workers, per = 8, 20000
	out := make([][]int64, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids := make([]int64, per)
			for i := range ids {
				ids[i] = g.Next()
			}
			out[w] = ids
		}()
	}
	wg.Wait()
	seen := make(map[int64]bool, workers*per)
	for _, ids := range out {
		for i, id := range ids {
			if seen[id] {
				t.Fatalf("duplicate id %d", id)
			}
			seen[id] = true
			if i > 0 && id <= ids[i-1] {
				t.Fatalf("id %d after %d: not increasing within one goroutine", id, ids[i-1])
			}
		}
	}
}

// fakeClock is a clock a test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	ms int64
}

func (c *fakeClock) now() int64   { c.mu.Lock(); defer c.mu.Unlock(); return c.ms }
func (c *fakeClock) set(ms int64) { c.mu.Lock(); c.ms = ms; c.mu.Unlock() }

func TestClockStepsBack(t *testing.T) {
	clk := &fakeClock{ms: 1_000_000}
	g, err := newWithClock(1, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	last := g.Next()
	for _, ms := range []int64{1_000_000, 999_000, 500, 1_000_001, 1_000_001, 2_000_000, 1_999_999} {
		clk.set(ms)
		for range 3 {
			id := g.Next()
			if id <= last {
				t.Fatalf("clock at %d: id %d not after %d", ms, id, last)
			}
			last = id
		}
	}
}

func TestSequenceExhaustedBorrows(t *testing.T) {
	clk := &fakeClock{ms: 42}
	g, err := newWithClock(5, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	var last int64
	for i := range 3*(maxSeq+1) + 10 {
		id := g.Next()
		if i > 0 && id <= last {
			t.Fatalf("id %d: %d not after %d", i, id, last)
		}
		last = id
	}
	// Three full milliseconds were spent on a clock that never moved.
	if got, want := last>>(nodeBits+seqBits), int64(45); got != want {
		t.Errorf("time field = %d, want %d (borrowed)", got, want)
	}
	// When the clock passes the borrowed millisecond, ids follow the clock again.
	clk.set(100)
	id := g.Next()
	if got := id >> (nodeBits + seqBits); got != 100 || id&maxSeq != 0 {
		t.Errorf("after catching up: ms %d seq %d, want 100 and 0", got, id&maxSeq)
	}
}

func BenchmarkNext(b *testing.B) {
	g, err := New(1)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		g.Next()
	}
}

func BenchmarkNextParallel(b *testing.B) {
	g, err := New(1)
	if err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			g.Next()
		}
	})
}
