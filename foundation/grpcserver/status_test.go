package grpcserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privateim/privateim/foundation/errs"
)

func TestStatus(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	tests := []struct {
		name string
		err  error
		code codes.Code
		msg  string
	}{
		{"field at fault", fmt.Errorf("create: %w", errs.Required("title")), codes.InvalidArgument, "title: required"},
		{"kind", errs.New(errs.KindNotFound, "user_not_found", "no such user"), codes.NotFound, "no such user"},
		{"state", errs.New(errs.KindState, "invalid_state", "article 5 is draft"), codes.FailedPrecondition, "article 5 is draft"},
		{"too large is a bad argument", &errs.Error{Kind: errs.KindTooLarge, Code: "too_large", Field: "body", Message: "at most 64 KiB"}, codes.InvalidArgument, "body: at most 64 KiB"},
		{"unavailable", errs.New(errs.KindUnavailable, "auth_unavailable", "try again"), codes.Unavailable, "try again"},
		{"canceled", fmt.Errorf("read: %w", context.Canceled), codes.Canceled, "canceled"},
		{"deadline", context.DeadlineExceeded, codes.DeadlineExceeded, "deadline exceeded"},
		{"cause never shown", errors.New("dial tcp 10.0.0.7:3306: refused"), codes.Internal, "internal error"},
		{"internal kind", &errs.Error{Kind: errs.KindInternal, Code: "x", Message: "secret"}, codes.Internal, "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, _ := status.FromError(Status(context.Background(), log, "op", tt.err))
			if st.Code() != tt.code || st.Message() != tt.msg {
				t.Errorf("Status = %s %q, want %s %q", st.Code(), st.Message(), tt.code, tt.msg)
			}
		})
	}
}
