package datastore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/privateim/privateim/foundation/errs"
	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/userservice/internal/account"
)

var _ account.Store = (*Client)(nil)

// CreateUser stores a new account.
func (c *Client) CreateUser(ctx context.Context, u account.NewUser) (account.User, error) {
	pb, err := c.users.CreateUser(ctx, &datav1.CreateUserRequest{Email: u.Email, Name: u.Name, PasswordHash: u.PasswordHash})
	if err != nil {
		return account.User{}, translate("CreateUser", err)
	}
	return userFromPB(pb), nil
}

// GetUser reads an account by id.
func (c *Client) GetUser(ctx context.Context, id int64) (account.User, error) {
	pb, err := c.users.GetUser(ctx, &datav1.GetUserRequest{Id: id})
	if err != nil {
		return account.User{}, translate("GetUser", err)
	}
	return userFromPB(pb), nil
}

// GetUserByEmail reads an account by its (normalized) email.
func (c *Client) GetUserByEmail(ctx context.Context, email string) (account.User, error) {
	pb, err := c.users.GetUserByEmail(ctx, &datav1.GetUserByEmailRequest{Email: email})
	if err != nil {
		return account.User{}, translate("GetUserByEmail", err)
	}
	return userFromPB(pb), nil
}

// UpdateUser changes the fields u sets.
func (c *Client) UpdateUser(ctx context.Context, id int64, u account.Update) (account.User, error) {
	req := &datav1.UpdateUserRequest{
		Id:               id,
		Name:             u.Name,
		Mobile:           u.Mobile,
		PasswordHash:     u.PasswordHash,
		Deleted:          u.Deleted,
		Banned:           u.Banned,
		BumpTokenVersion: u.BumpTokenVersion,
	}
	if u.Gender != nil {
		g := genderToPB(*u.Gender)
		req.Gender = &g
	}
	if u.LastSeenVisibility != nil {
		v := visibilityToPB(*u.LastSeenVisibility)
		req.LastSeenVisibility = &v
	}
	pb, err := c.users.UpdateUser(ctx, req)
	if err != nil {
		return account.User{}, translate("UpdateUser", err)
	}
	return userFromPB(pb), nil
}

// CreateResetToken stores the hash of a password-reset token.
func (c *Client) CreateResetToken(ctx context.Context, userID int64, tokenHash string, expiresAt time.Time) error {
	_, err := c.users.CreateResetToken(ctx, &datav1.CreateResetTokenRequest{
		UserId: userID, TokenHash: tokenHash, ExpiresAt: timestamppb.New(expiresAt),
	})
	return translate("CreateResetToken", err)
}

// ResetToken reads a reset token by its hash.
func (c *Client) ResetToken(ctx context.Context, tokenHash string) (used bool, expiresAt time.Time, err error) {
	t, err := c.users.GetResetToken(ctx, &datav1.GetResetTokenRequest{TokenHash: tokenHash})
	if err != nil {
		return false, time.Time{}, translate("GetResetToken", err)
	}
	return t.GetUsed(), t.GetExpiresAt().AsTime(), nil
}

// ResetPassword spends a reset token and sets the password in one call.
func (c *Client) ResetPassword(ctx context.Context, tokenHash, passwordHash string, now time.Time) (account.User, error) {
	resp, err := c.users.ResetPasswordPlus(ctx, &datav1.ResetPasswordPlusRequest{
		TokenHash: tokenHash, PasswordHash: passwordHash, Now: timestamppb.New(now),
	})
	if err != nil {
		return account.User{}, spentToken(translate("ResetPasswordPlus", err), account.ErrResetTokenUsed, account.ErrResetTokenExpired)
	}
	return userFromPB(resp.GetUser()), nil
}

// spentToken wraps err, the DataService's refusal of a token, with used or
// expired as its ErrorInfo reason names it; err as it is otherwise.
func spentToken(err, used, expired error) error {
	var se *errs.StoreError
	if errors.As(err, &se) {
		switch se.Reason {
		case datav1.Refusal_REFUSAL_TOKEN_USED.String():
			return fmt.Errorf("%w: %w", used, err)
		case datav1.Refusal_REFUSAL_TOKEN_EXPIRED.String():
			return fmt.Errorf("%w: %w", expired, err)
		}
	}
	return err
}

