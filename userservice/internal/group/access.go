// Who may join a group and what a new member reads (issue 13, access).
//
// Rules (the OpenAPI document repeats them for clients):
//
//   - join_policy: "open" (POST join makes a member at once), "approval"
//     (the default: POST join files a request an owner or admin accepts or
//     rejects; 202) or "invite" (only a member's invite; a join is 403
//     "invite_only"). invite_needs_approval: an invite by a plain member,
//     once the invitee accepts, waits for an owner or admin as a request.
//     Group search lists open and approval groups, never invite ones; a QR
//     code names the group id, so joining by it is the same POST join.
//   - history: "joined" (the default: a member reads from the seq of their
//     latest join on; the messageservice clamps catch-up, sync and receipts
//     there) or "all".
//   - join_policy, history and invite_needs_approval are set by the owner
//     or an admin (403 "not_admin").
//   - Requests and invites: one pending per (group, user). A request is
//     answered (accepted, rejected) by the owner or an admin and cancelled
//     by its user; an invite is answered by the invitee and cancelled by
//     the inviter or an admin. Answering a request that is not pending is
//     404 "request_not_found".
//   - Removing a member bans them unless ban=false; a banned user cannot
//     join, request or be invited (403 "banned") until an owner or admin
//     lifts the ban.
package group

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/userservice/internal/paging"
	"github.com/privateim/privateim/userservice/internal/relation"
)

// JoinPolicy says who may join.
type JoinPolicy string

// Join policies.
const (
	JoinOpen     JoinPolicy = "open"
	JoinApproval JoinPolicy = "approval"
	JoinInvite   JoinPolicy = "invite"
)

// History says what a new member reads.
type History string

// History settings.
const (
	HistoryJoined History = "joined"
	HistoryAll    History = "all"
)

// JoinKind is a request (the user asks) or an invite (a member asks the
// user).
type JoinKind string

// Join kinds.
const (
	KindRequest JoinKind = "request"
	KindInvite  JoinKind = "invite"
)

// JoinState is where a request or invite stands.
type JoinState string

// Join states.
const (
	StatePending   JoinState = "pending"
	StateAccepted  JoinState = "accepted"
	StateRejected  JoinState = "rejected"
	StateCancelled JoinState = "cancelled"
)

// JoinRequest is a pending or answered request or invite.
type JoinRequest struct {
	GroupID   int64
	UserID    int64
	Kind      JoinKind
	InviterID int64
	State     JoinState
	CreatedAt time.Time
	UpdatedAt time.Time
	// NoticeSeq is the seq of the change's notice in the user's sys
	// conversation (0 while its append is pending), in answers of
	// PutJoinRequest and AnswerJoinRequest.
	NoticeSeq int64
}

// Ban keeps a user out of a group.
type Ban struct {
	GroupID   int64
	UserID    int64
	BannedBy  int64
	CreatedAt time.Time
}

// AccessStore is what access needs of storage beyond Store's basics.
type AccessStore interface {
	UserExists(ctx context.Context, id int64) (bool, error)
	// JoinGroup makes userID a MEMBER with the group locked:
	// errs.ErrPrecondition when dismissed, banned, full or (fromRequest)
	// no pending request; errs.ErrExists for a member.
	// notice is the change's system message (seq: its seq, 0 while pending).
	JoinGroup(ctx context.Context, groupID, userID int64, maxMembers int, fromRequest bool, notice Notice) (m Member, seq int64, err error)
	// RemoveMember makes a member leave, banned by banBy unless 0;
	// errs.ErrNotFound for no member.
	RemoveMember(ctx context.Context, groupID, userID, banBy int64, notice Notice) (seq int64, err error)
	Ban(ctx context.Context, groupID, userID int64) (Ban, error) // errs.ErrNotFound
	Bans(ctx context.Context, groupID int64, limit int, token string) ([]Ban, string, error)
	// PutJoinRequest stores a pending request or invite with notice, the
	// user's system message about it (NewRequestNotice): errs.ErrExists
	// when one is pending, errs.ErrPrecondition when banned.
	PutJoinRequest(ctx context.Context, r JoinRequest, notice Notice) (JoinRequest, error)
	JoinRequest(ctx context.Context, groupID, userID int64) (JoinRequest, error) // errs.ErrNotFound
	// AnswerJoinRequest moves a pending one to state (and kind when not
	// "") with notice, the user's system message about it;
	// errs.ErrPrecondition (and no notice) when it is no longer pending.
	AnswerJoinRequest(ctx context.Context, groupID, userID int64, state JoinState, kind JoinKind, notice Notice) (JoinRequest, error)
	// JoinRequests lists pending ones of a group (groupID set) or of a user.
	JoinRequests(ctx context.Context, groupID, userID int64, limit int, token string) ([]JoinRequest, string, error)
}

