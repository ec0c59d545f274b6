// Package follow is the follower side of subscription accounts: finding
// accounts, following and unfollowing them, and listing what one follows.
// Accounts themselves are made by the subscription service.
//
// Rules (the OpenAPI document repeats them for clients):
//
//   - Following an unknown or deleted account is 404
//     "subscription_not_found"; following one already followed is 409
//     "already_following". Unfollowing an account one does not follow
//     (never did, or unfollowed already) is 404 "not_following".
//   - Search asks the search index first. Accounts are written by the
//     subscription service, which keeps the index current through the
//     Directory gRPC API (IndexSubscription, RemoveSubscription; see
//     directory.go). For accounts made before it called, or when a call was
//     lost, the DataService's name-prefix search answers when the index finds
//     nothing, and what it finds is indexed. Page tokens carry which of the
//     two answered.
//   - Index writes of one account are serialized in this process (a read of
//     the account and the write after it under one lock), so a slow writer
//     cannot put back a name an account no longer has.
//
// Each follow and unfollow is announced through relation.Publisher after
// the DataService stored it. It never imports gin, grpc or an adapter.
package follow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/userservice/internal/paging"
	"github.com/privateim/privateim/userservice/internal/relation"
	"github.com/privateim/privateim/userservice/internal/search"
)

// Subscription is an account as stored.
type Subscription struct {
	ID            int64
	Name          string
	OwnerID       int64
	Intro         string
	Avatar        string
	Deleted       bool
	FollowerCount int64
	CreatedAt     time.Time
}

// Store is what the feature needs of storage. Errors wrap the errs store
// sentinels; lists answer errs.ErrInvalid for a page token they did not
// hand out.
type Store interface {
	Subscription(ctx context.Context, id int64) (Subscription, error)       // errs.ErrNotFound
	Subscriptions(ctx context.Context, ids []int64) ([]Subscription, error) // unknown ids left out
	// SearchSubscriptions lists live accounts whose name starts with
	// prefix, by id.
	SearchSubscriptions(ctx context.Context, prefix string, limit int, token string) ([]Subscription, string, error)
	Follow(ctx context.Context, subscriptionID, userID int64) error   // errs.ErrExists, errs.ErrNotFound
	Unfollow(ctx context.Context, subscriptionID, userID int64) error // errs.ErrNotFound: not following
	// Following lists the live accounts userID follows, by id.
	Following(ctx context.Context, userID int64, limit int, token string) ([]Subscription, string, error)
}

// Errors of the feature.
var (
	ErrNotFound         = errs.New(errs.KindNotFound, "subscription_not_found", "no such subscription account")
	ErrAlreadyFollowing = errs.New(errs.KindConflict, "already_following", "you follow this account already")
	ErrNotFollowing     = errs.New(errs.KindNotFound, "not_following", "you do not follow this account")
)

// maxPrefixRunes is the DataService's limit on a name prefix.
const maxPrefixRunes = 64

// Deps are the feature's collaborators.
type Deps struct {
	Store  Store
	Index  search.Index
	Events relation.Publisher // relation.Nop when nil
	Log    *slog.Logger
	Now    func() time.Time // time.Now when nil
}

// Service is the feature. Safe for concurrent use.
type Service struct {
	store  Store
	index  search.Index
	events relation.Publisher
	log    *slog.Logger
	now    func() time.Time
	locks  [lockStripes]sync.Mutex // index writes of account id under locks[id % lockStripes]; see lock
}

