package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
)

const articleCols = "id, subscription_id, author_id, title, body, cover_url, state, reject_reason, reviewer_id, created_at, updated_at, published_at, pushed"

// stateName is the name callers see in a precondition reason.
func stateName(s store.ArticleState) string {
	switch s {
	case store.ArticleDraft:
		return "draft"
	case store.ArticleInReview:
		return "in_review"
	case store.ArticleApproved:
		return "approved"
	case store.ArticleRejected:
		return "rejected"
	case store.ArticlePublished:
		return "published"
	case store.ArticleWithdrawn:
		return "withdrawn"
	}
	return "state " + strconv.Itoa(int(s))
}

// nullTime stores the zero time as NULL.
func nullTime(t time.Time) sql.NullTime {
	if t.IsZero() {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: dbTime(t), Valid: true}
}

// CreateArticle stores a (ID from the caller). State 0 means draft; a zero
// CreatedAt means now and a zero UpdatedAt means CreatedAt.
func (d *Documents) CreateArticle(ctx context.Context, a store.Article) (store.Article, error) {
	if a.State == 0 {
		a.State = store.ArticleDraft
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = time.Now()
	}
	if a.UpdatedAt.IsZero() {
		a.UpdatedAt = a.CreatedAt
	}
	a.CreatedAt, a.UpdatedAt = dbTime(a.CreatedAt), dbTime(a.UpdatedAt)
	pub := nullTime(a.PublishedAt)
	a.PublishedAt = pub.Time
	_, err := d.db.ExecContext(ctx, "INSERT INTO articles ("+articleCols+") VALUES ("+placeholders(13)+")",
		a.ID, a.SubscriptionID, a.AuthorID, a.Title, a.Body, a.CoverURL, a.State, a.RejectReason, a.ReviewerID,
		a.CreatedAt, a.UpdatedAt, pub, a.Pushed)
	if isDuplicate(err) {
		return store.Article{}, fmt.Errorf("create article %d: %w", a.ID, &store.ExistsError{Field: "article id"})
	}
	if err != nil {
		return store.Article{}, fmt.Errorf("create article %d: %w", a.ID, err)
	}
	return a, nil
}

type rowScanner interface{ Scan(dest ...any) error }

func scanArticle(r rowScanner) (store.Article, error) {
	var a store.Article
	var pub sql.NullTime
	err := r.Scan(&a.ID, &a.SubscriptionID, &a.AuthorID, &a.Title, &a.Body, &a.CoverURL, &a.State, &a.RejectReason,
		&a.ReviewerID, &a.CreatedAt, &a.UpdatedAt, &pub, &a.Pushed)
	if pub.Valid {
		a.PublishedAt = pub.Time
	}
	return a, err
}

func (d *Documents) GetArticle(ctx context.Context, id int64) (store.Article, error) {
	a, err := scanArticle(d.db.QueryRowContext(ctx, "SELECT "+articleCols+" FROM articles WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Article{}, fmt.Errorf("get article %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Article{}, fmt.Errorf("get article %d: %w", id, err)
	}
	return a, nil
}

// UpdateArticle locks the row, checks ExpectedState against it and writes
// the given fields, so two concurrent transitions from one state cannot both
// succeed. UpdatedAt becomes now.
func (d *Documents) UpdateArticle(ctx context.Context, id int64, up store.ArticleUpdate) (store.Article, error) {
	var a store.Article
	err := docTx(ctx, d.db, func(tx *sql.Tx) error {
		var err error
		a, err = scanArticle(tx.QueryRowContext(ctx, "SELECT "+articleCols+" FROM articles WHERE id = ? FOR UPDATE", id))
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if up.ExpectedState != 0 && a.State != up.ExpectedState {
			return store.Preconditionf("article %d is %s, not %s", id, stateName(a.State), stateName(up.ExpectedState))
		}
		set := []string{"updated_at = ?"}
		a.UpdatedAt = dbTime(time.Now())
		args := []any{a.UpdatedAt}
		field := func(col string, v any) {
			set = append(set, col+" = ?")
			args = append(args, v)
		}
		if up.Title != nil {
			a.Title = *up.Title
			field("title", a.Title)
		}
		if up.Body != nil {
			a.Body = *up.Body
			field("body", a.Body)
		}
		if up.CoverURL != nil {
			a.CoverURL = *up.CoverURL
			field("cover_url", a.CoverURL)
		}
		if up.State != nil {
			a.State = *up.State
			field("state", a.State)
		}
		if up.RejectReason != nil {
			a.RejectReason = *up.RejectReason
			field("reject_reason", a.RejectReason)
		}
		if up.ReviewerID != nil {
			a.ReviewerID = *up.ReviewerID
			field("reviewer_id", a.ReviewerID)
		}
		if up.PublishedAt != nil {
			pub := nullTime(*up.PublishedAt)
			a.PublishedAt = pub.Time
			field("published_at", pub)
		}
		if up.Pushed != nil {
			a.Pushed = *up.Pushed
			field("pushed", a.Pushed)
		}
		args = append(args, id)
		_, err = tx.ExecContext(ctx, "UPDATE articles SET "+strings.Join(set, ", ")+" WHERE id = ?", args...)
		return err
	})
	if err != nil {
		return store.Article{}, fmt.Errorf("update article %d: %w", id, err)
	}
	return a, nil
}

// ListArticles pages newest id first; the page token is the last id returned.
func (d *Documents) ListArticles(ctx context.Context, f store.ArticleFilter, p store.Page) ([]store.Article, string, error) {
	subscriptionID, states := f.SubscriptionID, f.States
	limit := clampLimit(p.Limit)
	var where []string
	var args []any
	if subscriptionID != 0 {
		where = append(where, "subscription_id = ?")
		args = append(args, subscriptionID)
	}
	if len(states) > 0 {
		where = append(where, "state IN ("+placeholders(len(states))+")")
		for _, s := range states {
			args = append(args, s)
		}
	}
	if f.UnpushedOnly {
		where = append(where, "pushed = FALSE")
	}
	if p.After != "" {
		after, err := parseIDToken(p.After)
		if err != nil {
			return nil, "", fmt.Errorf("list articles of subscription %d: %w", subscriptionID, err)
		}
		where = append(where, "id < ?")
		args = append(args, after)
	}
	q := "SELECT " + articleCols + " FROM articles"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list articles of subscription %d: %w", subscriptionID, err)
	}
	defer rows.Close()
	arts := []store.Article{}
	for rows.Next() {
		a, err := scanArticle(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list articles of subscription %d: %w", subscriptionID, err)
		}
		arts = append(arts, a)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list articles of subscription %d: %w", subscriptionID, err)
	}
	next := ""
	if len(arts) > limit {
		arts = arts[:limit]
		next = strconv.FormatInt(arts[limit-1].ID, 10)
	}
	return arts, next, nil
}

// DeleteArticle removes the row for good. With an expected state it locks
// the row first, as UpdateArticle does (the same lock order, and a deadlock
// victim is run again), checks the state and deletes, so a delete and a
// transition from one state cannot both succeed.
func (d *Documents) DeleteArticle(ctx context.Context, id int64, expected store.ArticleState) error {
	err := docTx(ctx, d.db, func(tx *sql.Tx) error {
		var state store.ArticleState
		err := tx.QueryRowContext(ctx, "SELECT state FROM articles WHERE id = ? FOR UPDATE", id).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if expected != 0 && state != expected {
			return store.Preconditionf("article %d is %s, not %s", id, stateName(state), stateName(expected))
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM articles WHERE id = ?", id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete article %d: %w", id, err)
	}
	return nil
}