// Errors of access.
var (
	ErrNotAdmin          = errs.New(errs.KindForbidden, "not_admin", "only the group's owner or an admin may do this")
	ErrInviteOnly        = errs.New(errs.KindForbidden, "invite_only", "this group is joined by invite only")
	ErrBanned            = errs.New(errs.KindForbidden, "banned", "you are banned from this group")
	ErrUserBanned        = &errs.Error{Kind: errs.KindForbidden, Code: "banned", Field: "user_id", Message: "this user is banned from the group"}
	ErrRequestPending    = errs.New(errs.KindConflict, "request_pending", "a join request or invite is pending already")
	ErrRequestNotFound   = &errs.Error{Kind: errs.KindNotFound, Code: "request_not_found", Field: "user_id", Message: "no pending join request or invite"}
	ErrNotYours          = errs.New(errs.KindForbidden, "not_yours", "this request or invite is not yours to answer")
	ErrBanNotFound       = &errs.Error{Kind: errs.KindNotFound, Code: "ban_not_found", Field: "user_id", Message: "this user is not banned from the group"}
	ErrUserNotFound      = &errs.Error{Kind: errs.KindNotFound, Code: "user_not_found", Field: "user_id", Message: "no such user"}
	ErrAlreadyMemberUser = &errs.Error{Kind: errs.KindConflict, Code: "already_member", Field: "user_id", Message: "this user is a member already"}
)

// Access is a change of a group's access settings; nil fields stay.
type Access struct {
	JoinPolicy          *string
	History             *string
	InviteNeedsApproval *bool
}

// SetAccess changes the access settings of a group I own or administer.
func (s *Service) SetAccess(ctx context.Context, me, id int64, a Access) (Group, error) {
	var u Update
	if a.JoinPolicy != nil {
		p := JoinPolicy(*a.JoinPolicy)
		if p != JoinOpen && p != JoinApproval && p != JoinInvite {
			return Group{}, errs.Invalid("join_policy", "must be open, approval or invite")
		}
		u.JoinPolicy = &p
	}
	if a.History != nil {
		h := History(*a.History)
		if h != HistoryJoined && h != HistoryAll {
			return Group{}, errs.Invalid("history", "must be joined or all")
		}
		u.History = &h
	}
	u.InviteNeedsApproval = a.InviteNeedsApproval
	g, err := s.managed(ctx, me, id)
	if err != nil {
		return Group{}, err
	}
	if u.JoinPolicy == nil && u.History == nil && u.InviteNeedsApproval == nil {
		return g, nil
	}
	fields := map[string]any{}
	if u.JoinPolicy != nil {
		fields["join_policy"] = string(*u.JoinPolicy)
	}
	if u.History != nil {
		fields["history"] = string(*u.History)
	}
	if u.InviteNeedsApproval != nil {
		fields["invite_needs_approval"] = *u.InviteNeedsApproval
	}
	res, err := s.apply(ctx, Change{
		GroupID: id, Group: &u, ActorID: me, ActorMinRole: MinRole(ActSetPolicy),
		Notice: NewNotice(EventPolicyChanged, me, nil, fields),
	}, nil)
	if err != nil {
		return Group{}, err
	}
	// The message nodes reread the group (a history change moves where
	// its members read from) on every node.
	s.events.Publish(ctx, relation.Event{Kind: relation.GroupChanged, UserID: me, GroupID: id, At: s.now()})
	return res.Group, nil
}

