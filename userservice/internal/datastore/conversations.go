package datastore

import (
	"context"
	"slices"

	"google.golang.org/protobuf/proto"

	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/userservice/internal/conversation"
)

var _ conversation.Store = (*Client)(nil)

// listAll collects every page of a list of up to 1000 rows a page.
func listAll[T any](page func(token string) ([]T, string, error)) ([]T, error) {
	var out []T
	token := ""
	for {
		rows, next, err := page(token)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
		if next == "" {
			return out, nil
		}
		token = next
	}
}

// FriendIDs implements conversation.Store.
func (c *Client) FriendIDs(ctx context.Context, user int64) ([]int64, error) {
	return listAll(func(token string) ([]int64, string, error) {
		resp, err := c.friends.ListFriendships(ctx, &datav1.ListFriendshipsRequest{
			UserId: user, Direction: datav1.FriendshipDirection_FRIENDSHIP_DIRECTION_OUTGOING,
			Accepted: proto.Bool(true), Deleted: proto.Bool(false), Limit: 1000, PageToken: token,
		})
		if err != nil {
			return nil, "", translate("ListFriendships", err)
		}
		ids := make([]int64, len(resp.GetFriendships()))
		for i, f := range resp.GetFriendships() {
			ids[i] = f.GetFriendId()
		}
		return ids, resp.GetNextPageToken(), nil
	})
}

// Blockers implements conversation.Store.
func (c *Client) Blockers(ctx context.Context, user int64) ([]int64, error) {
	return listAll(func(token string) ([]int64, string, error) {
		resp, err := c.friends.ListFriendships(ctx, &datav1.ListFriendshipsRequest{
			UserId: user, Direction: datav1.FriendshipDirection_FRIENDSHIP_DIRECTION_INCOMING,
			Blacklisted: proto.Bool(true), Limit: 1000, PageToken: token,
		})
		if err != nil {
			return nil, "", translate("ListFriendships", err)
		}
		ids := make([]int64, len(resp.GetFriendships()))
		for i, f := range resp.GetFriendships() {
			ids[i] = f.GetSelfId()
		}
		return ids, resp.GetNextPageToken(), nil
	})
}

// Memberships implements conversation.Store.
func (c *Client) Memberships(ctx context.Context, user int64) ([]conversation.Membership, error) {
	return listAll(func(token string) ([]conversation.Membership, string, error) {
		resp, err := c.groups.ListMemberships(ctx, &datav1.ListMembershipsRequest{UserId: user, Limit: 1000, PageToken: token})
		if err != nil {
			return nil, "", translate("ListMemberships", err)
		}
		out := make([]conversation.Membership, len(resp.GetMemberships()))
		for i, m := range resp.GetMemberships() {
			out[i] = conversation.Membership{
				GroupID: m.GetMember().GetGroupId(), JoinSeq: m.GetMember().GetJoinSeq(),
				HistoryAll: m.GetHistory() == datav1.GroupHistory_GROUP_HISTORY_ALL,
			}
		}
		return out, resp.GetNextPageToken(), nil
	})
}

// FollowingIDs implements conversation.Store.
func (c *Client) FollowingIDs(ctx context.Context, user int64) ([]int64, error) {
	return listAll(func(token string) ([]int64, string, error) {
		resp, err := c.subscriptions.ListFollowing(ctx, &datav1.ListFollowingRequest{UserId: user, Limit: 1000, PageToken: token})
		if err != nil {
			return nil, "", translate("ListFollowing", err)
		}
		ids := make([]int64, 0, len(resp.GetSubscriptions()))
		for _, s := range resp.GetSubscriptions() {
			if !s.GetDeleted() {
				ids = append(ids, s.GetId())
			}
		}
		return ids, resp.GetNextPageToken(), nil
	})
}

// Follows implements conversation.Store: one follower row (a deleted
// subscription's followers are marked left).
func (c *Client) Follows(ctx context.Context, subscription, user int64) (bool, error) {
	f, err := c.subscriptions.GetFollower(ctx, &datav1.GetFollowerRequest{SubscriptionId: subscription, UserId: user})
	if err != nil {
		if err = translate("GetFollower", err); isNotFound(err) {
			return false, nil
		}
		return false, err
	}
	return !f.GetLeft(), nil
}

