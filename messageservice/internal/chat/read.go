// Read state (issue 14): a read frame (or MarkRead) stores the user's read
// seq through the DataService, where it never moves back, then tells the
// user's other devices (a `read` frame with the user's own id), the peer of
// a 1:1 (the same frame), and the senders of a group's recent messages (an
// aggregated `receipt`, receipts.go). Subscription and system reads are
// stored and mirrored only.

package chat

import (
	"context"
	"fmt"

	"github.com/privateim/privateim/foundation/conv"

	"github.com/privateim/privateim/messageservice/internal/frame"
)

// Read stores f's read seq and tells the others (markRead); this
// connection gets nothing back but errors.
func (ss *Session) Read(ctx context.Context, f *frame.Read) error {
	_, err := ss.svc.markRead(ctx, ss.user, f.Conversation, f.Seq, ss)
	return err
}

// MarkRead does what a read frame of user does, for a caller without a
// connection (the userservice's POST /api/v1/conversations/{c}/read):
// every connection of the user gets the mirrored read frame. It returns
// the stored read seq.
func (s *Service) MarkRead(ctx context.Context, user int64, conversation string, seq int64) (int64, error) {
	return s.markRead(ctx, user, conversation, seq, nil)
}

// markRead checks that user may read conversation up to seq: a participant
// (ErrNotMember), of a 1:1 only with a friend and no blacklist either way
// (ErrNotFriends, ErrBlocked), in a group not before the join seq
// (ErrBeforeJoin); the store refuses a seq past the head (ErrReadAhead)
// and nothing is stored. The stored read seq (which may be above seq) goes
// to every connection of user but except, and of a 1:1's peer; a group
// read that moved it schedules the senders' receipts.
func (s *Service) markRead(ctx context.Context, user int64, name string, seq int64, except *Session) (int64, error) {
	if seq < 1 {
		return 0, ErrBadSeq
	}
	users, err := s.participants(ctx, user, name)
	if err != nil {
		return 0, err
	}
	c, err := conv.Parse(name)
	if err != nil {
		return 0, err
	}
	if c.Kind == conv.KindUser {
		if err := s.directAllowed(ctx, user, c); err != nil {
			return 0, err
		}
	}
	floor, err := s.readFloor(ctx, user, name)
	if err != nil {
		return 0, err
	}
	if seq < floor {
		return 0, ErrBeforeJoin
	}
	stored, changed, err := s.store.SetReadSeq(ctx, user, name, seq)
	if err != nil {
		return 0, fmt.Errorf("store read seq of %s: %w", name, err)
	}
	b := frame.Marshal(frame.ReadReceipt{Type: "read", Conversation: name, Seq: stored, User: frame.FormatID(user)})
	to := []int64{user}
	if c.Kind == conv.KindUser {
		to = users // both: the peer and the reader's other devices
	}
	s.fanout(to, except, Delivery{Users: to, Frame: b})
	if c.Kind == conv.KindGroup && changed {
		s.receipts.touch(receiptKey{conv: name}, stored)
	}
	return stored, nil
}
