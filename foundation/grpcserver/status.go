package grpcserver

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privateim/privateim/foundation/errs"
)

// codeOf is the one table from error kinds to gRPC codes. A body too
// large is a bad argument of the call (ResourceExhausted is for quotas:
// RateLimited).
var codeOf = map[errs.Kind]codes.Code{
	errs.KindInvalid:          codes.InvalidArgument,
	errs.KindUnauthenticated:  codes.Unauthenticated,
	errs.KindForbidden:        codes.PermissionDenied,
	errs.KindNotFound:         codes.NotFound,
	errs.KindConflict:         codes.AlreadyExists,
	errs.KindState:            codes.FailedPrecondition,
	errs.KindGone:             codes.FailedPrecondition,
	errs.KindTooLarge:         codes.InvalidArgument,
	errs.KindUnsupportedMedia: codes.InvalidArgument,
	errs.KindRateLimited:      codes.ResourceExhausted,
	errs.KindUnavailable:      codes.Unavailable,
}

// Status turns err into a status: an *errs.Error of a known kind keeps its
// message (prefixed by the field at fault, "title: required"); a canceled
// or expired context says so; anything else is logged with op and
// answered Internal, its cause never shown.
func Status(ctx context.Context, log *slog.Logger, op string, err error) error {
	if e, ok := errs.As(err); ok {
		if c, ok := codeOf[e.Kind]; ok {
			if e.Field != "" {
				return status.Error(c, e.Field+": "+e.Message)
			}
			return status.Error(c, e.Message)
		}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	}
	log.ErrorContext(ctx, "call failed", "op", op, "err", err)
	return status.Error(codes.Internal, "internal error")
}