// managed reads a live group I own or administer.
func (s *Service) managed(ctx context.Context, me, id int64) (Group, error) {
	g, err := s.live(ctx, id, ErrDismissed)
	if err != nil {
		return Group{}, err
	}
	if ok, err := s.manages(ctx, g, me); err != nil {
		return Group{}, err
	} else if !ok {
		return Group{}, ErrNotAdmin
	}
	return g, nil
}

// manages reports whether user is g's owner or an admin of it.
func (s *Service) manages(ctx context.Context, g Group, user int64) (bool, error) {
	if g.OwnerID == user {
		return true, nil
	}
	m, ok, err := s.member(ctx, g.ID, user)
	if err != nil {
		return false, err
	}
	return ok && (m.Role == RoleAdmin || m.Role == RoleOwner), nil
}

// JoinResult is a join: Group when I am a member now, Request when my
// request waits for an answer.
type JoinResult struct {
	Group   Group
	Request *JoinRequest
}

// Join makes me a member of an open group, or files my request to join an
// approval group.
func (s *Service) Join(ctx context.Context, me, id int64) (JoinResult, error) {
	g, err := s.live(ctx, id, ErrDismissed)
	if err != nil {
		return JoinResult{}, err
	}
	if _, ok, err := s.member(ctx, id, me); err != nil {
		return JoinResult{}, err
	} else if ok {
		return JoinResult{}, ErrAlreadyMember
	}
	if err := s.notBanned(ctx, id, me, ErrBanned); err != nil {
		return JoinResult{}, err
	}
	switch g.JoinPolicy {
	case JoinOpen:
		g, err := s.join(ctx, me, id, me, false)
		return JoinResult{Group: g}, err
	case JoinInvite:
		return JoinResult{}, ErrInviteOnly
	}
	if g.MemberCount >= int64(s.limit) {
		return JoinResult{}, ErrFull
	}
	r, err := s.putRequest(ctx, JoinRequest{GroupID: id, UserID: me, Kind: KindRequest}, ErrBanned,
		NewRequestNotice(EventRequestSent, me, g, JoinRequest{UserID: me, Kind: KindRequest}))
	if err != nil {
		return JoinResult{}, err
	}
	return JoinResult{Request: &r}, nil
}

// notBanned answers banned when user is on the group's ban list.
func (s *Service) notBanned(ctx context.Context, id, user int64, banned error) error {
	_, err := s.store.Ban(ctx, id, user)
	switch {
	case err == nil:
		return banned
	case errors.Is(err, errs.ErrNotFound):
		return nil
	}
	return fmt.Errorf("ban of %d in group %d: %w", user, id, err)
}

// putRequest files r with its user's notice n and delivers n to the
// user's devices.
func (s *Service) putRequest(ctx context.Context, r JoinRequest, banned error, n Notice) (JoinRequest, error) {
	r, err := s.store.PutJoinRequest(ctx, r, n)
	switch {
	case errors.Is(err, errs.ErrExists):
		return JoinRequest{}, ErrRequestPending
	case errors.Is(err, errs.ErrPrecondition):
		return JoinRequest{}, banned // banned meanwhile
	case errors.Is(err, errs.ErrNotFound):
		return JoinRequest{}, ErrGroupNotFound
	case err != nil:
		return JoinRequest{}, fmt.Errorf("file join request of %d to group %d: %w", r.UserID, r.GroupID, err)
	}
	s.deliverUser(ctx, r.UserID, r.NoticeSeq)
	return r, nil
}

