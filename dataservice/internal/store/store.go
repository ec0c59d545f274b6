// Package store declares what the DataService stores and the two interfaces
// its adapters implement: Relational (users, friendships, groups, members,
// subscriptions, followers, reset tokens — MySQL) and Documents (messages,
// cursors, articles — MongoDB or MySQL). It holds the domain types and the
// sentinel errors every adapter returns; the gRPC layer maps those to codes.
//
// It imports only the standard library. Adapters live in store/mysql and
// store/mongo; the conformance suite every adapter runs is in storetest.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Adapters wrap them (fmt.Errorf("...: %w", ErrNotFound));
// callers match with errors.Is. Anything else is an internal failure.
var (
	ErrNotFound     = errors.New("not found")
	ErrExists       = errors.New("already exists")
	ErrPrecondition = errors.New("precondition failed")
	// ErrBadPageToken: Page.After is not a key this list handed out.
	ErrBadPageToken = errors.New("bad page token")
)

// PreconditionError says which state blocked a conditional write. It wraps
// ErrPrecondition and carries a message that is safe to show callers, and,
// when callers act on which state it was, a Refusal naming it.
type PreconditionError struct {
	Reason string
	Code   Refusal
}

// Refusal names a precondition callers tell apart (grpcapi sends it as the
// ErrorInfo reason of protos/data/v1/errors.proto's Refusal); RefusalNone
// for the ones nobody does.
type Refusal int

const (
	RefusalNone Refusal = iota
	RefusalRecalled
	RefusalReacted
	RefusalNotReacted
	RefusalTooManyEmoji
	RefusalAdminLimit
	RefusalMemberLimit
	RefusalTokenUsed
	RefusalTokenExpired
)

// Refuse returns a *PreconditionError with code and a formatted reason.
func Refuse(code Refusal, format string, args ...any) error {
	return &PreconditionError{Reason: fmt.Sprintf(format, args...), Code: code}
}

func (e *PreconditionError) Error() string { return "precondition failed: " + e.Reason }
func (e *PreconditionError) Unwrap() error { return ErrPrecondition }

// Preconditionf returns a *PreconditionError with a formatted reason.
func Preconditionf(format string, args ...any) error {
	return &PreconditionError{Reason: fmt.Sprintf(format, args...)}
}

// ExistsError names what already exists (e.g. "email"). It wraps ErrExists.
type ExistsError struct{ Field string }

func (e *ExistsError) Error() string { return e.Field + " already exists" }
func (e *ExistsError) Unwrap() error { return ErrExists }

// Page asks for one page of a list ordered by a key. Limit is already
// validated (1..1000); After is the key of the previous page's last row,
// "" for the first page. Adapters encode it as they like (an id, "id:seq").
type Page struct {
	Limit int
	After string
}

// Gender values mirror the API's enum.
type Gender int32

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
	CreatedAt    time.Time
	UpdatedAt    time.Time
	TokenVersion int64
	// EmailVerified is set by VerifyEmailPlus and never cleared.
	EmailVerified bool
	Banned        bool
	// LastSeenMS is when the user's last connection closed (unix ms); 0
	// while connected or never seen (SetPresence).
	LastSeenMS         int64
	LastSeenVisibility LastSeenVisibility
}

// LastSeenVisibility values mirror the API's enum.
type LastSeenVisibility int32

// The visibilities; LastSeenFriends is the default of a new user.
const (
	LastSeenEveryone LastSeenVisibility = 1
	LastSeenFriends  LastSeenVisibility = 2
	LastSeenNobody   LastSeenVisibility = 3
)

// Presence is what SetPresence leaves stored.
type Presence struct {
	Applied            bool // false: a later change was recorded before
	LastSeenMS         int64
	LastSeenVisibility LastSeenVisibility
}

// UserUpdate holds the fields to change; nil means unchanged.
type UserUpdate struct {
	Name               *string
	Mobile             *string
	Gender             *Gender
	Avatar             *string
	QRCode             *string
	PasswordHash       *string
	Deleted            *bool
	Banned             *bool
	LastSeenVisibility *LastSeenVisibility
	BumpTokenVersion   bool
}

type ResetToken struct {
	ID        int64
	UserID    int64
	TokenHash string
	ExpiresAt time.Time
	Used      bool
	CreatedAt time.Time
}

// EmailToken is a one-time email-verification token: the shape of a
// ResetToken, kept in its own table so one is never spent as the other.
type EmailToken = ResetToken

