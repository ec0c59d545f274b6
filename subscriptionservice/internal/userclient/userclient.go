// Package userclient is the subscriptionservice's adapter to the
// userservice's internal gRPC API over mutual TLS: Auth.CheckToken checks
// the bearer tokens of the public API, and Directory keeps the search index
// of subscription accounts current. gRPC codes are translated here, once.
package userclient

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privateim/privateim/foundation/grpcdial"
	"github.com/privateim/privateim/foundation/tlsconfig"
	userv1 "github.com/privateim/privateim/protos/user/v1"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/subscriptionservice/internal/subscription"
)

var _ subscription.Directory = (*Client)(nil)

// Client is safe for concurrent use.
type Client struct {
	conn *grpc.ClientConn
	auth userv1.AuthClient
	dir  userv1.DirectoryClient
}

// Dial makes a client of the userservice at addr; it connects lazily.
func Dial(addr string, files tlsconfig.Files, opts ...grpc.DialOption) (*Client, error) {
	conn, err := grpcdial.Dial(tlsconfig.UserService, addr, files, opts...)
	if err != nil {
		return nil, err
	}
	return &Client{conn: conn, auth: userv1.NewAuthClient(conn), dir: userv1.NewDirectoryClient(conn)}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

var errAuthDown = errs.New(errs.KindUnavailable, "auth_unavailable", "cannot check tokens now; try again")

// Authenticate checks a bearer token with CheckToken and returns its user.
// A token the userservice refuses is a KindUnauthenticated error carrying
// its reason; an unreachable userservice KindUnavailable.
func (c *Client) Authenticate(ctx context.Context, token string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	r, err := c.auth.CheckToken(ctx, &userv1.CheckTokenRequest{Token: token})
	if err == nil {
		return r.GetUserId(), nil
	}
	switch st := status.Convert(err); st.Code() {
	case codes.Unauthenticated, codes.InvalidArgument:
		return 0, errs.New(errs.KindUnauthenticated, "invalid_token", st.Message())
	case codes.Unavailable, codes.DeadlineExceeded:
		if ctx.Err() != nil && ctx.Err() != context.DeadlineExceeded {
			return 0, fmt.Errorf("check token: %w", ctx.Err())
		}
		return 0, errAuthDown
	}
	return 0, fmt.Errorf("check token: %w", err)
}

// retryable are the codes Directory documents as safe to retry.
func retryable(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Internal:
		return true
	}
	return false
}

// call runs f up to three times while it fails with a retryable code.
func call(ctx context.Context, f func(context.Context) error) error {
	var err error
	for attempt := range 3 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return err
			case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
			}
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = f(cctx)
		cancel()
		if err == nil || !retryable(err) {
			return err
		}
	}
	return err
}

// IndexSubscription implements subscription.Directory. The request's
// cancellation does not cut it: the account is stored already.
func (c *Client) IndexSubscription(ctx context.Context, id int64, name string) error {
	err := call(context.WithoutCancel(ctx), func(ctx context.Context) error {
		_, err := c.dir.IndexSubscription(ctx, &userv1.IndexSubscriptionRequest{SubscriptionId: id, Name: name})
		return err
	})
	if err != nil {
		return fmt.Errorf("directory index subscription %d: %w", id, err)
	}
	return nil
}

// RemoveSubscription implements subscription.Directory.
func (c *Client) RemoveSubscription(ctx context.Context, id int64) error {
	err := call(context.WithoutCancel(ctx), func(ctx context.Context) error {
		_, err := c.dir.RemoveSubscription(ctx, &userv1.RemoveSubscriptionRequest{SubscriptionId: id})
		return err
	})
	if err != nil {
		return fmt.Errorf("directory remove subscription %d: %w", id, err)
	}
	return nil
}
