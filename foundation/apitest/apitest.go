// Package apitest is what the tests of a service with a public HTTP API
// (foundation/httpkit: JSON bodies, {"error":{...}}, bearer tokens) use to
// run it in-process and call it: Run serves a server until the test ends,
// API sends requests and reads the answers whole, and SignUp and
// NewAccount make users through the userservice's API. SlowHeadersAreCut
// and IdleKeepAliveIsClosed (slow.go) attack any HTTP server's timeouts.
//
// It imports the standard library and foundation/poll only.
package apitest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/poll"
)

// Logger discards, or writes to stderr when LOG_TEST is set.
func Logger() *slog.Logger {
	if os.Getenv("LOG_TEST") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// Server is a service's server as New returns it: listening, not yet
// serving.
type Server interface {
	HTTPAddr() string
	Run(ctx context.Context) error // serves until ctx ends
}

// Serve runs srv until the test's cleanup, which fails the test when Run
// returns an error, and returns the client of its HTTP API once that
// answers GET /healthz. name names the server in failures.
func Serve(tb testing.TB, name string, srv Server) API {
	tb.Helper()
	api := NewAPI("http://" + srv.HTTPAddr())
	run(tb, name, srv.Run, api)
	return api
}

func run(tb testing.TB, name string, run func(context.Context) error, api API) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("%s run: %v", name, err)
		}
	})
	poll.Eventually(tb, 10*time.Second, func() error {
		r, err := api.Client.Get(api.URL + "/healthz")
		if err != nil {
			return err
		}
		r.Body.Close()
		return nil
	})
}

// API is one service's public HTTP API.
type API struct {
	URL    string // http://127.0.0.1:port
	Client *http.Client
}

// NewAPI is the API at url, with a client that gives up after 30 s.
func NewAPI(url string) API {
	return API{URL: url, Client: &http.Client{Timeout: 30 * time.Second}}
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
func (a API) Raw(tb testing.TB, method, path, token, contentType string, body []byte) Response {
	tb.Helper()
	req, err := http.NewRequest(method, a.URL+path, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return a.Send(tb, req)
}

// Send sends req and reads the answer.
func (a API) Send(tb testing.TB, req *http.Request) Response {
	tb.Helper()
	resp, err := a.Client.Do(req)
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
func (a API) Do(tb testing.TB, method, path, token string, v any) Response {
	tb.Helper()
	if v == nil {
		return a.Raw(tb, method, path, token, "", nil)
	}
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return a.Raw(tb, method, path, token, "application/json", b)
}

// Account is a user signed up through the userservice's API.
type Account struct {
	ID       string // decimal
	Name     string
	Email    string
	Password string
	Token    string
}

// SignUp creates an account through a, the userservice's API, failing the
// test unless it is 201.
func (a API) SignUp(tb testing.TB, name, email, password string) Account {
	tb.Helper()
	r := a.Do(tb, http.MethodPost, "/api/v1/auth/signup", "", map[string]string{"name": name, "email": email, "password": password})
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

// NewAccount signs up an account with a unique email (in lower case, as
// the userservice stores it) and a random password.
func (a API) NewAccount(tb testing.TB, name string) Account {
	tb.Helper()
	return a.SignUp(tb, name, "u"+strings.ToLower(rand.Text()[:12])+"@example.com", "password-"+rand.Text()[:8])
}

// MultipartFile is a multipart/form-data body of one file part, field,
// named filename, declared application/octet-stream (which the services
// never believe).
func MultipartFile(tb testing.TB, field, filename string, data []byte) (contentType string, body []byte) {
	tb.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	p, err := w.CreateFormFile(field, filename)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := p.Write(data); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return w.FormDataContentType(), b.Bytes()
}

// Upload sends one file part (MultipartFile) with token ("" for none).
func (a API) Upload(tb testing.TB, method, path, token, field, filename string, data []byte) Response {
	tb.Helper()
	ct, body := MultipartFile(tb, field, filename, data)
	return a.Raw(tb, method, path, token, ct, body)
}
