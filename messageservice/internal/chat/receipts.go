// Receipts of group messages (issue 14): aggregated counts to the senders'
// devices, at most one round per group conversation per ReceiptWindow on
// this node; and `delivered` of 1:1s. Both are derived from what the
// DataService stores: read seqs (conversation_states) and cursors.

package chat

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/privateim/privateim/foundation/conv"

	"github.com/privateim/privateim/messageservice/internal/frame"
	"github.com/privateim/privateim/messageservice/internal/lockorder"
)

const (
	// ReceiptWindow is how long a group's reads and acks are gathered
	// before its senders get their receipts: a busy group's members read
	// and ack every message, and each would otherwise cost a count.
	ReceiptWindow = time.Second
	// receiptLookback: the senders of the last this many messages up to
	// the read or acked seq get a receipt of their latest one.
	receiptLookback = 200
	// maxReceiptSenders bounds one round: each sender costs a blacklist
	// read (who blacklisted them is left out of their counts).
	maxReceiptSenders = 20
	// catchUpReceiptConvs: a connect tells the latest state of this many
	// of the user's most recently active conversations.
	catchUpReceiptConvs = 200
)

// receiptKey names a round: a group conversation's receipts (user 0), or
// the delivered frame of user's acks in a 1:1.
type receiptKey struct {
	conv string
	user int64
}

// receiptQueue holds the rounds due. Owner: Service. mu is a leaf; a round
// runs on its own timer goroutine, one per key at a time, and stops with
// the Service's context.
type receiptQueue struct {
	svc *Service
	mu  lockorder.Mutex
	due map[receiptKey]int64 // highest seq read or acked since the key's round was scheduled
}

func newReceiptQueue(s *Service) *receiptQueue {
	return &receiptQueue{svc: s, mu: lockorder.Mutex{Rank: lockorder.Leaf}, due: map[receiptKey]int64{}}
}

// touch schedules k's round covering seq, or joins the one scheduled.
func (q *receiptQueue) touch(k receiptKey, seq int64) {
	q.mu.Lock()
	if cur, ok := q.due[k]; ok {
		q.due[k] = max(cur, seq)
		q.mu.Unlock()
		return
	}
	q.due[k] = seq
	q.mu.Unlock()
	time.AfterFunc(ReceiptWindow, func() { q.run(k) })
}

func (q *receiptQueue) run(k receiptKey) {
	q.mu.Lock()
	upto := q.due[k]
	delete(q.due, k)
	q.mu.Unlock()
	s := q.svc
	if s.ctx.Err() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	if k.user != 0 {
		s.sendDelivered(ctx, k.user, k.conv, upto)
		return
	}
	if err := s.groupReceipts(ctx, k.conv, upto); err != nil && s.ctx.Err() == nil {
		s.log.Warn("group receipts", "conversation", k.conv, "seq", upto, "err", err)
	}
}

// groupReceipts sends each sender of the last receiptLookback messages up
// to upto a receipt of their latest one: how many others read it and how
// many have it on a device, leaving out those who blacklisted the sender.
func (s *Service) groupReceipts(ctx context.Context, name string, upto int64) error {
	// Acks this node took count as delivered: write them first.
	if err := s.cursors.sync(ctx); err != nil {
		return err
	}
	msgs, _, err := s.store.Messages(ctx, name, max(0, upto-receiptLookback), receiptLookback)
	if err != nil {
		return err
	}
	latest := map[int64]int64{}
	for _, m := range msgs {
		if m.Seq <= upto && m.SenderID != 0 {
			latest[m.SenderID] = max(latest[m.SenderID], m.Seq)
		}
	}
	type sent struct{ sender, seq int64 }
	var senders []sent
	for u, seq := range latest {
		senders = append(senders, sent{u, seq})
	}
	slices.SortFunc(senders, func(a, b sent) int { return cmp.Compare(b.seq, a.seq) })
	senders = senders[:min(len(senders), maxReceiptSenders)]
	if len(senders) == 0 {
		return nil
	}
	qs := make([]ReceiptQuery, len(senders))
	for i, x := range senders {
		blockers, err := s.store.BlacklistedBy(ctx, x.sender)
		if err != nil {
			return err
		}
		qs[i] = ReceiptQuery{Conversation: name, Seq: x.seq, Exclude: append([]int64{x.sender}, blockers...)}
	}
	counts, err := s.store.CountReceipts(ctx, qs)
	if err != nil {
		return err
	}
	for i, x := range senders {
		b := frame.Marshal(frame.Receipt{Type: "receipt", Conversation: name, Seq: x.seq, ReadCount: counts[i].Read, DeliveredCount: counts[i].Delivered})
		s.fanout([]int64{x.sender}, nil, Delivery{Users: []int64{x.sender}, Frame: b})
	}
	return nil
}

