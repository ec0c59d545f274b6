// The appender: the one append path of every message (Send, Push,
// Broadcast), batched per worker and fanned out in seq order.

package chat

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync/atomic"
	"time"

	"github.com/privateim/privateim/messageservice/internal/nodemetrics"
)

// appender batches concurrent appends into AppendMessagesPlus calls (group
// commit). Conversations are spread over appendWorkers workers by a hash of
// their name; a worker takes one request, adds whatever else waits for it at
// that moment (up to maxBatch, of any of its conversations, several of one
// conversation among them) and stores them in one round trip. A lone
// request goes at once, so batching adds no latency; under load, fewer
// round trips carry more messages. A batch the DataService refuses as a
// whole is retried one message at a time, so one bad request fails alone.
//
// Order: the DataService gives the messages of one conversation in a batch
// consecutive seqs in request order, and one worker stores one batch after
// the other, so a conversation's seqs follow its submission order. The
// worker runs each request's stored callback (the fan-out) in batch order
// before the next batch: a node hands out a conversation's messages in seq
// order without a lock held across the round trip, so one conversation
// (a busy group) is no longer limited to one message per round trip.
type appender struct {
	store   Store
	shards  [appendWorkers]chan *appendCall // bounded; senders wait for room
	batched atomic.Int64                    // messages stored in batches of more than one
	metrics *nodemetrics.Metrics
}

type appendCall struct {
	req AppendRequest
	// stored, when set, runs on the worker once the message is stored, in
	// seq order within the conversation; it must not block.
	stored func(m Message, dup bool)
	// finish, when set, runs on the worker after stored, for every call
	// (err set when the message was not stored); done is then not used.
	finish func(m Message, dup bool, err error)
	done   chan struct{}
	res    AppendResult
	err    error
}

const (
	// appendWorkers is how many batches are stored at once. Each worker
	// stores back to back, so fewer workers make bigger batches and fewer
	// transactions: on the 2-core machine of docs/benchmarks.md, p2p at
	// 5,000 msg/s went from 8 workers (~600 transactions/s, p50 22 ms,
	// p99 83 ms) to 2 (p50 8 ms, p99 40 ms, a quarter less MariaDB CPU).
	appendWorkers = 2
	maxBatch      = 1000
)

func newAppender(st Store, m *nodemetrics.Metrics) *appender {
	a := &appender{store: st, metrics: m}
	for i := range a.shards {
		a.shards[i] = make(chan *appendCall, maxBatch)
	}
	return a
}

// run is the worker of shard i; it returns when stop closes.
func (a *appender) run(i int, stop <-chan struct{}) {
	calls := a.shards[i]
	batch := make([]*appendCall, 0, maxBatch)
	for {
		select {
		case <-stop:
			return
		case c := <-calls:
			batch = append(batch[:0], c)
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case c := <-calls:
				batch = append(batch, c)
			default:
				break drain
			}
		}
		a.store1(batch)
		for _, c := range batch {
			if c.err == nil && c.stored != nil {
				c.stored(c.res.Message, c.res.Duplicate)
			}
			if c.finish != nil {
				c.finish(c.res.Message, c.res.Duplicate, c.err)
			} else {
				close(c.done)
			}
		}
		clear(batch)
	}
}

func (a *appender) store1(batch []*appendCall) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if len(batch) > 1 {
		reqs := make([]AppendRequest, len(batch))
		for i, c := range batch {
			reqs[i] = c.req
		}
		start := time.Now()
		res, err := a.store.AppendBatch(ctx, reqs)
		a.observe(start, err)
		if err == nil && len(res) == len(batch) {
			a.batched.Add(int64(len(batch)))
			for i, c := range batch {
				c.res = res[i]
			}
			return
		}
	}
	for _, c := range batch {
		start := time.Now()
		c.res.Message, c.res.Duplicate, c.err = a.store.Append(ctx, c.req)
		a.observe(start, c.err)
	}
}

// observe counts one append call that started at start.
func (a *appender) observe(start time.Time, err error) {
	a.metrics.Store.Observe(time.Since(start).Seconds())
	if err != nil {
		a.metrics.StoreFailures.Inc()
	}
}

// queued is the number of appends waiting for a worker.
func (a *appender) queued() int {
	n := 0
	for _, sh := range a.shards {
		n += len(sh)
	}
	return n
}

// append stores r, batched with concurrent ones, and runs stored (when
// not nil) on the worker in the conversation's seq order. When ctx ends
// first the message may still be stored (and stored still runs): the
// client sends it again with the same client_msg_id and gets the stored
// one.
func (a *appender) append(ctx context.Context, r AppendRequest, stored func(m Message, dup bool)) (Message, bool, error) {
	var each func(int, Message, bool)
	if stored != nil {
		each = func(_ int, m Message, dup bool) { stored(m, dup) }
	}
	res, err := a.appendAll(ctx, []AppendRequest{r}, each)
	if err != nil {
		return Message{}, false, err
	}
	return res[0].Message, res[0].Duplicate, nil
}

// appendAll stores rs, batched with concurrent appends (the requests of
// one conversation get seqs in rs order), runs stored (when not nil) for
// each stored request i on its worker in the conversation's seq order, and
// returns the results in rs order, or the first error. As with append, a
// request may be stored after ctx ended.
func (a *appender) appendAll(ctx context.Context, rs []AppendRequest, stored func(i int, m Message, dup bool)) ([]AppendResult, error) {
	calls := make([]*appendCall, len(rs))
	for i, r := range rs {
		c := &appendCall{req: r, done: make(chan struct{})}
		if stored != nil {
			c.stored = func(m Message, dup bool) { stored(i, m, dup) }
		}
		if err := a.enqueue(ctx, c); err != nil {
			return nil, err
		}
		calls[i] = c
	}
	out := make([]AppendResult, len(rs))
	for i, c := range calls {
		select {
		case <-c.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("append to %s: %w", c.req.Conversation, ctx.Err())
		}
		if c.err != nil {
			return nil, c.err
		}
		out[i] = c.res
	}
	return out, nil
}

// submit queues r behind the appends queued before it and returns: the
// order of submits fixes the order of seqs within a conversation. stored
// runs as for append; finish runs on the worker once r is stored or has
// failed. When submit returns an error, neither runs.
func (a *appender) submit(ctx context.Context, r AppendRequest, stored func(m Message, dup bool), finish func(m Message, dup bool, err error)) error {
	return a.enqueue(ctx, &appendCall{req: r, stored: stored, finish: finish})
}

// enqueue hands c to the worker of its conversation, waiting for room.
func (a *appender) enqueue(ctx context.Context, c *appendCall) error {
	h := fnv.New32a()
	_, _ = h.Write([]byte(c.req.Conversation))
	select {
	case a.shards[h.Sum32()%appendWorkers] <- c:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("append to %s: %w", c.req.Conversation, ctx.Err())
	}
}