// New returns the feature.
func New(d Deps) *Service {
	if d.Events == nil {
		d.Events = relation.Nop{}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{store: d.Store, index: d.Index, events: d.Events, log: d.Log, now: d.Now}
}

// Page-token prefixes: which source answered the first page.
const (
	fromIndex = "i."
	fromStore = "d."
)

// Search finds live accounts by name (see the package comment).
func (s *Service) Search(ctx context.Context, q string, limit int, token string) ([]Subscription, string, error) {
	switch {
	case token == "":
		subs, next, err := s.searchIndex(ctx, q, limit, "")
		if err != nil || len(subs) > 0 || next != "" {
			return subs, next, err
		}
		return s.searchStore(ctx, q, limit, "")
	case strings.HasPrefix(token, fromIndex):
		return s.searchIndex(ctx, q, limit, token[len(fromIndex):])
	case strings.HasPrefix(token, fromStore) && len(token) > len(fromStore):
		return s.searchStore(ctx, q, limit, token[len(fromStore):])
	}
	return nil, "", paging.ErrBadPageToken
}

func (s *Service) searchIndex(ctx context.Context, q string, limit int, cursor string) ([]Subscription, string, error) {
	page, err := s.index.Search(ctx, search.KindSubscription, q, limit, cursor)
	if err != nil {
		return nil, "", paging.SearchError(err)
	}
	next := ""
	if page.Next != "" {
		next = fromIndex + page.Next
	}
	if len(page.IDs) == 0 {
		return nil, next, nil
	}
	subs, err := s.store.Subscriptions(ctx, page.IDs)
	if err != nil {
		return nil, "", fmt.Errorf("get %d subscriptions: %w", len(page.IDs), err)
	}
	byID := make(map[int64]Subscription, len(subs))
	for _, sub := range subs {
		byID[sub.ID] = sub
	}
	out := make([]Subscription, 0, len(subs))
	for _, id := range page.IDs {
		sub, ok := byID[id]
		switch {
		case !ok || sub.Deleted:
			// Deleted by the subscription service since indexed.
			if err := s.index.Delete(ctx, search.KindSubscription, id); err != nil {
				s.log.WarnContext(ctx, "unindex subscription", "subscription", id, "err", err)
			}
		default:
			out = append(out, sub)
		}
	}
	return out, next, nil
}

func (s *Service) searchStore(ctx context.Context, q string, limit int, token string) ([]Subscription, string, error) {
	prefix := strings.TrimSpace(q)
	if prefix == "" {
		return nil, "", errs.Required("q")
	}
	if utf8.RuneCountInString(prefix) > maxPrefixRunes {
		return nil, "", nil // no name is that long
	}
	subs, next, err := s.store.SearchSubscriptions(ctx, prefix, limit, token)
	if err != nil {
		return nil, "", paging.ListError("search subscriptions", err)
	}
	s.indexFound(ctx, subs)
	if next != "" {
		next = fromStore + next
	}
	return subs, next, nil
}

// Follow makes me a follower of a live account.
func (s *Service) Follow(ctx context.Context, me, id int64) (Subscription, error) {
	sub, err := s.store.Subscription(ctx, id)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return Subscription{}, ErrNotFound
	case err != nil:
		return Subscription{}, fmt.Errorf("get subscription %d: %w", id, err)
	case sub.Deleted:
		return Subscription{}, ErrNotFound
	}
	err = s.store.Follow(ctx, id, me)
	switch {
	case errors.Is(err, errs.ErrExists):
		return Subscription{}, ErrAlreadyFollowing
	case errors.Is(err, errs.ErrNotFound):
		return Subscription{}, ErrNotFound
	case err != nil:
		return Subscription{}, fmt.Errorf("follow %d by %d: %w", id, me, err)
	}
	s.events.Publish(ctx, relation.Event{Kind: relation.SubscriptionFollowed, UserID: me, SubscriptionID: id, At: s.now()})
	sub.FollowerCount++
	return sub, nil
}

// Unfollow ends my following of an account.
func (s *Service) Unfollow(ctx context.Context, me, id int64) error {
	err := s.store.Unfollow(ctx, id, me)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return ErrNotFollowing
	case err != nil:
		return fmt.Errorf("unfollow %d by %d: %w", id, me, err)
	}
	s.events.Publish(ctx, relation.Event{Kind: relation.SubscriptionUnfollowed, UserID: me, SubscriptionID: id, At: s.now()})
	return nil
}

// Following lists the live accounts I follow, by id.
func (s *Service) Following(ctx context.Context, me int64, limit int, token string) ([]Subscription, string, error) {
	subs, next, err := s.store.Following(ctx, me, limit, token)
	if err != nil {
		return nil, "", paging.ListError("list following", err)
	}
	return subs, next, nil
}
