package grpcapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/dataservice/internal/dataservicetest"
)

// check(call())(t) fails the test when call returned an error.
func check[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%v", err)
		}
		return v
	}
}

// wantCode checks err carries code.
func wantCode(t *testing.T, err error, code codes.Code) *status.Status {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != code {
		t.Fatalf("code %v (%q), want %v", st.Code(), st.Message(), code)
	}
	return st
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// The store semantics are tested in the adapters' suites; these check that
// every RPC reaches the store and converts both ways.
func TestHappyPaths(t *testing.T) {
	e := dataservicetest.Start(t)
	t.Run("Users", func(t *testing.T) { usersHappy(t, e) })
	t.Run("Friends", func(t *testing.T) { friendsHappy(t, e) })
	t.Run("Groups", func(t *testing.T) { groupsHappy(t, e) })
	t.Run("Subscriptions", func(t *testing.T) { subscriptionsHappy(t, e) })
	t.Run("Messages", func(t *testing.T) { messagesHappy(t, e) })
	t.Run("Articles", func(t *testing.T) { articlesHappy(t, e) })
}

func newUser(t *testing.T, e *dataservicetest.Env, name string) *datav1.User {
	t.Helper()
	return check(e.Users.CreateUser(testCtx(t), &datav1.CreateUserRequest{
		Email: strings.ToLower(name) + "@example.com", Name: name, PasswordHash: "hash-" + name,
	}))(t)
}

func usersHappy(t *testing.T, e *dataservicetest.Env) {
	ctx := testCtx(t)
	name64 := strings.Repeat("é", 64) // at the limit in runes, 128 bytes
	u := check(e.Users.CreateUser(ctx, &datav1.CreateUserRequest{
		Email: "alice@example.com", Name: name64, PasswordHash: "h1", Mobile: "+41 79 000 00 00",
		Gender: datav1.Gender_GENDER_FEMALE, Avatar: "https://a/1.png", QrCode: "qr1",
	}))(t)
	if u.GetId() <= 0 || u.GetName() != name64 || u.GetGender() != datav1.Gender_GENDER_FEMALE ||
		u.GetTokenVersion() != 1 || u.GetCreatedAt() == nil || u.GetMobile() != "+41 79 000 00 00" {
		t.Fatalf("created user: %v", u)
	}
	st := wantCode(t, errOf(e.Users.CreateUser(ctx, &datav1.CreateUserRequest{Email: "alice@example.com", Name: "x", PasswordHash: "h"})), codes.AlreadyExists)
	if st.Message() != "email already exists" {
		t.Errorf("duplicate email message %q", st.Message())
	}
	got := check(e.Users.GetUser(ctx, &datav1.GetUserRequest{Id: u.GetId()}))(t)
	if !proto.Equal(got, u) {
		t.Errorf("GetUser = %v, want %v", got, u)
	}
	got = check(e.Users.GetUserByEmail(ctx, &datav1.GetUserByEmailRequest{Email: "alice@example.com"}))(t)
	if got.GetId() != u.GetId() {
		t.Errorf("GetUserByEmail id %d, want %d", got.GetId(), u.GetId())
	}
	b := newUser(t, e, "Bob1")
	newUser(t, e, "Bob2")
	us := check(e.Users.GetUsers(ctx, &datav1.GetUsersRequest{Ids: []int64{u.GetId(), b.GetId(), 1}}))(t)
	if len(us.GetUsers()) != 2 {
		t.Errorf("GetUsers: %d users, want 2", len(us.GetUsers()))
	}
	// Paging through the API's opaque tokens.
	p1 := check(e.Users.SearchUsers(ctx, &datav1.SearchUsersRequest{NamePrefix: "Bob", Limit: 1}))(t)
	if len(p1.GetUsers()) != 1 || p1.GetNextPageToken() == "" {
		t.Fatalf("first page: %v", p1)
	}
	p2 := check(e.Users.SearchUsers(ctx, &datav1.SearchUsersRequest{NamePrefix: "Bob", Limit: 1, PageToken: p1.GetNextPageToken()}))(t)
	if len(p2.GetUsers()) != 1 || p2.GetUsers()[0].GetId() == p1.GetUsers()[0].GetId() {
		t.Fatalf("second page: %v", p2)
	}
	if p2.GetNextPageToken() != "" {
		p3 := check(e.Users.SearchUsers(ctx, &datav1.SearchUsersRequest{NamePrefix: "Bob", Limit: 1, PageToken: p2.GetNextPageToken()}))(t)
		if len(p3.GetUsers()) != 0 || p3.GetNextPageToken() != "" {
			t.Fatalf("third page: %v", p3)
		}
	}
	up := check(e.Users.UpdateUser(ctx, &datav1.UpdateUserRequest{Id: u.GetId(), Name: proto.String("Alice"), Gender: datav1.Gender_GENDER_OTHER.Enum(), BumpTokenVersion: true}))(t)
	if up.GetName() != "Alice" || up.GetGender() != datav1.Gender_GENDER_OTHER || up.GetTokenVersion() != 2 || up.GetMobile() != u.GetMobile() {
		t.Errorf("updated user: %v", up)
	}
	tok := check(e.Users.CreateResetToken(ctx, &datav1.CreateResetTokenRequest{
		UserId: u.GetId(), TokenHash: "th1", ExpiresAt: timestamppb.New(time.Now().Add(time.Hour)),
	}))(t)
	if tok.GetId() <= 0 || tok.GetUserId() != u.GetId() || tok.GetUsed() || tok.GetExpiresAt() == nil {
		t.Errorf("reset token: %v", tok)
	}
	rp := check(e.Users.ResetPasswordPlus(ctx, &datav1.ResetPasswordPlusRequest{TokenHash: "th1", PasswordHash: "h2", Now: timestamppb.Now()}))(t)
	if rp.GetUser().GetPasswordHash() != "h2" || rp.GetUser().GetTokenVersion() != 3 {
		t.Errorf("after reset: %v", rp.GetUser())
	}
	st = wantCode(t, errOf(e.Users.ResetPasswordPlus(ctx, &datav1.ResetPasswordPlusRequest{TokenHash: "th1", PasswordHash: "h3", Now: timestamppb.Now()})), codes.FailedPrecondition)
	if st.Message() == "" || strings.Contains(st.Message(), "SQL") {
		t.Errorf("precondition message %q", st.Message())
	}
	et := check(e.Users.CreateEmailToken(ctx, &datav1.CreateEmailTokenRequest{
		UserId: u.GetId(), TokenHash: "ev1", ExpiresAt: timestamppb.New(time.Now().Add(time.Hour)),
	}))(t)
	if et.GetId() <= 0 || et.GetUserId() != u.GetId() || et.GetUsed() || et.GetExpiresAt() == nil {
		t.Errorf("email token: %v", et)
	}
	if rp.GetUser().GetEmailVerified() {
		t.Errorf("new user verified: %v", rp.GetUser())
	}
	ve := check(e.Users.VerifyEmailPlus(ctx, &datav1.VerifyEmailPlusRequest{TokenHash: "ev1", Now: timestamppb.Now()}))(t)
	if !ve.GetUser().GetEmailVerified() || ve.GetUser().GetId() != u.GetId() {
		t.Errorf("after verify: %v", ve.GetUser())
	}
	wantCode(t, errOf(e.Users.VerifyEmailPlus(ctx, &datav1.VerifyEmailPlusRequest{TokenHash: "ev1", Now: timestamppb.Now()})), codes.FailedPrecondition)
	wantCode(t, errOf(e.Users.VerifyEmailPlus(ctx, &datav1.VerifyEmailPlusRequest{TokenHash: "th1", Now: timestamppb.Now()})), codes.NotFound)
	del := check(e.Users.DeleteUser(ctx, &datav1.DeleteUserRequest{Id: b.GetId()}))(t)
	if !del.GetDeleted() {
		t.Errorf("deleted user: %v", del)
	}
}

// errOf drops a call's value and keeps its error.
func errOf[T any](_ T, err error) error { return err }

func friendsHappy(t *testing.T, e *dataservicetest.Env) {
	ctx := testCtx(t)
	a, b := newUser(t, e, "Fa"), newUser(t, e, "Fb")
	req := check(e.Friends.PutFriendship(ctx, &datav1.PutFriendshipRequest{SelfId: a.GetId(), FriendId: b.GetId(), Message: "hi, it's me"}))(t)
	if req.GetAccepted() || req.GetMessage() != "hi, it's me" || req.GetCreatedAt() == nil {
		t.Errorf("request row: %v", req)
	}
	got := check(e.Friends.GetFriendship(ctx, &datav1.GetFriendshipRequest{SelfId: a.GetId(), FriendId: b.GetId()}))(t)
	if got.GetMessage() != "hi, it's me" {
		t.Errorf("GetFriendship: %v", got)
	}
	got = check(e.Friends.UpdateFriendship(ctx, &datav1.UpdateFriendshipRequest{SelfId: a.GetId(), FriendId: b.GetId(), Note: proto.String("bee")}))(t)
	if got.GetNote() != "bee" {
		t.Errorf("UpdateFriendship: %v", got)
	}
	in := check(e.Friends.ListFriendships(ctx, &datav1.ListFriendshipsRequest{
		UserId: b.GetId(), Direction: datav1.FriendshipDirection_FRIENDSHIP_DIRECTION_INCOMING, Accepted: proto.Bool(false),
	}))(t)
	if len(in.GetFriendships()) != 1 || in.GetFriendships()[0].GetSelfId() != a.GetId() {
		t.Errorf("incoming requests of b: %v", in)
	}
	acc := check(e.Friends.AcceptFriendPlus(ctx, &datav1.AcceptFriendPlusRequest{RequesterId: a.GetId(), AccepterId: b.GetId(), Note: "ay"}))(t)
	if !acc.GetRequesterSide().GetAccepted() || !acc.GetAccepterSide().GetAccepted() || acc.GetAccepterSide().GetNote() != "ay" {
		t.Errorf("accepted: %v", acc)
	}
	info := check(e.Friends.FriendsInfoPlus(ctx, &datav1.FriendsInfoPlusRequest{UserId: a.GetId()}))(t)
	if len(info.GetFriends()) != 1 || info.GetFriends()[0].GetFriend().GetEmail() != b.GetEmail() {
		t.Errorf("friends info: %v", info)
	}
	check(e.Friends.DeleteFriendPlus(ctx, &datav1.DeleteFriendPlusRequest{SelfId: a.GetId(), FriendId: b.GetId()}))(t)
	got = check(e.Friends.GetFriendship(ctx, &datav1.GetFriendshipRequest{SelfId: b.GetId(), FriendId: a.GetId()}))(t)
	if !got.GetDeleted() || got.GetAccepted() {
		t.Errorf("after delete: %v", got)
	}
}

func groupsHappy(t *testing.T, e *dataservicetest.Env) {
	ctx := testCtx(t)
	o, m, n := newUser(t, e, "Go"), newUser(t, e, "Gm"), newUser(t, e, "Gn")
	cg := check(e.Groups.CreateGroupPlus(ctx, &datav1.CreateGroupPlusRequest{Name: "Gophers", OwnerId: o.GetId(), Avatar: "av", MemberIds: []int64{m.GetId(), o.GetId()}}))(t)
	g := cg.GetGroup()
	if g.GetId() <= 0 || g.GetOwnerId() != o.GetId() || len(cg.GetMembers()) != 2 {
		t.Fatalf("created group: %v", cg)
	}
	got := check(e.Groups.GetGroup(ctx, &datav1.GetGroupRequest{Id: g.GetId()}))(t)
	if got.GetName() != "Gophers" || got.GetMemberCount() != 2 {
		t.Errorf("GetGroup: %v", got)
	}
	gs := check(e.Groups.GetGroups(ctx, &datav1.GetGroupsRequest{Ids: []int64{g.GetId()}}))(t)
	if len(gs.GetGroups()) != 1 {
		t.Errorf("GetGroups: %v", gs)
	}
	sg := check(e.Groups.SearchGroups(ctx, &datav1.SearchGroupsRequest{NamePrefix: "Goph"}))(t)
	if len(sg.GetGroups()) != 1 {
		t.Errorf("SearchGroups: %v", sg)
	}
	got = check(e.Groups.UpdateGroup(ctx, &datav1.UpdateGroupRequest{Id: g.GetId(), QrCode: proto.String("qr")}))(t)
	if got.GetQrCode() != "qr" || got.GetName() != "Gophers" {
		t.Errorf("UpdateGroup: %v", got)
	}
	lg := check(e.Groups.ListGroupsByMember(ctx, &datav1.ListGroupsByMemberRequest{UserId: m.GetId()}))(t)
	if len(lg.GetGroups()) != 1 || lg.GetGroups()[0].GetId() != g.GetId() {
		t.Errorf("ListGroupsByMember: %v", lg)
	}
	mem := check(e.Groups.AddGroupMember(ctx, &datav1.AddGroupMemberRequest{GroupId: g.GetId(), UserId: n.GetId(), Nickname: "enn"}))(t)
	if mem.GetRole() != datav1.GroupRole_GROUP_ROLE_MEMBER || mem.GetNickname() != "enn" || mem.GetJoinedAt() == nil {
		t.Errorf("added member: %v", mem)
	}
	wantCode(t, errOf(e.Groups.AddGroupMember(ctx, &datav1.AddGroupMemberRequest{GroupId: g.GetId(), UserId: n.GetId()})), codes.AlreadyExists)
	mem = check(e.Groups.GetGroupMember(ctx, &datav1.GetGroupMemberRequest{GroupId: g.GetId(), UserId: n.GetId()}))(t)
	if mem.GetNickname() != "enn" {
		t.Errorf("GetGroupMember: %v", mem)
	}
	mem = check(e.Groups.UpdateGroupMember(ctx, &datav1.UpdateGroupMemberRequest{GroupId: g.GetId(), UserId: n.GetId(), Role: datav1.GroupRole_GROUP_ROLE_ADMIN.Enum()}))(t)
	if mem.GetRole() != datav1.GroupRole_GROUP_ROLE_ADMIN {
		t.Errorf("UpdateGroupMember: %v", mem)
	}
	lm := check(e.Groups.ListGroupMembers(ctx, &datav1.ListGroupMembersRequest{GroupId: g.GetId(), Limit: 2}))(t)
	if len(lm.GetMembers()) != 2 || lm.GetNextPageToken() == "" {
		t.Fatalf("ListGroupMembers page 1: %v", lm)
	}
	lm2 := check(e.Groups.ListGroupMembers(ctx, &datav1.ListGroupMembersRequest{GroupId: g.GetId(), Limit: 2, PageToken: lm.GetNextPageToken()}))(t)
	if len(lm2.GetMembers()) != 1 {
		t.Errorf("ListGroupMembers page 2: %v", lm2)
	}
	tg := check(e.Groups.TransferGroupPlus(ctx, &datav1.TransferGroupPlusRequest{GroupId: g.GetId(), FromOwnerId: o.GetId(), NewOwnerId: m.GetId()}))(t)
	if tg.GetOwnerId() != m.GetId() {
		t.Errorf("transferred: %v", tg)
	}
	st := wantCode(t, errOf(e.Groups.TransferGroupPlus(ctx, &datav1.TransferGroupPlusRequest{GroupId: g.GetId(), FromOwnerId: o.GetId(), NewOwnerId: n.GetId()})), codes.FailedPrecondition)
	if st.Message() == "" {
		t.Error("FailedPrecondition without a reason")
	}
	info := check(e.Groups.GroupMembersInfoPlus(ctx, &datav1.GroupMembersInfoPlusRequest{GroupId: g.GetId()}))(t)
	if len(info.GetMembers()) != 3 || info.GetMembers()[0].GetUser().GetId() != info.GetMembers()[0].GetMember().GetUserId() {
		t.Errorf("GroupMembersInfoPlus: %v", info)
	}
}

func subscriptionsHappy(t *testing.T, e *dataservicetest.Env) {
	ctx := testCtx(t)
	o, f := newUser(t, e, "So"), newUser(t, e, "Sf")
	s := check(e.Subscriptions.CreateSubscription(ctx, &datav1.CreateSubscriptionRequest{Name: "Daily Go", OwnerId: o.GetId(), Intro: "news", Avatar: "av"}))(t)
	if s.GetId() <= 0 || s.GetIntro() != "news" || s.GetCreatedAt() == nil {
		t.Fatalf("created: %v", s)
	}
	st := wantCode(t, errOf(e.Subscriptions.CreateSubscription(ctx, &datav1.CreateSubscriptionRequest{Name: "Daily Go", OwnerId: f.GetId()})), codes.AlreadyExists)
	if st.Message() != "name already exists" {
		t.Errorf("duplicate name message %q", st.Message())
	}
	if got := check(e.Subscriptions.GetSubscription(ctx, &datav1.GetSubscriptionRequest{Id: s.GetId()}))(t); got.GetName() != "Daily Go" {
		t.Errorf("GetSubscription: %v", got)
	}
	if got := check(e.Subscriptions.GetSubscriptions(ctx, &datav1.GetSubscriptionsRequest{Ids: []int64{s.GetId()}}))(t); len(got.GetSubscriptions()) != 1 {
		t.Errorf("GetSubscriptions: %v", got)
	}
	if got := check(e.Subscriptions.SearchSubscriptions(ctx, &datav1.SearchSubscriptionsRequest{NamePrefix: "Daily"}))(t); len(got.GetSubscriptions()) != 1 {
		t.Errorf("SearchSubscriptions: %v", got)
	}
	if got := check(e.Subscriptions.ListSubscriptionsByOwner(ctx, &datav1.ListSubscriptionsByOwnerRequest{OwnerId: o.GetId()}))(t); len(got.GetSubscriptions()) != 1 {
		t.Errorf("ListSubscriptionsByOwner: %v", got)
	}
	if got := check(e.Subscriptions.UpdateSubscription(ctx, &datav1.UpdateSubscriptionRequest{Id: s.GetId(), QrCode: proto.String("qr")}))(t); got.GetQrCode() != "qr" {
		t.Errorf("UpdateSubscription: %v", got)
	}
	fl := check(e.Subscriptions.Follow(ctx, &datav1.FollowRequest{SubscriptionId: s.GetId(), UserId: f.GetId()}))(t)
	if fl.GetLeft() || fl.GetFollowedAt() == nil {
		t.Errorf("Follow: %v", fl)
	}
	wantCode(t, errOf(e.Subscriptions.Follow(ctx, &datav1.FollowRequest{SubscriptionId: s.GetId(), UserId: f.GetId()})), codes.AlreadyExists)
	if got := check(e.Subscriptions.GetFollower(ctx, &datav1.GetFollowerRequest{SubscriptionId: s.GetId(), UserId: f.GetId()}))(t); got.GetUserId() != f.GetId() {
		t.Errorf("GetFollower: %v", got)
	}
	if got := check(e.Subscriptions.ListFollowers(ctx, &datav1.ListFollowersRequest{SubscriptionId: s.GetId()}))(t); len(got.GetFollowers()) != 1 {
		t.Errorf("ListFollowers: %v", got)
	}
	if got := check(e.Subscriptions.ListFollowing(ctx, &datav1.ListFollowingRequest{UserId: f.GetId()}))(t); len(got.GetSubscriptions()) != 1 || got.GetSubscriptions()[0].GetFollowerCount() != 1 {
		t.Errorf("ListFollowing: %v", got)
	}
	if got := check(e.Subscriptions.Unfollow(ctx, &datav1.UnfollowRequest{SubscriptionId: s.GetId(), UserId: f.GetId()}))(t); !got.GetLeft() {
		t.Errorf("Unfollow: %v", got)
	}
	check(e.Subscriptions.Follow(ctx, &datav1.FollowRequest{SubscriptionId: s.GetId(), UserId: f.GetId()}))(t)
	del := check(e.Subscriptions.DeleteSubscriptionPlus(ctx, &datav1.DeleteSubscriptionPlusRequest{Id: s.GetId()}))(t)
	if !del.GetSubscription().GetDeleted() || del.GetReleasedFollowers() != 1 {
		t.Errorf("DeleteSubscriptionPlus: %v", del)
	}
}

func messagesHappy(t *testing.T, e *dataservicetest.Env) {
	ctx := testCtx(t)
	start := time.Now().Add(-time.Second)
	first := check(e.Messages.AppendMessage(ctx, &datav1.AppendMessageRequest{Conversation: "u:1:2", SenderId: 1, ClientMsgId: "m1", Kind: "text", Content: []byte(`{"text":"hi"}`)}))(t)
	m := first.GetMessage()
	if first.GetDuplicate() || m.GetId() <= 0 || m.GetSeq() != 1 || string(m.GetContent()) != `{"text":"hi"}` || m.GetCreatedAt() == nil {
		t.Fatalf("appended: %v", first)
	}
	again := check(e.Messages.AppendMessage(ctx, &datav1.AppendMessageRequest{Conversation: "u:1:2", SenderId: 1, ClientMsgId: "m1", Kind: "text", Content: []byte(`{"text":"hi"}`)}))(t)
	if !again.GetDuplicate() || again.GetMessage().GetId() != m.GetId() {
		t.Errorf("repeated append: %v", again)
	}
	sys := check(e.Messages.AppendMessage(ctx, &datav1.AppendMessageRequest{Conversation: "sys:1", SenderId: 0, ClientMsgId: "s1", Kind: "notice"}))(t)
	if sys.GetMessage().GetSenderId() != 0 || sys.GetMessage().GetSeq() != 1 {
		t.Errorf("system message: %v", sys)
	}
	var batch []*datav1.AppendMessageRequest
	for i := range 4 {
		batch = append(batch, &datav1.AppendMessageRequest{Conversation: fmt.Sprintf("g:%d", 10+i%2), SenderId: 2, ClientMsgId: fmt.Sprintf("b%d", i), Kind: "text", Content: []byte("x")})
	}
	batch = append(batch, &datav1.AppendMessageRequest{Conversation: "u:1:2", SenderId: 1, ClientMsgId: "m1", Kind: "text"})
	br := check(e.Messages.AppendMessagesPlus(ctx, &datav1.AppendMessagesPlusRequest{Messages: batch}))(t)
	var seqs []int64
	for _, r := range br.GetResults() {
		seqs = append(seqs, r.GetMessage().GetSeq())
	}
	if fmt.Sprint(seqs) != "[1 1 2 2 1]" || !br.GetResults()[4].GetDuplicate() {
		t.Errorf("batch seqs %v, results %v", seqs, br.GetResults())
	}
	for i := range 5 {
		check(e.Messages.AppendMessage(ctx, &datav1.AppendMessageRequest{Conversation: "u:1:2", SenderId: 2, ClientMsgId: fmt.Sprintf("h%d", i), Kind: "text"}))(t)
	}
	hist := check(e.Messages.GetMessages(ctx, &datav1.GetMessagesRequest{Conversation: "u:1:2", AfterSeq: 1, Limit: 3}))(t)
	if len(hist.GetMessages()) != 3 || hist.GetMessages()[0].GetSeq() != 2 || !hist.GetHasMore() {
		t.Errorf("GetMessages: %v", hist)
	}
	newest := check(e.Messages.GetMessages(ctx, &datav1.GetMessagesRequest{Conversation: "u:1:2", Limit: 2, NewestFirst: true}))(t)
	if len(newest.GetMessages()) != 2 || newest.GetMessages()[1].GetSeq() != 6 {
		t.Errorf("GetMessages newest: %v", newest)
	}
	from, to := timestamppb.New(start), timestamppb.New(time.Now().Add(time.Second))
	bt := check(e.Messages.GetMessagesByTime(ctx, &datav1.GetMessagesByTimeRequest{Conversation: "u:1:2", From: from, To: to, Limit: 4}))(t)
	if len(bt.GetMessages()) != 4 || bt.GetNextPageToken() == "" {
		t.Fatalf("GetMessagesByTime page 1: %v", bt)
	}
	bt2 := check(e.Messages.GetMessagesByTime(ctx, &datav1.GetMessagesByTimeRequest{Conversation: "u:1:2", From: from, To: to, Limit: 4, PageToken: bt.GetNextPageToken()}))(t)
	if len(bt2.GetMessages()) != 2 || bt2.GetNextPageToken() != "" {
		t.Errorf("GetMessagesByTime page 2: %v", bt2)
	}
	byID := check(e.Messages.GetMessageByClientID(ctx, &datav1.GetMessageByClientIDRequest{SenderId: 1, ClientMsgId: "m1"}))(t)
	if !proto.Equal(byID, m) {
		t.Errorf("GetMessageByClientID = %v, want %v", byID, m)
	}
	// An edit keeping the previous version, read back with GetMessageVersions.
	edit := check(e.Messages.AppendMessage(ctx, &datav1.AppendMessageRequest{Conversation: "u:1:2", SenderId: 2, ClientMsgId: "ed", Kind: "edit",
		Content: []byte(`{"kind":"edit"}`), Change: &datav1.MessageChange{TargetSeq: 2, Kind: "text", Content: []byte(`{"text":"new"}`), KeepPrevious: true}}))(t)
	vs := check(e.Messages.GetMessageVersions(ctx, &datav1.GetMessageVersionsRequest{Conversation: "u:1:2", Seq: 2}))(t)
	if len(vs.GetVersions()) != 1 || vs.GetHasMore() || vs.GetVersions()[0].GetReplacedBySeq() != edit.GetMessage().GetSeq() ||
		vs.GetVersions()[0].GetKind() != "text" || len(vs.GetVersions()[0].GetContent()) != 0 ||
		!vs.GetVersions()[0].GetReplacedAt().AsTime().Equal(edit.GetMessage().GetCreatedAt().AsTime()) {
		t.Errorf("GetMessageVersions: %v after %v", vs, edit)
	}
	heads := check(e.Messages.GetConversationHeads(ctx, &datav1.GetConversationHeadsRequest{Conversations: []string{"u:1:2", "nope", "g:10"}}))(t)
	var hs []string
	for _, h := range heads.GetHeads() {
		hs = append(hs, fmt.Sprintf("%s=%d", h.GetConversation(), h.GetLastSeq()))
	}
	if fmt.Sprint(hs) != "[u:1:2=7 nope=0 g:10=2]" {
		t.Errorf("heads %v", hs)
	}
	c := check(e.Messages.AdvanceCursor(ctx, &datav1.AdvanceCursorRequest{UserId: 2, Conversation: "u:1:2", DeliveredSeq: 5, AckedSeq: 3}))(t)
	if c.GetDeliveredSeq() != 5 || c.GetAckedSeq() != 3 || c.GetUpdatedAt() == nil {
		t.Errorf("AdvanceCursor: %v", c)
	}
	cs := check(e.Messages.AdvanceCursorsPlus(ctx, &datav1.AdvanceCursorsPlusRequest{Cursors: []*datav1.AdvanceCursorRequest{
		{UserId: 2, Conversation: "u:1:2", DeliveredSeq: 4, AckedSeq: 4},
		{UserId: 2, DeviceId: "phone", Conversation: "g:10", DeliveredSeq: 2},
	}}))(t)
	if len(cs.GetCursors()) != 2 || cs.GetCursors()[0].GetDeliveredSeq() != 5 || cs.GetCursors()[0].GetAckedSeq() != 4 {
		t.Errorf("AdvanceCursorsPlus: %v", cs)
	}
	// no_result: written (each seq the max of stored and given), nothing answered.
	nr := check(e.Messages.AdvanceCursorsPlus(ctx, &datav1.AdvanceCursorsPlusRequest{NoResult: true, Cursors: []*datav1.AdvanceCursorRequest{
		{UserId: 2, Conversation: "u:1:2", DeliveredSeq: 3, AckedSeq: 6},
		{UserId: 2, DeviceId: "phone", Conversation: "g:10", DeliveredSeq: 1, AckedSeq: 1},
	}}))(t)
	if len(nr.GetCursors()) != 0 {
		t.Errorf("AdvanceCursorsPlus with no_result answered %v", nr)
	}
	lc := check(e.Messages.ListCursors(ctx, &datav1.ListCursorsRequest{UserId: 2, AllDevices: true}))(t)
	var got []string
	for _, c := range lc.GetCursors() {
		got = append(got, fmt.Sprintf("%s/%s=%d,%d", c.GetDeviceId(), c.GetConversation(), c.GetDeliveredSeq(), c.GetAckedSeq()))
	}
	if fmt.Sprint(got) != "[/u:1:2=5,6 phone/g:10=2,1]" {
		t.Errorf("ListCursors after no_result: %v", got)
	}
}

func articlesHappy(t *testing.T, e *dataservicetest.Env) {
	ctx := testCtx(t)
	a := check(e.Articles.CreateArticle(ctx, &datav1.CreateArticleRequest{SubscriptionId: 7, AuthorId: 8, Title: "Hello", Body: "body", CoverUrl: "c"}))(t)
	if a.GetId() <= 0 || a.GetState() != datav1.ArticleState_ARTICLE_STATE_DRAFT || a.GetPublishedAt() != nil || a.GetCreatedAt() == nil {
		t.Fatalf("created: %v", a)
	}
	if got := check(e.Articles.GetArticle(ctx, &datav1.GetArticleRequest{Id: a.GetId()}))(t); !proto.Equal(got, a) {
		t.Errorf("GetArticle = %v, want %v", got, a)
	}
	st := wantCode(t, errOf(e.Articles.UpdateArticle(ctx, &datav1.UpdateArticleRequest{
		Id: a.GetId(), State: datav1.ArticleState_ARTICLE_STATE_APPROVED.Enum(), ExpectedState: datav1.ArticleState_ARTICLE_STATE_IN_REVIEW,
	})), codes.FailedPrecondition)
	if st.Message() == "" {
		t.Error("FailedPrecondition without a reason")
	}
	pub := timestamppb.New(time.Now().UTC().Truncate(time.Microsecond))
	up := check(e.Articles.UpdateArticle(ctx, &datav1.UpdateArticleRequest{
		Id: a.GetId(), State: datav1.ArticleState_ARTICLE_STATE_PUBLISHED.Enum(), ExpectedState: datav1.ArticleState_ARTICLE_STATE_DRAFT,
		ReviewerId: proto.Int64(9), PublishedAt: pub,
	}))(t)
	if up.GetState() != datav1.ArticleState_ARTICLE_STATE_PUBLISHED || up.GetReviewerId() != 9 || !up.GetPublishedAt().AsTime().Equal(pub.AsTime()) {
		t.Errorf("updated: %v", up)
	}
	b := check(e.Articles.CreateArticle(ctx, &datav1.CreateArticleRequest{SubscriptionId: 7, AuthorId: 8, Title: "Second"}))(t)
	l1 := check(e.Articles.ListArticles(ctx, &datav1.ListArticlesRequest{SubscriptionId: 7, Limit: 1}))(t)
	if len(l1.GetArticles()) != 1 || l1.GetArticles()[0].GetId() != b.GetId() || l1.GetNextPageToken() == "" {
		t.Fatalf("ListArticles page 1: %v", l1)
	}
	l2 := check(e.Articles.ListArticles(ctx, &datav1.ListArticlesRequest{SubscriptionId: 7, Limit: 1, PageToken: l1.GetNextPageToken()}))(t)
	if len(l2.GetArticles()) != 1 || l2.GetArticles()[0].GetId() != a.GetId() {
		t.Errorf("ListArticles page 2: %v", l2)
	}
	pubOnly := check(e.Articles.ListArticles(ctx, &datav1.ListArticlesRequest{States: []datav1.ArticleState{datav1.ArticleState_ARTICLE_STATE_PUBLISHED}}))(t)
	if len(pubOnly.GetArticles()) != 1 {
		t.Errorf("ListArticles published: %v", pubOnly)
	}
	unpushedReq := &datav1.ListArticlesRequest{States: []datav1.ArticleState{datav1.ArticleState_ARTICLE_STATE_PUBLISHED}, UnpushedOnly: true}
	if l := check(e.Articles.ListArticles(ctx, unpushedReq))(t); len(l.GetArticles()) != 1 || l.GetArticles()[0].GetPushed() {
		t.Errorf("ListArticles unpushed: %v", l)
	}
	if p := check(e.Articles.UpdateArticle(ctx, &datav1.UpdateArticleRequest{Id: a.GetId(), Pushed: proto.Bool(true)}))(t); !p.GetPushed() {
		t.Errorf("UpdateArticle pushed: %v", p)
	}
	if l := check(e.Articles.ListArticles(ctx, unpushedReq))(t); len(l.GetArticles()) != 0 {
		t.Errorf("ListArticles unpushed after the push: %v", l)
	}
	wantCode(t, errOf(e.Articles.DeleteArticle(ctx, &datav1.DeleteArticleRequest{Id: a.GetId(), ExpectedState: datav1.ArticleState_ARTICLE_STATE_DRAFT})), codes.FailedPrecondition)
	check(e.Articles.DeleteArticle(ctx, &datav1.DeleteArticleRequest{Id: a.GetId(), ExpectedState: datav1.ArticleState_ARTICLE_STATE_PUBLISHED}))(t)
	wantCode(t, errOf(e.Articles.GetArticle(ctx, &datav1.GetArticleRequest{Id: a.GetId()})), codes.NotFound)
}
