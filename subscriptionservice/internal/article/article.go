// Package article is the articles feature: writing, review, publishing and
// withdrawing the articles of subscription accounts, and pushing published
// ones to the followers through the MessageService (push.go).
//
// The state machine is
//
//	draft -> in_review -> approved -> published -> withdrawn
//	                   \-> rejected -> in_review (after an edit, submitted again)
//
// and every step is a conditional update (the DataService's expected_state),
// so two concurrent steps from one state cannot both win. Any other step is
// a KindState error naming the current state. Only the owner writes,
// submits, publishes and withdraws; only reviewers approve and reject.
//
// It declares the interfaces it needs and imports only errs and the
// standard library.
package article

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/privateim/privateim/foundation/errs"
)

// State is an article's place in the state machine.
type State int32

// States, numbered as the DataService numbers them.
const (
	Draft     State = 1
	InReview  State = 2
	Approved  State = 3
	Rejected  State = 4
	Published State = 5
	Withdrawn State = 6
)

var stateNames = map[State]string{
	Draft: "draft", InReview: "in_review", Approved: "approved",
	Rejected: "rejected", Published: "published", Withdrawn: "withdrawn",
}

// String is the state's name in the API: "in_review".
func (s State) String() string {
	if n, ok := stateNames[s]; ok {
		return n
	}
	return fmt.Sprintf("state_%d", int32(s))
}

// Limits of an article.
const (
	MaxTitleRunes  = 120
	MaxBodyBytes   = 100 << 10
	MaxCoverURL    = 512
	MaxReasonRunes = 500
	SummaryRunes   = 120 // of the body, in the pushed message
)

// Article is one article of a subscription account.
type Article struct {
	ID             int64
	SubscriptionID int64
	AuthorID       int64
	Title          string
	Body           string
	CoverURL       string
	State          State
	RejectReason   string
	ReviewerID     int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
	PublishedAt    time.Time // zero until published
	Pushed         bool      // handed to the MessageService
}

// Update holds the fields to change; nil leaves one as it is. With
// ExpectedState set the update happens only in that state (else
// errs.ErrPrecondition).
type Update struct {
	Title, Body, CoverURL *string
	State                 *State
	RejectReason          *string
	ReviewerID            *int64
	PublishedAt           *time.Time
	Pushed                *bool
	ExpectedState         State
}

// Filter selects articles to list.
type Filter struct {
	SubscriptionID int64   // 0: every account
	States         []State // empty: every state
	UnpushedOnly   bool
}

// Page is a page request.
type Page struct {
	Limit int
	Token string
}

// Account is what this feature needs of a subscription account.
type Account struct {
	ID      int64
	OwnerID int64
	Deleted bool
}

// Store is the data this feature needs (the DataService). Errors wrap the
// errs store sentinels.
type Store interface {
	CreateArticle(ctx context.Context, a Article) (Article, error)
	GetArticle(ctx context.Context, id int64) (Article, error)
	UpdateArticle(ctx context.Context, id int64, up Update) (Article, error)
	ListArticles(ctx context.Context, f Filter, p Page) ([]Article, string, error)
	// DeleteArticle deletes for good, only while the article is in state
	// expected (errs.ErrPrecondition otherwise).
	DeleteArticle(ctx context.Context, id int64, expected State) error
	Account(ctx context.Context, id int64) (Account, error)
	IsFollower(ctx context.Context, subscriptionID, userID int64) (bool, error)
	// Reviewer returns what the reviewer check reads of a user; a deleted
	// user is errs.ErrNotFound.
	Reviewer(ctx context.Context, userID int64) (ReviewerInfo, error)
}

// ReviewerInfo is what the reviewer check needs of a user.
type ReviewerInfo struct {
	Email         string
	EmailVerified bool // the user opened a verification link (userservice)
}

