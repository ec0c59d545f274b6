package grpcapi_test

import (
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/privateim/privateim/dataservice/internal/dataservicetest"
	datav1 "github.com/privateim/privateim/protos/data/v1"
)

// TestGroupAccessPaths: every path that adds a member (JoinGroupPlus and
// ChangeGroupPlus) refuses a banned user, consumes a pending request only
// once, and stores the join seq after the conversation's head.
func TestGroupAccessPaths(t *testing.T) {
	e := dataservicetest.Start(t)
	ctx := testCtx(t)
	owner, ann, bob, cat := newUser(t, e, "Owner"), newUser(t, e, "Ann"), newUser(t, e, "Bob"), newUser(t, e, "Cat")
	g := check(e.GroupChanges.CreateGroupNoticePlus(ctx, &datav1.CreateGroupNoticePlusRequest{
		Group:  &datav1.CreateGroupPlusRequest{Name: "g", OwnerId: owner.GetId(), MemberIds: []int64{ann.GetId()}},
		Notice: notice("create-access", `{"event":"created"}`),
	}))(t).GetGroup()
	gid := g.GetId()
	if g.GetJoinPolicy() != datav1.GroupJoinPolicy_GROUP_JOIN_POLICY_APPROVAL || g.GetHistory() != datav1.GroupHistory_GROUP_HISTORY_JOINED {
		t.Fatalf("a new group is %v/%v, want approval/joined", g.GetJoinPolicy(), g.GetHistory())
	}

	t.Run("join seq is after the head", func(t *testing.T) {
		m := check(e.Groups.JoinGroupPlus(ctx, &datav1.JoinGroupPlusRequest{GroupId: gid, UserId: bob.GetId(), MaxMembers: 10}))(t)
		if m.GetJoinSeq() != 2 { // the created notice is seq 1
			t.Fatalf("join_seq %d, want 2", m.GetJoinSeq())
		}
	})
	t.Run("removal with ban keeps every add path shut", func(t *testing.T) {
		check(e.Groups.RemoveGroupMemberPlus(ctx, &datav1.RemoveGroupMemberPlusRequest{GroupId: gid, UserId: bob.GetId(), Ban: true, BannedBy: owner.GetId()}))(t)
		_, err := e.Groups.JoinGroupPlus(ctx, &datav1.JoinGroupPlusRequest{GroupId: gid, UserId: bob.GetId(), MaxMembers: 10})
		wantCode(t, err, codes.FailedPrecondition)
		_, err = e.GroupChanges.ChangeGroupPlus(ctx, &datav1.ChangeGroupPlusRequest{
			GroupId: gid, Members: []*datav1.GroupMemberChange{{UserId: bob.GetId(), Add: true}}, Notice: notice("rejoin-banned", `{"event":"member_joined"}`),
		})
		wantCode(t, err, codes.FailedPrecondition)
		_, err = e.Groups.PutGroupJoinRequest(ctx, &datav1.PutGroupJoinRequestRequest{GroupId: gid, UserId: bob.GetId(), Kind: datav1.GroupJoinKind_GROUP_JOIN_KIND_REQUEST})
		wantCode(t, err, codes.FailedPrecondition)
		check(e.Groups.DeleteGroupBan(ctx, &datav1.DeleteGroupBanRequest{GroupId: gid, UserId: bob.GetId()}))(t)
		_, err = e.Groups.DeleteGroupBan(ctx, &datav1.DeleteGroupBanRequest{GroupId: gid, UserId: bob.GetId()})
		wantCode(t, err, codes.NotFound)
	})
	t.Run("a request is accepted once", func(t *testing.T) {
		check(e.Groups.PutGroupJoinRequest(ctx, &datav1.PutGroupJoinRequestRequest{GroupId: gid, UserId: cat.GetId(), Kind: datav1.GroupJoinKind_GROUP_JOIN_KIND_REQUEST}))(t)
		_, err := e.Groups.PutGroupJoinRequest(ctx, &datav1.PutGroupJoinRequestRequest{GroupId: gid, UserId: cat.GetId(), Kind: datav1.GroupJoinKind_GROUP_JOIN_KIND_REQUEST})
		wantCode(t, err, codes.AlreadyExists)
		res := check(e.GroupChanges.ChangeGroupPlus(ctx, &datav1.ChangeGroupPlusRequest{
			GroupId: gid, Members: []*datav1.GroupMemberChange{{UserId: cat.GetId(), Add: true, FromRequest: true}}, Notice: notice("accept-cat", `{"event":"member_joined"}`),
		}))(t)
		if m := res.GetMembers()[0]; m.GetJoinSeq() < 2 || m.GetJoinSeq() > res.GetNotice().GetSeq() {
			t.Fatalf("join_seq %d, want after the head and at most the notice's seq %d", m.GetJoinSeq(), res.GetNotice().GetSeq())
		}
		r := check(e.Groups.GetGroupJoinRequest(ctx, &datav1.GetGroupJoinRequestRequest{GroupId: gid, UserId: cat.GetId()}))(t)
		if r.GetState() != datav1.GroupJoinState_GROUP_JOIN_STATE_ACCEPTED {
			t.Fatalf("request %v, want ACCEPTED", r)
		}
		check(e.Groups.RemoveGroupMemberPlus(ctx, &datav1.RemoveGroupMemberPlusRequest{GroupId: gid, UserId: cat.GetId()}))(t)
		_, err = e.Groups.JoinGroupPlus(ctx, &datav1.JoinGroupPlusRequest{GroupId: gid, UserId: cat.GetId(), MaxMembers: 10, FromRequest: true})
		wantCode(t, err, codes.FailedPrecondition) // answered already
	})
	t.Run("the cap", func(t *testing.T) {
		_, err := e.Groups.JoinGroupPlus(ctx, &datav1.JoinGroupPlusRequest{GroupId: gid, UserId: cat.GetId(), MaxMembers: 2})
		wantCode(t, err, codes.FailedPrecondition)
	})
	t.Run("a change removes with a ban and lifts it with its notices", func(t *testing.T) {
		res := check(e.GroupChanges.ChangeGroupPlus(ctx, &datav1.ChangeGroupPlusRequest{
			GroupId: gid, ActorId: owner.GetId(), ActorMinRole: datav1.GroupRole_GROUP_ROLE_ADMIN,
			Members: []*datav1.GroupMemberChange{{UserId: ann.GetId(), Update: &datav1.UpdateGroupMemberRequest{Left: proto.Bool(true)}, Ban: true}},
			Notice:  notice("ban-ann", `{"event":"member_banned"}`),
		}))(t)
		if !res.GetMembers()[0].GetLeft() || res.GetNotice().GetSeq() == 0 {
			t.Fatalf("ban change %v", res)
		}
		b := check(e.Groups.GetGroupBan(ctx, &datav1.GetGroupBanRequest{GroupId: gid, UserId: ann.GetId()}))(t)
		if b.GetBannedBy() != owner.GetId() {
			t.Fatalf("ban %v, want by the owner", b)
		}
		unban := &datav1.ChangeGroupPlusRequest{
			GroupId: gid, Members: []*datav1.GroupMemberChange{{UserId: ann.GetId(), Unban: true}}, Notice: notice("unban-ann", `{"event":"member_unbanned"}`),
		}
		check(e.GroupChanges.ChangeGroupPlus(ctx, unban))(t)
		_, err := e.Groups.GetGroupBan(ctx, &datav1.GetGroupBanRequest{GroupId: gid, UserId: ann.GetId()})
		wantCode(t, err, codes.NotFound)
		unban.Notice = notice("unban-ann-2", `{"event":"member_unbanned"}`)
		_, err = e.GroupChanges.ChangeGroupPlus(ctx, unban)
		wantCode(t, err, codes.FailedPrecondition)
	})
	t.Run("a join request's notices go to the user's sys conversation with the change", func(t *testing.T) {
		dan := newUser(t, e, "Dan")
		sys := "sys:" + strconv.FormatInt(dan.GetId(), 10)
		rn := func(key string) *datav1.JoinRequestNotice {
			return &datav1.JoinRequestNotice{ClientMsgId: key, Content: []byte(`{"kind":"group_request","event":"` + key + `"}`)}
		}
		j := check(e.Groups.PutGroupJoinRequest(ctx, &datav1.PutGroupJoinRequestRequest{
			GroupId: gid, UserId: dan.GetId(), Kind: datav1.GroupJoinKind_GROUP_JOIN_KIND_INVITE, InviterId: ann.GetId(), Notice: rn("invite-dan"),
		}))(t)
		if j.GetNoticeSeq() != 1 {
			t.Fatalf("invite notice_seq %d, want 1 (the first of %s)", j.GetNoticeSeq(), sys)
		}
		// A refused answer stores no notice: nothing half-written.
		_, err := e.Groups.UpdateGroupJoinRequest(ctx, &datav1.UpdateGroupJoinRequestRequest{
			GroupId: gid, UserId: dan.GetId(), State: datav1.GroupJoinState_GROUP_JOIN_STATE_REJECTED,
			ExpectedState: datav1.GroupJoinState_GROUP_JOIN_STATE_ACCEPTED, Notice: rn("refused"),
		})
		wantCode(t, err, codes.FailedPrecondition)
		j = check(e.Groups.UpdateGroupJoinRequest(ctx, &datav1.UpdateGroupJoinRequestRequest{
			GroupId: gid, UserId: dan.GetId(), State: datav1.GroupJoinState_GROUP_JOIN_STATE_CANCELLED,
			ExpectedState: datav1.GroupJoinState_GROUP_JOIN_STATE_PENDING, Notice: rn("cancel-dan"),
		}))(t)
		if j.GetNoticeSeq() != 2 || j.GetState() != datav1.GroupJoinState_GROUP_JOIN_STATE_CANCELLED {
			t.Fatalf("cancel: %v, want cancelled with notice_seq 2", j)
		}
		h := check(e.Messages.GetMessages(ctx, &datav1.GetMessagesRequest{Conversation: sys, Limit: 10}))(t).GetMessages()
		var got []string
		for _, m := range h {
			if m.GetKind() != "group_request" || m.GetSenderId() != 0 {
				t.Fatalf("notice %v, want kind group_request from sender 0", m)
			}
			got = append(got, m.GetClientMsgId())
		}
		if strings.Join(got, ",") != "invite-dan,cancel-dan" {
			t.Fatalf("%s holds %v, want the invite's and the cancel's notices", sys, got)
		}
		_, err = e.Groups.PutGroupJoinRequest(ctx, &datav1.PutGroupJoinRequestRequest{
			GroupId: gid, UserId: dan.GetId(), Kind: datav1.GroupJoinKind_GROUP_JOIN_KIND_REQUEST, Notice: &datav1.JoinRequestNotice{},
		})
		wantField(t, err, "notice.client_msg_id")
	})
	t.Run("bad input names the field", func(t *testing.T) {
		_, err0 := e.GroupChanges.ChangeGroupPlus(ctx, &datav1.ChangeGroupPlusRequest{
			GroupId: gid, Members: []*datav1.GroupMemberChange{{UserId: cat.GetId(), Update: &datav1.UpdateGroupMemberRequest{Left: proto.Bool(true)}, Ban: true}},
			Notice: notice("ban-no-actor", `{}`),
		})
		wantField(t, err0, "members[0].ban")
		_, err := e.Groups.JoinGroupPlus(ctx, &datav1.JoinGroupPlusRequest{GroupId: gid, UserId: cat.GetId()})
		wantField(t, err, "max_members")
		_, err = e.Groups.UpdateGroup(ctx, &datav1.UpdateGroupRequest{Id: gid, JoinPolicy: datav1.GroupJoinPolicy(9).Enum()})
		wantField(t, err, "join_policy")
		_, err = e.Groups.ListGroupJoinRequests(ctx, &datav1.ListGroupJoinRequestsRequest{GroupId: gid, UserId: cat.GetId()})
		wantField(t, err, "group_id")
	})
}

// wantField checks err is InvalidArgument naming field first in its message.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	if st := wantCode(t, err, codes.InvalidArgument); !strings.HasPrefix(st.Message(), field+": ") {
		t.Fatalf("message %q does not name %q", st.Message(), field)
	}
}
