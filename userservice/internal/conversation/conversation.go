// Package conversation is the user's list of conversations over HTTP: the
// 1:1s with friends that have messages, the groups, the followed
// subscriptions and the system conversation, pinned first and then by last
// activity, each with its last message, head and read seqs, unread count
// and settings; the total unread; the settings (mute, pin, hide) and who
// read a message. Read state, heads and unread counts are the DataService's
// (Conversations): unread counts the messages from others a person sees as
// new (not lifecycle events, not a group's system notices), kept as counts
// beside the head and the read seq, never a count over messages.
//
// It imports foundation/errs only: storage is a Store, the messageservice
// (mirroring settings to the user's devices) a Notifier.
package conversation

import (
	"context"
	"log/slog"
	"time"

	"github.com/privateim/privateim/foundation/errs"
)

// Kind of a conversation, as the list names it.
type Kind string

// The kinds.
const (
	KindUser         Kind = "user"
	KindGroup        Kind = "group"
	KindSubscription Kind = "subscription"
	KindSystem       Kind = "system"
)

// State is a user's stored state in one conversation (zero: no row).
type State struct {
	Conversation string
	ReadSeq      int64
	Muted        bool
	Pinned       bool
	HiddenSeq    int64 // hidden while the head is at most this; 0: not hidden
	MentionSeq   int64 // the latest message mentioning the user; 0: none
}

// Head is a conversation's last seq and message.
type Head struct {
	Conversation string
	HeadSeq      int64
	UpdatedAt    time.Time // of the last append
	Last         *Message  // nil when HeadSeq is 0
}

// Message is a stored message as the list shows it.
type Message struct {
	Seq       int64
	SenderID  int64
	Kind      string
	Content   []byte // JSON; a prefix when Truncated
	Truncated bool
	CreatedAt time.Time
}

// EntryQuery names a conversation of the list; the user reads after
// FloorSeq at the earliest (a group joined with history "joined"), 0: none.
type EntryQuery struct {
	Conversation string
	FloorSeq     int64
}

// Entry is a conversation of the list before it is named: its head (Last
// nil), the user's state, and how many messages from others the user has
// not read (after max(read seq, floor, cleared seq)).
type Entry struct {
	Head   Head
	State  State
	Unread int64
}

// Membership is the user's membership of a group.
type Membership struct {
	GroupID int64
	JoinSeq int64
	// HistoryAll: the group's members read its whole history; else from
	// JoinSeq on.
	HistoryAll bool
}

// Named is what the list shows of a peer, group or subscription.
type Named struct {
	Name, Avatar string
}

// Settings are the changes of a PATCH; nil is unchanged.
type Settings struct {
	Muted, Pinned, Hidden *bool
}

// Store is what the conversation features need of the DataService.
// Errors wrap the errs store sentinels.
type Store interface {
	// FriendIDs are the users user has an accepted, not deleted friendship with.
	FriendIDs(ctx context.Context, user int64) ([]int64, error)
	// Memberships are user's memberships of live groups.
	Memberships(ctx context.Context, user int64) ([]Membership, error)
	// FollowingIDs are the subscriptions user follows.
	FollowingIDs(ctx context.Context, user int64) ([]int64, error)
	// Entries reads user's entry of each query, in order: the head (no
	// last message), the state (zero without a row) and the unread count.
	Entries(ctx context.Context, user int64, qs []EntryQuery) ([]Entry, error)
	// UnreadTotal sums the unread counts of the entries of qs that are
	// neither muted nor hidden, without reading the entries.
	UnreadTotal(ctx context.Context, user int64, qs []EntryQuery) (int64, error)
	// Heads reads the head of each conversation, in order, with the last
	// message's content cut to contentLimit bytes; 0: the heads only
	// (Last nil), much cheaper for many conversations.
	Heads(ctx context.Context, conversations []string, contentLimit int) ([]Head, error)
	UpdateSettings(ctx context.Context, user int64, conversation string, s Settings) (State, error)
	// Readers are the users whose read seq in conversation is at least
	// seq, by id after after, without exclude; more says a next page has some.
	Readers(ctx context.Context, conversation string, seq int64, exclude []int64, after int64, limit int) (ids []int64, more bool, err error)
	// Blockers are the users who have blacklisted user.
	Blockers(ctx context.Context, user int64) ([]int64, error)
	// UserNames, GroupInfos and SubscriptionNames name the ones found (unknown,
	// deleted or dismissed ones are left out).
	UserNames(ctx context.Context, ids []int64) (map[int64]Named, error)
	GroupInfos(ctx context.Context, ids []int64) (map[int64]GroupInfo, error)
	SubscriptionNames(ctx context.Context, ids []int64) (map[int64]Named, error)
	// IsMember reports whether user is a member of group (not left).
	IsMember(ctx context.Context, group, user int64) (bool, error)
	// MemberIDs are the group's members (not left).
	MemberIDs(ctx context.Context, group int64) ([]int64, error)
	// Follows reports whether user follows subscription.
	Follows(ctx context.Context, subscription, user int64) (bool, error)
	UserExists(ctx context.Context, id int64) (bool, error)
}

