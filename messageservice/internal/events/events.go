// Package events consumes the userservice's relation events from NATS
// (subject privateim.relations, protobuf privateim.events.v1.RelationEvent;
// docs/events.md) and hands them to the chat caches, which drop the entry
// an event names and read it again from the DataService: an event is a
// hint, never a fact (chat.ApplyRelation).
package events

import (
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/proto"

	"github.com/privateim/privateim/foundation/natsauth"
	eventsv1 "github.com/privateim/privateim/protos/events/v1"

	"github.com/privateim/privateim/messageservice/internal/chat"
)

// Subject carries the relation events.
const Subject = natsauth.RelationsSubject

// Subscribe applies every relation event on nc to apply until the returned
// subscription is drained or nc closes.
func Subscribe(log *slog.Logger, nc *nats.Conn, apply func(chat.RelationEvent)) (*nats.Subscription, error) {
	sub, err := nc.Subscribe(Subject, func(m *nats.Msg) {
		var ev eventsv1.RelationEvent
		if err := proto.Unmarshal(m.Data, &ev); err != nil {
			log.Warn("relation event does not decode", "err", err)
			return
		}
		if e, ok := Convert(&ev); ok {
			apply(e)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", Subject, err)
	}
	if err := nc.Flush(); err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", Subject, err)
	}
	return sub, nil
}

// Convert maps a RelationEvent to chat's; ok is false for kinds chat
// ignores.
func Convert(ev *eventsv1.RelationEvent) (chat.RelationEvent, bool) {
	e := chat.RelationEvent{User: ev.GetUserId(), Peer: ev.GetPeerUserId(), Group: ev.GetGroupId(), Subscription: ev.GetSubscriptionId()}
	switch ev.GetKind() {
	case eventsv1.RelationEvent_FRIEND_ADDED:
		e.Kind = chat.FriendAdded
	case eventsv1.RelationEvent_FRIEND_REMOVED:
		e.Kind = chat.FriendRemoved
	case eventsv1.RelationEvent_BLOCKED:
		e.Kind = chat.Blocked
	case eventsv1.RelationEvent_UNBLOCKED:
		e.Kind = chat.Unblocked
	case eventsv1.RelationEvent_GROUP_MEMBER_JOINED:
		e.Kind = chat.GroupMemberJoined
	case eventsv1.RelationEvent_GROUP_MEMBER_LEFT:
		e.Kind = chat.GroupMemberLeft
	case eventsv1.RelationEvent_GROUP_DISMISSED:
		e.Kind = chat.GroupDismissed
	case eventsv1.RelationEvent_SUBSCRIPTION_FOLLOWED:
		e.Kind = chat.SubscriptionFollowed
	case eventsv1.RelationEvent_SUBSCRIPTION_UNFOLLOWED:
		e.Kind = chat.SubscriptionUnfollowed
	case eventsv1.RelationEvent_GROUP_CHANGED:
		e.Kind = chat.GroupChanged
	case eventsv1.RelationEvent_SESSIONS_REVOKED:
		e.Kind = chat.SessionsRevoked
	default:
		return e, false
	}
	return e, true
}
