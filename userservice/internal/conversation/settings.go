package conversation

import (
	"context"
	"fmt"

	"github.com/privateim/privateim/foundation/conv"
	"github.com/privateim/privateim/foundation/errs"
)

// takesPart checks that user takes part in n: one of the two of a 1:1
// whose other one exists, a member of a group, a follower of a
// subscription, the owner of a system conversation. ErrNotFound
// otherwise, for an unknown one alike.
func (s *Service) takesPart(ctx context.Context, user int64, n Name) error {
	var ok bool
	var err error
	switch n.Kind {
	case conv.KindUser:
		if user != n.A && user != n.B {
			return ErrNotFound
		}
		peer := n.A
		if peer == user {
			peer = n.B
		}
		ok, err = s.store.UserExists(ctx, peer)
	case conv.KindGroup:
		ok, err = s.store.IsMember(ctx, n.A, user)
	case conv.KindSubscription:
		ok, err = s.store.Follows(ctx, n.A, user)
	case conv.KindSystem:
		ok = n.A == user
	}
	if err != nil {
		return fmt.Errorf("does %d take part in %s: %w", user, n, err)
	}
	if !ok {
		return ErrNotFound
	}
	return nil
}

// MarkRead moves user's read seq in conversation to seq (never back) the
// way a read frame does, through the messageservice: 400 conversation or
// seq for a malformed name or a seq below 1, ErrNotFound for one the user
// takes no part in (checked here first: nothing leaves for a foreign one),
// 400 seq past the last message or before the user joined the group,
// ErrReadRefused without friendship or with a blacklist. It returns the
// stored read seq.
func (s *Service) MarkRead(ctx context.Context, user int64, conversation string, seq int64) (int64, error) {
	n, err := ParseName(conversation)
	if err != nil {
		return 0, err
	}
	if seq < 1 {
		return 0, errs.Invalid("seq", "must be a whole number >= 1")
	}
	if err := s.takesPart(ctx, user, n); err != nil {
		return 0, err
	}
	return s.marker.MarkRead(ctx, user, n.String(), seq)
}

// Changed is a conversation's settings after Update.
type Changed struct {
	Conversation          string
	Muted, Pinned, Hidden bool
}

// Update applies set to user's settings of conversation and tells the
// user's devices (Notifier; a failure is logged: the change is stored).
// hidden hides the conversation from the list until its next message.
func (s *Service) Update(ctx context.Context, user int64, conversation string, set Settings) (Changed, error) {
	n, err := ParseName(conversation)
	if err != nil {
		return Changed{}, err
	}
	if set.Muted == nil && set.Pinned == nil && set.Hidden == nil {
		return Changed{}, &errs.Error{Kind: errs.KindInvalid, Code: "required", Message: "set at least one of muted, pinned, hidden", Field: "muted"}
	}
	if err := s.takesPart(ctx, user, n); err != nil {
		return Changed{}, err
	}
	st, err := s.store.UpdateSettings(ctx, user, n.String(), set)
	if err != nil {
		return Changed{}, fmt.Errorf("update settings of %d in %s: %w", user, n, err)
	}
	c := Changed{Conversation: n.String(), Muted: st.Muted, Pinned: st.Pinned, Hidden: st.HiddenSeq > 0}
	if err := s.notify.ConversationChanged(ctx, user, c.Conversation, c.Muted, c.Pinned, c.Hidden); err != nil {
		s.log.WarnContext(ctx, "conversation settings: tell the devices", "user", user, "conversation", c.Conversation, "err", err)
	}
	return c, nil
}
