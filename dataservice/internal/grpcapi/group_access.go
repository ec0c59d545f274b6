package grpcapi

import (
	"context"
	"strconv"

	"github.com/privateim/privateim/dataservice/internal/store"
	datav1 "github.com/privateim/privateim/protos/data/v1"
)

// Who may join a group: joins, removals with bans, join requests and
// invites (protos/data/v1/groups.proto).

const (
	joinPolicyMax  = int32(datav1.GroupJoinPolicy_GROUP_JOIN_POLICY_INVITE)
	historyMax     = int32(datav1.GroupHistory_GROUP_HISTORY_ALL)
	joinKindMax    = int32(datav1.GroupJoinKind_GROUP_JOIN_KIND_INVITE)
	joinStateMax   = int32(datav1.GroupJoinState_GROUP_JOIN_STATE_CANCELLED)
	maxGroupMember = 100000
)

// groupAccess checks an UpdateGroupRequest's access settings.
func (c *checker) groupAccess(prefix string, r *datav1.UpdateGroupRequest) {
	if r.JoinPolicy != nil {
		c.enum(prefix+"join_policy", int32(r.GetJoinPolicy()), 1, joinPolicyMax)
	}
	if r.History != nil {
		c.enum(prefix+"history", int32(r.GetHistory()), 1, historyMax)
	}
}

func (s *groupsServer) JoinGroupPlus(ctx context.Context, r *datav1.JoinGroupPlusRequest) (*datav1.GroupMember, error) {
	var c checker
	c.id("group_id", r.GetGroupId())
	c.id("user_id", r.GetUserId())
	if r.GetMaxMembers() < 1 || r.GetMaxMembers() > maxGroupMember {
		c.add("max_members", "must be 1..%d", maxGroupMember)
	}
	c.nonNegative("join_seq", r.GetJoinSeq())
	c.groupNotice("notice", r.GetNotice())
	if err := c.err(); err != nil {
		return nil, err
	}
	joinSeq := r.GetJoinSeq()
	if joinSeq == 0 {
		// The member reads from the next message on. A message stored
		// between this read and the commit is readable too: it was sent
		// while the join was being stored.
		heads, err := s.docs.ConversationHeads(ctx, []string{groupConversation(r.GetGroupId())})
		if err != nil {
			return nil, s.fail(ctx, "join group: head", err)
		}
		joinSeq = heads[0] + 1
	}
	notice := s.groupNotice(r.GetNotice(), r.GetGroupId())
	m, err := s.rel.JoinGroupPlus(ctx, store.GroupMember{GroupID: r.GetGroupId(), UserID: r.GetUserId(), JoinSeq: joinSeq},
		int(r.GetMaxMembers()), r.GetFromRequest(), notice)
	if err != nil {
		return nil, s.fail(ctx, "join group", err)
	}
	return s.withNoticeSeq(ctx, memberPB(m), notice), nil
}

func (s *groupsServer) RemoveGroupMemberPlus(ctx context.Context, r *datav1.RemoveGroupMemberPlusRequest) (*datav1.GroupMember, error) {
	var c checker
	c.id("group_id", r.GetGroupId())
	c.id("user_id", r.GetUserId())
	if r.GetBan() {
		c.id("banned_by", r.GetBannedBy())
	}
	c.groupNotice("notice", r.GetNotice())
	if err := c.err(); err != nil {
		return nil, err
	}
	var ban *store.GroupBan
	if r.GetBan() {
		ban = &store.GroupBan{GroupID: r.GetGroupId(), UserID: r.GetUserId(), BannedBy: r.GetBannedBy(), CreatedAt: s.now()}
	}
	notice := s.groupNotice(r.GetNotice(), r.GetGroupId())
	m, err := s.rel.RemoveGroupMemberPlus(ctx, r.GetGroupId(), r.GetUserId(), ban, notice)
	if err != nil {
		return nil, s.fail(ctx, "remove group member", err)
	}
	return s.withNoticeSeq(ctx, memberPB(m), notice), nil
}

