// Presence: changes queued per user (latest wins) and the worker that
// stores each (the last seen time) and tells friends.

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
	mu      sync.Mutex               // a leaf; not checked (lockorder): put is called 100,000 times in a test
	pending map[int64]presenceChange // by user, in no order
	kick    chan struct{}            // cap 1: pending is not empty
}

// presenceChange is a user's first connection of the cluster opening
// (online) or last one closing, at at.
type presenceChange struct {
	online bool
	at     time.Time
}

func newPresenceQueue() *presenceQueue {
	return &presenceQueue{pending: make(map[int64]presenceChange), kick: make(chan struct{}, 1)}
}

// put records user's latest state; it never blocks.
func (q *presenceQueue) put(user int64, online bool, at time.Time) {
	q.mu.Lock()
	q.pending[user] = presenceChange{online: online, at: at}
	q.mu.Unlock()
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

// take returns every waiting change and empties the queue.
func (q *presenceQueue) take() map[int64]presenceChange {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) == 0 {
		return nil
	}
	out := q.pending
	q.pending = make(map[int64]presenceChange)
	return out
}

// announce queues user's new presence for the presence worker.
func (s *Service) announce(user int64, online bool) { s.presence.put(user, online, time.Now()) }

// presenceWorker stores each changed user's latest state (SetPresence: the
// last seen time) and tells their friends, one user at a time. A change
// the DataService found older than one stored before is not announced:
// the node that stored the later one announces that. When the store
// cannot be written the change is announced all the same, without
// last_seen: presence must not wait on the profile's detail.
func (s *Service) presenceWorker() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.presence.kick:
		}
		for user, ch := range s.presence.take() {
			if s.ctx.Err() != nil {
				return
			}
			ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
			seen, err := s.store.SetPresence(ctx, user, ch.online, ch.at)
			if err != nil {
				if s.ctx.Err() == nil {
					s.log.Warn("presence: store last seen", "user", user, "err", err)
				}
				seen = LastSeen{Applied: true, Hidden: true}
			}
			if !seen.Applied {
				cancel()
				continue
			}
			friends, err := s.store.Friends(ctx, user)
			cancel()
			if err != nil {
				if s.ctx.Err() == nil { // not shutting down
					s.log.Warn("presence: list friends", "user", user, "err", err)
				}
				continue
			}
			p := frame.Presence{Type: "presence", User: frame.FormatID(user), Online: ch.online}
			if !ch.online && !seen.Hidden {
				p.LastSeen = seen.At.UnixMilli()
			}
			b := frame.Marshal(p)
			s.fanout(friends, nil, Delivery{Users: friends, Frame: b})
		}
	}
}
