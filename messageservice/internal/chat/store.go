// What chat needs of the DataService (Store), the stored types and the
// errors of the chat features.

package chat

import (
	"context"
	"errors"
	"time"
)

// Errors of the chat features. The WebSocket transport turns them into
// error codes in one table (wsconn); anything else is "internal".
var (
	ErrNotFriends   = errors.New("not friends")
	ErrBlocked      = errors.New("blocked")
	ErrNotMember    = errors.New("not a member")
	ErrNoSuchTarget = errors.New("no such user or group")
	ErrRateLimited  = errors.New("sending too fast")
	ErrAckAhead     = errors.New("ack of a seq past the last of the conversation")
	ErrReadAhead    = errors.New("read of a seq past the last of the conversation")
	// ErrMuted: the sender may not send to the group now; a *MutedError
	// says until when.
	ErrMuted = errors.New("muted")
	// ErrBeforeJoin: a group read receipt of a seq before the member's
	// join seq.
	ErrBeforeJoin = errors.New("read receipt of a seq before the member joined")
	// ErrNoTyping: a typing frame of a subscription or system
	// conversation (typing is for 1:1s and groups).
	ErrNoTyping = errors.New("typing in a conversation without typing")
	// ErrBadSeq: a read of a seq below 1 (MarkRead; the frame decoder
	// refuses those itself).
	ErrBadSeq = errors.New("seq must be >= 1")
	// ErrNotFound is what a Store returns for an unknown row.
	ErrNotFound = errors.New("not found")
)

// MutedError refuses a send to a group: the sender is muted until Until,
// or (Until zero) everyone but the owner and admins is, until lifted.
type MutedError struct{ Until time.Time }

func (e *MutedError) Error() string { return "muted" }
func (e *MutedError) Unwrap() error { return ErrMuted }

// Roster is what a membership node holds: the members (or followers), and
// for a group its moderation state.
type Roster struct {
	Members []int64
	Gone    bool // dismissed or deleted: nobody is a member
	// Groups only: while MuteAll only Privileged members send; a member in
	// MutedUntil may not send before that time.
	MuteAll    bool
	Privileged map[int64]bool
	MutedUntil map[int64]time.Time
	// ReadFrom (groups) is, per member, the first seq of the conversation
	// they may read: their join seq when the group's history is "joined",
	// 0 (all) otherwise. nil: every member reads everything.
	ReadFrom map[int64]int64
}

// Message is a stored message.
type Message struct {
	ID           int64
	Conversation string
	Seq          int64
	SenderID     int64
	ClientMsgID  string
	Kind         string
	Content      []byte // JSON of frame.Content
	CreatedAt    time.Time
}

// Relation is what one user holds about another (one direction).
type Relation struct {
	Found       bool
	Accepted    bool
	Blacklisted bool
	Deleted     bool
}

func (r Relation) friends() bool { return r.Found && r.Accepted && !r.Deleted }

// Cursor is one device's delivery cursor in one conversation.
type Cursor struct {
	Device       string
	Conversation string
	Acked        int64
}

// AppendRequest is a message to store.
type AppendRequest struct {
	Conversation string
	SenderID     int64
	ClientMsgID  string
	Kind         string
	Content      []byte
	// Change (lifecycle events) rewrites an earlier message of the
	// conversation in the append's transaction (lifecycle.go).
	Change *Change
	// Reaction (reaction events) adds or removes a reaction in the
	// append's transaction (reactions.go).
	Reaction *Reaction
	// Clear (delete for me events) raises a user's cleared seq of another
	// conversation in the append's transaction (clear.go).
	Clear *Clear
}

// Clear raises User's cleared seq of Conversation to UpTo (never back).
type Clear struct {
	User         int64
	Conversation string
	UpTo         int64
}

// Reaction adds (Remove: removes) User's Emoji on message TargetSeq. The
// store refuses it with ErrNotFound, ErrRecalled, ErrReacted, ErrNotReacted
// or ErrTooManyEmoji, storing nothing.
type Reaction struct {
	TargetSeq int64
	User      int64
	Emoji     string
	Remove    bool
}

// ReactionCount is one emoji's reactions on a message.
type ReactionCount struct {
	Emoji string
	Count int64
	Me    bool
}

// Change replaces the kind and content of message TargetSeq. The store
// refuses it with ErrNotFound (no such message) or ErrRecalled (the
// message was recalled), storing nothing.
type Change struct {
	TargetSeq int64
	Kind      string
	Content   []byte
	// KeepPrevious (an edit with Options.EditHistory) keeps the target's
	// content before the change as a version, until a recall.
	KeepPrevious bool
}

// Version is a kept version of an edited message: its content until the
// edit event ReplacedBySeq replaced it at ReplacedAt.
type Version struct {
	Content       []byte
	ReplacedBySeq int64
	ReplacedAt    time.Time
}

// AppendResult is one stored message of AppendBatch.
type AppendResult struct {
	Message   Message
	Duplicate bool
}

