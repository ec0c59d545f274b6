package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
)

const relUserCols = "u.id, u.email, u.name, u.password_hash, u.mobile, u.gender, u.avatar, u.qr_code, u.deleted, u.created_at, u.updated_at, u.token_version, u.email_verified, u.banned, u.last_seen_ms, u.last_seen_visibility"

func relUserDest(u *store.User) []any {
	return []any{&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.Mobile, &u.Gender, &u.Avatar, &u.QRCode, &u.Deleted, &u.CreatedAt, &u.UpdatedAt, &u.TokenVersion, &u.EmailVerified, &u.Banned, &u.LastSeenMS, &u.LastSeenVisibility}
}

func relUserKey(u *store.User) int64 { return u.ID }

// CreateUser stores u with the caller's id; the adapter sets the times,
// deleted = false and token_version = 1.
func (r *Relational) CreateUser(ctx context.Context, u store.User) (store.User, error) {
	now := relNow()
	u.CreatedAt, u.UpdatedAt = now, now
	u.Deleted = false
	u.TokenVersion = 1
	u.LastSeenMS, u.LastSeenVisibility = 0, store.LastSeenFriends // the columns' defaults
	_, err := r.db.ExecContext(ctx, `INSERT INTO users
		(id, email, name, password_hash, mobile, gender, avatar, qr_code, deleted, created_at, updated_at, token_version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Email, u.Name, u.PasswordHash, u.Mobile, u.Gender, u.Avatar, u.QRCode, u.Deleted, u.CreatedAt, u.UpdatedAt, u.TokenVersion)
	if isDuplicate(err) {
		field := relDupField(err, map[string]string{"uq_users_email": "email"})
		return store.User{}, fmt.Errorf("create user %d: %w", u.ID, &store.ExistsError{Field: field})
	}
	if err != nil {
		return store.User{}, fmt.Errorf("create user %d: %w", u.ID, err)
	}
	return u, nil
}

func (r *Relational) GetUser(ctx context.Context, id int64) (store.User, error) {
	u, err := relGetUser(ctx, r.db, id)
	if err != nil {
		return store.User{}, fmt.Errorf("get user %d: %w", id, err)
	}
	return u, nil
}

func relGetUser(ctx context.Context, q relQuerier, id int64) (store.User, error) {
	return relOne(ctx, q, relUserDest, "SELECT "+relUserCols+" FROM users u WHERE u.id = ?", id)
}

// GetUserByEmail matches the email exactly (binary collation).
func (r *Relational) GetUserByEmail(ctx context.Context, email string) (store.User, error) {
	u, err := relOne(ctx, r.db, relUserDest, "SELECT "+relUserCols+" FROM users u WHERE u.email = ?", email)
	if err != nil {
		return store.User{}, fmt.Errorf("get user by email: %w", err)
	}
	return u, nil
}

func (r *Relational) GetUsers(ctx context.Context, ids []int64) ([]store.User, error) {
	us, err := relByIDs(ctx, r.db, relUserDest, relUserKey, "SELECT "+relUserCols+" FROM users u", "u.id", ids)
	if err != nil {
		return nil, fmt.Errorf("get %d users: %w", len(ids), err)
	}
	return us, nil
}

// SearchUsers lists users whose name starts with namePrefix (the table's
// case-insensitive collation), ordered by id.
func (r *Relational) SearchUsers(ctx context.Context, namePrefix string, includeDeleted bool, p store.Page) ([]store.User, string, error) {
	after, err := relAfter(p)
	if err != nil {
		return nil, "", fmt.Errorf("search users: %w", err)
	}
	limit := relLimit(p)
	us, err := relList(ctx, r.db, relUserDest, "SELECT "+relUserCols+` FROM users u
		WHERE u.name LIKE ? ESCAPE '!' AND (? OR u.deleted = FALSE) AND u.id > ?
		ORDER BY u.id LIMIT ?`,
		relLikePrefix(namePrefix), includeDeleted, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("search users: %w", err)
	}
	us, next := relPage(us, limit, relUserKey)
	return us, next, nil
}

// UpdateUser changes the fields set in up and always updated_at.
func (r *Relational) UpdateUser(ctx context.Context, id int64, up store.UserUpdate) (store.User, error) {
	var set relSet
	if up.Name != nil {
		set.add("name", *up.Name)
	}
	if up.Mobile != nil {
		set.add("mobile", *up.Mobile)
	}
	if up.Gender != nil {
		set.add("gender", *up.Gender)
	}
	if up.Avatar != nil {
		set.add("avatar", *up.Avatar)
	}
	if up.QRCode != nil {
		set.add("qr_code", *up.QRCode)
	}
	if up.PasswordHash != nil {
		set.add("password_hash", *up.PasswordHash)
	}
	if up.Deleted != nil {
		set.add("deleted", *up.Deleted)
	}
	if up.Banned != nil {
		set.add("banned", *up.Banned)
	}
	if up.LastSeenVisibility != nil {
		set.add("last_seen_visibility", *up.LastSeenVisibility)
	}
	if up.BumpTokenVersion {
		set.expr("token_version = token_version + 1")
	}
	set.add("updated_at", relNow())
	var u store.User
	err := inTx(ctx, r.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE users SET "+set.String()+" WHERE id = ?", append(set.args, id)...); err != nil {
			return err
		}
		var err error
		u, err = relGetUser(ctx, tx, id)
		return err
	})
	if err != nil {
		return store.User{}, fmt.Errorf("update user %d: %w", id, err)
	}
	return u, nil
}

// SetPresence applies a presence change at atMS unless a later one was
// applied before: the guard is in the UPDATE itself, so two nodes racing
// leave the later change whatever order they commit in.
func (r *Relational) SetPresence(ctx context.Context, userID int64, online bool, atMS int64) (store.Presence, error) {
	lastSeen := atMS
	if online {
		lastSeen = 0
	}
	var p store.Presence
	err := inTx(ctx, r.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET last_seen_ms = ?, presence_at_ms = ?
			WHERE id = ? AND presence_at_ms <= ?`, lastSeen, atMS, userID, atMS); err != nil {
			return err
		}
		var at int64
		err := tx.QueryRowContext(ctx, "SELECT last_seen_ms, last_seen_visibility, presence_at_ms FROM users WHERE id = ?", userID).
			Scan(&p.LastSeenMS, &p.LastSeenVisibility, &at)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		p.Applied = at == atMS
		return err
	})
	if err != nil {
		return store.Presence{}, fmt.Errorf("set presence of user %d: %w", userID, err)
	}
	return p, nil
}

