package grpcapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privateim/privateim/dataservice/internal/store"
	datav1 "github.com/privateim/privateim/protos/data/v1"
)

func TestStatusOf(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		code codes.Code
		msg  string
	}{
		{"not found", context.Background(), fmt.Errorf("get user 5: %w", store.ErrNotFound), codes.NotFound, "not found"},
		{"exists names the field", context.Background(), fmt.Errorf("create user: %w", &store.ExistsError{Field: "email"}), codes.AlreadyExists, "email already exists"},
		{"bare exists", context.Background(), store.ErrExists, codes.AlreadyExists, "already exists"},
		{"precondition reason", context.Background(), fmt.Errorf("accept: %w", store.Preconditionf("request is %s", "deleted")), codes.FailedPrecondition, "request is deleted"},
		{"bad page token", context.Background(), fmt.Errorf("list: %w", store.ErrBadPageToken), codes.InvalidArgument, "page_token: not a token this list handed out"},
		{"canceled", context.Background(), fmt.Errorf("q: %w", context.Canceled), codes.Canceled, "context canceled"},
		{"deadline", context.Background(), fmt.Errorf("q: %w", context.DeadlineExceeded), codes.DeadlineExceeded, "context deadline exceeded"},
		{"driver error after cancel", canceled, errors.New("invalid connection"), codes.Canceled, "context canceled"},
		{"driver error", context.Background(), errors.New("Error 1146 (42S02): Table 'x.messages' doesn't exist"), codes.Internal, "internal error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := status.Convert(statusOf(tc.ctx, slog.New(slog.DiscardHandler), "op", tc.err))
			if st.Code() != tc.code || st.Message() != tc.msg {
				t.Errorf("got %v %q, want %v %q", st.Code(), st.Message(), tc.code, tc.msg)
			}
		})
	}
}

// TestRefusalsNameEveryStoreRefusal: each store.Refusal has its wire name.
func TestRefusalsNameEveryStoreRefusal(t *testing.T) {
	for r := store.RefusalNone + 1; r <= store.RefusalTokenExpired; r++ {
		if w, ok := refusals[r]; !ok || w == datav1.Refusal_REFUSAL_UNSPECIFIED {
			t.Errorf("store refusal %d has no datav1.Refusal", r)
		}
	}
	if len(refusals) != len(datav1.Refusal_name)-1 {
		t.Errorf("%d refusals mapped, errors.proto names %d", len(refusals), len(datav1.Refusal_name)-1)
	}
}
