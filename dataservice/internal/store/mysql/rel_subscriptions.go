package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/privateim/privateim/dataservice/internal/store"
)

const relSubCols = "s.id, s.name, s.owner_id, s.intro, s.avatar, s.qr_code, s.deleted, s.created_at, s.updated_at, " +
	"(SELECT COUNT(*) FROM followers fc WHERE fc.subscription_id = s.id AND fc.has_left = FALSE)"

func relSubDest(s *store.Subscription) []any {
	return []any{&s.ID, &s.Name, &s.OwnerID, &s.Intro, &s.Avatar, &s.QRCode, &s.Deleted, &s.CreatedAt, &s.UpdatedAt, &s.FollowerCount}
}

func relSubKey(s *store.Subscription) int64 { return s.ID }

const relFollowerCols = "fo.subscription_id, fo.user_id, fo.has_left, fo.followed_at, fo.updated_at"

func relFollowerDest(f *store.Follower) []any {
	return []any{&f.SubscriptionID, &f.UserID, &f.Left, &f.FollowedAt, &f.UpdatedAt}
}

// relSubNameKeys maps the unique index on active_name to the field name.
var relSubNameKeys = map[string]string{"uq_subscriptions_active_name": "name"}

func relGetSub(ctx context.Context, q relQuerier, id int64) (store.Subscription, error) {
	return relOne(ctx, q, relSubDest, "SELECT "+relSubCols+" FROM subscriptions s WHERE s.id = ?", id)
}

func relGetFollower(ctx context.Context, q relQuerier, subscriptionID, userID int64) (store.Follower, error) {
	return relOne(ctx, q, relFollowerDest,
		"SELECT "+relFollowerCols+" FROM followers fo WHERE fo.subscription_id = ? AND fo.user_id = ?", subscriptionID, userID)
}

