// Package grpcapi is the messageservice's internal gRPC API
// (privateim.message.v1.MessageService, mutual TLS on GRPC_ADDR): Push
// (system notices), Broadcast (a subscription's post), Online, Prune,
// Stats, DeliverGroup (a group's stored system messages), DeliverUser (a user's stored
// join request notices), MarkRead (a read through the userservice's HTTP
// API) and ConversationChanged (a user's conversation settings); and
// privateim.message.v1.Admin (admin.go: the admins' sessions and messages
// actions, audit-logged). It
// validates requests, calls chat and translates errors in one
// place (code): callers get a safe message, the log gets the cause.
package grpcapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	messagev1 "github.com/privateim/privateim/protos/message/v1"

	"github.com/privateim/privateim/foundation/conv"
	"github.com/privateim/privateim/foundation/grpcserver"
	"github.com/privateim/privateim/foundation/tlsconfig"

	"github.com/privateim/privateim/messageservice/internal/chat"
	"github.com/privateim/privateim/messageservice/internal/frame"
)

// Limits of the requests.
const (
	MaxUsers   = 1000
	MaxContent = 64 << 10
)

// Access is who may call each method: only the subscriptionservice
// broadcasts a subscription's post, only the userservice delivers group
// notices. Push and Online are for other teams'
// services, which no certificate of ours names yet, and Prune and Stats
// for people and tools: the operator's certificate (tlsconfig.Operator)
// may call them all, and a new caller gets its identity listed here. A new
// RPC goes here in the same commit (TestAccessNamesEveryMethod).
var Access = grpcserver.Allow{
	messagev1.MessageService_Push_FullMethodName:      {},
	messagev1.MessageService_Broadcast_FullMethodName: {tlsconfig.SubscriptionService},
	messagev1.MessageService_Online_FullMethodName:    {},
	messagev1.MessageService_Prune_FullMethodName:     {},
	messagev1.MessageService_Stats_FullMethodName:     {},
	// The userservice fans out the group notices it stored, and the
	// notices about join requests and invites it stored in a user's own
	// conversation (never a message it writes: only stored ones go out).
	messagev1.MessageService_DeliverGroup_FullMethodName: {tlsconfig.UserService},
	messagev1.MessageService_DeliverUser_FullMethodName:  {tlsconfig.UserService},
	// POST /api/v1/conversations/{conversation}/read of the userservice.
	messagev1.MessageService_MarkRead_FullMethodName: {tlsconfig.UserService},
	// The userservice mirrors a user's conversation settings to their
	// own devices (the frame names only what the user set).
	messagev1.MessageService_ConversationChanged_FullMethodName: {tlsconfig.UserService},

	// privateim.message.v1.Admin (admin.go) is the admins' alone: a row
	// naming tlsconfig.Admin is closed to everyone else, the operator
	// included (foundation/grpcserver.Allow).
	messagev1.Admin_ListSessions_FullMethodName:    {tlsconfig.Admin},
	messagev1.Admin_LogoutDevice_FullMethodName:    {tlsconfig.Admin},
	messagev1.Admin_DeleteMessage_FullMethodName:   {tlsconfig.Admin},
	messagev1.Admin_BroadcastNotice_FullMethodName: {tlsconfig.Admin},
}

// Node is what the API needs of the node.
type Node interface {
	Push(ctx context.Context, users []int64, clientMsgID, kind string, content []byte) ([]chat.AppendResult, error)
	Broadcast(ctx context.Context, sub, sender int64, clientMsgID, kind string, content []byte) (chat.AppendResult, error)
	OnlineUsers(ids []int64) []int64
	Prune(now time.Time, o chat.PruneOptions) (groups, subscriptions int)
	Stats() chat.Stats
	DeliverGroup(ctx context.Context, group int64, seqs, also []int64) error
	DeliverUser(ctx context.Context, user int64, seqs []int64) error
	MarkRead(ctx context.Context, user int64, conversation string, seq int64) (int64, error)
	TellUser(user int64, f []byte)
}

var _ Node = (*chat.Service)(nil)

// Server implements messagev1.MessageServiceServer.
type Server struct {
	messagev1.UnimplementedMessageServiceServer
	log    *slog.Logger
	node   Node
	nodeID string
	prune  chat.PruneOptions
	now    func() time.Time
}

// New makes the API of node; Prune prunes with o as of now().
func New(log *slog.Logger, node Node, nodeID string, o chat.PruneOptions, now func() time.Time) *Server {
	if now == nil {
		now = time.Now
	}
	return &Server{log: log, node: node, nodeID: nodeID, prune: o, now: now}
}

func invalid(msg string) error { return status.Error(codes.InvalidArgument, msg) }

