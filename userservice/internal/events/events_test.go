package events_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/privateim/privateim/foundation/natsauth"
	"github.com/privateim/privateim/foundation/stacktest"
	eventsv1 "github.com/privateim/privateim/protos/events/v1"

	"github.com/privateim/privateim/userservice/internal/events"
	"github.com/privateim/privateim/userservice/internal/natstest"
	"github.com/privateim/privateim/userservice/internal/relation"
)

func TestPublish(t *testing.T) {
	_, certs := stacktest.TempCerts(t)
	ns := natstest.Start(t, certs)
	ch := natstest.Subscribe(t, ns, events.Subject)
	p, err := events.Connect(ns.Client(natsauth.Publisher), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	sent := []relation.Event{
		{Kind: relation.FriendAdded, UserID: 1, PeerUserID: 2, At: at},
		{Kind: relation.GroupMemberLeft, UserID: 3, PeerUserID: 4, GroupID: 5, At: at},
		{Kind: relation.SubscriptionFollowed, UserID: 6, SubscriptionID: 7, At: at},
	}
	p.Publish(context.Background(), sent...)
	for i, want := range sent {
		select {
		case m := <-ch:
			var got eventsv1.RelationEvent
			if err := proto.Unmarshal(m.Data, &got); err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
			if !proto.Equal(&got, events.Marshal(want)) || got.GetKind().String() != want.Kind.String() {
				t.Fatalf("event %d: got %v, want %v", i, &got, events.Marshal(want))
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("event %d did not arrive", i)
		}
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// After Close a publish is logged, not a panic or an error for the caller.
	p.Publish(context.Background(), sent[0])
}

func TestKindsMatchTheProto(t *testing.T) {
	for k := relation.FriendAdded; k <= relation.SessionsRevoked; k++ {
		if got := eventsv1.RelationEvent_Kind(k).String(); got != k.String() {
			t.Errorf("kind %d: proto %s, relation %s", k, got, k)
		}
	}
	if n := len(eventsv1.RelationEvent_Kind_name); n != int(relation.SessionsRevoked)+1 {
		t.Errorf("the proto has %d kinds, relation %d", n, relation.SessionsRevoked+1)
	}
}

func TestConnectFails(t *testing.T) {
	_, certs := stacktest.TempCerts(t)
	ns := natstest.Start(t, certs)
	_, foreign := stacktest.TempCerts(t)
	good := ns.Client(natsauth.Publisher)
	for _, tt := range []struct {
		name string
		c    func(c *natsauth.Client)
	}{
		{"nobody listens", func(c *natsauth.Client) { c.URL = "nats://127.0.0.1:1" }},
		{"no credential", func(c *natsauth.Client) { c.Auth = natsauth.Auth{} }},
		{"wrong password", func(c *natsauth.Client) { c.Auth.Password += "x" }},
		{"server certificate from another CA", func(c *natsauth.Client) { c.TLS = foreign.Client }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.c(&c)
			if p, err := events.Connect(c, slog.New(slog.DiscardHandler)); err == nil {
				p.Close(context.Background())
				t.Fatal("connected")
			}
		})
	}
}
