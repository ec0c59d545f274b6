package httpapi_test

import (
	"crypto/rand"
	"net/http"
	"strings"
	"testing"

	"github.com/privateim/privateim/subscriptionservice/internal/subtest"
)

// TestForbiddenTransitions tries every step from every state it is not
// allowed in: 409 invalid_state naming the current state, and the article
// unchanged.
func TestForbiddenTransitions(t *testing.T) {
	e := subtest.Start(t)
	owner := e.NewAccount(t, "Owner")
	reviewer := e.Reviewer(t)
	s := createSub(t, e, owner.Token, "States "+rand.Text()[:8])
	base := "/api/v1/subscriptions/" + s.ID + "/articles/"

	type stepFn struct {
		name   string
		token  string
		method string
		path   func(id string) string
		body   any
	}
	steps := map[string]stepFn{
		"edit":     {"edit", owner.Token, http.MethodPut, func(id string) string { return base + id }, map[string]string{"title": "t"}},
		"submit":   {"submit", owner.Token, http.MethodPost, func(id string) string { return base + id + "/submit" }, nil},
		"approve":  {"approve", reviewer.Token, http.MethodPost, func(id string) string { return "/api/v1/review/articles/" + id + "/approve" }, nil},
		"reject":   {"reject", reviewer.Token, http.MethodPost, func(id string) string { return "/api/v1/review/articles/" + id + "/reject" }, map[string]string{"reason": "no"}},
		"publish":  {"publish", owner.Token, http.MethodPost, func(id string) string { return base + id + "/publish" }, nil},
		"withdraw": {"delete", owner.Token, http.MethodDelete, func(id string) string { return base + id }, nil},
	}
	// The path to each state, and the steps allowed there.
	paths := map[string][]string{
		"draft":     {},
		"in_review": {"submit"},
		"approved":  {"submit", "approve"},
		"rejected":  {"submit", "reject"},
		"published": {"submit", "approve", "publish"},
		"withdrawn": {"submit", "approve", "publish", "withdraw"},
	}
	allowed := map[string][]string{
		"draft":     {"edit", "submit", "withdraw"},
		"in_review": {"approve", "reject", "withdraw"},
		"approved":  {"publish", "withdraw"},
		"rejected":  {"edit", "submit", "withdraw"},
		"published": {"withdraw"},
		"withdrawn": {},
	}
	for state, path := range paths {
		for name, st := range steps {
			if contains(allowed[state], name) {
				continue
			}
			t.Run(state+"/"+name, func(t *testing.T) {
				a := createArticle(t, e, owner.Token, s.ID, state+" "+name)
				for _, p := range path {
					ps := steps[p]
					want(t, p, e.Do(t, ps.method, ps.path(a.ID), ps.token, ps.body), http.StatusOK)
				}
				r := e.Do(t, st.method, st.path(a.ID), st.token, st.body)
				wantErr(t, name+" from "+state, r, http.StatusConflict, "invalid_state")
				if msg := r.Err().Message; !strings.Contains(msg, " is "+state+";") || !strings.Contains(msg, st.name) {
					t.Errorf("message %q does not name the state %s and the step %s", msg, state, st.name)
				}
				var got artJSON
				g := e.Do(t, http.MethodGet, base+a.ID, owner.Token, nil)
				want(t, "get", g, http.StatusOK)
				g.Decode(t, &got)
				if got.State != state {
					t.Errorf("state after the refused step = %s, want %s", got.State, state)
				}
			})
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestBadInputs: each bad request is refused with its status, code and
// field, and nothing is written.
func TestBadInputs(t *testing.T) {
	e := subtest.Start(t)
	owner := e.NewAccount(t, "Owner")
	s := createSub(t, e, owner.Token, "Inputs "+rand.Text()[:8])
	arts := "/api/v1/subscriptions/" + s.ID + "/articles"
	json := "application/json"
	cases := []struct {
		name         string
		method, path string
		token, ctype string
		body         string
		status       int
		code, field  string
	}{
		{"no token", http.MethodGet, "/api/v1/subscriptions/mine", "", "", "", 401, "unauthenticated", ""},
		{"bad token", http.MethodGet, "/api/v1/subscriptions/mine", "nonsense", "", "", 401, "invalid_token", ""},
		{"malformed JSON", http.MethodPost, "/api/v1/subscriptions", owner.Token, json, `{"name":`, 400, "bad_json", ""},
		{"not an object", http.MethodPost, "/api/v1/subscriptions", owner.Token, json, `["x"]`, 400, "bad_json", ""},
		{"trailing data", http.MethodPost, "/api/v1/subscriptions", owner.Token, json, `{"name":"a"} {}`, 400, "bad_json", ""},
		{"wrong type", http.MethodPost, "/api/v1/subscriptions", owner.Token, json, `{"name":5}`, 400, "wrong_type", "name"},
		{"unknown field", http.MethodPost, "/api/v1/subscriptions", owner.Token, json, `{"name":"a","x":1}`, 400, "unknown_field", "x"},
		{"not JSON", http.MethodPost, "/api/v1/subscriptions", owner.Token, "text/plain", `{"name":"a"}`, 415, "unsupported_media_type", ""},
		{"name missing", http.MethodPost, "/api/v1/subscriptions", owner.Token, json, `{"intro":"x"}`, 400, "required", "name"},
		{"name blank", http.MethodPost, "/api/v1/subscriptions", owner.Token, json, `{"name":"   "}`, 400, "required", "name"},
		{"name too long", http.MethodPost, "/api/v1/subscriptions", owner.Token, json, `{"name":"` + strings.Repeat("名", 65) + `"}`, 400, "invalid", "name"},
		{"name control char", http.MethodPost, "/api/v1/subscriptions", owner.Token, json, `{"name":"a\u0007b"}`, 400, "invalid", "name"},
		{"intro too long", http.MethodPost, "/api/v1/subscriptions", owner.Token, json, `{"name":"ok` + rand.Text()[:6] + `","intro":"` + strings.Repeat("x", 1025) + `"}`, 400, "invalid", "intro"},
		{"bad path id", http.MethodGet, "/api/v1/subscriptions/abc", owner.Token, "", "", 400, "invalid", "id"},
		{"unknown account", http.MethodGet, "/api/v1/subscriptions/123456789", owner.Token, "", "", 404, "subscription_not_found", ""},
		{"title missing", http.MethodPost, arts, owner.Token, json, `{"body":"b"}`, 400, "required", "title"},
		{"title 121 runes", http.MethodPost, arts, owner.Token, json, `{"title":"` + strings.Repeat("文", 121) + `"}`, 400, "invalid", "title"},
		{"title wrong type", http.MethodPost, arts, owner.Token, json, `{"title":["a"]}`, 400, "wrong_type", "title"},
		{"body over 100 KiB", http.MethodPost, arts, owner.Token, json, `{"title":"t","body":"` + strings.Repeat("x", 100<<10+1) + `"}`, 413, "too_large", "body"},
		{"request over 1 MiB", http.MethodPost, arts, owner.Token, json, `{"title":"t","body":"` + strings.Repeat("x", 1<<20) + `"}`, 413, "too_large", ""},
		{"cover not a URL", http.MethodPost, arts, owner.Token, json, `{"title":"t","cover_url":"javascript:alert(1)"}`, 400, "invalid", "cover_url"},
		{"unknown article", http.MethodGet, arts + "/987654321", owner.Token, "", "", 404, "article_not_found", ""},
		{"bad article id", http.MethodGet, arts + "/0", owner.Token, "", "", 400, "invalid", "aid"},
		{"owner id not a string", http.MethodPut, "/api/v1/subscriptions/" + s.ID + "/owner", owner.Token, json, `{"user_id":5}`, 400, "wrong_type", "user_id"},
		{"owner id missing", http.MethodPut, "/api/v1/subscriptions/" + s.ID + "/owner", owner.Token, json, `{}`, 400, "required", "user_id"},
		{"bad limit", http.MethodGet, arts + "?limit=0", owner.Token, "", "", 400, "invalid", "limit"},
		{"bad page token", http.MethodGet, arts + "?page_token=%25%25", owner.Token, "", "", 400, "invalid", "page_token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Raw(t, tc.method, tc.path, tc.token, tc.ctype, []byte(tc.body))
			if r.Status != tc.status || r.Err().Code != tc.code || r.Err().Field != tc.field {
				t.Fatalf("%d %s, want %d %s field %q", r.Status, r.Body, tc.status, tc.code, tc.field)
			}
		})
	}
	// Exactly 120 runes and 100 KiB pass.
	want(t, "limits exactly", e.Raw(t, http.MethodPost, arts, owner.Token, json,
		[]byte(`{"title":"`+strings.Repeat("文", 120)+`","body":"`+strings.Repeat("x", 100<<10)+`"}`)), http.StatusCreated)
	r := e.Do(t, http.MethodGet, arts, owner.Token, nil)
	var l artList
	r.Decode(t, &l)
	if len(l.Articles) != 1 {
		t.Fatalf("%d articles stored, want only the valid one", len(l.Articles))
	}
}
