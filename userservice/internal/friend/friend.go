// Package friend is the userservice's people feature: looking users up
// (search by exact email or by name, and by id) with what each viewer may
// see, friend requests, friends and the blacklist.
//
// Rules (the OpenAPI document repeats them for clients):
//
//   - Privacy: anyone signed in sees a user's id, name and avatar. Mobile,
//     gender and the viewer's note are shown only between friends (and to
//     the user themself). Emails are never shown to others; a search by
//     exact email finds the account without showing the address.
//   - A request to oneself is 400 "self". A request to a user who has
//     blacklisted the sender is 403 "blocked"; to a user the sender has
//     blacklisted, 409 "blacklisted" (unblock first); to a friend, 409
//     "already_friends"; to an unknown or deleted user, 404.
//   - Crossing requests: when B has a pending request to A and A sends one
//     to B, A's request accepts B's (with A's note): both become friends and
//     the answer says "accepted".
//   - Sending again while a request is pending replaces its note and
//     greeting. After a reject (or a deleted friendship) a new request may
//     be sent.
//   - Accepting or rejecting a request that is not pending is 404
//     "request_not_found" (409 "already_friends" when it was accepted).
//   - Blacklisting withdraws the blacklister's pending request to the user
//     and rejects the user's pending request to them; a friendship stays (the
//     message service refuses the blocked user's messages). PUT is
//     idempotent; taking off someone not blacklisted is 404.
//
// Each change is announced through relation.Publisher after the DataService
// stored it. It never imports gin, grpc or an adapter.
package friend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/foundation/textfield"
	"github.com/privateim/privateim/userservice/internal/paging"
	"github.com/privateim/privateim/userservice/internal/relation"
	"github.com/privateim/privateim/userservice/internal/search"
)

// Limits of what people type.
const (
	MaxNoteRunes    = 32
	MaxMessageRunes = 255
)

// Profile is a user as stored, without secrets.
type Profile struct {
	ID      int64
	Email   string
	Name    string
	Mobile  string
	Gender  string // "", "male", "female", "other"
	Avatar  string
	Deleted bool
	// LastSeenMS: when the user's last connection closed (unix ms); 0
	// while online or never seen. LastSeenTo is who may see it:
	// "everyone", "friends" or "nobody".
	LastSeenMS int64
	LastSeenTo string
}

