package media

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestPoolBoundsUsersAndAll(t *testing.T) {
	t.Parallel()
	p := newPool(2, 1)
	ctx := context.Background()
	r1, err := p.acquire(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.acquire(ctx, 1); !errors.Is(err, ErrBusy) {
		t.Fatalf("second decode of user 1: %v, want ErrBusy", err)
	}
	r2, err := p.acquire(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	// The pool is full: user 3 waits, here until its deadline.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := p.acquire(short, 3); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("decode past the pool's size: %v, want to wait until the deadline", err)
	}
	r1()
	r3, err := p.acquire(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	r2()
	r3()
	if len(p.busy) != 0 || len(p.slots) != 0 {
		t.Errorf("after every release: busy %v, %d slots taken", p.busy, len(p.slots))
	}
}
