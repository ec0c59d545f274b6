package grpcapi_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/dataservice/internal/dataservicetest"
)

// badCase is one bad request: the code it must get and, for
// InvalidArgument, the field the error must name.
type badCase struct {
	name  string
	call  func(ctx context.Context, e *dataservicetest.Env) error
	code  codes.Code
	field string
}

func ia(name, field string, call func(ctx context.Context, e *dataservicetest.Env) error) badCase {
	return badCase{name: name, call: call, code: codes.InvalidArgument, field: field}
}

func nf(name string, call func(ctx context.Context, e *dataservicetest.Env) error) badCase {
	return badCase{name: name, call: call, code: codes.NotFound}
}

var (
	long65   = strings.Repeat("é", 65) // 65 runes, 130 bytes
	long129  = strings.Repeat("c", 129)
	long256r = strings.Repeat("ü", 256)
	long513  = strings.Repeat("a", 513)
	okUser   = &datav1.CreateUserRequest{Email: "ok@example.com", Name: "ok", PasswordHash: "h"}
	unknown  = int64(4242424242)
	badToken = "p" + base64.RawURLEncoding.EncodeToString([]byte("garbage that no list handed out"))
	now      = timestamppb.Now()
)

func user(mod func(r *datav1.CreateUserRequest)) func(ctx context.Context, e *dataservicetest.Env) error {
	return func(ctx context.Context, e *dataservicetest.Env) error {
		r := proto.Clone(okUser).(*datav1.CreateUserRequest)
		mod(r)
		_, err := e.Users.CreateUser(ctx, r)
		return err
	}
}

func msg(mod func(r *datav1.AppendMessageRequest)) *datav1.AppendMessageRequest {
	r := &datav1.AppendMessageRequest{Conversation: "g:1", SenderId: 1, ClientMsgId: "c1", Kind: "text", Content: []byte(`{}`)}
	mod(r)
	return r
}

