package grpcapi_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/privateim/privateim/dataservice/internal/dataservicetest"
	"github.com/privateim/privateim/foundation/poll"
	datav1 "github.com/privateim/privateim/protos/data/v1"
)

func notice(id, content string) *datav1.AppendMessageRequest {
	return &datav1.AppendMessageRequest{ClientMsgId: id, Kind: "group_event", Content: []byte(content)}
}

// groupMessages reads every message of a group's conversation.
func groupMessages(t *testing.T, e *dataservicetest.Env, id int64) []*datav1.Message {
	t.Helper()
	res := check(e.Messages.GetMessages(testCtx(t), &datav1.GetMessagesRequest{Conversation: "g:" + strconv.FormatInt(id, 10), Limit: 1000}))(t)
	return res.GetMessages()
}

func TestGroupChangeAndItsNoticeCommitTogether(t *testing.T) {
	e := dataservicetest.Start(t)
	ctx := testCtx(t)
	owner, ann, bob := newUser(t, e, "Owner"), newUser(t, e, "Ann"), newUser(t, e, "Bob")
	created := check(e.GroupChanges.CreateGroupNoticePlus(ctx, &datav1.CreateGroupNoticePlusRequest{
		Group:  &datav1.CreateGroupPlusRequest{Name: "g", OwnerId: owner.GetId(), MemberIds: []int64{ann.GetId(), bob.GetId()}},
		Notice: notice("create-1", `{"event":"created"}`),
	}))(t)
	gid := created.GetGroup().GetId()
	if n := created.GetNotice(); n.GetSeq() != 1 || n.GetConversation() != "g:"+strconv.FormatInt(gid, 10) || n.GetSenderId() != 0 {
		t.Fatalf("create notice %v, want seq 1 in the group's conversation from sender 0", n)
	}

	t.Run("a change stores its notice with the next seq", func(t *testing.T) {
		res := check(e.GroupChanges.ChangeGroupPlus(ctx, &datav1.ChangeGroupPlusRequest{
			GroupId: gid, Group: &datav1.UpdateGroupRequest{Name: proto.String("renamed")},
			Members: []*datav1.GroupMemberChange{{UserId: ann.GetId(), Update: &datav1.UpdateGroupMemberRequest{Role: datav1.GroupRole_GROUP_ROLE_ADMIN.Enum()}}},
			Notice:  notice("rename-1", `{"event":"renamed"}`), ActorId: owner.GetId(), ActorMinRole: datav1.GroupRole_GROUP_ROLE_OWNER, MaxAdmins: 1,
		}))(t)
		if res.GetGroup().GetName() != "renamed" || res.GetNotice().GetSeq() != 2 || res.GetDuplicate() ||
			len(res.GetMembers()) != 1 || res.GetMembers()[0].GetRole() != datav1.GroupRole_GROUP_ROLE_ADMIN {
			t.Fatalf("change: %v", res)
		}
	})
	t.Run("a retry changes nothing and answers the stored notice", func(t *testing.T) {
		res := check(e.GroupChanges.ChangeGroupPlus(ctx, &datav1.ChangeGroupPlusRequest{
			GroupId: gid, Group: &datav1.UpdateGroupRequest{Name: proto.String("other")},
			Notice: notice("rename-1", `{"event":"renamed"}`),
		}))(t)
		if !res.GetDuplicate() || res.GetNotice().GetSeq() != 2 || res.GetGroup().GetName() != "renamed" {
			t.Fatalf("retry: %v", res)
		}
	})
	t.Run("a failed precondition stores neither the change nor the notice", func(t *testing.T) {
		cases := []struct {
			name string
			req  *datav1.ChangeGroupPlusRequest
		}{
			{"actor below the role", &datav1.ChangeGroupPlusRequest{
				GroupId: gid, Group: &datav1.UpdateGroupRequest{Name: proto.String("by bob")},
				ActorId: bob.GetId(), ActorMinRole: datav1.GroupRole_GROUP_ROLE_ADMIN}},
			{"over the admin cap", &datav1.ChangeGroupPlusRequest{
				GroupId: gid, Members: []*datav1.GroupMemberChange{{UserId: bob.GetId(), Update: &datav1.UpdateGroupMemberRequest{Role: datav1.GroupRole_GROUP_ROLE_ADMIN.Enum()}}},
				MaxAdmins: 1}},
			{"over the member cap", &datav1.ChangeGroupPlusRequest{
				GroupId: gid, Members: []*datav1.GroupMemberChange{{UserId: newUser(t, e, "Cap").GetId(), Add: true}}, MaxMembers: 3}},
			{"target role changed meanwhile", &datav1.ChangeGroupPlusRequest{
				GroupId: gid, Members: []*datav1.GroupMemberChange{{UserId: ann.GetId(), ExpectRole: datav1.GroupRole_GROUP_ROLE_MEMBER, Update: &datav1.UpdateGroupMemberRequest{Left: proto.Bool(true)}}}}},
		}
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				c.req.Notice = notice(fmt.Sprintf("refused-%d", i), `{}`)
				wantCode(t, errOf(e.GroupChanges.ChangeGroupPlus(ctx, c.req)), codes.FailedPrecondition)
			})
		}
		g := check(e.Groups.GetGroup(ctx, &datav1.GetGroupRequest{Id: gid}))(t)
		b := check(e.Groups.GetGroupMember(ctx, &datav1.GetGroupMemberRequest{GroupId: gid, UserId: bob.GetId()}))(t)
		a := check(e.Groups.GetGroupMember(ctx, &datav1.GetGroupMemberRequest{GroupId: gid, UserId: ann.GetId()}))(t)
		if g.GetName() != "renamed" || b.GetRole() != datav1.GroupRole_GROUP_ROLE_MEMBER || a.GetLeft() {
			t.Errorf("a refused change was applied: %v %v %v", g, b, a)
		}
		if ms := groupMessages(t, e, gid); len(ms) != 2 {
			t.Errorf("%d messages in the group, want 2: a refused change stored its notice", len(ms))
		}
	})
	t.Run("moderation fields round-trip", func(t *testing.T) {
		until := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
		res := check(e.GroupChanges.ChangeGroupPlus(ctx, &datav1.ChangeGroupPlusRequest{
			GroupId: gid,
			Group:   &datav1.UpdateGroupRequest{MuteAll: proto.Bool(true), Announcement: proto.String("read the rules"), AnnouncementBy: owner.GetId(), AnnouncementAt: tsOf(until)},
			Members: []*datav1.GroupMemberChange{{UserId: bob.GetId(), Update: &datav1.UpdateGroupMemberRequest{MutedUntil: tsOf(until)}}},
			Notice:  notice("moderate-1", `{}`),
		}))(t)
		g, m := res.GetGroup(), res.GetMembers()[0]
		if !g.GetMuteAll() || g.GetAnnouncement() != "read the rules" || g.GetAnnouncementBy() != owner.GetId() ||
			!g.GetAnnouncementAt().AsTime().Equal(until) || !m.GetMutedUntil().AsTime().Equal(until) {
			t.Fatalf("moderation: %v %v", g, m)
		}
		m = check(e.Groups.UpdateGroupMember(ctx, &datav1.UpdateGroupMemberRequest{GroupId: gid, UserId: bob.GetId(), MutedUntil: tsOf(time.Unix(0, 0))}))(t)
		if m.GetMutedUntil() != nil {
			t.Errorf("the zero timestamp did not unmute: %v", m)
		}
	})
	t.Run("bad requests name the field", func(t *testing.T) {
		for field, req := range map[string]*datav1.ChangeGroupPlusRequest{
			"notice":              {GroupId: gid},
			"notice.sender_id":    {GroupId: gid, Notice: &datav1.AppendMessageRequest{SenderId: 5, ClientMsgId: "x", Kind: "k"}},
			"notice.conversation": {GroupId: gid, Notice: &datav1.AppendMessageRequest{Conversation: "g:1", ClientMsgId: "x", Kind: "k"}},
			"group.announcement":  {GroupId: gid, Notice: notice("x", "{}"), Group: &datav1.UpdateGroupRequest{Announcement: proto.String(string(make([]rune, 2001)))}},
			"members[0].update":   {GroupId: gid, Notice: notice("x", "{}"), Members: []*datav1.GroupMemberChange{{UserId: 1}}},
			"actor_id":            {GroupId: gid, Notice: notice("x", "{}"), ActorMinRole: datav1.GroupRole_GROUP_ROLE_ADMIN},
		} {
			st := wantCode(t, errOf(e.GroupChanges.ChangeGroupPlus(ctx, req)), codes.InvalidArgument)
			if !containsField(st, field) {
				t.Errorf("%s: %v does not name the field", field, st)
			}
		}
	})
}

