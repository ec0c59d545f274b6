package httpkit

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/privateim/privateim/foundation/errs"
)

// userIDKey is where authenticate leaves the caller's id.
const userIDKey = "httpkit.user_id"

var errNoToken = errs.New(errs.KindUnauthenticated, "unauthenticated", "missing bearer token")

// authenticate admits requests with a valid "Authorization: Bearer <token>".
func (a *API) authenticate(c *gin.Context) {
	scheme, token, ok := strings.Cut(c.GetHeader("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		Fail(c, errNoToken)
		return
	}
	id, err := a.deps.Auth.Authenticate(c.Request.Context(), token)
	if err != nil {
		Fail(c, err)
		return
	}
	c.Set(userIDKey, id)
	c.Next()
}

// UserID is the authenticated caller; only under Routes.Authed.
func UserID(c *gin.Context) int64 {
	id, ok := c.Get(userIDKey)
	if !ok {
		// A handler registered on Public asked: a programming error.
		panic("httpkit: UserID outside Routes.Authed")
	}
	return id.(int64)
}

// PathID parses the path parameter name as an id (a decimal > 0), answering
// 400 naming it when it is not; the handler returns when ok is false.
func PathID(c *gin.Context, name string) (id int64, ok bool) {
	id, err := ParseID(c.Param(name))
	if err != nil {
		WriteError(c, http.StatusBadRequest, "invalid", "must be a decimal id", name)
		return 0, false
	}
	return id, true
}
