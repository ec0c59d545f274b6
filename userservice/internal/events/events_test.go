package events_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/privateim/privateim/protos/events/v1"

	"github.com/privateim/privateim/userservice/internal/events"
	"github.com/privateim/privateim/userservice/internal/natstest"
	"github.com/privateim/privateim/userservice/internal/relation"
)

func TestPublish(t *testing.T) {
	ns := natstest.Start(t)
	ch := natstest.Subscribe(t, ns.ClientURL(), events.Subject)
	p, err := events.Connect(ns.ClientURL(), slog.New(slog.DiscardHandler))
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
	for k := relation.FriendAdded; k <= relation.GroupChanged; k++ {
		if got := eventsv1.RelationEvent_Kind(k).String(); got != k.String() {
			t.Errorf("kind %d: proto %s, relation %s", k, got, k)
		}
	}
	if n := len(eventsv1.RelationEvent_Kind_name); n != int(relation.GroupChanged)+1 {
		t.Errorf("the proto has %d kinds, relation %d", n, relation.GroupChanged+1)
	}
}

func TestConnectFails(t *testing.T) {
	if _, err := events.Connect("nats://127.0.0.1:1", slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("connected to nothing")
	}
}
