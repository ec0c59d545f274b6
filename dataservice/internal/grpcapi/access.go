package grpcapi

import (
	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/foundation/grpcserver"
	"github.com/privateim/privateim/foundation/tlsconfig"
)

// Identities of the DataService's callers.
const (
	user = tlsconfig.UserService
	msg  = tlsconfig.MessageService
	sub  = tlsconfig.SubscriptionService
)

// Access is who may call each method of the DataService, written from what
// each service's datastore (and the subscriptionservice's articles) calls.
// Only the userservice reads password hashes (Users/GetUserByEmail) and
// changes passwords; only the messageservice writes messages; only the
// subscriptionservice writes articles and subscriptions. A method listed
// with nobody is the operator's alone (tlsconfig.Operator may call every
// method): nothing calls it today. A new RPC goes here in the same commit
// (TestAccessNamesEveryMethod).
var Access = grpcserver.Allow{
	// The services that serve admin methods write what each admin did;
	// the userservice's Admin/ListAudit reads it for the admins.
	datav1.Audit_AppendAudit_FullMethodName: {user, msg},
	datav1.Audit_ListAudit_FullMethodName:   {user},

	datav1.Users_CreateUser_FullMethodName:         {user},
	datav1.Users_GetUser_FullMethodName:            {user, msg, sub},
	datav1.Users_GetUserByEmail_FullMethodName:     {user},
	datav1.Users_GetUsers_FullMethodName:           {user},
	datav1.Users_SearchUsers_FullMethodName:        {},
	datav1.Users_UpdateUser_FullMethodName:         {user},
	datav1.Users_DeleteUser_FullMethodName:         {},
	datav1.Users_CreateResetToken_FullMethodName:   {user},
	datav1.Users_ResetPasswordPlus_FullMethodName:  {user},
	datav1.Users_ChangePasswordPlus_FullMethodName: {user},
	datav1.Users_GetResetToken_FullMethodName:      {user},
	datav1.Users_CreateEmailToken_FullMethodName:   {user},
	datav1.Users_VerifyEmailPlus_FullMethodName:    {user},
	datav1.Users_SetPresence_FullMethodName:        {msg},

	datav1.Friends_PutFriendship_FullMethodName:    {user},
	datav1.Friends_GetFriendship_FullMethodName:    {user, msg},
	datav1.Friends_UpdateFriendship_FullMethodName: {user},
	datav1.Friends_ListFriendships_FullMethodName:  {user, msg},
	datav1.Friends_AcceptFriendPlus_FullMethodName: {user},
	datav1.Friends_DeleteFriendPlus_FullMethodName: {user},
	datav1.Friends_FriendsInfoPlus_FullMethodName:  {user},

	datav1.Groups_CreateGroupPlus_FullMethodName:        {user},
	datav1.Groups_GetGroup_FullMethodName:               {user, msg},
	datav1.Groups_GetGroups_FullMethodName:              {user},
	datav1.Groups_SearchGroups_FullMethodName:           {},
	datav1.Groups_UpdateGroup_FullMethodName:            {user},
	datav1.Groups_ListGroupsByMember_FullMethodName:     {user, msg},
	datav1.Groups_ListMemberships_FullMethodName:        {user},
	datav1.Groups_AddGroupMember_FullMethodName:         {},
	datav1.Groups_GetGroupMember_FullMethodName:         {user},
	datav1.Groups_UpdateGroupMember_FullMethodName:      {user},
	datav1.Groups_ListGroupMembers_FullMethodName:       {msg},
	datav1.Groups_TransferGroupPlus_FullMethodName:      {},
	datav1.Groups_GroupMembersInfoPlus_FullMethodName:   {user},
	datav1.Groups_JoinGroupPlus_FullMethodName:          {user},
	datav1.Groups_RemoveGroupMemberPlus_FullMethodName:  {user},
	datav1.Groups_GetGroupBan_FullMethodName:            {user},
	datav1.Groups_ListGroupBans_FullMethodName:          {user},
	datav1.Groups_DeleteGroupBan_FullMethodName:         {},
	datav1.Groups_PutGroupJoinRequest_FullMethodName:    {user},
	datav1.Groups_GetGroupJoinRequest_FullMethodName:    {user},
	datav1.Groups_UpdateGroupJoinRequest_FullMethodName: {user},
	datav1.Groups_ListGroupJoinRequests_FullMethodName:  {user},

	datav1.GroupChanges_ChangeGroupPlus_FullMethodName:       {user},
	datav1.GroupChanges_CreateGroupNoticePlus_FullMethodName: {user},

	datav1.Subscriptions_CreateSubscription_FullMethodName:       {sub},
	datav1.Subscriptions_GetSubscription_FullMethodName:          {user, msg, sub},
	datav1.Subscriptions_GetSubscriptions_FullMethodName:         {user},
	datav1.Subscriptions_SearchSubscriptions_FullMethodName:      {user},
	datav1.Subscriptions_ListSubscriptionsByOwner_FullMethodName: {sub},
	datav1.Subscriptions_UpdateSubscription_FullMethodName:       {sub},
	datav1.Subscriptions_DeleteSubscriptionPlus_FullMethodName:   {sub},
	datav1.Subscriptions_Follow_FullMethodName:                   {user},
	datav1.Subscriptions_Unfollow_FullMethodName:                 {user},
	datav1.Subscriptions_GetFollower_FullMethodName:              {user, sub},
	datav1.Subscriptions_ListFollowers_FullMethodName:            {msg, sub},
	datav1.Subscriptions_ListFollowing_FullMethodName:            {user, msg},

	datav1.Messages_AppendMessage_FullMethodName:        {msg},
	datav1.Messages_AppendMessagesPlus_FullMethodName:   {msg},
	datav1.Messages_GetMessages_FullMethodName:          {msg},
	datav1.Messages_GetMessagesByTime_FullMethodName:    {},
	datav1.Messages_GetMessageByClientID_FullMethodName: {msg}, // a re-sent lifecycle frame's event
	datav1.Messages_GetMessageVersions_FullMethodName:   {msg}, // the versions frame (edit history)
	datav1.Messages_GetConversationHeads_FullMethodName: {msg},
	datav1.Messages_AdvanceCursor_FullMethodName:        {},
	datav1.Messages_AdvanceCursorsPlus_FullMethodName:   {msg},
	datav1.Messages_ListCursors_FullMethodName:          {},
	datav1.Messages_SessionStartPlus_FullMethodName:     {msg},

	datav1.Conversations_SetReadSeq_FullMethodName:                 {msg},
	datav1.Conversations_GetConversationStates_FullMethodName:      {user, msg},
	datav1.Conversations_UpdateConversationSettings_FullMethodName: {user},
	datav1.Conversations_ListReaders_FullMethodName:                {user},
	datav1.Conversations_CountReceipts_FullMethodName:              {user, msg},
	datav1.Conversations_GetUserReceipts_FullMethodName:            {user, msg},
	datav1.Conversations_GetHeads_FullMethodName:                   {user, msg},
	datav1.Conversations_SetMentionSeqs_FullMethodName:             {msg},
	datav1.Conversations_GetUnreadPlus_FullMethodName:              {user},

	datav1.Articles_CreateArticle_FullMethodName: {sub},
	datav1.Articles_GetArticle_FullMethodName:    {sub},
	datav1.Articles_UpdateArticle_FullMethodName: {sub},
	datav1.Articles_ListArticles_FullMethodName:  {sub},
	datav1.Articles_DeleteArticle_FullMethodName: {sub},
}