func banPB(b store.GroupBan) *datav1.GroupBan {
	return &datav1.GroupBan{GroupId: b.GroupID, UserId: b.UserID, BannedBy: b.BannedBy, CreatedAt: ts(b.CreatedAt)}
}

func (s *groupsServer) GetGroupBan(ctx context.Context, r *datav1.GetGroupBanRequest) (*datav1.GroupBan, error) {
	var c checker
	c.id("group_id", r.GetGroupId())
	c.id("user_id", r.GetUserId())
	if err := c.err(); err != nil {
		return nil, err
	}
	b, err := s.rel.GetGroupBan(ctx, r.GetGroupId(), r.GetUserId())
	if err != nil {
		return nil, s.fail(ctx, "get group ban", err)
	}
	return banPB(b), nil
}

func (s *groupsServer) ListGroupBans(ctx context.Context, r *datav1.ListGroupBansRequest) (*datav1.ListGroupBansResponse, error) {
	var c checker
	c.id("group_id", r.GetGroupId())
	p := c.page(r.GetLimit(), r.GetPageToken())
	if err := c.err(); err != nil {
		return nil, err
	}
	bs, next, err := s.rel.ListGroupBans(ctx, r.GetGroupId(), p)
	if err != nil {
		return nil, s.fail(ctx, "list group bans", err)
	}
	out := &datav1.ListGroupBansResponse{Bans: make([]*datav1.GroupBan, len(bs)), NextPageToken: encodePageToken(next)}
	for i, b := range bs {
		out.Bans[i] = banPB(b)
	}
	return out, nil
}

func (s *groupsServer) DeleteGroupBan(ctx context.Context, r *datav1.DeleteGroupBanRequest) (*datav1.GroupBan, error) {
	var c checker
	c.id("group_id", r.GetGroupId())
	c.id("user_id", r.GetUserId())
	if err := c.err(); err != nil {
		return nil, err
	}
	b, err := s.rel.DeleteGroupBan(ctx, r.GetGroupId(), r.GetUserId())
	if err != nil {
		return nil, s.fail(ctx, "delete group ban", err)
	}
	return banPB(b), nil
}

// joinRequestNoticeKind is the kind of the system messages about join
// requests and invites (JoinRequestNotice).
const joinRequestNoticeKind = "group_request"

// joinRequestNotice checks an optional JoinRequestNotice.
func (c *checker) joinRequestNotice(field string, n *datav1.JoinRequestNotice) {
	if n != nil {
		c.noticeFields(field, n.GetClientMsgId(), n.GetContent())
	}
}

// joinRequestNotice is the outbox message of a JoinRequestNotice to user,
// nil for none: in the user's own conversation, never anyone else's.
func (b *base) joinRequestNotice(n *datav1.JoinRequestNotice, user int64) *store.Message {
	if n == nil {
		return nil
	}
	return b.notice("sys:"+strconv.FormatInt(user, 10), joinRequestNoticeKind, n.GetClientMsgId(), n.GetContent())
}

// withJoinNoticeSeq appends a committed change's notice (nil: none) and
// puts its seq in j.
func (b *base) withJoinNoticeSeq(ctx context.Context, j *datav1.GroupJoinRequest, n *store.Message) *datav1.GroupJoinRequest {
	if n != nil {
		if stored, ok := b.appendNotice(ctx, *n); ok {
			j.NoticeSeq = stored.Seq
		}
	}
	return j
}

func joinPB(j store.GroupJoinRequest) *datav1.GroupJoinRequest {
	return &datav1.GroupJoinRequest{
		GroupId: j.GroupID, UserId: j.UserID, Kind: datav1.GroupJoinKind(j.Kind), InviterId: j.InviterID,
		State: datav1.GroupJoinState(j.State), CreatedAt: ts(j.CreatedAt), UpdatedAt: ts(j.UpdatedAt),
	}
}

