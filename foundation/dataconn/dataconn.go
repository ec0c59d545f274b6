// Package dataconn is the connection to the DataService that the services
// with a public HTTP API share: a gRPC client connection dialled by
// grpcdial, its health check, and the one table from DataService gRPC codes
// to store errors (foundation/errs). Each service's datastore package
// builds its own clients on the conn.
package dataconn

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/foundation/grpcdial"
	"github.com/privateim/privateim/foundation/tlsconfig"
)

// maxMessageBytes matches the DataService's limit on one message.
const maxMessageBytes = 16 << 20

// Conn is a connection to the DataService with its health client. Each
// service's datastore.Client embeds it (for Close and Check) and builds
// its RPC clients on CC.
type Conn struct {
	CC     *grpc.ClientConn
	health healthpb.HealthClient
}

// Dial makes a connection to the DataService at addr with mutual TLS (see
// grpcdial). It does not wait for the connection: calls fail with
// Unavailable until it is up.
func Dial(addr string, files tlsconfig.Files, opts ...grpc.DialOption) (*Conn, error) {
	cc, err := grpcdial.Dial(tlsconfig.DataService, addr, files, append([]grpc.DialOption{grpcdial.MaxMessageBytes(maxMessageBytes)}, opts...)...)
	if err != nil {
		return nil, err
	}
	return &Conn{CC: cc, health: healthpb.NewHealthClient(cc)}, nil
}

// DialClient dials like Dial and makes a service's client of the
// connection with build (the DataService's API clients it uses, all on conn.CC).
// opts add to the dial's (metrics and tracing interceptors).
func DialClient[T any](addr string, files tlsconfig.Files, build func(conn *Conn) T, opts ...grpc.DialOption) (T, error) {
	conn, err := Dial(addr, files, opts...)
	if err != nil {
		var zero T
		return zero, err
	}
	return build(conn), nil
}

// Close closes the connection; calls in flight fail.
func (c *Conn) Close() error { return c.CC.Close() }

// Check asks the DataService's health service whether it serves; nil when
// it does.
func (c *Conn) Check(ctx context.Context) error { return grpcdial.Check(ctx, c.health, "dataservice") }

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
	return &errs.StoreError{Op: op, Sentinel: sentinel, Message: st.Message(), Reason: Refusal(st)}
}

// ErrorDomain is the ErrorInfo domain of the DataService's refusals.
const ErrorDomain = "data.privateim"

// Refusal is the reason of the DataService's ErrorInfo among st's details:
// the name of a protos/data/v1 Refusal (errors.proto), e.g.
// "REFUSAL_ALREADY_REACTED"; "" when st carries none. Callers tell
// refusals apart by it, never by the message's words.
func Refusal(st *status.Status) string {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == ErrorDomain {
			return info.GetReason()
		}
	}
	return ""
}
