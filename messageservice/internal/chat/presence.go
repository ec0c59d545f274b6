package chat

import "sync"

// presenceQueue holds the presence changes not yet announced, one per user:
// a later change of a user replaces an earlier one still waiting (latest
// state wins), so a storm of drops and reconnects costs at most one
// announcement per user instead of two, and nothing is dropped. It holds
// at most one entry per user of this node.
//
// Owner: Service; mu is a leaf.
type presenceQueue struct {
	mu      sync.Mutex
	pending map[int64]bool // user -> online, in no order
	kick    chan struct{}  // cap 1: pending is not empty
}

func newPresenceQueue() *presenceQueue {
	return &presenceQueue{pending: make(map[int64]bool), kick: make(chan struct{}, 1)}
}

// put records user's latest state; it never blocks.
func (q *presenceQueue) put(user int64, online bool) {
	q.mu.Lock()
	q.pending[user] = online
	q.mu.Unlock()
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

// take returns every waiting change and empties the queue.
func (q *presenceQueue) take() map[int64]bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) == 0 {
		return nil
	}
	out := q.pending
	q.pending = make(map[int64]bool)
	return out
}