// code is the one table from errors to gRPC status.
func (s *Server) code(op string, err error) error {
	switch {
	case errors.Is(err, chat.ErrNoSuchTarget) && op == "mark read":
		return status.Error(codes.NotFound, "conversation: no such group or subscription")
	case errors.Is(err, chat.ErrNoSuchTarget) && op == "deliver group":
		return status.Error(codes.NotFound, "no such group")
	case errors.Is(err, chat.ErrNoSuchTarget):
		return status.Error(codes.NotFound, "no such subscription")
	case errors.Is(err, chat.ErrNotStored):
		return status.Error(codes.FailedPrecondition, "seqs: a message is not stored")
	case errors.Is(err, chat.ErrNotMember):
		return status.Error(codes.PermissionDenied, "conversation: the user is not a participant")
	case errors.Is(err, chat.ErrNotFriends):
		return status.Error(codes.PermissionDenied, "conversation: the users are not friends")
	case errors.Is(err, chat.ErrBlocked):
		return status.Error(codes.PermissionDenied, "conversation: a blacklist stands between the users")
	case errors.Is(err, chat.ErrReadAhead):
		return status.Error(codes.FailedPrecondition, "seq: past the last message of the conversation")
	case errors.Is(err, chat.ErrBeforeJoin):
		return status.Error(codes.FailedPrecondition, "seq: before the user joined the group")
	case errors.Is(err, chat.ErrBadSeq):
		return status.Error(codes.InvalidArgument, "seq must be >= 1")
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	}
	s.log.Error(op, "err", err)
	return status.Error(codes.Unavailable, op+" failed; try again")
}

