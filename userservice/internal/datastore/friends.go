package datastore

import (
	"context"

	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/userservice/internal/friend"
)

var _ friend.Store = (*Client)(nil)

// Profiles reads users by id; unknown ids are left out.
func (c *Client) Profiles(ctx context.Context, ids []int64) ([]friend.Profile, error) {
	resp, err := c.users.GetUsers(ctx, &datav1.GetUsersRequest{Ids: ids})
	if err != nil {
		return nil, translate("GetUsers", err)
	}
	out := make([]friend.Profile, 0, len(resp.GetUsers()))
	for _, u := range resp.GetUsers() {
		out = append(out, profileFromPB(u))
	}
	return out, nil
}

func profileFromPB(u *datav1.User) friend.Profile {
	return friend.Profile{
		ID:      u.GetId(),
		Email:   u.GetEmail(),
		Name:    u.GetName(),
		Mobile:  u.GetMobile(),
		Gender:  string(genderFromPB(u.GetGender())),
		Avatar:  u.GetAvatar(),
		Deleted: u.GetDeleted(),
		// Everyone, friends (the default) or nobody: visibilityFromPB's words.
		LastSeenTo: string(visibilityFromPB(u.GetLastSeenVisibility())),
		LastSeenMS: u.GetLastSeenMs(),
	}
}

// Friendship reads the row (selfID, friendID).
func (c *Client) Friendship(ctx context.Context, selfID, friendID int64) (friend.Friendship, error) {
	pb, err := c.friends.GetFriendship(ctx, &datav1.GetFriendshipRequest{SelfId: selfID, FriendId: friendID})
	if err != nil {
		return friend.Friendship{}, translate("GetFriendship", err)
	}
	return friendshipFromPB(pb), nil
}

// PutFriendship creates or overwrites a row.
func (c *Client) PutFriendship(ctx context.Context, f friend.Friendship) (friend.Friendship, error) {
	pb, err := c.friends.PutFriendship(ctx, &datav1.PutFriendshipRequest{
		SelfId: f.SelfID, FriendId: f.FriendID, Note: f.Note, Message: f.Message,
		Accepted: f.Accepted, Blacklisted: f.Blacklisted, Deleted: f.Deleted,
	})
	if err != nil {
		return friend.Friendship{}, translate("PutFriendship", err)
	}
	return friendshipFromPB(pb), nil
}

// UpdateFriendship changes the fields u sets.
func (c *Client) UpdateFriendship(ctx context.Context, selfID, friendID int64, u friend.FriendshipUpdate) (friend.Friendship, error) {
	pb, err := c.friends.UpdateFriendship(ctx, &datav1.UpdateFriendshipRequest{
		SelfId: selfID, FriendId: friendID, Note: u.Note,
		Accepted: u.Accepted, Blacklisted: u.Blacklisted, Deleted: u.Deleted,
	})
	if err != nil {
		return friend.Friendship{}, translate("UpdateFriendship", err)
	}
	return friendshipFromPB(pb), nil
}

// ListFriendships lists rows of f.UserID, ordered by the other user's id.
func (c *Client) ListFriendships(ctx context.Context, f friend.Filter, limit int, token string) ([]friend.Friendship, string, error) {
	dir := datav1.FriendshipDirection_FRIENDSHIP_DIRECTION_OUTGOING
	if f.Incoming {
		dir = datav1.FriendshipDirection_FRIENDSHIP_DIRECTION_INCOMING
	}
	resp, err := c.friends.ListFriendships(ctx, &datav1.ListFriendshipsRequest{
		UserId: f.UserID, Direction: dir, Accepted: f.Accepted, Blacklisted: f.Blacklisted, Deleted: f.Deleted,
		Limit: int32(limit), PageToken: token,
	})
	if err != nil {
		return nil, "", translate("ListFriendships", err)
	}
	out := make([]friend.Friendship, 0, len(resp.GetFriendships()))
	for _, pb := range resp.GetFriendships() {
		out = append(out, friendshipFromPB(pb))
	}
	return out, resp.GetNextPageToken(), nil
}

// AcceptFriend accepts the pending request (requesterID, accepterID).
func (c *Client) AcceptFriend(ctx context.Context, requesterID, accepterID int64, note string) error {
	_, err := c.friends.AcceptFriendPlus(ctx, &datav1.AcceptFriendPlusRequest{RequesterId: requesterID, AccepterId: accepterID, Note: note})
	return translate("AcceptFriendPlus", err)
}

// DeleteFriend ends a friendship both ways.
func (c *Client) DeleteFriend(ctx context.Context, selfID, friendID int64) error {
	_, err := c.friends.DeleteFriendPlus(ctx, &datav1.DeleteFriendPlusRequest{SelfId: selfID, FriendId: friendID})
	return translate("DeleteFriendPlus", err)
}

// FriendsInfo lists userID's friends with their profiles.
func (c *Client) FriendsInfo(ctx context.Context, userID int64, limit int, token string) ([]friend.FriendInfo, string, error) {
	resp, err := c.friends.FriendsInfoPlus(ctx, &datav1.FriendsInfoPlusRequest{UserId: userID, Limit: int32(limit), PageToken: token})
	if err != nil {
		return nil, "", translate("FriendsInfoPlus", err)
	}
	out := make([]friend.FriendInfo, 0, len(resp.GetFriends()))
	for _, fi := range resp.GetFriends() {
		out = append(out, friend.FriendInfo{Friendship: friendshipFromPB(fi.GetFriendship()), Friend: profileFromPB(fi.GetFriend())})
	}
	return out, resp.GetNextPageToken(), nil
}

// IsFriend reports whether userID holds otherID as an accepted friend.
func (c *Client) IsFriend(ctx context.Context, userID, otherID int64) (bool, error) {
	f, err := c.Friendship(ctx, userID, otherID)
	if err != nil {
		if isNotFound(err) {
			return false, nil
		}
		return false, err
	}
	return f.Accepted && !f.Deleted, nil
}

func friendshipFromPB(f *datav1.Friendship) friend.Friendship {
	return friend.Friendship{
		SelfID:      f.GetSelfId(),
		FriendID:    f.GetFriendId(),
		Note:        f.GetNote(),
		Message:     f.GetMessage(),
		Accepted:    f.GetAccepted(),
		Blacklisted: f.GetBlacklisted(),
		Deleted:     f.GetDeleted(),
		CreatedAt:   f.GetCreatedAt().AsTime(),
		UpdatedAt:   f.GetUpdatedAt().AsTime(),
	}
}
