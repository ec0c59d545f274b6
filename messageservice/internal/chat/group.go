// Delivery of a group's system messages, stored by the userservice
// through the DataService together with the group change they describe.

package chat

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/privateim/privateim/foundation/conv"

	"github.com/privateim/privateim/messageservice/internal/frame"
)

// MaxDeliverSeqs bounds the messages of one DeliverGroup.
const MaxDeliverSeqs = 100

// DeliverGroup hands the stored messages seqs of group's conversation to
// the connections, on every node, of the group's members and of also
// (users the change took out, who are told of it too). It first drops
// this node's cached state of the group, so the members and moderation it
// delivers to and judges the next send by are read after the change (the
// other nodes drop theirs on the GROUP_CHANGED or membership relation
// event). Messages go out in seq order; a session that got later ones of
// the conversation first fills the gap from the DataService and drops
// what it already delivered, so nothing arrives twice or out of order.
// ErrNoSuchTarget for an unknown group; a dismissed one delivers to also.
func (s *Service) DeliverGroup(ctx context.Context, group int64, seqs, also []int64) error {
	s.grps.forget(group)
	_, members, err := s.grps.members(ctx, group, 0)
	if err != nil {
		return err
	}
	to := slices.Clone(members)
	for _, u := range also {
		if !slices.Contains(to, u) {
			to = append(to, u)
		}
	}
	return s.deliverStored(ctx, conv.Group(group).String(), seqs, to)
}

// deliverStored hands the stored messages seqs of conversation name to the
// connections of to on every node, in seq order; ErrNotStored when a seq is
// not stored.
func (s *Service) deliverStored(ctx context.Context, name string, seqs, to []int64) error {
	seqs = slices.Clone(seqs)
	slices.Sort(seqs)
	seqs = slices.Compact(seqs)
	first, last := seqs[0], seqs[len(seqs)-1]
	msgs, _, err := s.store.Messages(ctx, name, first-1, int(last-first+1))
	if err != nil {
		return fmt.Errorf("read %s %d..%d: %w", name, first, last, err)
	}
	sent := 0
	for _, m := range msgs {
		if _, ok := slices.BinarySearch(seqs, m.Seq); !ok {
			continue
		}
		s.fanout(to, nil, Delivery{Users: to, Conv: name, Seq: m.Seq, Frame: frame.Marshal(messageFrame(m, "message"))})
		sent++
	}
	if sent < len(seqs) {
		return fmt.Errorf("deliver %s: %d of %d seqs are not stored: %w", name, len(seqs)-sent, len(seqs), ErrNotStored)
	}
	return nil
}

// TellUser hands f, a frame that is not stored, to every connection of
// user on every node.
func (s *Service) TellUser(user int64, f []byte) {
	to := []int64{user}
	s.fanout(to, nil, Delivery{Users: to, Frame: f})
}

// ErrNotStored: DeliverGroup named a seq the conversation does not hold.
var ErrNotStored = errors.New("message not stored")

// DeliverUser hands the stored messages seqs of user's own conversation
// sys:<user> (the notices about their group join requests and invites,
// stored by the userservice through the DataService with the change) to
// the user's connections on every node, as DeliverGroup does for a group.
// ErrNotStored when a seq is not stored.
func (s *Service) DeliverUser(ctx context.Context, user int64, seqs []int64) error {
	return s.deliverStored(ctx, conv.System(user).String(), seqs, []int64{user})
}