// Errors of this feature.
var (
	ErrSubscriptionNotFound = errs.New(errs.KindNotFound, "subscription_not_found", "no such subscription account")
	ErrNotFound             = errs.New(errs.KindNotFound, "article_not_found", "no such article")
	ErrNotOwner             = errs.New(errs.KindForbidden, "not_owner", "only the account's owner may do this")
	ErrNotReader            = errs.New(errs.KindForbidden, "not_follower", "only the account's followers and owner may read its articles")
	ErrNotReviewer          = errs.New(errs.KindForbidden, "not_reviewer", "only reviewers may do this")
	ErrEmailUnverified      = errs.New(errs.KindForbidden, "email_unverified", "reviewers must verify their email first (POST /api/v1/auth/email/resend on the userservice)")
	ErrOwnSubscription      = errs.New(errs.KindForbidden, "own_subscription", "nobody reviews articles of a subscription they own")
	ErrBadPageToken         = errs.Invalid("page_token", "not a token this list handed out")
)

// StateError is the 409 of a step the article's state forbids.
func StateError(id int64, s State, step string) *errs.Error {
	return errs.New(errs.KindState, "invalid_state",
		fmt.Sprintf("article %d is %s; cannot %s it", id, s, step))
}

// Config of the feature.
type Config struct {
	Reviewers    []string      // lower-cased emails
	PushTimeout  time.Duration // one Broadcast
	RetryMin     time.Duration // first wait before retrying failed pushes
	RetryMax     time.Duration // longest wait; also the sweep interval
	PushPageSize int           // articles fetched per sweep; 0: 100
}

// Service is the articles feature; safe for concurrent use. Start runs the
// push loop; Close stops it.
type Service struct {
	store     Store
	push      Broadcaster
	log       *slog.Logger
	cfg       Config
	reviewers map[string]bool
	pusher    *pusher
}

// New returns the feature; the push loop starts with Start.
func New(store Store, push Broadcaster, log *slog.Logger, cfg Config) *Service {
	if cfg.PushPageSize <= 0 {
		cfg.PushPageSize = 100
	}
	s := &Service{store: store, push: push, log: log, cfg: cfg, reviewers: map[string]bool{}}
	for _, e := range cfg.Reviewers {
		s.reviewers[strings.ToLower(e)] = true
	}
	s.pusher = newPusher(s)
	return s
}

// Input is what an author writes.
type Input struct {
	Title    string
	Body     string
	CoverURL string
}

// check validates in: title 1..MaxTitleRunes runes, body at most
// MaxBodyBytes (413), cover an http(s) URL of at most MaxCoverURL bytes.
func (in *Input) check() error {
	in.Title = strings.TrimSpace(in.Title)
	switch {
	case in.Title == "":
		return errs.Required("title")
	case !utf8.ValidString(in.Title):
		return errs.Invalid("title", "must be UTF-8")
	case utf8.RuneCountInString(in.Title) > MaxTitleRunes:
		return errs.Invalid("title", "at most %d characters", MaxTitleRunes)
	}
	if len(in.Body) > MaxBodyBytes {
		return &errs.Error{Kind: errs.KindTooLarge, Code: "too_large", Field: "body",
			Message: fmt.Sprintf("at most %d KiB", MaxBodyBytes>>10)}
	}
	if !utf8.ValidString(in.Body) {
		return errs.Invalid("body", "must be UTF-8")
	}
	if in.CoverURL != "" {
		u, err := url.Parse(in.CoverURL)
		if len(in.CoverURL) > MaxCoverURL || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errs.Invalid("cover_url", "must be an http(s) URL of at most %d bytes", MaxCoverURL)
		}
	}
	return nil
}

// account returns a live account; ErrSubscriptionNotFound otherwise.
func (s *Service) account(ctx context.Context, id int64) (Account, error) {
	a, err := s.store.Account(ctx, id)
	if errors.Is(err, errs.ErrNotFound) || (err == nil && a.Deleted) {
		return Account{}, ErrSubscriptionNotFound
	}
	if err != nil {
		return Account{}, fmt.Errorf("get subscription %d: %w", id, err)
	}
	return a, nil
}

