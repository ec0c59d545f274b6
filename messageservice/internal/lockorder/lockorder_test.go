package lockorder

import (
	"strings"
	"sync"
	"testing"
)

func init() { Enable() }

func panics(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = r.(string)
		}
	}()
	f()
	return ""
}

func TestOrder(t *testing.T) {
	tests := []struct {
		name    string
		first   Rank
		second  Rank
		wantErr bool
	}{
		{"session then conn", Session, Conn, false},
		{"session then leaf", Session, Leaf, false},
		{"conn then leaf", Conn, Leaf, false},
		{"conn then session", Conn, Session, true},
		{"leaf then conn", Leaf, Conn, true},
		{"two sessions", Session, Session, true},
		{"two leaves", Leaf, Leaf, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := &Mutex{Rank: tc.first}, &Mutex{Rank: tc.second}
			a.Lock()
			msg := panics(func() { b.Lock(); b.Unlock() })
			a.Unlock()
			if got := msg != ""; got != tc.wantErr {
				t.Fatalf("panicked %v (%q), want %v", got, msg, tc.wantErr)
			}
			if tc.wantErr && !strings.Contains(msg, "while holding") {
				t.Errorf("message %q", msg)
			}
			// Both are free again: taking them in either order alone is fine.
			for _, m := range []*Mutex{a, b} {
				if msg := panics(func() { m.Lock(); m.Unlock() }); msg != "" {
					t.Errorf("after the test: %s", msg)
				}
			}
		})
	}
}

func TestGoroutinesAreApart(t *testing.T) {
	conn := &Mutex{Rank: Conn}
	conn.Lock()
	var wg sync.WaitGroup
	wg.Go(func() {
		// Another goroutine holds nothing: a Session lock is fine here.
		s := &Mutex{Rank: Session}
		if msg := panics(func() { s.Lock(); s.Unlock() }); msg != "" {
			t.Error(msg)
		}
	})
	wg.Wait()
	conn.Unlock()
}

func TestUnlockedElsewhere(t *testing.T) {
	m := &Mutex{Rank: Session}
	m.Lock()
	var wg sync.WaitGroup
	wg.Go(m.Unlock)
	wg.Wait()
	if msg := panics(func() { (&Mutex{Rank: Session}).Lock() }); msg != "" {
		t.Errorf("a lock unlocked by another goroutine is still counted: %s", msg)
	}
}

func BenchmarkDisabled(b *testing.B) {
	enabled.Store(false)
	defer enabled.Store(true)
	var m Mutex
	m.Rank = Session
	for b.Loop() {
		m.Lock()
		m.Unlock()
	}
}

// BenchmarkSyncMutex is what BenchmarkDisabled adds its atomic load to.
func BenchmarkSyncMutex(b *testing.B) {
	var m sync.Mutex
	for b.Loop() {
		m.Lock()
		m.Unlock()
	}
}
