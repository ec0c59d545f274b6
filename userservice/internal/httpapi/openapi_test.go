package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/userservice/internal/httpapi"
	"github.com/privateim/privateim/userservice/internal/usertest"
)

// conformance is an http.RoundTripper that checks every exchange against
// the OpenAPI document: the route exists; a request the server accepted
// (2xx) is one the document allows; the answer's status is documented for
// the operation and its headers and body match the schema.
type conformance struct {
	t      *testing.T
	doc    *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options

	mu   sync.Mutex
	seen map[string]bool // "METHOD /template" exercised
}

var registerDecoders sync.Once

func newConformance(t *testing.T) *conformance {
	t.Helper()
	registerDecoders.Do(func() {
		// Types /static/ and the QR routes answer with; their schemas are
		// binary strings.
		for _, typ := range []string{"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/html"} {
			openapi3filter.RegisterBodyDecoder(typ, openapi3filter.FileBodyDecoder)
		}
	})
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(httpapi.OpenAPIDoc)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatal(err)
	}
	doc.Servers = nil // the test server's port is not the document's
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &conformance{
		t: t, doc: doc, router: router, seen: map[string]bool{},
		opts: &openapi3filter.Options{
			AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
}

func (c *conformance) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = http.NoBody // with a length of 0, not "unknown" (chunked)
		if len(reqBody) > 0 {
			req.Body = io.NopCloser(bytes.NewReader(reqBody))
		}
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return resp, nil // the caller sees the short body
	}

	check := req.Clone(context.Background())
	check.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := c.findRoute(check)
	if err != nil {
		c.t.Errorf("%s %s (answered %d): not in openapi.yaml: %v", req.Method, req.URL.Path, resp.StatusCode, err)
		return resp, nil
	}
	c.mu.Lock()
	c.seen[req.Method+" "+route.Path] = true
	c.mu.Unlock()

	in := &openapi3filter.RequestValidationInput{Request: check, PathParams: params, Route: route, Options: c.opts}
	if resp.StatusCode < 300 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			c.t.Errorf("%s %s was accepted (%d) but openapi.yaml refuses the request: %v", req.Method, req.URL.Path, resp.StatusCode, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: c.opts,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		c.t.Errorf("%s %s answered %d %.300s, which openapi.yaml does not describe: %v", req.Method, req.URL.Path, resp.StatusCode, body, err)
	}
	return resp, nil
}

// findRoute is the router's, except for /static/{path}, whose parameter
// spans two segments (OpenAPI path templates cannot say so).
func (c *conformance) findRoute(req *http.Request) (*routers.Route, map[string]string, error) {
	if rest, ok := strings.CutPrefix(req.URL.Path, "/static/"); ok {
		const tmpl = "/static/{path}"
		item := c.doc.Paths.Value(tmpl)
		return &routers.Route{Spec: c.doc, Path: tmpl, PathItem: item, Method: req.Method, Operation: item.GetOperation(req.Method)},
			map[string]string{"path": rest}, nil
	}
	return c.router.FindRoute(req)
}

