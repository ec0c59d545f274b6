package httpkit

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

type panicky struct{}

func (panicky) Register(r Routes) {
	r.Public.GET("/panic", func(*gin.Context) { panic("secret detail 42") })
	r.Authed.GET("/whoami", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"id": ID(UserID(c))}) })
}

type fixedAuth struct{}

func (fixedAuth) Authenticate(_ context.Context, token string) (int64, error) {
	if token != "good" {
		return 0, errNoToken
	}
	return 9007199254740993, nil
}

func newTestAPI(t *testing.T) (*API, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	a, err := New(Deps{
		Log:      slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Auth:     fixedAuth{},
		Features: []Feature{panicky{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return a, &logs
}

func serve(a *API, method, path, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, req)
	return rec
}

func TestRecoveryAnswersInternalAndLogs(t *testing.T) {
	a, logs := newTestAPI(t)
	rec := serve(a, "GET", "/api/v1/panic", "")
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d", rec.Code)
	}
	var body ErrorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != "internal" || body.Error.Message != "internal error" {
		t.Errorf("body %s", rec.Body)
	}
	if strings.Contains(rec.Body.String(), "secret detail") {
		t.Errorf("the answer tells the panic: %s", rec.Body)
	}
	if !strings.Contains(logs.String(), "secret detail 42") || !strings.Contains(logs.String(), "panic in handler") {
		t.Errorf("the panic was not logged: %s", logs)
	}
	// One request line per request, with the route and status.
	if !strings.Contains(logs.String(), `"route":"/api/v1/panic"`) || !strings.Contains(logs.String(), `"status":500`) {
		t.Errorf("no request log line: %s", logs)
	}
}

func TestAuthMiddleware(t *testing.T) {
	a, _ := newTestAPI(t)
	rec := serve(a, "GET", "/api/v1/whoami", "good")
	if rec.Code != http.StatusOK || rec.Body.String() != `{"id":"9007199254740993"}` {
		t.Errorf("whoami = %d %s", rec.Code, rec.Body)
	}
	for _, tok := range []string{"", "bad"} {
		rec := serve(a, "GET", "/api/v1/whoami", tok)
		if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("token %q: %d %s", tok, rec.Code, rec.Body)
		}
	}
}

func TestReadyzFollowsSetReady(t *testing.T) {
	a, _ := newTestAPI(t)
	if rec := serve(a, "GET", "/readyz", ""); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("before SetReady: %d", rec.Code)
	}
	a.SetReady(true)
	if rec := serve(a, "GET", "/readyz", ""); rec.Code != http.StatusOK {
		t.Errorf("after SetReady(true): %d", rec.Code)
	}
	a.SetReady(false)
	if rec := serve(a, "GET", "/readyz", ""); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("after SetReady(false): %d", rec.Code)
	}
	if rec := serve(a, "GET", "/healthz", ""); rec.Code != http.StatusOK {
		t.Errorf("healthz while not ready: %d", rec.Code)
	}
}

func TestPathID(t *testing.T) {
	e := gin.New()
	e.GET("/x/:id", func(c *gin.Context) {
		if id, ok := PathID(c, "id"); ok {
			c.JSON(http.StatusOK, gin.H{"id": ID(id)})
		}
	})
	for path, want := range map[string]int{"/x/42": 200, "/x/0": 400, "/x/-1": 400, "/x/abc": 400, "/x/99999999999999999999": 400} {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want {
			t.Errorf("%s = %d %s, want %d", path, rec.Code, rec.Body, want)
		}
		if want == 400 && !strings.Contains(rec.Body.String(), `"field":"id"`) {
			t.Errorf("%s: the field is not named: %s", path, rec.Body)
		}
	}
}
