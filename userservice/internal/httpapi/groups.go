package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/privateim/privateim/foundation/httpkit"
	"github.com/privateim/privateim/userservice/internal/group"
)

// Groups serves the group routes (rules: package group).
type Groups struct {
	Svc *group.Service
}

// Register implements Feature.
func (g Groups) Register(r httpkit.Routes) {
	r.Authed.POST("/groups", g.create)
	r.Authed.GET("/groups", g.mine)
	r.Authed.GET("/groups/search", g.search)
	r.Authed.GET("/groups/:id", g.get)
	r.Authed.PATCH("/groups/:id", g.rename)
	r.Authed.DELETE("/groups/:id", g.dismiss)
	r.Authed.POST("/groups/:id/quit", g.quit)
	r.Authed.GET("/groups/:id/members", g.members)
	r.Authed.PUT("/groups/:id/owner", g.transfer)
	r.Authed.PATCH("/groups/:id/me", g.nickname)
	g.registerAccess(r)
	g.registerModeration(r)
}

// GroupJSON is a group.
type GroupJSON struct {
	ID          httpkit.ID `json:"id"`
	Name        string     `json:"name"`
	OwnerID     httpkit.ID `json:"owner_id"`
	Avatar      string     `json:"avatar"`
	MemberCount int64      `json:"member_count"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`

	JoinPolicy          string `json:"join_policy"`
	History             string `json:"history"`
	InviteNeedsApproval bool   `json:"invite_needs_approval"`
	MuteAll             bool   `json:"mute_all"`
	// Announcement is shown to members only; null when none.
	Announcement *AnnouncementJSON `json:"announcement"`
}

// AnnouncementJSON is a group's announcement.
type AnnouncementJSON struct {
	Text     string     `json:"text"`
	AuthorID httpkit.ID `json:"author_id"`
	At       time.Time  `json:"at"`
}

func groupJSON(gr group.Group) GroupJSON {
	j := GroupJSON{ID: httpkit.ID(gr.ID), Name: gr.Name, OwnerID: httpkit.ID(gr.OwnerID), Avatar: gr.Avatar,
		MemberCount: gr.MemberCount, CreatedAt: gr.CreatedAt, UpdatedAt: gr.UpdatedAt,
		JoinPolicy: string(gr.JoinPolicy), History: string(gr.History), InviteNeedsApproval: gr.InviteNeedsApproval,
		MuteAll: gr.MuteAll}
	if a := gr.Announcement; a.Text != "" {
		j.Announcement = &AnnouncementJSON{Text: a.Text, AuthorID: httpkit.ID(a.AuthorID), At: a.At}
	}
	return j
}

func groupsJSON(gs []group.Group) []GroupJSON {
	out := make([]GroupJSON, 0, len(gs))
	for _, gr := range gs {
		out = append(out, groupJSON(gr))
	}
	return out
}

// MemberJSON is a membership; User is set in member lists.
type MemberJSON struct {
	GroupID  httpkit.ID      `json:"group_id"`
	UserID   httpkit.ID      `json:"user_id"`
	User     *MemberUserJSON `json:"user,omitempty"`
	Nickname string          `json:"nickname"`
	Role     string          `json:"role"`
	JoinedAt time.Time       `json:"joined_at"`
	JoinSeq  int64           `json:"join_seq"`
	// MutedUntil: set while the member is muted (9999-12-31T00:00:00Z:
	// until lifted).
	MutedUntil *time.Time `json:"muted_until,omitempty"`
}

// MemberUserJSON is what a member list shows of a user.
type MemberUserJSON struct {
	ID     httpkit.ID `json:"id"`
	Name   string     `json:"name"`
	Avatar string     `json:"avatar"`
}

func memberJSON(m group.Member) MemberJSON {
	j := MemberJSON{GroupID: httpkit.ID(m.GroupID), UserID: httpkit.ID(m.UserID), Nickname: m.Nickname, Role: string(m.Role), JoinedAt: m.JoinedAt, JoinSeq: m.JoinSeq}
	if !m.MutedUntil.IsZero() && m.MutedUntil.After(time.Now()) {
		j.MutedUntil = &m.MutedUntil
	}
	return j
}

// reply answers gr as JSON with status, or err.
func replyGroup(c *gin.Context, status int, gr group.Group, err error) {
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(status, groupJSON(gr))
}

func (g Groups) create(c *gin.Context) {
	var req struct {
		Name      string       `json:"name"`
		MemberIDs []httpkit.ID `json:"member_ids"`
	}
	if !httpkit.Bind(c, &req) {
		return
	}
	ids := make([]int64, len(req.MemberIDs))
	for i, id := range req.MemberIDs {
		ids[i] = int64(id)
	}
	gr, err := g.Svc.Create(c.Request.Context(), httpkit.UserID(c), req.Name, ids)
	replyGroup(c, http.StatusCreated, gr, err)
}

func (g Groups) mine(c *gin.Context) {
	limit, token, ok := pageParams(c)
	if !ok {
		return
	}
	gs, next, err := g.Svc.Mine(c.Request.Context(), httpkit.UserID(c), limit, token)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"groups": groupsJSON(gs), "next_page_token": next})
}

func (g Groups) search(c *gin.Context) {
	limit, token, ok := pageParams(c)
	if !ok {
		return
	}
	gs, next, err := g.Svc.Search(c.Request.Context(), c.Query("q"), limit, token)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"groups": groupsJSON(gs), "next_page_token": next})
}

func (g Groups) get(c *gin.Context) {
	id, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	gr, err := g.Svc.Get(c.Request.Context(), httpkit.UserID(c), id)
	replyGroup(c, http.StatusOK, gr, err)
}

func (g Groups) rename(c *gin.Context) {
	id, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	var req struct {
		Name *string `json:"name"`
	}
	if !httpkit.Bind(c, &req) {
		return
	}
	gr, err := g.Svc.Rename(c.Request.Context(), httpkit.UserID(c), id, req.Name)
	replyGroup(c, http.StatusOK, gr, err)
}

func (g Groups) dismiss(c *gin.Context) {
	id, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	if err := g.Svc.Dismiss(c.Request.Context(), httpkit.UserID(c), id); err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (g Groups) quit(c *gin.Context) {
	id, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	if err := g.Svc.Quit(c.Request.Context(), httpkit.UserID(c), id); err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (g Groups) members(c *gin.Context) {
	id, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	limit, token, ok := pageParams(c)
	if !ok {
		return
	}
	ms, next, err := g.Svc.Members(c.Request.Context(), httpkit.UserID(c), id, limit, token)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	out := make([]MemberJSON, 0, len(ms))
	for _, mi := range ms {
		j := memberJSON(mi.Member)
		j.User = &MemberUserJSON{ID: httpkit.ID(mi.User.ID), Name: mi.User.Name, Avatar: mi.User.Avatar}
		out = append(out, j)
	}
	c.JSON(http.StatusOK, gin.H{"members": out, "next_page_token": next})
}

func (g Groups) transfer(c *gin.Context) {
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
	gr, err := g.Svc.Transfer(c.Request.Context(), httpkit.UserID(c), id, int64(req.UserID))
	replyGroup(c, http.StatusOK, gr, err)
}

func (g Groups) nickname(c *gin.Context) {
	id, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	var req struct {
		Nickname *string `json:"nickname"`
	}
	if !httpkit.Bind(c, &req) {
		return
	}
	m, err := g.Svc.SetNickname(c.Request.Context(), httpkit.UserID(c), id, req.Nickname)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, memberJSON(m))
}
