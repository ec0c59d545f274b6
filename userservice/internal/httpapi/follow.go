package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/privateim/privateim/foundation/httpkit"
	"github.com/privateim/privateim/userservice/internal/follow"
)

// Follows serves the follower side of subscription accounts (rules:
// package follow).
type Follows struct {
	Svc *follow.Service
}

// Register implements Feature.
func (f Follows) Register(r httpkit.Routes) {
	r.Authed.GET("/subscriptions/search", f.search)
	r.Authed.GET("/subscriptions/following", f.following)
	r.Authed.POST("/subscriptions/:id/follow", f.follow)
	r.Authed.DELETE("/subscriptions/:id/follow", f.unfollow)
}

// SubscriptionJSON is a subscription account.
type SubscriptionJSON struct {
	ID            httpkit.ID `json:"id"`
	Name          string     `json:"name"`
	Intro         string     `json:"intro"`
	Avatar        string     `json:"avatar"`
	FollowerCount int64      `json:"follower_count"`
	CreatedAt     time.Time  `json:"created_at"`
}

func subscriptionsJSON(ss []follow.Subscription) []SubscriptionJSON {
	out := make([]SubscriptionJSON, 0, len(ss))
	for _, s := range ss {
		out = append(out, subscriptionJSON(s))
	}
	return out
}

func subscriptionJSON(s follow.Subscription) SubscriptionJSON {
	return SubscriptionJSON{ID: httpkit.ID(s.ID), Name: s.Name, Intro: s.Intro, Avatar: s.Avatar, FollowerCount: s.FollowerCount, CreatedAt: s.CreatedAt}
}

func (f Follows) search(c *gin.Context) {
	limit, token, ok := pageParams(c)
	if !ok {
		return
	}
	ss, next, err := f.Svc.Search(c.Request.Context(), c.Query("q"), limit, token)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"subscriptions": subscriptionsJSON(ss), "next_page_token": next})
}

func (f Follows) following(c *gin.Context) {
	limit, token, ok := pageParams(c)
	if !ok {
		return
	}
	ss, next, err := f.Svc.Following(c.Request.Context(), httpkit.UserID(c), limit, token)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"subscriptions": subscriptionsJSON(ss), "next_page_token": next})
}

func (f Follows) follow(c *gin.Context) {
	id, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	s, err := f.Svc.Follow(c.Request.Context(), httpkit.UserID(c), id)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, subscriptionJSON(s))
}

func (f Follows) unfollow(c *gin.Context) {
	id, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	if err := f.Svc.Unfollow(c.Request.Context(), httpkit.UserID(c), id); err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
