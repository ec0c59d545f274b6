// Package datastore is the subscriptionservice's adapter to the DataService: a gRPC
// client over mutual TLS that implements the Store interfaces the features
// declare (subscription.Store, article.Store), converting between protobuf and the
// features' types. It translates gRPC codes once, in translate: NotFound,
// AlreadyExists, FailedPrecondition and InvalidArgument become the errs
// store sentinels the features match with errors.Is; anything else stays an
// opaque internal error.
//
// One file per feature (subscriptions.go, articles.go) keeps helpers apart.
package datastore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	datav1 "github.com/privateim/privateim/protos/data/v1"
	"github.com/privateim/privateim/protos/tlsconfig"

	"github.com/privateim/privateim/subscriptionservice/internal/errs"
)

// maxMessageBytes matches the DataService's limit on one message.
const maxMessageBytes = 16 << 20

// Client is safe for concurrent use; its clients share one connection.
type Client struct {
	conn          *grpc.ClientConn
	health        healthpb.HealthClient
	users         datav1.UsersClient
	subscriptions datav1.SubscriptionsClient
	articles      datav1.ArticlesClient
}

// Dial makes a client of the DataService at addr with mutual TLS. It does
// not wait for the connection: calls fail with Unavailable until it is up.
func Dial(addr string, files tlsconfig.Files) (*Client, error) {
	creds, err := tlsconfig.ClientCredentials(files, "")
	if err != nil {
		return nil, fmt.Errorf("dataservice client tls: %w", err)
	}
	// gRPC's default reconnect backoff starts at a second and grows to two
	// minutes; a DataService restarted in development should be seen back
	// within seconds.
	bo := backoff.DefaultConfig
	bo.MaxDelay = 5 * time.Second
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(creds),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bo, MinConnectTimeout: 5 * time.Second}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageBytes), grpc.MaxCallSendMsgSize(maxMessageBytes)))
	if err != nil {
		return nil, fmt.Errorf("dial dataservice %s: %w", addr, err)
	}
	return &Client{
		conn:          conn,
		health:        healthpb.NewHealthClient(conn),
		users:         datav1.NewUsersClient(conn),
		subscriptions: datav1.NewSubscriptionsClient(conn),
		articles:      datav1.NewArticlesClient(conn),
	}, nil
}

// Close closes the connection; calls in flight fail.
func (c *Client) Close() error { return c.conn.Close() }

// Check asks the DataService's health service whether it serves; nil when
// it does.
func (c *Client) Check(ctx context.Context) error {
	resp, err := c.health.Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return fmt.Errorf("dataservice health: %w", err)
	}
	if s := resp.GetStatus(); s != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("dataservice health: %s", s)
	}
	return nil
}

// translate is the one table from DataService gRPC codes to store errors.
// op names the RPC ("GetUser"). Codes a caller cannot act on are wrapped as
// they are, for the log: the transports answer them as internal.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("dataservice %s: %w", op, err)
	}
	var sentinel error
	switch st.Code() {
	case codes.NotFound:
		sentinel = errs.ErrNotFound
	case codes.AlreadyExists:
		sentinel = errs.ErrExists
	case codes.FailedPrecondition:
		sentinel = errs.ErrPrecondition
	case codes.InvalidArgument:
		sentinel = errs.ErrInvalid
	case codes.Canceled:
		return fmt.Errorf("dataservice %s: %w", op, errors.Join(context.Canceled, err))
	case codes.DeadlineExceeded:
		return fmt.Errorf("dataservice %s: %w", op, errors.Join(context.DeadlineExceeded, err))
	default:
		return fmt.Errorf("dataservice %s: %w", op, err)
	}
	return &errs.StoreError{Op: op, Sentinel: sentinel, Message: st.Message()}
}