// CreateResetToken stores t for an existing user; created_at is set here
// and used is false.
func (r *Relational) CreateResetToken(ctx context.Context, t store.ResetToken) (store.ResetToken, error) {
	return r.createToken(ctx, "reset_tokens", "reset token", t)
}

// CreateEmailToken stores an email-verification token like CreateResetToken,
// in its own table.
func (r *Relational) CreateEmailToken(ctx context.Context, t store.EmailToken) (store.EmailToken, error) {
	return r.createToken(ctx, "email_tokens", "email token", t)
}

// createToken inserts a one-time token into table (reset_tokens or
// email_tokens, which have the same columns and a unique key
// uq_<table>_hash).
func (r *Relational) createToken(ctx context.Context, table, what string, t store.ResetToken) (store.ResetToken, error) {
	t.CreatedAt = relNow()
	t.ExpiresAt = relTime(t.ExpiresAt)
	t.Used = false
	var one int
	err := r.db.QueryRowContext(ctx, "SELECT 1 FROM users WHERE id = ?", t.UserID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ResetToken{}, fmt.Errorf("create %s: user %d: %w", what, t.UserID, store.ErrNotFound)
	}
	if err != nil {
		return store.ResetToken{}, fmt.Errorf("create %s: %w", what, err)
	}
	_, err = r.db.ExecContext(ctx, "INSERT INTO "+table+` (id, user_id, token_hash, expires_at, used, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, t.ID, t.UserID, t.TokenHash, t.ExpiresAt, t.Used, t.CreatedAt)
	if isDuplicate(err) {
		field := relDupField(err, map[string]string{"uq_" + table + "_hash": "token_hash"})
		return store.ResetToken{}, fmt.Errorf("create %s %d: %w", what, t.ID, &store.ExistsError{Field: field})
	}
	if err != nil {
		return store.ResetToken{}, fmt.Errorf("create %s %d: %w", what, t.ID, err)
	}
	return t, nil
}

// spendToken locks the token row of table with tokenHash, checks it is
// neither used nor expired at now, and marks it used; it returns the
// token's user. Locking the row means two racing calls with one token
// cannot both pass the "not used" check.
func spendToken(ctx context.Context, tx *sql.Tx, table, what, tokenHash string, now time.Time) (userID int64, err error) {
	var (
		id        int64
		expiresAt time.Time
		used      bool
	)
	err = tx.QueryRowContext(ctx,
		"SELECT id, user_id, expires_at, used FROM "+table+" WHERE token_hash = ? FOR UPDATE",
		tokenHash).Scan(&id, &userID, &expiresAt, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("token: %w", store.ErrNotFound)
	}
	if err != nil {
		return 0, err
	}
	if used {
		return 0, store.Refuse(store.RefusalTokenUsed, "%s used", what)
	}
	if !now.Before(expiresAt) {
		return 0, store.Refuse(store.RefusalTokenExpired, "%s expired", what)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE "+table+" SET used = TRUE WHERE id = ?", id); err != nil {
		return 0, err
	}
	return userID, nil
}

// VerifyEmailPlus spends the token and every other email token of its user
// (one verification is enough) and sets users.email_verified.
func (r *Relational) VerifyEmailPlus(ctx context.Context, tokenHash string, now time.Time) (store.User, error) {
	u, err := r.spendTokenPlus(ctx, "email_tokens", "email token", tokenHash, now, func(tx *sql.Tx, userID int64) error {
		if _, err := tx.ExecContext(ctx, "UPDATE email_tokens SET used = TRUE WHERE user_id = ? AND NOT used", userID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "UPDATE users SET email_verified = TRUE, updated_at = ? WHERE id = ?", relNow(), userID)
		return err
	})
	if err != nil {
		return store.User{}, fmt.Errorf("verify email: %w", err)
	}
	return u, nil
}

// GetResetToken reads a reset token by its hash.
func (r *Relational) GetResetToken(ctx context.Context, tokenHash string) (store.ResetToken, error) {
	t := store.ResetToken{TokenHash: tokenHash}
	err := r.db.QueryRowContext(ctx,
		"SELECT id, user_id, expires_at, used, created_at FROM reset_tokens WHERE token_hash = ?",
		tokenHash).Scan(&t.ID, &t.UserID, &t.ExpiresAt, &t.Used, &t.CreatedAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.ResetToken{}, fmt.Errorf("get reset token: %w", store.ErrNotFound)
	case err != nil:
		return store.ResetToken{}, fmt.Errorf("get reset token: %w", err)
	}
	return t, nil
}

// ResetPasswordPlus spends the token and sets the password in one
// transaction.
func (r *Relational) ResetPasswordPlus(ctx context.Context, tokenHash, passwordHash string, now time.Time) (store.User, error) {
	u, err := r.spendTokenPlus(ctx, "reset_tokens", "reset token", tokenHash, now, func(tx *sql.Tx, userID int64) error {
		return relSetPassword(ctx, tx, userID, passwordHash)
	})
	if err != nil {
		return store.User{}, fmt.Errorf("reset password: %w", err)
	}
	return u, nil
}

// spendTokenPlus spends a token (spendToken), runs apply for its user in the
// same transaction, and returns the user as it is then.
func (r *Relational) spendTokenPlus(ctx context.Context, table, what, tokenHash string, now time.Time, apply func(tx *sql.Tx, userID int64) error) (store.User, error) {
	var u store.User
	err := inTx(ctx, r.db, func(tx *sql.Tx) error {
		userID, err := spendToken(ctx, tx, table, what, tokenHash, now)
		if err != nil {
			return err
		}
		if err := apply(tx, userID); err != nil {
			return err
		}
		u, err = relGetUser(ctx, tx, userID)
		if err != nil {
			return fmt.Errorf("user %d: %w", userID, err)
		}
		return nil
	})
	return u, err
}

// ChangePasswordPlus: a reset racing the change either commits first (and
// the change then wins) or waits on the token rows and finds its token
// spent; a deadlock between the two is retried by inTx.
func (r *Relational) ChangePasswordPlus(ctx context.Context, userID int64, passwordHash string) (store.User, error) {
	var u store.User
	err := inTx(ctx, r.db, func(tx *sql.Tx) error {
		if err := relSetPassword(ctx, tx, userID, passwordHash); err != nil {
			return err
		}
		var err error
		u, err = relGetUser(ctx, tx, userID)
		return err
	})
	if err != nil {
		return store.User{}, fmt.Errorf("change password of user %d: %w", userID, err)
	}
	return u, nil
}

// relSetPassword is the common step of a reset and a change, inside their
// transaction: the new hash, every older token revoked (token_version) and
// every reset link still unused spent, so none outlives the new password.
func relSetPassword(ctx context.Context, tx *sql.Tx, userID int64, passwordHash string) error {
	if _, err := tx.ExecContext(ctx, "UPDATE reset_tokens SET used = TRUE WHERE user_id = ? AND NOT used", userID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx,
		"UPDATE users SET password_hash = ?, token_version = token_version + 1, updated_at = ? WHERE id = ?",
		passwordHash, relNow(), userID)
	return err
}
