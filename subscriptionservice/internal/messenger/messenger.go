// Package messenger is the subscriptionservice's adapter to the
// MessageService's internal gRPC API over mutual TLS: Broadcast hands a
// published article to it, which fans it out to the followers.
package messenger

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privateim/privateim/foundation/grpcdial"
	"github.com/privateim/privateim/foundation/tlsconfig"
	messagev1 "github.com/privateim/privateim/protos/message/v1"

	"github.com/privateim/privateim/subscriptionservice/internal/article"
)

var _ article.Broadcaster = (*Client)(nil)

// Client is safe for concurrent use.
type Client struct {
	conn *grpc.ClientConn
	msg  messagev1.MessageServiceClient
}

// Dial makes a client of the MessageService at addr; it connects lazily, so
// the subscriptionservice starts (and publishes) while it is down.
func Dial(addr string, files tlsconfig.Files, opts ...grpc.DialOption) (*Client, error) {
	conn, err := grpcdial.Dial(tlsconfig.MessageService, addr, files, opts...)
	if err != nil {
		return nil, err
	}
	return &Client{conn: conn, msg: messagev1.NewMessageServiceClient(conn)}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Broadcast implements article.Broadcaster. NotFound (the account is
// unknown there) becomes article.ErrNoSubscription.
func (c *Client) Broadcast(ctx context.Context, subscriptionID, senderID int64, clientMsgID, kind string, content []byte) error {
	_, err := c.msg.Broadcast(ctx, &messagev1.BroadcastRequest{
		SubscriptionId: subscriptionID, SenderId: senderID, ClientMsgId: clientMsgID, Kind: kind, Content: content,
	})
	if status.Code(err) == codes.NotFound {
		return fmt.Errorf("broadcast to subscription %d: %w", subscriptionID, article.ErrNoSubscription)
	}
	if err != nil {
		return fmt.Errorf("broadcast to subscription %d: %w", subscriptionID, err)
	}
	return nil
}
