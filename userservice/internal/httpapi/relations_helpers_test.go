package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/privateim/privateim/userservice/internal/usertest"
)

// rawJSON is a request body sent as is, with Content-Type application/json.
type rawJSON string

// relStep is one request of a stateful table: run in order, each a named
// subtest.
type relStep struct {
	name   string
	as     usertest.Account
	method string
	path   string
	body   any // nil: no body; rawJSON: sent as is; else marshalled
	status int
	code   string // the error code wanted, when status is an error
	field  string
	check  func(t *testing.T, r usertest.Response)
}

func runSteps(t *testing.T, e *usertest.Env, steps []relStep) {
	t.Helper()
	for _, s := range steps {
		ok := t.Run(s.name, func(t *testing.T) {
			r := relDo(t, e, s.as, s.method, s.path, s.body)
			want(t, r, s.status, s.code, s.field)
			if s.check != nil {
				s.check(t, r)
			}
		})
		if !ok {
			t.FailNow() // later steps depend on this one
		}
	}
}

func relDo(t *testing.T, e *usertest.Env, as usertest.Account, method, path string, body any) usertest.Response {
	t.Helper()
	if raw, ok := body.(rawJSON); ok {
		return e.Raw(t, method, path, as.Token, "application/json", []byte(raw))
	}
	return e.Do(t, method, path, as.Token, body)
}

// must sends a request and fails the test unless the status is status.
func must(t *testing.T, e *usertest.Env, as usertest.Account, method, path string, body any, status int) usertest.Response {
	t.Helper()
	r := relDo(t, e, as, method, path, body)
	if r.Status != status {
		t.Fatalf("%s %s as %s: status %d, want %d; body %s", method, path, as.Name, r.Status, status, r.Body)
	}
	return r
}

// befriend makes a and b friends through a request and its acceptance.
func befriend(t *testing.T, e *usertest.Env, a, b usertest.Account) {
	t.Helper()
	must(t, e, a, "POST", "/api/v1/friends/requests", map[string]string{"user_id": b.ID}, http.StatusCreated)
	must(t, e, b, "POST", "/api/v1/friends/requests/"+a.ID+"/accept", nil, http.StatusOK)
}

// ids lists the "id" (or idKey) of each element of the array under key.
func ids(t *testing.T, r usertest.Response, key, idKey string) []string {
	t.Helper()
	var body map[string]json.RawMessage
	r.Decode(t, &body)
	var items []map[string]any
	if err := json.Unmarshal(body[key], &items); err != nil {
		t.Fatalf("%s in %s: %v", key, r.Body, err)
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, _ := it[idKey].(string)
		out = append(out, s)
	}
	return out
}

func wantIDs(t *testing.T, r usertest.Response, key, idKey string, want ...string) {
	t.Helper()
	got := ids(t, r, key, idKey)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%s: got ids %v, want %v; body %s", key, got, want, r.Body)
	}
}

func nextToken(t *testing.T, r usertest.Response) string {
	t.Helper()
	var body struct {
		Next *string `json:"next_page_token"`
	}
	r.Decode(t, &body)
	if body.Next == nil {
		t.Fatalf("no next_page_token in %s", r.Body)
	}
	return *body.Next
}
