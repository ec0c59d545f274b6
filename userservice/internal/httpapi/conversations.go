package httpapi

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/foundation/httpkit"
	"github.com/privateim/privateim/userservice/internal/conversation"
)

// Conversations serves the conversation list, unread total, settings and
// readers (rules: package conversation).
type Conversations struct {
	Svc *conversation.Service
}

// Register implements Feature.
func (cv Conversations) Register(r httpkit.Routes) {
	r.Authed.GET("/conversations", cv.list)
	r.Authed.GET("/conversations/unread", cv.unread)
	r.Authed.PATCH("/conversations/:conversation", cv.update)
	r.Authed.POST("/conversations/:conversation/read", cv.read)
	r.Authed.GET("/conversations/:conversation/messages/:seq/readers", cv.readers)
}

// ConversationJSON is one conversation of the list.
type ConversationJSON struct {
	Conversation string           `json:"conversation"`
	Kind         string           `json:"kind"`
	Name         string           `json:"name"`
	Avatar       string           `json:"avatar"`
	LastMessage  *LastMessageJSON `json:"last_message"`
	HeadSeq      int64            `json:"head_seq"`
	ReadSeq      int64            `json:"read_seq"`
	Unread       int64            `json:"unread"`
	Muted        bool             `json:"muted"`
	Pinned       bool             `json:"pinned"`
	// Mentioned: an unread message mentions the user.
	Mentioned bool `json:"mentioned"`
}

// LastMessageJSON is what the list shows of a conversation's last message.
type LastMessageJSON struct {
	Sender  httpkit.ID `json:"sender"`
	Kind    string     `json:"kind"`
	Preview string     `json:"preview"`
	Seq     int64      `json:"seq"`
	TS      int64      `json:"ts"` // unix ms
}

func conversationJSON(it conversation.Item) ConversationJSON {
	out := ConversationJSON{
		Conversation: it.Conversation, Kind: string(it.Kind), Name: it.Name, Avatar: it.Avatar,
		HeadSeq: it.HeadSeq, ReadSeq: it.ReadSeq, Unread: it.Unread, Muted: it.Muted, Pinned: it.Pinned,
		Mentioned: it.Mentioned,
	}
	if m := it.Last; m != nil {
		out.LastMessage = &LastMessageJSON{Sender: httpkit.ID(m.SenderID), Kind: m.Kind, Preview: m.Preview, Seq: m.Seq, TS: m.At.UnixMilli()}
	}
	return out
}

// listLimit reads limit (1..conversation.MaxLimit, default
// conversation.DefaultLimit) and cursor.
func listLimit(c *gin.Context) (int, string, bool) {
	limit := conversation.DefaultLimit
	if s, set := c.GetQuery("limit"); set {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > conversation.MaxLimit {
			httpkit.Fail(c, errs.Invalid("limit", "must be a whole number 1..%d", conversation.MaxLimit))
			return 0, "", false
		}
		limit = n
	}
	return limit, c.Query("cursor"), true
}

func (cv Conversations) list(c *gin.Context) {
	limit, cur, ok := listLimit(c)
	if !ok {
		return
	}
	p, err := cv.Svc.List(c.Request.Context(), httpkit.UserID(c), limit, cur)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	out := make([]ConversationJSON, len(p.Items))
	for i, it := range p.Items {
		out[i] = conversationJSON(it)
	}
	c.JSON(http.StatusOK, gin.H{"conversations": out, "next_cursor": p.Next})
}

func (cv Conversations) unread(c *gin.Context) {
	n, err := cv.Svc.Unread(c.Request.Context(), httpkit.UserID(c))
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"total": n})
}

func (cv Conversations) update(c *gin.Context) {
	var req struct {
		Muted  *bool `json:"muted"`
		Pinned *bool `json:"pinned"`
		Hidden *bool `json:"hidden"`
	}
	if !httpkit.Bind(c, &req) {
		return
	}
	ch, err := cv.Svc.Update(c.Request.Context(), httpkit.UserID(c), c.Param("conversation"),
		conversation.Settings{Muted: req.Muted, Pinned: req.Pinned, Hidden: req.Hidden})
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"conversation": ch.Conversation, "muted": ch.Muted, "pinned": ch.Pinned, "hidden": ch.Hidden})
}

func (cv Conversations) read(c *gin.Context) {
	var req struct {
		Seq *int64 `json:"seq"`
	}
	if !httpkit.Bind(c, &req) {
		return
	}
	if req.Seq == nil {
		httpkit.Fail(c, errs.Required("seq"))
		return
	}
	seq, err := cv.Svc.MarkRead(c.Request.Context(), httpkit.UserID(c), c.Param("conversation"), *req.Seq)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"conversation": c.Param("conversation"), "read_seq": seq})
}

// ReaderJSON is a user who read a message.
type ReaderJSON struct {
	ID     httpkit.ID `json:"id"`
	Name   string     `json:"name"`
	Avatar string     `json:"avatar"`
}

func (cv Conversations) readers(c *gin.Context) {
	seq, err := strconv.ParseInt(c.Param("seq"), 10, 64)
	if err != nil {
		httpkit.Fail(c, errs.Invalid("seq", "must be a whole number >= 1"))
		return
	}
	limit, cur, ok := listLimit(c)
	if !ok {
		return
	}
	p, err := cv.Svc.Readers(c.Request.Context(), httpkit.UserID(c), c.Param("conversation"), seq, limit, cur)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	out := make([]ReaderJSON, len(p.Readers))
	for i, r := range p.Readers {
		out[i] = ReaderJSON{ID: httpkit.ID(r.ID), Name: r.Name, Avatar: r.Avatar}
	}
	c.JSON(http.StatusOK, gin.H{"readers": out, "next_cursor": p.Next})
}
