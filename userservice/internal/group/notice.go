package group

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/privateim/privateim/foundation/errs"
)

// Every change of a group is a system message in the group's conversation
// g:<id>, of kind "group_event" from sender 0, with its own seq, so catch-up
// and history show it in order with chat (docs/websocket.md, "Group
// events"). The DataService stores the change and its message together
// (Store.ChangeGroup); then the messageservice delivers the message to the
// members' devices (Deliverer). When the delivery fails the message is
// still stored: devices get it on catch-up or sync.

// Deliverer hands stored messages of a group's conversation to the devices
// of its members and of also (the messageservice's DeliverGroup), and
// stored messages of a user's own conversation sys:<user> to the user's
// devices (DeliverUser).
type Deliverer interface {
	DeliverGroup(ctx context.Context, groupID int64, seqs, also []int64) error
	DeliverUser(ctx context.Context, userID int64, seqs []int64) error
}

// NoDelivery is the Deliverer when no messageservice is configured:
// devices get the messages on catch-up and sync.
type NoDelivery struct{}

// DeliverGroup does nothing.
func (NoDelivery) DeliverGroup(context.Context, int64, []int64, []int64) error { return nil }

// DeliverUser does nothing.
func (NoDelivery) DeliverUser(context.Context, int64, []int64) error { return nil }

// The events of group_event messages.
const (
	EventCreated              = "created"
	EventMemberJoined         = "member_joined"
	EventMemberLeft           = "member_left"
	EventMemberRemoved        = "member_removed"
	EventMemberBanned         = "member_banned"
	EventMemberUnbanned       = "member_unbanned"
	EventRoleChanged          = "role_changed"
	EventMemberMuted          = "member_muted"
	EventMemberUnmuted        = "member_unmuted"
	EventMuteAll              = "mute_all"
	EventRenamed              = "renamed"
	EventAvatarChanged        = "avatar_changed"
	EventAnnouncement         = "announcement"
	EventOwnershipTransferred = "ownership_transferred"
	EventDismissed            = "dismissed"
	EventPolicyChanged        = "policy_changed"
)

// NoticeKind is the kind of every group system message (the stored kind
// and the content's "kind").
const NoticeKind = "group_event"

// Notice is the system message of one change: its idempotency key and
// its content.
type Notice struct {
	ClientMsgID string
	Content     []byte
}

// NewNotice builds the notice of event by actor about users, with the
// event's own fields (string ids, RFC 3339 times) added to the content:
// {"kind":"group_event","event":...,"actor":"<id>","users":["<id>",...],...}.
// Its client_msg_id is fresh: one per change.
func NewNotice(event string, actor int64, users []int64, fields map[string]any) Notice {
	c := make(map[string]any, len(fields)+4)
	for k, v := range fields {
		c[k] = v
	}
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = strconv.FormatInt(u, 10)
	}
	c["kind"], c["event"], c["actor"], c["users"] = NoticeKind, event, strconv.FormatInt(actor, 10), ids
	b, err := json.Marshal(c)
	if err != nil { // fields are strings, numbers and bools
		panic("group: notice content: " + err.Error())
	}
	return Notice{ClientMsgID: "ge:" + rand.Text(), Content: b}
}

// Change is one group change with its notice (Store.ChangeGroup): applied
// in one transaction after the preconditions are checked under the group's
// lock; none of it when one fails.
type Change struct {
	GroupID int64
	Group   *Update // nil: the group's own fields unchanged
	Members []MemberChange
	// Preconditions: ActorID has at least ActorMinRole ("" no check); at
	// most MaxAdmins admins and MaxMembers members after (0 no check).
	ActorID      int64
	ActorMinRole Role
	MaxAdmins    int
	MaxMembers   int
	Notice       Notice
}

// MemberChange is one member's part of a Change: Add (join, or rejoin
// with Role) or Update of a member that has not left; ExpectRole ("" no
// check) must be their role at the time. Unban instead lifts the user's
// ban (errs.ErrPrecondition when there is none).
type MemberChange struct {
	UserID     int64
	Add        bool
	Role       Role
	Update     MemberUpdate
	ExpectRole Role
	Unban      bool
}

// ChangeResult is what a change stored; NoticeSeq is 0 while the notice's
// append is pending (the DataService retries it).
type ChangeResult struct {
	Group     Group
	Members   []Member
	NoticeSeq int64
}