// CreateSubscription stores s; the name must be free among accounts that
// are not deleted (ExistsError "name").
func (r *Relational) CreateSubscription(ctx context.Context, s store.Subscription) (store.Subscription, error) {
	now := relNow()
	s.CreatedAt, s.UpdatedAt = now, now
	s.Deleted = false
	s.FollowerCount = 0
	_, err := r.db.ExecContext(ctx, `INSERT INTO subscriptions
		(id, name, active_name, owner_id, intro, avatar, qr_code, deleted, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.Name, s.Name, s.OwnerID, s.Intro, s.Avatar, s.QRCode, s.Deleted, s.CreatedAt, s.UpdatedAt)
	if isDuplicate(err) {
		return store.Subscription{}, fmt.Errorf("create subscription %d: %w", s.ID, &store.ExistsError{Field: relDupField(err, relSubNameKeys)})
	}
	if err != nil {
		return store.Subscription{}, fmt.Errorf("create subscription %d: %w", s.ID, err)
	}
	return s, nil
}

func (r *Relational) GetSubscription(ctx context.Context, id int64) (store.Subscription, error) {
	s, err := relGetSub(ctx, r.db, id)
	if err != nil {
		return store.Subscription{}, fmt.Errorf("get subscription %d: %w", id, err)
	}
	return s, nil
}

func (r *Relational) GetSubscriptions(ctx context.Context, ids []int64) ([]store.Subscription, error) {
	ss, err := relByIDs(ctx, r.db, relSubDest, relSubKey, "SELECT "+relSubCols+" FROM subscriptions s", "s.id", ids)
	if err != nil {
		return nil, fmt.Errorf("get %d subscriptions: %w", len(ids), err)
	}
	return ss, nil
}

// SearchSubscriptions lists accounts whose name starts with namePrefix, by id.
func (r *Relational) SearchSubscriptions(ctx context.Context, namePrefix string, includeDeleted bool, p store.Page) ([]store.Subscription, string, error) {
	after, err := relAfter(p)
	if err != nil {
		return nil, "", fmt.Errorf("search subscriptions: %w", err)
	}
	limit := relLimit(p)
	ss, err := relList(ctx, r.db, relSubDest, "SELECT "+relSubCols+` FROM subscriptions s
		WHERE s.name LIKE ? ESCAPE '!' AND (? OR s.deleted = FALSE) AND s.id > ?
		ORDER BY s.id LIMIT ?`,
		relLikePrefix(namePrefix), includeDeleted, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("search subscriptions: %w", err)
	}
	ss, next := relPage(ss, limit, relSubKey)
	return ss, next, nil
}

func (r *Relational) ListSubscriptionsByOwner(ctx context.Context, ownerID int64, includeDeleted bool, p store.Page) ([]store.Subscription, string, error) {
	after, err := relAfter(p)
	if err != nil {
		return nil, "", fmt.Errorf("list subscriptions by owner: %w", err)
	}
	limit := relLimit(p)
	ss, err := relList(ctx, r.db, relSubDest, "SELECT "+relSubCols+` FROM subscriptions s
		WHERE s.owner_id = ? AND (? OR s.deleted = FALSE) AND s.id > ?
		ORDER BY s.id LIMIT ?`,
		ownerID, includeDeleted, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list subscriptions of owner %d: %w", ownerID, err)
	}
	ss, next := relPage(ss, limit, relSubKey)
	return ss, next, nil
}

// UpdateSubscription changes the fields set in up. A new name must be free
// among live accounts (ExistsError "name"); a deleted account's name stays
// out of the unique index.
func (r *Relational) UpdateSubscription(ctx context.Context, id int64, up store.SubscriptionUpdate) (store.Subscription, error) {
	var set relSet
	if up.Name != nil {
		set.add("name", *up.Name)
		set.expr("active_name = CASE WHEN deleted THEN NULL ELSE ? END", *up.Name)
	}
	if up.Intro != nil {
		set.add("intro", *up.Intro)
	}
	if up.Avatar != nil {
		set.add("avatar", *up.Avatar)
	}
	if up.QRCode != nil {
		set.add("qr_code", *up.QRCode)
	}
	if up.OwnerID != nil {
		set.add("owner_id", *up.OwnerID)
	}
	set.add("updated_at", relNow())
	var s store.Subscription
	err := inTx(ctx, r.db, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE subscriptions SET "+set.String()+" WHERE id = ?", append(set.args, id)...)
		if isDuplicate(err) {
			return &store.ExistsError{Field: relDupField(err, relSubNameKeys)}
		}
		if err != nil {
			return err
		}
		s, err = relGetSub(ctx, tx, id)
		return err
	})
	if err != nil {
		return store.Subscription{}, fmt.Errorf("update subscription %d: %w", id, err)
	}
	return s, nil
}

// DeleteSubscriptionPlus marks the account deleted (freeing its name) and
// every follower left; deleting a deleted account releases nobody.
func (r *Relational) DeleteSubscriptionPlus(ctx context.Context, id int64) (store.Subscription, int64, error) {
	var (
		s        store.Subscription
		released int64
	)
	err := inTx(ctx, r.db, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM subscriptions WHERE id = ? FOR UPDATE", id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		now := relNow()
		if _, err := tx.ExecContext(ctx,
			"UPDATE subscriptions SET deleted = TRUE, active_name = NULL, updated_at = ? WHERE id = ?", now, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx,
			"UPDATE followers SET has_left = TRUE, updated_at = ? WHERE subscription_id = ? AND has_left = FALSE", now, id)
		if err != nil {
			return err
		}
		if released, err = res.RowsAffected(); err != nil {
			return err
		}
		s, err = relGetSub(ctx, tx, id)
		return err
	})
	if err != nil {
		return store.Subscription{}, 0, fmt.Errorf("delete subscription %d: %w", id, err)
	}
	return s, released, nil
}

// Follow inserts the follower or re-activates a left one. Like
// AddGroupMember it runs as separate autocommit statements, so racing
// follows of one pair end with one success and ExistsError for the rest
// instead of deadlocking on the duplicate-key error's shared lock.
func (r *Relational) Follow(ctx context.Context, subscriptionID, userID int64) (store.Follower, error) {
	now := relNow()
	f := store.Follower{SubscriptionID: subscriptionID, UserID: userID, FollowedAt: now, UpdatedAt: now}
	// Subscriptions are never removed (only marked deleted), so the check
	// cannot race with a removal.
	var one int
	err := r.db.QueryRowContext(ctx, "SELECT 1 FROM subscriptions WHERE id = ?", subscriptionID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Follower{}, fmt.Errorf("follow %d by %d: subscription: %w", subscriptionID, userID, store.ErrNotFound)
	}
	if err != nil {
		return store.Follower{}, fmt.Errorf("follow %d by %d: %w", subscriptionID, userID, err)
	}
	_, err = r.db.ExecContext(ctx, `INSERT INTO followers (subscription_id, user_id, has_left, followed_at, updated_at)
		VALUES (?, ?, FALSE, ?, ?)`, subscriptionID, userID, now, now)
	if err == nil {
		return f, nil
	}
	if !isDuplicate(err) {
		return store.Follower{}, fmt.Errorf("follow %d by %d: %w", subscriptionID, userID, err)
	}
	res, err := r.db.ExecContext(ctx, `UPDATE followers SET has_left = FALSE, followed_at = ?, updated_at = ?
		WHERE subscription_id = ? AND user_id = ? AND has_left = TRUE`, now, now, subscriptionID, userID)
	if err != nil {
		return store.Follower{}, fmt.Errorf("follow %d by %d: %w", subscriptionID, userID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return store.Follower{}, fmt.Errorf("follow %d by %d: %w", subscriptionID, userID, err)
	} else if n == 0 {
		return store.Follower{}, fmt.Errorf("follow %d by %d: %w", subscriptionID, userID, &store.ExistsError{Field: "follower"})
	}
	return f, nil
}

// Unfollow marks the row left; NotFound when userID does not follow (no
// row, or left already).
func (r *Relational) Unfollow(ctx context.Context, subscriptionID, userID int64) (store.Follower, error) {
	var f store.Follower
	err := inTx(ctx, r.db, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE followers SET has_left = TRUE, updated_at = ?
			WHERE subscription_id = ? AND user_id = ? AND has_left = FALSE`, relNow(), subscriptionID, userID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return store.ErrNotFound
		}
		f, err = relGetFollower(ctx, tx, subscriptionID, userID)
		return err
	})
	if err != nil {
		return store.Follower{}, fmt.Errorf("unfollow %d by %d: %w", subscriptionID, userID, err)
	}
	return f, nil
}

