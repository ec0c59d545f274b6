package grpcapi

import (
	"context"

	"github.com/privateim/privateim/dataservice/internal/store"
	datav1 "github.com/privateim/privateim/protos/data/v1"
)

type subscriptionsServer struct {
	datav1.UnimplementedSubscriptionsServer
	*base
}

func (s *subscriptionsServer) CreateSubscription(ctx context.Context, r *datav1.CreateSubscriptionRequest) (*datav1.Subscription, error) {
	var c checker
	c.name("name", r.GetName(), maxNameRunes)
	c.id("owner_id", r.GetOwnerId())
	c.maxRunes("intro", r.GetIntro(), maxIntroRunes)
	c.maxBytes("avatar", r.GetAvatar(), maxURLBytes)
	if err := c.err(); err != nil {
		return nil, err
	}
	now := s.now()
	sub, err := s.rel.CreateSubscription(ctx, store.Subscription{
		ID:        s.ids.Next(),
		Name:      r.GetName(),
		OwnerID:   r.GetOwnerId(),
		Intro:     r.GetIntro(),
		Avatar:    r.GetAvatar(),
		CreatedAt: now,
		UpdatedAt: now,
	})
	if err != nil {
		return nil, s.fail(ctx, "create subscription", err)
	}
	return subscriptionPB(sub), nil
}

func (s *subscriptionsServer) GetSubscription(ctx context.Context, r *datav1.GetSubscriptionRequest) (*datav1.Subscription, error) {
	var c checker
	c.id("id", r.GetId())
	if err := c.err(); err != nil {
		return nil, err
	}
	sub, err := s.rel.GetSubscription(ctx, r.GetId())
	if err != nil {
		return nil, s.fail(ctx, "get subscription", err)
	}
	return subscriptionPB(sub), nil
}

func (s *subscriptionsServer) GetSubscriptions(ctx context.Context, r *datav1.GetSubscriptionsRequest) (*datav1.GetSubscriptionsResponse, error) {
	var c checker
	c.ids("ids", r.GetIds(), 1)
	if err := c.err(); err != nil {
		return nil, err
	}
	subs, err := s.rel.GetSubscriptions(ctx, r.GetIds())
	if err != nil {
		return nil, s.fail(ctx, "get subscriptions", err)
	}
	return &datav1.GetSubscriptionsResponse{Subscriptions: subscriptionsPB(subs)}, nil
}

func (s *subscriptionsServer) SearchSubscriptions(ctx context.Context, r *datav1.SearchSubscriptionsRequest) (*datav1.ListSubscriptionsResponse, error) {
	var c checker
	c.name("name_prefix", r.GetNamePrefix(), maxNameRunes)
	p := c.page(r.GetLimit(), r.GetPageToken())
	if err := c.err(); err != nil {
		return nil, err
	}
	subs, next, err := s.rel.SearchSubscriptions(ctx, r.GetNamePrefix(), r.GetIncludeDeleted(), p)
	if err != nil {
		return nil, s.fail(ctx, "search subscriptions", err)
	}
	return &datav1.ListSubscriptionsResponse{Subscriptions: subscriptionsPB(subs), NextPageToken: encodePageToken(next)}, nil
}

func (s *subscriptionsServer) ListSubscriptionsByOwner(ctx context.Context, r *datav1.ListSubscriptionsByOwnerRequest) (*datav1.ListSubscriptionsResponse, error) {
	var c checker
	c.id("owner_id", r.GetOwnerId())
	p := c.page(r.GetLimit(), r.GetPageToken())
	if err := c.err(); err != nil {
		return nil, err
	}
	subs, next, err := s.rel.ListSubscriptionsByOwner(ctx, r.GetOwnerId(), r.GetIncludeDeleted(), p)
	if err != nil {
		return nil, s.fail(ctx, "list subscriptions by owner", err)
	}
	return &datav1.ListSubscriptionsResponse{Subscriptions: subscriptionsPB(subs), NextPageToken: encodePageToken(next)}, nil
}