// Errors of changes refused by a precondition (the Store returns them).
var (
	ErrAdminLimit = errs.New(errs.KindConflict, "admin_limit", "the group has as many admins as it may have")
	ErrChanged    = errs.New(errs.KindConflict, "group_changed", "the group changed meanwhile; look again")
)

// apply runs c and delivers its notice to the members and also. It is the
// one path of every change; its errors are the Store's, with ErrFull and
// ErrAdminLimit for the caps and ErrChanged for other preconditions.
func (s *Service) apply(ctx context.Context, c Change, also []int64) (ChangeResult, error) {
	res, err := s.store.ChangeGroup(ctx, c)
	switch {
	case errors.Is(err, ErrFull), errors.Is(err, ErrAdminLimit):
		return ChangeResult{}, err
	case errors.Is(err, errs.ErrPrecondition):
		return ChangeResult{}, ErrChanged
	case errors.Is(err, errs.ErrNotFound):
		return ChangeResult{}, ErrGroupNotFound
	case err != nil:
		return ChangeResult{}, fmt.Errorf("change group %d: %w", c.GroupID, err)
	}
	s.deliver(ctx, c.GroupID, res.NoticeSeq, also)
	return res, nil
}

// deliverUser hands a stored notice of user's sys conversation to their
// devices; a failure is logged, not returned, as in deliver.
func (s *Service) deliverUser(ctx context.Context, user, seq int64) {
	if seq == 0 {
		s.log.WarnContext(ctx, "join request notice append pending; the user gets it on catch-up", "user", user)
		return
	}
	if err := s.deliverer.DeliverUser(ctx, user, []int64{seq}); err != nil {
		s.log.WarnContext(ctx, "deliver join request notice", "user", user, "seq", seq, "err", err)
	}
}

// deliver hands a stored notice to the devices; a failure is logged, not
// returned: the notice is stored and reaches them on catch-up.
func (s *Service) deliver(ctx context.Context, groupID, seq int64, also []int64) {
	if seq == 0 {
		s.log.WarnContext(ctx, "group notice append pending; members get it on catch-up", "group", groupID)
		return
	}
	if err := s.deliverer.DeliverGroup(ctx, groupID, []int64{seq}, also); err != nil {
		s.log.WarnContext(ctx, "deliver group notice", "group", groupID, "seq", seq, "err", err)
	}
}

// A join request's or invite's user hears of each change of it in their
// own conversation sys:<user id>, on every device (docs/websocket.md,
// "Join requests and invites"): a system message of kind "group_request"
// the DataService stores with the change (Store.PutJoinRequest,
// AnswerJoinRequest), which the messageservice then delivers
// (Deliverer.DeliverUser). An accepted request or invite is the
// member_joined event of the group's conversation, which the new member's
// devices get as a member.

// RequestNoticeKind is the kind of the notices about join requests and
// invites (the stored kind and the content's "kind").
const RequestNoticeKind = "group_request"

// The events of group_request notices.
const (
	EventRequestSent            = "request_sent"
	EventRequestRejected        = "request_rejected"
	EventRequestCancelled       = "request_cancelled"
	EventInvited                = "invited"
	EventInviteRejected         = "invite_rejected"
	EventInviteCancelled        = "invite_cancelled"
	EventInviteAwaitingApproval = "invite_awaiting_approval"
)

// NewRequestNotice builds the notice to r's user of event by actor about
// their request or invite to g: {"kind":"group_request","event":...,
// "group":"<id>","group_name":...,"actor":"<id>","user":"<id>"} and, for
// an invite, "inviter":"<id>". Its client_msg_id is fresh: one per change.
func NewRequestNotice(event string, actor int64, g Group, r JoinRequest) Notice {
	c := map[string]any{
		"kind": RequestNoticeKind, "event": event, "group": strconv.FormatInt(g.ID, 10), "group_name": g.Name,
		"actor": strconv.FormatInt(actor, 10), "user": strconv.FormatInt(r.UserID, 10),
	}
	if r.Kind == KindInvite {
		c["inviter"] = strconv.FormatInt(r.InviterID, 10)
	}
	b, err := json.Marshal(c)
	if err != nil { // strings only
		panic("group: request notice content: " + err.Error())
	}
	return Notice{ClientMsgID: "gr:" + rand.Text(), Content: b}
}