func (r *Relational) GetFollower(ctx context.Context, subscriptionID, userID int64) (store.Follower, error) {
	f, err := relGetFollower(ctx, r.db, subscriptionID, userID)
	if err != nil {
		return store.Follower{}, fmt.Errorf("get follower %d of %d: %w", userID, subscriptionID, err)
	}
	return f, nil
}

// ListFollowers lists followers that have not left, by user id.
func (r *Relational) ListFollowers(ctx context.Context, subscriptionID int64, p store.Page) ([]store.Follower, string, error) {
	after, err := relAfter(p)
	if err != nil {
		return nil, "", fmt.Errorf("list followers: %w", err)
	}
	limit := relLimit(p)
	fs, err := relList(ctx, r.db, relFollowerDest, "SELECT "+relFollowerCols+` FROM followers fo
		WHERE fo.subscription_id = ? AND fo.has_left = FALSE AND fo.user_id > ?
		ORDER BY fo.user_id LIMIT ?`, subscriptionID, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list followers of %d: %w", subscriptionID, err)
	}
	fs, next := relPage(fs, limit, func(f *store.Follower) int64 { return f.UserID })
	return fs, next, nil
}

// ListFollowing lists the live accounts userID follows, by id.
func (r *Relational) ListFollowing(ctx context.Context, userID int64, p store.Page) ([]store.Subscription, string, error) {
	after, err := relAfter(p)
	if err != nil {
		return nil, "", fmt.Errorf("list following: %w", err)
	}
	limit := relLimit(p)
	ss, err := relList(ctx, r.db, relSubDest, "SELECT "+relSubCols+` FROM followers fo JOIN subscriptions s ON s.id = fo.subscription_id
		WHERE fo.user_id = ? AND fo.has_left = FALSE AND s.deleted = FALSE AND fo.subscription_id > ?
		ORDER BY fo.subscription_id LIMIT ?`, userID, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list following of %d: %w", userID, err)
	}
	ss, next := relPage(ss, limit, relSubKey)
	return ss, next, nil
}
