package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/foundation/httpkit"
	"github.com/privateim/privateim/userservice/internal/group"
)

// The access routes of groups (rules: group/access.go).
func (g Groups) registerAccess(r httpkit.Routes) {
	r.Authed.GET("/groups/requests", g.myRequests)
	r.Authed.PATCH("/groups/:id/access", g.setAccess)
	r.Authed.POST("/groups/:id/join", g.join)
	r.Authed.POST("/groups/:id/invites", g.invite)
	r.Authed.GET("/groups/:id/requests", g.requests)
	r.Authed.POST("/groups/:id/requests/:user_id/accept", g.accept)
	r.Authed.POST("/groups/:id/requests/:user_id/reject", g.reject)
	r.Authed.DELETE("/groups/:id/requests/:user_id", g.cancel)
	r.Authed.DELETE("/groups/:id/members/:user_id", g.remove)
	r.Authed.GET("/groups/:id/bans", g.bans)
	r.Authed.DELETE("/groups/:id/bans/:user_id", g.unban)
}

// JoinRequestJSON is a join request or invite.
type JoinRequestJSON struct {
	GroupID   httpkit.ID  `json:"group_id"`
	UserID    httpkit.ID  `json:"user_id"`
	Kind      string      `json:"kind"`
	InviterID *httpkit.ID `json:"inviter_id,omitempty"`
	State     string      `json:"state"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
}

func joinRequestJSON(r group.JoinRequest) JoinRequestJSON {
	j := JoinRequestJSON{GroupID: httpkit.ID(r.GroupID), UserID: httpkit.ID(r.UserID), Kind: string(r.Kind), State: string(r.State),
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if r.InviterID != 0 {
		id := httpkit.ID(r.InviterID)
		j.InviterID = &id
	}
	return j
}

func joinRequestsJSON(rs []group.JoinRequest) []JoinRequestJSON {
	out := make([]JoinRequestJSON, 0, len(rs))
	for _, r := range rs {
		out = append(out, joinRequestJSON(r))
	}
	return out
}

// replyJoin answers a join or an accept: 200 with the group when the user
// is a member now, 202 with the request when it waits for an admin.
func replyJoin(c *gin.Context, res group.JoinResult, err error) {
	switch {
	case err != nil:
		httpkit.Fail(c, err)
	case res.Request != nil:
		c.JSON(http.StatusAccepted, gin.H{"request": joinRequestJSON(*res.Request)})
	default:
		c.JSON(http.StatusOK, groupJSON(res.Group))
	}
}

// groupAndUser reads the :id and :user_id path ids.
func groupAndUser(c *gin.Context) (id, user int64, ok bool) {
	if id, ok = httpkit.PathID(c, "id"); !ok {
		return 0, 0, false
	}
	user, ok = httpkit.PathID(c, "user_id")
	return id, user, ok
}

func (g Groups) setAccess(c *gin.Context) {
	id, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	var req struct {
		JoinPolicy          *string `json:"join_policy"`
		History             *string `json:"history"`
		InviteNeedsApproval *bool   `json:"invite_needs_approval"`
	}
	if !httpkit.Bind(c, &req) {
		return
	}
	gr, err := g.Svc.SetAccess(c.Request.Context(), httpkit.UserID(c), id, group.Access{
		JoinPolicy: req.JoinPolicy, History: req.History, InviteNeedsApproval: req.InviteNeedsApproval,
	})
	replyGroup(c, http.StatusOK, gr, err)
}

func (g Groups) join(c *gin.Context) {
	id, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	res, err := g.Svc.Join(c.Request.Context(), httpkit.UserID(c), id)
	replyJoin(c, res, err)
}

func (g Groups) invite(c *gin.Context) {
	id, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	var req struct {
		UserID httpkit.ID `json:"user_id"`
	}
	if !httpkit.Bind(c, &req) {
		return
	}
	r, err := g.Svc.Invite(c.Request.Context(), httpkit.UserID(c), id, int64(req.UserID))
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, joinRequestJSON(r))
}

func (g Groups) requests(c *gin.Context) {
	id, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	limit, token, ok := pageParams(c)
	if !ok {
		return
	}
	rs, next, err := g.Svc.Requests(c.Request.Context(), httpkit.UserID(c), id, limit, token)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"requests": joinRequestsJSON(rs), "next_page_token": next})
}

func (g Groups) myRequests(c *gin.Context) {
	limit, token, ok := pageParams(c)
	if !ok {
		return
	}
	rs, next, err := g.Svc.MyRequests(c.Request.Context(), httpkit.UserID(c), limit, token)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"requests": joinRequestsJSON(rs), "next_page_token": next})
}

func (g Groups) accept(c *gin.Context) {
	id, user, ok := groupAndUser(c)
	if !ok {
		return
	}
	res, err := g.Svc.Accept(c.Request.Context(), httpkit.UserID(c), id, user)
	replyJoin(c, res, err)
}

func (g Groups) reject(c *gin.Context) {
	id, user, ok := groupAndUser(c)
	if !ok {
		return
	}
	r, err := g.Svc.Reject(c.Request.Context(), httpkit.UserID(c), id, user)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, joinRequestJSON(r))
}

func (g Groups) cancel(c *gin.Context) {
	id, user, ok := groupAndUser(c)
	if !ok {
		return
	}
	if err := g.Svc.Cancel(c.Request.Context(), httpkit.UserID(c), id, user); err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// remove takes a member out; ?ban=false keeps them off the ban list.
func (g Groups) remove(c *gin.Context) {
	id, user, ok := groupAndUser(c)
	if !ok {
		return
	}
	ban := true
	if v, set := c.GetQuery("ban"); set {
		b, err := strconv.ParseBool(v)
		if err != nil {
			httpkit.Fail(c, errs.Invalid("ban", "must be true or false"))
			return
		}
		ban = b
	}
	if err := g.Svc.Remove(c.Request.Context(), httpkit.UserID(c), id, user, ban); err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// BanJSON is one ban.
type BanJSON struct {
	GroupID   httpkit.ID `json:"group_id"`
	UserID    httpkit.ID `json:"user_id"`
	BannedBy  httpkit.ID `json:"banned_by"`
	CreatedAt time.Time  `json:"created_at"`
}

func (g Groups) bans(c *gin.Context) {
	id, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	limit, token, ok := pageParams(c)
	if !ok {
		return
	}
	bs, next, err := g.Svc.Bans(c.Request.Context(), httpkit.UserID(c), id, limit, token)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	out := make([]BanJSON, 0, len(bs))
	for _, b := range bs {
		out = append(out, BanJSON{GroupID: httpkit.ID(b.GroupID), UserID: httpkit.ID(b.UserID), BannedBy: httpkit.ID(b.BannedBy), CreatedAt: b.CreatedAt})
	}
	c.JSON(http.StatusOK, gin.H{"bans": out, "next_page_token": next})
}

func (g Groups) unban(c *gin.Context) {
	id, user, ok := groupAndUser(c)
	if !ok {
		return
	}
	if err := g.Svc.Unban(c.Request.Context(), httpkit.UserID(c), id, user); err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
