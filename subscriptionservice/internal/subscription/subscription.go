// Package subscription is the accounts feature: creating, reading, renaming
// and deleting subscription accounts, their avatars, owners and followers.
// Only the owner changes an account. After each stored create, rename, owner
// change or delete, the userservice's search index is told (Directory).
//
// It declares the interfaces it needs (Store, Directory, Avatars) and imports
// only errs and the standard library.
package subscription

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/foundation/textfield"
)

// Limits of the account fields (the DataService's limits).
const (
	MaxNameRunes  = 64
	MaxIntroRunes = 1024
)

// Account is a subscription account.
type Account struct {
	ID            int64
	Name          string
	OwnerID       int64
	Intro         string
	Avatar        string // URL; "" for none
	Deleted       bool
	FollowerCount int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Update holds the fields to change; nil leaves a field as it is.
type Update struct {
	Name    *string
	Intro   *string
	Avatar  *string
	OwnerID *int64
}

// Follower is a user following an account.
type Follower struct {
	UserID     int64
	FollowedAt time.Time
}

// User is what this feature needs of a user.
type User struct {
	ID      int64
	Email   string
	Deleted bool
}

// Page is a page request: at most Limit items after the opaque Token.
type Page struct {
	Limit int
	Token string
}

// Store is the data this feature needs (the DataService). Errors wrap the
// errs store sentinels: ErrNotFound, ErrExists (a taken name), ErrInvalid
// (a bad page token).
type Store interface {
	CreateSubscription(ctx context.Context, name, intro string, ownerID int64) (Account, error)
	GetSubscription(ctx context.Context, id int64) (Account, error)
	UpdateSubscription(ctx context.Context, id int64, up Update) (Account, error)
	DeleteSubscription(ctx context.Context, id int64) (released int64, err error)
	ListSubscriptionsByOwner(ctx context.Context, ownerID int64, p Page) ([]Account, string, error)
	ListFollowers(ctx context.Context, id int64, p Page) ([]Follower, string, error)
	GetUser(ctx context.Context, id int64) (User, error)
}

// Directory keeps the userservice's search index of accounts current.
type Directory interface {
	IndexSubscription(ctx context.Context, id int64, name string) error
	RemoveSubscription(ctx context.Context, id int64) error
}

// Avatars stores avatar images: Put checks and stores one, returning its
// URL; Remove deletes a stored one by URL (ignoring URLs not its own).
type Avatars interface {
	Put(ctx context.Context, r io.Reader) (url string, err error)
	Remove(url string)
}

// Errors of this feature.
var (
	ErrNotFound     = errs.New(errs.KindNotFound, "subscription_not_found", "no such subscription account")
	ErrNotOwner     = errs.New(errs.KindForbidden, "not_owner", "only the account's owner may do this")
	ErrNameTaken    = &errs.Error{Kind: errs.KindConflict, Code: "name_taken", Message: "a subscription account has this name", Field: "name"}
	ErrUserNotFound = &errs.Error{Kind: errs.KindNotFound, Code: "user_not_found", Message: "no such user", Field: "user_id"}
	ErrBadPageToken = errs.Invalid("page_token", "not a token this list handed out")
)

// Service is the accounts feature; safe for concurrent use.
type Service struct {
	store   Store
	dir     Directory
	avatars Avatars
	log     *slog.Logger
}

// New returns the feature.
func New(store Store, dir Directory, avatars Avatars, log *slog.Logger) *Service {
	return &Service{store: store, dir: dir, avatars: avatars, log: log}
}

// CheckName checks a name with textfield.Name: 1..MaxNameRunes runes after
// NFKC normalization, nothing invisible or blank-looking.
func CheckName(name string) (string, error) { return textfield.Name("name", name, MaxNameRunes) }

// CheckIntro checks an intro: at most MaxIntroRunes runes of UTF-8.
func CheckIntro(intro string) error {
	if !utf8.ValidString(intro) {
		return errs.Invalid("intro", "must be UTF-8")
	}
	if utf8.RuneCountInString(intro) > MaxIntroRunes {
		return errs.Invalid("intro", "at most %d characters", MaxIntroRunes)
	}
	return nil
}

// Create makes an account owned by ownerID.
func (s *Service) Create(ctx context.Context, ownerID int64, name, intro string) (Account, error) {
	name, err := CheckName(name)
	if err != nil {
		return Account{}, err
	}
	if err := CheckIntro(intro); err != nil {
		return Account{}, err
	}
	a, err := s.store.CreateSubscription(ctx, name, intro, ownerID)
	if errors.Is(err, errs.ErrExists) {
		return Account{}, ErrNameTaken
	}
	if err != nil {
		return Account{}, fmt.Errorf("create subscription %q: %w", name, err)
	}
	s.index(ctx, a)
	return a, nil
}

// Get returns a live account; ErrNotFound for an unknown or deleted one.
func (s *Service) Get(ctx context.Context, id int64) (Account, error) {
	a, err := s.store.GetSubscription(ctx, id)
	if errors.Is(err, errs.ErrNotFound) || (err == nil && a.Deleted) {
		return Account{}, ErrNotFound
	}
	if err != nil {
		return Account{}, fmt.Errorf("get subscription %d: %w", id, err)
	}
	return a, nil
}

// Owned returns the account when userID owns it: ErrNotFound, else
// ErrNotOwner.
func (s *Service) Owned(ctx context.Context, userID, id int64) (Account, error) {
	a, err := s.Get(ctx, id)
	if err != nil {
		return Account{}, err
	}
	if a.OwnerID != userID {
		return Account{}, ErrNotOwner
	}
	return a, nil
}

// Patch changes name and intro (nil: unchanged); owner only.
func (s *Service) Patch(ctx context.Context, userID, id int64, name, intro *string) (Account, error) {
	var up Update
	if name != nil {
		n, err := CheckName(*name)
		if err != nil {
			return Account{}, err
		}
		up.Name = &n
	}
	if intro != nil {
		if err := CheckIntro(*intro); err != nil {
			return Account{}, err
		}
		up.Intro = intro
	}
	if _, err := s.Owned(ctx, userID, id); err != nil {
		return Account{}, err
	}
	a, err := s.update(ctx, id, up)
	if err != nil {
		return Account{}, err
	}
	if up.Name != nil {
		s.index(ctx, a)
	}
	return a, nil
}

func (s *Service) update(ctx context.Context, id int64, up Update) (Account, error) {
	a, err := s.store.UpdateSubscription(ctx, id, up)
	switch {
	case errors.Is(err, errs.ErrExists):
		return Account{}, ErrNameTaken
	case errors.Is(err, errs.ErrNotFound):
		return Account{}, ErrNotFound
	case err != nil:
		return Account{}, fmt.Errorf("update subscription %d: %w", id, err)
	}
	return a, nil
}

// SetAvatar stores the image read from r as the account's avatar (owner
// only) and returns its URL; the previous avatar file is removed.
func (s *Service) SetAvatar(ctx context.Context, userID, id int64, r io.Reader) (string, error) {
	prev, err := s.Owned(ctx, userID, id)
	if err != nil {
		return "", err
	}
	url, err := s.avatars.Put(ctx, r)
	if err != nil {
		return "", err
	}
	if _, err := s.update(ctx, id, Update{Avatar: &url}); err != nil {
		s.avatars.Remove(url)
		return "", err
	}
	if prev.Avatar != "" && prev.Avatar != url {
		s.avatars.Remove(prev.Avatar)
	}
	return url, nil
}

// SetOwner hands the account to newOwner (owner only); the new owner must
// be a live user.
func (s *Service) SetOwner(ctx context.Context, userID, id, newOwner int64) (Account, error) {
	if _, err := s.Owned(ctx, userID, id); err != nil {
		return Account{}, err
	}
	u, err := s.store.GetUser(ctx, newOwner)
	if errors.Is(err, errs.ErrNotFound) || (err == nil && u.Deleted) {
		return Account{}, ErrUserNotFound
	}
	if err != nil {
		return Account{}, fmt.Errorf("get user %d: %w", newOwner, err)
	}
	a, err := s.update(ctx, id, Update{OwnerID: &newOwner})
	if err != nil {
		return Account{}, err
	}
	s.index(ctx, a)
	return a, nil
}

// Delete deletes the account (owner only); every follower is released in
// the same DataService transaction. It returns how many were.
func (s *Service) Delete(ctx context.Context, userID, id int64) (int64, error) {
	if _, err := s.Owned(ctx, userID, id); err != nil {
		return 0, err
	}
	n, err := s.store.DeleteSubscription(ctx, id)
	if errors.Is(err, errs.ErrNotFound) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("delete subscription %d: %w", id, err)
	}
	// Only after the delete: the userservice's fallback would find a live
	// account again.
	if err := s.dir.RemoveSubscription(ctx, id); err != nil {
		s.log.WarnContext(ctx, "search index: remove subscription", "subscription", id, "err", err)
	}
	return n, nil
}