func (s *subscriptionsServer) UpdateSubscription(ctx context.Context, r *datav1.UpdateSubscriptionRequest) (*datav1.Subscription, error) {
	var c checker
	c.id("id", r.GetId())
	c.optName("name", r.Name, maxNameRunes)
	c.optRunes("intro", r.Intro, maxIntroRunes)
	c.optBytes("avatar", r.Avatar, maxURLBytes)
	c.optBytes("qr_code", r.QrCode, maxURLBytes)
	c.optID("owner_id", r.OwnerId)
	if err := c.err(); err != nil {
		return nil, err
	}
	sub, err := s.rel.UpdateSubscription(ctx, r.GetId(), store.SubscriptionUpdate{
		Name:    r.Name,
		Intro:   r.Intro,
		Avatar:  r.Avatar,
		QRCode:  r.QrCode,
		OwnerID: r.OwnerId,
	})
	if err != nil {
		return nil, s.fail(ctx, "update subscription", err)
	}
	return subscriptionPB(sub), nil
}

func (s *subscriptionsServer) DeleteSubscriptionPlus(ctx context.Context, r *datav1.DeleteSubscriptionPlusRequest) (*datav1.DeleteSubscriptionPlusResponse, error) {
	var c checker
	c.id("id", r.GetId())
	if err := c.err(); err != nil {
		return nil, err
	}
	sub, released, err := s.rel.DeleteSubscriptionPlus(ctx, r.GetId())
	if err != nil {
		return nil, s.fail(ctx, "delete subscription", err)
	}
	return &datav1.DeleteSubscriptionPlusResponse{Subscription: subscriptionPB(sub), ReleasedFollowers: released}, nil
}

func (s *subscriptionsServer) Follow(ctx context.Context, r *datav1.FollowRequest) (*datav1.Follower, error) {
	var c checker
	c.id("subscription_id", r.GetSubscriptionId())
	c.id("user_id", r.GetUserId())
	if err := c.err(); err != nil {
		return nil, err
	}
	f, err := s.rel.Follow(ctx, r.GetSubscriptionId(), r.GetUserId())
	if err != nil {
		return nil, s.fail(ctx, "follow", err)
	}
	return followerPB(f), nil
}

func (s *subscriptionsServer) Unfollow(ctx context.Context, r *datav1.UnfollowRequest) (*datav1.Follower, error) {
	var c checker
	c.id("subscription_id", r.GetSubscriptionId())
	c.id("user_id", r.GetUserId())
	if err := c.err(); err != nil {
		return nil, err
	}
	f, err := s.rel.Unfollow(ctx, r.GetSubscriptionId(), r.GetUserId())
	if err != nil {
		return nil, s.fail(ctx, "unfollow", err)
	}
	return followerPB(f), nil
}

func (s *subscriptionsServer) GetFollower(ctx context.Context, r *datav1.GetFollowerRequest) (*datav1.Follower, error) {
	var c checker
	c.id("subscription_id", r.GetSubscriptionId())
	c.id("user_id", r.GetUserId())
	if err := c.err(); err != nil {
		return nil, err
	}
	f, err := s.rel.GetFollower(ctx, r.GetSubscriptionId(), r.GetUserId())
	if err != nil {
		return nil, s.fail(ctx, "get follower", err)
	}
	return followerPB(f), nil
}

func (s *subscriptionsServer) ListFollowers(ctx context.Context, r *datav1.ListFollowersRequest) (*datav1.ListFollowersResponse, error) {
	var c checker
	c.id("subscription_id", r.GetSubscriptionId())
	p := c.page(r.GetLimit(), r.GetPageToken())
	if err := c.err(); err != nil {
		return nil, err
	}
	fs, next, err := s.rel.ListFollowers(ctx, r.GetSubscriptionId(), p)
	if err != nil {
		return nil, s.fail(ctx, "list followers", err)
	}
	out := &datav1.ListFollowersResponse{Followers: make([]*datav1.Follower, len(fs)), NextPageToken: encodePageToken(next)}
	for i, f := range fs {
		out.Followers[i] = followerPB(f)
	}
	return out, nil
}

func (s *subscriptionsServer) ListFollowing(ctx context.Context, r *datav1.ListFollowingRequest) (*datav1.ListSubscriptionsResponse, error) {
	var c checker
	c.id("user_id", r.GetUserId())
	p := c.page(r.GetLimit(), r.GetPageToken())
	if err := c.err(); err != nil {
		return nil, err
	}
	subs, next, err := s.rel.ListFollowing(ctx, r.GetUserId(), p)
	if err != nil {
		return nil, s.fail(ctx, "list following", err)
	}
	return &datav1.ListSubscriptionsResponse{Subscriptions: subscriptionsPB(subs), NextPageToken: encodePageToken(next)}, nil
}