// Friendship is one direction: what SelfID holds about FriendID. A request
// from A to B is (A, B) not accepted and not deleted.
type Friendship struct {
	SelfID, FriendID int64
	Note             string // SelfID's remark for FriendID
	Message          string // the request's greeting
	Accepted         bool
	Blacklisted      bool // SelfID has blacklisted FriendID
	Deleted          bool
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

func (f Friendship) pending() bool { return !f.Accepted && !f.Deleted }
func (f Friendship) friends() bool { return f.Accepted && !f.Deleted }

// FriendshipUpdate changes the fields that are not nil.
type FriendshipUpdate struct {
	Note                           *string
	Accepted, Blacklisted, Deleted *bool
}

// Filter selects friendship rows of UserID: its own (outgoing) or those
// naming it (Incoming); nil flags match either value.
type Filter struct {
	UserID                         int64
	Incoming                       bool
	Accepted, Blacklisted, Deleted *bool
}

// FriendInfo is a friendship with the friend's profile.
type FriendInfo struct {
	Friendship Friendship
	Friend     Profile
}

// Store is what the feature needs of storage. Errors wrap the errs store
// sentinels; lists answer errs.ErrInvalid for a page token they did not
// hand out. Lists take limit 1..100 and a page token ("" for the first
// page) and return the next token ("" on the last page).
type Store interface {
	Profiles(ctx context.Context, ids []int64) ([]Profile, error)                                         // unknown ids left out
	Friendship(ctx context.Context, selfID, friendID int64) (Friendship, error)                           // errs.ErrNotFound
	PutFriendship(ctx context.Context, f Friendship) (Friendship, error)                                  // creates or overwrites
	UpdateFriendship(ctx context.Context, selfID, friendID int64, u FriendshipUpdate) (Friendship, error) // errs.ErrNotFound
	ListFriendships(ctx context.Context, f Filter, limit int, token string) ([]Friendship, string, error)
	// AcceptFriend makes the pending (requester, accepter) row accepted and
	// (accepter, requester) an accepted row with note, at once.
	// errs.ErrNotFound without the row, errs.ErrPrecondition when it is
	// not pending.
	AcceptFriend(ctx context.Context, requesterID, accepterID int64, note string) error
	// DeleteFriend marks both directions deleted and not accepted.
	DeleteFriend(ctx context.Context, selfID, friendID int64) error
	// FriendsInfo lists userID's friends with their profiles, by id.
	FriendsInfo(ctx context.Context, userID int64, limit int, token string) ([]FriendInfo, string, error)
}

// Errors of the feature, beyond field-level *errs.Error from validation.
var (
	ErrSelf            = &errs.Error{Kind: errs.KindInvalid, Code: "self", Field: "user_id", Message: "that is you"}
	ErrUserNotFound    = errs.New(errs.KindNotFound, "user_not_found", "no such user")
	ErrBlocked         = errs.New(errs.KindForbidden, "blocked", "this user does not accept your requests")
	ErrYouBlacklisted  = errs.New(errs.KindConflict, "blacklisted", "you have blacklisted this user; take them off your blacklist first")
	ErrAlreadyFriends  = errs.New(errs.KindConflict, "already_friends", "you are friends already")
	ErrRequestNotFound = errs.New(errs.KindNotFound, "request_not_found", "no pending friend request from this user")
	ErrNotFriends      = errs.New(errs.KindNotFound, "not_friends", "this user is not your friend")
	ErrNotBlacklisted  = errs.New(errs.KindNotFound, "not_blacklisted", "this user is not on your blacklist")
)

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

// View is a user as one viewer sees them. Full is set between friends and
// for oneself: only then are Mobile, Gender and Note filled.
type View struct {
	ID     int64
	Name   string
	Avatar string
	Full   bool
	Friend bool // the viewer and this user are friends
	Mobile string
	Gender string
	Note   string // the viewer's remark for this user
	// LastSeen: when the user was last online (unix ms), when they are
	// offline and show it to this viewer; else 0.
	LastSeen int64
}

func view(p Profile, full bool) View {
	v := View{ID: p.ID, Name: p.Name, Avatar: p.Avatar, Full: full}
	if full {
		v.Mobile, v.Gender = p.Mobile, p.Gender
	}
	return v
}

// friendView is p seen by a viewer whose row about p is f (ok: it exists).
func friendView(p Profile, f Friendship, ok bool) View {
	isFriend := ok && f.friends()
	v := view(p, isFriend)
	v.Friend = isFriend
	if p.LastSeenTo == "everyone" || (isFriend && p.LastSeenTo == "friends") {
		v.LastSeen = p.LastSeenMS
	}
	if isFriend {
		v.Note = f.Note
	}
	return v
}

// viewOf returns p as viewer sees it.
func (s *Service) viewOf(ctx context.Context, viewer int64, p Profile) (View, error) {
	if p.ID == viewer {
		return view(p, true), nil
	}
	f, ok, err := s.friendship(ctx, viewer, p.ID)
	if err != nil {
		return View{}, err
	}
	return friendView(p, f, ok), nil
}

// friendship reads (self, friend); ok is false when there is no row.
func (s *Service) friendship(ctx context.Context, self, friend int64) (Friendship, bool, error) {
	f, err := s.store.Friendship(ctx, self, friend)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return Friendship{}, false, nil
	case err != nil:
		return Friendship{}, false, fmt.Errorf("get friendship %d->%d: %w", self, friend, err)
	}
	return f, true, nil
}

// profile reads a live user, ErrUserNotFound otherwise.
func (s *Service) profile(ctx context.Context, id int64) (Profile, error) {
	ps, err := s.store.Profiles(ctx, []int64{id})
	if err != nil {
		return Profile{}, fmt.Errorf("get user %d: %w", id, err)
	}
	if len(ps) == 0 || ps[0].Deleted {
		return Profile{}, ErrUserNotFound
	}
	return ps[0], nil
}