// join stores user's membership with its member_joined notice (actor: who
// let them in, the user themselves on an open join) and announces it. The
// DataService refuses a dismissed or full group, a banned user and
// (fromRequest) a request no longer pending, all under the group's lock;
// which one is read back.
func (s *Service) join(ctx context.Context, actor, id, user int64, fromRequest bool) (Group, error) {
	_, seq, err := s.store.JoinGroup(ctx, id, user, s.limit, fromRequest, NewNotice(EventMemberJoined, actor, []int64{user}, nil))
	switch {
	case errors.Is(err, errs.ErrExists):
		return Group{}, ErrAlreadyMember
	case errors.Is(err, errs.ErrNotFound):
		return Group{}, ErrGroupNotFound
	case errors.Is(err, errs.ErrPrecondition):
		return Group{}, s.whyNotJoined(ctx, id, user, fromRequest)
	case err != nil:
		return Group{}, fmt.Errorf("join %d to group %d: %w", user, id, err)
	}
	s.events.Publish(ctx, relation.Event{Kind: relation.GroupMemberJoined, UserID: user, GroupID: id, At: s.now()})
	s.deliver(ctx, id, seq, nil)
	g, err := s.store.Group(ctx, id)
	if err != nil {
		return Group{}, fmt.Errorf("get group %d: %w", id, err)
	}
	return g, nil
}

func (s *Service) whyNotJoined(ctx context.Context, id, user int64, fromRequest bool) error {
	g, err := s.live(ctx, id, ErrDismissed)
	if err != nil {
		return err
	}
	if err := s.notBanned(ctx, id, user, ErrUserBanned); err != nil {
		return err
	}
	if fromRequest {
		if r, err := s.store.JoinRequest(ctx, id, user); err != nil || r.State != StatePending {
			return ErrRequestNotFound
		}
	}
	if g.MemberCount >= int64(s.limit) {
		return ErrFull
	}
	return errs.New(errs.KindConflict, "join_conflict", "the group changed meanwhile; look again")
}

// Invite asks user to join a group I am a member of.
func (s *Service) Invite(ctx context.Context, me, id, user int64) (JoinRequest, error) {
	if user == 0 {
		return JoinRequest{}, errs.Required("user_id")
	}
	g, err := s.live(ctx, id, ErrDismissed)
	if err != nil {
		return JoinRequest{}, err
	}
	if _, ok, err := s.member(ctx, id, me); err != nil {
		return JoinRequest{}, err
	} else if !ok {
		return JoinRequest{}, ErrNotMember
	}
	if ok, err := s.store.UserExists(ctx, user); err != nil {
		return JoinRequest{}, fmt.Errorf("user %d: %w", user, err)
	} else if !ok {
		return JoinRequest{}, ErrUserNotFound
	}
	if _, ok, err := s.member(ctx, id, user); err != nil {
		return JoinRequest{}, err
	} else if ok {
		return JoinRequest{}, ErrAlreadyMemberUser
	}
	if err := s.notBanned(ctx, id, user, ErrUserBanned); err != nil {
		return JoinRequest{}, err
	}
	r := JoinRequest{GroupID: id, UserID: user, Kind: KindInvite, InviterID: me}
	return s.putRequest(ctx, r, ErrUserBanned, NewRequestNotice(EventInvited, me, g, r))
}

// pending reads user's pending request or invite to a live group.
func (s *Service) pending(ctx context.Context, id, user int64) (Group, JoinRequest, error) {
	g, err := s.live(ctx, id, ErrDismissed)
	if err != nil {
		return Group{}, JoinRequest{}, err
	}
	r, err := s.store.JoinRequest(ctx, id, user)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return Group{}, JoinRequest{}, ErrRequestNotFound
	case err != nil:
		return Group{}, JoinRequest{}, fmt.Errorf("join request of %d to group %d: %w", user, id, err)
	case r.State != StatePending:
		return Group{}, JoinRequest{}, ErrRequestNotFound
	}
	return g, r, nil
}

