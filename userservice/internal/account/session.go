// Ending an account's sessions: deletion by the user, bans by an operator.

package account

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"

	"github.com/privateim/privateim/foundation/errs"
)

// DeleteAccount deletes the caller's account (soft: the row stays, the
// email stays taken) when password is the current one: every token is
// revoked, the user leaves the search index and their connections are
// closed.
func (s *Service) DeleteAccount(ctx context.Context, id int64, password string) error {
	if password == "" {
		return errs.Required("password")
	}
	u, err := s.Me(ctx, id)
	if err != nil {
		return err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
		return ErrWrongPassword
	}
	deleted := true
	u, err = s.store.UpdateUser(ctx, id, Update{Deleted: &deleted, BumpTokenVersion: true})
	if err != nil {
		return fmt.Errorf("delete user %d: %w", id, err)
	}
	s.notify(ctx, u)
	s.revoke(ctx, id)
	return nil
}

// SetBanned bans (banned true) or unbans a user; it is the operators'
// call (the userservice's Admin gRPC). A ban revokes every token issued so
// far and closes the user's connections; an unban only lets the user sign
// in again. Setting the state the user has already changes nothing.
// ErrUserNotFound for an unknown or deleted user.
func (s *Service) SetBanned(ctx context.Context, id int64, banned bool) (User, error) {
	if id <= 0 {
		return User{}, errs.Invalid("user_id", "must be > 0")
	}
	u, err := s.store.GetUser(ctx, id)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return User{}, ErrUserNotFound
	case err != nil:
		return User{}, fmt.Errorf("get user %d: %w", id, err)
	case u.Deleted:
		return User{}, ErrUserNotFound
	case u.Banned == banned:
		return u, nil
	}
	u, err = s.store.UpdateUser(ctx, id, Update{Banned: &banned, BumpTokenVersion: banned})
	if err != nil {
		return User{}, fmt.Errorf("set banned %t of user %d: %w", banned, id, err)
	}
	if banned {
		s.log.InfoContext(ctx, "user banned", "user", id)
		s.revoke(ctx, id)
	} else {
		s.log.InfoContext(ctx, "user unbanned", "user", id)
	}
	return u, nil
}
