// Rate limits of the account routes: the keys (client address, email) and
// the 429 answer.

package httpapi

import (
	"math"
	"net/netip"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/foundation/httpkit"
	"github.com/privateim/privateim/userservice/internal/account"
	"github.com/privateim/privateim/userservice/internal/ratelimit"
)

// Limits are the rate limiters of the account routes; a nil limiter
// limits nothing. "All" limiters have one key: every client together.
type Limits struct {
	// SigninPerEmail is keyed on the email AND the client's address: a
	// stranger guessing a victim's password spends only their own
	// address's attempts and cannot lock the victim out from theirs.
	SigninPerEmail *ratelimit.Limiter
	SigninPerIP    *ratelimit.Limiter
	SignupPerIP    *ratelimit.Limiter
	SignupAll      *ratelimit.Limiter
	ForgotPerEmail *ratelimit.Limiter
	ForgotPerIP    *ratelimit.Limiter
	// ResetPerIP and ResetAll bound reset confirmations (token guesses and
	// the bcrypt work of each) per address and in all.
	ResetPerIP *ratelimit.Limiter
	ResetAll   *ratelimit.Limiter
	// VerifyPerUser bounds the verification mails a user asks for.
	VerifyPerUser *ratelimit.Limiter
}

// clientKey is the rate-limit key of the request's client: its IPv4
// address, or the /64 of an IPv6 one (one subscriber's prefix: anyone
// holding a /64 has 2^64 addresses to rotate through).
func clientKey(c *gin.Context) string {
	a, err := netip.ParseAddr(c.ClientIP())
	if err != nil {
		return c.ClientIP() // gin answers a parsed address; never reached
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.WithZone("").Prefix(64)
	return p.String()
}

// emailKey is the rate-limit key of an email as typed, normalized the way
// accounts are, so case games do not earn more attempts. An email longer
// than any account's is refused (400 naming the field) before it reaches
// a limiter.
func emailKey(e string) (string, error) {
	e = strings.ToLower(strings.TrimSpace(e))
	if len(e) > account.MaxEmailBytes {
		return "", errs.Invalid("email", "at most %d bytes", account.MaxEmailBytes)
	}
	return e, nil
}

// limitEmail takes one event of l for the request's email (with the
// client's address when perClient); it answers 400 or 429 itself and the
// handler returns when it is false.
func limitEmail(c *gin.Context, l *ratelimit.Limiter, email string, perClient bool, message string) bool {
	key, err := emailKey(email)
	if err != nil {
		httpkit.Fail(c, err)
		return false
	}
	if perClient {
		key += " " + clientKey(c)
	}
	return limit(c, l, key, message)
}

// limitIP is middleware taking one event of l for the client (clientKey).
func limitIP(l *ratelimit.Limiter) gin.HandlerFunc {
	return func(c *gin.Context) {
		if limit(c, l, clientKey(c), "too many requests from this address") {
			c.Next()
		}
	}
}

// limitAll is middleware taking one event of a global limiter (one key).
func limitAll(l *ratelimit.Limiter) gin.HandlerFunc {
	return func(c *gin.Context) {
		if limit(c, l, "", "too many requests to this route right now; try again later") {
			c.Next()
		}
	}
}

// limit takes one event of l for key, answering 429 with Retry-After when
// none is left; the handler returns when it is false.
func limit(c *gin.Context, l *ratelimit.Limiter, key, message string) bool {
	ok, wait := l.Allow(key)
	if ok {
		return true
	}
	httpkit.TooMany(c, int(math.Ceil(min(wait, 24*time.Hour).Seconds())), message)
	return false
}