// owned returns the account when userID owns it.
func (s *Service) owned(ctx context.Context, userID, subID int64) (Account, error) {
	a, err := s.account(ctx, subID)
	if err != nil {
		return Account{}, err
	}
	if a.OwnerID != userID {
		return Account{}, ErrNotOwner
	}
	return a, nil
}

// get returns article id of account subID (ErrNotFound when it belongs to
// another).
func (s *Service) get(ctx context.Context, subID, id int64) (Article, error) {
	a, err := s.store.GetArticle(ctx, id)
	if errors.Is(err, errs.ErrNotFound) || (err == nil && subID != 0 && a.SubscriptionID != subID) {
		return Article{}, ErrNotFound
	}
	if err != nil {
		return Article{}, fmt.Errorf("get article %d: %w", id, err)
	}
	return a, nil
}

// Create writes a draft in account subID; owner only.
func (s *Service) Create(ctx context.Context, userID, subID int64, in Input) (Article, error) {
	if err := in.check(); err != nil {
		return Article{}, err
	}
	if _, err := s.owned(ctx, userID, subID); err != nil {
		return Article{}, err
	}
	a, err := s.store.CreateArticle(ctx, Article{SubscriptionID: subID, AuthorID: userID,
		Title: in.Title, Body: in.Body, CoverURL: in.CoverURL, State: Draft})
	if err != nil {
		return Article{}, fmt.Errorf("create article in %d: %w", subID, err)
	}
	return a, nil
}

// Edit replaces title, body and cover of a draft or rejected article; owner
// only. The state stays.
func (s *Service) Edit(ctx context.Context, userID, subID, id int64, in Input) (Article, error) {
	if err := in.check(); err != nil {
		return Article{}, err
	}
	if _, err := s.owned(ctx, userID, subID); err != nil {
		return Article{}, err
	}
	a, err := s.get(ctx, subID, id)
	if err != nil {
		return Article{}, err
	}
	if a.State != Draft && a.State != Rejected {
		return Article{}, StateError(id, a.State, "edit")
	}
	return s.step(ctx, id, "edit", Update{Title: &in.Title, Body: &in.Body, CoverURL: &in.CoverURL, ExpectedState: a.State})
}

// Submit sends a draft (or an edited rejected article) to review; owner
// only.
func (s *Service) Submit(ctx context.Context, userID, subID, id int64) (Article, error) {
	if _, err := s.owned(ctx, userID, subID); err != nil {
		return Article{}, err
	}
	a, err := s.get(ctx, subID, id)
	if err != nil {
		return Article{}, err
	}
	if a.State != Draft && a.State != Rejected {
		return Article{}, StateError(id, a.State, "submit")
	}
	st, none := InReview, ""
	return s.step(ctx, id, "submit", Update{State: &st, RejectReason: &none, ExpectedState: a.State})
}

// mustReview passes a user whose email is one of the reviewers' and is
// verified: a listed address alone is not enough, since anyone may sign up
// with an address they do not own (ErrEmailUnverified then).
func (s *Service) mustReview(ctx context.Context, userID int64) error {
	if len(s.reviewers) == 0 {
		return ErrNotReviewer
	}
	u, err := s.store.Reviewer(ctx, userID)
	if errors.Is(err, errs.ErrNotFound) {
		return ErrNotReviewer
	}
	if err != nil {
		return fmt.Errorf("get user %d: %w", userID, err)
	}
	switch {
	case !s.reviewers[strings.ToLower(u.Email)]:
		return ErrNotReviewer
	case !u.EmailVerified:
		return ErrEmailUnverified
	}
	return nil
}

// Approve moves an article in review to approved; reviewers only.
func (s *Service) Approve(ctx context.Context, userID, id int64) (Article, error) {
	if err := s.mustReview(ctx, userID); err != nil {
		return Article{}, err
	}
	st := Approved
	return s.review(ctx, userID, id, "approve", Update{State: &st})
}

