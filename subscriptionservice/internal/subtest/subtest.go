// Package subtest starts the whole subscriptionservice in-process for tests,
// the way the binary starts it (server.New + Run), on 127.0.0.1:0 ports,
// against a real DataService process on a fresh database and a real
// userservice process (foundation/stacktest) for sign-up, CheckToken and the
// Directory. The MessageService address is a closed port unless a test
// gives one: publishing then exercises the retry path. It also offers small
// HTTP helpers for the tests.
package subtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/poll"
	"github.com/privateim/privateim/foundation/tlsconfig/devpki"
	"github.com/privateim/privateim/foundation/stacktest"

	"github.com/privateim/privateim/subscriptionservice/internal/config"
	"github.com/privateim/privateim/subscriptionservice/internal/server"
)

// Options change what Start sets up; the zero value is the usual.
type Options struct {
	// Configure, when set, changes the Config before the server starts.
	Configure func(*config.Config)
}

// Env is one running subscriptionservice and what it runs on.
type Env struct {
	URL      string // http://127.0.0.1:port of the subscriptionservice
	GRPCAddr string
	UserURL  string // the userservice's public HTTP API
	Certs    devpki.Set
	Config   config.Config
	Data     *stacktest.DataService
	Users    *stacktest.UserService
	Server   *server.Server
	Client   *http.Client
	// ReviewerEmail is in REVIEWER_EMAILS; sign it up with Reviewer.
	ReviewerEmail string
}

// Start starts the stack with the usual options.
func Start(tb testing.TB) *Env { return StartWith(tb, Options{}) }

// StartWith starts a DataService and a userservice, then the
// subscriptionservice, and stops them in reverse order at cleanup.
func StartWith(tb testing.TB, o Options) *Env {
	tb.Helper()
	e := &Env{Data: stacktest.StartDataService(tb), Client: &http.Client{Timeout: 30 * time.Second}}
	e.Certs = e.Data.Certs
	e.Users = stacktest.StartUserService(tb, e.Data, stacktest.UserServiceOptions{})
	e.UserURL = e.Users.URL
	e.ReviewerEmail = "reviewer-" + strings.ToLower(rand.Text()[:10]) + "@example.com"

	cfg := config.Default()
	cfg.HTTPAddr, cfg.GRPCAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.DataAddr, cfg.UserAddr = e.Data.Addr, e.Users.GRPCAddr
	cfg.MessageAddr = stacktest.FreeAddr(tb) // nobody listens: pushes fail and are retried
	cfg.TLS, cfg.ClientTLS = e.Certs.Server, e.Certs.Client
	cfg.ReviewerEmails = []string{e.ReviewerEmail}
	cfg.UploadDir = filepath.Join(tb.TempDir(), "uploads")
	cfg.PushTimeout = 2 * time.Second
	cfg.PushRetryMin, cfg.PushRetryMax = 20*time.Millisecond, 200*time.Millisecond
	cfg.ShutdownTimeout = 10 * time.Second
	if o.Configure != nil {
		o.Configure(&cfg)
	}
	e.Config = cfg

	srv, err := server.New(cfg, Logger())
	if err != nil {
		tb.Fatalf("subscriptionservice: %v", err)
	}
	e.Server = srv
	e.URL = "http://" + srv.HTTPAddr()
	e.GRPCAddr = srv.GRPCAddr()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("subscriptionservice run: %v", err)
		}
	})
	poll.Eventually(tb, 10*time.Second, func() error {
		r, err := e.Client.Get(e.URL + "/healthz")
		if err != nil {
			return err
		}
		r.Body.Close()
		return nil
	})
	return e
}

// Logger discards, or writes to stderr when LOG_TEST is set.
func Logger() *slog.Logger {
	if os.Getenv("LOG_TEST") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// Response is an answer read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Error is the error body, when there is one.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

// Err decodes the error body; zero when there is none.
func (r Response) Err() Error {
	var b struct {
		Error Error `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &b)
	return b.Error
}

// Decode decodes the body into v, failing the test when it cannot.
func (r Response) Decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		tb.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Raw sends body to the subscriptionservice as is, with contentType and
// token ("" for none).
func (e *Env) Raw(tb testing.TB, method, path, token, contentType string, body []byte) Response {
	tb.Helper()
	return e.raw(tb, e.URL, method, path, token, contentType, body)
}

func (e *Env) raw(tb testing.TB, base, method, path, token, contentType string, body []byte) Response {
	tb.Helper()
	req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.Client.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read: %v", method, path, err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func jsonBody(tb testing.TB, v any) (string, []byte) {
	tb.Helper()
	if v == nil {
		return "", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return "application/json", b
}

// Do sends v as JSON (nil: no body) to the subscriptionservice.
func (e *Env) Do(tb testing.TB, method, path, token string, v any) Response {
	tb.Helper()
	ct, b := jsonBody(tb, v)
	return e.raw(tb, e.URL, method, path, token, ct, b)
}

// UserDo sends v as JSON (nil: no body) to the userservice.
func (e *Env) UserDo(tb testing.TB, method, path, token string, v any) Response {
	tb.Helper()
	ct, b := jsonBody(tb, v)
	return e.raw(tb, e.UserURL, method, path, token, ct, b)
}

// Account is a signed-up user.
type Account struct {
	ID    string // decimal
	Email string
	Token string
}

// SignUp creates a user in the userservice, failing the test unless 201.
func (e *Env) SignUp(tb testing.TB, name, email string) Account {
	tb.Helper()
	r := e.UserDo(tb, http.MethodPost, "/api/v1/auth/signup", "", map[string]string{
		"name": name, "email": email, "password": "password-" + rand.Text()[:8]})
	if r.Status != http.StatusCreated {
		tb.Fatalf("sign up %s: %d %s", email, r.Status, r.Body)
	}
	var out struct {
		Token string `json:"token"`
		User  struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	r.Decode(tb, &out)
	return Account{ID: out.User.ID, Email: email, Token: out.Token}
}

// NewAccount signs up a user with a unique email.
func (e *Env) NewAccount(tb testing.TB, name string) Account {
	tb.Helper()
	return e.SignUp(tb, name, "u"+strings.ToLower(rand.Text()[:12])+"@example.com")
}

// Reviewer signs up the reviewer (once per Env: the email is unique).
func (e *Env) Reviewer(tb testing.TB) Account {
	tb.Helper()
	return e.SignUp(tb, "Reviewer", e.ReviewerEmail)
}