// Accept answers user's pending request (as owner or admin) or my own
// invite (user is me) with yes. An invite that still needs an admin
// becomes a request: Result.Request is set then, Result.Group otherwise.
func (s *Service) Accept(ctx context.Context, me, id, user int64) (JoinResult, error) {
	g, r, err := s.pending(ctx, id, user)
	if err != nil {
		return JoinResult{}, err
	}
	switch r.Kind {
	case KindRequest:
		if ok, err := s.manages(ctx, g, me); err != nil {
			return JoinResult{}, err
		} else if !ok {
			return JoinResult{}, ErrNotAdmin
		}
	case KindInvite:
		if me != user {
			return JoinResult{}, ErrNotYours
		}
		if g.JoinPolicy == JoinInvite && g.InviteNeedsApproval {
			ok, err := s.manages(ctx, g, r.InviterID)
			if err != nil {
				return JoinResult{}, err
			}
			if !ok {
				r, err := s.answer(ctx, g, r, StatePending, KindRequest, me, EventInviteAwaitingApproval)
				if err != nil {
					return JoinResult{}, err
				}
				return JoinResult{Request: &r}, nil
			}
		}
	}
	g, err = s.join(ctx, me, id, user, true)
	if err != nil {
		return JoinResult{}, err
	}
	return JoinResult{Group: g}, nil
}

// answer moves r, pending, to state (and kind) with the user's notice of
// event by actor, and delivers the notice to the user's devices.
func (s *Service) answer(ctx context.Context, g Group, r JoinRequest, state JoinState, kind JoinKind, actor int64, event string) (JoinRequest, error) {
	a, err := s.store.AnswerJoinRequest(ctx, g.ID, r.UserID, state, kind, NewRequestNotice(event, actor, g, r))
	if err != nil {
		return JoinRequest{}, s.answerError(g.ID, r.UserID, err)
	}
	s.deliverUser(ctx, r.UserID, a.NoticeSeq)
	return a, nil
}

func (s *Service) answerError(id, user int64, err error) error {
	if errors.Is(err, errs.ErrPrecondition) || errors.Is(err, errs.ErrNotFound) {
		return ErrRequestNotFound // answered meanwhile
	}
	return fmt.Errorf("answer join request of %d to group %d: %w", user, id, err)
}

// Reject answers user's pending request (as owner or admin) or my own
// invite with no.
func (s *Service) Reject(ctx context.Context, me, id, user int64) (JoinRequest, error) {
	g, r, err := s.pending(ctx, id, user)
	if err != nil {
		return JoinRequest{}, err
	}
	if r.Kind == KindInvite && me != user {
		return JoinRequest{}, ErrNotYours
	}
	if r.Kind == KindRequest {
		if ok, err := s.manages(ctx, g, me); err != nil {
			return JoinRequest{}, err
		} else if !ok {
			return JoinRequest{}, ErrNotAdmin
		}
	}
	event := EventRequestRejected
	if r.Kind == KindInvite {
		event = EventInviteRejected
	}
	return s.answer(ctx, g, r, StateRejected, "", me, event)
}

// Cancel withdraws my request, or an invite I (or, as owner or admin,
// anyone) made.
func (s *Service) Cancel(ctx context.Context, me, id, user int64) error {
	g, r, err := s.pending(ctx, id, user)
	if err != nil {
		return err
	}
	allowed := (r.Kind == KindRequest && me == user) || (r.Kind == KindInvite && me == r.InviterID)
	if !allowed {
		if allowed, err = s.manages(ctx, g, me); err != nil {
			return err
		}
		allowed = allowed && r.Kind == KindInvite
	}
	if !allowed {
		return ErrNotYours
	}
	event := EventRequestCancelled
	if r.Kind == KindInvite {
		event = EventInviteCancelled
	}
	_, err = s.answer(ctx, g, r, StateCancelled, "", me, event)
	return err
}