// Mine lists the live accounts userID owns.
func (s *Service) Mine(ctx context.Context, userID int64, p Page) ([]Account, string, error) {
	as, next, err := s.store.ListSubscriptionsByOwner(ctx, userID, p)
	if errors.Is(err, errs.ErrInvalid) {
		return nil, "", ErrBadPageToken
	}
	if err != nil {
		return nil, "", fmt.Errorf("list subscriptions of %d: %w", userID, err)
	}
	return as, next, nil
}

// Followers lists the account's followers (owner only), by user id.
func (s *Service) Followers(ctx context.Context, userID, id int64, p Page) ([]Follower, string, error) {
	if _, err := s.Owned(ctx, userID, id); err != nil {
		return nil, "", err
	}
	fs, next, err := s.store.ListFollowers(ctx, id, p)
	if errors.Is(err, errs.ErrInvalid) {
		return nil, "", ErrBadPageToken
	}
	if err != nil {
		return nil, "", fmt.Errorf("list followers of %d: %w", id, err)
	}
	return fs, next, nil
}

// index tells the search index the account's name. The account is stored
// already, so a failure is logged, not returned: the userservice's
// name-prefix fallback still finds the account and indexes it then.
func (s *Service) index(ctx context.Context, a Account) {
	if err := s.dir.IndexSubscription(ctx, a.ID, a.Name); err != nil {
		s.log.WarnContext(ctx, "search index: index subscription", "subscription", a.ID, "err", err)
	}
}
