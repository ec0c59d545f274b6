package grpcapi

import (
	"context"

	"github.com/privateim/privateim/dataservice/internal/store"
	datav1 "github.com/privateim/privateim/protos/data/v1"
)

type groupsServer struct {
	datav1.UnimplementedGroupsServer
	*base
}

const roleMax = int32(datav1.GroupRole_GROUP_ROLE_OWNER)

func (s *groupsServer) CreateGroupPlus(ctx context.Context, r *datav1.CreateGroupPlusRequest) (*datav1.CreateGroupPlusResponse, error) {
	var c checker
	c.name("name", r.GetName(), maxNameRunes)
	c.id("owner_id", r.GetOwnerId())
	c.maxBytes("avatar", r.GetAvatar(), maxURLBytes)
	c.ids("member_ids", r.GetMemberIds(), 0)
	c.enum("join_policy", int32(r.GetJoinPolicy()), 0, joinPolicyMax)
	c.enum("history", int32(r.GetHistory()), 0, historyMax)
	if err := c.err(); err != nil {
		return nil, err
	}
	now := s.now()
	g, ms, err := s.rel.CreateGroupPlus(ctx, store.Group{
		ID:        s.ids.Next(),
		Name:      r.GetName(),
		OwnerID:   r.GetOwnerId(),
		Avatar:    r.GetAvatar(),
		CreatedAt: now,
		UpdatedAt: now,

		JoinPolicy:          store.JoinPolicy(r.GetJoinPolicy()),
		History:             store.History(r.GetHistory()),
		InviteNeedsApproval: r.GetInviteNeedsApproval(),
	}, r.GetMemberIds())
	if err != nil {
		return nil, s.fail(ctx, "create group", err)
	}
	return &datav1.CreateGroupPlusResponse{Group: groupPB(g), Members: membersPB(ms)}, nil
}

func (s *groupsServer) GetGroup(ctx context.Context, r *datav1.GetGroupRequest) (*datav1.Group, error) {
	var c checker
	c.id("id", r.GetId())
	if err := c.err(); err != nil {
		return nil, err
	}
	g, err := s.rel.GetGroup(ctx, r.GetId())
	if err != nil {
		return nil, s.fail(ctx, "get group", err)
	}
	return groupPB(g), nil
}

func (s *groupsServer) GetGroups(ctx context.Context, r *datav1.GetGroupsRequest) (*datav1.GetGroupsResponse, error) {
	var c checker
	c.ids("ids", r.GetIds(), 1)
	if err := c.err(); err != nil {
		return nil, err
	}
	gs, err := s.rel.GetGroups(ctx, r.GetIds())
	if err != nil {
		return nil, s.fail(ctx, "get groups", err)
	}
	return &datav1.GetGroupsResponse{Groups: groupsPB(gs)}, nil
}

func (s *groupsServer) SearchGroups(ctx context.Context, r *datav1.SearchGroupsRequest) (*datav1.SearchGroupsResponse, error) {
	var c checker
	c.name("name_prefix", r.GetNamePrefix(), maxNameRunes)
	p := c.page(r.GetLimit(), r.GetPageToken())
	if err := c.err(); err != nil {
		return nil, err
	}
	gs, next, err := s.rel.SearchGroups(ctx, r.GetNamePrefix(), r.GetIncludeDismissed(), p)
	if err != nil {
		return nil, s.fail(ctx, "search groups", err)
	}
	return &datav1.SearchGroupsResponse{Groups: groupsPB(gs), NextPageToken: encodePageToken(next)}, nil
}

func (s *groupsServer) UpdateGroup(ctx context.Context, r *datav1.UpdateGroupRequest) (*datav1.Group, error) {
	var c checker
	c.id("id", r.GetId())
	c.optName("name", r.Name, maxNameRunes)
	c.optBytes("avatar", r.Avatar, maxURLBytes)
	c.optBytes("qr_code", r.QrCode, maxURLBytes)
	c.optID("owner_id", r.OwnerId)
	c.groupAccess("", r)
	c.groupModeration("", r)
	if err := c.err(); err != nil {
		return nil, err
	}
	g, err := s.rel.UpdateGroup(ctx, r.GetId(), groupUpdateOf(r))
	if err != nil {
		return nil, s.fail(ctx, "update group", err)
	}
	return groupPB(g), nil
}

func (s *groupsServer) ListGroupsByMember(ctx context.Context, r *datav1.ListGroupsByMemberRequest) (*datav1.ListGroupsResponse, error) {
	var c checker
	c.id("user_id", r.GetUserId())
	p := c.page(r.GetLimit(), r.GetPageToken())
	if err := c.err(); err != nil {
		return nil, err
	}
	gs, next, err := s.rel.ListGroupsByMember(ctx, r.GetUserId(), r.GetIncludeDismissed(), p)
	if err != nil {
		return nil, s.fail(ctx, "list groups by member", err)
	}
	return &datav1.ListGroupsResponse{Groups: groupsPB(gs), NextPageToken: encodePageToken(next)}, nil
}

