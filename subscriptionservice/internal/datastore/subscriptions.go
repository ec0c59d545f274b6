package datastore

import (
	"context"

	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/subscriptionservice/internal/subscription"
)

var _ subscription.Store = (*Client)(nil)

func accountOf(s *datav1.Subscription) subscription.Account {
	return subscription.Account{
		ID:            s.GetId(),
		Name:          s.GetName(),
		OwnerID:       s.GetOwnerId(),
		Intro:         s.GetIntro(),
		Avatar:        s.GetAvatar(),
		Deleted:       s.GetDeleted(),
		FollowerCount: s.GetFollowerCount(),
		CreatedAt:     s.GetCreatedAt().AsTime(),
		UpdatedAt:     s.GetUpdatedAt().AsTime(),
	}
}

// CreateSubscription implements subscription.Store.
func (c *Client) CreateSubscription(ctx context.Context, name, intro string, ownerID int64) (subscription.Account, error) {
	s, err := c.subscriptions.CreateSubscription(ctx, &datav1.CreateSubscriptionRequest{Name: name, Intro: intro, OwnerId: ownerID})
	if err != nil {
		return subscription.Account{}, translate("CreateSubscription", err)
	}
	return accountOf(s), nil
}

// GetSubscription implements subscription.Store.
func (c *Client) GetSubscription(ctx context.Context, id int64) (subscription.Account, error) {
	s, err := c.subscriptions.GetSubscription(ctx, &datav1.GetSubscriptionRequest{Id: id})
	if err != nil {
		return subscription.Account{}, translate("GetSubscription", err)
	}
	return accountOf(s), nil
}

// UpdateSubscription implements subscription.Store.
func (c *Client) UpdateSubscription(ctx context.Context, id int64, up subscription.Update) (subscription.Account, error) {
	s, err := c.subscriptions.UpdateSubscription(ctx, &datav1.UpdateSubscriptionRequest{
		Id: id, Name: up.Name, Intro: up.Intro, Avatar: up.Avatar, OwnerId: up.OwnerID,
	})
	if err != nil {
		return subscription.Account{}, translate("UpdateSubscription", err)
	}
	return accountOf(s), nil
}

// DeleteSubscription implements subscription.Store: DeleteSubscriptionPlus
// marks the account deleted and releases every follower in one transaction.
func (c *Client) DeleteSubscription(ctx context.Context, id int64) (int64, error) {
	r, err := c.subscriptions.DeleteSubscriptionPlus(ctx, &datav1.DeleteSubscriptionPlusRequest{Id: id})
	if err != nil {
		return 0, translate("DeleteSubscriptionPlus", err)
	}
	return r.GetReleasedFollowers(), nil
}

// ListSubscriptionsByOwner implements subscription.Store (live accounts only).
func (c *Client) ListSubscriptionsByOwner(ctx context.Context, ownerID int64, p subscription.Page) ([]subscription.Account, string, error) {
	r, err := c.subscriptions.ListSubscriptionsByOwner(ctx, &datav1.ListSubscriptionsByOwnerRequest{
		OwnerId: ownerID, Limit: int32(p.Limit), PageToken: p.Token,
	})
	if err != nil {
		return nil, "", translate("ListSubscriptionsByOwner", err)
	}
	out := make([]subscription.Account, 0, len(r.GetSubscriptions()))
	for _, s := range r.GetSubscriptions() {
		out = append(out, accountOf(s))
	}
	return out, r.GetNextPageToken(), nil
}

// ListFollowers implements subscription.Store.
func (c *Client) ListFollowers(ctx context.Context, id int64, p subscription.Page) ([]subscription.Follower, string, error) {
	r, err := c.subscriptions.ListFollowers(ctx, &datav1.ListFollowersRequest{SubscriptionId: id, Limit: int32(p.Limit), PageToken: p.Token})
	if err != nil {
		return nil, "", translate("ListFollowers", err)
	}
	out := make([]subscription.Follower, 0, len(r.GetFollowers()))
	for _, f := range r.GetFollowers() {
		out = append(out, subscription.Follower{UserID: f.GetUserId(), FollowedAt: f.GetFollowedAt().AsTime()})
	}
	return out, r.GetNextPageToken(), nil
}

// GetUser implements subscription.Store.
func (c *Client) GetUser(ctx context.Context, id int64) (subscription.User, error) {
	u, err := c.users.GetUser(ctx, &datav1.GetUserRequest{Id: id})
	if err != nil {
		return subscription.User{}, translate("GetUser", err)
	}
	return subscription.User{ID: u.GetId(), Email: u.GetEmail(), Deleted: u.GetDeleted()}, nil
}
