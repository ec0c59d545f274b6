package security

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/privateim/privateim/userservice/internal/config"
	"github.com/privateim/privateim/userservice/internal/usertest"
)

// from sends a JSON POST as the client at ip: the tests' userservice
// trusts 127.0.0.1 as a proxy, so X-Forwarded-For names the client.
func from(t *testing.T, e *usertest.Env, ip, path string, body any) usertest.Response {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, e.URL+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", ip)
	return e.Send(t, req)
}

// start runs a userservice behind a trusted local proxy with the limits
// set by limits (every other limit off).
func start(t *testing.T, limits func(*config.Config)) *usertest.Env {
	return usertest.StartWith(t, usertest.Options{Configure: func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.1"}
		limits(c)
	}})
}

func wantStatus(t *testing.T, r usertest.Response, status int, code string) {
	t.Helper()
	if r.Status != status || (code != "" && r.Err().Code != code) {
		t.Fatalf("answer %d %s, want %d %s", r.Status, r.Body, status, code)
	}
	if status == http.StatusTooManyRequests {
		if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
			t.Fatalf("429 without a Retry-After in seconds: %q", r.Header.Get("Retry-After"))
		}
	}
}

const (
	signin = "/api/v1/auth/signin"
	signup = "/api/v1/auth/signup"
	reset  = "/api/v1/auth/password/reset"
)

// A client sending sign-ins with 1 MiB emails, each different, made the
// per-email limiter keep every one of them: 100 requests held ~100 MiB.
// Not parallel: it measures the process's heap.
func TestHugeEmailFieldDoesNotGrowLimiterMemory(t *testing.T) {
	e := start(t, func(c *config.Config) {
		c.SigninPerEmail = config.Rate{N: 10, Per: time.Minute}
	})
	const requests, size = 100, 1000 << 10 // under the 1 MiB body limit
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	for i := range requests {
		email := fmt.Sprintf("%d%s@example.com", i, strings.Repeat("a", size))
		r := from(t, e, "203.0.113.1", signin, map[string]string{"email": email, "password": "whatever1"})
		wantStatus(t, r, http.StatusBadRequest, "")
		if f := r.Err().Field; f != "email" {
			t.Fatalf("the error names field %q, want email", f)
		}
	}
	grew := int64(heap()) - int64(before)
	if grew > 16<<20 {
		t.Fatalf("heap grew by %.1f MiB after %d sign-ins with %d KiB emails; want the keys capped (< 16 MiB)", float64(grew)/(1<<20), requests, size>>10)
	}
}

// An attacker guessing a victim's password from their own address spends
// that address's sign-in attempts only: the victim still signs in.
func TestSignInLimitCannotLockOutVictimFromAnotherIP(t *testing.T) {
	t.Parallel()
	e := start(t, func(c *config.Config) {
		c.SigninPerEmail = config.Rate{N: 3, Per: time.Hour}
	})
	victim := e.NewAccount(t, "Victim")
	for range 3 {
		wantStatus(t, from(t, e, "203.0.113.7", signin, map[string]string{"email": victim.Email, "password": "guess-guess"}), http.StatusUnauthorized, "")
	}
	wantStatus(t, from(t, e, "203.0.113.7", signin, map[string]string{"email": victim.Email, "password": "guess-guess"}), http.StatusTooManyRequests, "rate_limited")
	wantStatus(t, from(t, e, "198.51.100.9", signin, map[string]string{"email": victim.Email, "password": victim.Password}), http.StatusOK, "")
}

