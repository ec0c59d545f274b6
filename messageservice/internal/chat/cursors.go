// The cursor writer: device cursor advances (acks, own sends) coalesced per
// (user, device, conversation), and the senders' read seqs (Sent) per
// (user, conversation), written in few AdvanceCursors calls.

package chat

import (
	"context"
	"log/slog"
	"time"

	"github.com/privateim/privateim/messageservice/internal/lockorder"
)

// CursorAdvance moves one device's cursor in one conversation forward:
// the DataService keeps the max of the stored and the given seqs.
type CursorAdvance struct {
	User         int64
	Device       string
	Conversation string
	Delivered    int64
	Acked        int64
}

type cursorKey struct {
	user         int64
	device, conv string
}

type cursorSeqs struct{ delivered, acked int64 }

// Sent names a message its sender sent: the sender's read seq (and last
// sent seq) of the conversation rises to Seq, so one's own messages never
// count as unread.
type Sent struct {
	User         int64
	Conversation string
	Seq          int64
}

type sentKey struct {
	user int64
	conv string
}

// cursorBatch is the advances collected while the previous batch was
// being written; done closes once it is written (or given up on).
type cursorBatch struct {
	m    map[cursorKey]cursorSeqs
	sent map[sentKey]int64 // the highest seq per sender and conversation
	done chan struct{}
}

func newCursorBatch() *cursorBatch {
	return &cursorBatch{m: make(map[cursorKey]cursorSeqs), sent: make(map[sentKey]int64), done: make(chan struct{})}
}

func (b *cursorBatch) size() int { return len(b.m) + len(b.sent) }

// cursorWriter coalesces cursor advances (acks, and the sender's own
// messages) and the senders' read seqs into AdvanceCursorsPlus calls, off
// the connections' read loops. The senders' read seqs were written in the
// append's own transaction before, which cost 12 % of p2p send throughput
// (one more row write per append; docs/benchmarks.md, issue 14); here a
// sender's messages of one batch are one row write, after the append: the
// conversation list may count one's own message for up to cursorGather
// plus the write, and for longer when the node dies in between (until the
// user's next send or read). Advances are cumulative and the DataService keeps the max, so
// only the highest seqs per (user, device, conversation) need writing: a
// batch keeps one entry per key. Like the appender it is a group commit:
// the first advance is written at once, the ones arriving meanwhile go in
// the next call. The batch is bounded (maxPendingCursors keys): an advance
// that finds it full waits for the write in flight.
//
// An advance not yet written when the node dies is lost like an ack frame
// still in flight: the device gets those messages again on reconnect, never
// fewer. A catch-up calls sync first, so that a reconnect to this node
// reads every ack it took before.
//
// Owner: Service (run stops on Close, after a last flush). mu is a leaf.
type cursorWriter struct {
	log   *slog.Logger
	store Store
	kick  chan struct{} // cap 1: the current batch is not empty
	now   chan struct{} // cap 1: someone waits in sync; write without gathering

	mu       lockorder.Mutex // rank Leaf; guards cur and inflight
	cur      *cursorBatch
	inflight *cursorBatch // being written; nil when idle
}

const (
	maxCursorCall     = 1000 // AdvanceCursorsPlus takes at most 1000
	maxPendingCursors = 20000
)

func newCursorWriter(log *slog.Logger, st Store) *cursorWriter {
	return &cursorWriter{log: log, store: st, mu: lockorder.Mutex{Rank: lockorder.Leaf}, kick: make(chan struct{}, 1), now: make(chan struct{}, 1), cur: newCursorBatch()}
}

// advance queues a; it blocks only while the batch is full.
func (w *cursorWriter) advance(ctx context.Context, a CursorAdvance) error {
	k := cursorKey{a.User, a.Device, a.Conversation}
	return w.queue(ctx, func(b *cursorBatch) bool {
		old, ok := b.m[k]
		if !ok && b.size() >= maxPendingCursors {
			return false
		}
		b.m[k] = cursorSeqs{max(old.delivered, a.Delivered), max(old.acked, a.Acked)}
		return true
	})
}

// sent queues a sender's read seq move; it blocks only while the batch is
// full.
func (w *cursorWriter) sent(ctx context.Context, s Sent) error {
	k := sentKey{s.User, s.Conversation}
	return w.queue(ctx, func(b *cursorBatch) bool {
		old, ok := b.sent[k]
		if !ok && b.size() >= maxPendingCursors {
			return false
		}
		b.sent[k] = max(old, s.Seq)
		return true
	})
}

