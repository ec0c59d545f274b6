// Relation events (docs/events.md) applied to the relation and membership
// caches.

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
)

// Relation is one relation event.
type RelationEvent struct {
	Kind         RelationKind
	User, Peer   int64
	Group        int64
	Subscription int64
}

// ApplyRelation updates the caches with one relation event.
func (s *Service) ApplyRelation(ev RelationEvent) {
	switch ev.Kind {
	case FriendAdded, FriendRemoved, Blocked, Unblocked:
		s.rels.forget(ev.User, ev.Peer)
	case GroupMemberJoined:
		s.grps.joined(ev.Group, ev.User)
	case GroupMemberLeft:
		s.grps.left(ev.Group, ev.User)
	case GroupDismissed:
		s.grps.ended(ev.Group)
	case GroupChanged:
		s.grps.forget(ev.Group)
	case SubscriptionFollowed:
		s.subs.joined(ev.Subscription, ev.User)
	case SubscriptionUnfollowed:
		s.subs.left(ev.Subscription, ev.User)
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
