package httpapi

import (
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/foundation/httpkit"
	"github.com/privateim/privateim/userservice/internal/paging"
)

// maxPageToken bounds the page_token query parameter, in bytes.
const maxPageToken = 512

// pageParams reads the `limit` (1..100, default 20) and `page_token` query
// parameters, answering 400 naming the one at fault; the handler returns
// when ok is false.
func pageParams(c *gin.Context) (limit int, token string, ok bool) {
	limit = paging.DefaultLimit
	if s, set := c.GetQuery("limit"); set {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > paging.MaxLimit {
			httpkit.Fail(c, errs.Invalid("limit", "must be a whole number 1..%d", paging.MaxLimit))
			return 0, "", false
		}
		limit = n
	}
	token = c.Query("page_token")
	if len(token) > maxPageToken {
		httpkit.Fail(c, paging.ErrBadPageToken)
		return 0, "", false
	}
	return limit, token, true
}

// bindOptional is bind for routes whose body is optional: an empty body
// (no Content-Length and nothing to read) leaves dst as it is.
func bindOptional(c *gin.Context, dst any) bool {
	if c.Request.ContentLength == 0 && c.GetHeader("Content-Type") == "" {
		return true
	}
	return httpkit.Bind(c, dst)
}
