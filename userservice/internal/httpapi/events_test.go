package httpapi_test

import (
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/proto"

	"github.com/privateim/privateim/foundation/natsauth"
	"github.com/privateim/privateim/foundation/stacktest"
	"github.com/privateim/privateim/foundation/tlsconfig/devpki"
	eventsv1 "github.com/privateim/privateim/protos/events/v1"

	"github.com/privateim/privateim/userservice/internal/config"
	"github.com/privateim/privateim/userservice/internal/events"
	"github.com/privateim/privateim/userservice/internal/natstest"
	"github.com/privateim/privateim/userservice/internal/usertest"
)

// wantEvent is an expected RelationEvent; ids are decimal strings, "" for
// unset.
type wantEvent struct {
	kind                            eventsv1.RelationEvent_Kind
	user, peer, group, subscription string
}

func id64(t *testing.T, s string) int64 {
	t.Helper()
	if s == "" {
		return 0
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// expectEvents reads len(want) events from ch, each within a deadline, and
// compares them in order.
func expectEvents(t *testing.T, ch <-chan *nats.Msg, want ...wantEvent) {
	t.Helper()
	for i, w := range want {
		var m *nats.Msg
		select {
		case m = <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("event %d (%s) did not arrive", i, w.kind)
		}
		var got eventsv1.RelationEvent
		if err := proto.Unmarshal(m.Data, &got); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		exp := &eventsv1.RelationEvent{Kind: w.kind, UserId: id64(t, w.user), PeerUserId: id64(t, w.peer),
			GroupId: id64(t, w.group), SubscriptionId: id64(t, w.subscription)}
		if got.GetAt() == nil || got.GetAt().AsTime().IsZero() {
			t.Fatalf("event %d without a time: %v", i, &got)
		}
		got.At = nil
		if !proto.Equal(&got, exp) {
			t.Fatalf("event %d: got %v, want %v", i, &got, exp)
		}
	}
}

func TestRelationEvents(t *testing.T) {
	t.Parallel()
	var ch <-chan *nats.Msg
	var ns *stacktest.NATS
	e := usertest.StartWith(t, usertest.Options{Configure: func(c *config.Config) {
		ns = natstest.Start(t, devpki.Paths(filepath.Dir(c.TLS.CA)))
		ch = natstest.Subscribe(t, ns, events.Subject)
		c.NATSURL, c.NATSAuth = ns.URL, ns.Users[natsauth.Publisher]
	}})
	a := e.NewAccount(t, "Ann")
	b := e.NewAccount(t, "Ben")
	c := e.NewAccount(t, "Cai")
	sub := newSubscription(t, subscriptions(t, e), a, "Events Weekly")
	const (
		added     = eventsv1.RelationEvent_FRIEND_ADDED
		removed   = eventsv1.RelationEvent_FRIEND_REMOVED
		blocked   = eventsv1.RelationEvent_BLOCKED
		unblocked = eventsv1.RelationEvent_UNBLOCKED
		joined    = eventsv1.RelationEvent_GROUP_MEMBER_JOINED
		left      = eventsv1.RelationEvent_GROUP_MEMBER_LEFT
		dismissed = eventsv1.RelationEvent_GROUP_DISMISSED
		followed  = eventsv1.RelationEvent_SUBSCRIPTION_FOLLOWED
		unfollow  = eventsv1.RelationEvent_SUBSCRIPTION_UNFOLLOWED
	)

	t.Run("friends", func(t *testing.T) {
		befriend(t, e, a, b)
		expectEvents(t, ch, wantEvent{kind: added, user: b.ID, peer: a.ID})
		// Crossing requests accept: one event, by the second requester.
		must(t, e, a, "POST", "/api/v1/friends/requests", map[string]string{"user_id": c.ID}, http.StatusCreated)
		must(t, e, c, "POST", "/api/v1/friends/requests", map[string]string{"user_id": a.ID}, http.StatusOK)
		expectEvents(t, ch, wantEvent{kind: added, user: c.ID, peer: a.ID})
		must(t, e, a, "DELETE", "/api/v1/friends/"+c.ID, nil, http.StatusNoContent)
		expectEvents(t, ch, wantEvent{kind: removed, user: a.ID, peer: c.ID})
	})
	t.Run("blacklist", func(t *testing.T) {
		must(t, e, a, "PUT", "/api/v1/blacklist/"+b.ID, nil, http.StatusNoContent)
		must(t, e, a, "PUT", "/api/v1/blacklist/"+b.ID, nil, http.StatusNoContent) // no change, no event
		must(t, e, a, "DELETE", "/api/v1/blacklist/"+b.ID, nil, http.StatusNoContent)
		expectEvents(t, ch, wantEvent{kind: blocked, user: a.ID, peer: b.ID}, wantEvent{kind: unblocked, user: a.ID, peer: b.ID})
		// Reject with blacklist blocks.
		must(t, e, c, "POST", "/api/v1/friends/requests", map[string]string{"user_id": b.ID}, http.StatusCreated)
		must(t, e, b, "POST", "/api/v1/friends/requests/"+c.ID+"/reject", map[string]bool{"blacklist": true}, http.StatusNoContent)
		expectEvents(t, ch, wantEvent{kind: blocked, user: b.ID, peer: c.ID})
	})
	t.Run("groups", func(t *testing.T) {
		g := createGroup(t, e, a, "Evented", b)
		expectEvents(t, ch, wantEvent{kind: joined, user: a.ID, group: g.ID}, wantEvent{kind: joined, user: b.ID, peer: a.ID, group: g.ID})
		must(t, e, a, "PATCH", "/api/v1/groups/"+g.ID+"/access", map[string]string{"join_policy": "open"}, http.StatusOK)
		must(t, e, c, "POST", "/api/v1/groups/"+g.ID+"/join", nil, http.StatusOK)
		must(t, e, c, "POST", "/api/v1/groups/"+g.ID+"/join", nil, http.StatusConflict) // failed: no event
		must(t, e, c, "POST", "/api/v1/groups/"+g.ID+"/quit", nil, http.StatusNoContent)
		must(t, e, a, "DELETE", "/api/v1/groups/"+g.ID+"/members/"+b.ID, nil, http.StatusNoContent)
		must(t, e, a, "DELETE", "/api/v1/groups/"+g.ID, nil, http.StatusNoContent)
		expectEvents(t, ch,
			wantEvent{kind: eventsv1.RelationEvent_GROUP_CHANGED, user: a.ID, group: g.ID}, // the access change
			wantEvent{kind: joined, user: c.ID, group: g.ID},
			wantEvent{kind: left, user: c.ID, group: g.ID},
			wantEvent{kind: left, user: b.ID, peer: a.ID, group: g.ID},
			wantEvent{kind: dismissed, user: a.ID, group: g.ID})
	})
	t.Run("follows", func(t *testing.T) {
		must(t, e, b, "POST", "/api/v1/subscriptions/"+sub+"/follow", nil, http.StatusOK)
		must(t, e, b, "POST", "/api/v1/subscriptions/"+sub+"/follow", nil, http.StatusConflict) // no event
		must(t, e, b, "DELETE", "/api/v1/subscriptions/"+sub+"/follow", nil, http.StatusNoContent)
		expectEvents(t, ch, wantEvent{kind: followed, user: b.ID, subscription: sub}, wantEvent{kind: unfollow, user: b.ID, subscription: sub})
	})
	t.Run("nothing else was published", func(t *testing.T) {
		select {
		case m := <-ch:
			var got eventsv1.RelationEvent
			_ = proto.Unmarshal(m.Data, &got)
			t.Fatalf("unexpected event %v", &got)
		default:
		}
	})
	t.Run("requests succeed while NATS is down", func(t *testing.T) {
		ns.Server.Shutdown()
		ns.Server.WaitForShutdown()
		must(t, e, a, "PUT", "/api/v1/blacklist/"+c.ID, nil, http.StatusNoContent)
		must(t, e, c, "POST", "/api/v1/subscriptions/"+sub+"/follow", nil, http.StatusOK)
	})
}
