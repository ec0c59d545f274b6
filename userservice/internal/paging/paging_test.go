package paging_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/userservice/internal/paging"
	"github.com/privateim/privateim/userservice/internal/search"
)

func TestSearchError(t *testing.T) {
	other := errors.New("engine down")
	tests := []struct {
		name        string
		in          error
		code, field string // "" code: not an *errs.Error
	}{
		{name: "empty query", in: search.ErrEmptyQuery, code: "required", field: "q"},
		{name: "bad cursor", in: search.ErrBadCursor, code: "invalid", field: "page_token"},
		{name: "query too long", in: fmt.Errorf("%w: query longer than 100 characters", search.ErrInvalid), code: "invalid", field: "q"},
		{name: "engine failure", in: other},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := paging.SearchError(tc.in)
			e, ok := errs.As(err)
			if tc.code == "" {
				if ok || !errors.Is(err, other) {
					t.Fatalf("got %v, want the cause wrapped", err)
				}
				return
			}
			if !ok || e.Code != tc.code || e.Field != tc.field {
				t.Fatalf("got %v, want %s on %s", err, tc.code, tc.field)
			}
		})
	}
	if e, _ := errs.As(paging.SearchError(fmt.Errorf("%w: query longer than 100 characters", search.ErrInvalid))); e.Message != "query longer than 100 characters" {
		t.Errorf("message %q", e.Message)
	}
}

func TestListError(t *testing.T) {
	bad := &errs.StoreError{Op: "ListFollowing", Sentinel: errs.ErrInvalid, Message: "page_token: not a token"}
	if err := paging.ListError("list", bad); err != paging.ErrBadPageToken {
		t.Fatalf("got %v", err)
	}
	other := errors.New("unavailable")
	if err := paging.ListError("list", other); !errors.Is(err, other) || err.Error() != "list: unavailable" {
		t.Fatalf("got %v", err)
	}
}
