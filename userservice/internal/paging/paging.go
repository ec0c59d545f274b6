// Package paging holds what the list and search features share about pages:
// the page-token error, and the translation of store and search-index input
// errors into 400s naming the query parameter at fault ("page_token",
// "q"). Lists take `limit` and `page_token` and answer `next_page_token`,
// empty on the last page.
//
// It imports only the standard library, errs and search.
package paging

import (
	"errors"
	"fmt"
	"strings"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/userservice/internal/search"
)

// Limits of the limit query parameter.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// ErrBadPageToken answers a page token no list handed out.
var ErrBadPageToken = errs.Invalid("page_token", "not a token this list handed out")

// ListError maps a list's store error: errs.ErrInvalid can only be the page
// token (the limit is checked before), anything else is wrapped with op.
func ListError(op string, err error) error {
	if errors.Is(err, errs.ErrInvalid) {
		return ErrBadPageToken
	}
	return fmt.Errorf("%s: %w", op, err)
}

// SearchError maps a search.Index error: the caller's input becomes a 400
// naming q or page_token, anything else is wrapped.
func SearchError(err error) error {
	switch {
	case errors.Is(err, search.ErrEmptyQuery):
		return errs.Required("q")
	case errors.Is(err, search.ErrBadCursor):
		return ErrBadPageToken
	case errors.Is(err, search.ErrInvalid):
		msg := err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		return errs.Invalid("q", "%s", msg)
	}
	return fmt.Errorf("search: %w", err)
}
