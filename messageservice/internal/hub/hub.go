// Package hub holds the user nodes of one messageservice node: for each
// online user, up to MaxConns connections, newest first. It is generic over
// the connection type so that it knows nothing of WebSockets or chat.
//
// Locking: the users are sharded by id; each shard's mutex guards its map
// and the user nodes in it. At most one shard lock is held at a time and no
// callback or connection method runs under it, so there is no lock order to
// keep. Callers close evicted connections themselves, outside the hub.
//
// It imports only the standard library.
package hub

import "sync"

// MaxConns is how many connections a user may hold at once.
const MaxConns = 3

const shards = 64

// Hub is safe for concurrent use. The zero value is not usable; use New.
type Hub[C comparable] struct {
	shards [shards]shard[C]
}

type shard[C comparable] struct {
	mu    sync.Mutex
	users map[int64]*userNode[C]
}

// userNode is one online user: connections newest first.
type userNode[C comparable] struct {
	conns []C
}

// New returns an empty hub.
func New[C comparable]() *Hub[C] {
	h := &Hub[C]{}
	for i := range h.shards {
		h.shards[i].users = make(map[int64]*userNode[C])
	}
	return h
}

func (h *Hub[C]) shard(user int64) *shard[C] {
	return &h.shards[uint64(user)%shards]
}

// Add puts c first among user's connections. When the user already held
// MaxConns, the oldest is taken out and returned as evicted (close it with
// 4001 "replaced"). first reports whether c is the user's only connection
// now, i.e. the user came online.
func (h *Hub[C]) Add(user int64, c C) (evicted C, hasEvicted, first bool) {
	s := h.shard(user)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.users[user]
	if n == nil {
		n = &userNode[C]{conns: make([]C, 0, MaxConns)}
		s.users[user] = n
	}
	if len(n.conns) == MaxConns {
		evicted, hasEvicted = n.conns[MaxConns-1], true
		n.conns = n.conns[:MaxConns-1]
	}
	n.conns = append(n.conns, c)
	copy(n.conns[1:], n.conns)
	n.conns[0] = c
	return evicted, hasEvicted, len(n.conns) == 1
}

// Remove takes c out of user's connections. last reports whether it was the
// user's last one (the user node is gone: the user went offline). Removing a
// connection that is not there (it was evicted) changes nothing.
func (h *Hub[C]) Remove(user int64, c C) (last bool) {
	s := h.shard(user)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.users[user]
	if n == nil {
		return false
	}
	for i, x := range n.conns {
		if x == c {
			n.conns = append(n.conns[:i], n.conns[i+1:]...)
			if len(n.conns) == 0 {
				delete(s.users, user)
				return true
			}
			return false
		}
	}
	return false
}

// Conns returns a copy of user's connections, newest first.
func (h *Hub[C]) Conns(user int64) []C {
	s := h.shard(user)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.users[user]
	if n == nil {
		return nil
	}
	out := make([]C, len(n.conns))
	copy(out, n.conns)
	return out
}

// Online reports whether user holds a connection.
func (h *Hub[C]) Online(user int64) bool {
	s := h.shard(user)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.users[user] != nil
}

// Each calls fn for every connection, one shard at a time; fn must not
// call the hub.
func (h *Hub[C]) Each(fn func(user int64, c C)) {
	for i := range h.shards {
		s := &h.shards[i]
		s.mu.Lock()
		for u, n := range s.users {
			for _, c := range n.conns {
				fn(u, c)
			}
		}
		s.mu.Unlock()
	}
}

// Count returns the online users and their connections.
func (h *Hub[C]) Count() (users, conns int) {
	for i := range h.shards {
		s := &h.shards[i]
		s.mu.Lock()
		users += len(s.users)
		for _, n := range s.users {
			conns += len(n.conns)
		}
		s.mu.Unlock()
	}
	return users, conns
}