func (s *groupsServer) PutGroupJoinRequest(ctx context.Context, r *datav1.PutGroupJoinRequestRequest) (*datav1.GroupJoinRequest, error) {
	var c checker
	c.id("group_id", r.GetGroupId())
	c.id("user_id", r.GetUserId())
	c.enum("kind", int32(r.GetKind()), 1, joinKindMax)
	if r.GetKind() == datav1.GroupJoinKind_GROUP_JOIN_KIND_INVITE {
		c.id("inviter_id", r.GetInviterId())
	} else {
		c.nonNegative("inviter_id", r.GetInviterId())
	}
	c.joinRequestNotice("notice", r.GetNotice())
	if err := c.err(); err != nil {
		return nil, err
	}
	notice := s.joinRequestNotice(r.GetNotice(), r.GetUserId())
	j, err := s.rel.PutGroupJoinRequest(ctx, store.GroupJoinRequest{
		GroupID: r.GetGroupId(), UserID: r.GetUserId(), Kind: store.JoinKind(r.GetKind()), InviterID: r.GetInviterId(),
	}, notice)
	if err != nil {
		return nil, s.fail(ctx, "put group join request", err)
	}
	return s.withJoinNoticeSeq(ctx, joinPB(j), notice), nil
}

func (s *groupsServer) GetGroupJoinRequest(ctx context.Context, r *datav1.GetGroupJoinRequestRequest) (*datav1.GroupJoinRequest, error) {
	var c checker
	c.id("group_id", r.GetGroupId())
	c.id("user_id", r.GetUserId())
	if err := c.err(); err != nil {
		return nil, err
	}
	j, err := s.rel.GetGroupJoinRequest(ctx, r.GetGroupId(), r.GetUserId())
	if err != nil {
		return nil, s.fail(ctx, "get group join request", err)
	}
	return joinPB(j), nil
}

func (s *groupsServer) UpdateGroupJoinRequest(ctx context.Context, r *datav1.UpdateGroupJoinRequestRequest) (*datav1.GroupJoinRequest, error) {
	var c checker
	c.id("group_id", r.GetGroupId())
	c.id("user_id", r.GetUserId())
	c.enum("state", int32(r.GetState()), 1, joinStateMax)
	c.enum("expected_state", int32(r.GetExpectedState()), 1, joinStateMax)
	if r.Kind != nil {
		c.enum("kind", int32(r.GetKind()), 1, joinKindMax)
	}
	c.joinRequestNotice("notice", r.GetNotice())
	if err := c.err(); err != nil {
		return nil, err
	}
	notice := s.joinRequestNotice(r.GetNotice(), r.GetUserId())
	j, err := s.rel.UpdateGroupJoinRequest(ctx, r.GetGroupId(), r.GetUserId(), store.JoinState(r.GetState()),
		store.JoinState(r.GetExpectedState()), optEnum[datav1.GroupJoinKind, store.JoinKind](r.Kind), notice)
	if err != nil {
		return nil, s.fail(ctx, "update group join request", err)
	}
	return s.withJoinNoticeSeq(ctx, joinPB(j), notice), nil
}

func (s *groupsServer) ListGroupJoinRequests(ctx context.Context, r *datav1.ListGroupJoinRequestsRequest) (*datav1.ListGroupJoinRequestsResponse, error) {
	var c checker
	if (r.GetGroupId() == 0) == (r.GetUserId() == 0) {
		c.add("group_id", "exactly one of group_id and user_id must be set")
	}
	c.nonNegative("group_id", r.GetGroupId())
	c.nonNegative("user_id", r.GetUserId())
	c.enum("kind", int32(r.GetKind()), 0, joinKindMax)
	p := c.page(r.GetLimit(), r.GetPageToken())
	if err := c.err(); err != nil {
		return nil, err
	}
	js, next, err := s.rel.ListGroupJoinRequests(ctx, store.JoinRequestFilter{GroupID: r.GetGroupId(), UserID: r.GetUserId(), Kind: store.JoinKind(r.GetKind())}, p)
	if err != nil {
		return nil, s.fail(ctx, "list group join requests", err)
	}
	out := &datav1.ListGroupJoinRequestsResponse{Requests: make([]*datav1.GroupJoinRequest, len(js)), NextPageToken: encodePageToken(next)}
	for i, j := range js {
		out.Requests[i] = joinPB(j)
	}
	return out, nil
}
