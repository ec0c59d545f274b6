package grpcapi_test

import (
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/dataservice/internal/dataservicetest"
)

// TestSessionStartPlus: each part of the answer is what the part's own RPC
// answers (paging included); parts not asked for are absent; a bad part
// fails the call naming its field.
func TestSessionStartPlus(t *testing.T) {
	e := dataservicetest.Start(t)
	ctx := testCtx(t)
	a, b, c := newUser(t, e, "ann"), newUser(t, e, "bob"), newUser(t, e, "cy")
	check(e.Friends.PutFriendship(ctx, &datav1.PutFriendshipRequest{SelfId: a.GetId(), FriendId: b.GetId()}))(t)
	check(e.Friends.AcceptFriendPlus(ctx, &datav1.AcceptFriendPlusRequest{RequesterId: a.GetId(), AccepterId: b.GetId()}))(t)
	check(e.Friends.PutFriendship(ctx, &datav1.PutFriendshipRequest{SelfId: a.GetId(), FriendId: c.GetId()}))(t) // not accepted
	check(e.Groups.CreateGroupPlus(ctx, &datav1.CreateGroupPlusRequest{Name: "g", OwnerId: b.GetId(), MemberIds: []int64{a.GetId(), b.GetId()}}))(t)
	for _, name := range []string{"s1", "s2"} {
		s := check(e.Subscriptions.CreateSubscription(ctx, &datav1.CreateSubscriptionRequest{Name: name, OwnerId: c.GetId()}))(t)
		check(e.Subscriptions.Follow(ctx, &datav1.FollowRequest{SubscriptionId: s.GetId(), UserId: a.GetId()}))(t)
	}
	check(e.Messages.AdvanceCursorsPlus(ctx, &datav1.AdvanceCursorsPlusRequest{NoResult: true, Cursors: []*datav1.AdvanceCursorRequest{
		{UserId: a.GetId(), DeviceId: "phone", Conversation: "sys:1", DeliveredSeq: 3, AckedSeq: 2},
		{UserId: a.GetId(), DeviceId: "laptop", Conversation: "g:1", DeliveredSeq: 1, AckedSeq: 1},
	}}))(t)

	accepted, deleted := true, false
	req := &datav1.SessionStartPlusRequest{
		Friendships: &datav1.ListFriendshipsRequest{UserId: a.GetId(), Direction: datav1.FriendshipDirection_FRIENDSHIP_DIRECTION_OUTGOING, Accepted: &accepted, Deleted: &deleted, Limit: 1000},
		Groups:      &datav1.ListGroupsByMemberRequest{UserId: a.GetId(), Limit: 1000},
		Following:   &datav1.ListFollowingRequest{UserId: a.GetId(), Limit: 1}, // two follows: a second page
		Cursors:     &datav1.ListCursorsRequest{UserId: a.GetId(), AllDevices: true},
	}
	got := check(e.Messages.SessionStartPlus(ctx, req))(t)
	want := &datav1.SessionStartPlusResponse{
		Friendships: check(e.Friends.ListFriendships(ctx, req.GetFriendships()))(t),
		Groups:      check(e.Groups.ListGroupsByMember(ctx, req.GetGroups()))(t),
		Following:   check(e.Subscriptions.ListFollowing(ctx, req.GetFollowing()))(t),
		Cursors:     check(e.Messages.ListCursors(ctx, req.GetCursors()))(t),
	}
	if !proto.Equal(got, want) {
		t.Errorf("SessionStartPlus = %v\nwant the parts' own answers %v", got, want)
	}
	if len(got.GetFriendships().GetFriendships()) != 1 || len(got.GetGroups().GetGroups()) != 1 ||
		len(got.GetFollowing().GetSubscriptions()) != 1 || got.GetFollowing().GetNextPageToken() == "" || len(got.GetCursors().GetCursors()) != 2 {
		t.Errorf("SessionStartPlus = %v: want 1 friend, 1 group, 1 of 2 follows with a page token, 2 cursors", got)
	}
	next := check(e.Subscriptions.ListFollowing(ctx, &datav1.ListFollowingRequest{UserId: a.GetId(), Limit: 1, PageToken: got.GetFollowing().GetNextPageToken()}))(t)
	if len(next.GetSubscriptions()) != 1 || next.GetSubscriptions()[0].GetId() == got.GetFollowing().GetSubscriptions()[0].GetId() {
		t.Errorf("the page after the Plus answer: %v", next)
	}

	only := check(e.Messages.SessionStartPlus(ctx, &datav1.SessionStartPlusRequest{Cursors: req.GetCursors()}))(t)
	if only.GetFriendships() != nil || only.GetGroups() != nil || only.GetFollowing() != nil || len(only.GetCursors().GetCursors()) != 2 {
		t.Errorf("cursors only: %v", only)
	}
}

func TestSessionStartPlusRefusals(t *testing.T) {
	e := dataservicetest.Start(t)
	for _, tc := range []struct {
		name  string
		req   *datav1.SessionStartPlusRequest
		field string
	}{
		{"nothing asked", &datav1.SessionStartPlusRequest{}, "friendships"},
		{"friendships without user", &datav1.SessionStartPlusRequest{Friendships: &datav1.ListFriendshipsRequest{}}, "friendships.user_id"},
		{"groups with a negative limit", &datav1.SessionStartPlusRequest{
			Cursors: &datav1.ListCursorsRequest{UserId: 1},
			Groups:  &datav1.ListGroupsByMemberRequest{UserId: 1, Limit: -5},
		}, "groups.limit"},
		{"following without user", &datav1.SessionStartPlusRequest{Following: &datav1.ListFollowingRequest{}}, "following.user_id"},
		{"cursors over 1000 conversations", &datav1.SessionStartPlusRequest{Cursors: &datav1.ListCursorsRequest{UserId: 1, Conversations: make([]string, 1001)}}, "cursors.conversations"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Messages.SessionStartPlus(testCtx(t), tc.req)
			st := wantCode(t, err, codes.InvalidArgument)
			var fields []string
			for _, d := range st.Details() {
				if br, ok := d.(*errdetails.BadRequest); ok {
					for _, v := range br.GetFieldViolations() {
						fields = append(fields, v.GetField())
					}
				}
			}
			if len(fields) == 0 || fields[0] != tc.field || !strings.HasPrefix(st.Message(), tc.field+":") {
				t.Errorf("fields %v, message %q; want field %s", fields, st.Message(), tc.field)
			}
		})
	}
}
