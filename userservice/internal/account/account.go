// Package account is the userservice's account feature: sign-up and
// sign-in, tokens (JWT HS256 carrying the user's token version, so that a
// password change or reset revokes every older token), the caller's profile,
// password change, and the forgotten-password flow (a random one-time token,
// stored only as its SHA-256, mailed as a link); account deletion and the
// operators' ban (session.go). Whatever revokes a user's tokens (a password
// change or reset, a deletion, a ban) is announced through Deps.Revoked so
// the message nodes re-check that user's open connections.
//
// It declares what it needs (Store, Mailer) and answers with *errs.Error
// values the transports map to statuses. It never imports gin, grpc or an
// adapter.
package account

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/privateim/privateim/foundation/errs"
)

// Gender of a user's profile; "" when not given.
type Gender string

// Genders.
const (
	GenderUnspecified Gender = ""
	GenderMale        Gender = "male"
	GenderFemale      Gender = "female"
	GenderOther       Gender = "other"
)

// User is an account as stored.
type User struct {
	ID           int64
	Email        string
	Name         string
	PasswordHash string
	Mobile       string
	Gender       Gender
	Avatar       string
	QRCode       string
	Deleted      bool
	Banned       bool // by an operator: no sign-in, no token accepted
	TokenVersion int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// EmailVerified: the owner opened a verification link (VerifyEmail).
	EmailVerified bool
	// LastSeenVisibility: who sees when the user was last online.
	LastSeenVisibility Visibility
}

// Visibility says who sees a user's last seen time (package friend
// applies it).
type Visibility string

// Visibilities; VisibilityFriends is the default.
const (
	VisibilityEveryone Visibility = "everyone"
	VisibilityFriends  Visibility = "friends"
	VisibilityNobody   Visibility = "nobody"
)

// NewUser is what sign-up stores.
type NewUser struct {
	Email, Name, PasswordHash string
}

// Update changes the fields that are not nil.
type Update struct {
	Name, Mobile, PasswordHash *string
	Gender                     *Gender
	Deleted, Banned            *bool
	LastSeenVisibility         *Visibility
	BumpTokenVersion           bool // revoke every token issued so far
}

// Store is what the account feature needs of storage. Errors wrap the errs
// store sentinels.
type Store interface {
	CreateUser(ctx context.Context, u NewUser) (User, error)          // errs.ErrExists: the email is taken
	GetUser(ctx context.Context, id int64) (User, error)              // errs.ErrNotFound
	GetUserByEmail(ctx context.Context, email string) (User, error)   // errs.ErrNotFound
	UpdateUser(ctx context.Context, id int64, u Update) (User, error) // errs.ErrNotFound
	CreateResetToken(ctx context.Context, userID int64, tokenHash string, expiresAt time.Time) error
	// ResetToken reads a reset token by its hash: whether it is used, and
	// when it expires. errs.ErrNotFound for an unknown one.
	ResetToken(ctx context.Context, tokenHash string) (used bool, expiresAt time.Time, err error)
	// ResetPassword marks the token used, sets the hash and bumps the token
	// version at once. errs.ErrNotFound for an unknown token;
	// ErrResetTokenUsed or ErrResetTokenExpired (wrapping
	// errs.ErrPrecondition) for a spent one.
	ResetPassword(ctx context.Context, tokenHash, passwordHash string, now time.Time) (User, error)
	CreateEmailToken(ctx context.Context, userID int64, tokenHash string, expiresAt time.Time) error
	// VerifyEmail spends an email token and sets EmailVerified.
	// errs.ErrNotFound for an unknown token; ErrEmailTokenUsed or
	// ErrEmailTokenExpired (wrapping errs.ErrPrecondition) for a spent one.
	VerifyEmail(ctx context.Context, tokenHash string, now time.Time) (User, error)
	// ChangePassword sets the hash, bumps the token version and spends
	// every unused reset token of the user at once. errs.ErrNotFound.
	ChangePassword(ctx context.Context, id int64, passwordHash string) (User, error)
}

// Mailer sends a plain-text mail.
type Mailer interface {
	SendMail(ctx context.Context, to, subject, body string) error
}

