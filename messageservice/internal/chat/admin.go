// The admins' actions on sessions and messages (the Admin gRPC of
// internal/grpcapi): list a user's connections on every node, close one
// device's connections on every node, delete a message for everyone, and
// store a notice for every user online in the cluster.

package chat

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/privateim/privateim/foundation/conv"

	"github.com/privateim/privateim/messageservice/internal/frame"
)

// CloseLoggedOut closes the connections of a device an admin logged out.
const CloseLoggedOut = 4005

// Errors of the admin actions; each is about one field of the request.
var (
	ErrNoSuchUser         = errors.New("no such user")
	ErrNoSuchConversation = errors.New("no such conversation")
	ErrNoDeviceConns      = errors.New("the device has no connection")
)

// SessionInfo is one connection of a user somewhere in the cluster.
type SessionInfo struct {
	Node   string // "" for this node
	ID     uint64
	Device string
	Opened time.Time
}

// Sessions lists user's connections on this node (Node "") and on the
// others (as the cluster's registry knows them), oldest first.
// ErrNoSuchUser when the DataService knows no such user.
func (s *Service) Sessions(ctx context.Context, user int64) ([]SessionInfo, error) {
	ok, err := s.store.UserExists(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("user %d: %w", user, err)
	}
	if !ok {
		return nil, ErrNoSuchUser
	}
	out := s.router.RemoteSessions(user)
	for _, c := range s.hub.Conns(user) {
		out = append(out, SessionInfo{ID: c.id, Device: c.device, Opened: c.opened})
	}
	slices.SortFunc(out, func(a, b SessionInfo) int {
		return cmp.Or(a.Opened.Compare(b.Opened), cmp.Compare(a.Node, b.Node), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// LogoutDevice closes the connections of user's device on every node with
// CloseLoggedOut and returns how many there were. The token is not
// revoked (tokens are per account: SuspendUser revokes them all); the
// close code tells the app to drop it. ErrNoSuchUser, ErrNoDeviceConns.
func (s *Service) LogoutDevice(ctx context.Context, user int64, device string) (int, error) {
	all, err := s.Sessions(ctx, user)
	if err != nil {
		return 0, err
	}
	n := 0
	nodes := map[string]bool{}
	for _, c := range all {
		if c.Device == device {
			n++
			if c.Node != "" {
				nodes[c.Node] = true
			}
		}
	}
	if n == 0 {
		return 0, ErrNoDeviceConns
	}
	s.logoutLocal([]int64{user}, device)
	for node := range nodes {
		s.router.Forward(node, Delivery{Users: []int64{user}, Logout: &device})
	}
	return n, nil
}

// logoutLocal closes the local connections of users' device.
func (s *Service) logoutLocal(users []int64, device string) {
	for _, u := range users {
		for _, c := range s.hub.Conns(u) {
			if c.device == device {
				s.log.Info("device logged out by an admin", "user", u, "device", device, "conn", c.id)
				c.t.Close(CloseLoggedOut, "logged_out")
			}
		}
	}
}

// receiversOf returns everyone a conversation's messages go to: both users
// of a 1:1, a group's members, a subscription's followers, a sys
// conversation's user. ErrNoSuchConversation for a malformed name or an
// unknown (or gone) group or subscription.
func (s *Service) receiversOf(ctx context.Context, name string) ([]int64, error) {
	c, err := conv.Parse(name)
	if err != nil {
		return nil, ErrNoSuchConversation
	}
	var users []int64
	switch c.Kind {
	case conv.KindUser:
		return []int64{c.A, c.B}, nil
	case conv.KindSystem:
		return []int64{c.A}, nil
	case conv.KindGroup:
		users, err = s.grps.list(ctx, c.A)
	case conv.KindSubscription:
		users, err = s.subs.list(ctx, c.A)
	default:
		return nil, ErrNoSuchConversation
	}
	if errors.Is(err, ErrNoSuchTarget) {
		return nil, ErrNoSuchConversation
	}
	return users, err
}

// DeleteMessage removes message seq of conversation name for everyone, as
// a recall by nobody (by "0"): a recall event is appended and the target
// becomes recalled in one transaction, then fanned out like any message.
// Idempotent: a repeat finds the stored event (Duplicate). Errors:
// ErrNoSuchConversation, ErrNoSuchMessage, ErrRecalled (recalled by
// someone else), ErrNotChangeable (a lifecycle event).
func (s *Service) DeleteMessage(ctx context.Context, name string, seq int64) (AppendResult, error) {
	receivers, err := s.receiversOf(ctx, name)
	if err != nil {
		return AppendResult{}, err
	}
	msgs, _, err := s.store.Messages(ctx, name, seq-1, 1)
	if err != nil {
		return AppendResult{}, fmt.Errorf("message %s/%d: %w", name, seq, err)
	}
	if len(msgs) == 0 || msgs[0].Seq != seq {
		return AppendResult{}, ErrNoSuchMessage
	}
	if lifecycleKind(msgs[0].Kind) {
		return AppendResult{}, ErrNotChangeable
	}
	// One key per message: a repeat is answered as a duplicate by the
	// DataService before the change is checked; a message its sender
	// recalled is refused (ErrRecalled).
	clientMsgID := deleteKey(name, seq)
	const by = "0"
	m, dup, err := s.appends.append(ctx, AppendRequest{
		Conversation: name, ClientMsgID: clientMsgID, Kind: frame.KindRecall,
		Content: frame.Marshal(frame.RecallEvent{Kind: frame.KindRecall, TargetSeq: seq, By: by}),
		Change:  &Change{TargetSeq: seq, Kind: frame.KindRecalled, Content: frame.Marshal(frame.Recalled{Kind: frame.KindRecalled, By: by})},
	}, func(m Message, dup bool) {
		// On the append worker, in the conversation's seq order.
		if !dup {
			s.messagesIn.Add(1)
			b := frame.Marshal(messageFrame(m, "message"))
			s.fanout(receivers, nil, Delivery{Users: receivers, Conv: name, Seq: m.Seq, Frame: b})
		}
	})
	if err != nil {
		return AppendResult{}, fmt.Errorf("delete %s/%d: %w", name, seq, err)
	}
	return AppendResult{Message: m, Duplicate: dup}, nil
}

// deleteKey is the idempotency key of an admin's deletion of message seq
// of conversation name (system sender 0), hashed when too long.
func deleteKey(name string, seq int64) string {
	k := "admin-delete:" + name + ":" + strconv.FormatInt(seq, 10)
	if len(k) <= frame.MaxClientMsgID {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	return "admin-delete:" + hex.EncodeToString(sum[:])[:40]
}

// OnlineUserIDs are the users with a connection anywhere in the cluster,
// sorted.
func (s *Service) OnlineUserIDs() []int64 {
	ids := s.router.RemoteUsers()
	s.hub.Each(func(user int64, _ *Session) { ids = append(ids, user) })
	slices.Sort(ids)
	return slices.Compact(ids)
}

// NoticeOnline pushes a system notice to every user online in the cluster
// (Push, in batches of maxNoticeBatch) and returns how many users it was
// stored for.
func (s *Service) NoticeOnline(ctx context.Context, clientMsgID string, content []byte) (int, error) {
	users := s.OnlineUserIDs()
	for batch := range slices.Chunk(users, maxNoticeBatch) {
		if _, err := s.Push(ctx, batch, clientMsgID, "notice", content); err != nil {
			return 0, err
		}
	}
	return len(users), nil
}

// maxNoticeBatch is the most users one Push stores for (one AppendBatch).
const maxNoticeBatch = 1000
