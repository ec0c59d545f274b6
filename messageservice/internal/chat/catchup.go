// Catch-up on connect (everything after the device's cursors, before live
// frames) and gap fill (live messages that skipped a seq).

package chat

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/privateim/privateim/foundation/conv"

	"github.com/privateim/privateim/messageservice/internal/frame"
)

// fillGap reads the messages missing before the frames waiting in ahead.
func (ss *Session) fillGap(conv string) {
	ss.mu.Lock()
	cs := ss.convs[conv]
	if ss.closed || cs == nil || len(cs.ahead) == 0 {
		if cs != nil {
			cs.filling = false
		}
		ss.mu.Unlock()
		return
	}
	from, to := cs.delivered, int64(0)
	for seq := range cs.ahead {
		if to == 0 || seq < to {
			to = seq
		}
	}
	ss.mu.Unlock()
	ctx, cancel := context.WithTimeout(ss.ctx, 10*time.Second)
	floor, err := ss.svc.readFloor(ctx, ss.user, conv)
	// No longer a member (removed, left, the group dismissed, while the
	// gap was open, or during catch-up): the gap is not theirs to read.
	gone := errors.Is(err, ErrNotMember) || errors.Is(err, ErrNoSuchTarget)
	var msgs []Message
	if err == nil {
		// Never fill from before the member's join seq.
		if from = max(from, floor-1); to-from-1 > 0 {
			msgs, _, err = ss.svc.store.Messages(ctx, conv, from, int(min(to-from-1, 1000)))
		}
	}
	cancel()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return
	}
	switch {
	case gone:
		// What waits was fanned out to them (the notice of the end among
		// it) and goes out now, past the gap; asking again would fail
		// forever and the notice would never arrive.
		if to > cs.delivered {
			b := cs.ahead[to]
			delete(cs.ahead, to)
			cs.delivered = to - 1
			ss.sendLocked(cs, to, b)
		}
	case err != nil:
		ss.svc.log.Warn("fill delivery gap", "user", ss.user, "conversation", conv, "err", err)
	case from > cs.delivered:
		cs.delivered = from // what lies before the join seq is not the member's
	}
	for _, m := range msgs {
		if m.Seq == cs.delivered+1 {
			ss.sendLocked(cs, m.Seq, frame.Marshal(messageFrame(m, "message")))
		}
	}
	if len(cs.ahead) > 0 {
		time.AfterFunc(ss.svc.opt.GapWait, func() { ss.fillGap(conv) })
		return
	}
	cs.filling = false
}

// catchUp sends, per conversation of the user, everything after the
// device's acked seq, then lets live frames through.
func (ss *Session) catchUp() {
	defer ss.svc.catching.Add(-1)
	if err := ss.doCatchUp(); err != nil {
		if ss.ctx.Err() == nil {
			ss.svc.log.Error("catch up", "user", ss.user, "device", ss.device, "err", err)
			ss.t.Close(1011, "internal error")
		}
		return
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return
	}
	ss.catching = false
	for _, cs := range ss.convs {
		// Messages this connection sent during catch-up that catch-up did
		// not read back: it has them; mark them so that they are skipped,
		// not read from the DataService as a gap.
		for seq := range cs.own {
			if seq > cs.delivered {
				if cs.ahead == nil {
					cs.ahead = make(map[int64][]byte)
				}
				cs.ahead[seq] = nil
			}
		}
		cs.own = nil
		if b, ok := cs.ahead[cs.delivered+1]; ok {
			delete(cs.ahead, cs.delivered+1)
			ss.sendLocked(cs, cs.delivered+1, b)
		}
	}
	ss.releaseLocked()
}

// releaseLocked sends the live frames held, unless the session is still
// catching up or its token is being checked again.
func (ss *Session) releaseLocked() {
	if ss.catching || ss.held {
		return
	}
	for _, f := range ss.queued {
		ss.pushLocked(f.conv, f.seq, f.b)
	}
	ss.queued = nil
}

func (ss *Session) doCatchUp() error {
	ctx := ss.ctx
	st := ss.svc.store
	// Acks this node took are written before they are read back.
	if err := ss.svc.cursors.sync(ctx); err != nil {
		return fmt.Errorf("cursors: %w", err)
	}
	start, err := st.SessionStart(ctx, ss.user)
	if err != nil {
		return fmt.Errorf("session start: %w", err)
	}
	convs := map[string]bool{conv.System(ss.user).String(): true}
	for _, f := range start.Friends {
		convs[conv.Direct(ss.user, f).String()] = true
	}
	for _, g := range start.Groups {
		convs[conv.Group(g).String()] = true
	}
	for _, sub := range start.Following {
		convs[conv.Subscription(sub).String()] = true
	}
	cursors := start.Cursors
	mine, best := map[string]int64{}, map[string]int64{}
	seen := false
	current := maps.Clone(convs) // the user's conversations now
	for _, c := range cursors {
		// A cursor outlives membership: a group left, a subscription
		// unfollowed. Only 1:1s (no message reaches ex-friends) and the
		// conversations the user is part of now are caught up.
		if !current[c.Conversation] && !conv.IsDirect(c.Conversation) {
			continue
		}
		convs[c.Conversation] = true
		best[c.Conversation] = max(best[c.Conversation], c.Acked)
		if c.Device == ss.device {
			seen = true
			mine[c.Conversation] = c.Acked
		}
	}
	// A device seen for the first time starts after the highest seq any of
	// the user's devices acked; its cursors are written now so that the
	// start stays put when it reconnects before acking.
	base := mine
	if !seen {
		base = best
		sys := conv.System(ss.user).String()
		start := []CursorAdvance{{User: ss.user, Device: ss.device, Conversation: sys, Delivered: best[sys], Acked: best[sys]}}
		for name, acked := range best {
			if name != sys {
				start = append(start, CursorAdvance{User: ss.user, Device: ss.device, Conversation: name, Delivered: acked, Acked: acked})
			}
		}
		for len(start) > 0 {
			n := min(len(start), maxCursorCall)
			if err := st.AdvanceCursors(ctx, start[:n], nil); err != nil {
				return fmt.Errorf("start cursors: %w", err)
			}
			start = start[n:]
		}
	}
	names := make([]string, 0, len(convs))
	for c := range convs {
		names = append(names, c)
	}
	slices.Sort(names)
	heads, err := st.Heads(ctx, names)
	if err != nil {
		return fmt.Errorf("heads: %w", err)
	}
	// A group member starts at their join seq (history "joined"): a new
	// device, a cursor from an earlier membership, or none at all.
	for _, g := range start.Groups {
		name := conv.Group(g).String()
		if heads[name] <= base[name] {
			continue
		}
		floor, err := ss.svc.readFloor(ctx, ss.user, name)
		if errors.Is(err, ErrNotMember) || errors.Is(err, ErrNoSuchTarget) {
			delete(heads, name) // left meanwhile: nothing to catch up
			continue
		}
		if err != nil {
			return fmt.Errorf("join seq in %s: %w", name, err)
		}
		base[name] = max(base[name], floor-1)
	}
	// What the user deleted for themselves (delete for me) is not sent.
	var behind []string
	for _, name := range names {
		if heads[name] > base[name] {
			behind = append(behind, name)
		}
	}
	if len(behind) > 0 {
		cleared, err := st.ClearedSeqs(ctx, ss.user, behind)
		if err != nil {
			return fmt.Errorf("cleared seqs: %w", err)
		}
		for name, seq := range cleared {
			base[name] = max(base[name], seq)
		}
	}
	ss.mu.Lock()
	for _, name := range names {
		cs := ss.conv(name)
		cs.known = true
		cs.delivered = max(cs.delivered, base[name])
		cs.acked = max(cs.acked, base[name])
	}
	ss.mu.Unlock()
	for _, name := range names {
		after := base[name]
		for heads[name] > after {
			msgs, more, err := st.Messages(ctx, name, after, frame.MaxSyncLimit)
			if err != nil {
				return fmt.Errorf("messages of %s: %w", name, err)
			}
			for _, m := range msgs {
				b := frame.Marshal(messageFrame(m, "message"))
				ss.mu.Lock()
				if ss.closed {
					ss.mu.Unlock()
					return ctx.Err()
				}
				cs := ss.conv(name)
				mine := m.SenderID == ss.user && ss.sending[m.ClientMsgID] > 0
				fresh := m.Seq > cs.delivered && !cs.own[m.Seq] && !mine
				if m.Seq > cs.delivered {
					cs.delivered = m.Seq
				}
				if fresh {
					ss.holdLocked(cs, m.Seq, b)
					ss.svc.deliveries.Add(1)
				}
				ss.mu.Unlock()
				if fresh {
					if err := ss.t.SendWait(ctx, b); err != nil {
						return err
					}
				}
				after = m.Seq
			}
			if !more || len(msgs) == 0 {
				break
			}
		}
	}
	// Read state and receipts as they stand now, after the messages they
	// are about. A failure here costs the device only these frames.
	frames, err := ss.catchUpReceipts(ctx, current)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		ss.svc.log.Warn("catch-up receipts", "user", ss.user, "err", err)
	}
	for _, b := range frames {
		if err := ss.t.SendWait(ctx, b); err != nil {
			return err
		}
	}
	return nil
}