// Config of the feature.
type Config struct {
	JWTSecret  []byte        // HS256 key, >= 32 bytes
	TokenTTL   time.Duration // lifetime of a token
	BcryptCost int           // bcrypt cost of new hashes
	ResetTTL   time.Duration // lifetime of a reset link
	// ResetURL is the page the reset link opens; "?token=..." is appended.
	ResetURL string
	// VerifyTTL is the lifetime of an email-verification link; VerifyURL the
	// page it opens ("?token=..." is appended).
	VerifyTTL time.Duration
	VerifyURL string
	// MailQueue bounds the mails (reset, verification) waiting to be sent; 0 means 64.
	MailQueue int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Deps are the feature's collaborators.
type Deps struct {
	Store  Store
	Mailer Mailer
	Log    *slog.Logger
	// Changed, when set, is told of every new or changed profile (the search
	// index listens). It runs in the request and must be quick.
	Changed func(context.Context, User)
	// Revoked, when set, is told after a user's tokens were revoked
	// (password changed or reset, account deleted or banned), so that the
	// user's open connections are checked again. It runs in the request
	// and must be quick; it cannot fail the change, which is stored.
	Revoked func(ctx context.Context, userID int64)
}

// Errors of the feature, beyond field-level *errs.Error from validation.
var (
	ErrEmailTaken        = errs.New(errs.KindConflict, "email_taken", "an account with this email exists")
	ErrBadCredentials    = errs.New(errs.KindUnauthenticated, "bad_credentials", "wrong email or password")
	ErrWrongPassword     = errs.New(errs.KindForbidden, "wrong_password", "the current password is wrong")
	ErrTokenInvalid      = errs.New(errs.KindUnauthenticated, "invalid_token", "the token is not valid")
	ErrTokenExpired      = errs.New(errs.KindUnauthenticated, "token_expired", "the token has expired; sign in again")
	ErrTokenRevoked      = errs.New(errs.KindUnauthenticated, "token_revoked", "the token was revoked; sign in again")
	ErrBanned            = errs.New(errs.KindForbidden, "account_suspended", "this account is suspended; ask the operators")
	ErrUserNotFound      = errs.New(errs.KindNotFound, "user_not_found", "no such user")
	ErrResetTokenUnknown = &errs.Error{Kind: errs.KindInvalid, Code: "reset_token_invalid", Field: "token", Message: "unknown reset token"}
	ErrResetTokenUsed    = errs.New(errs.KindGone, "reset_token_used", "this reset link was used already; ask for a new one")
	ErrResetTokenExpired = errs.New(errs.KindGone, "reset_token_expired", "this reset link has expired; ask for a new one")
)

// Service is the account feature. It is safe for concurrent use.
type Service struct {
	store   Store
	log     *slog.Logger
	changed func(context.Context, User)
	revoked func(context.Context, int64)
	cfg     Config
	dummy   []byte // a bcrypt hash compared against when no user matches, so timing does not tell

	mails  *mailQueue
	closer sync.Once
}

// New returns the feature; Close stops its mail sender.
func New(d Deps, c Config) (*Service, error) {
	if len(c.JWTSecret) < 32 {
		return nil, errors.New("account: JWT secret shorter than 32 bytes")
	}
	if c.TokenTTL <= 0 || c.ResetTTL <= 0 || c.VerifyTTL <= 0 {
		return nil, errors.New("account: token, reset and verify TTLs must be > 0")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MailQueue <= 0 {
		c.MailQueue = 64
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte(rand.Text()), c.BcryptCost)
	if err != nil {
		return nil, fmt.Errorf("account: bcrypt cost %d: %w", c.BcryptCost, err)
	}
	s := &Service{store: d.Store, log: d.Log, changed: d.Changed, revoked: d.Revoked, cfg: c, dummy: dummy}
	s.mails = startMailQueue(d.Mailer, d.Log, c.MailQueue)
	return s, nil
}

// Close waits, until ctx ends, for the queued mails to be sent. Call it
// after the transports have stopped.
func (s *Service) Close(ctx context.Context) error {
	var err error
	s.closer.Do(func() { err = s.mails.close(ctx) })
	return err
}

// SignUp creates an account and returns a token for it.
func (s *Service) SignUp(ctx context.Context, name, email, password string) (string, User, error) {
	name, email, err := checkSignUp(name, email, password)
	if err != nil {
		return "", User{}, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cfg.BcryptCost)
	if err != nil {
		return "", User{}, fmt.Errorf("hash password: %w", err)
	}
	u, err := s.store.CreateUser(ctx, NewUser{Email: email, Name: name, PasswordHash: string(hash)})
	switch {
	case errors.Is(err, errs.ErrExists):
		return "", User{}, ErrEmailTaken
	case err != nil:
		return "", User{}, fmt.Errorf("sign up: %w", err)
	}
	s.notify(ctx, u)
	// The account exists either way: a failure here is logged, and the user
	// asks for another link.
	if err := s.sendVerification(ctx, u); err != nil {
		s.log.ErrorContext(ctx, "verification mail at sign-up", "user_id", u.ID, "err", err)
	}
	tok, err := s.issue(u)
	return tok, u, err
}

// SignIn checks the password and returns a new token.
func (s *Service) SignIn(ctx context.Context, email, password string) (string, User, error) {
	email, err := checkEmail("email", email)
	if err != nil {
		return "", User{}, err
	}
	if password == "" {
		return "", User{}, errs.Required("password")
	}
	u, err := s.store.GetUserByEmail(ctx, email)
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return "", User{}, fmt.Errorf("sign in: %w", err)
	}
	if err != nil || u.Deleted {
		_ = bcrypt.CompareHashAndPassword(s.dummy, []byte(password))
		return "", User{}, ErrBadCredentials
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
		return "", User{}, ErrBadCredentials
	}
	if u.Banned { // told only to who knows the password
		return "", User{}, ErrBanned
	}
	tok, err := s.issue(u)
	return tok, u, err
}

// Me returns the caller's account.
func (s *Service) Me(ctx context.Context, id int64) (User, error) {
	u, err := s.store.GetUser(ctx, id)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return User{}, ErrTokenRevoked // the token was good a moment ago
	case err != nil:
		return User{}, fmt.Errorf("get user %d: %w", id, err)
	}
	return u, nil
}

