// Presence: changes queued per user (latest wins) and the worker that tells
// friends.

package chat

import (
	"context"
	"sync"
	"time"

	"github.com/privateim/privateim/messageservice/internal/frame"
)

// presenceQueue holds the presence changes not yet announced, one per user:
// a later change of a user replaces an earlier one still waiting (latest
// state wins), so a storm of drops and reconnects costs at most one
// announcement per user instead of two, and nothing is dropped. It holds
// at most one entry per user of this node.
//
// Owner: Service; mu is a leaf.
type presenceQueue struct {
	mu      sync.Mutex     // a leaf; not checked (lockorder): put is called 100,000 times in a test
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

// announce queues user's new presence for the presence worker.
func (s *Service) announce(user int64, online bool) { s.presence.put(user, online) }

// presenceWorker tells each changed user's friends, one user at a time
// (a Friends read each), the latest state of each.
func (s *Service) presenceWorker() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.presence.kick:
		}
		for user, online := range s.presence.take() {
			if s.ctx.Err() != nil {
				return
			}
			ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
			friends, err := s.store.Friends(ctx, user)
			cancel()
			if err != nil {
				if s.ctx.Err() == nil { // not shutting down
					s.log.Warn("presence: list friends", "user", user, "err", err)
				}
				continue
			}
			b := frame.Marshal(frame.Presence{Type: "presence", User: frame.FormatID(user), Online: online})
			s.fanout(friends, nil, Delivery{Users: friends, Frame: b})
		}
	}
}
