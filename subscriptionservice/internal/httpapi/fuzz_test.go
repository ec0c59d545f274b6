package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/privateim/privateim/subscriptionservice/internal/subtest"
)

// FuzzJSONBodies sends what the fuzzer makes as the JSON body of the
// subscriptionservice's writing routes, to the real handlers over HTTP
// against a real DataService and userservice: whatever the body, the answer
// is never a 5xx, a 4xx is the JSON error shape with a code, a success is
// JSON. `make test` runs the seeds; run it for real with
// `go test ./subscriptionservice/internal/httpapi -run '^$' -fuzz FuzzJSONBodies -fuzztime 1m`.
func FuzzJSONBodies(f *testing.F) {
	e := subtest.Start(f)
	owner := e.NewAccount(f, "Fuzz")
	reviewer := e.Reviewer(f)
	var sub, art struct{ ID string }
	r := e.Do(f, http.MethodPost, "/api/v1/subscriptions", owner.Token, map[string]string{"name": "Fuzzed news", "intro": "x"})
	if r.Status != http.StatusCreated {
		f.Fatalf("create subscription: %d %s", r.Status, r.Body)
	}
	r.Decode(f, &sub)
	r = e.Do(f, http.MethodPost, "/api/v1/subscriptions/"+sub.ID+"/articles", owner.Token, map[string]string{"title": "Hello", "body": strings.Repeat("words ", 20)})
	if r.Status != http.StatusCreated {
		f.Fatalf("create article: %d %s", r.Status, r.Body)
	}
	r.Decode(f, &art)
	routes := []struct{ method, path, token string }{
		{http.MethodPost, "/api/v1/subscriptions", owner.Token},
		{http.MethodPatch, "/api/v1/subscriptions/" + sub.ID, owner.Token},
		{http.MethodPost, "/api/v1/subscriptions/" + sub.ID + "/articles", owner.Token},
		{http.MethodPut, "/api/v1/subscriptions/" + sub.ID + "/articles/" + art.ID, owner.Token},
		{http.MethodPut, "/api/v1/subscriptions/" + sub.ID + "/owner", owner.Token},
		{http.MethodPost, "/api/v1/review/articles/" + art.ID + "/reject", reviewer.Token},
	}
	seeds := []string{
		`{"name":"Daily","intro":"news every day"}`,
		`{"name":"ㅤ","intro":"blank-looking name"}`,
		`{"name":"Ｎｅｗｓ","intro":"` + strings.Repeat("long ", 400) + `"}`,
		`{"title":"T","body":"B"}`,
		`{"title":null,"body":` + strings.Repeat("[", 200) + `}`,
		`{"user_id":"` + reviewer.ID + `"}`,
		`{"user_id":-1}`,
		`{"user_id":"99999999999999999999999"}`,
		`{"reason":"\ud800"}`,
		`{"reason":""}`,
		`{}`, `[]`, `null`, `"str"`, `0`, ``, `{"a":1}{"b":2}`,
		`{"name":"a","name":"b","intro":"dup"}`,
	}
	for i := range routes {
		for _, s := range seeds {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		route := routes[int(which)%len(routes)]
		r := e.Raw(t, route.method, route.path, route.token, "application/json", body)
		switch {
		case r.Status >= 500:
			t.Fatalf("%s %s with %q: %d %s", route.method, route.path, body, r.Status, r.Body)
		case r.Status >= 400:
			if r.Err().Code == "" {
				t.Fatalf("%s %s with %q: %d without an error code: %s", route.method, route.path, body, r.Status, r.Body)
			}
		case len(r.Body) > 0 && !json.Valid(r.Body):
			t.Fatalf("%s %s with %q: %d with a body that is not JSON: %s", route.method, route.path, body, r.Status, r.Body)
		}
	})
}
