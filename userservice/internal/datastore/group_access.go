package datastore

import (
	"context"

	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/userservice/internal/group"
)

// The access half of group.Store: joins, bans, join requests and invites.

var _ group.AccessStore = (*Client)(nil)

func joinPolicyFromPB(p datav1.GroupJoinPolicy) group.JoinPolicy {
	switch p {
	case datav1.GroupJoinPolicy_GROUP_JOIN_POLICY_OPEN:
		return group.JoinOpen
	case datav1.GroupJoinPolicy_GROUP_JOIN_POLICY_INVITE:
		return group.JoinInvite
	}
	return group.JoinApproval
}

func joinPolicyToPB(p *group.JoinPolicy) *datav1.GroupJoinPolicy {
	if p == nil {
		return nil
	}
	v := map[group.JoinPolicy]datav1.GroupJoinPolicy{
		group.JoinOpen:     datav1.GroupJoinPolicy_GROUP_JOIN_POLICY_OPEN,
		group.JoinApproval: datav1.GroupJoinPolicy_GROUP_JOIN_POLICY_APPROVAL,
		group.JoinInvite:   datav1.GroupJoinPolicy_GROUP_JOIN_POLICY_INVITE,
	}[*p]
	return &v
}

func historyFromPB(h datav1.GroupHistory) group.History {
	if h == datav1.GroupHistory_GROUP_HISTORY_ALL {
		return group.HistoryAll
	}
	return group.HistoryJoined
}

func historyToPB(h *group.History) *datav1.GroupHistory {
	if h == nil {
		return nil
	}
	v := datav1.GroupHistory_GROUP_HISTORY_JOINED
	if *h == group.HistoryAll {
		v = datav1.GroupHistory_GROUP_HISTORY_ALL
	}
	return &v
}

var (
	joinStates = map[datav1.GroupJoinState]group.JoinState{
		datav1.GroupJoinState_GROUP_JOIN_STATE_PENDING:   group.StatePending,
		datav1.GroupJoinState_GROUP_JOIN_STATE_ACCEPTED:  group.StateAccepted,
		datav1.GroupJoinState_GROUP_JOIN_STATE_REJECTED:  group.StateRejected,
		datav1.GroupJoinState_GROUP_JOIN_STATE_CANCELLED: group.StateCancelled,
	}
	joinStatesPB = map[group.JoinState]datav1.GroupJoinState{
		group.StatePending:   datav1.GroupJoinState_GROUP_JOIN_STATE_PENDING,
		group.StateAccepted:  datav1.GroupJoinState_GROUP_JOIN_STATE_ACCEPTED,
		group.StateRejected:  datav1.GroupJoinState_GROUP_JOIN_STATE_REJECTED,
		group.StateCancelled: datav1.GroupJoinState_GROUP_JOIN_STATE_CANCELLED,
	}
)

func joinKindToPB(k group.JoinKind) datav1.GroupJoinKind {
	if k == group.KindInvite {
		return datav1.GroupJoinKind_GROUP_JOIN_KIND_INVITE
	}
	return datav1.GroupJoinKind_GROUP_JOIN_KIND_REQUEST
}

func joinRequestFromPB(r *datav1.GroupJoinRequest) group.JoinRequest {
	kind := group.KindRequest
	if r.GetKind() == datav1.GroupJoinKind_GROUP_JOIN_KIND_INVITE {
		kind = group.KindInvite
	}
	return group.JoinRequest{
		GroupID: r.GetGroupId(), UserID: r.GetUserId(), Kind: kind, InviterID: r.GetInviterId(), State: joinStates[r.GetState()],
		CreatedAt: r.GetCreatedAt().AsTime(), UpdatedAt: r.GetUpdatedAt().AsTime(), NoticeSeq: r.GetNoticeSeq(),
	}
}

func banFromPB(b *datav1.GroupBan) group.Ban {
	return group.Ban{GroupID: b.GetGroupId(), UserID: b.GetUserId(), BannedBy: b.GetBannedBy(), CreatedAt: b.GetCreatedAt().AsTime()}
}

// UserExists reports whether an account exists and is not deleted.
func (c *Client) UserExists(ctx context.Context, id int64) (bool, error) {
	u, err := c.users.GetUser(ctx, &datav1.GetUserRequest{Id: id})
	if err != nil {
		if err = translate("GetUser", err); isNotFound(err) {
			return false, nil
		}
		return false, err
	}
	return !u.GetDeleted(), nil
}

// JoinGroup stores a membership and its notice under the group's lock
// (JoinGroupPlus); seq is the notice's.
func (c *Client) JoinGroup(ctx context.Context, groupID, userID int64, maxMembers int, fromRequest bool, n group.Notice) (group.Member, int64, error) {
	pb, err := c.groups.JoinGroupPlus(ctx, &datav1.JoinGroupPlusRequest{GroupId: groupID, UserId: userID, MaxMembers: int32(maxMembers), FromRequest: fromRequest,
		Notice: groupNoticePB(n)})
	if err != nil {
		return group.Member{}, 0, translate("JoinGroupPlus", err)
	}
	return memberFromPB(pb), pb.GetNoticeSeq(), nil
}