// delivered tells that a device of user acked conversation up to seq: a
// round of the 1:1's delivered frame or of the group's receipts is due.
// Acks come with every message, so a round covers a ReceiptWindow of them.
func (s *Service) delivered(user int64, name string, seq int64) {
	c, err := conv.Parse(name)
	if err != nil {
		return
	}
	switch c.Kind {
	case conv.KindGroup:
		s.receipts.touch(receiptKey{conv: name}, seq)
	case conv.KindUser:
		s.receipts.touch(receiptKey{conv: name, user: user}, seq)
	}
}

// sendDelivered gives the peer of a 1:1 a `delivered` frame: a device of
// user has the conversation up to seq. None across a blacklist or without
// the friendship.
func (s *Service) sendDelivered(ctx context.Context, user int64, name string, seq int64) {
	c, err := conv.Parse(name)
	if err != nil || c.Kind != conv.KindUser {
		return
	}
	if s.directAllowed(ctx, user, c) != nil {
		return
	}
	peer := c.A
	if peer == user {
		peer = c.B
	}
	b := frame.Marshal(frame.Delivered{Type: "delivered", Conversation: name, Seq: seq, User: frame.FormatID(user)})
	s.fanout([]int64{peer}, nil, Delivery{Users: []int64{peer}, Frame: b})
}

// catchUpReceipts are the frames a connecting device gets after its
// messages: per conversation among the user's catchUpReceiptConvs most
// recently active ones (current: the user takes part now), the user's own
// read seq (`read`) where it is past the user's last message, and where the user sent, the peer's `read` and
// `delivered` (1:1) or the `receipt` counts of the user's last message
// (group), as they stand now.
func (ss *Session) catchUpReceipts(ctx context.Context, current map[string]bool) ([][]byte, error) {
	s := ss.svc
	states, err := s.store.ReadStates(ctx, ss.user)
	if err != nil {
		return nil, err
	}
	states = slices.DeleteFunc(states, func(st ReadState) bool { return !current[st.Conversation] })
	slices.SortFunc(states, func(a, b ReadState) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
	states = states[:min(len(states), catchUpReceiptConvs)]
	self := frame.FormatID(ss.user)
	var out [][]byte
	var peers []PeerReceipt
	var groups []ReceiptQuery
	var blockers []int64
	blockersRead := false
	for _, st := range states {
		// Reading by sending is what this device knows already: the own
		// read seq is told only when another device read further.
		if st.ReadSeq > st.LastSentSeq {
			out = append(out, frame.Marshal(frame.ReadReceipt{Type: "read", Conversation: st.Conversation, Seq: st.ReadSeq, User: self}))
		}
		if st.LastSentSeq == 0 {
			continue
		}
		c, err := conv.Parse(st.Conversation)
		if err != nil {
			continue
		}
		switch c.Kind {
		case conv.KindUser:
			if s.directAllowed(ctx, ss.user, c) != nil {
				continue
			}
			peer := c.A
			if peer == ss.user {
				peer = c.B
			}
			peers = append(peers, PeerReceipt{Conversation: st.Conversation, User: peer})
		case conv.KindGroup:
			if !blockersRead {
				if blockers, err = s.store.BlacklistedBy(ctx, ss.user); err != nil {
					return nil, err
				}
				blockersRead = true
			}
			groups = append(groups, ReceiptQuery{Conversation: st.Conversation, Seq: st.LastSentSeq, Exclude: append([]int64{ss.user}, blockers...)})
		}
	}
	if len(peers) > 0 {
		got, err := s.store.PeerReceipts(ctx, peers)
		if err != nil {
			return nil, err
		}
		for _, r := range got {
			if r.ReadSeq > 0 {
				out = append(out, frame.Marshal(frame.ReadReceipt{Type: "read", Conversation: r.Conversation, Seq: r.ReadSeq, User: frame.FormatID(r.User)}))
			}
			if r.DeliveredSeq > 0 {
				out = append(out, frame.Marshal(frame.Delivered{Type: "delivered", Conversation: r.Conversation, Seq: r.DeliveredSeq, User: frame.FormatID(r.User)}))
			}
		}
	}
	if len(groups) > 0 {
		counts, err := s.store.CountReceipts(ctx, groups)
		if err != nil {
			return nil, err
		}
		for i, q := range groups {
			out = append(out, frame.Marshal(frame.Receipt{Type: "receipt", Conversation: q.Conversation, Seq: q.Seq, ReadCount: counts[i].Read, DeliveredCount: counts[i].Delivered}))
		}
	}
	return out, nil
}