// Requests lists the pending requests and invites of a group I own or
// administer.
func (s *Service) Requests(ctx context.Context, me, id int64, limit int, token string) ([]JoinRequest, string, error) {
	if _, err := s.managed(ctx, me, id); err != nil {
		return nil, "", err
	}
	rs, next, err := s.store.JoinRequests(ctx, id, 0, limit, token)
	if err != nil {
		return nil, "", paging.ListError("list join requests", err)
	}
	return rs, next, nil
}

// MyRequests lists my pending requests and the invites waiting for me.
func (s *Service) MyRequests(ctx context.Context, me int64, limit int, token string) ([]JoinRequest, string, error) {
	rs, next, err := s.store.JoinRequests(ctx, 0, me, limit, token)
	if err != nil {
		return nil, "", paging.ListError("list my join requests", err)
	}
	return rs, next, nil
}

// Remove takes user out of a group I own or administer and, unless ban is
// false, bans them. Admins remove members only, not other admins.
func (s *Service) Remove(ctx context.Context, me, id, user int64, ban bool) error {
	a := ActRemoveMember
	if ban {
		a = ActBanMember
	}
	g, actor, err := s.Authorize(ctx, me, id, a)
	if err != nil {
		return err
	}
	if user == g.OwnerID {
		return ErrOwnerMustTransfer
	}
	m, ok, err := s.member(ctx, id, user)
	if err != nil {
		return err
	}
	if !ok {
		return ErrMemberNotFound
	}
	if !CanTarget(actor.Role, m.Role) {
		return ErrTargetRole
	}
	var by int64
	event := EventMemberRemoved
	if ban {
		by, event = me, EventMemberBanned
	}
	seq, err := s.store.RemoveMember(ctx, id, user, by, NewNotice(event, me, []int64{user}, nil))
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return ErrMemberNotFound
	case err != nil:
		return fmt.Errorf("remove member %d of group %d: %w", user, id, err)
	}
	s.events.Publish(ctx, relation.Event{Kind: relation.GroupMemberLeft, UserID: user, PeerUserID: me, GroupID: id, At: s.now()})
	// The removed user's devices are told too.
	s.deliver(ctx, id, seq, []int64{user})
	return nil
}

// Bans lists the bans of a group I own or administer.
func (s *Service) Bans(ctx context.Context, me, id int64, limit int, token string) ([]Ban, string, error) {
	if _, err := s.managed(ctx, me, id); err != nil {
		return nil, "", err
	}
	bs, next, err := s.store.Bans(ctx, id, limit, token)
	if err != nil {
		return nil, "", paging.ListError("list bans", err)
	}
	return bs, next, nil
}

// Unban lifts user's ban from a group I own or administer, with a
// member_unbanned notice in the same change (the unbanned user, no longer
// a member, is told too).
func (s *Service) Unban(ctx context.Context, me, id, user int64) error {
	if _, err := s.managed(ctx, me, id); err != nil {
		return err
	}
	if err := s.notBanned(ctx, id, user, ErrUserBanned); err == nil {
		return ErrBanNotFound
	} else if !errors.Is(err, ErrUserBanned) {
		return err
	}
	_, err := s.apply(ctx, Change{
		GroupID: id, Members: []MemberChange{{UserID: user, Unban: true}}, ActorID: me, ActorMinRole: MinRole(ActUnban),
		Notice: NewNotice(EventMemberUnbanned, me, []int64{user}, nil),
	}, []int64{user})
	if errors.Is(err, ErrChanged) {
		// Lifted meanwhile, or I am no longer an admin: read again.
		if _, err := s.managed(ctx, me, id); err != nil {
			return err
		}
		return ErrBanNotFound
	}
	return err
}
