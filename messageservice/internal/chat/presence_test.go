package chat

import (
	"maps"
	"testing"
)

// TestPresenceQueue: the latest state of a user wins, users stay apart,
// take empties the queue, and put never blocks however many users wait.
func TestPresenceQueue(t *testing.T) {
	q := newPresenceQueue()
	if got := q.take(); got != nil {
		t.Fatalf("empty queue took %v", got)
	}
	q.put(1, false)
	q.put(2, true)
	q.put(1, true) // 1 dropped and came back before the worker ran
	q.put(3, false)
	q.put(3, true)
	q.put(3, false)
	select {
	case <-q.kick:
	default:
		t.Fatal("no kick after put")
	}
	if got, want := q.take(), map[int64]bool{1: true, 2: true, 3: false}; !maps.Equal(got, want) {
		t.Fatalf("take = %v, want %v", got, want)
	}
	if got := q.take(); got != nil {
		t.Fatalf("second take = %v, want nothing", got)
	}
	for u := range int64(100_000) { // more than the old bounded channel held
		q.put(u, u%2 == 0)
	}
	if got := q.take(); len(got) != 100_000 || got[7] || !got[8] {
		t.Fatalf("took %d users (7: %v, 8: %v), want 100000", len(got), got[7], got[8])
	}
}
