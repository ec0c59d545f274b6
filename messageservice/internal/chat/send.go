// The send pipeline of one connection: authorize, queue for the append
// worker, fan out in seq order, answer `sent`.

package chat

import (
	"context"
	"fmt"
	"time"

	"github.com/privateim/privateim/messageservice/internal/frame"
)

// maxInFlight bounds the sends of one connection queued for storing at
// once: a connection keeps several in flight, so that its messages share
// batches, but cannot flood the append workers.
const maxInFlight = 16

// Send authorizes f and queues it for storing behind this connection's
// earlier sends, then returns; ctx bounds only that part. reply gets the
// `sent` frame (the same for a re-sent client_msg_id) or the error, once:
// from the append worker after the message is stored and fanned out, or
// before Send returns. Messages of one connection get seqs in the order
// of its Send calls. With maxInFlight sends of the connection queued,
// Send waits for one to finish.
func (ss *Session) Send(ctx context.Context, f *frame.Send, reply func(sent []byte, err error)) {
	s := ss.svc
	if err := s.checkFileURL(f); err != nil {
		reply(nil, err)
		return
	}
	conv, receivers, err := s.authorize(ctx, ss.user, f)
	if err != nil {
		reply(nil, err)
		return
	}
	if err := s.checkContent(ctx, ss.user, conv, receivers, f); err != nil {
		reply(nil, err)
		return
	}
	content := f.Content.Encode()
	var mentions []int64
	if f.To.Kind == "group" {
		mentions = mentioned(ss.user, receivers, &f.Content)
	}
	ss.submitThen(ctx, receivers, AppendRequest{
		Conversation: conv, SenderID: ss.user, ClientMsgID: f.ClientMsgID, Kind: f.Content.Kind, Content: content,
	}, func(m Message) {
		// A re-sent message too: its first mentions may have been lost
		// with a node, and writing them again changes nothing.
		s.mentions.add(m.Conversation, m.Seq, mentions)
	}, reply)
}

// submit queues r, a message of the session's user to receivers, for
// storing behind this connection's earlier sends (Send's order and
// answer): fanned out in seq order once stored, then `sent` or the error
// to reply.
func (ss *Session) submit(ctx context.Context, receivers []int64, r AppendRequest, reply func(sent []byte, err error)) {
	ss.submitThen(ctx, receivers, r, nil, reply)
}

// submitThen is submit with stored (when set) run on the append worker
// once the message is stored (or found stored: a re-send), before reply;
// it must not block.
func (ss *Session) submitThen(ctx context.Context, receivers []int64, r AppendRequest, stored func(Message), reply func(sent []byte, err error)) {
	s := ss.svc
	conv := r.Conversation
	received := time.Now().UnixNano() // the start of the send-to-deliver latency
	// Only the connection's read loop calls Send: slots needs no lock.
	if ss.slots == nil {
		ss.slots = make(chan struct{}, maxInFlight)
	}
	slots := ss.slots
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		reply(nil, fmt.Errorf("append to %s: %w", conv, ctx.Err()))
		return
	}
	ss.mu.Lock()
	if ss.sending == nil {
		ss.sending = make(map[string]int)
	}
	ss.sending[r.ClientMsgID]++
	ss.mu.Unlock()
	id := r.ClientMsgID
	release := func() {
		ss.mu.Lock()
		if ss.sending[id]--; ss.sending[id] <= 0 {
			delete(ss.sending, id)
		}
		ss.mu.Unlock()
		<-slots
	}
	var advance bool
	var delivered int64
	err := s.appends.submit(ctx, r, func(m Message, dup bool) {
		// On the append worker, in the conversation's seq order.
		if !dup {
			s.messagesIn.Add(1)
		}
		// A duplicate is a re-send of a stored message whose sent frame
		// was lost: the first attempt may have been stored and then failed
		// (a timeout after the commit, a node killed before its fan-out),
		// so it is fanned out again. Every session drops seqs it has
		// delivered, so receivers that had it get nothing twice, and those
		// that did not get it now rather than at their next gap or
		// reconnect.
		b := frame.Marshal(messageFrame(m, "message"))
		s.fanout(receivers, ss, Delivery{Users: receivers, Conv: m.Conversation, Seq: m.Seq, Frame: b, Sent: received})
		// The sending connection holds it like any message it sent, so a
		// catch-up reading it back does not send it here.
		advance, delivered = ss.ownStored(m)
	}, func(m Message, dup bool, err error) {
		// On the append worker, after the fan-out.
		release()
		if err != nil {
			reply(nil, fmt.Errorf("append to %s: %w", conv, err))
			return
		}
		if stored != nil {
			stored(m)
		}
		// Sending reads the conversation up to one's own message.
		if err := s.cursors.sent(s.ctx, Sent{User: ss.user, Conversation: m.Conversation, Seq: m.Seq}); err != nil {
			s.log.Warn("move the sender's read seq", "user", ss.user, "conversation", m.Conversation, "err", err)
		}
		if advance {
			a := CursorAdvance{User: ss.user, Device: ss.device, Conversation: m.Conversation, Delivered: delivered, Acked: m.Seq}
			if err := s.cursors.advance(s.ctx, a); err != nil {
				s.log.Warn("advance cursor after send", "user", ss.user, "conversation", m.Conversation, "err", err)
			}
		}
		reply(sentFrame(m), nil)
	})
	if err != nil {
		release()
		reply(nil, err)
	}
}

// ownStored records on the sending connection a message it sent: it has
// it. It reports whether the device's cursor may move past it (nothing
// before it is outstanding here) and the connection's delivered seq.
func (ss *Session) ownStored(m Message) (advance bool, delivered int64) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return false, 0
	}
	if ss.catching {
		// Catch-up may read this message back: it must not send the
		// sending connection its own message.
		cs := ss.conv(m.Conversation)
		if cs.own == nil {
			cs.own = make(map[int64]bool)
		}
		cs.own[m.Seq] = true
		return false, 0
	}
	cs := ss.conv(m.Conversation)
	if !cs.known {
		cs.known = true
		cs.delivered = max(cs.delivered, m.Seq-1)
	}
	switch {
	case m.Seq == cs.delivered+1:
		ss.sendLocked(cs, m.Seq, nil)
	case m.Seq > cs.delivered+1:
		// Another node's message before it is still on its way.
		if cs.ahead == nil {
			cs.ahead = make(map[int64][]byte)
		}
		cs.ahead[m.Seq] = nil
		if !cs.filling {
			cs.filling = true
			conv := m.Conversation
			time.AfterFunc(ss.svc.opt.GapWait, func() { ss.fillGap(conv) })
		}
	}
	if cs.acked == m.Seq-1 && len(cs.pending) == 0 {
		cs.acked, advance = m.Seq, true
	}
	return advance, cs.delivered
}
