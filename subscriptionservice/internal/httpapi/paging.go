package httpapi

import (
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/foundation/httpkit"
)

// Limits of the limit query parameter, and of page_token in bytes.
const (
	defaultLimit = 20
	maxLimit     = 100
	maxPageToken = 512
)

var errBadPageToken = errs.Invalid("page_token", "not a token this list handed out")

// pageParams reads the `limit` (1..100, default 20) and `page_token` query
// parameters, answering 400 naming the one at fault; the handler returns
// when ok is false.
func pageParams(c *gin.Context) (limit int, token string, ok bool) {
	limit = defaultLimit
	if s, set := c.GetQuery("limit"); set {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			httpkit.Fail(c, errs.Invalid("limit", "must be a whole number 1..%d", maxLimit))
			return 0, "", false
		}
		limit = n
	}
	token = c.Query("page_token")
	if len(token) > maxPageToken {
		httpkit.Fail(c, errBadPageToken)
		return 0, "", false
	}
	return limit, token, true
}
