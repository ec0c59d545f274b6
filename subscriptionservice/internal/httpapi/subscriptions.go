package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/foundation/httpkit"
	"github.com/privateim/privateim/subscriptionservice/internal/media"
	"github.com/privateim/privateim/subscriptionservice/internal/subscription"
)

// Subscriptions serves the account routes.
type Subscriptions struct {
	Svc     *subscription.Service
	Avatars *media.Avatars
}

// Register implements Feature.
func (h Subscriptions) Register(r httpkit.Routes) {
	r.Authed.POST("/subscriptions", h.create)
	r.Authed.GET("/subscriptions/mine", h.mine)
	r.Authed.GET("/subscriptions/:id", h.get)
	r.Authed.PATCH("/subscriptions/:id", h.patch)
	r.Authed.DELETE("/subscriptions/:id", h.delete)
	r.Authed.PUT("/subscriptions/:id/avatar", h.avatar)
	r.Authed.GET("/subscriptions/:id/qrcode", h.qrcode)
	r.Authed.PUT("/subscriptions/:id/owner", h.owner)
	r.Authed.GET("/subscriptions/:id/followers", h.followers)
	r.Root.GET("/static/avatars/:name", h.static)
}

// SubscriptionJSON is an account in answers.
type SubscriptionJSON struct {
	ID            httpkit.ID `json:"id"`
	Name          string     `json:"name"`
	Intro         string     `json:"intro"`
	OwnerID       httpkit.ID `json:"owner_id"`
	AvatarURL     string     `json:"avatar_url"`
	FollowerCount int64      `json:"follower_count"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

func subscriptionJSON(a subscription.Account) SubscriptionJSON {
	return SubscriptionJSON{ID: httpkit.ID(a.ID), Name: a.Name, Intro: a.Intro, OwnerID: httpkit.ID(a.OwnerID), AvatarURL: a.Avatar,
		FollowerCount: a.FollowerCount, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

func (h Subscriptions) create(c *gin.Context) {
	var req struct {
		Name  *string `json:"name"`
		Intro string  `json:"intro"`
	}
	if !httpkit.Bind(c, &req) {
		return
	}
	name := ""
	if req.Name != nil {
		name = *req.Name
	}
	a, err := h.Svc.Create(c.Request.Context(), httpkit.UserID(c), name, req.Intro)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, subscriptionJSON(a))
}

func (h Subscriptions) get(c *gin.Context) {
	id, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	a, err := h.Svc.Get(c.Request.Context(), id)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, subscriptionJSON(a))
}

func (h Subscriptions) patch(c *gin.Context) {
	id, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	var req struct {
		Name  *string `json:"name"`
		Intro *string `json:"intro"`
	}
	if !httpkit.Bind(c, &req) {
		return
	}
	a, err := h.Svc.Patch(c.Request.Context(), httpkit.UserID(c), id, req.Name, req.Intro)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, subscriptionJSON(a))
}

func (h Subscriptions) delete(c *gin.Context) {
	id, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	n, err := h.Svc.Delete(c.Request.Context(), httpkit.UserID(c), id)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"released_followers": n})
}

func (h Subscriptions) avatar(c *gin.Context) {
	id, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	part, ok := httpkit.FormFile(c, "avatar", media.MaxAvatarBytes, "avatar")
	if !ok {
		return
	}
	url, err := h.Svc.SetAvatar(c.Request.Context(), httpkit.UserID(c), id, part)
	if err != nil {
		httpkit.Fail(c, httpkit.UploadError(err, "avatar", media.MaxAvatarBytes))
		return
	}
	c.JSON(http.StatusOK, gin.H{"avatar_url": url})
}

func (h Subscriptions) qrcode(c *gin.Context) {
	id, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	if _, err := h.Svc.Get(c.Request.Context(), id); err != nil {
		httpkit.Fail(c, err)
		return
	}
	png, err := media.QRCode(id)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.Header("Cache-Control", "private, max-age=86400")
	c.Data(http.StatusOK, "image/png", png)
}

func (h Subscriptions) owner(c *gin.Context) {
	id, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	var req struct {
		UserID *httpkit.ID `json:"user_id"`
	}
	if !httpkit.Bind(c, &req) {
		return
	}
	if req.UserID == nil {
		httpkit.Fail(c, errs.Required("user_id"))
		return
	}
	a, err := h.Svc.SetOwner(c.Request.Context(), httpkit.UserID(c), id, int64(*req.UserID))
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, subscriptionJSON(a))
}

func (h Subscriptions) mine(c *gin.Context) {
	limit, token, ok := pageParams(c)
	if !ok {
		return
	}
	as, next, err := h.Svc.Mine(c.Request.Context(), httpkit.UserID(c), subscription.Page{Limit: limit, Token: token})
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	out := make([]SubscriptionJSON, len(as))
	for i, a := range as {
		out[i] = subscriptionJSON(a)
	}
	c.JSON(http.StatusOK, gin.H{"subscriptions": out, "next_page_token": next})
}

func (h Subscriptions) followers(c *gin.Context) {
	id, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	limit, token, ok := pageParams(c)
	if !ok {
		return
	}
	fs, next, err := h.Svc.Followers(c.Request.Context(), httpkit.UserID(c), id, subscription.Page{Limit: limit, Token: token})
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	type follower struct {
		UserID     httpkit.ID `json:"user_id"`
		FollowedAt time.Time  `json:"followed_at"`
	}
	out := make([]follower, len(fs))
	for i, f := range fs {
		out[i] = follower{UserID: httpkit.ID(f.UserID), FollowedAt: f.FollowedAt}
	}
	c.JSON(http.StatusOK, gin.H{"followers": out, "next_page_token": next})
}

// static serves a stored avatar with its sniffed type; names are
// unguessable and never reused, so they are cached for good.
func (h Subscriptions) static(c *gin.Context) {
	f, err := h.Avatars.Open(c.Param("name"))
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Content-Security-Policy", "default-src 'none'; sandbox")
	c.Header("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(c.Writer, c.Request, "", st.ModTime(), f)
}
