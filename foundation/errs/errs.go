// Package errs is the error vocabulary of the services that serve HTTP with
// httpkit (the userservice and the subscriptionservice), shared by their
// features, adapters and transports so that each boundary translates errors
// once:
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
	"io"
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
// "reset token expired", "article 5 is draft, not approved" for
// ErrPrecondition). It wraps one of the sentinels.
type StoreError struct {
	Op       string // the DataService call, e.g. "GetUser"
	Sentinel error  // ErrNotFound, ErrExists, ErrPrecondition or ErrInvalid
	Message  string // the DataService's status message, safe to show
	// Reason names the refusal when callers tell it apart (the ErrorInfo
	// reason, a protos/data/v1 Refusal name), else "". Match this, never
	// Message's words.
	Reason string
}

func (e *StoreError) Error() string { return e.Op + ": " + e.Sentinel.Error() + ": " + e.Message }
func (e *StoreError) Unwrap() error { return e.Sentinel }

// Kind is the class of a failure a caller can act on. Each transport maps
// kinds to its own statuses in one table.
type Kind int

// Kinds. The HTTP statuses they become are in httpkit's table; each
// service's grpcapi maps the kinds it uses to gRPC codes.
const (
	KindInternal         Kind = iota // 500: never built on purpose; the zero value
	KindInvalid                      // 400: bad input, Field names the culprit when there is one
	KindUnauthenticated              // 401: no, bad, expired or revoked token; wrong password
	KindForbidden                    // 403: authenticated but not allowed
	KindNotFound                     // 404
	KindConflict                     // 409: duplicate, or a state that forbids the action
	KindState                        // 409: the resource's state forbids the step; the message names it
	KindGone                         // 410: existed once, no longer usable (a spent reset token)
	KindTooLarge                     // 413
	KindUnsupportedMedia             // 415
	KindRateLimited                  // 429
	KindUnavailable                  // 503: a service this one needs is down
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
//	var ErrEmailTaken = errs.New(errs.KindConflict, "email_taken", "an account with this email exists")
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

// ReadError is a failure to read an upload (the client's body was cut, too
// large, or malformed), as opposed to a failure to store it or a fault of
// its content. Err is the reader's error; an *http.MaxBytesError in it
// means the request was too large. Code that reads an upload wraps such
// failures in it, so the transport answers them as the body's
// (httpkit.UploadError).
type ReadError struct{ Err error }

func (e *ReadError) Error() string { return "read upload: " + e.Err.Error() }
func (e *ReadError) Unwrap() error { return e.Err }

// MarkReads returns r with its errors (but io.EOF) wrapped in *ReadError,
// so that the errors of reading an upload are told from those of writing
// it where both pass through one call (io.Copy).
func MarkReads(r io.Reader) io.Reader { return markReads{r} }

type markReads struct{ r io.Reader }

func (m markReads) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	if err != nil && err != io.EOF {
		err = &ReadError{Err: err}
	}
	return n, err
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
