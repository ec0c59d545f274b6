package datastore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/userservice/internal/group"
)

var _ group.Store = (*Client)(nil)

func isNotFound(err error) bool { return errors.Is(err, errs.ErrNotFound) }

// CreateGroup stores a group with its owner and first members and its
// notice at once.
func (c *Client) CreateGroup(ctx context.Context, name string, ownerID int64, memberIDs []int64, n group.Notice) (group.Group, int64, error) {
	resp, err := c.groupChanges.CreateGroupNoticePlus(ctx, &datav1.CreateGroupNoticePlusRequest{
		Group:  &datav1.CreateGroupPlusRequest{Name: name, OwnerId: ownerID, MemberIds: memberIDs},
		Notice: noticePB(n),
	})
	if err != nil {
		return group.Group{}, 0, translate("CreateGroupNoticePlus", err)
	}
	return groupFromPB(resp.GetGroup()), resp.GetNotice().GetSeq(), nil
}

func noticePB(n group.Notice) *datav1.AppendMessageRequest {
	return &datav1.AppendMessageRequest{ClientMsgId: n.ClientMsgID, Kind: group.NoticeKind, Content: n.Content}
}

// ChangeGroup applies a change with its notice (ChangeGroupPlus). The
// caps' preconditions become the feature's errors.
func (c *Client) ChangeGroup(ctx context.Context, ch group.Change) (group.ChangeResult, error) {
	req := &datav1.ChangeGroupPlusRequest{
		GroupId: ch.GroupID, ActorId: ch.ActorID, ActorMinRole: rolePB(ch.ActorMinRole),
		MaxAdmins: int32(ch.MaxAdmins), MaxMembers: int32(ch.MaxMembers), Notice: noticePB(ch.Notice),
	}
	if u := ch.Group; u != nil {
		req.Group = &datav1.UpdateGroupRequest{Name: u.Name, Avatar: u.Avatar, OwnerId: u.OwnerID, Dismissed: u.Dismissed, MuteAll: u.MuteAll,
			JoinPolicy: joinPolicyToPB(u.JoinPolicy), History: historyToPB(u.History), InviteNeedsApproval: u.InviteNeedsApproval}
		if a := u.Announcement; a != nil {
			req.Group.Announcement, req.Group.AnnouncementBy = &a.Text, a.AuthorID
			req.Group.AnnouncementAt = timestamppb.New(a.At)
		}
	}
	for _, m := range ch.Members {
		mc := &datav1.GroupMemberChange{UserId: m.UserID, Add: m.Add, Role: rolePB(m.Role), ExpectRole: rolePB(m.ExpectRole), Unban: m.Unban}
		if !m.Add && !m.Unban {
			mc.Update = memberUpdatePB(m.Update)
		}
		req.Members = append(req.Members, mc)
	}
	resp, err := c.groupChanges.ChangeGroupPlus(ctx, req)
	if err != nil {
		err = translate("ChangeGroupPlus", err)
		var se *errs.StoreError
		if errors.As(err, &se) && errors.Is(err, errs.ErrPrecondition) {
			switch se.Reason {
			case datav1.Refusal_REFUSAL_ADMIN_LIMIT.String():
				return group.ChangeResult{}, fmt.Errorf("%w: %w", group.ErrAdminLimit, err)
			case datav1.Refusal_REFUSAL_MEMBER_LIMIT.String():
				return group.ChangeResult{}, fmt.Errorf("%w: %w", group.ErrFull, err)
			}
		}
		return group.ChangeResult{}, err
	}
	out := group.ChangeResult{Group: groupFromPB(resp.GetGroup()), NoticeSeq: resp.GetNotice().GetSeq()}
	for _, m := range resp.GetMembers() {
		out.Members = append(out.Members, memberFromPB(m))
	}
	return out, nil
}

func memberUpdatePB(u group.MemberUpdate) *datav1.UpdateGroupMemberRequest {
	r := &datav1.UpdateGroupMemberRequest{Nickname: u.Nickname, Left: u.Left}
	if u.Role != nil {
		r.Role = rolePB(*u.Role).Enum()
	}
	if u.MutedUntil != nil {
		r.MutedUntil = &timestamppb.Timestamp{} // the zero Timestamp unmutes
		if !u.MutedUntil.IsZero() {
			r.MutedUntil = timestamppb.New(*u.MutedUntil)
		}
	}
	return r
}

func rolePB(r group.Role) datav1.GroupRole {
	switch r {
	case group.RoleOwner:
		return datav1.GroupRole_GROUP_ROLE_OWNER
	case group.RoleAdmin:
		return datav1.GroupRole_GROUP_ROLE_ADMIN
	case group.RoleMember:
		return datav1.GroupRole_GROUP_ROLE_MEMBER
	}
	return datav1.GroupRole_GROUP_ROLE_UNSPECIFIED
}

// Group reads a group.
func (c *Client) Group(ctx context.Context, id int64) (group.Group, error) {
	pb, err := c.groups.GetGroup(ctx, &datav1.GetGroupRequest{Id: id})
	if err != nil {
		return group.Group{}, translate("GetGroup", err)
	}
	return groupFromPB(pb), nil
}