// Entries implements conversation.Store, in calls of up to 2000.
func (c *Client) Entries(ctx context.Context, user int64, qs []conversation.EntryQuery) ([]conversation.Entry, error) {
	out := make([]conversation.Entry, 0, len(qs))
	for chunk := range slices.Chunk(qs, maxHeads) {
		req := &datav1.GetUnreadPlusRequest{UserId: user, Conversations: make([]*datav1.UnreadQuery, len(chunk))}
		for i, q := range chunk {
			req.Conversations[i] = &datav1.UnreadQuery{Conversation: q.Conversation, FloorSeq: q.FloorSeq}
		}
		resp, err := c.conversations.GetUnreadPlus(ctx, req)
		if err != nil {
			return nil, translate("GetUnreadPlus", err)
		}
		for _, e := range resp.GetEntries() {
			en := conversation.Entry{
				Head:  conversation.Head{Conversation: e.GetConversation(), HeadSeq: e.GetHeadSeq()},
				State: stateFromPB(e.GetState()), Unread: e.GetUnread(),
			}
			if e.GetUpdatedAt() != nil {
				en.Head.UpdatedAt = e.GetUpdatedAt().AsTime()
			}
			en.State.Conversation = e.GetConversation()
			out = append(out, en)
		}
	}
	return out, nil
}

// UnreadTotal implements conversation.Store, in calls of up to 2000
// (GetUnreadPlus total_only).
func (c *Client) UnreadTotal(ctx context.Context, user int64, qs []conversation.EntryQuery) (int64, error) {
	var n int64
	for chunk := range slices.Chunk(qs, maxHeads) {
		req := &datav1.GetUnreadPlusRequest{UserId: user, TotalOnly: true, Conversations: make([]*datav1.UnreadQuery, len(chunk))}
		for i, q := range chunk {
			req.Conversations[i] = &datav1.UnreadQuery{Conversation: q.Conversation, FloorSeq: q.FloorSeq}
		}
		resp, err := c.conversations.GetUnreadPlus(ctx, req)
		if err != nil {
			return 0, translate("GetUnreadPlus", err)
		}
		n += resp.GetTotal()
	}
	return n, nil
}

func stateFromPB(s *datav1.ConversationState) conversation.State {
	return conversation.State{
		Conversation: s.GetConversation(), ReadSeq: s.GetReadSeq(),
		Muted: s.GetMuted(), Pinned: s.GetPinned(), HiddenSeq: s.GetHiddenSeq(), MentionSeq: s.GetMentionSeq(),
	}
}

// maxHeads is the most conversations one GetHeads names.
const maxHeads = 2000

// Heads implements conversation.Store, in calls of up to 2000.
func (c *Client) Heads(ctx context.Context, conversations []string, contentLimit int) ([]conversation.Head, error) {
	out := make([]conversation.Head, 0, len(conversations))
	for chunk := range slices.Chunk(conversations, maxHeads) {
		resp, err := c.conversations.GetHeads(ctx, &datav1.GetHeadsRequest{Conversations: chunk, ContentLimit: int32(contentLimit), HeadsOnly: contentLimit == 0})
		if err != nil {
			return nil, translate("GetHeads", err)
		}
		for _, h := range resp.GetHeads() {
			hd := conversation.Head{Conversation: h.GetConversation(), HeadSeq: h.GetHeadSeq()}
			if h.GetUpdatedAt() != nil {
				hd.UpdatedAt = h.GetUpdatedAt().AsTime()
			}
			if m := h.GetLastMessage(); m != nil && h.GetHeadSeq() > 0 {
				hd.Last = &conversation.Message{
					Seq: m.GetSeq(), SenderID: m.GetSenderId(), Kind: m.GetKind(), Content: m.GetContent(),
					Truncated: h.GetContentTruncated(), CreatedAt: m.GetCreatedAt().AsTime(),
				}
			}
			out = append(out, hd)
		}
	}
	return out, nil
}

