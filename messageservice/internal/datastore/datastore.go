// Package datastore is the messageservice's adapter to the DataService
// (chat.Store) and to the userservice's Auth (token checks), both gRPC over
// mutual TLS. gRPC codes are translated once, in translate: NotFound becomes
// chat.ErrNotFound, Unauthenticated and InvalidArgument of CheckToken become
// ErrBadToken; anything else stays an opaque error for the log.
package datastore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/privateim/privateim/foundation/dataconn"
	"github.com/privateim/privateim/foundation/grpcdial"
	"github.com/privateim/privateim/foundation/tlsconfig"
	datav1 "github.com/privateim/privateim/protos/data/v1"
	userv1 "github.com/privateim/privateim/protos/user/v1"

	"github.com/privateim/privateim/messageservice/internal/chat"
)

// ErrBadToken is a token the userservice refuses; it matches
// chat.ErrTokenRefused too.
var ErrBadToken = fmt.Errorf("bad token: %w", chat.ErrTokenRefused)

const maxMessageBytes = 16 << 20

var _ chat.Store = (*Client)(nil)

// dial connects to the service peer (its identity: tlsconfig.DataService,
// tlsconfig.UserService), whose messages may be as large as the
// DataService's.
func dial(peer, addr string, files tlsconfig.Files, opts []grpc.DialOption) (*grpc.ClientConn, error) {
	return grpcdial.Dial(peer, addr, files, append([]grpc.DialOption{grpcdial.MaxMessageBytes(maxMessageBytes)}, opts...)...)
}

// Client is the DataService client; safe for concurrent use.
type Client struct {
	conn     *grpc.ClientConn
	health   healthpb.HealthClient
	users    datav1.UsersClient
	friends  datav1.FriendsClient
	groups   datav1.GroupsClient
	messages datav1.MessagesClient
	convs    datav1.ConversationsClient

	subscriptions datav1.SubscriptionsClient
	audit         datav1.AuditClient
}

// Dial makes a DataService client; it connects lazily. opts add to the
// dial's (metrics and tracing interceptors).
func Dial(addr string, files tlsconfig.Files, opts ...grpc.DialOption) (*Client, error) {
	conn, err := dial(tlsconfig.DataService, addr, files, opts)
	if err != nil {
		return nil, err
	}
	return &Client{
		conn: conn, health: healthpb.NewHealthClient(conn),
		users: datav1.NewUsersClient(conn), friends: datav1.NewFriendsClient(conn),
		groups: datav1.NewGroupsClient(conn), messages: datav1.NewMessagesClient(conn),
		convs:         datav1.NewConversationsClient(conn),
		subscriptions: datav1.NewSubscriptionsClient(conn),
		audit:         datav1.NewAuditClient(conn),
	}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Check is nil when the DataService says it serves.
func (c *Client) Check(ctx context.Context) error {
	return grpcdial.Check(ctx, c.health, "dataservice")
}

// translate is the one table from gRPC codes to errors callers match.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("%s: %w", op, err)
	}
	switch st.Code() {
	case codes.NotFound:
		return fmt.Errorf("%s: %w", op, chat.ErrNotFound)
	case codes.Canceled:
		return fmt.Errorf("%s: %w", op, errors.Join(context.Canceled, err))
	case codes.DeadlineExceeded:
		return fmt.Errorf("%s: %w", op, errors.Join(context.DeadlineExceeded, err))
	}
	return fmt.Errorf("%s: %w", op, err)
}

// Friendship reads what self holds about friend.
func (c *Client) Friendship(ctx context.Context, self, friend int64) (chat.Relation, error) {
	f, err := c.friends.GetFriendship(ctx, &datav1.GetFriendshipRequest{SelfId: self, FriendId: friend})
	if err != nil {
		return chat.Relation{}, translate("GetFriendship", err)
	}
	return chat.Relation{Found: true, Accepted: f.GetAccepted(), Blacklisted: f.GetBlacklisted(), Deleted: f.GetDeleted()}, nil
}

