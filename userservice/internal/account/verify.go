package account

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/privateim/privateim/foundation/errs"
)

// Email verification: a one-time link like the reset link (32 random bytes,
// only the SHA-256 stored, in a table of its own so that a reset token is
// never accepted here nor the other way round), mailed at sign-up and on
// request. Signing in does not need it; rights that must be tied to a real
// mailbox (the subscription reviewer role) do.

// Errors of email verification.
var (
	ErrEmailTokenUnknown  = &errs.Error{Kind: errs.KindInvalid, Code: "email_token_invalid", Field: "token", Message: "unknown verification token"}
	ErrEmailTokenUsed     = errs.New(errs.KindGone, "email_token_used", "this verification link was used already")
	ErrEmailTokenExpired  = errs.New(errs.KindGone, "email_token_expired", "this verification link has expired; ask for a new one")
	ErrEmailVerifiedAgain = errs.New(errs.KindConflict, "email_already_verified", "the email of this account is verified already")
)

// SendVerification mails userID a new verification link, valid VerifyTTL.
// The mail goes out in the background; ErrEmailVerifiedAgain when there is
// nothing to verify.
func (s *Service) SendVerification(ctx context.Context, userID int64) error {
	u, err := s.Me(ctx, userID)
	if err != nil {
		return err
	}
	if u.EmailVerified {
		return ErrEmailVerifiedAgain
	}
	return s.sendVerification(ctx, u)
}

func (s *Service) sendVerification(ctx context.Context, u User) error {
	token := newOneTimeToken()
	ttl := s.cfg.VerifyTTL
	if err := s.store.CreateEmailToken(ctx, u.ID, hashToken(token), s.cfg.Now().Add(ttl)); err != nil {
		return fmt.Errorf("create email token for user %d: %w", u.ID, err)
	}
	link := s.cfg.VerifyURL + "?token=" + url.QueryEscape(token)
	body := fmt.Sprintf(`Hello %s,

please confirm that this address belongs to your PrivateIM account by opening this link within %s:

%s

The link works once. If you did not sign up, ignore this mail.
`, u.Name, ttl.Round(time.Minute), link)
	s.mails.enqueue(ctx, outMail{kind: "verify", to: u.Email, subject: "Confirm your PrivateIM email", body: body, userID: u.ID})
	return nil
}

// VerifyEmail spends a token from a verification mail and marks the
// account's email verified (every other link sent to it is spent too).
// Errors: ErrEmailTokenUnknown (400), ErrEmailTokenUsed and
// ErrEmailTokenExpired (410).
func (s *Service) VerifyEmail(ctx context.Context, token string) (User, error) {
	switch {
	case token == "":
		return User{}, errs.Required("token")
	case len(token) > maxResetTokenSize:
		return User{}, ErrEmailTokenUnknown
	}
	u, err := s.store.VerifyEmail(ctx, hashToken(token), s.cfg.Now())
	switch {
	case err == nil:
		return u, nil
	case errors.Is(err, errs.ErrNotFound):
		return User{}, ErrEmailTokenUnknown
	case errors.Is(err, ErrEmailTokenExpired):
		// The store tells expired from used at its boundary (Store).
		return User{}, ErrEmailTokenExpired
	case errors.Is(err, errs.ErrPrecondition):
		return User{}, ErrEmailTokenUsed
	}
	return User{}, fmt.Errorf("verify email: %w", err)
}