// Store is what chat needs of the DataService. Unknown rows are ErrNotFound.
type Store interface {
	Friendship(ctx context.Context, self, friend int64) (Relation, error)
	UserExists(ctx context.Context, id int64) (bool, error)
	// Friends are user's accepted, not deleted friends whom user has not
	// blacklisted: who is told user's presence.
	Friends(ctx context.Context, user int64) ([]int64, error)
	// Blacklist are the users user has blacklisted.
	Blacklist(ctx context.Context, user int64) ([]int64, error)
	// GroupMembers are the members (not left) of a group with the group's
	// moderation state; ErrNotFound when there is no such group, Gone
	// reports a dismissed one.
	GroupMembers(ctx context.Context, group int64) (Roster, error)
	// Followers are the followers (not left) of a subscription;
	// ErrNotFound when there is no such subscription, deleted reports a
	// deleted one.
	Followers(ctx context.Context, subscription int64) (followers []int64, deleted bool, err error)
	// AppendBatch stores up to 1000 messages in one round trip; results
	// in request order.
	AppendBatch(ctx context.Context, rs []AppendRequest) ([]AppendResult, error)
	// Append stores a message; duplicate reports an earlier (sender,
	// client_msg_id), whose message is returned.
	Append(ctx context.Context, r AppendRequest) (m Message, duplicate bool, err error)
	// MessageByClientID is the message user stored with clientMsgID;
	// ErrNotFound when none.
	MessageByClientID(ctx context.Context, user int64, clientMsgID string) (Message, error)
	// History is Messages after max(after, viewer's cleared seq of the
	// conversation: delete for me) with the messages' reactions (by seq,
	// those that have any) as viewer sees them, in one round trip.
	History(ctx context.Context, conversation string, after int64, limit int, viewer int64) ([]Message, map[int64][]ReactionCount, bool, error)
	// Versions are the newest limit kept versions of message seq of
	// conversation, oldest first, and whether there are older ones.
	Versions(ctx context.Context, conversation string, seq int64, limit int) ([]Version, bool, error)
	// ClearedSeqs are user's cleared seqs (delete for me) of the named
	// conversations that have one.
	ClearedSeqs(ctx context.Context, user int64, conversations []string) (map[string]int64, error)
	// Messages after seq after, in seq order, at most limit.
	Messages(ctx context.Context, conversation string, after int64, limit int) ([]Message, bool, error)
	// Heads are the last seqs of the conversations (absent: none).
	Heads(ctx context.Context, conversations []string) (map[string]int64, error)
	// AdvanceCursors moves up to 1000 cursors forward (each seq becomes
	// the max of the stored and the given one) and up to 1000 senders'
	// read seqs to their messages (never back) in one round trip.
	AdvanceCursors(ctx context.Context, as []CursorAdvance, sent []Sent) error
	// SetPresence records that user went online or offline at at, unless
	// a later change was recorded (LastSeen.Applied false): the last
	// seen time the profiles show.
	SetPresence(ctx context.Context, user int64, online bool, at time.Time) (LastSeen, error)
	// SessionStart reads what a session's catch-up starts with in one
	// round trip where the lists fit one page.
	SessionStart(ctx context.Context, user int64) (SessionStart, error)

	// SetReadSeq raises user's stored read seq of conversation to seq and
	// returns the stored value (which never moves back) and whether it
	// moved; a seq past the conversation's head is ErrReadAhead.
	SetReadSeq(ctx context.Context, user int64, conversation string, seq int64) (stored int64, changed bool, err error)
	// SetMentionSeqs raises each user's mention seq of the conversation to
	// the seq (up to 1000; all or nothing).
	SetMentionSeqs(ctx context.Context, ms []MentionSeq) error
	// ReadStates are every stored conversation state of user.
	ReadStates(ctx context.Context, user int64) ([]ReadState, error)
	// CountReceipts answers each query in order (up to 1000).
	CountReceipts(ctx context.Context, qs []ReceiptQuery) ([]ReceiptCount, error)
	// PeerReceipts answers each (Conversation, User) in order (up to 1000).
	PeerReceipts(ctx context.Context, keys []PeerReceipt) ([]PeerReceipt, error)
	// BlacklistedBy are the users who have blacklisted user.
	BlacklistedBy(ctx context.Context, user int64) ([]int64, error)
}

// ReadState is a user's stored state in one conversation: what the user
// read, and the user's last message there (0: none).
type ReadState struct {
	Conversation string
	ReadSeq      int64
	LastSentSeq  int64
	UpdatedAt    time.Time
}

// ReceiptQuery asks how many users, but Exclude, read (read seq >= Seq) and
// had delivered (a device acked >= Seq) a conversation's message Seq.
type ReceiptQuery struct {
	Conversation string
	Seq          int64
	Exclude      []int64
}

// ReceiptCount answers a ReceiptQuery.
type ReceiptCount struct{ Read, Delivered int64 }

// PeerReceipt is one user's read seq and delivered seq (the highest any
// device of the user acked) in a conversation.
type PeerReceipt struct {
	Conversation string
	User         int64
	ReadSeq      int64
	DeliveredSeq int64
}

// LastSeen is what SetPresence left stored.
type LastSeen struct {
	Applied bool      // false: a later presence change was recorded before
	At      time.Time // when the last connection closed; zero while online
	Hidden  bool      // the user shows their last seen to nobody
}

// SessionStart is what a session's catch-up starts with: the user's
// friends (as Friends), the groups the user is a member of, the
// subscriptions the user follows and the cursors of all the user's devices.
type SessionStart struct {
	Friends, Groups, Following []int64
	Cursors                    []Cursor
}