func badCases() []badCase {
	type E = dataservicetest.Env
	type C = context.Context
	return []badCase{
		// Users.
		ia("CreateUser/empty", "email", func(ctx C, e *E) error { _, err := e.Users.CreateUser(ctx, &datav1.CreateUserRequest{}); return err }),
		ia("CreateUser/not an email", "email", user(func(r *datav1.CreateUserRequest) { r.Email = "not-an-email" })),
		ia("CreateUser/email with display name", "email", user(func(r *datav1.CreateUserRequest) { r.Email = "Bob <bob@example.com>" })),
		ia("CreateUser/email over 254", "email", user(func(r *datav1.CreateUserRequest) { r.Email = strings.Repeat("a", 243) + "@example.com" })),
		ia("CreateUser/no name", "name", user(func(r *datav1.CreateUserRequest) { r.Name = "" })),
		ia("CreateUser/name over 64 runes", "name", user(func(r *datav1.CreateUserRequest) { r.Name = long65 })),
		ia("CreateUser/no password hash", "password_hash", user(func(r *datav1.CreateUserRequest) { r.PasswordHash = "" })),
		ia("CreateUser/password hash over 255", "password_hash", user(func(r *datav1.CreateUserRequest) { r.PasswordHash = strings.Repeat("h", 256) })),
		ia("CreateUser/mobile over 32", "mobile", user(func(r *datav1.CreateUserRequest) { r.Mobile = strings.Repeat("1", 33) })),
		ia("CreateUser/gender out of range", "gender", user(func(r *datav1.CreateUserRequest) { r.Gender = 9 })),
		ia("CreateUser/avatar over 512", "avatar", user(func(r *datav1.CreateUserRequest) { r.Avatar = long513 })),
		ia("CreateUser/qr over 512", "qr_code", user(func(r *datav1.CreateUserRequest) { r.QrCode = long513 })),
		ia("GetUser/zero id", "id", func(ctx C, e *E) error { _, err := e.Users.GetUser(ctx, &datav1.GetUserRequest{}); return err }),
		ia("GetUser/negative id", "id", func(ctx C, e *E) error { _, err := e.Users.GetUser(ctx, &datav1.GetUserRequest{Id: -1}); return err }),
		nf("GetUser/unknown", func(ctx C, e *E) error {
			_, err := e.Users.GetUser(ctx, &datav1.GetUserRequest{Id: unknown})
			return err
		}),
		ia("GetUserByEmail/empty", "email", func(ctx C, e *E) error {
			_, err := e.Users.GetUserByEmail(ctx, &datav1.GetUserByEmailRequest{})
			return err
		}),
		nf("GetUserByEmail/unknown", func(ctx C, e *E) error {
			_, err := e.Users.GetUserByEmail(ctx, &datav1.GetUserByEmailRequest{Email: "nobody@example.com"})
			return err
		}),
		ia("GetUsers/no ids", "ids", func(ctx C, e *E) error { _, err := e.Users.GetUsers(ctx, &datav1.GetUsersRequest{}); return err }),
		ia("GetUsers/1001 ids", "ids", func(ctx C, e *E) error {
			_, err := e.Users.GetUsers(ctx, &datav1.GetUsersRequest{Ids: make([]int64, 1001)})
			return err
		}),
		ia("GetUsers/zero id", "ids[1]", func(ctx C, e *E) error {
			_, err := e.Users.GetUsers(ctx, &datav1.GetUsersRequest{Ids: []int64{1, 0}})
			return err
		}),
		ia("SearchUsers/no prefix", "name_prefix", func(ctx C, e *E) error { _, err := e.Users.SearchUsers(ctx, &datav1.SearchUsersRequest{}); return err }),
		ia("SearchUsers/negative limit", "limit", func(ctx C, e *E) error {
			_, err := e.Users.SearchUsers(ctx, &datav1.SearchUsersRequest{NamePrefix: "a", Limit: -1})
			return err
		}),
		ia("SearchUsers/huge limit", "limit", func(ctx C, e *E) error {
			_, err := e.Users.SearchUsers(ctx, &datav1.SearchUsersRequest{NamePrefix: "a", Limit: 1 << 30})
			return err
		}),
		ia("SearchUsers/token not base64", "page_token", func(ctx C, e *E) error {
			_, err := e.Users.SearchUsers(ctx, &datav1.SearchUsersRequest{NamePrefix: "a", PageToken: "!!!"})
			return err
		}),
		ia("SearchUsers/token not handed out", "page_token", func(ctx C, e *E) error {
			_, err := e.Users.SearchUsers(ctx, &datav1.SearchUsersRequest{NamePrefix: "a", PageToken: badToken})
			return err
		}),
		ia("UpdateUser/zero id", "id", func(ctx C, e *E) error { _, err := e.Users.UpdateUser(ctx, &datav1.UpdateUserRequest{}); return err }),
		ia("UpdateUser/empty name", "name", func(ctx C, e *E) error {
			_, err := e.Users.UpdateUser(ctx, &datav1.UpdateUserRequest{Id: 1, Name: proto.String("")})
			return err
		}),
		ia("UpdateUser/empty password hash", "password_hash", func(ctx C, e *E) error {
			_, err := e.Users.UpdateUser(ctx, &datav1.UpdateUserRequest{Id: 1, PasswordHash: proto.String("")})
			return err
		}),
		nf("UpdateUser/unknown", func(ctx C, e *E) error {
			_, err := e.Users.UpdateUser(ctx, &datav1.UpdateUserRequest{Id: unknown, Name: proto.String("x")})
			return err
		}),
		ia("DeleteUser/zero id", "id", func(ctx C, e *E) error { _, err := e.Users.DeleteUser(ctx, &datav1.DeleteUserRequest{}); return err }),
		nf("DeleteUser/unknown", func(ctx C, e *E) error {
			_, err := e.Users.DeleteUser(ctx, &datav1.DeleteUserRequest{Id: unknown})
			return err
		}),
		ia("CreateResetToken/no user", "user_id", func(ctx C, e *E) error {
			_, err := e.Users.CreateResetToken(ctx, &datav1.CreateResetTokenRequest{TokenHash: "t", ExpiresAt: now})
			return err
		}),
		ia("CreateResetToken/no hash", "token_hash", func(ctx C, e *E) error {
			_, err := e.Users.CreateResetToken(ctx, &datav1.CreateResetTokenRequest{UserId: 1, ExpiresAt: now})
			return err
		}),
		ia("CreateResetToken/hash over 128", "token_hash", func(ctx C, e *E) error {
			_, err := e.Users.CreateResetToken(ctx, &datav1.CreateResetTokenRequest{UserId: 1, TokenHash: long129, ExpiresAt: now})
			return err
		}),
		ia("CreateResetToken/no expiry", "expires_at", func(ctx C, e *E) error {
			_, err := e.Users.CreateResetToken(ctx, &datav1.CreateResetTokenRequest{UserId: 1, TokenHash: "t"})
			return err
		}),
		nf("CreateResetToken/unknown user", func(ctx C, e *E) error {
			_, err := e.Users.CreateResetToken(ctx, &datav1.CreateResetTokenRequest{UserId: unknown, TokenHash: "t", ExpiresAt: now})
			return err
		}),
		ia("CreateEmailToken/no user", "user_id", func(ctx C, e *E) error {
			_, err := e.Users.CreateEmailToken(ctx, &datav1.CreateEmailTokenRequest{TokenHash: "t", ExpiresAt: now})
			return err
		}),
		ia("CreateEmailToken/hash over 128", "token_hash", func(ctx C, e *E) error {
			_, err := e.Users.CreateEmailToken(ctx, &datav1.CreateEmailTokenRequest{UserId: 1, TokenHash: long129, ExpiresAt: now})
			return err
		}),
		ia("CreateEmailToken/no expiry", "expires_at", func(ctx C, e *E) error {
			_, err := e.Users.CreateEmailToken(ctx, &datav1.CreateEmailTokenRequest{UserId: 1, TokenHash: "t"})
			return err
		}),
		nf("CreateEmailToken/unknown user", func(ctx C, e *E) error {
			_, err := e.Users.CreateEmailToken(ctx, &datav1.CreateEmailTokenRequest{UserId: unknown, TokenHash: "t", ExpiresAt: now})
			return err
		}),
		ia("VerifyEmailPlus/no token", "token_hash", func(ctx C, e *E) error {
			_, err := e.Users.VerifyEmailPlus(ctx, &datav1.VerifyEmailPlusRequest{Now: now})
			return err
		}),
		ia("VerifyEmailPlus/no now", "now", func(ctx C, e *E) error {
			_, err := e.Users.VerifyEmailPlus(ctx, &datav1.VerifyEmailPlusRequest{TokenHash: "t"})
			return err
		}),
		nf("VerifyEmailPlus/unknown token", func(ctx C, e *E) error {
			_, err := e.Users.VerifyEmailPlus(ctx, &datav1.VerifyEmailPlusRequest{TokenHash: "nope", Now: now})
			return err
		}),
		ia("ResetPasswordPlus/no token", "token_hash", func(ctx C, e *E) error {
			_, err := e.Users.ResetPasswordPlus(ctx, &datav1.ResetPasswordPlusRequest{PasswordHash: "p", Now: now})
			return err
		}),
		ia("ResetPasswordPlus/no password", "password_hash", func(ctx C, e *E) error {
			_, err := e.Users.ResetPasswordPlus(ctx, &datav1.ResetPasswordPlusRequest{TokenHash: "t", Now: now})
			return err
		}),
		ia("ResetPasswordPlus/no now", "now", func(ctx C, e *E) error {
			_, err := e.Users.ResetPasswordPlus(ctx, &datav1.ResetPasswordPlusRequest{TokenHash: "t", PasswordHash: "p"})
			return err
		}),
		ia("ResetPasswordPlus/invalid now", "now", func(ctx C, e *E) error {
			_, err := e.Users.ResetPasswordPlus(ctx, &datav1.ResetPasswordPlusRequest{TokenHash: "t", PasswordHash: "p", Now: &timestamppb.Timestamp{Nanos: -1}})
			return err
		}),
		nf("ResetPasswordPlus/unknown token", func(ctx C, e *E) error {
			_, err := e.Users.ResetPasswordPlus(ctx, &datav1.ResetPasswordPlusRequest{TokenHash: "nope", PasswordHash: "p", Now: now})
			return err
		}),
		ia("ChangePasswordPlus/no user", "user_id", func(ctx C, e *E) error {
			_, err := e.Users.ChangePasswordPlus(ctx, &datav1.ChangePasswordPlusRequest{PasswordHash: "p"})
			return err
		}),
		ia("ChangePasswordPlus/no password", "password_hash", func(ctx C, e *E) error {
			_, err := e.Users.ChangePasswordPlus(ctx, &datav1.ChangePasswordPlusRequest{UserId: 1})
			return err
		}),
		nf("ChangePasswordPlus/unknown user", func(ctx C, e *E) error {
			_, err := e.Users.ChangePasswordPlus(ctx, &datav1.ChangePasswordPlusRequest{UserId: 999999, PasswordHash: "p"})
			return err
		}),
		ia("UpdateUser/last_seen_visibility unspecified", "last_seen_visibility", func(ctx C, e *E) error {
			_, err := e.Users.UpdateUser(ctx, &datav1.UpdateUserRequest{Id: 1, LastSeenVisibility: datav1.LastSeenVisibility_LAST_SEEN_VISIBILITY_UNSPECIFIED.Enum()})
			return err
		}),
		ia("UpdateUser/last_seen_visibility out of range", "last_seen_visibility", func(ctx C, e *E) error {
			v := datav1.LastSeenVisibility(4)
			_, err := e.Users.UpdateUser(ctx, &datav1.UpdateUserRequest{Id: 1, LastSeenVisibility: &v})
			return err
		}),
		ia("SetPresence/no user", "user_id", func(ctx C, e *E) error {
			_, err := e.Users.SetPresence(ctx, &datav1.SetPresenceRequest{AtMs: 1})
			return err
		}),
		ia("SetPresence/no time", "at_ms", func(ctx C, e *E) error {
			_, err := e.Users.SetPresence(ctx, &datav1.SetPresenceRequest{UserId: 1, AtMs: -5})
			return err
		}),
		nf("SetPresence/unknown user", func(ctx C, e *E) error {
			_, err := e.Users.SetPresence(ctx, &datav1.SetPresenceRequest{UserId: 999999, AtMs: 1})
			return err
		}),

		// Friends.
		ia("PutFriendship/no self", "self_id", func(ctx C, e *E) error {
			_, err := e.Friends.PutFriendship(ctx, &datav1.PutFriendshipRequest{FriendId: 2})
			return err
		}),
		ia("PutFriendship/self is friend", "friend_id", func(ctx C, e *E) error {
			_, err := e.Friends.PutFriendship(ctx, &datav1.PutFriendshipRequest{SelfId: 2, FriendId: 2})
			return err
		}),
		ia("PutFriendship/note over 64 runes", "note", func(ctx C, e *E) error {
			_, err := e.Friends.PutFriendship(ctx, &datav1.PutFriendshipRequest{SelfId: 1, FriendId: 2, Note: long65})
			return err
		}),
		ia("PutFriendship/message over 255 runes", "message", func(ctx C, e *E) error {
			_, err := e.Friends.PutFriendship(ctx, &datav1.PutFriendshipRequest{SelfId: 1, FriendId: 2, Message: long256r})
			return err
		}),
		ia("GetFriendship/no friend", "friend_id", func(ctx C, e *E) error {
			_, err := e.Friends.GetFriendship(ctx, &datav1.GetFriendshipRequest{SelfId: 1})
			return err
		}),
		nf("GetFriendship/unknown", func(ctx C, e *E) error {
			_, err := e.Friends.GetFriendship(ctx, &datav1.GetFriendshipRequest{SelfId: unknown, FriendId: unknown + 1})
			return err
		}),
		ia("UpdateFriendship/note over 64 runes", "note", func(ctx C, e *E) error {
			_, err := e.Friends.UpdateFriendship(ctx, &datav1.UpdateFriendshipRequest{SelfId: 1, FriendId: 2, Note: proto.String(long65)})
			return err
		}),
		nf("UpdateFriendship/unknown", func(ctx C, e *E) error {
			_, err := e.Friends.UpdateFriendship(ctx, &datav1.UpdateFriendshipRequest{SelfId: unknown, FriendId: unknown + 1, Note: proto.String("x")})
			return err
		}),
		ia("ListFriendships/no direction", "direction", func(ctx C, e *E) error {
			_, err := e.Friends.ListFriendships(ctx, &datav1.ListFriendshipsRequest{UserId: 1})
			return err
		}),
		ia("ListFriendships/unknown direction", "direction", func(ctx C, e *E) error {
			_, err := e.Friends.ListFriendships(ctx, &datav1.ListFriendshipsRequest{UserId: 1, Direction: 3})
			return err
		}),
		ia("ListFriendships/no user", "user_id", func(ctx C, e *E) error {
			_, err := e.Friends.ListFriendships(ctx, &datav1.ListFriendshipsRequest{Direction: 1})
			return err
		}),
		ia("ListFriendships/limit 1001", "limit", func(ctx C, e *E) error {
			_, err := e.Friends.ListFriendships(ctx, &datav1.ListFriendshipsRequest{UserId: 1, Direction: 1, Limit: 1001})
			return err
		}),
		ia("AcceptFriendPlus/same ids", "accepter_id", func(ctx C, e *E) error {
			_, err := e.Friends.AcceptFriendPlus(ctx, &datav1.AcceptFriendPlusRequest{RequesterId: 3, AccepterId: 3})
			return err
		}),
		nf("AcceptFriendPlus/no request", func(ctx C, e *E) error {
			_, err := e.Friends.AcceptFriendPlus(ctx, &datav1.AcceptFriendPlusRequest{RequesterId: unknown, AccepterId: unknown + 1})
			return err
		}),
		ia("DeleteFriendPlus/no self", "self_id", func(ctx C, e *E) error {
			_, err := e.Friends.DeleteFriendPlus(ctx, &datav1.DeleteFriendPlusRequest{FriendId: 1})
			return err
		}),
		nf("DeleteFriendPlus/unknown", func(ctx C, e *E) error {
			_, err := e.Friends.DeleteFriendPlus(ctx, &datav1.DeleteFriendPlusRequest{SelfId: unknown, FriendId: unknown + 1})
			return err
		}),
		ia("FriendsInfoPlus/no user", "user_id", func(ctx C, e *E) error {
			_, err := e.Friends.FriendsInfoPlus(ctx, &datav1.FriendsInfoPlusRequest{})
			return err
		}),
		ia("FriendsInfoPlus/bad token", "page_token", func(ctx C, e *E) error {
			_, err := e.Friends.FriendsInfoPlus(ctx, &datav1.FriendsInfoPlusRequest{UserId: 1, PageToken: "p"})
			return err
		}),

		// Groups.
		ia("CreateGroupPlus/no name", "name", func(ctx C, e *E) error {
			_, err := e.Groups.CreateGroupPlus(ctx, &datav1.CreateGroupPlusRequest{OwnerId: 1})
			return err
		}),
		ia("CreateGroupPlus/no owner", "owner_id", func(ctx C, e *E) error {
			_, err := e.Groups.CreateGroupPlus(ctx, &datav1.CreateGroupPlusRequest{Name: "g"})
			return err
		}),
		ia("CreateGroupPlus/1001 members", "member_ids", func(ctx C, e *E) error {
			_, err := e.Groups.CreateGroupPlus(ctx, &datav1.CreateGroupPlusRequest{Name: "g", OwnerId: 1, MemberIds: make([]int64, 1001)})
			return err
		}),
		ia("CreateGroupPlus/zero member", "member_ids[0]", func(ctx C, e *E) error {
			_, err := e.Groups.CreateGroupPlus(ctx, &datav1.CreateGroupPlusRequest{Name: "g", OwnerId: 1, MemberIds: []int64{0}})
			return err
		}),
		ia("CreateGroupPlus/avatar over 512", "avatar", func(ctx C, e *E) error {
			_, err := e.Groups.CreateGroupPlus(ctx, &datav1.CreateGroupPlusRequest{Name: "g", OwnerId: 1, Avatar: long513})
			return err
		}),
		ia("GetGroup/zero id", "id", func(ctx C, e *E) error { _, err := e.Groups.GetGroup(ctx, &datav1.GetGroupRequest{}); return err }),
		nf("GetGroup/unknown", func(ctx C, e *E) error {
			_, err := e.Groups.GetGroup(ctx, &datav1.GetGroupRequest{Id: unknown})
			return err
		}),
		ia("GetGroups/no ids", "ids", func(ctx C, e *E) error { _, err := e.Groups.GetGroups(ctx, &datav1.GetGroupsRequest{}); return err }),
		ia("SearchGroups/prefix over 64 runes", "name_prefix", func(ctx C, e *E) error {
			_, err := e.Groups.SearchGroups(ctx, &datav1.SearchGroupsRequest{NamePrefix: long65})
			return err
		}),
		ia("UpdateGroup/zero owner", "owner_id", func(ctx C, e *E) error {
			_, err := e.Groups.UpdateGroup(ctx, &datav1.UpdateGroupRequest{Id: 1, OwnerId: proto.Int64(0)})
			return err
		}),
		nf("UpdateGroup/unknown", func(ctx C, e *E) error {
			_, err := e.Groups.UpdateGroup(ctx, &datav1.UpdateGroupRequest{Id: unknown, Name: proto.String("x")})
			return err
		}),
		ia("ListMemberships/no user", "user_id", func(ctx C, e *E) error {
			_, err := e.Groups.ListMemberships(ctx, &datav1.ListMembershipsRequest{})
			return err
		}),
		ia("ListMemberships/bad page token", "page_token", func(ctx C, e *E) error {
			_, err := e.Groups.ListMemberships(ctx, &datav1.ListMembershipsRequest{UserId: 1, PageToken: "zz"})
			return err
		}),
		ia("ListGroupsByMember/negative limit", "limit", func(ctx C, e *E) error {
			_, err := e.Groups.ListGroupsByMember(ctx, &datav1.ListGroupsByMemberRequest{UserId: 1, Limit: -5})
			return err
		}),
		ia("AddGroupMember/role out of range", "role", func(ctx C, e *E) error {
			_, err := e.Groups.AddGroupMember(ctx, &datav1.AddGroupMemberRequest{GroupId: 1, UserId: 1, Role: 7})
			return err
		}),
		ia("AddGroupMember/nickname over 64 runes", "nickname", func(ctx C, e *E) error {
			_, err := e.Groups.AddGroupMember(ctx, &datav1.AddGroupMemberRequest{GroupId: 1, UserId: 1, Nickname: long65})
			return err
		}),
		nf("AddGroupMember/unknown group", func(ctx C, e *E) error {
			_, err := e.Groups.AddGroupMember(ctx, &datav1.AddGroupMemberRequest{GroupId: unknown, UserId: 1})
			return err
		}),
		nf("GetGroupMember/unknown", func(ctx C, e *E) error {
			_, err := e.Groups.GetGroupMember(ctx, &datav1.GetGroupMemberRequest{GroupId: unknown, UserId: 1})
			return err
		}),
		ia("UpdateGroupMember/role unspecified", "role", func(ctx C, e *E) error {
			_, err := e.Groups.UpdateGroupMember(ctx, &datav1.UpdateGroupMemberRequest{GroupId: 1, UserId: 1, Role: datav1.GroupRole_GROUP_ROLE_UNSPECIFIED.Enum()})
			return err
		}),
		nf("UpdateGroupMember/unknown", func(ctx C, e *E) error {
			_, err := e.Groups.UpdateGroupMember(ctx, &datav1.UpdateGroupMemberRequest{GroupId: unknown, UserId: 1, Nickname: proto.String("n")})
			return err
		}),
		ia("ListGroupMembers/no group", "group_id", func(ctx C, e *E) error {
			_, err := e.Groups.ListGroupMembers(ctx, &datav1.ListGroupMembersRequest{})
			return err
		}),
		ia("TransferGroupPlus/to the same owner", "new_owner_id", func(ctx C, e *E) error {
			_, err := e.Groups.TransferGroupPlus(ctx, &datav1.TransferGroupPlusRequest{GroupId: 1, FromOwnerId: 2, NewOwnerId: 2})
			return err
		}),
		nf("TransferGroupPlus/unknown group", func(ctx C, e *E) error {
			_, err := e.Groups.TransferGroupPlus(ctx, &datav1.TransferGroupPlusRequest{GroupId: unknown, FromOwnerId: 1, NewOwnerId: 2})
			return err
		}),
		ia("GroupMembersInfoPlus/no group", "group_id", func(ctx C, e *E) error {
			_, err := e.Groups.GroupMembersInfoPlus(ctx, &datav1.GroupMembersInfoPlusRequest{})
			return err
		}),

		// Subscriptions.
		ia("CreateSubscription/no name", "name", func(ctx C, e *E) error {
			_, err := e.Subscriptions.CreateSubscription(ctx, &datav1.CreateSubscriptionRequest{OwnerId: 1})
			return err
		}),
		ia("CreateSubscription/no owner", "owner_id", func(ctx C, e *E) error {
			_, err := e.Subscriptions.CreateSubscription(ctx, &datav1.CreateSubscriptionRequest{Name: "s"})
			return err
		}),
		ia("CreateSubscription/intro over 1024 runes", "intro", func(ctx C, e *E) error {
			_, err := e.Subscriptions.CreateSubscription(ctx, &datav1.CreateSubscriptionRequest{Name: "s", OwnerId: 1, Intro: strings.Repeat("ö", 1025)})
			return err
		}),
		ia("GetSubscription/zero id", "id", func(ctx C, e *E) error {
			_, err := e.Subscriptions.GetSubscription(ctx, &datav1.GetSubscriptionRequest{})
			return err
		}),
		nf("GetSubscription/unknown", func(ctx C, e *E) error {
			_, err := e.Subscriptions.GetSubscription(ctx, &datav1.GetSubscriptionRequest{Id: unknown})
			return err
		}),
		ia("GetSubscriptions/negative id", "ids[0]", func(ctx C, e *E) error {
			_, err := e.Subscriptions.GetSubscriptions(ctx, &datav1.GetSubscriptionsRequest{Ids: []int64{-1}})
			return err
		}),
		ia("SearchSubscriptions/no prefix", "name_prefix", func(ctx C, e *E) error {
			_, err := e.Subscriptions.SearchSubscriptions(ctx, &datav1.SearchSubscriptionsRequest{})
			return err
		}),
		ia("ListSubscriptionsByOwner/no owner", "owner_id", func(ctx C, e *E) error {
			_, err := e.Subscriptions.ListSubscriptionsByOwner(ctx, &datav1.ListSubscriptionsByOwnerRequest{})
			return err
		}),
		ia("UpdateSubscription/empty name", "name", func(ctx C, e *E) error {
			_, err := e.Subscriptions.UpdateSubscription(ctx, &datav1.UpdateSubscriptionRequest{Id: 1, Name: proto.String("")})
			return err
		}),
		nf("UpdateSubscription/unknown", func(ctx C, e *E) error {
			_, err := e.Subscriptions.UpdateSubscription(ctx, &datav1.UpdateSubscriptionRequest{Id: unknown, Intro: proto.String("x")})
			return err
		}),
		nf("DeleteSubscriptionPlus/unknown", func(ctx C, e *E) error {
			_, err := e.Subscriptions.DeleteSubscriptionPlus(ctx, &datav1.DeleteSubscriptionPlusRequest{Id: unknown})
			return err
		}),
		ia("Follow/no user", "user_id", func(ctx C, e *E) error {
			_, err := e.Subscriptions.Follow(ctx, &datav1.FollowRequest{SubscriptionId: 1})
			return err
		}),
		nf("Follow/unknown subscription", func(ctx C, e *E) error {
			_, err := e.Subscriptions.Follow(ctx, &datav1.FollowRequest{SubscriptionId: unknown, UserId: 1})
			return err
		}),
		nf("Unfollow/not following", func(ctx C, e *E) error {
			_, err := e.Subscriptions.Unfollow(ctx, &datav1.UnfollowRequest{SubscriptionId: unknown, UserId: 1})
			return err
		}),
		nf("GetFollower/unknown", func(ctx C, e *E) error {
			_, err := e.Subscriptions.GetFollower(ctx, &datav1.GetFollowerRequest{SubscriptionId: unknown, UserId: 1})
			return err
		}),
		ia("ListFollowers/no subscription", "subscription_id", func(ctx C, e *E) error {
			_, err := e.Subscriptions.ListFollowers(ctx, &datav1.ListFollowersRequest{})
			return err
		}),
		ia("ListFollowing/no user", "user_id", func(ctx C, e *E) error {
			_, err := e.Subscriptions.ListFollowing(ctx, &datav1.ListFollowingRequest{})
			return err
		}),

		// Messages.
		ia("AppendMessage/no conversation", "conversation", func(ctx C, e *E) error {
			_, err := e.Messages.AppendMessage(ctx, msg(func(r *datav1.AppendMessageRequest) { r.Conversation = "" }))
			return err
		}),
		ia("AppendMessage/conversation over 128", "conversation", func(ctx C, e *E) error {
			_, err := e.Messages.AppendMessage(ctx, msg(func(r *datav1.AppendMessageRequest) { r.Conversation = long129 }))
			return err
		}),
		ia("AppendMessage/negative sender", "sender_id", func(ctx C, e *E) error {
			_, err := e.Messages.AppendMessage(ctx, msg(func(r *datav1.AppendMessageRequest) { r.SenderId = -1 }))
			return err
		}),
		ia("AppendMessage/no client id", "client_msg_id", func(ctx C, e *E) error {
			_, err := e.Messages.AppendMessage(ctx, msg(func(r *datav1.AppendMessageRequest) { r.ClientMsgId = "" }))
			return err
		}),
		ia("AppendMessage/client id over 64", "client_msg_id", func(ctx C, e *E) error {
			_, err := e.Messages.AppendMessage(ctx, msg(func(r *datav1.AppendMessageRequest) { r.ClientMsgId = strings.Repeat("c", 65) }))
			return err
		}),
		ia("AppendMessage/no kind", "kind", func(ctx C, e *E) error {
			_, err := e.Messages.AppendMessage(ctx, msg(func(r *datav1.AppendMessageRequest) { r.Kind = "" }))
			return err
		}),
		ia("AppendMessage/kind over 32", "kind", func(ctx C, e *E) error {
			_, err := e.Messages.AppendMessage(ctx, msg(func(r *datav1.AppendMessageRequest) { r.Kind = strings.Repeat("k", 33) }))
			return err
		}),
		ia("AppendMessage/content over 256 KiB", "content", func(ctx C, e *E) error {
			_, err := e.Messages.AppendMessage(ctx, msg(func(r *datav1.AppendMessageRequest) { r.Content = make([]byte, 256<<10+1) }))
			return err
		}),
		ia("AppendMessage/change target seq 0", "change.target_seq", func(ctx C, e *E) error {
			_, err := e.Messages.AppendMessage(ctx, msg(func(r *datav1.AppendMessageRequest) {
				r.Change = &datav1.MessageChange{Kind: "recalled"}
			}))
			return err
		}),
		ia("AppendMessage/change without kind", "change.kind", func(ctx C, e *E) error {
			_, err := e.Messages.AppendMessage(ctx, msg(func(r *datav1.AppendMessageRequest) {
				r.Change = &datav1.MessageChange{TargetSeq: 1}
			}))
			return err
		}),
		ia("AppendMessage/change content over 256 KiB", "change.content", func(ctx C, e *E) error {
			_, err := e.Messages.AppendMessage(ctx, msg(func(r *datav1.AppendMessageRequest) {
				r.Change = &datav1.MessageChange{TargetSeq: 1, Kind: "text", Content: make([]byte, 256<<10+1)}
			}))
			return err
		}),
		ia("AppendMessage/recall keeping the previous version", "change.keep_previous", func(ctx C, e *E) error {
			_, err := e.Messages.AppendMessage(ctx, msg(func(r *datav1.AppendMessageRequest) {
				r.Change = &datav1.MessageChange{TargetSeq: 1, Kind: "recalled", KeepPrevious: true}
			}))
			return err
		}),
		ia("AppendMessage/reaction without emoji", "reaction.emoji", func(ctx C, e *E) error {
			_, err := e.Messages.AppendMessage(ctx, msg(func(r *datav1.AppendMessageRequest) {
				r.Reaction = &datav1.Reaction{TargetSeq: 1, UserId: 1}
			}))
			return err
		}),
		ia("AppendMessage/reaction without user", "reaction.user_id", func(ctx C, e *E) error {
			_, err := e.Messages.AppendMessage(ctx, msg(func(r *datav1.AppendMessageRequest) {
				r.Reaction = &datav1.Reaction{TargetSeq: 1, Emoji: "x"}
			}))
			return err
		}),
		ia("AppendMessage/reaction and change", "reaction", func(ctx C, e *E) error {
			_, err := e.Messages.AppendMessage(ctx, msg(func(r *datav1.AppendMessageRequest) {
				r.Reaction = &datav1.Reaction{TargetSeq: 1, UserId: 1, Emoji: "x"}
				r.Change = &datav1.MessageChange{TargetSeq: 1, Kind: "text"}
			}))
			return err
		}),
		ia("AppendMessage/clear without user", "clear.user_id", func(ctx C, e *E) error {
			_, err := e.Messages.AppendMessage(ctx, msg(func(r *datav1.AppendMessageRequest) {
				r.Clear = &datav1.Clear{Conversation: "c", UpToSeq: 1}
			}))
			return err
		}),
		ia("AppendMessage/clear without conversation", "clear.conversation", func(ctx C, e *E) error {
			_, err := e.Messages.AppendMessage(ctx, msg(func(r *datav1.AppendMessageRequest) {
				r.Clear = &datav1.Clear{UserId: 1, UpToSeq: 1}
			}))
			return err
		}),
		ia("AppendMessage/clear up to 0", "clear.up_to_seq", func(ctx C, e *E) error {
			_, err := e.Messages.AppendMessage(ctx, msg(func(r *datav1.AppendMessageRequest) {
				r.Clear = &datav1.Clear{UserId: 1, Conversation: "c"}
			}))
			return err
		}),
		ia("GetMessages/negative cleared_for", "cleared_for", func(ctx C, e *E) error {
			_, err := e.Messages.GetMessages(ctx, &datav1.GetMessagesRequest{Conversation: "c", ClearedFor: -1})
			return err
		}),
		ia("GetMessages/negative reactions viewer", "reactions_viewer", func(ctx C, e *E) error {
			_, err := e.Messages.GetMessages(ctx, &datav1.GetMessagesRequest{Conversation: "c", ReactionsViewer: -1})
			return err
		}),
		nf("AppendMessage/change of an unknown seq", func(ctx C, e *E) error {
			_, err := e.Messages.AppendMessage(ctx, msg(func(r *datav1.AppendMessageRequest) {
				r.Conversation = "u:1:99999"
				r.Change = &datav1.MessageChange{TargetSeq: 7, Kind: "recalled"}
			}))
			return err
		}),
		ia("AppendMessagesPlus/empty", "messages", func(ctx C, e *E) error {
			_, err := e.Messages.AppendMessagesPlus(ctx, &datav1.AppendMessagesPlusRequest{})
			return err
		}),
		ia("AppendMessagesPlus/1001", "messages", func(ctx C, e *E) error {
			ms := make([]*datav1.AppendMessageRequest, 1001)
			for i := range ms {
				ms[i] = msg(func(*datav1.AppendMessageRequest) {})
			}
			_, err := e.Messages.AppendMessagesPlus(ctx, &datav1.AppendMessagesPlusRequest{Messages: ms})
			return err
		}),
		ia("AppendMessagesPlus/second has no kind", "messages[1].kind", func(ctx C, e *E) error {
			_, err := e.Messages.AppendMessagesPlus(ctx, &datav1.AppendMessagesPlusRequest{Messages: []*datav1.AppendMessageRequest{
				msg(func(*datav1.AppendMessageRequest) {}), msg(func(r *datav1.AppendMessageRequest) { r.Kind = "" }),
			}})
			return err
		}),
		ia("GetMessages/no conversation", "conversation", func(ctx C, e *E) error {
			_, err := e.Messages.GetMessages(ctx, &datav1.GetMessagesRequest{})
			return err
		}),
		ia("GetMessages/negative after", "after_seq", func(ctx C, e *E) error {
			_, err := e.Messages.GetMessages(ctx, &datav1.GetMessagesRequest{Conversation: "c", AfterSeq: -1})
			return err
		}),
		ia("GetMessages/before not after after", "before_seq", func(ctx C, e *E) error {
			_, err := e.Messages.GetMessages(ctx, &datav1.GetMessagesRequest{Conversation: "c", AfterSeq: 5, BeforeSeq: 5})
			return err
		}),
		ia("GetMessages/limit 1001", "limit", func(ctx C, e *E) error {
			_, err := e.Messages.GetMessages(ctx, &datav1.GetMessagesRequest{Conversation: "c", Limit: 1001})
			return err
		}),
		ia("GetMessagesByTime/no from", "from", func(ctx C, e *E) error {
			_, err := e.Messages.GetMessagesByTime(ctx, &datav1.GetMessagesByTimeRequest{Conversation: "c", To: now})
			return err
		}),
		ia("GetMessagesByTime/to before from", "to", func(ctx C, e *E) error {
			_, err := e.Messages.GetMessagesByTime(ctx, &datav1.GetMessagesByTimeRequest{Conversation: "c", From: now, To: timestamppb.New(now.AsTime().Add(-time.Second))})
			return err
		}),
		ia("GetMessagesByTime/bad token", "page_token", func(ctx C, e *E) error {
			_, err := e.Messages.GetMessagesByTime(ctx, &datav1.GetMessagesByTimeRequest{Conversation: "c", From: now, To: timestamppb.New(now.AsTime().Add(time.Second)), PageToken: badToken})
			return err
		}),
		ia("GetMessageVersions/no conversation", "conversation", func(ctx C, e *E) error {
			_, err := e.Messages.GetMessageVersions(ctx, &datav1.GetMessageVersionsRequest{Seq: 1})
			return err
		}),
		ia("GetMessageVersions/seq 0", "seq", func(ctx C, e *E) error {
			_, err := e.Messages.GetMessageVersions(ctx, &datav1.GetMessageVersionsRequest{Conversation: "c"})
			return err
		}),
		ia("GetMessageVersions/limit over 1000", "limit", func(ctx C, e *E) error {
			_, err := e.Messages.GetMessageVersions(ctx, &datav1.GetMessageVersionsRequest{Conversation: "c", Seq: 1, Limit: 1001})
			return err
		}),
		ia("GetMessageByClientID/no client id", "client_msg_id", func(ctx C, e *E) error {
			_, err := e.Messages.GetMessageByClientID(ctx, &datav1.GetMessageByClientIDRequest{SenderId: 1})
			return err
		}),
		nf("GetMessageByClientID/unknown", func(ctx C, e *E) error {
			_, err := e.Messages.GetMessageByClientID(ctx, &datav1.GetMessageByClientIDRequest{SenderId: unknown, ClientMsgId: "x"})
			return err
		}),
		ia("GetConversationHeads/none", "conversations", func(ctx C, e *E) error {
			_, err := e.Messages.GetConversationHeads(ctx, &datav1.GetConversationHeadsRequest{})
			return err
		}),
		ia("GetConversationHeads/empty name", "conversations[0]", func(ctx C, e *E) error {
			_, err := e.Messages.GetConversationHeads(ctx, &datav1.GetConversationHeadsRequest{Conversations: []string{""}})
			return err
		}),
		ia("AdvanceCursor/no user", "user_id", func(ctx C, e *E) error {
			_, err := e.Messages.AdvanceCursor(ctx, &datav1.AdvanceCursorRequest{Conversation: "c"})
			return err
		}),
		ia("AdvanceCursor/negative seq", "delivered_seq", func(ctx C, e *E) error {
			_, err := e.Messages.AdvanceCursor(ctx, &datav1.AdvanceCursorRequest{UserId: 1, Conversation: "c", DeliveredSeq: -1})
			return err
		}),
		ia("AdvanceCursor/device over 64", "device_id", func(ctx C, e *E) error {
			_, err := e.Messages.AdvanceCursor(ctx, &datav1.AdvanceCursorRequest{UserId: 1, Conversation: "c", DeviceId: strings.Repeat("d", 65)})
			return err
		}),
		ia("AdvanceCursorsPlus/empty", "cursors", func(ctx C, e *E) error {
			_, err := e.Messages.AdvanceCursorsPlus(ctx, &datav1.AdvanceCursorsPlusRequest{})
			return err
		}),
		ia("AdvanceCursorsPlus/no conversation", "cursors[0].conversation", func(ctx C, e *E) error {
			_, err := e.Messages.AdvanceCursorsPlus(ctx, &datav1.AdvanceCursorsPlusRequest{Cursors: []*datav1.AdvanceCursorRequest{{UserId: 1}}})
			return err
		}),
		ia("ListCursors/no user", "user_id", func(ctx C, e *E) error {
			_, err := e.Messages.ListCursors(ctx, &datav1.ListCursorsRequest{})
			return err
		}),
		ia("ListCursors/1001 conversations", "conversations", func(ctx C, e *E) error {
			_, err := e.Messages.ListCursors(ctx, &datav1.ListCursorsRequest{UserId: 1, Conversations: make([]string, 1001)})
			return err
		}),

		// Articles.
		ia("CreateArticle/no title", "title", func(ctx C, e *E) error {
			_, err := e.Articles.CreateArticle(ctx, &datav1.CreateArticleRequest{SubscriptionId: 1, AuthorId: 1})
			return err
		}),
		ia("CreateArticle/title over 200 runes", "title", func(ctx C, e *E) error {
			_, err := e.Articles.CreateArticle(ctx, &datav1.CreateArticleRequest{SubscriptionId: 1, AuthorId: 1, Title: strings.Repeat("ä", 201)})
			return err
		}),
		ia("CreateArticle/no subscription", "subscription_id", func(ctx C, e *E) error {
			_, err := e.Articles.CreateArticle(ctx, &datav1.CreateArticleRequest{AuthorId: 1, Title: "t"})
			return err
		}),
		ia("CreateArticle/no author", "author_id", func(ctx C, e *E) error {
			_, err := e.Articles.CreateArticle(ctx, &datav1.CreateArticleRequest{SubscriptionId: 1, Title: "t"})
			return err
		}),
		ia("CreateArticle/state out of range", "state", func(ctx C, e *E) error {
			_, err := e.Articles.CreateArticle(ctx, &datav1.CreateArticleRequest{SubscriptionId: 1, AuthorId: 1, Title: "t", State: 9})
			return err
		}),
		ia("CreateArticle/body over 1 MiB", "body", func(ctx C, e *E) error {
			_, err := e.Articles.CreateArticle(ctx, &datav1.CreateArticleRequest{SubscriptionId: 1, AuthorId: 1, Title: "t", Body: strings.Repeat("b", 1<<20+1)})
			return err
		}),
		ia("GetArticle/zero id", "id", func(ctx C, e *E) error { _, err := e.Articles.GetArticle(ctx, &datav1.GetArticleRequest{}); return err }),
		nf("GetArticle/unknown", func(ctx C, e *E) error {
			_, err := e.Articles.GetArticle(ctx, &datav1.GetArticleRequest{Id: unknown})
			return err
		}),
		ia("UpdateArticle/state unspecified", "state", func(ctx C, e *E) error {
			_, err := e.Articles.UpdateArticle(ctx, &datav1.UpdateArticleRequest{Id: 1, State: datav1.ArticleState_ARTICLE_STATE_UNSPECIFIED.Enum()})
			return err
		}),
		ia("UpdateArticle/empty title", "title", func(ctx C, e *E) error {
			_, err := e.Articles.UpdateArticle(ctx, &datav1.UpdateArticleRequest{Id: 1, Title: proto.String("")})
			return err
		}),
		ia("UpdateArticle/expected state out of range", "expected_state", func(ctx C, e *E) error {
			_, err := e.Articles.UpdateArticle(ctx, &datav1.UpdateArticleRequest{Id: 1, ExpectedState: 99})
			return err
		}),
		nf("UpdateArticle/unknown", func(ctx C, e *E) error {
			_, err := e.Articles.UpdateArticle(ctx, &datav1.UpdateArticleRequest{Id: unknown, Title: proto.String("t")})
			return err
		}),
		ia("ListArticles/unspecified state", "states[0]", func(ctx C, e *E) error {
			_, err := e.Articles.ListArticles(ctx, &datav1.ListArticlesRequest{States: []datav1.ArticleState{0}})
			return err
		}),
		ia("ListArticles/negative subscription", "subscription_id", func(ctx C, e *E) error {
			_, err := e.Articles.ListArticles(ctx, &datav1.ListArticlesRequest{SubscriptionId: -1})
			return err
		}),
		ia("ListArticles/bad token", "page_token", func(ctx C, e *E) error {
			_, err := e.Articles.ListArticles(ctx, &datav1.ListArticlesRequest{PageToken: badToken})
			return err
		}),
		ia("DeleteArticle/zero id", "id", func(ctx C, e *E) error {
			_, err := e.Articles.DeleteArticle(ctx, &datav1.DeleteArticleRequest{})
			return err
		}),
		ia("DeleteArticle/bad expected_state", "expected_state", func(ctx C, e *E) error {
			_, err := e.Articles.DeleteArticle(ctx, &datav1.DeleteArticleRequest{Id: 1, ExpectedState: 99})
			return err
		}),
		nf("DeleteArticle/unknown", func(ctx C, e *E) error {
			_, err := e.Articles.DeleteArticle(ctx, &datav1.DeleteArticleRequest{Id: unknown})
			return err
		}),
	}
}

func TestBadInput(t *testing.T) {
	e := dataservicetest.Start(t)
	for _, tc := range badCases() {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := tc.call(ctx, e)
			st := status.Convert(err)
			if st.Code() != tc.code {
				t.Fatalf("code %v (%q), want %v", st.Code(), st.Message(), tc.code)
			}
			if tc.code != codes.InvalidArgument {
				return
			}
			if !strings.HasPrefix(st.Message(), tc.field+": ") && !strings.Contains(st.Message(), "; "+tc.field+": ") {
				t.Errorf("message %q does not name the field %q", st.Message(), tc.field)
			}
			var named bool
			for _, d := range st.Details() {
				if br, ok := d.(*errdetails.BadRequest); ok {
					for _, v := range br.GetFieldViolations() {
						named = named || v.GetField() == tc.field
					}
				}
			}
			if !named {
				t.Errorf("no BadRequest field violation for %q in %v", tc.field, st.Details())
			}
		})
	}
}