type Friendship struct {
	SelfID      int64
	FriendID    int64
	Note        string
	Message     string
	Accepted    bool
	Blacklisted bool
	Deleted     bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

type FriendshipUpdate struct {
	Note        *string
	Message     *string
	Accepted    *bool
	Blacklisted *bool
	Deleted     *bool
}

// Direction of a friendship listing: rows held by the user (Outgoing) or
// rows about the user (Incoming).
type Direction int

const (
	Outgoing Direction = iota + 1
	Incoming
)

type FriendshipFilter struct {
	UserID      int64
	Direction   Direction
	Accepted    *bool
	Blacklisted *bool
	Deleted     *bool
}

type FriendInfo struct {
	Friendship Friendship
	Friend     User
}

type GroupRole int32

const (
	RoleMember GroupRole = 1
	RoleAdmin  GroupRole = 2
	RoleOwner  GroupRole = 3
)

type Group struct {
	ID          int64
	Name        string
	OwnerID     int64
	Avatar      string
	QRCode      string
	Dismissed   bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
	MemberCount int64
	// Moderation: only owner and admins send while MuteAll; the
	// announcement with its author and time (zero until the first).
	MuteAll        bool
	Announcement   string
	AnnouncementBy int64
	AnnouncementAt time.Time
	// Access (0 values are stored as JoinApproval and HistoryJoined).
	JoinPolicy          JoinPolicy
	History             History
	InviteNeedsApproval bool
}

// JoinPolicy says who may join a group; the values mirror the API's enum.
type JoinPolicy int32

const (
	JoinOpen     JoinPolicy = 1
	JoinApproval JoinPolicy = 2
	JoinInvite   JoinPolicy = 3
)

// History says what a new member reads; the values mirror the API's enum.
type History int32

const (
	HistoryJoined History = 1
	HistoryAll    History = 2
)

type GroupUpdate struct {
	Name      *string
	Avatar    *string
	QRCode    *string
	OwnerID   *int64
	Dismissed *bool
	MuteAll   *bool
	// Announcement sets AnnouncementBy and AnnouncementAt with it.
	Announcement   *string
	AnnouncementBy int64
	AnnouncementAt time.Time

	JoinPolicy          *JoinPolicy
	History             *History
	InviteNeedsApproval *bool
}

type GroupMember struct {
	GroupID   int64
	UserID    int64
	Nickname  string
	Role      GroupRole
	Left      bool
	JoinedAt  time.Time
	UpdatedAt time.Time
	// MutedUntil: the member may not send before it; zero: not muted.
	MutedUntil time.Time
	JoinSeq    int64 // the first seq of the group conversation the latest join covers
}

// Membership is a user's membership with its group's history setting.
type Membership struct {
	Member  GroupMember
	History History
}

type GroupMemberUpdate struct {
	Nickname *string
	Role     *GroupRole
	Left     *bool
	// MutedUntil set to the zero time unmutes.
	MutedUntil *time.Time
}

// GroupMemberChange is one member's part of a GroupChange: Add (join or
// rejoin with Role, 0 meaning MEMBER, and Nickname) or Update (a member
// that has not left). ExpectRole, when not 0, must be the member's role.
type GroupMemberChange struct {
	UserID     int64
	Add        bool
	Role       GroupRole
	Nickname   string
	Update     GroupMemberUpdate
	ExpectRole GroupRole
	// FromRequest (Add): the pending join request becomes ACCEPTED; none
	// pending is a *PreconditionError.
	FromRequest bool
	// Ban (with Update): the user is banned by the change's ActorID and a
	// pending request cancelled. Unban (neither Add nor Update): the ban
	// is lifted; none is a *PreconditionError.
	Ban, Unban bool
}

// GroupChange is a change of a group and its members with the system
// message that tells the members (ChangeGroupPlus). Notice has its ID,
// Conversation, ClientMsgID, Kind, Content and CreatedAt set; SenderID 0.
type GroupChange struct {
	GroupID      int64
	Group        *GroupUpdate
	Members      []GroupMemberChange
	ActorID      int64
	ActorMinRole GroupRole // 0: no check
	MaxAdmins    int       // 0: no check
	MaxMembers   int       // 0: no check
	Notice       Message
	// JoinSeq is the join_seq of the members added (the conversation's
	// head + 1, read by the caller before the change).
	JoinSeq int64
}

// GroupChangeResult is what a ChangeGroupPlus stored. Notice.Seq is 0
// while the notice waits in the outbox for its append.
type GroupChangeResult struct {
	Group     Group
	Members   []GroupMember
	Notice    Message
	Duplicate bool
}

// GroupBan keeps a user out of a group until lifted.
type GroupBan struct {
	GroupID   int64
	UserID    int64
	BannedBy  int64
	CreatedAt time.Time
}

// JoinKind and JoinState mirror the API's enums.
type JoinKind int32

const (
	JoinRequest JoinKind = 1
	JoinInvited JoinKind = 2
)

type JoinState int32

const (
	JoinPending   JoinState = 1
	JoinAccepted  JoinState = 2
	JoinRejected  JoinState = 3
	JoinCancelled JoinState = 4
)

// GroupJoinRequest is the latest join request or invite of a user to a
// group.
type GroupJoinRequest struct {
	GroupID   int64
	UserID    int64
	Kind      JoinKind
	InviterID int64
	State     JoinState
	CreatedAt time.Time
	UpdatedAt time.Time
}

// JoinRequestFilter selects pending requests of a group or of a user.
type JoinRequestFilter struct {
	GroupID int64    // set: the group's
	UserID  int64    // set: the user's
	Kind    JoinKind // 0: both kinds
}

type GroupMemberInfo struct {
	Member GroupMember
	User   User
}

type Subscription struct {
	ID            int64
	Name          string
	OwnerID       int64
	Intro         string
	Avatar        string
	QRCode        string
	Deleted       bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
	FollowerCount int64
}

type SubscriptionUpdate struct {
	Name    *string
	Intro   *string
	Avatar  *string
	QRCode  *string
	OwnerID *int64
}

type Follower struct {
	SubscriptionID int64
	UserID         int64
	Left           bool
	FollowedAt     time.Time
	UpdatedAt      time.Time
}

// AuditEntry is one admin action (protos/data/v1/audit.proto): appended,
// never changed.
type AuditEntry struct {
	ID        int64
	Actor     string
	Action    string
	Target    string
	Detail    string // a JSON object
	Outcome   string
	Service   string
	CreatedAt time.Time
}

// AuditFilter narrows ListAudit; empty fields match every entry.
type AuditFilter struct {
	Target string
	Action string
}

// Relational is the MySQL role. New rows get their ids from the caller
// (snowflake), so adapters never rely on auto-increment. Every method
// returns ErrNotFound / ErrExists / ErrPrecondition (possibly wrapped in the
// typed errors above) for the conditions documented in protos/data/v1.
type Relational interface {
	CreateUser(ctx context.Context, u User) (User, error)
	GetUser(ctx context.Context, id int64) (User, error)
	GetUserByEmail(ctx context.Context, email string) (User, error)
	// AppendAudit stores an admin action (ID and CreatedAt set by the
	// caller); ListAudit pages them newest first (by ID).
	AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error)
	ListAudit(ctx context.Context, f AuditFilter, p Page) (entries []AuditEntry, next string, err error)
	GetUsers(ctx context.Context, ids []int64) ([]User, error)
	SearchUsers(ctx context.Context, namePrefix string, includeDeleted bool, p Page) (users []User, next string, err error)
	UpdateUser(ctx context.Context, id int64, up UserUpdate) (User, error)
	CreateResetToken(ctx context.Context, t ResetToken) (ResetToken, error)
	// GetResetToken reads a reset token by its hash (ErrNotFound when unknown).
	GetResetToken(ctx context.Context, tokenHash string) (ResetToken, error)
	// ResetPasswordPlus consumes the token, sets the hash, bumps the token
	// version and spends the user's other unused reset tokens in one transaction.
	ResetPasswordPlus(ctx context.Context, tokenHash, passwordHash string, now time.Time) (User, error)
	CreateEmailToken(ctx context.Context, t EmailToken) (EmailToken, error)
	// VerifyEmailPlus consumes the token, spends the user's other email tokens and sets email_verified in one transaction.
	VerifyEmailPlus(ctx context.Context, tokenHash string, now time.Time) (User, error)
	// ChangePasswordPlus sets the hash, bumps the token version and spends
	// every unused reset token of the user in one transaction.
	ChangePasswordPlus(ctx context.Context, userID int64, passwordHash string) (User, error)
	// SetPresence records that the user went online or offline at atMS
	// (offline: last_seen_ms = atMS; online: 0) unless a change at a later
	// time was recorded before (Applied false). ErrNotFound: no such user.
	SetPresence(ctx context.Context, userID int64, online bool, atMS int64) (Presence, error)

	PutFriendship(ctx context.Context, f Friendship) (Friendship, error)
	GetFriendship(ctx context.Context, selfID, friendID int64) (Friendship, error)
	UpdateFriendship(ctx context.Context, selfID, friendID int64, up FriendshipUpdate) (Friendship, error)
	ListFriendships(ctx context.Context, f FriendshipFilter, p Page) (rows []Friendship, next string, err error)
	AcceptFriendPlus(ctx context.Context, requesterID, accepterID int64, note string) (requesterSide, accepterSide Friendship, err error)
	DeleteFriendPlus(ctx context.Context, selfID, friendID int64) error
	FriendsInfoPlus(ctx context.Context, userID int64, p Page) (rows []FriendInfo, next string, err error)

	CreateGroupPlus(ctx context.Context, g Group, memberIDs []int64) (Group, []GroupMember, error)
	GetGroup(ctx context.Context, id int64) (Group, error)
	GetGroups(ctx context.Context, ids []int64) ([]Group, error)
	SearchGroups(ctx context.Context, namePrefix string, includeDismissed bool, p Page) (groups []Group, next string, err error)
	UpdateGroup(ctx context.Context, id int64, up GroupUpdate) (Group, error)
	ListGroupsByMember(ctx context.Context, userID int64, includeDismissed bool, p Page) (groups []Group, next string, err error)
	// ListMemberships lists userID's memberships (not left) of groups not
	// dismissed, by group id.
	ListMemberships(ctx context.Context, userID int64, p Page) (ms []Membership, next string, err error)
	AddGroupMember(ctx context.Context, m GroupMember) (GroupMember, error)
	GetGroupMember(ctx context.Context, groupID, userID int64) (GroupMember, error)
	UpdateGroupMember(ctx context.Context, groupID, userID int64, up GroupMemberUpdate) (GroupMember, error)
	ListGroupMembers(ctx context.Context, groupID int64, includeLeft bool, p Page) (members []GroupMember, next string, err error)
	TransferGroupPlus(ctx context.Context, groupID, fromOwnerID, newOwnerID int64) (Group, error)
	GroupMembersInfoPlus(ctx context.Context, groupID int64, p Page) (rows []GroupMemberInfo, next string, err error)
	// ChangeGroupPlus applies c and puts c.Notice in the notice outbox, in
	// one transaction, after checking c's preconditions under the group's
	// row lock (*PreconditionError naming the one that failed; a dismissed
	// group refuses every change but the dismissal). A notice client id
	// stored before makes it change nothing: Duplicate, with the group and
	// the stored notice.
	ChangeGroupPlus(ctx context.Context, c GroupChange) (GroupChangeResult, error)
	// CreateGroupNoticePlus is CreateGroupPlus with notice put in the outbox
	// in the same transaction.
	CreateGroupNoticePlus(ctx context.Context, g Group, memberIDs []int64, notice Message) (Group, []GroupMember, error)
	// PendingGroupNotices lists outbox notices not yet appended and created
	// before `before`, oldest first, at most limit.
	PendingGroupNotices(ctx context.Context, before time.Time, limit int) ([]Message, error)
	// GroupNoticeAppended records the seq a notice got in its conversation.
	GroupNoticeAppended(ctx context.Context, clientMsgID string, seq int64) error
	// JoinGroupPlus stores m as a MEMBER with the group row locked:
	// *PreconditionError when the group is dismissed, the user banned, the
	// group holds maxMembers, or (fromRequest) no pending request is there
	// (which becomes ACCEPTED); *ExistsError for a member.
	JoinGroupPlus(ctx context.Context, m GroupMember, maxMembers int, fromRequest bool, notice *Message) (GroupMember, error)
	// RemoveGroupMemberPlus makes the member leave and, with ban set, bans
	// them (ban.BannedBy, ban.CreatedAt); a pending request is cancelled.
	RemoveGroupMemberPlus(ctx context.Context, groupID, userID int64, ban *GroupBan, notice *Message) (GroupMember, error)
	GetGroupBan(ctx context.Context, groupID, userID int64) (GroupBan, error)
	ListGroupBans(ctx context.Context, groupID int64, p Page) (bans []GroupBan, next string, err error)
	DeleteGroupBan(ctx context.Context, groupID, userID int64) (GroupBan, error)
	// PutGroupJoinRequest stores r as PENDING over an answered one, and
	// notice (nil: none) in the notice outbox in the same transaction:
	// *ExistsError when one is pending, *PreconditionError when the user
	// is banned, ErrNotFound for an unknown group.
	PutGroupJoinRequest(ctx context.Context, r GroupJoinRequest, notice *Message) (GroupJoinRequest, error)
	GetGroupJoinRequest(ctx context.Context, groupID, userID int64) (GroupJoinRequest, error)
	// UpdateGroupJoinRequest sets state (and kind when not nil) while the
	// state is expected (*PreconditionError otherwise, and notice is not
	// stored), with notice (nil: none) put in the notice outbox in the same
	// transaction.
	UpdateGroupJoinRequest(ctx context.Context, groupID, userID int64, state, expected JoinState, kind *JoinKind, notice *Message) (GroupJoinRequest, error)
	ListGroupJoinRequests(ctx context.Context, f JoinRequestFilter, p Page) (rows []GroupJoinRequest, next string, err error)

	CreateSubscription(ctx context.Context, s Subscription) (Subscription, error)
	GetSubscription(ctx context.Context, id int64) (Subscription, error)
	GetSubscriptions(ctx context.Context, ids []int64) ([]Subscription, error)
	SearchSubscriptions(ctx context.Context, namePrefix string, includeDeleted bool, p Page) (subs []Subscription, next string, err error)
	ListSubscriptionsByOwner(ctx context.Context, ownerID int64, includeDeleted bool, p Page) (subs []Subscription, next string, err error)
	UpdateSubscription(ctx context.Context, id int64, up SubscriptionUpdate) (Subscription, error)
	DeleteSubscriptionPlus(ctx context.Context, id int64) (sub Subscription, released int64, err error)
	Follow(ctx context.Context, subscriptionID, userID int64) (Follower, error)
	Unfollow(ctx context.Context, subscriptionID, userID int64) (Follower, error)
	GetFollower(ctx context.Context, subscriptionID, userID int64) (Follower, error)
	ListFollowers(ctx context.Context, subscriptionID int64, p Page) (followers []Follower, next string, err error)
	ListFollowing(ctx context.Context, userID int64, p Page) (subs []Subscription, next string, err error)

	Ping(ctx context.Context) error
	Close() error
}

