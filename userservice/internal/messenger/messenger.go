// Package messenger is the userservice's adapter to the MessageService's
// internal gRPC API over mutual TLS: DeliverGroup hands the stored system
// message of a group change to the members' devices on every node, and
// DeliverUser the stored notice of a join request or invite to its user's,
// ConversationChanged a user's conversation settings to their devices, and
// MarkRead a read of POST /api/v1/conversations/{conversation}/read.
package messenger

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/foundation/grpcdial"
	"github.com/privateim/privateim/foundation/tlsconfig"
	messagev1 "github.com/privateim/privateim/protos/message/v1"

	"github.com/privateim/privateim/userservice/internal/conversation"
	"github.com/privateim/privateim/userservice/internal/group"
)

var (
	_ group.Deliverer       = (*Client)(nil)
	_ conversation.Notifier = (*Client)(nil)
	_ conversation.Marker   = (*Client)(nil)
)

// Client is safe for concurrent use.
type Client struct {
	conn *grpc.ClientConn
	msg  messagev1.MessageServiceClient
}

// Dial makes a client of the MessageService at addr; it connects lazily,
// so the userservice starts (and changes groups) while it is down.
func Dial(addr string, files tlsconfig.Files, opts ...grpc.DialOption) (*Client, error) {
	conn, err := grpcdial.Dial("messageservice", addr, files, opts...)
	if err != nil {
		return nil, err
	}
	return &Client{conn: conn, msg: messagev1.NewMessageServiceClient(conn)}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// DeliverGroup implements group.Deliverer.
func (c *Client) DeliverGroup(ctx context.Context, groupID int64, seqs, also []int64) error {
	if _, err := c.msg.DeliverGroup(ctx, &messagev1.DeliverGroupRequest{GroupId: groupID, Seqs: seqs, AlsoUserIds: also}); err != nil {
		return fmt.Errorf("deliver group %d seqs %v: %w", groupID, seqs, err)
	}
	return nil
}

// ConversationChanged implements conversation.Notifier.
func (c *Client) ConversationChanged(ctx context.Context, user int64, conv string, muted, pinned, hidden bool) error {
	if _, err := c.msg.ConversationChanged(ctx, &messagev1.ConversationChangedRequest{
		UserId: user, Conversation: conv, Muted: muted, Pinned: pinned, Hidden: hidden,
	}); err != nil {
		return fmt.Errorf("tell user %d of %s: %w", user, conv, err)
	}
	return nil
}

// MarkRead implements conversation.Marker: the MessageService's codes
// become the conversation feature's errors here, once.
func (c *Client) MarkRead(ctx context.Context, user int64, conv string, seq int64) (int64, error) {
	resp, err := c.msg.MarkRead(ctx, &messagev1.MarkReadRequest{UserId: user, Conversation: conv, Seq: seq})
	if err == nil {
		return resp.GetReadSeq(), nil
	}
	switch status.Code(err) {
	case codes.NotFound:
		return 0, conversation.ErrNotFound
	case codes.PermissionDenied:
		// The participant was checked before the call: not friends or blocked.
		return 0, conversation.ErrReadRefused
	case codes.FailedPrecondition:
		// "seq: past the last message ..." or "seq: before the user joined ...".
		return 0, errs.Invalid("seq", "%s", strings.TrimPrefix(status.Convert(err).Message(), "seq: "))
	case codes.InvalidArgument:
		return 0, errs.Invalid("seq", "%s", status.Convert(err).Message())
	}
	return 0, fmt.Errorf("mark read of %d in %s: %w", user, conv, conversation.ErrNoMessageService)
}

// DeliverUser implements group.Deliverer.
func (c *Client) DeliverUser(ctx context.Context, userID int64, seqs []int64) error {
	if _, err := c.msg.DeliverUser(ctx, &messagev1.DeliverUserRequest{UserId: userID, Seqs: seqs}); err != nil {
		return fmt.Errorf("deliver to user %d seqs %v: %w", userID, seqs, err)
	}
	return nil
}
