package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
)

const relUserCols = "u.id, u.email, u.name, u.password_hash, u.mobile, u.gender, u.avatar, u.qr_code, u.deleted, u.created_at, u.updated_at, u.token_version"

func relUserDest(u *store.User) []any {
	return []any{&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.Mobile, &u.Gender, &u.Avatar, &u.QRCode, &u.Deleted, &u.CreatedAt, &u.UpdatedAt, &u.TokenVersion}
}

func relUserKey(u *store.User) int64 { return u.ID }

// CreateUser stores u with the caller's id; the adapter sets the times,
// deleted = false and token_version = 1.
func (r *Relational) CreateUser(ctx context.Context, u store.User) (store.User, error) {
	now := relNow()
	u.CreatedAt, u.UpdatedAt = now, now
	u.Deleted = false
	u.TokenVersion = 1
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

// CreateResetToken stores t for an existing user; created_at is set here
// and used is false.
func (r *Relational) CreateResetToken(ctx context.Context, t store.ResetToken) (store.ResetToken, error) {
	t.CreatedAt = relNow()
	t.ExpiresAt = relTime(t.ExpiresAt)
	t.Used = false
	var one int
	err := r.db.QueryRowContext(ctx, "SELECT 1 FROM users WHERE id = ?", t.UserID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ResetToken{}, fmt.Errorf("create reset token: user %d: %w", t.UserID, store.ErrNotFound)
	}
	if err != nil {
		return store.ResetToken{}, fmt.Errorf("create reset token: %w", err)
	}
	_, err = r.db.ExecContext(ctx, `INSERT INTO reset_tokens (id, user_id, token_hash, expires_at, used, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, t.ID, t.UserID, t.TokenHash, t.ExpiresAt, t.Used, t.CreatedAt)
	if isDuplicate(err) {
		field := relDupField(err, map[string]string{"uq_reset_tokens_hash": "token_hash"})
		return store.ResetToken{}, fmt.Errorf("create reset token %d: %w", t.ID, &store.ExistsError{Field: field})
	}
	if err != nil {
		return store.ResetToken{}, fmt.Errorf("create reset token %d: %w", t.ID, err)
	}
	return t, nil
}

// ResetPasswordPlus locks the token row, so two racing resets with the same
// token cannot both pass the "not used" check.
func (r *Relational) ResetPasswordPlus(ctx context.Context, tokenHash, passwordHash string, now time.Time) (store.User, error) {
	var u store.User
	err := inTx(ctx, r.db, func(tx *sql.Tx) error {
		var (
			id, userID int64
			expiresAt  time.Time
			used       bool
		)
		err := tx.QueryRowContext(ctx,
			"SELECT id, user_id, expires_at, used FROM reset_tokens WHERE token_hash = ? FOR UPDATE",
			tokenHash).Scan(&id, &userID, &expiresAt, &used)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("token: %w", store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if used {
			return store.Preconditionf("reset token used")
		}
		if !now.Before(expiresAt) {
			return store.Preconditionf("reset token expired")
		}
		if _, err := tx.ExecContext(ctx, "UPDATE reset_tokens SET used = TRUE WHERE id = ?", id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx,
			"UPDATE users SET password_hash = ?, token_version = token_version + 1, updated_at = ? WHERE id = ?",
			passwordHash, relNow(), userID); err != nil {
			return err
		}
		u, err = relGetUser(ctx, tx, userID)
		if err != nil {
			return fmt.Errorf("user %d: %w", userID, err)
		}
		return nil
	})
	if err != nil {
		return store.User{}, fmt.Errorf("reset password: %w", err)
	}
	return u, nil
}