// GroupInfo is Named with the member count.
type GroupInfo struct {
	Named
	Members int64
}

// Notifier tells a user's devices their new settings of a conversation
// (the messageservice); NoNotifier when there is none.
type Notifier interface {
	ConversationChanged(ctx context.Context, user int64, conversation string, muted, pinned, hidden bool) error
}

// Marker stores a read as the messageservice's read frame does (checks,
// store, mirror to the devices, receipts): MarkRead returns the stored
// read seq, or the errors of this package (ErrNotFound, ErrReadRefused,
// an invalid seq) or KindUnavailable. NoMarker when there is none.
type Marker interface {
	MarkRead(ctx context.Context, user int64, conversation string, seq int64) (int64, error)
}

// NoMarker refuses every read: without the messageservice (MESSAGE_ADDR)
// a read cannot be stored the way devices learn of it.
type NoMarker struct{}

// MarkRead implements Marker.
func (NoMarker) MarkRead(context.Context, int64, string, int64) (int64, error) {
	return 0, ErrNoMessageService
}

// NoNotifier tells nobody: devices see the settings when they read the
// list again.
type NoNotifier struct{}

// ConversationChanged implements Notifier.
func (NoNotifier) ConversationChanged(context.Context, int64, string, bool, bool, bool) error {
	return nil
}

// Errors of the conversation features.
var (
	// ErrNotFound: no such conversation, or the caller takes no part in it.
	ErrNotFound = &errs.Error{Kind: errs.KindNotFound, Code: "conversation_not_found", Message: "no such conversation of yours", Field: "conversation"}
	// ErrCountsOnly: a group too large for a list of readers.
	ErrCountsOnly = &errs.Error{Kind: errs.KindConflict, Code: "counts_only", Message: "this group is too large for a list of readers: it keeps read counts only"}
	// ErrReadRefused: a read the messageservice refused (not friends, a
	// blacklist).
	ErrReadRefused = &errs.Error{Kind: errs.KindForbidden, Code: "read_refused", Message: "this read is not allowed: not friends, or a blacklist stands between you", Field: "conversation"}
	// ErrNoMessageService: reads need the messageservice.
	ErrNoMessageService = errs.New(errs.KindUnavailable, "unavailable", "the message service cannot be reached; try again")
	// ErrBadCursor: a cursor the list did not hand out.
	ErrBadCursor = errs.Invalid("cursor", "not a cursor this list handed out")
)

// DefaultReadersMax is Deps.ReadersMaxMembers when unset.
const DefaultReadersMax = 500

// Deps of a Service.
type Deps struct {
	Store    Store
	Notifier Notifier // nil: NoNotifier
	Marker   Marker   // nil: NoMarker
	Log      *slog.Logger
	// ReadersMaxMembers: groups with more members list no readers
	// (ErrCountsOnly); < 1: DefaultReadersMax.
	ReadersMaxMembers int
}

// Service is safe for concurrent use.
type Service struct {
	store      Store
	notify     Notifier
	marker     Marker
	log        *slog.Logger
	readersMax int
}

// New makes a Service.
func New(d Deps) *Service {
	if d.Notifier == nil {
		d.Notifier = NoNotifier{}
	}
	if d.Marker == nil {
		d.Marker = NoMarker{}
	}
	if d.ReadersMaxMembers < 1 {
		d.ReadersMaxMembers = DefaultReadersMax
	}
	return &Service{store: d.Store, notify: d.Notifier, marker: d.Marker, log: d.Log, readersMax: d.ReadersMaxMembers}
}
