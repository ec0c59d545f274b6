// Authorization of sends and of the frames naming a conversation.

package chat

import (
	"context"
	"fmt"

	"github.com/privateim/privateim/foundation/conv"

	"github.com/privateim/privateim/messageservice/internal/frame"
)

// authorize returns the conversation of a send and who receives it.
func (s *Service) authorize(ctx context.Context, user int64, f *frame.Send) (string, []int64, error) {
	switch f.To.Kind {
	case "user":
		to := f.ToID
		if to == user {
			return "", nil, ErrNoSuchTarget
		}
		mine, theirs, err := s.rels.get(ctx, s.store, user, to)
		if err != nil {
			return "", nil, fmt.Errorf("friendship %d-%d: %w", user, to, err)
		}
		if mine.Blacklisted || theirs.Blacklisted {
			return "", nil, ErrBlocked
		}
		if !mine.friends() || !theirs.friends() {
			if !mine.Found && !theirs.Found {
				ok, err := s.store.UserExists(ctx, to)
				if err != nil {
					return "", nil, fmt.Errorf("user %d: %w", to, err)
				}
				if !ok {
					return "", nil, ErrNoSuchTarget
				}
			}
			return "", nil, ErrNotFriends
		}
		return conv.Direct(user, to).String(), []int64{to, user}, nil
	case "group":
		members, err := s.grps.sender(ctx, f.ToID, user, s.opt.Now())
		if err != nil {
			return "", nil, err
		}
		return conv.Group(f.ToID).String(), members, nil
	}
	return "", nil, ErrNoSuchTarget
}

// participants returns who takes part in a conversation user names, or an
// error when user does not.
func (s *Service) participants(ctx context.Context, user int64, name string) ([]int64, error) {
	c, err := conv.Parse(name)
	if err != nil {
		return nil, err
	}
	switch c.Kind {
	case conv.KindUser:
		if user != c.A && user != c.B {
			return nil, ErrNotMember
		}
		return []int64{c.A, c.B}, nil
	case conv.KindGroup:
		member, members, err := s.grps.members(ctx, c.A, user)
		if err != nil {
			return nil, err
		}
		if !member {
			return nil, ErrNotMember
		}
		return members, nil
	case conv.KindSubscription:
		// Followers read a subscription's history; posts come only
		// from Broadcast, and read receipts go to nobody else.
		follower, _, err := s.subs.members(ctx, c.A, user)
		if err != nil {
			return nil, err
		}
		if !follower {
			return nil, ErrNotMember
		}
		return []int64{user}, nil
	case conv.KindSystem:
		if c.A != user {
			return nil, ErrNotMember
		}
		return []int64{user}, nil
	}
	return nil, ErrNotMember
}

// readFloor is the first seq of a conversation user may read: for a group
// with history "joined", the seq of their latest join; 0 (all) otherwise.
// Catch-up, sync, gap fill and read receipts start there, so a new member
// never reads what was said before they joined (docs/websocket.md).
func (s *Service) readFloor(ctx context.Context, user int64, name string) (int64, error) {
	c, err := conv.Parse(name)
	if err != nil || c.Kind != conv.KindGroup {
		return 0, nil
	}
	member, from, err := s.grps.readFrom(ctx, c.A, user)
	if err != nil {
		return 0, err
	}
	if !member {
		return 0, ErrNotMember
	}
	return from, nil
}
