// Push (system notices) and Broadcast (subscription posts), the messages
// that come from the internal gRPC API rather than a connection.

package chat

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/privateim/privateim/foundation/conv"

	"github.com/privateim/privateim/messageservice/internal/frame"
)

// pushKey is the idempotency key of a push to one user: the DataService
// keys idempotency by (sender, client_msg_id) and system notices all have
// sender 0, so the user goes into the key (hashed when too long).
func pushKey(user int64, clientMsgID string) string {
	k := strconv.FormatInt(user, 10) + ":" + clientMsgID
	if len(k) <= frame.MaxClientMsgID {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	return "sha256:" + hex.EncodeToString(sum[:])[:48]
}

// Push stores a system notice in each user's sys:<user> conversation and
// delivers it to their connections on every node (the rest get it on
// connect). Results come in users order; a repeat of clientMsgID for a
// user stores and delivers nothing and returns the first result. Like
// every message it goes through the appender, which fans each notice out
// in its conversation's seq order, so concurrent pushes to one user arrive
// in order.
func (s *Service) Push(ctx context.Context, users []int64, clientMsgID, kind string, content []byte) ([]AppendResult, error) {
	reqs := make([]AppendRequest, len(users))
	for i, u := range users {
		reqs[i] = AppendRequest{Conversation: conv.System(u).String(), ClientMsgID: pushKey(u, clientMsgID), Kind: kind, Content: content}
	}
	res, err := s.appends.appendAll(ctx, reqs, func(i int, m Message, dup bool) {
		// On the append worker, in the conversation's seq order.
		if dup {
			return
		}
		s.messagesIn.Add(1)
		b := frame.Marshal(messageFrame(m, "message"))
		to := []int64{users[i]}
		s.fanout(to, nil, Delivery{Users: to, Conv: m.Conversation, Seq: m.Seq, Frame: b})
	})
	if err != nil {
		return nil, fmt.Errorf("push to %d users: %w", len(users), err)
	}
	for i := range res {
		if !res[i].Duplicate {
			res[i].Message.ClientMsgID = clientMsgID
		}
	}
	return res, nil
}

// Broadcast stores a subscription's post in s:<subscription> and hands it
// to every follower's connections on every node; the others get it on
// connect. ErrNoSuchTarget for an unknown or deleted subscription.
func (s *Service) Broadcast(ctx context.Context, sub, sender int64, clientMsgID, kind string, content []byte) (AppendResult, error) {
	followers, err := s.subs.list(ctx, sub)
	if err != nil {
		return AppendResult{}, err
	}
	name := conv.Subscription(sub).String()
	m, dup, err := s.appends.append(ctx, AppendRequest{Conversation: name, SenderID: sender, ClientMsgID: clientMsgID, Kind: kind, Content: content},
		func(m Message, dup bool) {
			// On the append worker, in the conversation's seq order.
			if !dup {
				s.messagesIn.Add(1)
				b := frame.Marshal(messageFrame(m, "message"))
				s.fanout(followers, nil, Delivery{Users: followers, Conv: name, Seq: m.Seq, Frame: b})
			}
		})
	if err != nil {
		return AppendResult{}, fmt.Errorf("broadcast to %s: %w", name, err)
	}
	return AppendResult{Message: m, Duplicate: dup}, nil
}

// OnlineUsers returns the users of ids with a connection on any node.
func (s *Service) OnlineUsers(ids []int64) []int64 {
	var out []int64
	for _, id := range ids {
		if s.UserOnline(id) {
			out = append(out, id)
		}
	}
	return out
}
