package chat

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// clock is an injected clock the test moves by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// members answers every id with one member; the pruning policy is what is
// tested here, the loading against the DataService is tested end to end.
func members(context.Context, int64) (Roster, error) { return Roster{Members: []int64{1}}, nil }

func use(t *testing.T, g *nodes, id int64, times int) {
	t.Helper()
	for range times {
		if _, _, err := g.members(context.Background(), id, 1); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPruneByAge(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	g := newNodes(time.Minute, c.now, members)
	use(t, &g, 1, 1)
	c.t = c.t.Add(20 * time.Hour)
	use(t, &g, 2, 1)
	c.t = c.t.Add(5 * time.Hour) // node 1 is 25h old, node 2 5h
	if n := g.prune(c.t, PruneOptions{MaxAge: 24 * time.Hour}); n != 1 {
		t.Fatalf("pruned %d, want 1", n)
	}
	if g.cached(1) != nil || g.cached(2) == nil {
		t.Fatal("pruned the wrong node")
	}
	// A pruned node comes back on its next use.
	use(t, &g, 1, 1)
	if g.cached(1) == nil {
		t.Fatal("node 1 not made again")
	}
}

func TestPruneLeastActive(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	g := newNodes(time.Minute, c.now, members)
	for id := int64(1); id <= 20; id++ {
		use(t, &g, id, int(id)) // node id has id uses
	}
	for _, tt := range []struct {
		name string
		o    PruneOptions
		want int
	}{
		{"under the count", PruneOptions{MaxNodes: 20, Percent: 50}, 0},
		{"over the count", PruneOptions{MaxNodes: 10, Percent: 25}, 5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if n := g.prune(c.t, tt.o); n != tt.want {
				t.Fatalf("pruned %d, want %d", n, tt.want)
			}
		})
	}
	for id := int64(1); id <= 20; id++ {
		if gone := g.cached(id) == nil; gone != (id <= 5) {
			t.Errorf("node %d pruned = %v; want the 5 least used pruned", id, gone)
		}
	}
	if g.len() != 15 {
		t.Fatalf("%d nodes left", g.len())
	}
}

// An event only makes the node load again: what it says (user 2 joined)
// is not taken, the load decides.
func TestEventsReloadNodes(t *testing.T) {
	loads := 0
	g := newNodes(time.Hour, time.Now, func(context.Context, int64) (Roster, error) {
		loads++
		return Roster{Members: []int64{1}}, nil
	})
	use(t, &g, 1, 1)
	g.forget(1) // "user 2 joined group 1"
	if ok, list, _ := g.members(context.Background(), 1, 2); ok || fmt.Sprint(list) != "[1]" || loads != 2 {
		t.Fatalf("after an event: member %v, members %v, %d loads; want false, [1], 2", ok, list, loads)
	}
	g.forget(9) // not cached: nothing to do
	if g.cached(9) != nil {
		t.Fatal("an event made a node")
	}
}

func TestStale(t *testing.T) {
	loads := 0
	g := newNodes(time.Hour, time.Now, func(context.Context, int64) (Roster, error) {
		loads++
		return Roster{Members: []int64{1}}, nil
	})
	use(t, &g, 1, 2)
	g.stale()
	use(t, &g, 1, 1)
	if loads != 2 {
		t.Fatalf("%d loads, want 2 (one before, one after stale)", loads)
	}
}
