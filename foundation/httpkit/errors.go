package httpkit

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/privateim/privateim/foundation/errs"
)

// statusOf is the one table from error kinds to HTTP statuses. A kind
// missing here is answered as internal.
var statusOf = map[errs.Kind]int{
	errs.KindInvalid:          http.StatusBadRequest,
	errs.KindUnauthenticated:  http.StatusUnauthorized,
	errs.KindForbidden:        http.StatusForbidden,
	errs.KindNotFound:         http.StatusNotFound,
	errs.KindConflict:         http.StatusConflict,
	errs.KindState:            http.StatusConflict,
	errs.KindGone:             http.StatusGone,
	errs.KindTooLarge:         http.StatusRequestEntityTooLarge,
	errs.KindUnsupportedMedia: http.StatusUnsupportedMediaType,
	errs.KindRateLimited:      http.StatusTooManyRequests,
	errs.KindUnavailable:      http.StatusServiceUnavailable,
}

const (
	codeInternal = "internal"
	msgInternal  = "internal error"
)

// ErrorBody is every error answer: {"error":{"code","message","field"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// Fail answers err through the table: an *errs.Error with its status, code,
// message and field; anything else is logged and answered as a bare 500.
// The handler returns after calling it.
func Fail(c *gin.Context, err error) {
	if e, ok := errs.As(err); ok {
		if status, ok := statusOf[e.Kind]; ok {
			WriteError(c, status, e.Code, e.Message, e.Field)
			return
		}
	}
	ctx := c.Request.Context()
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		// The client went away; nobody reads this answer.
		logger(c).DebugContext(ctx, "request abandoned", "path", c.Request.URL.Path, "err", err)
	} else {
		logger(c).ErrorContext(ctx, "request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
	}
	WriteError(c, http.StatusInternalServerError, codeInternal, msgInternal, "")
}

// TooMany answers 429 with Retry-After in whole seconds, at least one.
func TooMany(c *gin.Context, retryAfterSeconds int, message string) {
	if retryAfterSeconds < 1 {
		retryAfterSeconds = 1
	}
	c.Header("Retry-After", strconv.Itoa(retryAfterSeconds))
	WriteError(c, http.StatusTooManyRequests, "rate_limited", message, "")
}

// WriteError writes the error body and aborts the handler chain.
func WriteError(c *gin.Context, status int, code, message, field string) {
	if status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="privateim"`)
	}
	c.AbortWithStatusJSON(status, ErrorBody{Error: ErrorDetail{Code: code, Message: message, Field: field}})
}
