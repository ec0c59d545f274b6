package grpcapi_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/privateim/privateim/dataservice/internal/dataservicetest"
	"github.com/privateim/privateim/dataservice/internal/grpcapi"
	"github.com/privateim/privateim/dataservice/internal/store"
	datav1 "github.com/privateim/privateim/protos/data/v1"
)

// wantRefusal checks err is FailedPrecondition carrying exactly one
// ErrorInfo of the DataService's domain whose reason is want's name.
func wantRefusal(t *testing.T, err error, want datav1.Refusal) {
	t.Helper()
	st := wantCode(t, err, codes.FailedPrecondition)
	var infos []*errdetails.ErrorInfo
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			infos = append(infos, info)
		}
	}
	if len(infos) != 1 || infos[0].GetReason() != want.String() || infos[0].GetDomain() != grpcapi.ErrorDomain {
		t.Fatalf("%q: ErrorInfo %v, want one with reason %s, domain %s", st.Message(), infos, want, grpcapi.ErrorDomain)
	}
}

// TestRefusalsCarryErrorInfo: every FailedPrecondition a caller tells apart
// names its reason in an ErrorInfo over real gRPC, so callers never read
// the message's words; one nobody tells apart carries none.
func TestRefusalsCarryErrorInfo(t *testing.T) {
	e := dataservicetest.Start(t)
	ctx := testCtx(t)
	n := 0
	appendEvent := func(conv string, user int64, r *datav1.Reaction, c *datav1.MessageChange) error {
		n++
		_, err := e.Messages.AppendMessage(ctx, &datav1.AppendMessageRequest{Conversation: conv, SenderId: user,
			ClientMsgId: "ev" + strconv.Itoa(n), Kind: "event", Content: []byte(`{}`), Reaction: r, Change: c})
		return err
	}
	for i := 1; i <= 2; i++ {
		check(e.Messages.AppendMessage(ctx, &datav1.AppendMessageRequest{Conversation: "g:r", SenderId: 1,
			ClientMsgId: "m" + strconv.Itoa(i), Kind: "text", Content: []byte(`{"text":"hi"}`)}))(t)
	}
	for i := range store.MaxReactionEmoji {
		if err := appendEvent("g:r", 2, &datav1.Reaction{TargetSeq: 1, UserId: 2, Emoji: fmt.Sprintf("e%d", i)}, nil); err != nil {
			t.Fatalf("reaction %d: %v", i, err)
		}
	}
	if err := appendEvent("g:r", 1, nil, &datav1.MessageChange{TargetSeq: 2, Kind: store.KindRecalled, Content: []byte(`{}`)}); err != nil {
		t.Fatalf("recall: %v", err)
	}

	t.Run("already reacted", func(t *testing.T) {
		wantRefusal(t, appendEvent("g:r", 2, &datav1.Reaction{TargetSeq: 1, UserId: 2, Emoji: "e0"}, nil), datav1.Refusal_REFUSAL_ALREADY_REACTED)
	})
	t.Run("not reacted", func(t *testing.T) {
		wantRefusal(t, appendEvent("g:r", 3, &datav1.Reaction{TargetSeq: 1, UserId: 3, Emoji: "e0", Remove: true}, nil), datav1.Refusal_REFUSAL_NOT_REACTED)
	})
	t.Run("too many emoji", func(t *testing.T) {
		wantRefusal(t, appendEvent("g:r", 3, &datav1.Reaction{TargetSeq: 1, UserId: 3, Emoji: "one-more"}, nil), datav1.Refusal_REFUSAL_TOO_MANY_EMOJI)
	})
	t.Run("reaction on a recalled message", func(t *testing.T) {
		wantRefusal(t, appendEvent("g:r", 2, &datav1.Reaction{TargetSeq: 2, UserId: 2, Emoji: "e0"}, nil), datav1.Refusal_REFUSAL_RECALLED)
	})
	t.Run("change of a recalled message", func(t *testing.T) {
		wantRefusal(t, appendEvent("g:r", 1, nil, &datav1.MessageChange{TargetSeq: 2, Kind: "text", Content: []byte(`{}`)}), datav1.Refusal_REFUSAL_RECALLED)
	})

	owner, ann, bob := newUser(t, e, "Owner"), newUser(t, e, "Ann"), newUser(t, e, "Bob")
	created := check(e.GroupChanges.CreateGroupNoticePlus(ctx, &datav1.CreateGroupNoticePlusRequest{
		Group:  &datav1.CreateGroupPlusRequest{Name: "g", OwnerId: owner.GetId(), MemberIds: []int64{ann.GetId()}},
		Notice: notice("create-1", `{"event":"created"}`),
	}))(t)
	gid := created.GetGroup().GetId()
	t.Run("admin limit", func(t *testing.T) {
		_, err := e.GroupChanges.ChangeGroupPlus(ctx, &datav1.ChangeGroupPlusRequest{GroupId: gid,
			Members:   []*datav1.GroupMemberChange{{UserId: ann.GetId(), Update: &datav1.UpdateGroupMemberRequest{Role: datav1.GroupRole_GROUP_ROLE_ADMIN.Enum()}}},
			MaxAdmins: 1, Notice: notice("admin-1", `{}`)})
		if err != nil {
			t.Fatalf("first admin: %v", err)
		}
		_, err = e.GroupChanges.ChangeGroupPlus(ctx, &datav1.ChangeGroupPlusRequest{GroupId: gid,
			Members:   []*datav1.GroupMemberChange{{UserId: owner.GetId(), Update: &datav1.UpdateGroupMemberRequest{Role: datav1.GroupRole_GROUP_ROLE_ADMIN.Enum()}}},
			MaxAdmins: 1, Notice: notice("admin-2", `{}`)})
		wantRefusal(t, err, datav1.Refusal_REFUSAL_ADMIN_LIMIT)
	})
	t.Run("member limit", func(t *testing.T) {
		_, err := e.GroupChanges.ChangeGroupPlus(ctx, &datav1.ChangeGroupPlusRequest{GroupId: gid,
			Members:    []*datav1.GroupMemberChange{{UserId: bob.GetId(), Add: true, Role: datav1.GroupRole_GROUP_ROLE_MEMBER}},
			MaxMembers: 2, Notice: notice("add-1", `{}`)})
		wantRefusal(t, err, datav1.Refusal_REFUSAL_MEMBER_LIMIT)
	})
	t.Run("group precondition nobody tells apart", func(t *testing.T) {
		_, err := e.GroupChanges.ChangeGroupPlus(ctx, &datav1.ChangeGroupPlusRequest{GroupId: gid,
			Group: &datav1.UpdateGroupRequest{Name: proto.String("by bob")}, ActorId: bob.GetId(), ActorMinRole: datav1.GroupRole_GROUP_ROLE_ADMIN,
			Notice: notice("rename-1", `{}`)})
		if st := wantCode(t, err, codes.FailedPrecondition); len(st.Details()) != 0 {
			t.Fatalf("details %v, want none", st.Details())
		}
	})

	now := time.Now()
	// A spent token spends its user's others: the expired ones are Bob's.
	for _, tok := range []struct {
		hash string
		user int64
		exp  time.Time
	}{{"fresh", owner.GetId(), now.Add(time.Hour)}, {"old", bob.GetId(), now.Add(-time.Minute)}} {
		check(e.Users.CreateEmailToken(ctx, &datav1.CreateEmailTokenRequest{UserId: tok.user, TokenHash: "ev-" + tok.hash, ExpiresAt: timestamppb.New(tok.exp)}))(t)
		check(e.Users.CreateResetToken(ctx, &datav1.CreateResetTokenRequest{UserId: tok.user, TokenHash: "rp-" + tok.hash, ExpiresAt: timestamppb.New(tok.exp)}))(t)
	}
	check(e.Users.VerifyEmailPlus(ctx, &datav1.VerifyEmailPlusRequest{TokenHash: "ev-fresh", Now: timestamppb.New(now)}))(t)
	check(e.Users.ResetPasswordPlus(ctx, &datav1.ResetPasswordPlusRequest{TokenHash: "rp-fresh", PasswordHash: "h2", Now: timestamppb.New(now)}))(t)
	for _, tc := range []struct {
		name string
		call func(hash string) error
		pre  string
	}{
		{"email token", func(h string) error {
			return errOf(e.Users.VerifyEmailPlus(ctx, &datav1.VerifyEmailPlusRequest{TokenHash: h, Now: timestamppb.New(now)}))
		}, "ev-"},
		{"reset token", func(h string) error {
			return errOf(e.Users.ResetPasswordPlus(ctx, &datav1.ResetPasswordPlusRequest{TokenHash: h, PasswordHash: "h3", Now: timestamppb.New(now)}))
		}, "rp-"},
	} {
		t.Run(tc.name+" used", func(t *testing.T) { wantRefusal(t, tc.call(tc.pre+"fresh"), datav1.Refusal_REFUSAL_TOKEN_USED) })
		t.Run(tc.name+" expired", func(t *testing.T) { wantRefusal(t, tc.call(tc.pre+"old"), datav1.Refusal_REFUSAL_TOKEN_EXPIRED) })
	}
}