// Groups reads groups by id; unknown ids are left out.
func (c *Client) Groups(ctx context.Context, ids []int64) ([]group.Group, error) {
	resp, err := c.groups.GetGroups(ctx, &datav1.GetGroupsRequest{Ids: ids})
	if err != nil {
		return nil, translate("GetGroups", err)
	}
	return groupsFromPB(resp.GetGroups()), nil
}

// UpdateGroup changes the fields u sets.
func (c *Client) UpdateGroup(ctx context.Context, id int64, u group.Update) (group.Group, error) {
	pb, err := c.groups.UpdateGroup(ctx, &datav1.UpdateGroupRequest{Id: id, Name: u.Name, Dismissed: u.Dismissed, Avatar: u.Avatar,
		JoinPolicy: joinPolicyToPB(u.JoinPolicy), History: historyToPB(u.History), InviteNeedsApproval: u.InviteNeedsApproval})
	if err != nil {
		return group.Group{}, translate("UpdateGroup", err)
	}
	return groupFromPB(pb), nil
}

// GroupsOf lists the live groups userID is a member of.
func (c *Client) GroupsOf(ctx context.Context, userID int64, limit int, token string) ([]group.Group, string, error) {
	resp, err := c.groups.ListGroupsByMember(ctx, &datav1.ListGroupsByMemberRequest{UserId: userID, Limit: int32(limit), PageToken: token})
	if err != nil {
		return nil, "", translate("ListGroupsByMember", err)
	}
	return groupsFromPB(resp.GetGroups()), resp.GetNextPageToken(), nil
}

// Member reads a membership (left ones too).
func (c *Client) Member(ctx context.Context, groupID, userID int64) (group.Member, error) {
	pb, err := c.groups.GetGroupMember(ctx, &datav1.GetGroupMemberRequest{GroupId: groupID, UserId: userID})
	if err != nil {
		return group.Member{}, translate("GetGroupMember", err)
	}
	return memberFromPB(pb), nil
}

// UpdateMember changes the fields u sets.
func (c *Client) UpdateMember(ctx context.Context, groupID, userID int64, u group.MemberUpdate) (group.Member, error) {
	req := memberUpdatePB(u)
	req.GroupId, req.UserId = groupID, userID
	pb, err := c.groups.UpdateGroupMember(ctx, req)
	if err != nil {
		return group.Member{}, translate("UpdateGroupMember", err)
	}
	return memberFromPB(pb), nil
}

// MembersInfo lists the members with their profiles.
func (c *Client) MembersInfo(ctx context.Context, groupID int64, limit int, token string) ([]group.MemberInfo, string, error) {
	resp, err := c.groups.GroupMembersInfoPlus(ctx, &datav1.GroupMembersInfoPlusRequest{GroupId: groupID, Limit: int32(limit), PageToken: token})
	if err != nil {
		return nil, "", translate("GroupMembersInfoPlus", err)
	}
	out := make([]group.MemberInfo, 0, len(resp.GetMembers()))
	for _, mi := range resp.GetMembers() {
		u := mi.GetUser()
		out = append(out, group.MemberInfo{
			Member: memberFromPB(mi.GetMember()),
			User:   group.Profile{ID: u.GetId(), Name: u.GetName(), Avatar: u.GetAvatar(), Deleted: u.GetDeleted()},
		})
	}
	return out, resp.GetNextPageToken(), nil
}

func groupFromPB(g *datav1.Group) group.Group {
	return group.Group{
		ID:          g.GetId(),
		Name:        g.GetName(),
		OwnerID:     g.GetOwnerId(),
		Avatar:      g.GetAvatar(),
		Dismissed:   g.GetDismissed(),
		MemberCount: g.GetMemberCount(),
		CreatedAt:   g.GetCreatedAt().AsTime(),
		UpdatedAt:   g.GetUpdatedAt().AsTime(),

		JoinPolicy:          joinPolicyFromPB(g.GetJoinPolicy()),
		History:             historyFromPB(g.GetHistory()),
		InviteNeedsApproval: g.GetInviteNeedsApproval(),
		MuteAll:             g.GetMuteAll(),
		Announcement: group.Announcement{Text: g.GetAnnouncement(), AuthorID: g.GetAnnouncementBy(),
			At: optTime(g.GetAnnouncementAt())},
	}
}

// optTime is an optional timestamp's time, zero when unset.
func optTime(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime()
}

func groupsFromPB(gs []*datav1.Group) []group.Group {
	out := make([]group.Group, 0, len(gs))
	for _, g := range gs {
		out = append(out, groupFromPB(g))
	}
	return out
}

func memberFromPB(m *datav1.GroupMember) group.Member {
	role := group.RoleMember
	switch m.GetRole() {
	case datav1.GroupRole_GROUP_ROLE_OWNER:
		role = group.RoleOwner
	case datav1.GroupRole_GROUP_ROLE_ADMIN:
		role = group.RoleAdmin
	}
	return group.Member{
		GroupID:    m.GetGroupId(),
		UserID:     m.GetUserId(),
		Nickname:   m.GetNickname(),
		Role:       role,
		Left:       m.GetLeft(),
		JoinedAt:   m.GetJoinedAt().AsTime(),
		JoinSeq:    m.GetJoinSeq(),
		MutedUntil: optTime(m.GetMutedUntil()),
	}
}
