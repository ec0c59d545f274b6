package chat

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// appender batches concurrent appends into AppendMessagesPlus calls (group
// commit): a worker takes one request, adds whatever else is waiting at
// that moment (up to 1000), and stores them in one round trip. A lone
// request goes at once, so batching adds no latency; under load, fewer
// round trips carry more messages. A batch the DataService refuses as a
// whole is retried one message at a time, so one bad request fails alone.
type appender struct {
	store   Store
	calls   chan *appendCall // bounded; senders wait for room
	batched atomic.Int64     // messages stored in batches of more than one
}

type appendCall struct {
	req  AppendRequest
	done chan struct{}
	res  AppendResult
	err  error
}

const (
	appendWorkers = 4
	maxBatch      = 1000
)

// run is one worker; it returns when stop closes.
func (a *appender) run(stop <-chan struct{}) {
	batch := make([]*appendCall, 0, maxBatch)
	for {
		select {
		case <-stop:
			return
		case c := <-a.calls:
			batch = append(batch[:0], c)
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case c := <-a.calls:
				batch = append(batch, c)
			default:
				break drain
			}
		}
		a.store1(batch)
	}
}

func (a *appender) store1(batch []*appendCall) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	defer func() {
		for _, c := range batch {
			close(c.done)
		}
	}()
	if len(batch) > 1 {
		reqs := make([]AppendRequest, len(batch))
		for i, c := range batch {
			reqs[i] = c.req
		}
		res, err := a.store.AppendBatch(ctx, reqs)
		if err == nil && len(res) == len(batch) {
			a.batched.Add(int64(len(batch)))
			for i, c := range batch {
				c.res = res[i]
			}
			return
		}
	}
	for _, c := range batch {
		c.res.Message, c.res.Duplicate, c.err = a.store.Append(ctx, c.req)
	}
}

// append stores r, batched with concurrent ones. When ctx ends first the
// message may still be stored: the client sends it again with the same
// client_msg_id and gets the stored one.
func (a *appender) append(ctx context.Context, r AppendRequest) (Message, bool, error) {
	c := &appendCall{req: r, done: make(chan struct{})}
	select {
	case a.calls <- c:
	case <-ctx.Done():
		return Message{}, false, fmt.Errorf("append to %s: %w", r.Conversation, ctx.Err())
	}
	select {
	case <-c.done:
		return c.res.Message, c.res.Duplicate, c.err
	case <-ctx.Done():
		return Message{}, false, fmt.Errorf("append to %s: %w", r.Conversation, ctx.Err())
	}
}
