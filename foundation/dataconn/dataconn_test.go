package dataconn

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privateim/privateim/foundation/errs"
)

func TestTranslate(t *testing.T) {
	if Translate("GetUser", nil) != nil {
		t.Fatal("nil became an error")
	}
	for c, want := range map[codes.Code]error{
		codes.NotFound:           errs.ErrNotFound,
		codes.AlreadyExists:      errs.ErrExists,
		codes.FailedPrecondition: errs.ErrPrecondition,
		codes.InvalidArgument:    errs.ErrInvalid,
		codes.Canceled:           context.Canceled,
		codes.DeadlineExceeded:   context.DeadlineExceeded,
	} {
		err := Translate("Op", status.Error(c, "reset token expired"))
		if !errors.Is(err, want) {
			t.Errorf("%s: %v does not match %v", c, err, want)
		}
	}
	var se *errs.StoreError
	if err := Translate("ResetPasswordPlus", status.Error(codes.FailedPrecondition, "reset token expired")); !errors.As(err, &se) || se.Message != "reset token expired" || se.Op != "ResetPasswordPlus" {
		t.Errorf("StoreError = %+v", se)
	}
	for _, c := range []codes.Code{codes.Internal, codes.Unavailable, codes.Unknown, codes.PermissionDenied} {
		err := Translate("Op", status.Error(c, "boom"))
		for _, s := range []error{errs.ErrNotFound, errs.ErrExists, errs.ErrPrecondition, errs.ErrInvalid} {
			if errors.Is(err, s) {
				t.Errorf("%s became %v", c, s)
			}
		}
		if status.Code(errors.Unwrap(err)) != c {
			t.Errorf("%s: the status is not kept for the log: %v", c, err)
		}
	}
	if err := Translate("Op", errors.New("plain")); err == nil || errors.Is(err, errs.ErrNotFound) {
		t.Errorf("plain error: %v", err)
	}
}
