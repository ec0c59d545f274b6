package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/privateim/privateim/foundation/httpkit"
	"github.com/privateim/privateim/subscriptionservice/internal/article"
)

// Articles serves the article routes: the owner's (write, submit, publish,
// withdraw), the readers' (list, get) and the reviewers' (queue, approve,
// reject).
type Articles struct {
	Svc *article.Service
}

// Register implements Feature.
func (h Articles) Register(r httpkit.Routes) {
	r.Authed.POST("/subscriptions/:id/articles", h.create)
	r.Authed.GET("/subscriptions/:id/articles", h.list)
	r.Authed.GET("/subscriptions/:id/articles/:aid", h.get)
	r.Authed.PUT("/subscriptions/:id/articles/:aid", h.edit)
	r.Authed.DELETE("/subscriptions/:id/articles/:aid", h.delete)
	r.Authed.POST("/subscriptions/:id/articles/:aid/submit", h.submit)
	r.Authed.POST("/subscriptions/:id/articles/:aid/publish", h.publish)
	r.Authed.GET("/review/queue", h.queue)
	r.Authed.POST("/review/articles/:aid/approve", h.approve)
	r.Authed.POST("/review/articles/:aid/reject", h.reject)
}

// ArticleJSON is an article in answers. Followers see no review fields;
// withdrawn articles lose body and cover for them.
type ArticleJSON struct {
	ID             httpkit.ID  `json:"id"`
	SubscriptionID httpkit.ID  `json:"subscription_id"`
	AuthorID       httpkit.ID  `json:"author_id"`
	Title          string      `json:"title"`
	Body           string      `json:"body"`
	CoverURL       string      `json:"cover_url"`
	State          string      `json:"state"`
	RejectReason   string      `json:"reject_reason,omitempty"`
	ReviewerID     *httpkit.ID `json:"reviewer_id,omitempty"`
	Pushed         bool        `json:"pushed"`
	CreatedAt      time.Time   `json:"created_at"`
	UpdatedAt      time.Time   `json:"updated_at"`
	PublishedAt    *time.Time  `json:"published_at,omitempty"`
}

func articleJSON(a article.Article) ArticleJSON {
	out := ArticleJSON{ID: httpkit.ID(a.ID), SubscriptionID: httpkit.ID(a.SubscriptionID), AuthorID: httpkit.ID(a.AuthorID), Title: a.Title,
		Body: a.Body, CoverURL: a.CoverURL, State: a.State.String(), RejectReason: a.RejectReason, Pushed: a.Pushed,
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
	if a.ReviewerID != 0 {
		r := httpkit.ID(a.ReviewerID)
		out.ReviewerID = &r
	}
	if !a.PublishedAt.IsZero() {
		t := a.PublishedAt
		out.PublishedAt = &t
	}
	return out
}

func articlesJSON(as []article.Article) []ArticleJSON {
	out := make([]ArticleJSON, len(as))
	for i, a := range as {
		out[i] = articleJSON(a)
	}
	return out
}

// articleInput is the body of create and edit.
type articleInput struct {
	Title    string `json:"title"`
	Body     string `json:"body"`
	CoverURL string `json:"cover_url"`
}

func (h Articles) create(c *gin.Context) {
	sub, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	var req articleInput
	if !httpkit.Bind(c, &req) {
		return
	}
	a, err := h.Svc.Create(c.Request.Context(), httpkit.UserID(c), sub, article.Input(req))
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, articleJSON(a))
}

// ids reads the :id and :aid path parameters.
func ids(c *gin.Context) (sub, aid int64, ok bool) {
	if sub, ok = httpkit.PathID(c, "id"); !ok {
		return 0, 0, false
	}
	aid, ok = httpkit.PathID(c, "aid")
	return sub, aid, ok
}

func (h Articles) edit(c *gin.Context) {
	sub, aid, ok := ids(c)
	if !ok {
		return
	}
	var req articleInput
	if !httpkit.Bind(c, &req) {
		return
	}
	a, err := h.Svc.Edit(c.Request.Context(), httpkit.UserID(c), sub, aid, article.Input(req))
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, articleJSON(a))
}

func (h Articles) get(c *gin.Context) {
	sub, aid, ok := ids(c)
	if !ok {
		return
	}
	a, err := h.Svc.Get(c.Request.Context(), httpkit.UserID(c), sub, aid)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, articleJSON(a))
}

func (h Articles) list(c *gin.Context) {
	sub, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	limit, token, ok := pageParams(c)
	if !ok {
		return
	}
	as, next, err := h.Svc.List(c.Request.Context(), httpkit.UserID(c), sub, article.Page{Limit: limit, Token: token})
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"articles": articlesJSON(as), "next_page_token": next})
}

func (h Articles) submit(c *gin.Context) {
	sub, aid, ok := ids(c)
	if !ok {
		return
	}
	a, err := h.Svc.Submit(c.Request.Context(), httpkit.UserID(c), sub, aid)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, articleJSON(a))
}

func (h Articles) publish(c *gin.Context) {
	sub, aid, ok := ids(c)
	if !ok {
		return
	}
	a, err := h.Svc.Publish(c.Request.Context(), httpkit.UserID(c), sub, aid)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, articleJSON(a))
}

// delete withdraws a published article (200 with it) and deletes any other
// for good (204).
func (h Articles) delete(c *gin.Context) {
	sub, aid, ok := ids(c)
	if !ok {
		return
	}
	a, deleted, err := h.Svc.Withdraw(c.Request.Context(), httpkit.UserID(c), sub, aid)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	if deleted {
		c.Status(http.StatusNoContent)
		return
	}
	c.JSON(http.StatusOK, articleJSON(a))
}

func (h Articles) queue(c *gin.Context) {
	limit, token, ok := pageParams(c)
	if !ok {
		return
	}
	as, next, err := h.Svc.Queue(c.Request.Context(), httpkit.UserID(c), article.Page{Limit: limit, Token: token})
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"articles": articlesJSON(as), "next_page_token": next})
}

func (h Articles) approve(c *gin.Context) {
	aid, ok := httpkit.PathID(c, "aid")
	if !ok {
		return
	}
	a, err := h.Svc.Approve(c.Request.Context(), httpkit.UserID(c), aid)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, articleJSON(a))
}

func (h Articles) reject(c *gin.Context) {
	aid, ok := httpkit.PathID(c, "aid")
	if !ok {
		return
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if !httpkit.Bind(c, &req) {
		return
	}
	a, err := h.Svc.Reject(c.Request.Context(), httpkit.UserID(c), aid, req.Reason)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, articleJSON(a))
}
