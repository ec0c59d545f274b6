// Package relation is the vocabulary of relation changes the features
// announce after the DataService has stored them: friends added and
// removed, blacklist changes, group membership and follows. The features
// (friend, group, follow) publish through Publisher; internal/events
// implements it on NATS (protobuf privateim.events.v1.RelationEvent), and
// Nop drops events when NATS is not configured.
//
// It imports only the standard library.
package relation

import (
	"context"
	"time"
)

// Kind of a change. The values match the protobuf enum
// privateim.events.v1.RelationEvent.Kind.
type Kind int

// Kinds; see protos/events/v1/relations.proto for what each means.
const (
	FriendAdded            Kind = 1
	FriendRemoved          Kind = 2
	Blocked                Kind = 3
	Unblocked              Kind = 4
	GroupMemberJoined      Kind = 5
	GroupMemberLeft        Kind = 6
	GroupDismissed         Kind = 7
	SubscriptionFollowed   Kind = 8
	SubscriptionUnfollowed Kind = 9
	GroupChanged           Kind = 10
	// SessionsRevoked is not a relation: UserID's tokens were revoked
	// (password changed or reset, account deleted or banned) and the
	// message nodes must check that user's connections again.
	SessionsRevoked Kind = 11
)

func (k Kind) String() string {
	switch k {
	case FriendAdded:
		return "FRIEND_ADDED"
	case FriendRemoved:
		return "FRIEND_REMOVED"
	case Blocked:
		return "BLOCKED"
	case Unblocked:
		return "UNBLOCKED"
	case GroupMemberJoined:
		return "GROUP_MEMBER_JOINED"
	case GroupMemberLeft:
		return "GROUP_MEMBER_LEFT"
	case GroupDismissed:
		return "GROUP_DISMISSED"
	case SubscriptionFollowed:
		return "SUBSCRIPTION_FOLLOWED"
	case SubscriptionUnfollowed:
		return "SUBSCRIPTION_UNFOLLOWED"
	case GroupChanged:
		return "GROUP_CHANGED"
	case SessionsRevoked:
		return "SESSIONS_REVOKED"
	}
	return "KIND_UNSPECIFIED"
}

// Event is one stored change. UserID is always set; the other ids as the
// kind needs (0 means unset).
type Event struct {
	Kind           Kind
	UserID         int64
	PeerUserID     int64
	GroupID        int64
	SubscriptionID int64
	At             time.Time
}

// Publisher announces events. Publish never fails the caller: the change is
// stored already, so an implementation logs what it could not send.
// Implementations are safe for concurrent use.
type Publisher interface {
	Publish(ctx context.Context, events ...Event)
}

// Nop drops every event.
type Nop struct{}

// Publish implements Publisher.
func (Nop) Publish(context.Context, ...Event) {}
