package grpcapi

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privateim/privateim/dataservice/internal/store"
	datav1 "github.com/privateim/privateim/protos/data/v1"
)

// msgInternal is all a caller learns of a failure it cannot act on; the
// cause goes to the log.
const msgInternal = "internal error"

// statusOf is the one table from store errors to gRPC status. op names the
// operation for the log ("append messages").
func statusOf(ctx context.Context, log *slog.Logger, op string, err error) error {
	var exists *store.ExistsError
	var pre *store.PreconditionError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &exists):
		return status.Error(codes.AlreadyExists, exists.Field+" already exists")
	case errors.Is(err, store.ErrExists):
		return status.Error(codes.AlreadyExists, "already exists")
	case errors.As(err, &pre):
		return refused(pre)
	case errors.Is(err, store.ErrPrecondition):
		return status.Error(codes.FailedPrecondition, "precondition failed")
	case errors.Is(err, store.ErrNotFound):
		return status.Error(codes.NotFound, "not found")
	case errors.Is(err, store.ErrBadPageToken):
		return invalid("page_token", "not a token this list handed out")
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, context.Canceled.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, context.DeadlineExceeded.Error())
	}
	// A driver cut short by the caller's context may report a broken
	// connection rather than the context's error: the context tells.
	switch ctx.Err() {
	case context.Canceled:
		return status.Error(codes.Canceled, context.Canceled.Error())
	case context.DeadlineExceeded:
		return status.Error(codes.DeadlineExceeded, context.DeadlineExceeded.Error())
	}
	log.ErrorContext(ctx, "store failed", "op", op, "err", err)
	return status.Error(codes.Internal, msgInternal)
}

// ErrorDomain is the ErrorInfo domain of the DataService's refusals.
const ErrorDomain = "data.privateim"

// refusals names the store's refusals on the wire (errors.proto).
var refusals = map[store.Refusal]datav1.Refusal{
	store.RefusalRecalled:     datav1.Refusal_REFUSAL_RECALLED,
	store.RefusalReacted:      datav1.Refusal_REFUSAL_ALREADY_REACTED,
	store.RefusalNotReacted:   datav1.Refusal_REFUSAL_NOT_REACTED,
	store.RefusalTooManyEmoji: datav1.Refusal_REFUSAL_TOO_MANY_EMOJI,
	store.RefusalAdminLimit:   datav1.Refusal_REFUSAL_ADMIN_LIMIT,
	store.RefusalMemberLimit:  datav1.Refusal_REFUSAL_MEMBER_LIMIT,
	store.RefusalTokenUsed:    datav1.Refusal_REFUSAL_TOKEN_USED,
	store.RefusalTokenExpired: datav1.Refusal_REFUSAL_TOKEN_EXPIRED,
}

// refused is the FailedPrecondition of pre: its reason as the message
// and, when callers tell it apart, an ErrorInfo naming it, which is what
// they match.
func refused(pre *store.PreconditionError) error {
	st := status.New(codes.FailedPrecondition, pre.Reason)
	r, ok := refusals[pre.Code]
	if !ok {
		return st.Err()
	}
	if d, err := st.WithDetails(&errdetails.ErrorInfo{Reason: r.String(), Domain: ErrorDomain}); err == nil {
		st = d
	}
	return st.Err()
}