// ProfilePatch changes the fields that are not nil.
type ProfilePatch struct {
	Name, Mobile       *string
	Gender             *Gender
	LastSeenVisibility *Visibility
}

// UpdateProfile applies p to the caller's profile.
func (s *Service) UpdateProfile(ctx context.Context, id int64, p ProfilePatch) (User, error) {
	up, err := checkPatch(p)
	if err != nil {
		return User{}, err
	}
	if up.Name == nil && up.Mobile == nil && up.Gender == nil && up.LastSeenVisibility == nil {
		return s.Me(ctx, id)
	}
	u, err := s.store.UpdateUser(ctx, id, up)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return User{}, ErrTokenRevoked
	case err != nil:
		return User{}, fmt.Errorf("update user %d: %w", id, err)
	}
	s.notify(ctx, u)
	return u, nil
}

// ChangePassword sets a new password when old is the current one, revokes
// every token issued so far (the caller's too: its connections are closed)
// and spends the reset links still unused.
func (s *Service) ChangePassword(ctx context.Context, id int64, old, password string) error {
	if old == "" {
		return errs.Required("old_password")
	}
	if err := checkPassword("password", password); err != nil {
		return err
	}
	u, err := s.Me(ctx, id)
	if err != nil {
		return err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(old)) != nil {
		return ErrWrongPassword
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cfg.BcryptCost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	if _, err := s.store.ChangePassword(ctx, id, string(hash)); err != nil {
		return fmt.Errorf("change password of user %d: %w", id, err)
	}
	s.revoke(ctx, id)
	return nil
}

func (s *Service) notify(ctx context.Context, u User) {
	if s.changed != nil {
		s.changed(ctx, u)
	}
}

func (s *Service) revoke(ctx context.Context, id int64) {
	if s.revoked != nil {
		s.revoked(ctx, id)
	}
}

// normalizeEmail is how emails are compared and stored: lower-cased whole.
// Lower-casing the local part is not what RFC 5321 promises, but it is what
// every mail provider people use does, and it keeps "Ada@x" and "ada@x" from
// being two accounts.
func normalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }
