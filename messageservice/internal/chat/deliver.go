// Live delivery to one Session: in seq order per conversation, held while
// the session catches up, and redelivered until acked.

package chat

import (
	"slices"
	"time"
)

// deliverLive hands a live message to the session: held while it catches
// up or its token is checked again (revoke.go), else sent at once unless
// already delivered.
func (ss *Session) deliverLive(conv string, seq int64, b []byte) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return
	}
	if ss.catching || ss.held {
		if len(ss.queued) >= ss.svc.opt.CatchUpQueue {
			ss.queued = nil
			go ss.t.Close(CloseQueueFull, "catch-up queue full")
			return
		}
		ss.queued = append(ss.queued, liveFrame{conv, seq, b})
		return
	}
	ss.pushLocked(conv, seq, b)
}

// pushLocked sends a live message frame in seq order: unless this
// connection had it; past a gap (a message of another node's fan-out not
// here yet) it waits in ahead, and the gap is read from the DataService
// when it does not fill within GapWait.
func (ss *Session) pushLocked(conv string, seq int64, b []byte) {
	cs := ss.conv(conv)
	if !cs.known {
		// A conversation that was not caught up on connect (a new friend,
		// a group joined since): its first live message is the start.
		cs.known = true
		cs.delivered = max(cs.delivered, seq-1)
	}
	if seq <= cs.delivered {
		return
	}
	if seq > cs.delivered+1 {
		if cs.ahead == nil {
			cs.ahead = make(map[int64][]byte)
		}
		cs.ahead[seq] = b
		if !cs.filling {
			cs.filling = true
			time.AfterFunc(ss.svc.opt.GapWait, func() { ss.fillGap(conv) })
		}
		return
	}
	ss.sendLocked(cs, seq, b)
}

// sendLocked sends the next message of cs and any that waited behind it.
// A nil frame in ahead is a message this connection sent itself.
func (ss *Session) sendLocked(cs *convState, seq int64, b []byte) {
	for {
		cs.delivered = seq
		if b != nil { // nil: the connection's own message, it has it
			ss.t.Send(b)
			ss.svc.deliveries.Add(1)
			ss.holdLocked(cs, seq, b)
		}
		seq++
		var ok bool
		if b, ok = cs.ahead[seq]; !ok {
			return
		}
		delete(cs.ahead, seq)
	}
}

func (ss *Session) holdLocked(cs *convState, seq int64, b []byte) {
	cs.pending = append(cs.pending, pending{seq: seq, b: b, tries: 1, due: time.Now().Add(ss.svc.opt.RetryInterval)})
	ss.svc.pending.Add(1)
	if !ss.armed {
		ss.armed = true
		if ss.timer == nil {
			ss.timer = time.AfterFunc(ss.svc.opt.RetryInterval, ss.redeliver)
		} else {
			ss.timer.Reset(ss.svc.opt.RetryInterval)
		}
	}
}

// redeliver sends again what is due; a message sent MaxTries times is
// dropped here and stays pending for the device (its cursor is not acked),
// so the next connection of the device gets it.
func (ss *Session) redeliver() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return
	}
	now := time.Now()
	var next time.Time
	names := make([]string, 0, len(ss.convs))
	for name, cs := range ss.convs {
		if len(cs.pending) > 0 {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		cs := ss.convs[name]
		kept := cs.pending[:0]
		for _, p := range cs.pending {
			if !p.due.After(now) {
				if p.tries >= ss.svc.opt.MaxTries {
					ss.svc.pending.Add(-1)
					continue
				}
				ss.t.Send(p.b)
				ss.svc.opt.Metrics.Redeliveries.Inc()
				p.tries++
				p.due = now.Add(ss.svc.opt.RetryInterval)
			}
			if next.IsZero() || p.due.Before(next) {
				next = p.due
			}
			kept = append(kept, p)
		}
		clear(cs.pending[len(kept):])
		cs.pending = kept
	}
	if next.IsZero() {
		ss.armed = false
		return
	}
	ss.timer.Reset(next.Sub(now))
}
