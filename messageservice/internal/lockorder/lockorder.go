// Package lockorder is the messageservice's written lock order, checked
// while tests run. Each checked lock is a Mutex with a Rank; a goroutine
// holding a lock may only take locks of a higher rank, so a lock taken out
// of order (or a second lock of one rank, e.g. two sessions at once)
// panics at the moment it happens instead of deadlocking one run in a
// thousand.
//
// The order (lowest first):
//
//	Session    chat.Session.mu: one connection's delivery state
//	Conn       wsconn.Conn.mu: its write queue (Transport.Send under Session.mu)
//	Leaf       everything else checked: nothing checked is taken while one
//	           is held (chat.Service.limMu, the cursor writer's mu, the
//	           relation cache's mu, wsconn.Server.mu, cluster.Cluster.mu)
//
// Other leaves stay plain sync.Mutex (the hub's shards, the presence
// queue's mu, chat's group and subscription nodes): nothing is called
// under them, and they are too hot for the check's cost in tests.
//
// Checking is off unless Enable is called; test binaries call
// EnableForTests from an init in a _test.go file, so `go test` checks with
// no build tag and a production binary pays one atomic load per Lock and
// Unlock.
//
// It imports only the standard library.
package lockorder

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Rank is a lock's place in the order.
type Rank int

// The ranks, lowest first (see the package comment).
const (
	Session Rank = iota + 1
	Conn
	Leaf
)

func (r Rank) String() string {
	switch r {
	case Session:
		return "Session"
	case Conn:
		return "Conn"
	case Leaf:
		return "Leaf"
	}
	return "Rank(" + strconv.Itoa(int(r)) + ")"
}

var enabled atomic.Bool

// Enable turns the checks on for the whole process; call it before any
// checked lock is taken (from a test's init).
func Enable() { enabled.Store(true) }

// EnableForTests is Enable unless the test binary runs benchmarks
// (-test.bench), which should measure the unchecked locks production has.
// Test binaries call it from an init in a _test.go file.
func EnableForTests() {
	for _, a := range os.Args[1:] {
		if strings.HasPrefix(a, "-test.bench") {
			return
		}
	}
	Enable()
}

// Enabled reports whether the checks are on.
func Enabled() bool { return enabled.Load() }

// Mutex is a sync.Mutex with a rank. Set Rank before the mutex is shared;
// the zero Rank is not checked.
type Mutex struct {
	Rank Rank
	mu   sync.Mutex
}

// Lock locks m; with checks on it panics first when the goroutine holds a
// lock of m's rank or a higher one.
func (m *Mutex) Lock() {
	if !enabled.Load() || m.Rank == 0 {
		m.mu.Lock()
		return
	}
	g := goid()
	held.check(g, m)
	m.mu.Lock()
	held.push(g, m)
}

// Unlock unlocks m.
func (m *Mutex) Unlock() {
	if enabled.Load() && m.Rank != 0 {
		held.pop(goid(), m)
	}
	m.mu.Unlock()
}

// registry is the checked locks each goroutine holds.
type registry struct {
	mu sync.Mutex
	by map[uint64][]*Mutex
}

var held = registry{by: make(map[uint64][]*Mutex)}

func (r *registry) check(g uint64, m *Mutex) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, h := range r.by[g] {
		if h.Rank >= m.Rank {
			panic(fmt.Sprintf("lockorder: goroutine %d takes a %v lock while holding a %v lock", g, m.Rank, h.Rank))
		}
	}
}

func (r *registry) push(g uint64, m *Mutex) {
	r.mu.Lock()
	r.by[g] = append(r.by[g], m)
	r.mu.Unlock()
}

// pop forgets m; a mutex unlocked by another goroutine than the one that
// locked it (allowed by sync.Mutex) is found wherever it is.
func (r *registry) pop(g uint64, m *Mutex) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.remove(g, m) {
		return
	}
	for other := range r.by {
		if r.remove(other, m) {
			return
		}
	}
}

func (r *registry) remove(g uint64, m *Mutex) bool {
	list := r.by[g]
	for i := len(list) - 1; i >= 0; i-- {
		if list[i] == m {
			list = append(list[:i], list[i+1:]...)
			if len(list) == 0 {
				delete(r.by, g)
			} else {
				r.by[g] = list
			}
			return true
		}
	}
	return false
}

// goid is the current goroutine's id, read from its stack header
// ("goroutine 42 [running]:"); slow, so only with checks on.
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}
