package hub

import (
	"slices"
	"sync"
	"testing"
)

func TestAddEvictsOldest(t *testing.T) {
	h := New[string]()
	for i, c := range []string{"a", "b", "c"} {
		_, ev, first := h.Add(7, c)
		if ev || first != (i == 0) {
			t.Fatalf("Add %s: evicted %v first %v", c, ev, first)
		}
	}
	if got := h.Conns(7); !slices.Equal(got, []string{"c", "b", "a"}) {
		t.Fatalf("Conns = %v, want newest first", got)
	}
	old, ev, first := h.Add(7, "d")
	if !ev || old != "a" || first {
		t.Fatalf("4th Add evicted %q (%v), first %v; want a", old, ev, first)
	}
	if got := h.Conns(7); !slices.Equal(got, []string{"d", "c", "b"}) {
		t.Fatalf("Conns = %v", got)
	}
	if h.Remove(7, "a") {
		t.Fatal("removing the evicted connection reported last")
	}
	for _, c := range []string{"b", "c"} {
		if h.Remove(7, c) {
			t.Fatalf("Remove %s reported last", c)
		}
	}
	if !h.Remove(7, "d") || h.Online(7) {
		t.Fatal("the last Remove did not take the user offline")
	}
	if u, c := h.Count(); u != 0 || c != 0 {
		t.Fatalf("Count = %d, %d", u, c)
	}
}

func TestConcurrent(t *testing.T) {
	h := New[int]()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				u := int64(i % 50)
				c := g*1000 + i
				h.Add(u, c)
				h.Conns(u)
				h.Remove(u, c)
			}
		})
	}
	wg.Wait()
	if u, c := h.Count(); u != 0 || c != 0 {
		t.Fatalf("Count = %d, %d after every connection left", u, c)
	}
}

func BenchmarkAddRemove(b *testing.B) {
	h := New[int]()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			u := int64(i % 1024)
			h.Add(u, i)
			h.Remove(u, i)
			i++
		}
	})
}