type Message struct {
	ID           int64
	Conversation string
	Seq          int64
	SenderID     int64
	ClientMsgID  string
	Kind         string
	Content      []byte
	CreatedAt    time.Time
	// Change (appends only, never read back) is what a lifecycle event
	// does to an earlier message of its conversation.
	Change *MessageChange
	// Reaction (appends only, never read back) is what a reaction event
	// adds or removes, in the append's transaction.
	Reaction *Reaction
	// Clear (appends only) raises a user's ClearedSeq of a conversation in
	// the append's transaction (delete for me).
	Clear *Clear
	// Uncounted (appends only): the message does not count as unread (a
	// group's system notice).
	Uncounted bool
}

// Counts says whether m counts as unread for the others of its
// conversation: neither a lifecycle event (a change, a reaction, a clear)
// nor Uncounted. Each adapter keeps, per conversation, how many messages
// counted up to the head, per message how many up to it, and per user
// state how many up to the read seq (moved with it), so Unread subtracts.
func (m Message) Counts() bool {
	return m.Change == nil && m.Reaction == nil && m.Clear == nil && !m.Uncounted
}

// Clear raises UserID's ClearedSeq of Conversation to UpToSeq (never back).
type Clear struct {
	UserID       int64
	Conversation string
	UpToSeq      int64
}

