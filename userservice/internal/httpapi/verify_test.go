package httpapi_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/poll"

	"github.com/privateim/privateim/userservice/internal/config"
	"github.com/privateim/privateim/userservice/internal/usertest"
)

// verifyToken waits for the n-th verification mail to address and returns
// the token of its link, checking the link points at PUBLIC_URL.
func verifyToken(t *testing.T, e *usertest.Env, address string, n int) string {
	t.Helper()
	link, tok := e.Mail.WaitLink(t, address, "Confirm your PrivateIM email", "/verify-email", n, 15*time.Second)
	if !strings.HasPrefix(link, e.Config.PublicURL+"/verify-email?token=") {
		t.Errorf("link %s does not start with PUBLIC_URL %s", link, e.Config.PublicURL)
	}
	if len(tok) < 43 { // 32 bytes, base64
		t.Fatalf("token %q too short", tok)
	}
	return tok
}

func emailVerified(t *testing.T, e *usertest.Env, token string) bool {
	t.Helper()
	r := e.Do(t, "GET", "/api/v1/me", token, nil)
	want(t, r, http.StatusOK, "", "")
	var me struct {
		EmailVerified *bool `json:"email_verified"`
	}
	r.Decode(t, &me)
	if me.EmailVerified == nil {
		t.Fatalf("no email_verified in %s", r.Body)
	}
	return *me.EmailVerified
}

func TestEmailVerificationThroughMail(t *testing.T) {
	t.Parallel()
	e := usertest.StartWith(t, usertest.Options{Mail: true, Configure: func(c *config.Config) {
		c.PublicURL = "https://im.example.test"
	}})
	a := e.NewAccount(t, "Ada")
	const verify, resend = "/api/v1/auth/email/verify", "/api/v1/auth/email/resend"

	// Sign-up mailed a link; the account works unverified.
	tok := verifyToken(t, e, a.Email, 1)
	if emailVerified(t, e, a.Token) {
		t.Fatal("verified before the link was opened")
	}
	want(t, e.Do(t, "POST", "/api/v1/auth/signin", "", map[string]string{"email": a.Email, "password": a.Password}), http.StatusOK, "", "")

	// Bad input names the field and spends nothing.
	want(t, e.Do(t, "POST", verify, "", map[string]string{}), http.StatusBadRequest, "required", "token")
	want(t, e.Do(t, "POST", verify, "", map[string]any{"token": 7}), http.StatusBadRequest, "wrong_type", "token")
	want(t, e.Do(t, "POST", verify, "", map[string]string{"token": strings.Repeat("x", 200)}), http.StatusBadRequest, "email_token_invalid", "token")
	want(t, e.Do(t, "POST", verify, "", map[string]string{"token": "never-issued-token"}), http.StatusBadRequest, "email_token_invalid", "token")
	want(t, e.Do(t, "POST", verify, "", map[string]any{"token": tok, "extra": 1}), http.StatusBadRequest, "unknown_field", "extra")
	want(t, e.Raw(t, "POST", verify, "", "text/plain", []byte(`{}`)), http.StatusUnsupportedMediaType, "unsupported_media_type", "")

	// A reset link's token is not a verification token, nor the other way.
	want(t, e.Do(t, "POST", "/api/v1/auth/password/forgot", "", map[string]string{"email": a.Email}), http.StatusAccepted, "", "")
	resetTok := resetToken(t, e, a.Email, 1)
	want(t, e.Do(t, "POST", verify, "", map[string]string{"token": resetTok}), http.StatusBadRequest, "email_token_invalid", "token")
	want(t, e.Do(t, "POST", "/api/v1/auth/password/reset", "", map[string]string{"token": tok, "password": "brand new pass"}), http.StatusBadRequest, "reset_token_invalid", "token")

	// A second link; opening the first spends both.
	want(t, e.Do(t, "POST", resend, "", nil), http.StatusUnauthorized, "", "")
	want(t, e.Do(t, "POST", resend, a.Token, nil), http.StatusAccepted, "", "")
	tok2 := verifyToken(t, e, a.Email, 2)
	if tok2 == tok {
		t.Fatal("the second link has the first token")
	}
	want(t, e.Do(t, "POST", verify, "", map[string]string{"token": tok}), http.StatusNoContent, "", "")
	if !emailVerified(t, e, a.Token) {
		t.Fatal("not verified after the link was opened")
	}
	want(t, e.Do(t, "POST", verify, "", map[string]string{"token": tok}), http.StatusGone, "email_token_used", "")
	want(t, e.Do(t, "POST", verify, "", map[string]string{"token": tok2}), http.StatusGone, "email_token_used", "")
	want(t, e.Do(t, "POST", resend, a.Token, nil), http.StatusConflict, "email_already_verified", "")

	// Someone else's account is untouched.
	b := e.NewAccount(t, "Bob")
	verifyToken(t, e, b.Email, 1)
	if emailVerified(t, e, b.Token) {
		t.Fatal("Bob verified by Ada's link")
	}
}

func TestEmailVerificationResendIsRateLimited(t *testing.T) {
	t.Parallel()
	e := usertest.StartWith(t, usertest.Options{Mail: true, Configure: func(c *config.Config) {
		c.VerifyPerUser = config.Rate{N: 2, Per: time.Hour}
	}})
	a, b := e.NewAccount(t, "Ada"), e.NewAccount(t, "Bob")
	const resend = "/api/v1/auth/email/resend"
	want(t, e.Do(t, "POST", resend, a.Token, nil), http.StatusAccepted, "", "")
	want(t, e.Do(t, "POST", resend, a.Token, nil), http.StatusAccepted, "", "")
	r := e.Do(t, "POST", resend, a.Token, nil)
	want(t, r, http.StatusTooManyRequests, "rate_limited", "")
	if r.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	// Per user: Bob still may.
	want(t, e.Do(t, "POST", resend, b.Token, nil), http.StatusAccepted, "", "")
	verifyToken(t, e, a.Email, 3) // sign-up's and the two allowed
}

func TestEmailVerificationTokenExpires(t *testing.T) {
	t.Parallel()
	const ttl = 100 * time.Millisecond
	e := usertest.StartWith(t, usertest.Options{Mail: true, Configure: func(c *config.Config) { c.VerifyTTL = ttl }})
	asked := time.Now()
	a := e.NewAccount(t, "Ada")
	tok := verifyToken(t, e, a.Email, 1)
	// Polling the clock, not the server: every try would spend the token.
	poll.Eventually(t, 5*time.Second, func() error {
		if time.Since(asked) < ttl+1100*time.Millisecond {
			return errors.New("not expired yet")
		}
		return nil
	})
	want(t, e.Do(t, "POST", "/api/v1/auth/email/verify", "", map[string]string{"token": tok}), http.StatusGone, "email_token_expired", "")
	if emailVerified(t, e, a.Token) {
		t.Fatal("verified with an expired link")
	}
}
