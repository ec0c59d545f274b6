// Package errs is the error vocabulary of the subscriptionservice, shared by the
// features, the adapters and the transports so that each boundary translates
// errors once:
//
//   - the datastore adapter turns DataService gRPC codes into the store
//     sentinels below (ErrNotFound, ErrExists, ErrPrecondition, ErrInvalid);
//   - a feature matches those with errors.Is and answers with an *Error of a
//     Kind, a machine code and a message safe for callers;
//   - a transport maps the Kind to its status (httpapi: one table to HTTP
//     statuses; grpcapi: to gRPC codes). Anything else is internal: logged,
//     never shown.
//
// It imports only the standard library.
package errs

import (
	"errors"
	"fmt"
)

// Store failures as the datastore adapter reports them. Errors wrapping
// them may be *StoreError, which carries the DataService's message.
var (
	ErrNotFound     = errors.New("not found")
	ErrExists       = errors.New("already exists")
	ErrPrecondition = errors.New("precondition failed")
	ErrInvalid      = errors.New("invalid argument")
)

// StoreError is a store failure with the DataService's message (for example
// "article 5 is draft, not approved" for ErrPrecondition). It wraps one of the sentinels.
type StoreError struct {
	Op       string // the DataService call, e.g. "GetUser"
	Sentinel error  // ErrNotFound, ErrExists, ErrPrecondition or ErrInvalid
	Message  string // the DataService's status message, safe to show
}

func (e *StoreError) Error() string { return e.Op + ": " + e.Sentinel.Error() + ": " + e.Message }
func (e *StoreError) Unwrap() error { return e.Sentinel }

// Kind is the class of a failure a caller can act on. Each transport maps
// kinds to its own statuses in one table.
type Kind int

// Kinds. The HTTP statuses they become are in httpapi's table.
const (
	KindInternal         Kind = iota // 500: never built on purpose; the zero value
	KindInvalid                      // 400: bad input, Field names the culprit when there is one
	KindUnauthenticated              // 401: no, bad, expired or revoked token; wrong password
	KindForbidden                    // 403: authenticated but not allowed
	KindNotFound                     // 404
	KindConflict                     // 409: a duplicate (a taken name)
	KindState                        // 409: the article's state forbids the step; the message names it
	KindTooLarge                     // 413
	KindUnsupportedMedia             // 415
	KindUnavailable                  // 503: a service this one needs (the userservice's token check) is down
)

// Error is a failure safe to show a caller: a Kind, a stable machine code
// ("email_taken"), a human message, and the field at fault if one is.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Field   string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return e.Code + ": " + e.Field + ": " + e.Message
	}
	return e.Code + ": " + e.Message
}

// New returns an *Error; features declare their sentinels with it:
//
//	var ErrNameTaken = errs.New(errs.KindConflict, "name_taken", "a subscription account has this name")
func New(k Kind, code, message string) *Error {
	return &Error{Kind: k, Code: code, Message: message}
}

// Invalid is a 400 naming field: Invalid("name", "at most %d characters", 32).
// Its code is "invalid".
func Invalid(field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Code: "invalid", Message: fmt.Sprintf(format, args...), Field: field}
}

// Required is the 400 for a missing field.
func Required(field string) *Error {
	return &Error{Kind: KindInvalid, Code: "required", Message: "required", Field: field}
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