// Reaction adds (Remove: removes) UserID's Emoji on message TargetSeq of
// the appended message's conversation: one per (user, message, emoji), at
// most MaxReactionEmoji distinct emoji per message. A recall removes the
// message's reactions.
type Reaction struct {
	TargetSeq int64
	UserID    int64
	Emoji     string
	Remove    bool
}

// MaxReactionEmoji is how many distinct emoji a message holds.
const MaxReactionEmoji = 20

// The words of a refused reaction's PreconditionError.Reason, for people:
// callers tell the refusals apart by PreconditionError.Code.
const (
	ReasonReacted      = "already reacted"
	ReasonNotReacted   = "not reacted"
	ReasonTooManyEmoji = "at most 20 distinct emoji"
)

// ReactionRefused returns the error of a reaction AppendMessages refuses,
// given what the target holds: whether it exists and its kind, whether
// the user reacted with this emoji, whether anyone did, and how many
// distinct emoji it has; nil when the reaction may apply.
func ReactionRefused(r *Reaction, found bool, kind string, mine, emojiThere bool, distinct int) error {
	if err := ChangeRefused(&MessageChange{TargetSeq: r.TargetSeq}, found, kind); err != nil {
		return err
	}
	switch {
	case !r.Remove && mine:
		return Refuse(RefusalReacted, "%s with %s", ReasonReacted, r.Emoji)
	case r.Remove && !mine:
		return Refuse(RefusalNotReacted, "%s with %s", ReasonNotReacted, r.Emoji)
	case !r.Remove && !emojiThere && distinct >= MaxReactionEmoji:
		return Refuse(RefusalTooManyEmoji, "%s per message", ReasonTooManyEmoji)
	}
	return nil
}