// UserExists reports whether the user is known.
func (c *Client) UserExists(ctx context.Context, id int64) (bool, error) {
	_, err := c.users.GetUser(ctx, &datav1.GetUserRequest{Id: id})
	err = translate("GetUser", err)
	if errors.Is(err, chat.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// GroupMembers lists a group's members that have not left, with the
// group's moderation state (mute all, admins, member mutes) and the seq
// each member reads from.
func (c *Client) GroupMembers(ctx context.Context, group int64) (chat.Roster, error) {
	g, err := c.groups.GetGroup(ctx, &datav1.GetGroupRequest{Id: group})
	if err != nil {
		return chat.Roster{}, translate("GetGroup", err)
	}
	if g.GetDismissed() {
		return chat.Roster{Gone: true}, nil
	}
	r := chat.Roster{MuteAll: g.GetMuteAll(), Privileged: map[int64]bool{}, MutedUntil: map[int64]time.Time{}, ReadFrom: map[int64]int64{}}
	// History JOINED (or unset): a member reads from their join seq.
	all := g.GetHistory() == datav1.GroupHistory_GROUP_HISTORY_ALL
	token := ""
	for {
		resp, err := c.groups.ListGroupMembers(ctx, &datav1.ListGroupMembersRequest{GroupId: group, Limit: 1000, PageToken: token})
		if err != nil {
			return chat.Roster{}, translate("ListGroupMembers", err)
		}
		for _, m := range resp.GetMembers() {
			if m.GetLeft() {
				continue
			}
			r.Members = append(r.Members, m.GetUserId())
			if r.ReadFrom[m.GetUserId()] = m.GetJoinSeq(); all {
				r.ReadFrom[m.GetUserId()] = 0
			}
			if m.GetRole() == datav1.GroupRole_GROUP_ROLE_OWNER || m.GetRole() == datav1.GroupRole_GROUP_ROLE_ADMIN {
				r.Privileged[m.GetUserId()] = true
			}
			if m.GetMutedUntil() != nil {
				r.MutedUntil[m.GetUserId()] = m.GetMutedUntil().AsTime()
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			return r, nil
		}
	}
}

func message(m *datav1.Message) chat.Message {
	return chat.Message{
		ID: m.GetId(), Conversation: m.GetConversation(), Seq: m.GetSeq(), SenderID: m.GetSenderId(),
		ClientMsgID: m.GetClientMsgId(), Kind: m.GetKind(), Content: m.GetContent(), CreatedAt: m.GetCreatedAt().AsTime(),
	}
}

// refusedChange is the chat error of an append the DataService refused
// with FailedPrecondition: a lifecycle event's target was recalled, or a
// reaction broke a rule, told apart by the status's ErrorInfo reason
// (protos/data/v1/errors.proto), never by the message's words; nil for a
// refusal without one of these reasons, which the caller cannot act on.
func refusedChange(st *status.Status) error {
	switch dataconn.Refusal(st) {
	case datav1.Refusal_REFUSAL_ALREADY_REACTED.String():
		return chat.ErrReacted
	case datav1.Refusal_REFUSAL_NOT_REACTED.String():
		return chat.ErrNotReacted
	case datav1.Refusal_REFUSAL_TOO_MANY_EMOJI.String():
		return chat.ErrTooManyEmoji
	case datav1.Refusal_REFUSAL_RECALLED.String():
		return chat.ErrRecalled
	}
	return nil
}

// Versions reads the kept versions of a message.
func (c *Client) Versions(ctx context.Context, conv string, seq int64, limit int) ([]chat.Version, bool, error) {
	resp, err := c.messages.GetMessageVersions(ctx, &datav1.GetMessageVersionsRequest{Conversation: conv, Seq: seq, Limit: int32(limit)})
	if err != nil {
		return nil, false, translate("GetMessageVersions", err)
	}
	out := make([]chat.Version, len(resp.GetVersions()))
	for i, v := range resp.GetVersions() {
		out[i] = chat.Version{Content: v.GetContent(), ReplacedBySeq: v.GetReplacedBySeq(), ReplacedAt: v.GetReplacedAt().AsTime()}
	}
	return out, resp.GetHasMore(), nil
}

// ClearedSeqs reads user's cleared seqs of conversations, 1000 per call.
func (c *Client) ClearedSeqs(ctx context.Context, user int64, convs []string) (map[string]int64, error) {
	out := map[string]int64{}
	for len(convs) > 0 {
		n := min(len(convs), 1000)
		resp, err := c.convs.GetConversationStates(ctx, &datav1.GetConversationStatesRequest{UserId: user, Conversations: convs[:n]})
		if err != nil {
			return nil, translate("GetConversationStates", err)
		}
		for _, s := range resp.GetStates() {
			if s.GetClearedSeq() > 0 {
				out[s.GetConversation()] = s.GetClearedSeq()
			}
		}
		convs = convs[n:]
	}
	return out, nil
}

// History reads up to limit messages after seq after, or after viewer's
// cleared seq of the conversation when that is later, with their
// reactions as viewer sees them: one GetMessages.
func (c *Client) History(ctx context.Context, conv string, after int64, limit int, viewer int64) ([]chat.Message, map[int64][]chat.ReactionCount, bool, error) {
	resp, err := c.messages.GetMessages(ctx, &datav1.GetMessagesRequest{Conversation: conv, AfterSeq: after, Limit: int32(limit), ReactionsViewer: viewer, ClearedFor: viewer})
	if err != nil {
		return nil, nil, false, translate("GetMessages", err)
	}
	out := make([]chat.Message, len(resp.GetMessages()))
	for i, m := range resp.GetMessages() {
		out[i] = message(m)
	}
	rs := make(map[int64][]chat.ReactionCount, len(resp.GetReactions()))
	for _, mr := range resp.GetReactions() {
		for _, rc := range mr.GetCounts() {
			rs[mr.GetSeq()] = append(rs[mr.GetSeq()], chat.ReactionCount{Emoji: rc.GetEmoji(), Count: rc.GetCount(), Me: rc.GetMe()})
		}
	}
	return out, rs, resp.GetHasMore(), nil
}

func appendRequest(r chat.AppendRequest) *datav1.AppendMessageRequest {
	m := &datav1.AppendMessageRequest{
		Conversation: r.Conversation, SenderId: r.SenderID, ClientMsgId: r.ClientMsgID, Kind: r.Kind, Content: r.Content,
	}
	if c := r.Change; c != nil {
		m.Change = &datav1.MessageChange{TargetSeq: c.TargetSeq, Kind: c.Kind, Content: c.Content, KeepPrevious: c.KeepPrevious}
	}
	if x := r.Clear; x != nil {
		m.Clear = &datav1.Clear{UserId: x.User, Conversation: x.Conversation, UpToSeq: x.UpTo}
	}
	if x := r.Reaction; x != nil {
		m.Reaction = &datav1.Reaction{TargetSeq: x.TargetSeq, UserId: x.User, Emoji: x.Emoji, Remove: x.Remove}
	}
	return m
}

// MessageByClientID reads the message user stored with clientMsgID.
func (c *Client) MessageByClientID(ctx context.Context, user int64, clientMsgID string) (chat.Message, error) {
	m, err := c.messages.GetMessageByClientID(ctx, &datav1.GetMessageByClientIDRequest{SenderId: user, ClientMsgId: clientMsgID})
	if err != nil {
		return chat.Message{}, translate("GetMessageByClientID", err)
	}
	return message(m), nil
}

// Append stores one message.
func (c *Client) Append(ctx context.Context, r chat.AppendRequest) (chat.Message, bool, error) {
	resp, err := c.messages.AppendMessage(ctx, appendRequest(r))
	if err != nil {
		if st, ok := status.FromError(err); ok && st.Code() == codes.FailedPrecondition {
			if refused := refusedChange(st); refused != nil {
				return chat.Message{}, false, fmt.Errorf("AppendMessage: %w", refused)
			}
		}
		return chat.Message{}, false, translate("AppendMessage", err)
	}
	return message(resp.GetMessage()), resp.GetDuplicate(), nil
}

// Messages reads up to limit messages after seq after.
func (c *Client) Messages(ctx context.Context, conv string, after int64, limit int) ([]chat.Message, bool, error) {
	resp, err := c.messages.GetMessages(ctx, &datav1.GetMessagesRequest{Conversation: conv, AfterSeq: after, Limit: int32(limit)})
	if err != nil {
		return nil, false, translate("GetMessages", err)
	}
	out := make([]chat.Message, len(resp.GetMessages()))
	for i, m := range resp.GetMessages() {
		out[i] = message(m)
	}
	return out, resp.GetHasMore(), nil
}

// Heads reads the last seqs of conversations, 1000 per call.
func (c *Client) Heads(ctx context.Context, convs []string) (map[string]int64, error) {
	out := make(map[string]int64, len(convs))
	for len(convs) > 0 {
		n := min(len(convs), 1000)
		resp, err := c.messages.GetConversationHeads(ctx, &datav1.GetConversationHeadsRequest{Conversations: convs[:n]})
		if err != nil {
			return nil, translate("GetConversationHeads", err)
		}
		for _, h := range resp.GetHeads() {
			out[h.GetConversation()] = h.GetLastSeq()
		}
		convs = convs[n:]
	}
	return out, nil
}

// AdvanceCursors moves up to 1000 cursors forward and up to 1000 senders'
// read seqs (never back) in one call.
func (c *Client) AdvanceCursors(ctx context.Context, as []chat.CursorAdvance, sent []chat.Sent) error {
	// chat does not use the stored cursors: no_result spares their read-back.
	req := &datav1.AdvanceCursorsPlusRequest{Cursors: make([]*datav1.AdvanceCursorRequest, len(as)), NoResult: true,
		Sent: make([]*datav1.SentSeq, len(sent))}
	for i, a := range as {
		req.Cursors[i] = &datav1.AdvanceCursorRequest{
			UserId: a.User, DeviceId: a.Device, Conversation: a.Conversation, DeliveredSeq: a.Delivered, AckedSeq: a.Acked,
		}
	}
	for i, s := range sent {
		req.Sent[i] = &datav1.SentSeq{UserId: s.User, Conversation: s.Conversation, Seq: s.Seq}
	}
	_, err := c.messages.AdvanceCursorsPlus(ctx, req)
	return translate("AdvanceCursorsPlus", err)
}

// Auth checks tokens with the userservice.
type Auth struct {
	conn   *grpc.ClientConn
	health healthpb.HealthClient
	auth   userv1.AuthClient
}

// DialAuth makes a userservice Auth client; it connects lazily. opts add
// to the dial's.
func DialAuth(addr string, files tlsconfig.Files, opts ...grpc.DialOption) (*Auth, error) {
	conn, err := dial(tlsconfig.UserService, addr, files, opts)
	if err != nil {
		return nil, err
	}
	return &Auth{conn: conn, health: healthpb.NewHealthClient(conn), auth: userv1.NewAuthClient(conn)}, nil
}

// Close closes the connection.
func (a *Auth) Close() error { return a.conn.Close() }

// Check is nil when the userservice says it serves.
func (a *Auth) Check(ctx context.Context) error { return grpcdial.Check(ctx, a.health, "userservice") }

// CheckToken returns the token's user and expiry, or ErrBadToken.
func (a *Auth) CheckToken(ctx context.Context, token string) (int64, time.Time, error) {
	resp, err := a.auth.CheckToken(ctx, &userv1.CheckTokenRequest{Token: token})
	if err != nil {
		if c := status.Code(err); c == codes.Unauthenticated || c == codes.InvalidArgument {
			return 0, time.Time{}, ErrBadToken
		}
		return 0, time.Time{}, translate("CheckToken", err)
	}
	var expires time.Time
	if resp.GetExpiresAt() != nil {
		expires = resp.GetExpiresAt().AsTime()
	}
	return resp.GetUserId(), expires, nil
}

// Followers lists a subscription's followers that have not left.
func (c *Client) Followers(ctx context.Context, sub int64) ([]int64, bool, error) {
	s, err := c.subscriptions.GetSubscription(ctx, &datav1.GetSubscriptionRequest{Id: sub})
	if err != nil {
		return nil, false, translate("GetSubscription", err)
	}
	if s.GetDeleted() {
		return nil, true, nil
	}
	var out []int64
	token := ""
	for {
		resp, err := c.subscriptions.ListFollowers(ctx, &datav1.ListFollowersRequest{SubscriptionId: sub, Limit: 1000, PageToken: token})
		if err != nil {
			return nil, false, translate("ListFollowers", err)
		}
		for _, f := range resp.GetFollowers() {
			if !f.GetLeft() {
				out = append(out, f.GetUserId())
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			return out, false, nil
		}
	}
}

// AppendBatch stores up to 1000 messages in one call.
func (c *Client) AppendBatch(ctx context.Context, rs []chat.AppendRequest) ([]chat.AppendResult, error) {
	req := &datav1.AppendMessagesPlusRequest{Messages: make([]*datav1.AppendMessageRequest, len(rs))}
	for i, r := range rs {
		req.Messages[i] = appendRequest(r)
	}
	resp, err := c.messages.AppendMessagesPlus(ctx, req)
	if err != nil {
		return nil, translate("AppendMessagesPlus", err)
	}
	out := make([]chat.AppendResult, len(resp.GetResults()))
	for i, r := range resp.GetResults() {
		out[i] = chat.AppendResult{Message: message(r.GetMessage()), Duplicate: r.GetDuplicate()}
	}
	return out, nil
}

// listPage is one page of a paged list: the ids it holds and the token of
// the next page.
type listPage struct {
	ids  []int64
	next string
}

// pages reads a paged list to its end: first (when not nil) is page one,
// fetch reads the page of a token.
func pages(first *listPage, fetch func(token string) (listPage, error)) ([]int64, error) {
	var p listPage
	if first != nil {
		p = *first
	} else {
		var err error
		if p, err = fetch(""); err != nil {
			return nil, err
		}
	}
	out := p.ids
	for p.next != "" {
		var err error
		if p, err = fetch(p.next); err != nil {
			return nil, err
		}
		out = append(out, p.ids...)
	}
	return out, nil
}

// The list requests of a session's start, page size 1000.
func friendsRequest(user int64, token string) *datav1.ListFriendshipsRequest {
	accepted, deleted := true, false
	return &datav1.ListFriendshipsRequest{
		UserId: user, Direction: datav1.FriendshipDirection_FRIENDSHIP_DIRECTION_OUTGOING,
		Accepted: &accepted, Deleted: &deleted, Limit: 1000, PageToken: token,
	}
}

func groupsRequest(user int64, token string) *datav1.ListGroupsByMemberRequest {
	return &datav1.ListGroupsByMemberRequest{UserId: user, Limit: 1000, PageToken: token}
}

func followingRequest(user int64, token string) *datav1.ListFollowingRequest {
	return &datav1.ListFollowingRequest{UserId: user, Limit: 1000, PageToken: token}
}

func friendsPage(r *datav1.ListFriendshipsResponse) listPage {
	p := listPage{next: r.GetNextPageToken()}
	for _, f := range r.GetFriendships() {
		p.ids = append(p.ids, f.GetFriendId())
	}
	return p
}

func groupsPage(r *datav1.ListGroupsResponse) listPage {
	p := listPage{next: r.GetNextPageToken()}
	for _, g := range r.GetGroups() {
		p.ids = append(p.ids, g.GetId())
	}
	return p
}

func followingPage(r *datav1.ListSubscriptionsResponse) listPage {
	p := listPage{next: r.GetNextPageToken()}
	for _, sub := range r.GetSubscriptions() {
		p.ids = append(p.ids, sub.GetId())
	}
	return p
}

func (c *Client) friendsFrom(ctx context.Context, user int64, first *listPage) ([]int64, error) {
	return pages(first, func(token string) (listPage, error) {
		resp, err := c.friends.ListFriendships(ctx, friendsRequest(user, token))
		return friendsPage(resp), translate("ListFriendships", err)
	})
}

func (c *Client) groupsFrom(ctx context.Context, user int64, first *listPage) ([]int64, error) {
	return pages(first, func(token string) (listPage, error) {
		resp, err := c.groups.ListGroupsByMember(ctx, groupsRequest(user, token))
		return groupsPage(resp), translate("ListGroupsByMember", err)
	})
}

func (c *Client) followingFrom(ctx context.Context, user int64, first *listPage) ([]int64, error) {
	return pages(first, func(token string) (listPage, error) {
		resp, err := c.subscriptions.ListFollowing(ctx, followingRequest(user, token))
		return followingPage(resp), translate("ListFollowing", err)
	})
}

// Friends are user's accepted, not deleted friends whom user has not
// blacklisted: who is told user's presence.
func (c *Client) Friends(ctx context.Context, user int64) ([]int64, error) {
	return pages(nil, func(token string) (listPage, error) {
		r := friendsRequest(user, token)
		r.Blacklisted = proto.Bool(false)
		resp, err := c.friends.ListFriendships(ctx, r)
		return friendsPage(resp), translate("ListFriendships", err)
	})
}

// SetPresence records user's presence change at at (Users/SetPresence).
func (c *Client) SetPresence(ctx context.Context, user int64, online bool, at time.Time) (chat.LastSeen, error) {
	resp, err := c.users.SetPresence(ctx, &datav1.SetPresenceRequest{UserId: user, Online: online, AtMs: at.UnixMilli()})
	if err != nil {
		return chat.LastSeen{}, translate("SetPresence", err)
	}
	out := chat.LastSeen{Applied: resp.GetApplied(), Hidden: resp.GetLastSeenVisibility() == datav1.LastSeenVisibility_LAST_SEEN_VISIBILITY_NOBODY}
	if ms := resp.GetLastSeenMs(); ms > 0 {
		out.At = time.UnixMilli(ms)
	}
	return out, nil
}

// Blacklist are the users user has blacklisted.
func (c *Client) Blacklist(ctx context.Context, user int64) ([]int64, error) {
	return pages(nil, func(token string) (listPage, error) {
		resp, err := c.friends.ListFriendships(ctx, &datav1.ListFriendshipsRequest{
			UserId: user, Direction: datav1.FriendshipDirection_FRIENDSHIP_DIRECTION_OUTGOING,
			Blacklisted: proto.Bool(true), Limit: 1000, PageToken: token,
		})
		return friendsPage(resp), translate("ListFriendships", err)
	})
}

func cursorsOf(r *datav1.ListCursorsResponse) []chat.Cursor {
	out := make([]chat.Cursor, len(r.GetCursors()))
	for i, cu := range r.GetCursors() {
		out[i] = chat.Cursor{Device: cu.GetDeviceId(), Conversation: cu.GetConversation(), Acked: cu.GetAckedSeq()}
	}
	return out
}

// SessionStart reads the four lists with one SessionStartPlus call; a list
// longer than a page goes on with its own RPC. The DataService must know
// the RPC: upgrade it before the messageservice.
func (c *Client) SessionStart(ctx context.Context, user int64) (chat.SessionStart, error) {
	resp, err := c.messages.SessionStartPlus(ctx, &datav1.SessionStartPlusRequest{
		Friendships: friendsRequest(user, ""),
		Groups:      groupsRequest(user, ""),
		Following:   followingRequest(user, ""),
		Cursors:     &datav1.ListCursorsRequest{UserId: user, AllDevices: true},
	})
	if err != nil {
		return chat.SessionStart{}, translate("SessionStartPlus", err)
	}
	var st chat.SessionStart
	friends, groups, following := friendsPage(resp.GetFriendships()), groupsPage(resp.GetGroups()), followingPage(resp.GetFollowing())
	if st.Friends, err = c.friendsFrom(ctx, user, &friends); err != nil {
		return chat.SessionStart{}, err
	}
	if st.Groups, err = c.groupsFrom(ctx, user, &groups); err != nil {
		return chat.SessionStart{}, err
	}
	if st.Following, err = c.followingFrom(ctx, user, &following); err != nil {
		return chat.SessionStart{}, err
	}
	st.Cursors = cursorsOf(resp.GetCursors())
	return st, nil
}

// SetReadSeq stores a read seq; the DataService's FailedPrecondition (seq
// past the head) is chat.ErrReadAhead.
func (c *Client) SetReadSeq(ctx context.Context, user int64, conversation string, seq int64) (int64, bool, error) {
	resp, err := c.convs.SetReadSeq(ctx, &datav1.SetReadSeqRequest{UserId: user, Conversation: conversation, Seq: seq})
	if status.Code(err) == codes.FailedPrecondition {
		return 0, false, fmt.Errorf("SetReadSeq: %w", chat.ErrReadAhead)
	}
	if err != nil {
		return 0, false, translate("SetReadSeq", err)
	}
	return resp.GetReadSeq(), resp.GetChanged(), nil
}

// ReadStates reads every stored conversation state of user.
func (c *Client) ReadStates(ctx context.Context, user int64) ([]chat.ReadState, error) {
	resp, err := c.convs.GetConversationStates(ctx, &datav1.GetConversationStatesRequest{UserId: user})
	if err != nil {
		return nil, translate("GetConversationStates", err)
	}
	out := make([]chat.ReadState, len(resp.GetStates()))
	for i, s := range resp.GetStates() {
		out[i] = chat.ReadState{Conversation: s.GetConversation(), ReadSeq: s.GetReadSeq(), LastSentSeq: s.GetLastSentSeq(), UpdatedAt: s.GetUpdatedAt().AsTime()}
	}
	return out, nil
}

// CountReceipts counts readers and delivered users of messages.
func (c *Client) CountReceipts(ctx context.Context, qs []chat.ReceiptQuery) ([]chat.ReceiptCount, error) {
	req := &datav1.CountReceiptsRequest{Queries: make([]*datav1.ReceiptQuery, len(qs))}
	for i, q := range qs {
		req.Queries[i] = &datav1.ReceiptQuery{Conversation: q.Conversation, Seq: q.Seq, ExcludeUserIds: q.Exclude}
	}
	resp, err := c.convs.CountReceipts(ctx, req)
	if err != nil {
		return nil, translate("CountReceipts", err)
	}
	if len(resp.GetCounts()) != len(qs) {
		return nil, fmt.Errorf("CountReceipts: %d counts for %d queries", len(resp.GetCounts()), len(qs))
	}
	out := make([]chat.ReceiptCount, len(qs))
	for i, n := range resp.GetCounts() {
		out[i] = chat.ReceiptCount{Read: n.GetReadCount(), Delivered: n.GetDeliveredCount()}
	}
	return out, nil
}

// PeerReceipts reads users' read and delivered seqs.
func (c *Client) PeerReceipts(ctx context.Context, keys []chat.PeerReceipt) ([]chat.PeerReceipt, error) {
	req := &datav1.GetUserReceiptsRequest{Keys: make([]*datav1.UserReceiptKey, len(keys))}
	for i, k := range keys {
		req.Keys[i] = &datav1.UserReceiptKey{Conversation: k.Conversation, UserId: k.User}
	}
	resp, err := c.convs.GetUserReceipts(ctx, req)
	if err != nil {
		return nil, translate("GetUserReceipts", err)
	}
	if len(resp.GetReceipts()) != len(keys) {
		return nil, fmt.Errorf("GetUserReceipts: %d receipts for %d keys", len(resp.GetReceipts()), len(keys))
	}
	out := make([]chat.PeerReceipt, len(keys))
	for i, r := range resp.GetReceipts() {
		out[i] = chat.PeerReceipt{Conversation: r.GetConversation(), User: r.GetUserId(), ReadSeq: r.GetReadSeq(), DeliveredSeq: r.GetDeliveredSeq()}
	}
	return out, nil
}

// BlacklistedBy are the users who have blacklisted user (the rows about
// user, incoming, with blacklisted set).
func (c *Client) BlacklistedBy(ctx context.Context, user int64) ([]int64, error) {
	return pages(nil, func(token string) (listPage, error) {
		resp, err := c.friends.ListFriendships(ctx, &datav1.ListFriendshipsRequest{
			UserId: user, Direction: datav1.FriendshipDirection_FRIENDSHIP_DIRECTION_INCOMING,
			Blacklisted: proto.Bool(true), Limit: 1000, PageToken: token,
		})
		p := listPage{next: resp.GetNextPageToken()}
		for _, f := range resp.GetFriendships() {
			p.ids = append(p.ids, f.GetSelfId())
		}
		return p, translate("ListFriendships", err)
	})
}

// SetMentionSeqs records mentions (up to 1000) with one call.
func (c *Client) SetMentionSeqs(ctx context.Context, ms []chat.MentionSeq) error {
	req := &datav1.SetMentionSeqsRequest{Mentions: make([]*datav1.MentionSeq, len(ms))}
	for i, m := range ms {
		req.Mentions[i] = &datav1.MentionSeq{UserId: m.User, Conversation: m.Conversation, Seq: m.Seq}
	}
	if _, err := c.convs.SetMentionSeqs(ctx, req); err != nil {
		return translate("SetMentionSeqs", err)
	}
	return nil
}
