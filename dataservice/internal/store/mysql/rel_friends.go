package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
)

const relFriendshipCols = "f.self_id, f.friend_id, f.note, f.message, f.accepted, f.blacklisted, f.deleted, f.created_at, f.updated_at"

func relFriendshipDest(f *store.Friendship) []any {
	return []any{&f.SelfID, &f.FriendID, &f.Note, &f.Message, &f.Accepted, &f.Blacklisted, &f.Deleted, &f.CreatedAt, &f.UpdatedAt}
}

func relGetFriendship(ctx context.Context, q relQuerier, selfID, friendID int64) (store.Friendship, error) {
	return relOne(ctx, q, relFriendshipDest,
		"SELECT "+relFriendshipCols+" FROM friendships f WHERE f.self_id = ? AND f.friend_id = ?", selfID, friendID)
}

// relPutFriendship creates the row (self, friend) or overwrites every field
// but created_at, and returns what is stored.
func relPutFriendship(ctx context.Context, q relQuerier, f store.Friendship, now time.Time) (store.Friendship, error) {
	if _, err := q.ExecContext(ctx, `INSERT INTO friendships
		(self_id, friend_id, note, message, accepted, blacklisted, deleted, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON DUPLICATE KEY UPDATE note = ?, message = ?, accepted = ?, blacklisted = ?, deleted = ?, updated_at = ?`,
		f.SelfID, f.FriendID, f.Note, f.Message, f.Accepted, f.Blacklisted, f.Deleted, now, now,
		f.Note, f.Message, f.Accepted, f.Blacklisted, f.Deleted, now); err != nil {
		return store.Friendship{}, err
	}
	return relGetFriendship(ctx, q, f.SelfID, f.FriendID)
}

// PutFriendship creates the row or overwrites every field of an existing
// one; created_at stays that of the first write.
func (r *Relational) PutFriendship(ctx context.Context, f store.Friendship) (store.Friendship, error) {
	var out store.Friendship
	err := inTx(ctx, r.db, func(tx *sql.Tx) error {
		var err error
		out, err = relPutFriendship(ctx, tx, f, relNow())
		return err
	})
	if err != nil {
		return store.Friendship{}, fmt.Errorf("put friendship %d->%d: %w", f.SelfID, f.FriendID, err)
	}
	return out, nil
}

func (r *Relational) GetFriendship(ctx context.Context, selfID, friendID int64) (store.Friendship, error) {
	f, err := relGetFriendship(ctx, r.db, selfID, friendID)
	if err != nil {
		return store.Friendship{}, fmt.Errorf("get friendship %d->%d: %w", selfID, friendID, err)
	}
	return f, nil
}

func (r *Relational) UpdateFriendship(ctx context.Context, selfID, friendID int64, up store.FriendshipUpdate) (store.Friendship, error) {
	var set relSet
	if up.Note != nil {
		set.add("note", *up.Note)
	}
	if up.Message != nil {
		set.add("message", *up.Message)
	}
	if up.Accepted != nil {
		set.add("accepted", *up.Accepted)
	}
	if up.Blacklisted != nil {
		set.add("blacklisted", *up.Blacklisted)
	}
	if up.Deleted != nil {
		set.add("deleted", *up.Deleted)
	}
	set.add("updated_at", relNow())
	var f store.Friendship
	err := inTx(ctx, r.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE friendships SET "+set.String()+" WHERE self_id = ? AND friend_id = ?",
			append(set.args, selfID, friendID)...); err != nil {
			return err
		}
		var err error
		f, err = relGetFriendship(ctx, tx, selfID, friendID)
		return err
	})
	if err != nil {
		return store.Friendship{}, fmt.Errorf("update friendship %d->%d: %w", selfID, friendID, err)
	}
	return f, nil
}

// ListFriendships orders outgoing rows by friend_id and incoming rows by
// self_id: the id of the other user is the page key either way.
func (r *Relational) ListFriendships(ctx context.Context, flt store.FriendshipFilter, p store.Page) ([]store.Friendship, string, error) {
	after, err := relAfter(p)
	if err != nil {
		return nil, "", fmt.Errorf("list friendships: %w", err)
	}
	var mine, other string
	var key func(*store.Friendship) int64
	switch flt.Direction {
	case store.Outgoing:
		mine, other = "f.self_id", "f.friend_id"
		key = func(f *store.Friendship) int64 { return f.FriendID }
	case store.Incoming:
		mine, other = "f.friend_id", "f.self_id"
		key = func(f *store.Friendship) int64 { return f.SelfID }
	default:
		return nil, "", fmt.Errorf("list friendships: unknown direction %d", flt.Direction)
	}
	query := "SELECT " + relFriendshipCols + " FROM friendships f WHERE " + mine + " = ? AND " + other + " > ?"
	args := []any{flt.UserID, after}
	if flt.Accepted != nil {
		query += " AND f.accepted = ?"
		args = append(args, *flt.Accepted)
	}
	if flt.Blacklisted != nil {
		query += " AND f.blacklisted = ?"
		args = append(args, *flt.Blacklisted)
	}
	if flt.Deleted != nil {
		query += " AND f.deleted = ?"
		args = append(args, *flt.Deleted)
	}
	limit := relLimit(p)
	query += " ORDER BY " + other + " LIMIT ?"
	args = append(args, limit+1)
	rows, err := relList(ctx, r.db, relFriendshipDest, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list friendships of %d: %w", flt.UserID, err)
	}
	rows, next := relPage(rows, limit, key)
	return rows, next, nil
}

