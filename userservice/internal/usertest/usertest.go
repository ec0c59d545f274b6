// Package usertest starts the whole userservice in-process for tests, the
// way the binary starts it (server.New + Run), on 127.0.0.1:0 ports, against
// a real DataService process on a fresh database (foundation/stacktest) and, when
// asked, a real mailpit. It also offers small HTTP helpers for the tests of
// every feature.
package usertest

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
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/privateim/privateim/foundation/poll"
	"github.com/privateim/privateim/foundation/tlsconfig/devpki"
	"github.com/privateim/privateim/foundation/stacktest"

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

// Env is one running userservice and what it runs on.
type Env struct {
	URL      string // http://127.0.0.1:port
	GRPCAddr string
	Certs    devpki.Set // the throw-away CA; Certs.Client calls the gRPC API
	Config   config.Config
	Data     *stacktest.DataService
	Mail     *stacktest.Mailpit // nil without Options.Mail
	Client   *http.Client
}

// Start starts the stack with the usual options.
func Start(tb testing.TB) *Env { return StartWith(tb, Options{}) }

// StartWith starts a DataService (and mailpit), then the userservice, and
// stops them in reverse order at cleanup.
func StartWith(tb testing.TB, o Options) *Env {
	tb.Helper()
	e := &Env{Data: stacktest.StartDataService(tb), Client: &http.Client{Timeout: 30 * time.Second}}
	e.Certs = e.Data.Certs
	if o.Mail {
		e.Mail = stacktest.StartMailpit(tb)
	}
	dir := tb.TempDir()
	cfg := config.Default()
	cfg.HTTPAddr, cfg.GRPCAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.DataAddr = e.Data.Addr
	cfg.TLS = e.Certs.Server
	cfg.DataTLS = e.Certs.Client
	cfg.JWTSecret = rand.Text() + rand.Text() // 52 characters
	cfg.BcryptCost = bcrypt.MinCost
	cfg.SMTPAddr = stacktest.FreeAddr(tb) // nobody listens
	if e.Mail != nil {
		cfg.SMTPAddr = e.Mail.SMTPAddr
	}
	cfg.UploadDir = filepath.Join(dir, "uploads")
	cfg.SearchDir = filepath.Join(dir, "search")
	cfg.SigninPerEmail, cfg.SigninPerIP, cfg.ForgotPerEmail, cfg.ForgotPerIP = config.Rate{}, config.Rate{}, config.Rate{}, config.Rate{}
	cfg.ShutdownTimeout = 10 * time.Second
	if o.Configure != nil {
		o.Configure(&cfg)
	}
	e.Config = cfg

	srv, err := server.New(cfg, Logger())
	if err != nil {
		tb.Fatalf("userservice: %v", err)
	}
	e.URL = "http://" + srv.HTTPAddr()
	e.GRPCAddr = srv.GRPCAddr()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("userservice run: %v", err)
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

// Err decodes the error body ({"error":{...}}); zero when there is none.
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

// Raw sends body as is with contentType ("" for none) and token ("" for
// none).
func (e *Env) Raw(tb testing.TB, method, path, token, contentType string, body []byte) Response {
	tb.Helper()
	req, err := http.NewRequest(method, e.URL+path, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.Send(tb, req)
}

// Send sends req and reads the answer.
func (e *Env) Send(tb testing.TB, req *http.Request) Response {
	tb.Helper()
	resp, err := e.Client.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read: %v", req.Method, req.URL.Path, err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Do sends v as JSON (nil: no body) with token ("" for none).
func (e *Env) Do(tb testing.TB, method, path, token string, v any) Response {
	tb.Helper()
	if v == nil {
		return e.Raw(tb, method, path, token, "", nil)
	}
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return e.Raw(tb, method, path, token, "application/json", b)
}

// Account is a signed-up user.
type Account struct {
	ID       string // decimal
	Name     string
	Email    string
	Password string
	Token    string
}

// SignUp creates an account, failing the test unless it is 201.
func (e *Env) SignUp(tb testing.TB, name, email, password string) Account {
	tb.Helper()
	r := e.Do(tb, http.MethodPost, "/api/v1/auth/signup", "", map[string]string{"name": name, "email": email, "password": password})
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
	return Account{ID: out.User.ID, Name: name, Email: email, Password: password, Token: out.Token}
}

// NewAccount signs up an account with a unique email.
func (e *Env) NewAccount(tb testing.TB, name string) Account {
	tb.Helper()
	return e.SignUp(tb, name, "u"+rand.Text()[:12]+"@example.com", "password-"+rand.Text()[:8])
}
