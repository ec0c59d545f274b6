// Typing: an ephemeral signal, forwarded to the other participants'
// connections on every node and never stored.

package chat

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/privateim/privateim/foundation/conv"

	"github.com/privateim/privateim/messageservice/internal/frame"
	"github.com/privateim/privateim/messageservice/internal/lockorder"
)

// TypingInterval is the shortest time between two typing frames of one
// user in one conversation that this node forwards: clients send one
// every few seconds while the user types, and a group's members would get
// every one of them.
const TypingInterval = 2 * time.Second

// DefaultTypingMaxMembers is Options.TypingMaxMembers when unset.
const DefaultTypingMaxMembers = 500

// Typing forwards f to the other participants of its conversation: a 1:1
// needs a friendship both ways and no blacklist (ErrNotFriends,
// ErrBlocked), a group membership (ErrNotMember, ErrNoSuchTarget); typing
// in a subscription or system conversation is ErrNoTyping. What passes is
// dropped without an error when the user's previous typing frame of the
// conversation was forwarded by this node less than TypingInterval ago,
// or when the group has more than Options.TypingMaxMembers members. In a
// group the members the typist has blacklisted get none (receiptAudience).
func (ss *Session) Typing(ctx context.Context, f *frame.Typing) error {
	s := ss.svc
	c, err := conv.Parse(f.Conversation)
	if err != nil {
		return err
	}
	if c.Kind != conv.KindUser && c.Kind != conv.KindGroup {
		return ErrNoTyping
	}
	users, err := s.participants(ctx, ss.user, f.Conversation)
	if err != nil {
		return err
	}
	if c.Kind == conv.KindUser {
		if err := s.directAllowed(ctx, ss.user, c); err != nil {
			return err
		}
	} else if len(users) > s.opt.TypingMaxMembers {
		return nil
	}
	if !s.typing.allow(ss.user, f.Conversation, time.Now()) {
		return nil
	}
	if users, err = s.receiptAudience(ctx, ss.user, f.Conversation, users); err != nil {
		return err
	}
	others := slices.DeleteFunc(slices.Clone(users), func(u int64) bool { return u == ss.user })
	if len(others) == 0 {
		return nil
	}
	b := frame.Marshal(frame.TypingNotice{Type: "typing", Conversation: f.Conversation, User: frame.FormatID(ss.user)})
	s.fanout(others, nil, Delivery{Users: others, Frame: b})
	return nil
}

// directAllowed checks that user and the other one of the 1:1 c are
// friends both ways with no blacklist either way.
func (s *Service) directAllowed(ctx context.Context, user int64, c conv.Conversation) error {
	peer := c.A
	if peer == user {
		peer = c.B
	}
	mine, theirs, err := s.rels.get(ctx, s.store, user, peer)
	if err != nil {
		return fmt.Errorf("friendship %d-%d: %w", user, peer, err)
	}
	if mine.Blacklisted || theirs.Blacklisted {
		return ErrBlocked
	}
	if !mine.friends() || !theirs.friends() {
		return ErrNotFriends
	}
	return nil
}

type typingKey struct {
	user int64
	conv string
}

// typingGate remembers when this node last forwarded each user's typing
// in each conversation. An entry older than TypingInterval says nothing,
// so a sweep drops them once the map has doubled since the last one: the
// map holds about the typists of the last TypingInterval, and sweeping
// costs O(1) amortized.
//
// Owner: Service. mu is a leaf.
type typingGate struct {
	mu    lockorder.Mutex // rank Leaf; guards last and sweep
	last  map[typingKey]time.Time
	sweep int
}

func newTypingGate() *typingGate {
	return &typingGate{mu: lockorder.Mutex{Rank: lockorder.Leaf}, last: make(map[typingKey]time.Time), sweep: minSweep}
}

// allow reports whether a typing frame of user in conversation at now is
// forwarded, and if so remembers now.
func (g *typingGate) allow(user int64, conversation string, now time.Time) bool {
	k := typingKey{user, conversation}
	g.mu.Lock()
	defer g.mu.Unlock()
	if t, ok := g.last[k]; ok && now.Sub(t) < TypingInterval {
		return false
	}
	if len(g.last) >= g.sweep {
		for k, t := range g.last {
			if now.Sub(t) >= TypingInterval {
				delete(g.last, k)
			}
		}
		g.sweep = max(minSweep, 2*len(g.last))
	}
	g.last[k] = now
	return true
}