// RemoveMember makes a member leave, banned by banBy unless 0, with the
// change's notice; seq is the notice's.
func (c *Client) RemoveMember(ctx context.Context, groupID, userID, banBy int64, n group.Notice) (int64, error) {
	pb, err := c.groups.RemoveGroupMemberPlus(ctx, &datav1.RemoveGroupMemberPlusRequest{GroupId: groupID, UserId: userID, Ban: banBy != 0, BannedBy: banBy,
		Notice: groupNoticePB(n)})
	if err != nil {
		return 0, translate("RemoveGroupMemberPlus", err)
	}
	return pb.GetNoticeSeq(), nil
}

func groupNoticePB(n group.Notice) *datav1.GroupNotice {
	return &datav1.GroupNotice{ClientMsgId: n.ClientMsgID, Content: n.Content}
}

// Ban reads a ban.
func (c *Client) Ban(ctx context.Context, groupID, userID int64) (group.Ban, error) {
	pb, err := c.groups.GetGroupBan(ctx, &datav1.GetGroupBanRequest{GroupId: groupID, UserId: userID})
	if err != nil {
		return group.Ban{}, translate("GetGroupBan", err)
	}
	return banFromPB(pb), nil
}

// Bans lists a group's bans.
func (c *Client) Bans(ctx context.Context, groupID int64, limit int, token string) ([]group.Ban, string, error) {
	resp, err := c.groups.ListGroupBans(ctx, &datav1.ListGroupBansRequest{GroupId: groupID, Limit: int32(limit), PageToken: token})
	if err != nil {
		return nil, "", translate("ListGroupBans", err)
	}
	out := make([]group.Ban, 0, len(resp.GetBans()))
	for _, b := range resp.GetBans() {
		out = append(out, banFromPB(b))
	}
	return out, resp.GetNextPageToken(), nil
}

// joinNoticePB is the user's notice of a join request change.
func joinNoticePB(n group.Notice) *datav1.JoinRequestNotice {
	return &datav1.JoinRequestNotice{ClientMsgId: n.ClientMsgID, Content: n.Content}
}

// PutJoinRequest files a pending request or invite with the user's notice.
func (c *Client) PutJoinRequest(ctx context.Context, r group.JoinRequest, notice group.Notice) (group.JoinRequest, error) {
	pb, err := c.groups.PutGroupJoinRequest(ctx, &datav1.PutGroupJoinRequestRequest{
		GroupId: r.GroupID, UserId: r.UserID, Kind: joinKindToPB(r.Kind), InviterId: r.InviterID, Notice: joinNoticePB(notice),
	})
	if err != nil {
		return group.JoinRequest{}, translate("PutGroupJoinRequest", err)
	}
	return joinRequestFromPB(pb), nil
}

// JoinRequest reads the latest request or invite of a user to a group.
func (c *Client) JoinRequest(ctx context.Context, groupID, userID int64) (group.JoinRequest, error) {
	pb, err := c.groups.GetGroupJoinRequest(ctx, &datav1.GetGroupJoinRequestRequest{GroupId: groupID, UserId: userID})
	if err != nil {
		return group.JoinRequest{}, translate("GetGroupJoinRequest", err)
	}
	return joinRequestFromPB(pb), nil
}

// AnswerJoinRequest moves a pending request or invite to state (and kind)
// with the user's notice.
func (c *Client) AnswerJoinRequest(ctx context.Context, groupID, userID int64, state group.JoinState, kind group.JoinKind, notice group.Notice) (group.JoinRequest, error) {
	req := &datav1.UpdateGroupJoinRequestRequest{
		GroupId: groupID, UserId: userID, State: joinStatesPB[state], ExpectedState: datav1.GroupJoinState_GROUP_JOIN_STATE_PENDING,
		Notice: joinNoticePB(notice),
	}
	if kind != "" {
		k := joinKindToPB(kind)
		req.Kind = &k
	}
	pb, err := c.groups.UpdateGroupJoinRequest(ctx, req)
	if err != nil {
		return group.JoinRequest{}, translate("UpdateGroupJoinRequest", err)
	}
	return joinRequestFromPB(pb), nil
}

// JoinRequests lists pending requests and invites of a group or a user.
func (c *Client) JoinRequests(ctx context.Context, groupID, userID int64, limit int, token string) ([]group.JoinRequest, string, error) {
	resp, err := c.groups.ListGroupJoinRequests(ctx, &datav1.ListGroupJoinRequestsRequest{GroupId: groupID, UserId: userID, Limit: int32(limit), PageToken: token})
	if err != nil {
		return nil, "", translate("ListGroupJoinRequests", err)
	}
	out := make([]group.JoinRequest, 0, len(resp.GetRequests()))
	for _, r := range resp.GetRequests() {
		out = append(out, joinRequestFromPB(r))
	}
	return out, resp.GetNextPageToken(), nil
}