// ReactionCount is one emoji's reactions on a message: how many users,
// and whether the viewer is one.
type ReactionCount struct {
	Emoji string
	Count int64
	Me    bool
}

// MessageChange replaces the kind and content of message TargetSeq of the
// appended message's conversation, in the append's transaction: the event
// and the change are stored together or not at all. A message of kind
// KindRecalled never changes again; a change to KindRecalled drops the
// message's reactions and kept versions.
type MessageChange struct {
	TargetSeq int64
	Kind      string
	Content   []byte
	// KeepPrevious (an edit, never a recall) keeps the message's kind and
	// content before the change as a MessageVersion, until a recall
	// deletes the message's versions with its content.
	KeepPrevious bool
}

// MessageVersion is a kept version of a message: its kind and content
// until the edit event ReplacedBySeq replaced them at ReplacedAt (the
// event's CreatedAt).
type MessageVersion struct {
	Kind          string
	Content       []byte
	ReplacedBySeq int64
	ReplacedAt    time.Time
}

// KindRecalled is the kind of a recalled message: its content is the
// tombstone, and no change applies to it any more.
const KindRecalled = "recalled"

// ChangeRefused returns the error of a change AppendMessages refuses:
// ErrNotFound when found is false, else a *PreconditionError when the
// target's kind is KindRecalled; nil when the change may apply.
func ChangeRefused(c *MessageChange, found bool, kind string) error {
	if !found {
		return fmt.Errorf("message %d to change: %w", c.TargetSeq, ErrNotFound)
	}
	if kind == KindRecalled {
		return Refuse(RefusalRecalled, "message %d was recalled", c.TargetSeq)
	}
	return nil
}

