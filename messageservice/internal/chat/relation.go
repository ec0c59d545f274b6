// Relation events (docs/events.md) applied to the relation and membership
// caches: as invalidation only. An event says which entry may be wrong,
// never what is true, because anyone who can publish on NATS could have
// written it: the entry is dropped and the next use reads the DataService.

package chat

// RelationKind is a relation change (docs/events.md).
type RelationKind int

// The relation changes chat applies.
const (
	FriendAdded RelationKind = iota + 1
	FriendRemoved
	Blocked
	Unblocked
	GroupMemberJoined
	GroupMemberLeft
	GroupDismissed
	SubscriptionFollowed
	SubscriptionUnfollowed
	// GroupChanged: roles, mutes or mute all of Group changed; reread it.
	GroupChanged
	// SessionsRevoked is not a relation: User's tokens may have been
	// revoked; their connections are checked again (Revoke).
	SessionsRevoked
)

// Relation is one relation event.
type RelationEvent struct {
	Kind         RelationKind
	User, Peer   int64
	Group        int64
	Subscription int64
}

// ApplyRelation drops the cache entry one relation event names; its
// content (who joined, who left) is not applied.
func (s *Service) ApplyRelation(ev RelationEvent) {
	switch ev.Kind {
	case FriendAdded, FriendRemoved, Blocked, Unblocked:
		s.rels.forget(ev.User, ev.Peer)
	case GroupMemberJoined, GroupMemberLeft, GroupDismissed, GroupChanged:
		s.grps.forget(ev.Group)
	case SubscriptionFollowed, SubscriptionUnfollowed:
		s.subs.forget(ev.Subscription)
	case SessionsRevoked:
		s.Revoke(ev.User)
	}
}

// ForgetCaches marks every cached relation and membership stale, so the
// next use reads the DataService: relation events may have been missed
// (NATS reconnected; delivery is at most once).
func (s *Service) ForgetCaches() {
	s.rels.clear()
	s.grps.stale()
	s.subs.stale()
}