// An IPv6 client holds a whole /64: rotating through its addresses earns
// no more attempts, while another /64 is a different client.
func TestIPv6AddressRotationWithinA64IsOneClient(t *testing.T) {
	t.Parallel()
	e := start(t, func(c *config.Config) {
		c.SigninPerIP = config.Rate{N: 3, Per: time.Hour}
	})
	body := map[string]string{"email": "nobody@example.com", "password": "whatever1"}
	for i := 1; i <= 3; i++ {
		wantStatus(t, from(t, e, fmt.Sprintf("2001:db8:1:2::%x", i), signin, body), http.StatusUnauthorized, "")
	}
	wantStatus(t, from(t, e, "2001:db8:1:2:ffff:ffff:ffff:ffff", signin, body), http.StatusTooManyRequests, "rate_limited")
	wantStatus(t, from(t, e, "2001:db8:1:3::1", signin, body), http.StatusUnauthorized, "")
}

// Mass sign-ups are limited per address, and a crowd of addresses is held
// by the global limit.
func TestSignUpFloodIsLimitedPerAddressAndInAll(t *testing.T) {
	t.Parallel()
	e := start(t, func(c *config.Config) {
		c.SignupPerIP = config.Rate{N: 2, Per: time.Hour}
		c.SignupAll = config.Rate{N: 3, Per: time.Hour}
	})
	n := 0
	up := func(ip string) usertest.Response {
		n++
		return from(t, e, ip, signup, map[string]string{"name": "Bot", "email": fmt.Sprintf("bot%d@example.com", n), "password": "password1"})
	}
	wantStatus(t, up("203.0.113.1"), http.StatusCreated, "")
	wantStatus(t, up("203.0.113.1"), http.StatusCreated, "")
	wantStatus(t, up("203.0.113.1"), http.StatusTooManyRequests, "rate_limited")
	wantStatus(t, up("203.0.113.2"), http.StatusCreated, "")
	wantStatus(t, up("203.0.113.3"), http.StatusTooManyRequests, "rate_limited") // the global limit
}

// Guessing reset tokens (each guess also cost a bcrypt hash) is limited
// per address, and in all.
func TestResetTokenGuessingIsLimited(t *testing.T) {
	t.Parallel()
	e := start(t, func(c *config.Config) {
		c.ResetPerIP = config.Rate{N: 2, Per: time.Hour}
		c.ResetAll = config.Rate{N: 3, Per: time.Hour}
	})
	guess := func(ip string) usertest.Response {
		return from(t, e, ip, reset, map[string]string{"token": "guessed-token", "password": "password1"})
	}
	wantStatus(t, guess("203.0.113.1"), http.StatusBadRequest, "reset_token_invalid")
	wantStatus(t, guess("203.0.113.1"), http.StatusBadRequest, "reset_token_invalid")
	wantStatus(t, guess("203.0.113.1"), http.StatusTooManyRequests, "rate_limited")
	wantStatus(t, guess("203.0.113.2"), http.StatusBadRequest, "reset_token_invalid")
	wantStatus(t, guess("203.0.113.3"), http.StatusTooManyRequests, "rate_limited")
}

// Every reset confirmation hashed the new password (bcrypt) before the
// token was looked up: each guessed token cost the node a full hash. A
// guess must now cost far less than one hash, measured against a sign-in
// of an unknown email, which compares one hash of the same cost (so the
// machine's load slows both alike).
func TestResetTokenGuessCostsNoBcrypt(t *testing.T) {
	t.Parallel()
	e := start(t, func(c *config.Config) { c.BcryptCost = 12 })
	timed := func(path string, body map[string]string, status int) time.Duration {
		began := time.Now()
		wantStatus(t, from(t, e, "203.0.113.1", path, body), status, "")
		return time.Since(began)
	}
	hash := timed(signin, map[string]string{"email": "nobody@example.com", "password": "password1"}, http.StatusUnauthorized)
	guess := time.Duration(math.MaxInt64)
	for range 3 {
		guess = min(guess, timed(reset, map[string]string{"token": "guessed-token", "password": "password1"}, http.StatusBadRequest))
	}
	if guess > hash/4 {
		t.Fatalf("a guessed reset token took %v to refuse, one bcrypt hash %v: hashed before the lookup", guess, hash)
	}
}