// AppendResult is what an append stored, or found stored before.
type AppendResult struct {
	Message   Message
	Duplicate bool
}

// MessageRange selects messages AfterSeq < seq (< BeforeSeq when > 0).
type MessageRange struct {
	Conversation string
	AfterSeq     int64
	BeforeSeq    int64
	Limit        int
	NewestFirst  bool
	// ClearedFor > 0: the range starts after that user's ClearedSeq of
	// the conversation when it is past AfterSeq.
	ClearedFor int64
}

type Cursor struct {
	UserID       int64
	DeviceID     string
	Conversation string
	DeliveredSeq int64
	AckedSeq     int64
	UpdatedAt    time.Time
}

type CursorFilter struct {
	UserID        int64
	DeviceID      string
	AllDevices    bool
	Conversations []string
}

type ArticleState int32

const (
	ArticleDraft     ArticleState = 1
	ArticleInReview  ArticleState = 2
	ArticleApproved  ArticleState = 3
	ArticleRejected  ArticleState = 4
	ArticlePublished ArticleState = 5
	ArticleWithdrawn ArticleState = 6
)

type Article struct {
	ID             int64
	SubscriptionID int64
	AuthorID       int64
	Title          string
	Body           string
	CoverURL       string
	State          ArticleState
	RejectReason   string
	ReviewerID     int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
	PublishedAt    time.Time // zero until published
	Pushed         bool      // delivered to the followers (Broadcast succeeded)
}

type ArticleUpdate struct {
	Title         *string
	Body          *string
	CoverURL      *string
	State         *ArticleState
	RejectReason  *string
	ReviewerID    *int64
	PublishedAt   *time.Time
	Pushed        *bool
	ExpectedState ArticleState // 0: no check
}