// profiles reads users by id into a map, leaving out unknown and deleted.
func (s *Service) profiles(ctx context.Context, ids []int64) (map[int64]Profile, error) {
	out := make(map[int64]Profile, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	ps, err := s.store.Profiles(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("get %d users: %w", len(ids), err)
	}
	for _, p := range ps {
		if !p.Deleted {
			out[p.ID] = p
		}
	}
	return out, nil
}

// User returns the user id as viewer sees them.
func (s *Service) User(ctx context.Context, viewer, id int64) (View, error) {
	p, err := s.profile(ctx, id)
	if err != nil {
		return View{}, err
	}
	v, err := s.viewOf(ctx, viewer, p)
	if err != nil || viewer == id {
		return v, err
	}
	return s.silenceOne(ctx, viewer, v)
}

// SearchUsers finds users by exact email or by name (search.Index rules),
// best first, as viewer sees them. Deleted users are left out.
func (s *Service) SearchUsers(ctx context.Context, viewer int64, q string, limit int, token string) ([]View, string, error) {
	page, err := s.index.Search(ctx, search.KindUser, q, limit, token)
	if err != nil {
		return nil, "", paging.SearchError(err)
	}
	ps, err := s.profiles(ctx, page.IDs)
	if err != nil {
		return nil, "", err
	}
	out := make([]View, 0, len(page.IDs))
	for _, id := range page.IDs {
		p, ok := ps[id]
		if !ok {
			continue
		}
		v, err := s.viewOf(ctx, viewer, p)
		if err != nil {
			return nil, "", err
		}
		out = append(out, v)
	}
	if err := s.silenceFor(ctx, viewer, others(out, viewer)); err != nil {
		return nil, "", err
	}
	return out, page.Next, nil
}

// RequestResult says what Request did.
type RequestResult string

// Results of Request.
const (
	Requested RequestResult = "pending"  // a request waits for the other user
	Accepted  RequestResult = "accepted" // it crossed theirs: now friends
)

// Request sends a friend request from me to to (see the package comment
// for the rules).
func (s *Service) Request(ctx context.Context, me, to int64, note, message string) (RequestResult, error) {
	note, err := textfield.Check("note", note, MaxNoteRunes, false)
	if err != nil {
		return "", err
	}
	if message, err = textfield.Check("message", message, MaxMessageRunes, false); err != nil {
		return "", err
	}
	if me == to {
		return "", ErrSelf
	}
	if _, err := s.profile(ctx, to); err != nil {
		return "", err
	}
	mine, haveMine, err := s.friendship(ctx, me, to)
	if err != nil {
		return "", err
	}
	theirs, haveTheirs, err := s.friendship(ctx, to, me)
	if err != nil {
		return "", err
	}
	switch {
	case haveMine && mine.Blacklisted:
		return "", ErrYouBlacklisted
	case haveTheirs && theirs.Blacklisted:
		return "", ErrBlocked
	case haveMine && mine.friends():
		return "", ErrAlreadyFriends
	case haveTheirs && theirs.pending():
		if err := s.accept(ctx, to, me, note); err != nil {
			return "", err
		}
		return Accepted, nil
	}
	if _, err := s.store.PutFriendship(ctx, Friendship{SelfID: me, FriendID: to, Note: note, Message: message}); err != nil {
		return "", fmt.Errorf("friend request %d->%d: %w", me, to, err)
	}
	return Requested, nil
}

// Accept accepts from's pending request to me, with my note for them.
func (s *Service) Accept(ctx context.Context, me, from int64, note string) error {
	note, err := textfield.Check("note", note, MaxNoteRunes, false)
	if err != nil {
		return err
	}
	if me == from {
		return ErrSelf
	}
	return s.accept(ctx, from, me, note)
}

func (s *Service) accept(ctx context.Context, requester, accepter int64, note string) error {
	err := s.store.AcceptFriend(ctx, requester, accepter, note)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return ErrRequestNotFound
	case errors.Is(err, errs.ErrPrecondition):
		f, ok, ferr := s.friendship(ctx, requester, accepter)
		if ferr == nil && ok && f.friends() {
			return ErrAlreadyFriends
		}
		return ErrRequestNotFound
	case err != nil:
		return fmt.Errorf("accept friend %d->%d: %w", requester, accepter, err)
	}
	s.events.Publish(ctx, relation.Event{Kind: relation.FriendAdded, UserID: accepter, PeerUserID: requester, At: s.now()})
	return nil
}

// Reject turns down from's pending request to me and, with blacklist,
// blacklists them too.
func (s *Service) Reject(ctx context.Context, me, from int64, blacklist bool) error {
	if me == from {
		return ErrSelf
	}
	f, ok, err := s.friendship(ctx, from, me)
	if err != nil {
		return err
	}
	if !ok || !f.pending() {
		return ErrRequestNotFound
	}
	if _, err := s.store.UpdateFriendship(ctx, from, me, FriendshipUpdate{Deleted: ptr(true)}); err != nil {
		return fmt.Errorf("reject friend request %d->%d: %w", from, me, err)
	}
	if blacklist {
		return s.Block(ctx, me, from)
	}
	return nil
}