// UpdateSettings implements conversation.Store.
func (c *Client) UpdateSettings(ctx context.Context, user int64, conv string, s conversation.Settings) (conversation.State, error) {
	st, err := c.conversations.UpdateConversationSettings(ctx, &datav1.UpdateConversationSettingsRequest{
		UserId: user, Conversation: conv, Muted: s.Muted, Pinned: s.Pinned, Hidden: s.Hidden,
	})
	if err != nil {
		return conversation.State{}, translate("UpdateConversationSettings", err)
	}
	return stateFromPB(st), nil
}

// Readers implements conversation.Store.
func (c *Client) Readers(ctx context.Context, conv string, seq int64, exclude []int64, after int64, limit int) ([]int64, bool, error) {
	resp, err := c.conversations.ListReaders(ctx, &datav1.ListReadersRequest{
		Conversation: conv, Seq: seq, ExcludeUserIds: exclude, AfterUserId: after, Limit: int32(limit),
	})
	if err != nil {
		return nil, false, translate("ListReaders", err)
	}
	return resp.GetUserIds(), resp.GetHasMore(), nil
}

// UserNames implements conversation.Store.
func (c *Client) UserNames(ctx context.Context, ids []int64) (map[int64]conversation.Named, error) {
	out := make(map[int64]conversation.Named, len(ids))
	for chunk := range slices.Chunk(ids, 1000) {
		resp, err := c.users.GetUsers(ctx, &datav1.GetUsersRequest{Ids: chunk})
		if err != nil {
			return nil, translate("GetUsers", err)
		}
		for _, u := range resp.GetUsers() {
			if !u.GetDeleted() {
				out[u.GetId()] = conversation.Named{Name: u.GetName(), Avatar: u.GetAvatar()}
			}
		}
	}
	return out, nil
}

// GroupInfos implements conversation.Store.
func (c *Client) GroupInfos(ctx context.Context, ids []int64) (map[int64]conversation.GroupInfo, error) {
	out := make(map[int64]conversation.GroupInfo, len(ids))
	for chunk := range slices.Chunk(ids, 1000) {
		resp, err := c.groups.GetGroups(ctx, &datav1.GetGroupsRequest{Ids: chunk})
		if err != nil {
			return nil, translate("GetGroups", err)
		}
		for _, g := range resp.GetGroups() {
			if !g.GetDismissed() {
				out[g.GetId()] = conversation.GroupInfo{Named: conversation.Named{Name: g.GetName(), Avatar: g.GetAvatar()}, Members: g.GetMemberCount()}
			}
		}
	}
	return out, nil
}

// SubscriptionNames implements conversation.Store.
func (c *Client) SubscriptionNames(ctx context.Context, ids []int64) (map[int64]conversation.Named, error) {
	out := make(map[int64]conversation.Named, len(ids))
	for chunk := range slices.Chunk(ids, 1000) {
		resp, err := c.subscriptions.GetSubscriptions(ctx, &datav1.GetSubscriptionsRequest{Ids: chunk})
		if err != nil {
			return nil, translate("GetSubscriptions", err)
		}
		for _, s := range resp.GetSubscriptions() {
			if !s.GetDeleted() {
				out[s.GetId()] = conversation.Named{Name: s.GetName(), Avatar: s.GetAvatar()}
			}
		}
	}
	return out, nil
}

// IsMember implements conversation.Store.
func (c *Client) IsMember(ctx context.Context, group, user int64) (bool, error) {
	m, err := c.Member(ctx, group, user)
	if isNotFound(err) {
		return false, nil
	}
	return err == nil && !m.Left, err
}

// MemberIDs implements conversation.Store.
func (c *Client) MemberIDs(ctx context.Context, group int64) ([]int64, error) {
	return listAll(func(token string) ([]int64, string, error) {
		ms, next, err := c.MembersInfo(ctx, group, 1000, token)
		ids := make([]int64, 0, len(ms))
		for _, m := range ms {
			if !m.Member.Left {
				ids = append(ids, m.Member.UserID)
			}
		}
		return ids, next, err
	})
}