// ArticleFilter selects the articles ListArticles returns.
type ArticleFilter struct {
	SubscriptionID int64          // 0: every subscription
	States         []ArticleState // empty: every state
	UnpushedOnly   bool           // only those whose Pushed is false
}

// ConversationState is one user's state in one conversation; a missing row
// reads as zeros with UpdatedAt zero.
type ConversationState struct {
	UserID       int64
	Conversation string
	ReadSeq      int64 // never moves back; MoveSenders moves the sender's to its message
	LastSentSeq  int64 // the user's last message here; set by MoveSenders
	Muted        bool
	Pinned       bool
	HiddenSeq    int64 // 0: not hidden; else hidden while the head is <= it
	ClearedSeq   int64 // the user cleared the conversation for themselves up to it (Message.Clear)
	UpdatedAt    time.Time
	MentionSeq   int64 // the latest message mentioning the user (0: none); never moves back
}

// SentSeq names a message UserID sent: Seq in Conversation.
type SentSeq struct {
	UserID       int64
	Conversation string
	Seq          int64
}

// MentionSeq raises one user's mention seq in one conversation.
type MentionSeq struct {
	UserID       int64
	Conversation string
	Seq          int64
}

// ConversationSettings holds the settings to change; nil means unchanged.
// Hidden true stores the conversation's head as HiddenSeq, false 0.
type ConversationSettings struct {
	Muted  *bool
	Pinned *bool
	Hidden *bool
}

// ReaderQuery selects the users whose read seq of Conversation is >= Seq,
// without Exclude.
type ReaderQuery struct {
	Conversation string
	Seq          int64
	Exclude      []int64
}

// ReceiptCount is a ReaderQuery's answer: Read users have read_seq >= Seq,
// Delivered users a device whose acked_seq >= Seq.
type ReceiptCount struct {
	Read      int64
	Delivered int64
}

// UserReceipt is one user's read seq and delivered seq (the largest acked
// seq of the user's devices) in one conversation.
type UserReceipt struct {
	Conversation string
	UserID       int64
	ReadSeq      int64
	DeliveredSeq int64
}

// Head is what a conversation's head holds: its last seq, when that was
// appended and the last message (zero when Seq is 0). Content longer than
// the asked limit is cut and Truncated set.
type Head struct {
	Conversation string
	Seq          int64
	UpdatedAt    time.Time
	Last         Message
	Truncated    bool
}

// UnreadQuery names one conversation of a user's unread entries; the user
// reads after FloorSeq at the earliest (a group joined with history
// "joined"), 0 for none.
type UnreadQuery struct {
	Conversation string
	FloorSeq     int64
}

// UnreadEntry is one conversation of a user: its head (Seq and UpdatedAt
// of Head), the user's state, and how many messages that count (Counts)
// follow the read point max(ReadSeq, FloorSeq, ClearedSeq) up to the head.
type UnreadEntry struct {
	Head   Head
	State  ConversationState
	Unread int64
}