// Reject moves an article in review to rejected with a reason; reviewers
// only.
func (s *Service) Reject(ctx context.Context, userID, id int64, reason string) (Article, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return Article{}, errs.Required("reason")
	case !utf8.ValidString(reason):
		return Article{}, errs.Invalid("reason", "must be UTF-8")
	case utf8.RuneCountInString(reason) > MaxReasonRunes:
		return Article{}, errs.Invalid("reason", "at most %d characters", MaxReasonRunes)
	}
	if err := s.mustReview(ctx, userID); err != nil {
		return Article{}, err
	}
	st := Rejected
	return s.review(ctx, userID, id, "reject", Update{State: &st, RejectReason: &reason})
}

func (s *Service) review(ctx context.Context, reviewerID, id int64, step string, up Update) (Article, error) {
	a, err := s.get(ctx, 0, id)
	if err != nil {
		return Article{}, err
	}
	if a.State != InReview {
		return Article{}, StateError(id, a.State, step)
	}
	// The owner now, not the author: an account handed over keeps its
	// articles, and its new owner may not review them either.
	acct, err := s.store.Account(ctx, a.SubscriptionID)
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return Article{}, fmt.Errorf("get subscription %d: %w", a.SubscriptionID, err)
	}
	if a.AuthorID == reviewerID || (err == nil && acct.OwnerID == reviewerID) {
		return Article{}, ErrOwnSubscription
	}
	up.ReviewerID = &reviewerID
	up.ExpectedState = InReview
	return s.step(ctx, id, step, up)
}

// Queue lists the articles in review, newest first; reviewers only.
func (s *Service) Queue(ctx context.Context, userID int64, p Page) ([]Article, string, error) {
	if err := s.mustReview(ctx, userID); err != nil {
		return nil, "", err
	}
	return s.list(ctx, Filter{States: []State{InReview}}, p)
}

// Publish makes an approved article published and pushes it to the
// followers (owner only). The push is one Broadcast; when it fails the
// article stays published, unpushed, and the push loop retries it.
func (s *Service) Publish(ctx context.Context, userID, subID, id int64) (Article, error) {
	acct, err := s.owned(ctx, userID, subID)
	if err != nil {
		return Article{}, err
	}
	a, err := s.get(ctx, subID, id)
	if err != nil {
		return Article{}, err
	}
	if a.State != Approved {
		return Article{}, StateError(id, a.State, "publish")
	}
	st, now := Published, time.Now()
	a, err = s.step(ctx, id, "publish", Update{State: &st, PublishedAt: &now, ExpectedState: Approved})
	if err != nil {
		return Article{}, err
	}
	if pushed, err := s.pushOne(ctx, acct.OwnerID, a); err != nil {
		s.log.WarnContext(ctx, "push failed; will retry", "article", id, "subscription", subID, "err", err)
		s.pusher.wake()
	} else {
		a = pushed
	}
	return a, nil
}

// Withdraw marks a published article withdrawn (owner only); a draft,
// rejected, in-review or approved article is deleted for good instead.
// It returns the withdrawn article, or deleted true.
//
// The delete is conditional on the state read, like every step: a reviewer
// approving or the owner publishing at the same moment cannot have the
// article deleted under them as if it were still in the state read (a
// published article is withdrawn, never deleted). A lost race reads the
// article again and decides anew.
func (s *Service) Withdraw(ctx context.Context, userID, subID, id int64) (a Article, deleted bool, err error) {
	if _, err := s.owned(ctx, userID, subID); err != nil {
		return Article{}, false, err
	}
	if a, err = s.get(ctx, subID, id); err != nil {
		return Article{}, false, err
	}
	for attempt := 1; ; attempt++ {
		switch a.State {
		case Published:
			st := Withdrawn
			a, err = s.step(ctx, id, "withdraw", Update{State: &st, ExpectedState: Published})
			return a, false, err
		case Withdrawn:
			return Article{}, false, StateError(id, a.State, "delete")
		}
		err := s.store.DeleteArticle(ctx, id, a.State)
		switch {
		case err == nil:
			return Article{}, true, nil
		case errors.Is(err, errs.ErrNotFound):
			return Article{}, false, ErrNotFound
		case !errors.Is(err, errs.ErrPrecondition):
			return Article{}, false, fmt.Errorf("delete article %d: %w", id, err)
		}
		if a, err = s.get(ctx, subID, id); err != nil {
			return Article{}, false, err
		}
		if attempt == 3 {
			// Moved on under each of three tries: answer with the state now.
			return Article{}, false, StateError(id, a.State, "delete")
		}
	}
}