// AcceptFriendPlus locks the request row, so a racing accept, delete or
// second accept sees the outcome of the first. The accepter's row is
// overwritten as a fresh accepted friendship: note set, message cleared,
// not blacklisted, not deleted.
func (r *Relational) AcceptFriendPlus(ctx context.Context, requesterID, accepterID int64, note string) (store.Friendship, store.Friendship, error) {
	var reqSide, accSide store.Friendship
	err := inTx(ctx, r.db, func(tx *sql.Tx) error {
		req, err := relOne(ctx, tx, relFriendshipDest,
			"SELECT "+relFriendshipCols+" FROM friendships f WHERE f.self_id = ? AND f.friend_id = ? FOR UPDATE",
			requesterID, accepterID)
		if err != nil {
			return fmt.Errorf("request: %w", err)
		}
		if req.Accepted || req.Deleted {
			return store.Preconditionf("friend request not pending")
		}
		now := relNow()
		if _, err := tx.ExecContext(ctx,
			"UPDATE friendships SET accepted = TRUE, updated_at = ? WHERE self_id = ? AND friend_id = ?",
			now, requesterID, accepterID); err != nil {
			return err
		}
		req.Accepted, req.UpdatedAt = true, now
		acc, err := relPutFriendship(ctx, tx, store.Friendship{
			SelfID: accepterID, FriendID: requesterID, Note: note, Accepted: true,
		}, now)
		if err != nil {
			return err
		}
		reqSide, accSide = req, acc
		return nil
	})
	if err != nil {
		return store.Friendship{}, store.Friendship{}, fmt.Errorf("accept friend %d->%d: %w", requesterID, accepterID, err)
	}
	return reqSide, accSide, nil
}

// DeleteFriendPlus is one UPDATE over both rows, hence one transaction.
func (r *Relational) DeleteFriendPlus(ctx context.Context, selfID, friendID int64) error {
	res, err := r.db.ExecContext(ctx, `UPDATE friendships SET deleted = TRUE, accepted = FALSE, updated_at = ?
		WHERE (self_id = ? AND friend_id = ?) OR (self_id = ? AND friend_id = ?)`,
		relNow(), selfID, friendID, friendID, selfID)
	if err != nil {
		return fmt.Errorf("delete friend %d<->%d: %w", selfID, friendID, err)
	}
	if n, err := res.RowsAffected(); err == nil && n > 0 {
		return nil
	}
	// Nothing changed: either no row, or rows already in that state within
	// the same microsecond.
	var count int
	if err := r.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM friendships
		WHERE (self_id = ? AND friend_id = ?) OR (self_id = ? AND friend_id = ?)`,
		selfID, friendID, friendID, selfID).Scan(&count); err != nil {
		return fmt.Errorf("delete friend %d<->%d: %w", selfID, friendID, err)
	}
	if count == 0 {
		return fmt.Errorf("delete friend %d<->%d: %w", selfID, friendID, store.ErrNotFound)
	}
	return nil
}

// FriendsInfoPlus joins userID's accepted, not deleted rows with the
// friends' profiles, ordered by friend id. Rows whose user is missing are
// left out.
func (r *Relational) FriendsInfoPlus(ctx context.Context, userID int64, p store.Page) ([]store.FriendInfo, string, error) {
	after, err := relAfter(p)
	if err != nil {
		return nil, "", fmt.Errorf("friends info: %w", err)
	}
	limit := relLimit(p)
	dest := func(fi *store.FriendInfo) []any {
		return append(relFriendshipDest(&fi.Friendship), relUserDest(&fi.Friend)...)
	}
	rows, err := relList(ctx, r.db, dest, "SELECT "+relFriendshipCols+", "+relUserCols+`
		FROM friendships f JOIN users u ON u.id = f.friend_id
		WHERE f.self_id = ? AND f.accepted = TRUE AND f.deleted = FALSE AND f.friend_id > ?
		ORDER BY f.friend_id LIMIT ?`, userID, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("friends info of %d: %w", userID, err)
	}
	rows, next := relPage(rows, limit, func(fi *store.FriendInfo) int64 { return fi.Friendship.FriendID })
	return rows, next, nil
}
