package grpcapi

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	messagev1 "github.com/privateim/privateim/protos/message/v1"

	"github.com/privateim/privateim/foundation/audit"
	"github.com/privateim/privateim/foundation/conv"

	"github.com/privateim/privateim/messageservice/internal/chat"
	"github.com/privateim/privateim/messageservice/internal/frame"
)

// AdminNode is what Admin needs of the node.
type AdminNode interface {
	Sessions(ctx context.Context, user int64) ([]chat.SessionInfo, error)
	LogoutDevice(ctx context.Context, user int64, device string) (int, error)
	DeleteMessage(ctx context.Context, conversation string, seq int64) (chat.AppendResult, error)
	NoticeOnline(ctx context.Context, clientMsgID string, content []byte) (int, error)
}

var _ AdminNode = (*chat.Service)(nil)

// Limits of Admin requests.
const (
	maxReason     = 512
	maxNoticeText = 4096
)

// Admin implements messagev1.AdminServer: the admins' actions on sessions
// and messages, each recorded in the audit log.
type Admin struct {
	messagev1.UnimplementedAdminServer
	log    *slog.Logger
	node   AdminNode
	nodeID string
	audit  *audit.Recorder
}

// NewAdmin makes the Admin API of node.
func NewAdmin(log *slog.Logger, node AdminNode, nodeID string, rec *audit.Recorder) *Admin {
	return &Admin{log: log, node: node, nodeID: nodeID, audit: rec}
}

// adminCode is the one table from the admin actions' errors to gRPC status.
func (a *Admin) adminCode(op string, err error) error {
	switch {
	case errors.Is(err, chat.ErrNoSuchUser):
		return status.Error(codes.NotFound, "user_id: no such user")
	case errors.Is(err, chat.ErrNoDeviceConns):
		return status.Error(codes.NotFound, "device_id: the user has no connection of this device")
	case errors.Is(err, chat.ErrNoSuchConversation):
		return status.Error(codes.NotFound, "conversation: no such conversation")
	case errors.Is(err, chat.ErrNoSuchMessage):
		return status.Error(codes.NotFound, "seq: no such message in the conversation")
	case errors.Is(err, chat.ErrRecalled):
		return status.Error(codes.FailedPrecondition, "seq: the message was recalled by its sender")
	case errors.Is(err, chat.ErrNotChangeable):
		return status.Error(codes.FailedPrecondition, "seq: a recall, edit or reaction event, not a message")
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	}
	a.log.Error(op, "err", err)
	return status.Error(codes.Unavailable, op+" failed; try again")
}

func checkReason(reason string) error {
	if len(reason) > maxReason || !utf8.ValidString(reason) {
		return invalid("reason: at most 512 bytes of UTF-8")
	}
	return nil
}

func userTarget(id int64) string { return "user:" + strconv.FormatInt(id, 10) }

// ListSessions lists the user's connections on every node.
func (a *Admin) ListSessions(ctx context.Context, r *messagev1.ListSessionsRequest) (_ *messagev1.ListSessionsResponse, err error) {
	defer func() { a.audit.Record(ctx, "list_sessions", userTarget(r.GetUserId()), nil, err) }()
	if r.GetUserId() < 1 {
		return nil, invalid("user_id: must be > 0")
	}
	ss, err := a.node.Sessions(ctx, r.GetUserId())
	if err != nil {
		return nil, a.adminCode("list sessions", err)
	}
	out := &messagev1.ListSessionsResponse{Sessions: make([]*messagev1.Session, len(ss))}
	for i, s := range ss {
		node := s.Node
		if node == "" {
			node = a.nodeID
		}
		out.Sessions[i] = &messagev1.Session{NodeId: node, ConnId: s.ID, DeviceId: s.Device, OpenedAt: timestamppb.New(s.Opened)}
	}
	return out, nil
}

// LogoutDevice closes one device's connections on every node.
func (a *Admin) LogoutDevice(ctx context.Context, r *messagev1.LogoutDeviceRequest) (_ *messagev1.LogoutDeviceResponse, err error) {
	defer func() {
		a.audit.Record(ctx, "logout_device", userTarget(r.GetUserId()), map[string]any{"device_id": r.GetDeviceId(), "reason": r.GetReason()}, err)
	}()
	switch {
	case r.GetUserId() < 1:
		return nil, invalid("user_id: must be > 0")
	case len(r.GetDeviceId()) > frame.MaxDeviceID || !utf8.ValidString(r.GetDeviceId()):
		return nil, invalid("device_id: at most 64 bytes of UTF-8")
	}
	if err := checkReason(r.GetReason()); err != nil {
		return nil, err
	}
	n, err := a.node.LogoutDevice(ctx, r.GetUserId(), r.GetDeviceId())
	if err != nil {
		return nil, a.adminCode("logout device", err)
	}
	return &messagev1.LogoutDeviceResponse{Closed: int32(n)}, nil
}

// DeleteMessage removes a message's content for everyone.
func (a *Admin) DeleteMessage(ctx context.Context, r *messagev1.DeleteMessageRequest) (_ *messagev1.DeleteMessageResponse, err error) {
	target := r.GetConversation() + "/" + strconv.FormatInt(r.GetSeq(), 10)
	defer func() { a.audit.Record(ctx, "delete_message", target, map[string]any{"reason": r.GetReason()}, err) }()
	if _, perr := conv.Parse(r.GetConversation()); perr != nil {
		return nil, invalid("conversation: must be u:<a>:<b>, g:<id>, s:<id> or sys:<id>")
	}
	if r.GetSeq() < 1 {
		return nil, invalid("seq: must be >= 1")
	}
	if err := checkReason(r.GetReason()); err != nil {
		return nil, err
	}
	res, err := a.node.DeleteMessage(ctx, r.GetConversation(), r.GetSeq())
	if err != nil {
		return nil, a.adminCode("delete message", err)
	}
	return &messagev1.DeleteMessageResponse{Event: stored(res)}, nil
}

// BroadcastNotice stores a notice for every user online in the cluster.
func (a *Admin) BroadcastNotice(ctx context.Context, r *messagev1.BroadcastNoticeRequest) (_ *messagev1.BroadcastNoticeResponse, err error) {
	defer func() {
		a.audit.Record(ctx, "broadcast_notice", "online", map[string]any{"client_msg_id": r.GetClientMsgId(), "text": r.GetText()}, err)
	}()
	if n := len(r.GetClientMsgId()); n < 1 || n > frame.MaxClientMsgID || !utf8.ValidString(r.GetClientMsgId()) {
		return nil, invalid("client_msg_id: must be 1..64 bytes of UTF-8")
	}
	if n := len(r.GetText()); n < 1 || n > maxNoticeText || !utf8.ValidString(r.GetText()) {
		return nil, invalid("text: must be 1..4096 bytes of UTF-8")
	}
	content := frame.Marshal(struct {
		Kind string `json:"kind"`
		Text string `json:"text"`
	}{"notice", r.GetText()})
	n, err := a.node.NoticeOnline(ctx, r.GetClientMsgId(), content)
	if err != nil {
		return nil, a.adminCode("broadcast notice", err)
	}
	return &messagev1.BroadcastNoticeResponse{Users: int32(n)}, nil
}