func checkMessage(clientMsgID, kind string, content []byte) error {
	if n := len(clientMsgID); n < 1 || n > frame.MaxClientMsgID || !utf8.ValidString(clientMsgID) {
		return invalid("client_msg_id must be 1..64 bytes of UTF-8")
	}
	if n := len(kind); n < 1 || n > 32 {
		return invalid("kind must be 1..32 bytes")
	}
	if len(content) > MaxContent {
		return invalid("content must be at most 64 KiB")
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(content, &obj) != nil || obj == nil {
		return invalid("content must be a JSON object")
	}
	return nil
}

func stored(r chat.AppendResult) *messagev1.Stored {
	return &messagev1.Stored{
		MsgId: r.Message.ID, Conversation: r.Message.Conversation, Seq: r.Message.Seq,
		CreatedAt: timestamppb.New(r.Message.CreatedAt), Duplicate: r.Duplicate,
	}
}

// Push stores a notice in each user's sys conversation and delivers it.
func (s *Server) Push(ctx context.Context, req *messagev1.PushRequest) (*messagev1.PushResponse, error) {
	if n := len(req.GetUserIds()); n < 1 || n > MaxUsers {
		return nil, invalid("user_ids must hold 1..1000 ids")
	}
	for _, id := range req.GetUserIds() {
		if id < 1 {
			return nil, invalid("user_ids must be > 0")
		}
	}
	if err := checkMessage(req.GetClientMsgId(), req.GetKind(), req.GetContent()); err != nil {
		return nil, err
	}
	res, err := s.node.Push(ctx, req.GetUserIds(), req.GetClientMsgId(), req.GetKind(), req.GetContent())
	if err != nil {
		return nil, s.code("push", err)
	}
	out := &messagev1.PushResponse{Results: make([]*messagev1.Stored, len(res))}
	for i, r := range res {
		out.Results[i] = stored(r)
	}
	return out, nil
}

// Broadcast stores a subscription's post and hands it to its followers.
func (s *Server) Broadcast(ctx context.Context, req *messagev1.BroadcastRequest) (*messagev1.BroadcastResponse, error) {
	if req.GetSubscriptionId() < 1 || req.GetSenderId() < 1 {
		return nil, invalid("subscription_id and sender_id must be > 0")
	}
	if err := checkMessage(req.GetClientMsgId(), req.GetKind(), req.GetContent()); err != nil {
		return nil, err
	}
	r, err := s.node.Broadcast(ctx, req.GetSubscriptionId(), req.GetSenderId(), req.GetClientMsgId(), req.GetKind(), req.GetContent())
	if err != nil {
		return nil, s.code("broadcast", err)
	}
	return &messagev1.BroadcastResponse{Stored: stored(r)}, nil
}

// Online returns the users of the request online anywhere in the cluster.
func (s *Server) Online(_ context.Context, req *messagev1.OnlineRequest) (*messagev1.OnlineResponse, error) {
	if n := len(req.GetUserIds()); n < 1 || n > MaxUsers {
		return nil, invalid("user_ids must hold 1..1000 ids")
	}
	return &messagev1.OnlineResponse{OnlineUserIds: s.node.OnlineUsers(req.GetUserIds())}, nil
}

// Prune prunes this node's group and subscription nodes now.
func (s *Server) Prune(context.Context, *messagev1.PruneRequest) (*messagev1.PruneResponse, error) {
	g, sub := s.node.Prune(s.now(), s.prune)
	s.log.Info("pruned on request", "groups", g, "subscriptions", sub)
	return &messagev1.PruneResponse{GroupsPruned: int64(g), SubscriptionsPruned: int64(sub)}, nil
}

// DeliverGroup fans out stored messages of a group's conversation.
func (s *Server) DeliverGroup(ctx context.Context, req *messagev1.DeliverGroupRequest) (*messagev1.DeliverGroupResponse, error) {
	if req.GetGroupId() < 1 {
		return nil, invalid("group_id must be > 0")
	}
	if n := len(req.GetSeqs()); n < 1 || n > chat.MaxDeliverSeqs {
		return nil, invalid("seqs must hold 1..100 seqs")
	}
	for _, q := range req.GetSeqs() {
		if q < 1 {
			return nil, invalid("seqs must be > 0")
		}
	}
	if len(req.GetAlsoUserIds()) > MaxUsers {
		return nil, invalid("also_user_ids must hold at most 1000 ids")
	}
	if err := s.node.DeliverGroup(ctx, req.GetGroupId(), req.GetSeqs(), req.GetAlsoUserIds()); err != nil {
		return nil, s.code("deliver group", err)
	}
	return &messagev1.DeliverGroupResponse{}, nil
}

// DeliverUser fans out stored messages of a user's sys conversation.
func (s *Server) DeliverUser(ctx context.Context, req *messagev1.DeliverUserRequest) (*messagev1.DeliverUserResponse, error) {
	if req.GetUserId() < 1 {
		return nil, invalid("user_id must be > 0")
	}
	if n := len(req.GetSeqs()); n < 1 || n > chat.MaxDeliverSeqs {
		return nil, invalid("seqs must hold 1..100 seqs")
	}
	for _, q := range req.GetSeqs() {
		if q < 1 {
			return nil, invalid("seqs must be > 0")
		}
	}
	if err := s.node.DeliverUser(ctx, req.GetUserId(), req.GetSeqs()); err != nil {
		return nil, s.code("deliver user", err)
	}
	return &messagev1.DeliverUserResponse{}, nil
}

// ConversationChanged tells the user's connections their new settings of a
// conversation.
func (s *Server) ConversationChanged(_ context.Context, req *messagev1.ConversationChangedRequest) (*messagev1.ConversationChangedResponse, error) {
	if req.GetUserId() < 1 {
		return nil, invalid("user_id must be > 0")
	}
	if _, err := conv.Parse(req.GetConversation()); err != nil {
		return nil, invalid("conversation: " + err.Error())
	}
	s.node.TellUser(req.GetUserId(), frame.Marshal(frame.ConversationSettings{
		Type: "conversation", Conversation: req.GetConversation(),
		Muted: req.GetMuted(), Pinned: req.GetPinned(), Hidden: req.GetHidden(),
	}))
	return &messagev1.ConversationChangedResponse{}, nil
}

// Stats describes this node.
func (s *Server) Stats(context.Context, *messagev1.StatsRequest) (*messagev1.StatsResponse, error) {
	st, ps := s.node.Stats(), readProcStats()
	return &messagev1.StatsResponse{
		NodeId: s.nodeID, Connections: int64(st.Conns), Users: int64(st.Users),
		GroupsCached: int64(st.Groups), SubscriptionsCached: int64(st.Subscriptions),
		MessagesIn: st.MessagesIn, Deliveries: st.Deliveries,
		Goroutines: ps.goroutines, HeapBytes: ps.heapBytes, RssBytes: ps.rssBytes,
	}, nil
}

// MarkRead stores a user's read seq as a read frame would.
func (s *Server) MarkRead(ctx context.Context, req *messagev1.MarkReadRequest) (*messagev1.MarkReadResponse, error) {
	if req.GetUserId() < 1 {
		return nil, invalid("user_id must be > 0")
	}
	if _, err := conv.Parse(req.GetConversation()); err != nil {
		return nil, invalid("conversation must be u:<a>:<b>, g:<id>, s:<id> or sys:<id>")
	}
	if req.GetSeq() < 1 {
		return nil, invalid("seq must be >= 1")
	}
	seq, err := s.node.MarkRead(ctx, req.GetUserId(), req.GetConversation(), req.GetSeq())
	if err != nil {
		return nil, s.code("mark read", err)
	}
	return &messagev1.MarkReadResponse{ReadSeq: seq}, nil
}
