package grpcapi

import (
	"context"

	"github.com/privateim/privateim/dataservice/internal/store"
	datav1 "github.com/privateim/privateim/protos/data/v1"
)

type friendsServer struct {
	datav1.UnimplementedFriendsServer
	*base
}

// pair checks two distinct user ids.
func (c *checker) pair(aField string, a int64, bField string, b int64) {
	c.id(aField, a)
	c.id(bField, b)
	if a > 0 && a == b {
		c.add(bField, "must differ from %s", aField)
	}
}

func (s *friendsServer) PutFriendship(ctx context.Context, r *datav1.PutFriendshipRequest) (*datav1.Friendship, error) {
	var c checker
	c.pair("self_id", r.GetSelfId(), "friend_id", r.GetFriendId())
	c.maxRunes("note", r.GetNote(), maxNoteRunes)
	c.maxRunes("message", r.GetMessage(), maxGreetingRunes)
	if err := c.err(); err != nil {
		return nil, err
	}
	now := s.now()
	f, err := s.rel.PutFriendship(ctx, store.Friendship{
		SelfID:      r.GetSelfId(),
		FriendID:    r.GetFriendId(),
		Note:        r.GetNote(),
		Message:     r.GetMessage(),
		Accepted:    r.GetAccepted(),
		Blacklisted: r.GetBlacklisted(),
		Deleted:     r.GetDeleted(),
		CreatedAt:   now,
		UpdatedAt:   now,
	})
	if err != nil {
		return nil, s.fail(ctx, "put friendship", err)
	}
	return friendshipPB(f), nil
}

func (s *friendsServer) GetFriendship(ctx context.Context, r *datav1.GetFriendshipRequest) (*datav1.Friendship, error) {
	var c checker
	c.id("self_id", r.GetSelfId())
	c.id("friend_id", r.GetFriendId())
	if err := c.err(); err != nil {
		return nil, err
	}
	f, err := s.rel.GetFriendship(ctx, r.GetSelfId(), r.GetFriendId())
	if err != nil {
		return nil, s.fail(ctx, "get friendship", err)
	}
	return friendshipPB(f), nil
}

func (s *friendsServer) UpdateFriendship(ctx context.Context, r *datav1.UpdateFriendshipRequest) (*datav1.Friendship, error) {
	var c checker
	c.id("self_id", r.GetSelfId())
	c.id("friend_id", r.GetFriendId())
	c.optRunes("note", r.Note, maxNoteRunes)
	c.optRunes("message", r.Message, maxGreetingRunes)
	if err := c.err(); err != nil {
		return nil, err
	}
	f, err := s.rel.UpdateFriendship(ctx, r.GetSelfId(), r.GetFriendId(), store.FriendshipUpdate{
		Note:        r.Note,
		Message:     r.Message,
		Accepted:    r.Accepted,
		Blacklisted: r.Blacklisted,
		Deleted:     r.Deleted,
	})
	if err != nil {
		return nil, s.fail(ctx, "update friendship", err)
	}
	return friendshipPB(f), nil
}

func (s *friendsServer) ListFriendships(ctx context.Context, r *datav1.ListFriendshipsRequest) (*datav1.ListFriendshipsResponse, error) {
	var c checker
	c.id("user_id", r.GetUserId())
	var dir store.Direction
	switch r.GetDirection() {
	case datav1.FriendshipDirection_FRIENDSHIP_DIRECTION_OUTGOING:
		dir = store.Outgoing
	case datav1.FriendshipDirection_FRIENDSHIP_DIRECTION_INCOMING:
		dir = store.Incoming
	default:
		c.add("direction", "required: OUTGOING or INCOMING")
	}
	p := c.page(r.GetLimit(), r.GetPageToken())
	if err := c.err(); err != nil {
		return nil, err
	}
	rows, next, err := s.rel.ListFriendships(ctx, store.FriendshipFilter{
		UserID:      r.GetUserId(),
		Direction:   dir,
		Accepted:    r.Accepted,
		Blacklisted: r.Blacklisted,
		Deleted:     r.Deleted,
	}, p)
	if err != nil {
		return nil, s.fail(ctx, "list friendships", err)
	}
	out := &datav1.ListFriendshipsResponse{
		Friendships:   make([]*datav1.Friendship, len(rows)),
		NextPageToken: encodePageToken(next),
	}
	for i, f := range rows {
		out.Friendships[i] = friendshipPB(f)
	}
	return out, nil
}

func (s *friendsServer) AcceptFriendPlus(ctx context.Context, r *datav1.AcceptFriendPlusRequest) (*datav1.AcceptFriendPlusResponse, error) {
	var c checker
	c.pair("requester_id", r.GetRequesterId(), "accepter_id", r.GetAccepterId())
	c.maxRunes("note", r.GetNote(), maxNoteRunes)
	if err := c.err(); err != nil {
		return nil, err
	}
	req, acc, err := s.rel.AcceptFriendPlus(ctx, r.GetRequesterId(), r.GetAccepterId(), r.GetNote())
	if err != nil {
		return nil, s.fail(ctx, "accept friend", err)
	}
	return &datav1.AcceptFriendPlusResponse{RequesterSide: friendshipPB(req), AccepterSide: friendshipPB(acc)}, nil
}

func (s *friendsServer) DeleteFriendPlus(ctx context.Context, r *datav1.DeleteFriendPlusRequest) (*datav1.DeleteFriendPlusResponse, error) {
	var c checker
	c.pair("self_id", r.GetSelfId(), "friend_id", r.GetFriendId())
	if err := c.err(); err != nil {
		return nil, err
	}
	if err := s.rel.DeleteFriendPlus(ctx, r.GetSelfId(), r.GetFriendId()); err != nil {
		return nil, s.fail(ctx, "delete friend", err)
	}
	return &datav1.DeleteFriendPlusResponse{}, nil
}

func (s *friendsServer) FriendsInfoPlus(ctx context.Context, r *datav1.FriendsInfoPlusRequest) (*datav1.FriendsInfoPlusResponse, error) {
	var c checker
	c.id("user_id", r.GetUserId())
	p := c.page(r.GetLimit(), r.GetPageToken())
	if err := c.err(); err != nil {
		return nil, err
	}
	rows, next, err := s.rel.FriendsInfoPlus(ctx, r.GetUserId(), p)
	if err != nil {
		return nil, s.fail(ctx, "friends info", err)
	}
	out := &datav1.FriendsInfoPlusResponse{
		Friends:       make([]*datav1.FriendInfo, len(rows)),
		NextPageToken: encodePageToken(next),
	}
	for i, fi := range rows {
		out.Friends[i] = &datav1.FriendInfo{Friendship: friendshipPB(fi.Friendship), Friend: userPB(fi.Friend)}
	}
	return out, nil
}
