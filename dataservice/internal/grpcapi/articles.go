package grpcapi

import (
	"context"
	"fmt"

	"github.com/privateim/privateim/dataservice/internal/store"
	datav1 "github.com/privateim/privateim/protos/data/v1"
)

type articlesServer struct {
	datav1.UnimplementedArticlesServer
	*base
}

const stateMax = int32(datav1.ArticleState_ARTICLE_STATE_WITHDRAWN)

func (s *articlesServer) CreateArticle(ctx context.Context, r *datav1.CreateArticleRequest) (*datav1.Article, error) {
	var c checker
	c.id("subscription_id", r.GetSubscriptionId())
	c.id("author_id", r.GetAuthorId())
	c.name("title", r.GetTitle(), maxTitleRunes)
	c.maxBytes("body", r.GetBody(), maxBodyBytes)
	c.maxBytes("cover_url", r.GetCoverUrl(), maxURLBytes)
	c.enum("state", int32(r.GetState()), 0, stateMax)
	if err := c.err(); err != nil {
		return nil, err
	}
	state := store.ArticleState(r.GetState())
	if state == 0 {
		state = store.ArticleDraft
	}
	now := s.now()
	a, err := s.docs.CreateArticle(ctx, store.Article{
		ID:             s.ids.Next(),
		SubscriptionID: r.GetSubscriptionId(),
		AuthorID:       r.GetAuthorId(),
		Title:          r.GetTitle(),
		Body:           r.GetBody(),
		CoverURL:       r.GetCoverUrl(),
		State:          state,
		CreatedAt:      now,
		UpdatedAt:      now,
	})
	if err != nil {
		return nil, s.fail(ctx, "create article", err)
	}
	return articlePB(a), nil
}

func (s *articlesServer) GetArticle(ctx context.Context, r *datav1.GetArticleRequest) (*datav1.Article, error) {
	var c checker
	c.id("id", r.GetId())
	if err := c.err(); err != nil {
		return nil, err
	}
	a, err := s.docs.GetArticle(ctx, r.GetId())
	if err != nil {
		return nil, s.fail(ctx, "get article", err)
	}
	return articlePB(a), nil
}

func (s *articlesServer) UpdateArticle(ctx context.Context, r *datav1.UpdateArticleRequest) (*datav1.Article, error) {
	var c checker
	c.id("id", r.GetId())
	c.optName("title", r.Title, maxTitleRunes)
	c.optBytes("body", r.Body, maxBodyBytes)
	c.optBytes("cover_url", r.CoverUrl, maxURLBytes)
	if r.State != nil {
		c.enum("state", int32(*r.State), 1, stateMax)
	}
	c.optRunes("reject_reason", r.RejectReason, maxIntroRunes)
	if r.ReviewerId != nil {
		c.nonNegative("reviewer_id", *r.ReviewerId)
	}
	c.optTimestamp("published_at", r.PublishedAt)
	c.enum("expected_state", int32(r.GetExpectedState()), 0, stateMax)
	if err := c.err(); err != nil {
		return nil, err
	}
	up := store.ArticleUpdate{
		Title:         r.Title,
		Body:          r.Body,
		CoverURL:      r.CoverUrl,
		State:         optEnum[datav1.ArticleState, store.ArticleState](r.State),
		RejectReason:  r.RejectReason,
		ReviewerID:    r.ReviewerId,
		Pushed:        r.Pushed,
		ExpectedState: store.ArticleState(r.GetExpectedState()),
	}
	if r.PublishedAt != nil {
		t := fromTS(r.PublishedAt)
		up.PublishedAt = &t
	}
	a, err := s.docs.UpdateArticle(ctx, r.GetId(), up)
	if err != nil {
		return nil, s.fail(ctx, "update article", err)
	}
	return articlePB(a), nil
}

func (s *articlesServer) ListArticles(ctx context.Context, r *datav1.ListArticlesRequest) (*datav1.ListArticlesResponse, error) {
	var c checker
	c.nonNegative("subscription_id", r.GetSubscriptionId()) // 0: every subscription
	if len(r.GetStates()) > maxStates {
		c.add("states", "at most %d states", maxStates)
	}
	states := make([]store.ArticleState, 0, len(r.GetStates()))
	for i, st := range r.GetStates() {
		c.enum(fmt.Sprintf("states[%d]", i), int32(st), 1, stateMax)
		states = append(states, store.ArticleState(st))
	}
	p := c.page(r.GetLimit(), r.GetPageToken())
	if err := c.err(); err != nil {
		return nil, err
	}
	arts, next, err := s.docs.ListArticles(ctx, store.ArticleFilter{
		SubscriptionID: r.GetSubscriptionId(), States: states, UnpushedOnly: r.GetUnpushedOnly(),
	}, p)
	if err != nil {
		return nil, s.fail(ctx, "list articles", err)
	}
	out := &datav1.ListArticlesResponse{Articles: make([]*datav1.Article, len(arts)), NextPageToken: encodePageToken(next)}
	for i, a := range arts {
		out.Articles[i] = articlePB(a)
	}
	return out, nil
}

func (s *articlesServer) DeleteArticle(ctx context.Context, r *datav1.DeleteArticleRequest) (*datav1.DeleteArticleResponse, error) {
	var c checker
	c.id("id", r.GetId())
	c.enum("expected_state", int32(r.GetExpectedState()), 0, stateMax)
	if err := c.err(); err != nil {
		return nil, err
	}
	if err := s.docs.DeleteArticle(ctx, r.GetId(), store.ArticleState(r.GetExpectedState())); err != nil {
		return nil, s.fail(ctx, "delete article", err)
	}
	return &datav1.DeleteArticleResponse{}, nil
}