// TestResponsesMatchOpenAPI walks every operation of the document through
// the real server and checks each exchange with conformance; at the end,
// every documented operation must have been exercised.
func TestResponsesMatchOpenAPI(t *testing.T) {
	t.Parallel()
	conf := newConformance(t)
	e := usertest.Start(t)
	e.Client.Transport = conf
	ctx := context.Background()

	ok := func(r usertest.Response, status int) usertest.Response {
		t.Helper()
		if r.Status != status {
			t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
		}
		return r
	}
	do := func(method, path, token string, v any, status int) usertest.Response {
		t.Helper()
		return ok(e.Do(t, method, path, token, v), status)
	}

	do("GET", "/healthz", "", nil, 200)
	do("GET", "/readyz", "", nil, 200)
	do("GET", "/openapi.yaml", "", nil, 200)

	// Accounts.
	a := e.NewAccount(t, "Ada Lovelace")
	b := e.NewAccount(t, "Bob")
	c := e.NewAccount(t, "Carol")
	do("POST", "/api/v1/auth/signup", "", map[string]string{"name": "Ada", "email": "x@", "password": "password1"}, 400)
	do("POST", "/api/v1/auth/signup", "", map[string]string{"name": "Ada", "email": a.Email, "password": "password1"}, 409)
	do("POST", "/api/v1/auth/signin", "", map[string]string{"email": a.Email, "password": a.Password}, 200)
	do("POST", "/api/v1/auth/signin", "", map[string]string{"email": a.Email, "password": "wrong password"}, 401)
	do("GET", "/api/v1/me", a.Token, nil, 200)
	do("GET", "/api/v1/me", "", nil, 401)
	do("PATCH", "/api/v1/me", a.Token, map[string]string{"mobile": "+44 20 7946 0000", "gender": "female"}, 200)
	do("PATCH", "/api/v1/me", a.Token, map[string]int{"name": 1}, 400)
	ok(e.Raw(t, "PATCH", "/api/v1/me", a.Token, "text/plain", []byte("{}")), 415)
	do("POST", "/api/v1/auth/password/forgot", "", map[string]string{"email": a.Email}, 202)
	do("POST", "/api/v1/auth/password/reset", "", map[string]string{"token": "never-issued", "password": "password2"}, 400)
	do("POST", "/api/v1/auth/email/verify", "", map[string]string{"token": "never-issued"}, 400)
	do("POST", "/api/v1/auth/email/resend", a.Token, nil, 202)
	do("POST", "/api/v1/auth/email/resend", "", nil, 401)

	// Media and QR codes.
	avatar := ok(upload(t, e, "PUT", "/api/v1/me/avatar", a.Token, "avatar", "a.png", encodePNG(t, gradient(16, 16))), 200)
	var av struct {
		AvatarURL string `json:"avatar_url"`
	}
	avatar.Decode(t, &av)
	do("GET", mustRequestURI(t, av.AvatarURL), "", nil, 200)
	do("HEAD", mustRequestURI(t, av.AvatarURL), "", nil, 200)
	do("GET", "/static/files/"+strings.Repeat("0", 32)+".png", "", nil, 404)
	do("GET", "/static/files/1/"+strings.Repeat("0", 32)+".png?exp=1&sig=x", "", nil, 404)
	ok(upload(t, e, "PUT", "/api/v1/me/avatar", a.Token, "avatar", "a.txt", []byte("not an image")), 415)
	ok(upload(t, e, "PUT", "/api/v1/me/avatar", a.Token, "other", "a.png", []byte("x")), 400)
	file := ok(upload(t, e, "POST", "/api/v1/files", a.Token, "file", "notes.txt", []byte("hello")), 201)
	var f struct {
		URL string `json:"url"`
	}
	file.Decode(t, &f)
	do("GET", mustRequestURI(t, f.URL), "", nil, 200)
	html := ok(upload(t, e, "POST", "/api/v1/files", a.Token, "file", "p.html", []byte("<html><p>hi")), 201)
	html.Decode(t, &f)
	do("GET", mustRequestURI(t, f.URL), "", nil, 200)
	ok(e.Raw(t, "POST", "/api/v1/files", a.Token, "application/json", []byte("{}")), 415)
	qr := do("GET", "/api/v1/me/qrcode", a.Token, nil, 200)
	ok(upload(t, e, "POST", "/api/v1/qrcode/parse", b.Token, "image", "qr.png", qr.Body), 200)
	ok(upload(t, e, "POST", "/api/v1/qrcode/parse", b.Token, "image", "qr.png", encodePNG(t, gradient(64, 64))), 400)

	// People and friends.
	do("GET", "/api/v1/users/search?q=ada", b.Token, nil, 200)
	do("GET", "/api/v1/users/search", b.Token, nil, 400)
	do("GET", "/api/v1/users/"+a.ID, b.Token, nil, 200)
	do("GET", "/api/v1/users/123456789", b.Token, nil, 404)
	do("GET", "/api/v1/users/x", b.Token, nil, 400)
	do("POST", "/api/v1/friends/requests", a.Token, map[string]any{"user_id": b.ID, "note": "Bobby", "message": "hi"}, 201)
	do("POST", "/api/v1/friends/requests", a.Token, map[string]any{"user_id": a.ID}, 400)
	do("GET", "/api/v1/friends/requests", b.Token, nil, 200)
	do("GET", "/api/v1/friends/requests?direction=outgoing", a.Token, nil, 200)
	do("POST", "/api/v1/friends/requests/"+a.ID+"/accept", b.Token, map[string]string{"note": "Ada"}, 200)
	do("POST", "/api/v1/friends/requests", a.Token, map[string]any{"user_id": b.ID}, 409)
	do("POST", "/api/v1/friends/requests/"+c.ID+"/accept", b.Token, nil, 404)
	do("GET", "/api/v1/friends", a.Token, nil, 200)
	do("PATCH", "/api/v1/friends/"+b.ID, a.Token, map[string]string{"note": "Bob B."}, 200)
	do("POST", "/api/v1/friends/requests", c.Token, map[string]any{"user_id": a.ID}, 201)
	do("POST", "/api/v1/friends/requests/"+c.ID+"/reject", a.Token, map[string]bool{"blacklist": false}, 204)
	do("PUT", "/api/v1/blacklist/"+c.ID, a.Token, nil, 204)
	do("POST", "/api/v1/friends/requests", c.Token, map[string]any{"user_id": a.ID}, 403)
	do("GET", "/api/v1/blacklist", a.Token, nil, 200)
	do("DELETE", "/api/v1/blacklist/"+c.ID, a.Token, nil, 204)
	do("DELETE", "/api/v1/blacklist/"+c.ID, a.Token, nil, 404)

	// Groups.
	g := do("POST", "/api/v1/groups", a.Token, map[string]any{"name": "Engines", "member_ids": []string{b.ID}}, 201)
	var group struct {
		ID string `json:"id"`
	}
	g.Decode(t, &group)
	gp := "/api/v1/groups/" + group.ID
	// Conversations: the group has its created message.
	do("GET", "/api/v1/conversations?limit=50", a.Token, nil, 200)
	do("GET", "/api/v1/conversations?limit=0", a.Token, nil, 400)
	do("GET", "/api/v1/conversations?cursor=garbage", a.Token, nil, 400)
	do("GET", "/api/v1/conversations/unread", a.Token, nil, 200)
	do("POST", "/api/v1/conversations/g:"+group.ID+"/read", a.Token, map[string]int{"seq": 1}, 503) // no messageservice here
	do("POST", "/api/v1/conversations/g:"+group.ID+"/read", a.Token, map[string]int{"seq": 0}, 400)
	do("POST", "/api/v1/conversations/g:"+group.ID+"/read", c.Token, map[string]int{"seq": 1}, 404)
	do("PATCH", "/api/v1/conversations/g:"+group.ID, a.Token, map[string]bool{"pinned": true, "muted": true}, 200)
	do("PATCH", "/api/v1/conversations/g:"+group.ID, c.Token, map[string]bool{"pinned": true}, 404)
	do("PATCH", "/api/v1/conversations/g:x", a.Token, map[string]bool{"pinned": true}, 400)
	do("GET", "/api/v1/conversations/g:"+group.ID+"/messages/1/readers", a.Token, nil, 200)
	do("GET", "/api/v1/conversations/g:"+group.ID+"/messages/1/readers", c.Token, nil, 404)
	do("GET", "/api/v1/conversations/g:"+group.ID+"/messages/99/readers", a.Token, nil, 400)
	do("POST", "/api/v1/groups", a.Token, map[string]any{"name": "x", "member_ids": []string{c.ID}}, 403)
	do("GET", "/api/v1/groups", a.Token, nil, 200)
	do("GET", "/api/v1/groups/search?q=eng", c.Token, nil, 200)
	do("GET", gp, c.Token, nil, 200)
	do("GET", "/api/v1/groups/123456789", c.Token, nil, 404)
	do("PATCH", gp, a.Token, map[string]string{"name": "Analytical Engines"}, 200)
	do("PATCH", gp, b.Token, map[string]string{"name": "Mine now"}, 403)
	do("GET", gp+"/qrcode", c.Token, nil, 200)
	do("GET", "/api/v1/groups/123456789/qrcode", c.Token, nil, 404)
	do("GET", gp+"/avatar", "", nil, 200)
	do("GET", "/api/v1/groups/123456789/avatar", "", nil, 404)
	ok(upload(t, e, "PUT", gp+"/avatar", b.Token, "avatar", "g.png", encodePNG(t, gradient(8, 8))), 403)
	ok(upload(t, e, "PUT", gp+"/avatar", a.Token, "avatar", "g.png", encodePNG(t, gradient(8, 8))), 200)
	do("PATCH", gp+"/access", a.Token, map[string]string{"join_policy": "open"}, 200)
	do("PATCH", gp+"/access", a.Token, map[string]string{"join_policy": "closed"}, 400)
	do("POST", gp+"/join", c.Token, nil, 200)
	do("POST", gp+"/join", c.Token, nil, 409)
	do("GET", gp+"/members", b.Token, nil, 200)
	do("PATCH", gp+"/me", b.Token, map[string]string{"nickname": "B"}, 200)
	do("POST", gp+"/quit", a.Token, nil, 409)
	do("PUT", gp+"/members/"+b.ID+"/role", a.Token, map[string]string{"role": "admin"}, 200)
	do("PUT", gp+"/members/"+b.ID+"/role", a.Token, map[string]string{"role": "king"}, 400)
	do("PUT", gp+"/members/"+c.ID+"/mute", b.Token, map[string]any{"duration_seconds": 3600}, 200)
	do("PUT", gp+"/members/"+c.ID+"/mute", b.Token, map[string]any{"until": "2001-01-01T00:00:00Z"}, 400)
	do("PUT", gp+"/members/"+a.ID+"/mute", b.Token, map[string]any{}, 403)
	do("DELETE", gp+"/members/"+c.ID+"/mute", b.Token, nil, 200)
	do("DELETE", gp+"/members/"+c.ID+"/mute", c.Token, nil, 403)
	do("PUT", gp+"/mute_all", b.Token, map[string]any{"on": true}, 200)
	do("PUT", gp+"/mute_all", c.Token, map[string]any{"on": false}, 403)
	do("PUT", gp+"/announcement", b.Token, map[string]any{"text": "Read the rules.\nThen chat."}, 200)
	do("PUT", gp+"/announcement", b.Token, map[string]any{"text": strings.Repeat("a", 2001)}, 400)
	do("GET", gp, c.Token, nil, 200)
	do("PUT", gp+"/members/"+b.ID+"/role", a.Token, map[string]string{"role": "member"}, 200)
	do("DELETE", gp+"/members/"+c.ID, a.Token, nil, 204)
	do("DELETE", gp+"/members/"+c.ID, a.Token, nil, 404)
	do("GET", gp+"/bans", a.Token, nil, 200)
	do("POST", gp+"/join", c.Token, nil, 403)
	do("POST", gp+"/invites", b.Token, map[string]string{"user_id": c.ID}, 403)
	do("DELETE", gp+"/bans/"+c.ID, a.Token, nil, 204)
	do("DELETE", gp+"/bans/"+c.ID, a.Token, nil, 404)
	do("PATCH", gp+"/access", a.Token, map[string]string{"join_policy": "approval"}, 200)
	do("POST", gp+"/join", c.Token, nil, 202)
	do("POST", gp+"/join", c.Token, nil, 409)
	do("GET", "/api/v1/groups/requests", c.Token, nil, 200)
	do("GET", gp+"/requests", a.Token, nil, 200)
	do("GET", gp+"/requests", b.Token, nil, 403)
	do("POST", gp+"/requests/"+c.ID+"/accept", b.Token, nil, 403)
	do("POST", gp+"/requests/"+c.ID+"/reject", a.Token, nil, 200)
	do("POST", gp+"/requests/"+c.ID+"/reject", a.Token, nil, 404)
	do("POST", gp+"/invites", b.Token, map[string]string{"user_id": c.ID}, 201)
	do("DELETE", gp+"/requests/"+c.ID, b.Token, nil, 204)
	do("DELETE", gp+"/requests/"+c.ID, b.Token, nil, 404)
	do("POST", gp+"/invites", b.Token, map[string]string{"user_id": c.ID}, 201)
	do("POST", gp+"/requests/"+c.ID+"/accept", c.Token, nil, 200)
	do("DELETE", gp+"/members/"+c.ID+"?ban=false", a.Token, nil, 204)
	do("PUT", gp+"/owner", a.Token, map[string]string{"user_id": b.ID}, 200)
	do("POST", gp+"/quit", a.Token, nil, 204)
	do("GET", gp+"/members", a.Token, nil, 403)
	do("DELETE", gp, b.Token, nil, 204)

	// Subscriptions, made in the DataService (their owner side is another
	// service's API).
	owner, _ := strconv.ParseInt(c.ID, 10, 64)
	sub, err := subscriptions(t, e).CreateSubscription(ctx, &datav1.CreateSubscriptionRequest{Name: "Engine News", OwnerId: owner, Intro: "weekly"})
	if err != nil {
		t.Fatal(err)
	}
	sp := "/api/v1/subscriptions/" + strconv.FormatInt(sub.GetId(), 10) + "/follow"
	do("GET", "/api/v1/subscriptions/search?q=engine", a.Token, nil, 200)
	do("POST", sp, a.Token, nil, 200)
	do("POST", sp, a.Token, nil, 409)
	do("GET", "/api/v1/subscriptions/following", a.Token, nil, 200)
	do("DELETE", sp, a.Token, nil, 204)
	do("DELETE", sp, a.Token, nil, 404)
	do("POST", "/api/v1/subscriptions/123456789/follow", a.Token, nil, 404)

	// Last: the password change revokes Ada's tokens.
	do("PUT", "/api/v1/me/password", a.Token, map[string]string{"old_password": "wrong password", "password": "password-new"}, 403)
	do("PUT", "/api/v1/me/password", a.Token, map[string]string{"old_password": a.Password, "password": "password-new"}, 204)
	do("GET", "/api/v1/me", a.Token, nil, 401)
	do("DELETE", "/api/v1/friends/"+a.ID, b.Token, nil, 204)
	do("DELETE", "/api/v1/friends/"+b.ID, a.Token, nil, 401)
	// Carol deletes her account: her token dies, sign-in fails.
	do("DELETE", "/api/v1/me", c.Token, map[string]string{"password": "wrong password"}, 403)
	do("DELETE", "/api/v1/me", c.Token, map[string]string{}, 400)
	do("DELETE", "/api/v1/me", c.Token, map[string]string{"password": c.Password}, 204)
	do("DELETE", "/api/v1/me", c.Token, map[string]string{"password": c.Password}, 401)
	do("POST", "/api/v1/auth/signin", "", map[string]string{"email": c.Email, "password": c.Password}, 401)

	var missed []string
	for path, item := range conf.doc.Paths.Map() {
		for method := range item.Operations() {
			if !conf.seen[method+" "+path] {
				missed = append(missed, method+" "+path)
			}
		}
	}
	slices.Sort(missed)
	if len(missed) > 0 {
		t.Errorf("operations of openapi.yaml this test never exercised: %v", missed)
	}
}
