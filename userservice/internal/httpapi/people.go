package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/foundation/httpkit"
	"github.com/privateim/privateim/userservice/internal/friend"
)

// People serves looking users up, friend requests, friends and the
// blacklist (rules: package friend).
type People struct {
	Svc *friend.Service
}

// Register implements Feature.
func (p People) Register(r httpkit.Routes) {
	r.Authed.GET("/users/search", p.searchUsers)
	r.Authed.GET("/users/:id", p.getUser)
	r.Authed.POST("/friends/requests", p.request)
	r.Authed.GET("/friends/requests", p.requests)
	r.Authed.POST("/friends/requests/:user_id/accept", p.accept)
	r.Authed.POST("/friends/requests/:user_id/reject", p.reject)
	r.Authed.GET("/friends", p.friends)
	r.Authed.PATCH("/friends/:user_id", p.setNote)
	r.Authed.DELETE("/friends/:user_id", p.unfriend)
	r.Authed.PUT("/blacklist/:user_id", p.block)
	r.Authed.DELETE("/blacklist/:user_id", p.unblock)
	r.Authed.GET("/blacklist", p.blacklist)
}

// UserJSON is another user as the caller sees them: mobile, gender and
// note only between friends (and for oneself).
type UserJSON struct {
	ID     httpkit.ID `json:"id"`
	Name   string     `json:"name"`
	Avatar string     `json:"avatar"`
	Friend bool       `json:"friend"`
	Mobile *string    `json:"mobile,omitempty"`
	Gender *string    `json:"gender,omitempty"`
	Note   *string    `json:"note,omitempty"`
	// LastSeen (unix ms): when the user was last online, when they are
	// offline and show it to the caller.
	LastSeen int64 `json:"last_seen,omitempty"`
}

func userJSON(v friend.View) UserJSON {
	u := UserJSON{ID: httpkit.ID(v.ID), Name: v.Name, Avatar: v.Avatar, Friend: v.Friend, LastSeen: v.LastSeen}
	if v.Full {
		u.Mobile, u.Gender = &v.Mobile, &v.Gender
	}
	if v.Friend {
		u.Note = &v.Note
	}
	return u
}

func usersJSON(vs []friend.View) []UserJSON {
	out := make([]UserJSON, 0, len(vs))
	for _, v := range vs {
		out = append(out, userJSON(v))
	}
	return out
}

func (p People) searchUsers(c *gin.Context) {
	limit, token, ok := pageParams(c)
	if !ok {
		return
	}
	vs, next, err := p.Svc.SearchUsers(c.Request.Context(), httpkit.UserID(c), c.Query("q"), limit, token)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"users": usersJSON(vs), "next_page_token": next})
}

func (p People) getUser(c *gin.Context) {
	id, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	v, err := p.Svc.User(c.Request.Context(), httpkit.UserID(c), id)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, userJSON(v))
}

func (p People) request(c *gin.Context) {
	var req struct {
		UserID  httpkit.ID `json:"user_id"`
		Note    string     `json:"note"`
		Message string     `json:"message"`
	}
	if !httpkit.Bind(c, &req) {
		return
	}
	if req.UserID == 0 {
		httpkit.Fail(c, errs.Required("user_id"))
		return
	}
	ctx, me := c.Request.Context(), httpkit.UserID(c)
	res, err := p.Svc.Request(ctx, me, int64(req.UserID), req.Note, req.Message)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	v, err := p.Svc.User(ctx, me, int64(req.UserID))
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	status := http.StatusCreated
	if res == friend.Accepted {
		status = http.StatusOK
	}
	c.JSON(status, gin.H{"status": string(res), "user": userJSON(v)})
}

// RequestJSON is a pending friend request.
type RequestJSON struct {
	Direction string    `json:"direction"` // "incoming" or "outgoing"
	User      UserJSON  `json:"user"`
	Message   string    `json:"message"`
	Note      *string   `json:"note,omitempty"` // mine for them, outgoing only
	CreatedAt time.Time `json:"created_at"`
}

func (p People) requests(c *gin.Context) {
	limit, token, ok := pageParams(c)
	if !ok {
		return
	}
	rs, next, err := p.Svc.Requests(c.Request.Context(), httpkit.UserID(c), c.Query("direction"), limit, token)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	out := make([]RequestJSON, 0, len(rs))
	for _, r := range rs {
		j := RequestJSON{Direction: "outgoing", User: userJSON(r.User), Message: r.Message, CreatedAt: r.CreatedAt}
		if r.Incoming {
			j.Direction = "incoming"
		} else {
			j.Note = &r.Note
		}
		out = append(out, j)
	}
	c.JSON(http.StatusOK, gin.H{"requests": out, "next_page_token": next})
}

func (p People) accept(c *gin.Context) {
	from, ok := httpkit.PathID(c, "user_id")
	if !ok {
		return
	}
	var req struct {
		Note string `json:"note"`
	}
	if !bindOptional(c, &req) {
		return
	}
	ctx, me := c.Request.Context(), httpkit.UserID(c)
	if err := p.Svc.Accept(ctx, me, from, req.Note); err != nil {
		httpkit.Fail(c, err)
		return
	}
	v, err := p.Svc.User(ctx, me, from)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, userJSON(v))
}

func (p People) reject(c *gin.Context) {
	from, ok := httpkit.PathID(c, "user_id")
	if !ok {
		return
	}
	var req struct {
		Blacklist bool `json:"blacklist"`
	}
	if !bindOptional(c, &req) {
		return
	}
	if err := p.Svc.Reject(c.Request.Context(), httpkit.UserID(c), from, req.Blacklist); err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// FriendJSON is one of the caller's friends.
type FriendJSON struct {
	UserJSON
	Blacklisted bool      `json:"blacklisted"`
	Since       time.Time `json:"since"`
}

func (p People) friends(c *gin.Context) {
	limit, token, ok := pageParams(c)
	if !ok {
		return
	}
	fs, next, err := p.Svc.Friends(c.Request.Context(), httpkit.UserID(c), limit, token)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	out := make([]FriendJSON, 0, len(fs))
	for _, f := range fs {
		out = append(out, FriendJSON{UserJSON: userJSON(f.User), Blacklisted: f.Blacklisted, Since: f.Since})
	}
	c.JSON(http.StatusOK, gin.H{"friends": out, "next_page_token": next})
}

func (p People) setNote(c *gin.Context) {
	id, ok := httpkit.PathID(c, "user_id")
	if !ok {
		return
	}
	var req struct {
		Note *string `json:"note"`
	}
	if !httpkit.Bind(c, &req) {
		return
	}
	v, err := p.Svc.SetNote(c.Request.Context(), httpkit.UserID(c), id, req.Note)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, userJSON(v))
}

func (p People) unfriend(c *gin.Context) {
	p.noContent(c, p.Svc.Unfriend)
}

func (p People) block(c *gin.Context) {
	p.noContent(c, p.Svc.Block)
}

func (p People) unblock(c *gin.Context) {
	p.noContent(c, p.Svc.Unblock)
}

// noContent runs op on the caller and the path's user_id, answering 204.
func (p People) noContent(c *gin.Context, op func(ctx context.Context, me, user int64) error) {
	id, ok := httpkit.PathID(c, "user_id")
	if !ok {
		return
	}
	if err := op(c.Request.Context(), httpkit.UserID(c), id); err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (p People) blacklist(c *gin.Context) {
	limit, token, ok := pageParams(c)
	if !ok {
		return
	}
	vs, next, err := p.Svc.Blacklist(c.Request.Context(), httpkit.UserID(c), limit, token)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"users": usersJSON(vs), "next_page_token": next})
}
