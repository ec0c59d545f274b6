package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/poll"

	"github.com/privateim/privateim/userservice/internal/config"
	"github.com/privateim/privateim/userservice/internal/usertest"
)

var linkRE = regexp.MustCompile(`https?://\S+/reset-password\?token=\S+`)

// resetToken waits for the n-th reset mail to address and returns the token
// of its link, checking the link points at PUBLIC_URL.
func resetToken(t *testing.T, e *usertest.Env, address string, n int) string {
	t.Helper()
	msg := e.Mail.WaitMessageAbout(t, address, "Reset", n, 15*time.Second)
	if !strings.Contains(msg.Subject, "Reset") {
		t.Errorf("subject %q", msg.Subject)
	}
	link := linkRE.FindString(msg.Text)
	if link == "" {
		t.Fatalf("no reset link in mail:\n%s", msg.Text)
	}
	if !strings.HasPrefix(link, e.Config.PublicURL+"/reset-password?token=") {
		t.Errorf("link %s does not start with PUBLIC_URL %s", link, e.Config.PublicURL)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	tok := u.Query().Get("token")
	if len(tok) < 43 { // 32 bytes, base64
		t.Fatalf("token %q too short", tok)
	}
	return tok
}

func TestPasswordResetThroughMail(t *testing.T) {
	t.Parallel()
	e := usertest.StartWith(t, usertest.Options{Mail: true, Configure: func(c *config.Config) {
		c.PublicURL = "https://im.example.test"
	}})
	a := e.NewAccount(t, "Ada")
	other := e.NewAccount(t, "Bob")

	// Unknown addresses get the same answer and no mail.
	want(t, e.Do(t, "POST", "/api/v1/auth/password/forgot", "", map[string]string{"email": "nobody@example.com"}), http.StatusAccepted, "", "")

	// The email is matched in any case.
	want(t, e.Do(t, "POST", "/api/v1/auth/password/forgot", "", map[string]string{"email": strings.ToUpper(a.Email)}), http.StatusAccepted, "", "")
	tok := resetToken(t, e, a.Email, 1)

	const reset = "/api/v1/auth/password/reset"
	want(t, e.Do(t, "POST", reset, "", map[string]string{"token": tok, "password": "short"}), http.StatusBadRequest, "invalid", "password")
	want(t, e.Do(t, "POST", reset, "", map[string]string{"token": tok}), http.StatusBadRequest, "required", "password")
	want(t, e.Do(t, "POST", reset, "", map[string]string{"password": "brand new pass"}), http.StatusBadRequest, "required", "token")
	want(t, e.Do(t, "POST", reset, "", map[string]any{"token": 7, "password": "brand new pass"}), http.StatusBadRequest, "wrong_type", "token")
	want(t, e.Do(t, "POST", reset, "", map[string]string{"token": strings.Repeat("x", 200), "password": "brand new pass"}), http.StatusBadRequest, "reset_token_invalid", "token")
	want(t, e.Do(t, "POST", reset, "", map[string]string{"token": "never-issued-token", "password": "brand new pass"}), http.StatusBadRequest, "reset_token_invalid", "token")
	want(t, e.Raw(t, "POST", reset, "", "text/plain", []byte(`{}`)), http.StatusUnsupportedMediaType, "unsupported_media_type", "")
	// None of that spent the token.
	want(t, e.Do(t, "POST", reset, "", map[string]string{"token": tok, "password": "brand new pass"}), http.StatusNoContent, "", "")

	want(t, e.Do(t, "GET", "/api/v1/me", a.Token, nil), http.StatusUnauthorized, "token_revoked", "")
	want(t, e.Do(t, "POST", "/api/v1/auth/signin", "", map[string]string{"email": a.Email, "password": a.Password}), http.StatusUnauthorized, "bad_credentials", "")
	r := e.Do(t, "POST", "/api/v1/auth/signin", "", map[string]string{"email": a.Email, "password": "brand new pass"})
	want(t, r, http.StatusOK, "", "")
	var in authJSON
	r.Decode(t, &in)
	want(t, e.Do(t, "GET", "/api/v1/me", in.Token, nil), http.StatusOK, "", "")

	// Single use.
	want(t, e.Do(t, "POST", reset, "", map[string]string{"token": tok, "password": "yet another pass"}), http.StatusGone, "reset_token_used", "")
	want(t, e.Do(t, "GET", "/api/v1/me", in.Token, nil), http.StatusOK, "", "")

	// Someone else's session is untouched; no mail went to them.
	want(t, e.Do(t, "GET", "/api/v1/me", other.Token, nil), http.StatusOK, "", "")
	ctx := context.Background()
	for _, addr := range []string{other.Email, "nobody@example.com"} {
		if got, err := e.Mail.MessagesAbout(ctx, addr, "Reset"); err != nil || len(got) != 0 {
			t.Errorf("reset mails to %s: %d, %v; want none", addr, len(got), err)
		}
	}

	// A second request gives a second link; the first stays spent.
	want(t, e.Do(t, "POST", "/api/v1/auth/password/forgot", "", map[string]string{"email": a.Email}), http.StatusAccepted, "", "")
	tok2 := resetToken(t, e, a.Email, 2)
	if tok2 == tok {
		t.Fatal("the second link has the first token")
	}
	want(t, e.Do(t, "POST", reset, "", map[string]string{"token": tok2, "password": "third password"}), http.StatusNoContent, "", "")
	want(t, e.Do(t, "GET", "/api/v1/me", in.Token, nil), http.StatusUnauthorized, "token_revoked", "")
}

func TestForgotBadInput(t *testing.T) {
	t.Parallel()
	e := usertest.Start(t) // no mailpit: sending fails, and is only logged
	a := e.NewAccount(t, "Ada")
	const path = "/api/v1/auth/password/forgot"
	want(t, e.Do(t, "POST", path, "", map[string]string{"email": a.Email}), http.StatusAccepted, "", "")
	want(t, e.Do(t, "POST", path, "", map[string]string{}), http.StatusBadRequest, "required", "email")
	want(t, e.Do(t, "POST", path, "", map[string]string{"email": "not-an-email"}), http.StatusBadRequest, "invalid", "email")
	want(t, e.Do(t, "POST", path, "", map[string]string{"email": strings.Repeat("a", 250) + "@b.co"}), http.StatusBadRequest, "invalid", "email")
	want(t, e.Do(t, "POST", path, "", map[string]any{"email": false}), http.StatusBadRequest, "wrong_type", "email")
	want(t, e.Do(t, "POST", path, "", map[string]any{"email": a.Email, "extra": 1}), http.StatusBadRequest, "unknown_field", "extra")
	want(t, e.Raw(t, "POST", path, "", "application/json", []byte(`{"email":`)), http.StatusBadRequest, "bad_json", "")
	want(t, e.Raw(t, "POST", path, "", "", []byte(`{}`)), http.StatusUnsupportedMediaType, "unsupported_media_type", "")
	want(t, e.Raw(t, "POST", path, "", "application/json", []byte(`{"email":"`+strings.Repeat("a", 2<<20)+`"}`)), http.StatusRequestEntityTooLarge, "too_large", "")
}

func TestResetTokenExpires(t *testing.T) {
	t.Parallel()
	const ttl = 100 * time.Millisecond
	e := usertest.StartWith(t, usertest.Options{Mail: true, Configure: func(c *config.Config) { c.ResetTTL = ttl }})
	a := e.NewAccount(t, "Ada")
	asked := time.Now()
	want(t, e.Do(t, "POST", "/api/v1/auth/password/forgot", "", map[string]string{"email": a.Email}), http.StatusAccepted, "", "")
	tok := resetToken(t, e, a.Email, 1)
	// The expiry may be stored at a second's precision: wait until it has
	// passed for sure. Every try before that would spend the token, so the
	// clock is polled rather than the server.
	poll.Eventually(t, 5*time.Second, func() error {
		if time.Since(asked) < ttl+1100*time.Millisecond {
			return errors.New("not expired yet")
		}
		return nil
	})
	want(t, e.Do(t, "POST", "/api/v1/auth/password/reset", "", map[string]string{"token": tok, "password": "brand new pass"}), http.StatusGone, "reset_token_expired", "")
	want(t, e.Do(t, "GET", "/api/v1/me", a.Token, nil), http.StatusOK, "", "")
	want(t, e.Do(t, "POST", "/api/v1/auth/signin", "", map[string]string{"email": a.Email, "password": a.Password}), http.StatusOK, "", "")
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	e := usertest.StartWith(t, usertest.Options{Configure: func(c *config.Config) {
		c.SigninPerEmail = config.Rate{N: 2, Per: time.Hour}
		c.SigninPerIP = config.Rate{N: 4, Per: time.Hour}
		c.ForgotPerEmail = config.Rate{N: 1, Per: time.Hour}
		c.ForgotPerIP = config.Rate{N: 2, Per: time.Hour}
	}})
	a := e.NewAccount(t, "Ada") // sign-up is not limited
	signin := func(email, password string) usertest.Response {
		return e.Do(t, "POST", "/api/v1/auth/signin", "", map[string]string{"email": email, "password": password})
	}
	limited := func(r usertest.Response) {
		t.Helper()
		want(t, r, http.StatusTooManyRequests, "rate_limited", "")
		secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
		if err != nil || secs < 1 || secs > 3600 {
			t.Fatalf("Retry-After %q, want 1..3600 seconds", r.Header.Get("Retry-After"))
		}
	}

	t.Run("sign-in per email, then per IP", func(t *testing.T) {
		want(t, signin(a.Email, a.Password), http.StatusOK, "", "")                        // ip 1, email 1
		want(t, signin(a.Email, "wrong pass"), http.StatusUnauthorized, "", "")            // ip 2, email 2
		limited(signin(strings.ToUpper(a.Email), a.Password))                              // ip 3; the email is spent, in any case
		want(t, signin("other@example.com", "whatever1"), http.StatusUnauthorized, "", "") // ip 4
		limited(signin("third@example.com", "whatever1"))                                  // the IP is spent
	})
	t.Run("forgot per email, then per IP", func(t *testing.T) {
		const path = "/api/v1/auth/password/forgot"
		want(t, e.Do(t, "POST", path, "", map[string]string{"email": a.Email}), http.StatusAccepted, "", "")
		limited(e.Do(t, "POST", path, "", map[string]string{"email": " " + a.Email}))
		limited(e.Do(t, "POST", path, "", map[string]string{"email": "other@example.com"}))
	})
	t.Run("the limits are separate from other routes", func(t *testing.T) {
		want(t, e.Do(t, "GET", "/api/v1/me", a.Token, nil), http.StatusOK, "", "")
		want(t, e.Do(t, "POST", "/api/v1/auth/signup", "", map[string]string{"name": "Cy", "email": "cy@example.com", "password": "password1"}), http.StatusCreated, "", "")
	})
}
