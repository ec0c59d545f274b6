// Package dataconn is the connection to the DataService that the services
// with a public HTTP API share: a gRPC client connection with mutual TLS and
// a reconnect backoff fit for development restarts, its health check, and
// the one table from DataService gRPC codes to store errors (pkg/errs).
// Each service's datastore package builds its own clients on the conn.
package dataconn

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

	"github.com/privateim/privateim/foundation/tlsconfig"

	"github.com/privateim/privateim/foundation/errs"
)

// maxMessageBytes matches the DataService's limit on one message.
const maxMessageBytes = 16 << 20

// Dial makes a connection to the DataService at addr with mutual TLS. It
// does not wait for the connection: calls fail with Unavailable until it
// is up.
func Dial(addr string, files tlsconfig.Files) (*grpc.ClientConn, error) {
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
	return conn, nil
}

// Check asks the DataService's health service whether it serves; nil when
// it does.
func Check(ctx context.Context, health healthpb.HealthClient) error {
	resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return fmt.Errorf("dataservice health: %w", err)
	}
	if s := resp.GetStatus(); s != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("dataservice health: %s", s)
	}
	return nil
}

// Translate is the one table from DataService gRPC codes to store errors.
// op names the RPC ("GetUser"). Codes a caller cannot act on are wrapped as
// they are, for the log: the transports answer them as internal.
func Translate(op string, err error) error {
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
