package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/foundation/httpkit"
	"github.com/privateim/privateim/userservice/internal/group"
)

// The moderation routes of groups: roles, mutes, mute all, announcement.
func (g Groups) registerModeration(r httpkit.Routes) {
	r.Authed.PUT("/groups/:id/members/:user_id/role", g.setRole)
	r.Authed.PUT("/groups/:id/members/:user_id/mute", g.mute)
	r.Authed.DELETE("/groups/:id/members/:user_id/mute", g.unmute)
	r.Authed.PUT("/groups/:id/mute_all", g.muteAll)
	r.Authed.PUT("/groups/:id/announcement", g.announce)
}

func replyMember(c *gin.Context, m group.Member, err error) {
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, memberJSON(m))
}

func (g Groups) setRole(c *gin.Context) {
	id, user, ok := groupAndUser(c)
	if !ok {
		return
	}
	var req struct {
		Role string `json:"role"`
	}
	if !httpkit.Bind(c, &req) {
		return
	}
	m, err := g.Svc.SetRole(c.Request.Context(), httpkit.UserID(c), id, user, group.Role(req.Role))
	replyMember(c, m, err)
}

func (g Groups) mute(c *gin.Context) {
	id, user, ok := groupAndUser(c)
	if !ok {
		return
	}
	var req struct {
		Until           *string `json:"until"`
		DurationSeconds *int64  `json:"duration_seconds"`
	}
	if !httpkit.Bind(c, &req) {
		return
	}
	var until *time.Time
	if req.Until != nil {
		t, err := time.Parse(time.RFC3339, *req.Until)
		if err != nil {
			httpkit.Fail(c, errs.Invalid("until", "an RFC 3339 time, e.g. 2026-12-07T09:00:00Z"))
			return
		}
		until = &t
	}
	m, err := g.Svc.Mute(c.Request.Context(), httpkit.UserID(c), id, user, until, req.DurationSeconds)
	replyMember(c, m, err)
}

func (g Groups) unmute(c *gin.Context) {
	id, user, ok := groupAndUser(c)
	if !ok {
		return
	}
	m, err := g.Svc.Unmute(c.Request.Context(), httpkit.UserID(c), id, user)
	replyMember(c, m, err)
}

func (g Groups) muteAll(c *gin.Context) {
	id, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	var req struct {
		On *bool `json:"on"`
	}
	if !httpkit.Bind(c, &req) {
		return
	}
	if req.On == nil {
		httpkit.Fail(c, errs.Required("on"))
		return
	}
	gr, err := g.Svc.MuteAll(c.Request.Context(), httpkit.UserID(c), id, *req.On)
	replyGroup(c, http.StatusOK, gr, err)
}

func (g Groups) announce(c *gin.Context) {
	id, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	var req struct {
		Text *string `json:"text"`
	}
	if !httpkit.Bind(c, &req) {
		return
	}
	gr, err := g.Svc.Announce(c.Request.Context(), httpkit.UserID(c), id, req.Text)
	replyGroup(c, http.StatusOK, gr, err)
}