// A change whose notice cannot be appended (the conversation's counter is
// locked past the call's deadline) is committed all the same, and the
// outbox flush appends its notice once the document store answers again.
func TestGroupNoticeOfACommittedChangeIsAppendedLater(t *testing.T) {
	e := dataservicetest.StartWith(t, dataservicetest.Options{NoticeFlush: 200 * time.Millisecond})
	ctx := testCtx(t)
	owner := newUser(t, e, "Owner")
	created := check(e.GroupChanges.CreateGroupNoticePlus(ctx, &datav1.CreateGroupNoticePlusRequest{
		Group: &datav1.CreateGroupPlusRequest{Name: "g", OwnerId: owner.GetId()}, Notice: notice("c", `{}`),
	}))(t)
	gid := created.GetGroup().GetId()
	release := conversationLock(t, e, "g:"+strconv.FormatInt(gid, 10))
	callCtx, cancel := context.WithTimeout(ctx, time.Second)
	_, err := e.GroupChanges.ChangeGroupPlus(callCtx, &datav1.ChangeGroupPlusRequest{
		GroupId: gid, Group: &datav1.UpdateGroupRequest{Name: proto.String("renamed")}, Notice: notice("r", `{"event":"renamed"}`),
	})
	cancel()
	if err == nil {
		// The append may also fail fast and the call succeed without a notice.
		t.Log("the call returned before its deadline")
	}
	if g := check(e.Groups.GetGroup(ctx, &datav1.GetGroupRequest{Id: gid}))(t); g.GetName() != "renamed" {
		t.Fatalf("the change was not committed: %v", g)
	}
	release()
	poll.Eventually(t, 20*time.Second, func() error {
		ms := groupMessages(t, e, gid)
		if len(ms) != 2 || ms[1].GetClientMsgId() != "r" || ms[1].GetSeq() != 2 {
			return fmt.Errorf("group messages %v, want the create and the rename notice", ms)
		}
		return nil
	})
}

func tsOf(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }

// containsField reports whether st has a BadRequest violation of field.
func containsField(st *status.Status, field string) bool {
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				if v.GetField() == field {
					return true
				}
			}
		}
	}
	return false
}
