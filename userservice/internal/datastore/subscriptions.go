package datastore

import (
	"context"

	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/userservice/internal/follow"
)

var _ follow.Store = (*Client)(nil)

// Subscription reads an account.
func (c *Client) Subscription(ctx context.Context, id int64) (follow.Subscription, error) {
	pb, err := c.subscriptions.GetSubscription(ctx, &datav1.GetSubscriptionRequest{Id: id})
	if err != nil {
		return follow.Subscription{}, translate("GetSubscription", err)
	}
	return subscriptionFromPB(pb), nil
}

// Subscriptions reads accounts by id; unknown ids are left out.
func (c *Client) Subscriptions(ctx context.Context, ids []int64) ([]follow.Subscription, error) {
	resp, err := c.subscriptions.GetSubscriptions(ctx, &datav1.GetSubscriptionsRequest{Ids: ids})
	if err != nil {
		return nil, translate("GetSubscriptions", err)
	}
	return subscriptionsFromPB(resp.GetSubscriptions()), nil
}

// SearchSubscriptions lists live accounts by name prefix.
func (c *Client) SearchSubscriptions(ctx context.Context, prefix string, limit int, token string) ([]follow.Subscription, string, error) {
	resp, err := c.subscriptions.SearchSubscriptions(ctx, &datav1.SearchSubscriptionsRequest{NamePrefix: prefix, Limit: int32(limit), PageToken: token})
	if err != nil {
		return nil, "", translate("SearchSubscriptions", err)
	}
	return subscriptionsFromPB(resp.GetSubscriptions()), resp.GetNextPageToken(), nil
}

// Follow makes userID a follower.
func (c *Client) Follow(ctx context.Context, subscriptionID, userID int64) error {
	_, err := c.subscriptions.Follow(ctx, &datav1.FollowRequest{SubscriptionId: subscriptionID, UserId: userID})
	return translate("Follow", err)
}

// Unfollow ends userID's following.
func (c *Client) Unfollow(ctx context.Context, subscriptionID, userID int64) error {
	_, err := c.subscriptions.Unfollow(ctx, &datav1.UnfollowRequest{SubscriptionId: subscriptionID, UserId: userID})
	return translate("Unfollow", err)
}

// Following lists the live accounts userID follows.
func (c *Client) Following(ctx context.Context, userID int64, limit int, token string) ([]follow.Subscription, string, error) {
	resp, err := c.subscriptions.ListFollowing(ctx, &datav1.ListFollowingRequest{UserId: userID, Limit: int32(limit), PageToken: token})
	if err != nil {
		return nil, "", translate("ListFollowing", err)
	}
	return subscriptionsFromPB(resp.GetSubscriptions()), resp.GetNextPageToken(), nil
}

func subscriptionFromPB(s *datav1.Subscription) follow.Subscription {
	return follow.Subscription{
		ID:            s.GetId(),
		Name:          s.GetName(),
		OwnerID:       s.GetOwnerId(),
		Intro:         s.GetIntro(),
		Avatar:        s.GetAvatar(),
		Deleted:       s.GetDeleted(),
		FollowerCount: s.GetFollowerCount(),
		CreatedAt:     s.GetCreatedAt().AsTime(),
	}
}

func subscriptionsFromPB(ss []*datav1.Subscription) []follow.Subscription {
	out := make([]follow.Subscription, 0, len(ss))
	for _, s := range ss {
		out = append(out, subscriptionFromPB(s))
	}
	return out
}