func (s *groupsServer) ListMemberships(ctx context.Context, r *datav1.ListMembershipsRequest) (*datav1.ListMembershipsResponse, error) {
	var c checker
	c.id("user_id", r.GetUserId())
	p := c.page(r.GetLimit(), r.GetPageToken())
	if err := c.err(); err != nil {
		return nil, err
	}
	ms, next, err := s.rel.ListMemberships(ctx, r.GetUserId(), p)
	if err != nil {
		return nil, s.fail(ctx, "list memberships", err)
	}
	out := &datav1.ListMembershipsResponse{Memberships: make([]*datav1.Membership, len(ms)), NextPageToken: encodePageToken(next)}
	for i, m := range ms {
		out.Memberships[i] = &datav1.Membership{Member: memberPB(m.Member), History: datav1.GroupHistory(m.History)}
	}
	return out, nil
}

func (s *groupsServer) AddGroupMember(ctx context.Context, r *datav1.AddGroupMemberRequest) (*datav1.GroupMember, error) {
	var c checker
	c.id("group_id", r.GetGroupId())
	c.id("user_id", r.GetUserId())
	c.enum("role", int32(r.GetRole()), 0, roleMax)
	c.maxRunes("nickname", r.GetNickname(), maxNameRunes)
	if err := c.err(); err != nil {
		return nil, err
	}
	role := store.GroupRole(r.GetRole())
	if role == 0 {
		role = store.RoleMember
	}
	now := s.now()
	m, err := s.rel.AddGroupMember(ctx, store.GroupMember{
		GroupID:   r.GetGroupId(),
		UserID:    r.GetUserId(),
		Nickname:  r.GetNickname(),
		Role:      role,
		JoinedAt:  now,
		UpdatedAt: now,
	})
	if err != nil {
		return nil, s.fail(ctx, "add group member", err)
	}
	return memberPB(m), nil
}

func (s *groupsServer) GetGroupMember(ctx context.Context, r *datav1.GetGroupMemberRequest) (*datav1.GroupMember, error) {
	var c checker
	c.id("group_id", r.GetGroupId())
	c.id("user_id", r.GetUserId())
	if err := c.err(); err != nil {
		return nil, err
	}
	m, err := s.rel.GetGroupMember(ctx, r.GetGroupId(), r.GetUserId())
	if err != nil {
		return nil, s.fail(ctx, "get group member", err)
	}
	return memberPB(m), nil
}

func (s *groupsServer) UpdateGroupMember(ctx context.Context, r *datav1.UpdateGroupMemberRequest) (*datav1.GroupMember, error) {
	var c checker
	c.id("group_id", r.GetGroupId())
	c.id("user_id", r.GetUserId())
	c.optRunes("nickname", r.Nickname, maxNameRunes)
	c.memberUpdate("", r)
	if err := c.err(); err != nil {
		return nil, err
	}
	m, err := s.rel.UpdateGroupMember(ctx, r.GetGroupId(), r.GetUserId(), memberUpdateOf(r))
	if err != nil {
		return nil, s.fail(ctx, "update group member", err)
	}
	return memberPB(m), nil
}

func (s *groupsServer) ListGroupMembers(ctx context.Context, r *datav1.ListGroupMembersRequest) (*datav1.ListGroupMembersResponse, error) {
	var c checker
	c.id("group_id", r.GetGroupId())
	p := c.page(r.GetLimit(), r.GetPageToken())
	if err := c.err(); err != nil {
		return nil, err
	}
	ms, next, err := s.rel.ListGroupMembers(ctx, r.GetGroupId(), r.GetIncludeLeft(), p)
	if err != nil {
		return nil, s.fail(ctx, "list group members", err)
	}
	return &datav1.ListGroupMembersResponse{Members: membersPB(ms), NextPageToken: encodePageToken(next)}, nil
}

func (s *groupsServer) TransferGroupPlus(ctx context.Context, r *datav1.TransferGroupPlusRequest) (*datav1.Group, error) {
	var c checker
	c.id("group_id", r.GetGroupId())
	c.pair("from_owner_id", r.GetFromOwnerId(), "new_owner_id", r.GetNewOwnerId())
	if err := c.err(); err != nil {
		return nil, err
	}
	g, err := s.rel.TransferGroupPlus(ctx, r.GetGroupId(), r.GetFromOwnerId(), r.GetNewOwnerId())
	if err != nil {
		return nil, s.fail(ctx, "transfer group", err)
	}
	return groupPB(g), nil
}

func (s *groupsServer) GroupMembersInfoPlus(ctx context.Context, r *datav1.GroupMembersInfoPlusRequest) (*datav1.GroupMembersInfoPlusResponse, error) {
	var c checker
	c.id("group_id", r.GetGroupId())
	p := c.page(r.GetLimit(), r.GetPageToken())
	if err := c.err(); err != nil {
		return nil, err
	}
	rows, next, err := s.rel.GroupMembersInfoPlus(ctx, r.GetGroupId(), p)
	if err != nil {
		return nil, s.fail(ctx, "group members info", err)
	}
	out := &datav1.GroupMembersInfoPlusResponse{
		Members:       make([]*datav1.GroupMemberInfo, len(rows)),
		NextPageToken: encodePageToken(next),
	}
	for i, mi := range rows {
		out.Members[i] = &datav1.GroupMemberInfo{Member: memberPB(mi.Member), User: userPB(mi.User)}
	}
	return out, nil
}
