// Frames of a connection after the send: ack (cursor) and sync (history);
// read is in read.go.

package chat

import (
	"context"
	"fmt"

	"github.com/privateim/privateim/messageservice/internal/frame"
)

// Ack moves this device's cursor to seq (cumulative) and stops redelivery
// of what it covers on this connection. The cursor is written by the
// node's cursor writer, coalesced with other acks (cursors.go).
func (ss *Session) Ack(ctx context.Context, f *frame.Ack) error {
	ss.mu.Lock()
	cs := ss.convs[f.Conversation]
	if cs == nil || f.Seq > cs.delivered {
		// Not sent on this connection (yet): an ack of what an earlier
		// connection of the device had, sent again by catch-up soon. Take
		// it when the user takes part in the conversation and the seq
		// exists, so that a cursor never names another's conversation or
		// a seq past the head.
		ss.mu.Unlock()
		if _, err := ss.svc.participants(ctx, ss.user, f.Conversation); err != nil {
			return err
		}
		heads, err := ss.svc.store.Heads(ctx, []string{f.Conversation})
		if err != nil {
			return fmt.Errorf("head of %s: %w", f.Conversation, err)
		}
		if f.Seq > heads[f.Conversation] {
			return ErrAckAhead
		}
		ss.mu.Lock()
		cs = ss.conv(f.Conversation)
	}
	n := 0
	for n < len(cs.pending) && cs.pending[n].seq <= f.Seq {
		n++
	}
	if n > 0 {
		clear(cs.pending[:n])
		cs.pending = cs.pending[n:]
		ss.svc.pending.Add(int64(-n))
	}
	moved := f.Seq > cs.acked
	cs.acked = max(cs.acked, f.Seq)
	delivered := cs.delivered
	ss.mu.Unlock()
	a := CursorAdvance{User: ss.user, Device: ss.device, Conversation: f.Conversation, Delivered: delivered, Acked: f.Seq}
	if err := ss.svc.cursors.advance(ctx, a); err != nil {
		return fmt.Errorf("advance cursor: %w", err)
	}
	if moved {
		ss.svc.delivered(ss.user, f.Conversation, f.Seq)
	}
	return nil
}

// Sync returns the history frame of a conversation after f.AfterSeq.
func (ss *Session) Sync(ctx context.Context, f *frame.Sync) ([]byte, error) {
	if _, err := ss.svc.participants(ctx, ss.user, f.Conversation); err != nil {
		return nil, err
	}
	floor, err := ss.svc.readFloor(ctx, ss.user, f.Conversation)
	if err != nil {
		return nil, err
	}
	// Below the member's join seq is clamped, not refused: the history
	// simply starts where the member's does. What the user deleted for
	// themselves is left out the same way, by History in the page's own
	// round trip.
	msgs, reactions, more, err := ss.svc.store.History(ctx, f.Conversation, max(f.AfterSeq, floor-1), f.Limit, ss.user)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", f.Conversation, err)
	}
	h := frame.History{Type: "history", Conversation: f.Conversation, Messages: make([]frame.Message, len(msgs)), HasMore: more}
	for i, m := range msgs {
		h.Messages[i] = messageFrame(m, "")
		for _, rc := range reactions[m.Seq] {
			h.Messages[i].Reactions = append(h.Messages[i].Reactions, frame.ReactionCount{Emoji: rc.Emoji, Count: rc.Count, Me: rc.Me})
		}
	}
	return frame.Marshal(h), nil
}