// queue runs put on the current batch under w.mu and kicks the writer;
// when put finds the batch full (returns false) it waits until that batch
// is taken and written, then tries the next one.
func (w *cursorWriter) queue(ctx context.Context, put func(b *cursorBatch) bool) error {
	for {
		w.mu.Lock()
		b := w.cur
		ok := put(b)
		w.mu.Unlock()
		if ok {
			select {
			case w.kick <- struct{}{}:
			default:
			}
			return nil
		}
		select { // full: wait until this batch is taken and written
		case <-b.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// sync waits until every advance queued before it is written.
func (w *cursorWriter) sync(ctx context.Context) error {
	w.mu.Lock()
	var waits []chan struct{}
	if w.inflight != nil {
		waits = append(waits, w.inflight.done)
	}
	if w.cur.size() > 0 {
		waits = append(waits, w.cur.done)
	}
	w.mu.Unlock()
	select {
	case w.now <- struct{}{}:
	default:
	}
	for _, ch := range waits {
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// cursorGather is how long advances gather after the first before they
// are written, unless a catch-up waits for them (sync). Each key is written
// once per batch, so gathering turns a stream of small upserts (58 a
// second at p2p 5,000 msg/s) into fewer, larger ones that compete less
// with the appends (docs/benchmarks.md, session 3). What it costs: acks
// taken in the last cursorGather before a node dies are lost, so the
// device gets those messages again on reconnect, as with an ack frame
// lost in flight.
const cursorGather = 100 * time.Millisecond

// run writes batches until stop closes, then writes what is left.
func (w *cursorWriter) run(stop <-chan struct{}) {
	gather := time.NewTimer(cursorGather)
	gather.Stop()
	for {
		select {
		case <-w.kick:
		case <-w.now:
		case <-stop:
			w.flush(nil)
			return
		}
		gather.Reset(cursorGather)
		select {
		case <-gather.C:
		case <-w.now:
			gather.Stop()
		case <-stop:
			gather.Stop()
			w.flush(nil)
			return
		}
		w.flush(stop)
	}
}

// flush writes the current batch. A refused call is split into single
// cursors; those that fail alone are merged back into the batch after it
// and tried again after a pause, unless stopping.
func (w *cursorWriter) flush(stop <-chan struct{}) {
	w.mu.Lock()
	b := w.cur
	if b.size() == 0 {
		w.mu.Unlock()
		return
	}
	w.cur, w.inflight = newCursorBatch(), b
	w.mu.Unlock()

	as := make([]CursorAdvance, 0, len(b.m))
	for k, v := range b.m {
		as = append(as, CursorAdvance{User: k.user, Device: k.device, Conversation: k.conv, Delivered: v.delivered, Acked: v.acked})
	}
	ss := make([]Sent, 0, len(b.sent))
	for k, seq := range b.sent {
		ss = append(ss, Sent{User: k.user, Conversation: k.conv, Seq: seq})
	}
	var failed []CursorAdvance
	var failedSent []Sent
	for len(as) > 0 || len(ss) > 0 {
		n, m := min(len(as), maxCursorCall), min(len(ss), maxCursorCall)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := w.store.AdvanceCursors(ctx, as[:n], ss[:m])
		if err != nil && n+m > 1 {
			// One refused entry must not hold back the others: each
			// alone; what still fails is tried again later.
			for i := range as[:n] {
				if w.store.AdvanceCursors(ctx, as[i:i+1], nil) != nil {
					failed = append(failed, as[i])
				}
			}
			for i := range ss[:m] {
				if w.store.AdvanceCursors(ctx, nil, ss[i:i+1]) != nil {
					failedSent = append(failedSent, ss[i])
				}
			}
		} else if err != nil {
			failed, failedSent = append(failed, as[:n]...), append(failedSent, ss[:m]...)
		}
		cancel()
		if err != nil {
			w.log.Warn("advance cursors", "cursors", n, "sent", m, "failed", len(failed)+len(failedSent), "err", err)
		}
		as, ss = as[n:], ss[m:]
	}
	w.mu.Lock()
	w.inflight = nil
	if stop != nil {
		for _, a := range failed {
			k := cursorKey{a.User, a.Device, a.Conversation}
			old := w.cur.m[k]
			w.cur.m[k] = cursorSeqs{max(old.delivered, a.Delivered), max(old.acked, a.Acked)}
		}
		for _, s := range failedSent {
			k := sentKey{s.User, s.Conversation}
			w.cur.sent[k] = max(w.cur.sent[k], s.Seq)
		}
	}
	w.mu.Unlock()
	close(b.done)
	if len(failed)+len(failedSent) > 0 && stop != nil {
		select {
		case <-time.After(200 * time.Millisecond):
		case <-stop:
		}
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
}