// canRead reports whether userID may read account subID's articles: the
// owner reads all (owner true), a follower the published and withdrawn.
func (s *Service) canRead(ctx context.Context, userID, subID int64) (owner bool, err error) {
	acct, err := s.account(ctx, subID)
	if err != nil {
		return false, err
	}
	if acct.OwnerID == userID {
		return true, nil
	}
	ok, err := s.store.IsFollower(ctx, subID, userID)
	if err != nil {
		return false, fmt.Errorf("get follower %d of %d: %w", userID, subID, err)
	}
	if !ok {
		return false, ErrNotReader
	}
	return false, nil
}

// Get returns one article: any for the owner, a published or withdrawn one
// for a follower (ErrNotFound for the others, whose existence is none of
// theirs). Withdrawn articles lose their body for followers.
func (s *Service) Get(ctx context.Context, userID, subID, id int64) (Article, error) {
	owner, err := s.canRead(ctx, userID, subID)
	if err != nil {
		return Article{}, err
	}
	a, err := s.get(ctx, subID, id)
	if err != nil {
		return Article{}, err
	}
	if !owner {
		if a.State != Published && a.State != Withdrawn {
			return Article{}, ErrNotFound
		}
		a = forFollower(a)
	}
	return a, nil
}

// List pages account subID's articles, newest first: all for the owner,
// the published and withdrawn ones for a follower.
func (s *Service) List(ctx context.Context, userID, subID int64, p Page) ([]Article, string, error) {
	owner, err := s.canRead(ctx, userID, subID)
	if err != nil {
		return nil, "", err
	}
	f := Filter{SubscriptionID: subID}
	if !owner {
		f.States = []State{Published, Withdrawn}
	}
	arts, next, err := s.list(ctx, f, p)
	if err != nil {
		return nil, "", err
	}
	if !owner {
		for i := range arts {
			arts[i] = forFollower(arts[i])
		}
	}
	return arts, next, nil
}

// forFollower hides what a follower does not see: the review and, once
// withdrawn, the content.
func forFollower(a Article) Article {
	a.RejectReason, a.ReviewerID = "", 0
	if a.State == Withdrawn {
		a.Body, a.CoverURL = "", ""
	}
	return a
}

func (s *Service) list(ctx context.Context, f Filter, p Page) ([]Article, string, error) {
	arts, next, err := s.store.ListArticles(ctx, f, p)
	if errors.Is(err, errs.ErrInvalid) {
		return nil, "", ErrBadPageToken
	}
	if err != nil {
		return nil, "", fmt.Errorf("list articles: %w", err)
	}
	return arts, next, nil
}

// step applies a conditional update. When the article left the expected
// state in the meantime, it answers the state error with the state it is
// in now.
func (s *Service) step(ctx context.Context, id int64, name string, up Update) (Article, error) {
	a, err := s.store.UpdateArticle(ctx, id, up)
	if err == nil {
		return a, nil
	}
	if errors.Is(err, errs.ErrNotFound) {
		return Article{}, ErrNotFound
	}
	if errors.Is(err, errs.ErrPrecondition) {
		cur, gerr := s.get(ctx, 0, id)
		if gerr != nil {
			return Article{}, gerr
		}
		return Article{}, StateError(id, cur.State, name)
	}
	return Article{}, fmt.Errorf("%s article %d: %w", name, id, err)
}