// Documents is the document role (MongoDB in production, MySQL by default).
type Documents interface {
	// AppendMessages stores msgs (ID and CreatedAt set by the caller; Seq
	// assigned here, consecutive per conversation in slice order) and returns
	// one result per input in order. A (SenderID, ClientMsgID) stored before,
	// or earlier in msgs, yields the first stored message with Duplicate set.
	// A new message with a Change applies it in the same transaction, in
	// slice order; a change refused (ChangeRefused) fails the whole call
	// and stores nothing. A duplicate's Change is not applied again.
	AppendMessages(ctx context.Context, msgs []Message) ([]AppendResult, error)
	GetMessages(ctx context.Context, r MessageRange) (msgs []Message, hasMore bool, err error)
	GetMessagesByTime(ctx context.Context, conversation string, from, to time.Time, p Page) (msgs []Message, next string, err error)
	GetMessageByClientID(ctx context.Context, senderID int64, clientMsgID string) (Message, error)
	// GetMessagesWithReactions is GetMessages with the Reactions of the
	// messages it returns as viewer sees them, in one round trip where the
	// adapter can (a history page).
	GetMessagesWithReactions(ctx context.Context, r MessageRange, viewer int64) (msgs []Message, hasMore bool, reactions map[int64][]ReactionCount, err error)
	// Reactions returns the reactions of the messages seqs of conversation
	// that have any, per seq: emoji in the order of their first reaction
	// (then by emoji), Me for viewer's.
	Reactions(ctx context.Context, conversation string, seqs []int64, viewer int64) (map[int64][]ReactionCount, error)
	// MessageVersions returns the newest limit kept versions of message
	// seq of conversation, oldest first, and whether there are older ones.
	MessageVersions(ctx context.Context, conversation string, seq int64, limit int) (versions []MessageVersion, hasMore bool, err error)
	// ConversationHeads returns the last seq of each conversation, 0 when none, in input order.
	ConversationHeads(ctx context.Context, conversations []string) ([]int64, error)

	// AdvanceCursors raises each cursor to the max of stored and given seqs and returns the stored result, in input order.
	AdvanceCursors(ctx context.Context, cs []Cursor) ([]Cursor, error)
	// AdvanceCursorsNoResult is AdvanceCursors for callers that do not use the
	// stored cursors (AdvanceCursorsPlus with no_result, which the
	// messageservice's cursor writer sets on every batch): the same writes,
	// without reading the cursors back, which is most of the cost.
	AdvanceCursorsNoResult(ctx context.Context, cs []Cursor) error
	// MoveSenders raises each sender's ReadSeq and LastSentSeq (and the read
	// count) of the conversation to the seq of a message the user sent
	// there (never back), outside any append: an entry whose message is
	// not stored or not the user's moves nothing.
	MoveSenders(ctx context.Context, sent []SentSeq) error
	ListCursors(ctx context.Context, f CursorFilter) ([]Cursor, error)

	CreateArticle(ctx context.Context, a Article) (Article, error)
	GetArticle(ctx context.Context, id int64) (Article, error)
	UpdateArticle(ctx context.Context, id int64, up ArticleUpdate) (Article, error)
	// ListArticles returns the articles f selects, newest id first.
	ListArticles(ctx context.Context, f ArticleFilter, p Page) (arts []Article, next string, err error)
	// DeleteArticle removes an article for good; with expected set (not 0)
	// only while it is in that state (*PreconditionError otherwise).
	DeleteArticle(ctx context.Context, id int64, expected ArticleState) error

	// SetReadSeq raises the user's read seq to seq, which must be at most
	// the conversation's head (*PreconditionError otherwise, nothing
	// stored); it returns the stored value and whether it moved.
	SetReadSeq(ctx context.Context, userID int64, conversation string, seq int64) (readSeq int64, changed bool, err error)
	// ConversationStates returns the user's states of conversations in
	// input order (zeros where none is stored), or with none named every
	// stored row of the user ordered by conversation.
	ConversationStates(ctx context.Context, userID int64, conversations []string) ([]ConversationState, error)
	// SetMentionSeqs raises each user's mention seq in the conversation to
	// the seq (the max of stored and given), all or nothing: a seq beyond
	// its conversation's head is a *PreconditionError and nothing is
	// stored. An existing row keeps its UpdatedAt; a new one gets now.
	SetMentionSeqs(ctx context.Context, ms []MentionSeq) error
	// UpdateConversationSettings changes the set settings and returns the state.
	UpdateConversationSettings(ctx context.Context, userID int64, conversation string, s ConversationSettings) (ConversationState, error)
	// ListReaders returns the ids of q's readers above afterUserID, ascending,
	// at most limit, and whether more follow.
	ListReaders(ctx context.Context, q ReaderQuery, afterUserID int64, limit int) (ids []int64, hasMore bool, err error)
	// CountReceipts answers each query, in order.
	CountReceipts(ctx context.Context, qs []ReaderQuery) ([]ReceiptCount, error)
	// UserReceipts answers each (Conversation, UserID) of keys, in order.
	UserReceipts(ctx context.Context, keys []UserReceipt) ([]UserReceipt, error)
	// Heads returns each conversation's head in input order, content cut
	// to contentLimit bytes; contentLimit 0: the heads only (Last unset,
	// Truncated false).
	Heads(ctx context.Context, conversations []string, contentLimit int) ([]Head, error)
	// Unread answers userID's entry of each query, in order: the head
	// without its last message, the state (zeros when none is stored) and
	// the unread count, without counting messages.
	Unread(ctx context.Context, userID int64, qs []UnreadQuery) ([]UnreadEntry, error)

	Ping(ctx context.Context) error
	Close() error
}
