package datastore

import (
	"context"
	"errors"

	"google.golang.org/protobuf/types/known/timestamppb"

	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/subscriptionservice/internal/article"
)

var _ article.Store = (*Client)(nil)

func articleOf(a *datav1.Article) article.Article {
	out := article.Article{
		ID:             a.GetId(),
		SubscriptionID: a.GetSubscriptionId(),
		AuthorID:       a.GetAuthorId(),
		Title:          a.GetTitle(),
		Body:           a.GetBody(),
		CoverURL:       a.GetCoverUrl(),
		State:          article.State(a.GetState()),
		RejectReason:   a.GetRejectReason(),
		ReviewerID:     a.GetReviewerId(),
		CreatedAt:      a.GetCreatedAt().AsTime(),
		UpdatedAt:      a.GetUpdatedAt().AsTime(),
		Pushed:         a.GetPushed(),
	}
	if a.PublishedAt != nil {
		out.PublishedAt = a.GetPublishedAt().AsTime()
	}
	return out
}

// CreateArticle implements article.Store; the DataService assigns the id.
func (c *Client) CreateArticle(ctx context.Context, a article.Article) (article.Article, error) {
	r, err := c.articles.CreateArticle(ctx, &datav1.CreateArticleRequest{
		SubscriptionId: a.SubscriptionID, AuthorId: a.AuthorID, Title: a.Title, Body: a.Body, CoverUrl: a.CoverURL,
		State: datav1.ArticleState(a.State),
	})
	if err != nil {
		return article.Article{}, translate("CreateArticle", err)
	}
	return articleOf(r), nil
}

// GetArticle implements article.Store.
func (c *Client) GetArticle(ctx context.Context, id int64) (article.Article, error) {
	r, err := c.articles.GetArticle(ctx, &datav1.GetArticleRequest{Id: id})
	if err != nil {
		return article.Article{}, translate("GetArticle", err)
	}
	return articleOf(r), nil
}

// UpdateArticle implements article.Store.
func (c *Client) UpdateArticle(ctx context.Context, id int64, up article.Update) (article.Article, error) {
	req := &datav1.UpdateArticleRequest{
		Id: id, Title: up.Title, Body: up.Body, CoverUrl: up.CoverURL, RejectReason: up.RejectReason,
		ReviewerId: up.ReviewerID, Pushed: up.Pushed, ExpectedState: datav1.ArticleState(up.ExpectedState),
	}
	if up.State != nil {
		st := datav1.ArticleState(*up.State)
		req.State = &st
	}
	if up.PublishedAt != nil {
		req.PublishedAt = timestamppb.New(*up.PublishedAt)
	}
	r, err := c.articles.UpdateArticle(ctx, req)
	if err != nil {
		return article.Article{}, translate("UpdateArticle", err)
	}
	return articleOf(r), nil
}

// ListArticles implements article.Store.
func (c *Client) ListArticles(ctx context.Context, f article.Filter, p article.Page) ([]article.Article, string, error) {
	req := &datav1.ListArticlesRequest{SubscriptionId: f.SubscriptionID, UnpushedOnly: f.UnpushedOnly, Limit: int32(p.Limit), PageToken: p.Token}
	for _, s := range f.States {
		req.States = append(req.States, datav1.ArticleState(s))
	}
	r, err := c.articles.ListArticles(ctx, req)
	if err != nil {
		return nil, "", translate("ListArticles", err)
	}
	out := make([]article.Article, 0, len(r.GetArticles()))
	for _, a := range r.GetArticles() {
		out = append(out, articleOf(a))
	}
	return out, r.GetNextPageToken(), nil
}

// DeleteArticle implements article.Store.
func (c *Client) DeleteArticle(ctx context.Context, id int64, expected article.State) error {
	_, err := c.articles.DeleteArticle(ctx, &datav1.DeleteArticleRequest{Id: id, ExpectedState: datav1.ArticleState(expected)})
	return translate("DeleteArticle", err)
}

// Account implements article.Store.
func (c *Client) Account(ctx context.Context, id int64) (article.Account, error) {
	s, err := c.GetSubscription(ctx, id)
	if err != nil {
		return article.Account{}, err
	}
	return article.Account{ID: s.ID, OwnerID: s.OwnerID, Deleted: s.Deleted}, nil
}

// IsFollower implements article.Store: a follower who left is none.
func (c *Client) IsFollower(ctx context.Context, subscriptionID, userID int64) (bool, error) {
	f, err := c.subscriptions.GetFollower(ctx, &datav1.GetFollowerRequest{SubscriptionId: subscriptionID, UserId: userID})
	if err != nil {
		err = translate("GetFollower", err)
		if errors.Is(err, errs.ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	return !f.GetLeft(), nil
}

// Reviewer implements article.Store; a deleted user is errs.ErrNotFound.
func (c *Client) Reviewer(ctx context.Context, userID int64) (article.ReviewerInfo, error) {
	u, err := c.users.GetUser(ctx, &datav1.GetUserRequest{Id: userID})
	if err != nil {
		return article.ReviewerInfo{}, translate("GetUser", err)
	}
	if u.GetDeleted() {
		return article.ReviewerInfo{}, errs.ErrNotFound
	}
	return article.ReviewerInfo{Email: u.GetEmail(), EmailVerified: u.GetEmailVerified()}, nil
}
