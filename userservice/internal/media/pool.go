package media

import (
	"context"
	"sync"
)

// pool bounds the pictures of one kind decoded at once: size in all, and
// perUser of one user (a user with one in flight gets ErrBusy at once
// rather than a place in the queue, so that one account cannot fill it).
//
// Owner: Service; mu is a leaf and guards busy.
type pool struct {
	slots   chan struct{}
	perUser int
	mu      sync.Mutex
	busy    map[int64]int // user -> decodes taken or waiting; no zero entries
}

func newPool(size, perUser int) *pool {
	if size <= 0 {
		size = 2
	}
	if perUser <= 0 {
		perUser = 1
	}
	return &pool{slots: make(chan struct{}, size), perUser: perUser, busy: make(map[int64]int)}
}

// acquire takes a slot for user: ErrBusy when the user already holds
// perUser of them, ctx's error when it ends first.
func (p *pool) acquire(ctx context.Context, user int64) (release func(), err error) {
	p.mu.Lock()
	if p.busy[user] >= p.perUser {
		p.mu.Unlock()
		return nil, ErrBusy
	}
	p.busy[user]++
	p.mu.Unlock()
	done := func() {
		p.mu.Lock()
		if p.busy[user]--; p.busy[user] <= 0 {
			delete(p.busy, user)
		}
		p.mu.Unlock()
	}
	select {
	case p.slots <- struct{}{}:
		return func() { <-p.slots; done() }, nil
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
}
