package datastore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/privateim/privateim/foundation/stacktest"
	"github.com/privateim/privateim/foundation/tlsconfig"
	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/messageservice/internal/datastore"
)

// TestSessionStart reads through a real DataService what a session starts
// with, one list longer than the SessionStartPlus page (1000): the first
// page comes with the Plus call, the rest with ListFriendships, and the
// answer equals the one-list-at-a-time reads.
func TestSessionStart(t *testing.T) {
	ds := stacktest.StartDataService(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	creds, err := tlsconfig.ClientCredentials(ds.Certs.Client, "")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(ds.Addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	friends, groups, subs, msgs := datav1.NewFriendsClient(conn), datav1.NewGroupsClient(conn), datav1.NewSubscriptionsClient(conn), datav1.NewMessagesClient(conn)

	const user, nFriends = int64(1), 1003
	var wantFriends []int64
	for i := range nFriends {
		f := int64(1000 + i)
		if _, err := friends.PutFriendship(ctx, &datav1.PutFriendshipRequest{SelfId: user, FriendId: f}); err != nil {
			t.Fatal(err)
		}
		if _, err := friends.UpdateFriendship(ctx, &datav1.UpdateFriendshipRequest{SelfId: user, FriendId: f, Accepted: new(true)}); err != nil {
			t.Fatal(err)
		}
		wantFriends = append(wantFriends, f)
	}
	g, err := groups.CreateGroupPlus(ctx, &datav1.CreateGroupPlusRequest{Name: "g", OwnerId: 2, MemberIds: []int64{user, 2}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := subs.CreateSubscription(ctx, &datav1.CreateSubscriptionRequest{Name: "s", OwnerId: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := subs.Follow(ctx, &datav1.FollowRequest{SubscriptionId: s.GetId(), UserId: user}); err != nil {
		t.Fatal(err)
	}
	if _, err := msgs.AdvanceCursorsPlus(ctx, &datav1.AdvanceCursorsPlusRequest{NoResult: true, Cursors: []*datav1.AdvanceCursorRequest{
		{UserId: user, DeviceId: "a", Conversation: "sys:1", DeliveredSeq: 2, AckedSeq: 2},
		{UserId: user, DeviceId: "b", Conversation: "sys:1", DeliveredSeq: 1, AckedSeq: 1},
	}}); err != nil {
		t.Fatal(err)
	}

	c, err := datastore.Dial(ds.Addr, ds.Certs.Client)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := c.SessionStart(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got.Friends)
	if !slices.Equal(got.Friends, wantFriends) {
		t.Errorf("friends: %d of %d, first %v", len(got.Friends), nFriends, got.Friends[:min(3, len(got.Friends))])
	}
	if !slices.Equal(got.Groups, []int64{g.GetGroup().GetId()}) || !slices.Equal(got.Following, []int64{s.GetId()}) || len(got.Cursors) != 2 {
		t.Errorf("groups %v (want %d), following %v (want %d), cursors %v", got.Groups, g.GetGroup().GetId(), got.Following, s.GetId(), got.Cursors)
	}
	one, err := c.Friends(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(one)
	if !slices.Equal(one, got.Friends) {
		t.Errorf("Friends (%d) and SessionStart (%d) differ", len(one), len(got.Friends))
	}
}
