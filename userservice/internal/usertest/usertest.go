// Package usertest starts the whole userservice in-process for tests, the
// way the binary starts it (server.New + Run), on 127.0.0.1:0 ports, against
// a real DataService process on a fresh database (foundation/stacktest) and, when
// asked, a real mailpit. The HTTP helpers for the tests of every feature
// are foundation/apitest's.
package usertest

import (
	"crypto/rand"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/privateim/privateim/foundation/apitest"
	"github.com/privateim/privateim/foundation/stacktest"
	"github.com/privateim/privateim/foundation/tlsconfig/devpki"

	"github.com/privateim/privateim/userservice/internal/config"
	"github.com/privateim/privateim/userservice/internal/server"
)

// Options change what Start sets up; the zero value is the usual.
type Options struct {
	// Mail starts a mailpit and points SMTP_ADDR at it; otherwise SMTP_ADDR
	// is a closed port and mails fail (and are logged).
	Mail bool
	// Configure, when set, changes the Config before the server starts.
	// Start's defaults differ from the binary's: rate limits off, bcrypt at
	// its minimum cost, uploads and search in temp dirs.
	Configure func(*config.Config)
}

// Env is one running userservice and what it runs on. Its API (URL,
// Client, Do, Raw, Send, SignUp, NewAccount) calls the HTTP API.
type Env struct {
	apitest.API
	GRPCAddr string
	Certs    devpki.Set // the throw-away CA; Certs.Client calls the gRPC API
	Config   config.Config
	Data     *stacktest.DataService
	Mail     *stacktest.Mailpit // nil without Options.Mail
}

// What the tests of the HTTP API handle: foundation/apitest's.
type (
	Response = apitest.Response
	Error    = apitest.Error
	Account  = apitest.Account
)

// Start starts the stack with the usual options.
func Start(tb testing.TB) *Env { return StartWith(tb, Options{}) }

// StartWith starts a DataService (and mailpit), then the userservice, and
// stops them in reverse order at cleanup.
func StartWith(tb testing.TB, o Options) *Env {
	tb.Helper()
	e := &Env{Data: stacktest.StartDataService(tb)}
	e.Certs = e.Data.Certs
	if o.Mail {
		e.Mail = stacktest.StartMailpit(tb)
	}
	dir := tb.TempDir()
	cfg := config.Default()
	cfg.HTTPAddr, cfg.GRPCAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.DataAddr = e.Data.Addr
	cfg.TLS, cfg.DataTLS = e.Certs.User, e.Certs.User
	cfg.JWTSecret = rand.Text() + rand.Text() // 52 characters
	cfg.BcryptCost = bcrypt.MinCost
	cfg.SMTPAddr = stacktest.FreeAddr(tb) // nobody listens
	cfg.MessageAddr = ""                  // no messageservice: group notices reach devices on catch-up
	if e.Mail != nil {
		cfg.SMTPAddr = e.Mail.SMTPAddr
		cfg.SMTPTLS = "none" // mailpit without TLS: a local dev server
	}
	cfg.UploadDir = filepath.Join(dir, "uploads")
	cfg.SearchDir = filepath.Join(dir, "search")
	cfg.SigninPerEmail, cfg.SigninPerIP, cfg.ForgotPerEmail, cfg.ForgotPerIP = config.Rate{}, config.Rate{}, config.Rate{}, config.Rate{}
	cfg.SignupPerIP, cfg.SignupAll, cfg.ResetPerIP, cfg.ResetAll = config.Rate{}, config.Rate{}, config.Rate{}, config.Rate{}
	cfg.ShutdownTimeout = 10 * time.Second
	if o.Configure != nil {
		o.Configure(&cfg)
	}
	e.Config = cfg

	srv, err := server.New(cfg, Logger())
	if err != nil {
		tb.Fatalf("userservice: %v", err)
	}
	e.API = apitest.Serve(tb, "userservice", srv)
	e.GRPCAddr = srv.GRPCAddr()
	return e
}

// OfflineConfig is a Config that server.New accepts with nothing else
// running (New connects lazily): listeners on 127.0.0.1:0, the DataService
// on a closed port, throw-away certificates, uploads and search in a temp
// dir. For the tests that look only at the wiring.
func OfflineConfig(tb testing.TB) config.Config {
	dir, certs := stacktest.TempCerts(tb)
	cfg := config.Default()
	cfg.HTTPAddr, cfg.GRPCAddr, cfg.DataAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:1"
	cfg.MessageAddr = "127.0.0.1:1"
	cfg.TLS, cfg.DataTLS = certs.User, certs.User
	cfg.JWTSecret = rand.Text() + rand.Text()
	cfg.BcryptCost = bcrypt.MinCost
	cfg.UploadDir, cfg.SearchDir = filepath.Join(dir, "uploads"), filepath.Join(dir, "search")
	return cfg
}

// Logger discards, or writes to stderr when LOG_TEST is set.
func Logger() *slog.Logger { return apitest.Logger() }