// CreateEmailToken stores the hash of an email-verification token.
func (c *Client) CreateEmailToken(ctx context.Context, userID int64, tokenHash string, expiresAt time.Time) error {
	_, err := c.users.CreateEmailToken(ctx, &datav1.CreateEmailTokenRequest{
		UserId: userID, TokenHash: tokenHash, ExpiresAt: timestamppb.New(expiresAt),
	})
	return translate("CreateEmailToken", err)
}

// VerifyEmail spends an email token and marks the email verified in one call.
func (c *Client) VerifyEmail(ctx context.Context, tokenHash string, now time.Time) (account.User, error) {
	resp, err := c.users.VerifyEmailPlus(ctx, &datav1.VerifyEmailPlusRequest{TokenHash: tokenHash, Now: timestamppb.New(now)})
	if err != nil {
		return account.User{}, spentToken(translate("VerifyEmailPlus", err), account.ErrEmailTokenUsed, account.ErrEmailTokenExpired)
	}
	return userFromPB(resp.GetUser()), nil
}

// ChangePassword sets the hash, bumps the token version and spends the
// user's reset tokens in one call.
func (c *Client) ChangePassword(ctx context.Context, id int64, passwordHash string) (account.User, error) {
	pb, err := c.users.ChangePasswordPlus(ctx, &datav1.ChangePasswordPlusRequest{UserId: id, PasswordHash: passwordHash})
	if err != nil {
		return account.User{}, translate("ChangePasswordPlus", err)
	}
	return userFromPB(pb), nil
}

func userFromPB(u *datav1.User) account.User {
	return account.User{
		ID:                 u.GetId(),
		Email:              u.GetEmail(),
		Name:               u.GetName(),
		PasswordHash:       u.GetPasswordHash(),
		Mobile:             u.GetMobile(),
		Gender:             genderFromPB(u.GetGender()),
		Avatar:             u.GetAvatar(),
		QRCode:             u.GetQrCode(),
		Deleted:            u.GetDeleted(),
		Banned:             u.GetBanned(),
		TokenVersion:       u.GetTokenVersion(),
		EmailVerified:      u.GetEmailVerified(),
		LastSeenVisibility: visibilityFromPB(u.GetLastSeenVisibility()),
		CreatedAt:          u.GetCreatedAt().AsTime(),
		UpdatedAt:          u.GetUpdatedAt().AsTime(),
	}
}

func visibilityFromPB(v datav1.LastSeenVisibility) account.Visibility {
	switch v {
	case datav1.LastSeenVisibility_LAST_SEEN_VISIBILITY_EVERYONE:
		return account.VisibilityEveryone
	case datav1.LastSeenVisibility_LAST_SEEN_VISIBILITY_NOBODY:
		return account.VisibilityNobody
	}
	return account.VisibilityFriends
}

func visibilityToPB(v account.Visibility) datav1.LastSeenVisibility {
	switch v {
	case account.VisibilityEveryone:
		return datav1.LastSeenVisibility_LAST_SEEN_VISIBILITY_EVERYONE
	case account.VisibilityNobody:
		return datav1.LastSeenVisibility_LAST_SEEN_VISIBILITY_NOBODY
	}
	return datav1.LastSeenVisibility_LAST_SEEN_VISIBILITY_FRIENDS
}

func genderFromPB(g datav1.Gender) account.Gender {
	switch g {
	case datav1.Gender_GENDER_MALE:
		return account.GenderMale
	case datav1.Gender_GENDER_FEMALE:
		return account.GenderFemale
	case datav1.Gender_GENDER_OTHER:
		return account.GenderOther
	}
	return account.GenderUnspecified
}

func genderToPB(g account.Gender) datav1.Gender {
	switch g {
	case account.GenderMale:
		return datav1.Gender_GENDER_MALE
	case account.GenderFemale:
		return datav1.Gender_GENDER_FEMALE
	case account.GenderOther:
		return datav1.Gender_GENDER_OTHER
	}
	return datav1.Gender_GENDER_UNSPECIFIED
}