// Requests lists the pending requests to me (incoming) and from me
// (outgoing). dir is "incoming", "outgoing" or "" for both: incoming first,
// then outgoing, across pages.
func (s *Service) Requests(ctx context.Context, me int64, dir string, limit int, token string) ([]PendingRequest, string, error) {
	var phases []string
	switch dir {
	case "":
		phases = []string{"incoming", "outgoing"}
	case "incoming", "outgoing":
		phases = []string{dir}
	default:
		return nil, "", errs.Invalid("direction", `one of "incoming", "outgoing" or empty for both`)
	}
	phase, inner := phases[0], ""
	if token != "" {
		p, rest, ok := strings.Cut(token, ".")
		if !ok || !slices.Contains(phases, p) {
			return nil, "", paging.ErrBadPageToken
		}
		phase, inner = p, rest
	}
	var rows []Friendship
	for {
		page, next, err := s.store.ListFriendships(ctx, Filter{
			UserID: me, Incoming: phase == "incoming",
			Accepted: ptr(false), Deleted: ptr(false), Blacklisted: ptr(false),
		}, limit-len(rows), inner)
		if err != nil {
			return nil, "", paging.ListError("list friend requests", err)
		}
		rows = append(rows, page...)
		if next != "" {
			return s.pendingViews(ctx, me, rows, phase+"."+next)
		}
		if phase == "outgoing" || len(phases) == 1 {
			return s.pendingViews(ctx, me, rows, "")
		}
		phase, inner = "outgoing", ""
		if len(rows) >= limit {
			return s.pendingViews(ctx, me, rows, "outgoing.")
		}
	}
}

// PendingRequest is a request to (Incoming) or from me.
type PendingRequest struct {
	Incoming  bool
	User      View   // the other user, as I see them
	Message   string // the greeting
	Note      string // my note for them, on outgoing requests
	CreatedAt time.Time
}

func (s *Service) pendingViews(ctx context.Context, me int64, rows []Friendship, next string) ([]PendingRequest, string, error) {
	ids := make([]int64, 0, len(rows))
	for _, f := range rows {
		ids = append(ids, other(f, me))
	}
	ps, err := s.profiles(ctx, ids)
	if err != nil {
		return nil, "", err
	}
	out := make([]PendingRequest, 0, len(rows))
	for _, f := range rows {
		p, ok := ps[other(f, me)]
		if !ok {
			continue
		}
		r := PendingRequest{Incoming: f.FriendID == me, User: view(p, false), Message: f.Message, CreatedAt: f.UpdatedAt}
		if !r.Incoming {
			r.Note = f.Note
		}
		out = append(out, r)
	}
	return out, next, nil
}

func other(f Friendship, me int64) int64 {
	if f.SelfID == me {
		return f.FriendID
	}
	return f.SelfID
}

// Friend is one of my friends.
type Friend struct {
	User        View
	Blacklisted bool      // I have blacklisted them
	Since       time.Time // when the friendship was last changed
}

