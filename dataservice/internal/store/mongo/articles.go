package mongo

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/privateim/privateim/dataservice/internal/store"
	mdb "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// CreateArticle stores a new article. State 0 means draft; zero times mean
// now. An id stored before yields *store.ExistsError{Field: "id"}.
func (d *Documents) CreateArticle(ctx context.Context, a store.Article) (store.Article, error) {
	if a.State == 0 {
		a.State = store.ArticleDraft
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = d.now()
	}
	if a.UpdatedAt.IsZero() {
		a.UpdatedAt = a.CreatedAt
	}
	if _, err := d.articles.InsertOne(ctx, articleDocument(a)); err != nil {
		return store.Article{}, fmt.Errorf("create article %d: %w", a.ID, translate(err))
	}
	// Return what a read would: times as stored (UTC, no monotonic clock).
	a.CreatedAt = fromNanos(nanos(a.CreatedAt))
	a.UpdatedAt = fromNanos(nanos(a.UpdatedAt))
	a.PublishedAt = fromNanos(nanos(a.PublishedAt))
	return a, nil
}

// GetArticle returns one article.
func (d *Documents) GetArticle(ctx context.Context, id int64) (store.Article, error) {
	var doc articleDoc
	if err := d.articles.FindOne(ctx, idFilter(id)).Decode(&doc); err != nil {
		return store.Article{}, fmt.Errorf("get article %d: %w", id, translate(err))
	}
	return doc.article(), nil
}

// UpdateArticle changes the given fields in one findOneAndUpdate. With an
// ExpectedState the filter includes the state, so of two concurrent
// transitions only one matches; the loser reads the article again to tell
// "gone" (store.ErrNotFound) from "in another state" (*store.PreconditionError).
func (d *Documents) UpdateArticle(ctx context.Context, id int64, up store.ArticleUpdate) (store.Article, error) {
	for attempt := 1; ; attempt++ {
		var doc articleDoc
		err := d.articles.FindOneAndUpdate(ctx, articleUpdateFilter(id, up.ExpectedState), articleUpdate(up, d.now()),
			options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&doc)
		if err == nil {
			return doc.article(), nil
		}
		if !errors.Is(err, mdb.ErrNoDocuments) || up.ExpectedState == 0 {
			return store.Article{}, fmt.Errorf("update article %d: %w", id, translate(err))
		}
		var cur articleDoc
		if err := d.articles.FindOne(ctx, idFilter(id)).Decode(&cur); err != nil {
			return store.Article{}, fmt.Errorf("update article %d: %w", id, translate(err))
		}
		state := store.ArticleState(cur.State)
		if state != up.ExpectedState || attempt == 3 {
			return store.Article{}, fmt.Errorf("update article %d: %w", id,
				&store.PreconditionError{Reason: "article is " + stateName(state)})
		}
		// It left the expected state and came back between the two reads:
		// try the conditional update again.
	}
}

// stateName is the state as callers read it in a precondition message.
func stateName(s store.ArticleState) string {
	switch s {
	case store.ArticleDraft:
		return "draft"
	case store.ArticleInReview:
		return "in review"
	case store.ArticleApproved:
		return "approved"
	case store.ArticleRejected:
		return "rejected"
	case store.ArticlePublished:
		return "published"
	case store.ArticleWithdrawn:
		return "withdrawn"
	}
	return "in state " + strconv.Itoa(int(s))
}

// ListArticles returns articles newest id first; see store.Documents.
func (d *Documents) ListArticles(ctx context.Context, f store.ArticleFilter, p store.Page) ([]store.Article, string, error) {
	subscriptionID := f.SubscriptionID
	var afterID int64
	if p.After != "" {
		id, err := decodeIDToken(p.After)
		if err != nil {
			return nil, "", fmt.Errorf("list articles of %d: %w", subscriptionID, err)
		}
		afterID = id
	}
	limit := p.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	cur, err := d.articles.Find(ctx, listArticlesFilter(f, afterID),
		options.Find().SetSort(articleSort()).SetLimit(int64(limit)+1))
	if err != nil {
		return nil, "", fmt.Errorf("list articles of %d: %w", subscriptionID, err)
	}
	var docs []articleDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, "", fmt.Errorf("list articles of %d: %w", subscriptionID, err)
	}
	next := ""
	if len(docs) > limit {
		docs = docs[:limit]
		next = encodeIDToken(docs[limit-1].ID)
	}
	arts := make([]store.Article, len(docs))
	for i, doc := range docs {
		arts[i] = doc.article()
	}
	return arts, next, nil
}

// DeleteArticle removes an article for good. With an expected state the
// filter includes it; when nothing matched, the article read afterwards
// tells "gone" from "in another state".
func (d *Documents) DeleteArticle(ctx context.Context, id int64, expected store.ArticleState) error {
	res, err := d.articles.DeleteOne(ctx, articleUpdateFilter(id, expected))
	if err != nil {
		return fmt.Errorf("delete article %d: %w", id, err)
	}
	if res.DeletedCount > 0 {
		return nil
	}
	if expected == 0 {
		return fmt.Errorf("delete article %d: %w", id, store.ErrNotFound)
	}
	var cur articleDoc
	if err := d.articles.FindOne(ctx, idFilter(id)).Decode(&cur); err != nil {
		return fmt.Errorf("delete article %d: %w", id, translate(err))
	}
	return fmt.Errorf("delete article %d: %w", id,
		&store.PreconditionError{Reason: "article is " + stateName(store.ArticleState(cur.State))})
}
