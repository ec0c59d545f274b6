package chat

import (
	"maps"
	"testing"
	"time"
)

// TestPresenceQueue: the latest state of a user wins, users stay apart,
// take empties the queue, and put never blocks however many users wait.
func TestPresenceQueue(t *testing.T) {
	q := newPresenceQueue()
	at := func(sec int64) time.Time { return time.Unix(sec, 0) }
	if got := q.take(); got != nil {
		t.Fatalf("empty queue took %v", got)
	}
	q.put(1, false, at(1))
	q.put(2, true, at(2))
	q.put(1, true, at(3)) // 1 dropped and came back before the worker ran
	q.put(3, false, at(4))
	q.put(3, true, at(5))
	q.put(3, false, at(6))
	select {
	case <-q.kick:
	default:
		t.Fatal("no kick after put")
	}
	if got, want := q.take(), map[int64]presenceChange{1: {true, at(3)}, 2: {true, at(2)}, 3: {false, at(6)}}; !maps.Equal(got, want) {
		t.Fatalf("take = %v, want %v", got, want)
	}
	if got := q.take(); got != nil {
		t.Fatalf("second take = %v, want nothing", got)
	}
	for u := range int64(100_000) { // more than the old bounded channel held
		q.put(u, u%2 == 0, at(u))
	}
	if got := q.take(); len(got) != 100_000 || got[7].online || !got[8].online || !got[8].at.Equal(at(8)) {
		t.Fatalf("took %d users (7: %v, 8: %v), want 100000", len(got), got[7], got[8])
	}
}
