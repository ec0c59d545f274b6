package datastore

import (
	"context"
	"errors"

	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/userservice/internal/group"
)

var _ group.Store = (*Client)(nil)

func isNotFound(err error) bool { return errors.Is(err, errs.ErrNotFound) }

// CreateGroup stores a group with its owner and first members at once.
func (c *Client) CreateGroup(ctx context.Context, name string, ownerID int64, memberIDs []int64) (group.Group, error) {
	resp, err := c.groups.CreateGroupPlus(ctx, &datav1.CreateGroupPlusRequest{Name: name, OwnerId: ownerID, MemberIds: memberIDs})
	if err != nil {
		return group.Group{}, translate("CreateGroupPlus", err)
	}
	return groupFromPB(resp.GetGroup()), nil
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

// AddMember makes userID a member.
func (c *Client) AddMember(ctx context.Context, groupID, userID int64) error {
	_, err := c.groups.AddGroupMember(ctx, &datav1.AddGroupMemberRequest{GroupId: groupID, UserId: userID, Role: datav1.GroupRole_GROUP_ROLE_MEMBER})
	return translate("AddGroupMember", err)
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
	pb, err := c.groups.UpdateGroupMember(ctx, &datav1.UpdateGroupMemberRequest{GroupId: groupID, UserId: userID, Nickname: u.Nickname, Left: u.Left})
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

// TransferGroup moves ownership from one member to another.
func (c *Client) TransferGroup(ctx context.Context, groupID, from, to int64) (group.Group, error) {
	pb, err := c.groups.TransferGroupPlus(ctx, &datav1.TransferGroupPlusRequest{GroupId: groupID, FromOwnerId: from, NewOwnerId: to})
	if err != nil {
		return group.Group{}, translate("TransferGroupPlus", err)
	}
	return groupFromPB(pb), nil
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
	}
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
		GroupID:  m.GetGroupId(),
		UserID:   m.GetUserId(),
		Nickname: m.GetNickname(),
		Role:     role,
		Left:     m.GetLeft(),
		JoinedAt: m.GetJoinedAt().AsTime(),
		JoinSeq:  m.GetJoinSeq(),
	}
}
