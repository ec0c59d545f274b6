// What a send's content may name beyond itself (docs/websocket.md
// "Content"): the message it replies to, the users it mentions, the
// message it forwards and the user or group of a card, each checked
// against what the sender may see before anything is stored.

package chat

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/privateim/privateim/foundation/conv"

	"github.com/privateim/privateim/messageservice/internal/frame"
)

// checkContent resolves and checks f's content for a send to name, whose
// participants are receivers: a forward gets the original's content, a
// reply must name a message the sender reads in name, mentions members of
// the group, mention_all needs the owner or an admin, a card an existing
// user or group. A refusal is a *frame.Error naming the field (bad_frame,
// or forbidden for mention_all); nothing is stored.
func (s *Service) checkContent(ctx context.Context, user int64, name string, receivers []int64, f *frame.Send) error {
	c := &f.Content
	bad := func(format string, args ...any) error {
		return &frame.Error{Code: frame.CodeBadFrame, ClientMsgID: f.ClientMsgID, Message: fmt.Sprintf(format, args...)}
	}
	// refuse names field when err is the sender's (a seqError); any other
	// error (the DataService) goes on as it is.
	refuse := func(field string, err error) error {
		var se seqError
		if errors.As(err, &se) {
			return bad("%s: %s", field, se)
		}
		return err
	}
	group := f.To.Kind == "group"
	if len(c.Mentions) > 0 || c.MentionAll {
		if !group {
			return bad("content.mentions: mentions are for group messages")
		}
		for i, id := range c.MentionIDs {
			if !slices.Contains(receivers, id) {
				return bad("content.mentions[%d]: user %d is not a member of the group", i, id)
			}
		}
	}
	if c.MentionAll {
		ok, err := s.grps.privileged(ctx, f.ToID, user)
		if err != nil {
			return err
		}
		if !ok {
			return &frame.Error{Code: frame.CodeForbidden, ClientMsgID: f.ClientMsgID,
				Message: "content.mention_all: only the group's owner and admins mention everyone"}
		}
	}
	if c.ReplyTo != nil {
		if _, err := s.readable(ctx, user, name, c.ReplyTo.Seq); err != nil {
			return refuse("content.reply_to.seq", err)
		}
	}
	if c.ForwardedFrom != nil {
		if err := s.forward(ctx, user, c); err != nil {
			return refuse("content.forwarded_from", err)
		}
	}
	if c.Kind == "card" {
		if err := s.cardExists(ctx, c.Card.Kind, c.CardID); err != nil {
			return refuse("content.card.id", err)
		}
	}
	return nil
}

// seqError is why a message named by a send cannot be used: said to the
// sender, never an internal cause.
type seqError string

func (e seqError) Error() string { return string(e) }

// readable returns message seq of conversation name when user may read
// it: a participant, at or after the member's join seq in a group whose
// history is "joined". A DataService failure is returned as it is.
func (s *Service) readable(ctx context.Context, user int64, name string, seq int64) (Message, error) {
	notYours := func(err error) error {
		if errors.Is(err, ErrNotMember) || errors.Is(err, ErrNoSuchTarget) || errors.Is(err, ErrNotFound) {
			return seqError("not a conversation you can read")
		}
		return fmt.Errorf("participants of %s: %w", name, err)
	}
	if _, err := s.participants(ctx, user, name); err != nil {
		return Message{}, notYours(err)
	}
	floor, err := s.readFloor(ctx, user, name)
	if err != nil {
		return Message{}, notYours(err)
	}
	if seq < floor {
		return Message{}, seqError(fmt.Sprintf("no message %d you can read", seq))
	}
	msgs, _, err := s.store.Messages(ctx, name, seq-1, 1)
	if err != nil {
		return Message{}, fmt.Errorf("message %s/%d: %w", name, seq, err)
	}
	if len(msgs) == 0 || msgs[0].Seq != seq {
		return Message{}, seqError(fmt.Sprintf("no message %d in %s", seq, name))
	}
	return msgs[0], nil
}

// forward fills c with the content of the message it forwards, which user
// must be able to read; c keeps its own common fields.
func (s *Service) forward(ctx context.Context, user int64, c *frame.Content) error {
	ref := c.ForwardedFrom
	if _, err := conv.Parse(ref.Conversation); err != nil {
		return seqError("no such conversation")
	}
	m, err := s.readable(ctx, user, ref.Conversation, ref.Seq)
	if err != nil {
		return err
	}
	orig, err := frame.DecodeStored(m.Content)
	if err != nil || !slices.Contains(frame.ClientKinds, orig.Kind) || orig.Kind != m.Kind {
		return seqError(fmt.Sprintf("message %d of kind %q cannot be forwarded", ref.Seq, m.Kind))
	}
	body := orig.Body()
	body.ReplyTo, body.Mentions, body.MentionIDs, body.MentionAll = c.ReplyTo, c.Mentions, c.MentionIDs, c.MentionAll
	body.ForwardedFrom, body.Ext = ref, c.Ext
	*c = body
	return nil
}

func (s *Service) cardExists(ctx context.Context, kind string, id int64) error {
	if kind == "user" {
		ok, err := s.store.UserExists(ctx, id)
		if err != nil {
			return fmt.Errorf("user %d: %w", id, err)
		}
		if !ok {
			return seqError("no such user")
		}
		return nil
	}
	if _, err := s.grps.list(ctx, id); err != nil {
		if errors.Is(err, ErrNoSuchTarget) {
			return seqError("no such group")
		}
		return err
	}
	return nil
}

// privileged reports whether user is the owner or an admin of group id.
func (g *nodes) privileged(ctx context.Context, id, user int64) (bool, error) {
	n := g.node(id)
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := g.loadLocked(ctx, id, n); err != nil {
		return false, err
	}
	if n.missing {
		return false, ErrNoSuchTarget
	}
	return n.mod.Privileged[user], nil
}
