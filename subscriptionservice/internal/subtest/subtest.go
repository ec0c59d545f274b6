// Package subtest starts the whole subscriptionservice in-process for tests,
// the way the binary starts it (server.New + Run), on 127.0.0.1:0 ports,
// against a real DataService process on a fresh database and a real
// userservice process (foundation/stacktest) for sign-up, CheckToken and the
// Directory, which mails through a mailpit (email verification). The MessageService address is a closed port unless a test
// gives one: publishing then exercises the retry path. The HTTP helpers
// are foundation/apitest's.
package subtest

import (
	"crypto/rand"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/apitest"
	"github.com/privateim/privateim/foundation/stacktest"
	"github.com/privateim/privateim/foundation/tlsconfig/devpki"

	"github.com/privateim/privateim/subscriptionservice/internal/config"
	"github.com/privateim/privateim/subscriptionservice/internal/server"
)

// Options change what Start sets up; the zero value is the usual.
type Options struct {
	// Configure, when set, changes the Config before the server starts.
	Configure func(*config.Config)
}

// Env is one running subscriptionservice and what it runs on. Its API
// (URL, Client, Do, Raw, Send) calls the subscriptionservice's HTTP API.
type Env struct {
	apitest.API
	GRPCAddr string
	UserURL  string // the userservice's public HTTP API
	Certs    devpki.Set
	Config   config.Config
	Data     *stacktest.DataService
	Users    *stacktest.UserService
	Mail     *stacktest.Mailpit // the userservice's SMTP server
	Server   *server.Server
	// ReviewerEmail is in REVIEWER_EMAILS; sign it up with Reviewer (or
	// UnverifiedReviewer).
	ReviewerEmail string

	userAPI apitest.API
}

// Start is StartWith without options.
func Start(tb testing.TB) *Env { return StartWith(tb, Options{}) }

// StartWith starts a DataService and a userservice, then the
// subscriptionservice, and stops them in reverse order at cleanup.
func StartWith(tb testing.TB, o Options) *Env {
	tb.Helper()
	e := &Env{Data: stacktest.StartDataService(tb)}
	e.Certs = e.Data.Certs
	e.Mail = stacktest.StartMailpit(tb)
	e.Users = stacktest.StartUserService(tb, e.Data, stacktest.UserServiceOptions{
		Env: []string{"SMTP_ADDR=" + e.Mail.SMTPAddr, "SMTP_TLS=none"}, // mailpit: a local dev server
	})
	e.UserURL = e.Users.URL
	e.userAPI = apitest.NewAPI(e.Users.URL)
	e.ReviewerEmail = "reviewer-" + strings.ToLower(rand.Text()[:10]) + "@example.com"

	cfg := config.Default()
	cfg.HTTPAddr, cfg.GRPCAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.DataAddr, cfg.UserAddr = e.Data.Addr, e.Users.GRPCAddr
	cfg.MessageAddr = stacktest.FreeAddr(tb) // nobody listens: pushes fail and are retried
	cfg.TLS, cfg.ClientTLS = e.Certs.Subscription, e.Certs.Subscription
	cfg.ReviewerEmails = []string{e.ReviewerEmail}
	cfg.UploadDir = filepath.Join(tb.TempDir(), "uploads")
	cfg.PushTimeout = 2 * time.Second
	cfg.PushRetryMin, cfg.PushRetryMax = 20*time.Millisecond, 200*time.Millisecond
	cfg.ShutdownTimeout = 10 * time.Second
	if o.Configure != nil {
		o.Configure(&cfg)
	}
	e.Config = cfg

	var err error
	if e.Server, err = server.New(cfg, Logger()); err != nil {
		tb.Fatalf("subscriptionservice: %v", err)
	}
	e.API = apitest.Serve(tb, "subscriptionservice", e.Server)
	e.GRPCAddr = e.Server.GRPCAddr()
	return e
}

// OfflineConfig is a Config that server.New accepts with no other service
// running (it dials lazily): listeners on 127.0.0.1:0, the services it calls
// on a closed port, throw-away certificates, uploads in a temp dir.
func OfflineConfig(tb testing.TB) config.Config {
	dir, certs := stacktest.TempCerts(tb)
	c := config.Default()
	c.HTTPAddr, c.GRPCAddr = "127.0.0.1:0", "127.0.0.1:0"
	c.DataAddr, c.UserAddr, c.MessageAddr = "127.0.0.1:1", "127.0.0.1:1", "127.0.0.1:1"
	c.TLS, c.ClientTLS = certs.Subscription, certs.Subscription
	c.UploadDir = filepath.Join(dir, "uploads")
	return c
}

// Logger discards, or writes to stderr when LOG_TEST is set.
func Logger() *slog.Logger { return apitest.Logger() }

// UserDo sends v as JSON (nil: no body) to the userservice.
func (e *Env) UserDo(tb testing.TB, method, path, token string, v any) apitest.Response {
	tb.Helper()
	return e.userAPI.Do(tb, method, path, token, v)
}

// SignUp creates a user in the userservice, failing the test unless 201.
func (e *Env) SignUp(tb testing.TB, name, email string) apitest.Account {
	tb.Helper()
	return e.userAPI.SignUp(tb, name, email, "password-"+rand.Text()[:8])
}

// NewAccount signs up a user with a unique email.
func (e *Env) NewAccount(tb testing.TB, name string) apitest.Account {
	tb.Helper()
	return e.userAPI.NewAccount(tb, name)
}

// Reviewer signs up the reviewer and verifies its email through the mailed
// link, as reviewing needs (once per Env: the email is unique).
func (e *Env) Reviewer(tb testing.TB) apitest.Account {
	tb.Helper()
	a := e.UnverifiedReviewer(tb)
	e.VerifyEmail(tb, a)
	return a
}

// UnverifiedReviewer signs up the reviewer without verifying its email.
func (e *Env) UnverifiedReviewer(tb testing.TB) apitest.Account {
	tb.Helper()
	return e.SignUp(tb, "Reviewer", e.ReviewerEmail)
}

// VerifyEmail opens the newest verification link mailed to a, through the
// userservice's API.
func (e *Env) VerifyEmail(tb testing.TB, a apitest.Account) {
	tb.Helper()
	_, tok := e.Mail.WaitLink(tb, a.Email, "Confirm your PrivateIM email", "/verify-email", 1, 15*time.Second)
	if r := e.UserDo(tb, "POST", "/api/v1/auth/email/verify", "", map[string]string{"token": tok}); r.Status != 204 {
		tb.Fatalf("verify %s: status %d %s", a.Email, r.Status, r.Body)
	}
}