// Friends lists my friends by id.
func (s *Service) Friends(ctx context.Context, me int64, limit int, token string) ([]Friend, string, error) {
	infos, next, err := s.store.FriendsInfo(ctx, me, limit, token)
	if err != nil {
		return nil, "", paging.ListError("list friends", err)
	}
	out := make([]Friend, 0, len(infos))
	for _, fi := range infos {
		if fi.Friend.Deleted {
			continue
		}
		out = append(out, Friend{User: friendView(fi.Friend, fi.Friendship, true), Blacklisted: fi.Friendship.Blacklisted, Since: fi.Friendship.UpdatedAt})
	}
	users := make([]*View, len(out))
	for i := range out {
		users[i] = &out[i].User
	}
	if err := s.silenceFor(ctx, me, users); err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// SetNote sets my note for my friend.
func (s *Service) SetNote(ctx context.Context, me, friend int64, note *string) (View, error) {
	if note == nil {
		return View{}, errs.Required("note")
	}
	n, err := textfield.Check("note", *note, MaxNoteRunes, false)
	if err != nil {
		return View{}, err
	}
	f, ok, err := s.friendship(ctx, me, friend)
	if err != nil {
		return View{}, err
	}
	if !ok || !f.friends() {
		return View{}, ErrNotFriends
	}
	p, err := s.profile(ctx, friend)
	if err != nil {
		return View{}, err
	}
	if f, err = s.store.UpdateFriendship(ctx, me, friend, FriendshipUpdate{Note: &n}); err != nil {
		return View{}, fmt.Errorf("set note %d->%d: %w", me, friend, err)
	}
	return s.silenceOne(ctx, me, friendView(p, f, true))
}

// Unfriend ends the friendship both ways.
func (s *Service) Unfriend(ctx context.Context, me, friend int64) error {
	if me == friend {
		return ErrSelf
	}
	f, ok, err := s.friendship(ctx, me, friend)
	if err != nil {
		return err
	}
	if !ok || !f.friends() {
		return ErrNotFriends
	}
	if err := s.store.DeleteFriend(ctx, me, friend); err != nil {
		return fmt.Errorf("delete friend %d<->%d: %w", me, friend, err)
	}
	s.events.Publish(ctx, relation.Event{Kind: relation.FriendRemoved, UserID: me, PeerUserID: friend, At: s.now()})
	return nil
}

// Block puts user on my blacklist (idempotent).
func (s *Service) Block(ctx context.Context, me, user int64) error {
	if me == user {
		return ErrSelf
	}
	if _, err := s.profile(ctx, user); err != nil {
		return err
	}
	mine, ok, err := s.friendship(ctx, me, user)
	if err != nil {
		return err
	}
	if ok && mine.Blacklisted {
		return nil
	}
	switch {
	case !ok:
		_, err = s.store.PutFriendship(ctx, Friendship{SelfID: me, FriendID: user, Blacklisted: true, Deleted: true})
	case mine.pending():
		// Withdraw my request: a blacklisted user cannot accept it.
		_, err = s.store.UpdateFriendship(ctx, me, user, FriendshipUpdate{Blacklisted: ptr(true), Deleted: ptr(true)})
	default:
		_, err = s.store.UpdateFriendship(ctx, me, user, FriendshipUpdate{Blacklisted: ptr(true)})
	}
	if err != nil {
		return fmt.Errorf("blacklist %d->%d: %w", me, user, err)
	}
	theirs, ok, err := s.friendship(ctx, user, me)
	if err != nil {
		return err
	}
	if ok && theirs.pending() {
		if _, err := s.store.UpdateFriendship(ctx, user, me, FriendshipUpdate{Deleted: ptr(true)}); err != nil {
			return fmt.Errorf("reject request of blacklisted %d->%d: %w", user, me, err)
		}
	}
	s.events.Publish(ctx, relation.Event{Kind: relation.Blocked, UserID: me, PeerUserID: user, At: s.now()})
	return nil
}

// Unblock takes user off my blacklist.
func (s *Service) Unblock(ctx context.Context, me, user int64) error {
	if me == user {
		return ErrSelf
	}
	mine, ok, err := s.friendship(ctx, me, user)
	if err != nil {
		return err
	}
	if !ok || !mine.Blacklisted {
		return ErrNotBlacklisted
	}
	if _, err := s.store.UpdateFriendship(ctx, me, user, FriendshipUpdate{Blacklisted: ptr(false)}); err != nil {
		return fmt.Errorf("unblacklist %d->%d: %w", me, user, err)
	}
	s.events.Publish(ctx, relation.Event{Kind: relation.Unblocked, UserID: me, PeerUserID: user, At: s.now()})
	return nil
}

// Blacklist lists the users I blacklisted, by id.
func (s *Service) Blacklist(ctx context.Context, me int64, limit int, token string) ([]View, string, error) {
	rows, next, err := s.store.ListFriendships(ctx, Filter{UserID: me, Blacklisted: ptr(true)}, limit, token)
	if err != nil {
		return nil, "", paging.ListError("list blacklist", err)
	}
	ids := make([]int64, 0, len(rows))
	for _, f := range rows {
		ids = append(ids, f.FriendID)
	}
	ps, err := s.profiles(ctx, ids)
	if err != nil {
		return nil, "", err
	}
	out := make([]View, 0, len(rows))
	for _, f := range rows {
		if p, ok := ps[f.FriendID]; ok {
			out = append(out, friendView(p, f, true))
		}
	}
	if err := s.silenceFor(ctx, me, others(out, me)); err != nil {
		return nil, "", err
	}
	return out, next, nil
}

func ptr[T any](v T) *T { return &v }
