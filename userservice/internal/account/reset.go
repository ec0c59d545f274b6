package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/privateim/privateim/foundation/errs"
)

// Forgot starts a password reset for email: when an account has it, a
// one-time token (32 random bytes; only its SHA-256 is stored) valid for
// ResetTTL is mailed as a link. Whether an account exists is never told:
// the answer is nil either way, and the mail is sent in the background so
// the time taken does not tell either. Only a malformed email or a store
// failure is an error.
func (s *Service) Forgot(ctx context.Context, email string) error {
	email, err := checkEmail("email", email)
	if err != nil {
		return err
	}
	u, err := s.store.GetUserByEmail(ctx, email)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		s.log.DebugContext(ctx, "password forgot for an unknown email")
		return nil
	case err != nil:
		return fmt.Errorf("forgot: %w", err)
	case u.Deleted || u.Banned:
		return nil
	}
	token := newOneTimeToken()
	expires := s.cfg.Now().Add(s.cfg.ResetTTL)
	if err := s.store.CreateResetToken(ctx, u.ID, hashToken(token), expires); err != nil {
		return fmt.Errorf("forgot: create reset token for user %d: %w", u.ID, err)
	}
	link := s.cfg.ResetURL + "?token=" + url.QueryEscape(token)
	body := fmt.Sprintf(`Hello %s,

someone (we hope you) asked to reset the password of your PrivateIM account.
Open this link within %s to choose a new password:

%s

The link works once. If you did not ask, ignore this mail: your password stays as it is.
`, u.Name, s.cfg.ResetTTL.Round(time.Minute), link)
	s.mails.enqueue(ctx, outMail{kind: "reset", to: u.Email, subject: "Reset your PrivateIM password", body: body, userID: u.ID})
	return nil
}

// Reset sets a new password with a token from a reset mail. The token is
// then spent with every other reset token of the user, and every token
// issued before is revoked (the user's connections are closed). Errors:
// ErrResetTokenUnknown (400: never issued, or malformed), ErrResetTokenUsed
// and ErrResetTokenExpired (410), or a field error for the password.
func (s *Service) Reset(ctx context.Context, token, password string) error {
	switch {
	case token == "":
		return errs.Required("token")
	case len(token) > maxResetTokenSize:
		return ErrResetTokenUnknown
	}
	if err := checkPassword("password", password); err != nil {
		return err
	}
	// The token is read before any bcrypt work: a guessed or spent one
	// costs a lookup, not a hash. ResetPassword checks it again, in its
	// transaction, for a reset that races this one.
	used, expires, err := s.store.ResetToken(ctx, hashToken(token))
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return ErrResetTokenUnknown
	case err != nil:
		return fmt.Errorf("reset password: read token: %w", err)
	case used:
		return ErrResetTokenUsed
	case !s.cfg.Now().Before(expires):
		return ErrResetTokenExpired
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cfg.BcryptCost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	u, err := s.store.ResetPassword(ctx, hashToken(token), string(hash), s.cfg.Now())
	switch {
	case err == nil:
		s.revoke(ctx, u.ID)
		return nil
	case errors.Is(err, errs.ErrNotFound):
		return ErrResetTokenUnknown
	case errors.Is(err, ErrResetTokenExpired):
		// The store tells expired from used at its boundary (Store).
		return ErrResetTokenExpired
	case errors.Is(err, errs.ErrPrecondition):
		return ErrResetTokenUsed
	}
	return fmt.Errorf("reset password: %w", err)
}

// newOneTimeToken returns the secret of a reset or verification link: 32
// random bytes, base64url.
func newOneTimeToken() string {
	var secret [32]byte
	_, _ = rand.Read(secret[:]) // crypto/rand never fails
	return base64.RawURLEncoding.EncodeToString(secret[:])
}

// hashToken is what is stored of a one-time token: SHA-256, hex.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
