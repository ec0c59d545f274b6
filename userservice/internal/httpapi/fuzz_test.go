package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"

	"github.com/privateim/privateim/userservice/internal/usertest"
)

// The fuzz targets send what the fuzzer makes to the real handlers of the
// busiest routes, over HTTP, against a real DataService: whatever the body,
// the answer is never a 5xx, a 4xx is the JSON error shape with a code, and
// the server keeps answering. `make test` runs the seeds; run one for real
// with e.g. `go test ./userservice/internal/httpapi -run '^$' -fuzz FuzzJSONBodies -fuzztime 1m`.

// fuzzRoute is a route whose body the fuzzer writes.
type fuzzRoute struct {
	method, path string
	authed       bool
}

var jsonRoutes = []fuzzRoute{
	{"POST", "/api/v1/auth/signin", false},
	{"POST", "/api/v1/auth/signup", false},
	{"POST", "/api/v1/friends/requests", true},
	{"POST", "/api/v1/groups", true},
	{"PATCH", "/api/v1/me", true},
}

// checkAnswer fails unless r is a well-formed answer to a fuzzed request.
func checkAnswer(t *testing.T, route fuzzRoute, body []byte, r usertest.Response) {
	t.Helper()
	if r.Status >= 500 {
		t.Fatalf("%s %s with %q: %d %s", route.method, route.path, body, r.Status, r.Body)
	}
	if r.Status >= 400 {
		if code := r.Err().Code; code == "" {
			t.Fatalf("%s %s with %q: %d without an error code: %s", route.method, route.path, body, r.Status, r.Body)
		}
	} else if !json.Valid(r.Body) {
		t.Fatalf("%s %s with %q: %d with a body that is not JSON: %s", route.method, route.path, body, r.Status, r.Body)
	}
}

func FuzzJSONBodies(f *testing.F) {
	e := usertest.Start(f)
	a := e.NewAccount(f, "Fuzz")
	b := e.NewAccount(f, "Peer")
	seeds := []string{
		`{"email":"` + a.Email + `","password":"` + a.Password + `"}`,
		`{"email":"x@example.com","password":"wrong password"}`,
		`{"name":"Ａｄａ","email":"new@example.com","password":"password1"}`,
		`{"name":"ㅤ","email":"blank@example.com","password":"password1"}`,
		`{"user_id":"` + b.ID + `","note":"n","message":"hi"}`,
		`{"user_id":-1}`,
		`{"user_id":"99999999999999999999999"}`,
		`{"name":"Team","member_ids":["` + b.ID + `"]}`,
		`{"name":"Team","member_ids":[` + strings.Repeat(`"1",`, 50) + `"1"]}`,
		`{"name":null,"mobile":"+1 (555) 010","gender":"other"}`,
		`{"gender":"🦄"}`,
		`{"email":` + strings.Repeat("[", 200) + `}`,
		`{"email":"\ud800"}`,
		`{}`, `[]`, `null`, `"str"`, `0`, ``, `{"a":1}{"b":2}`,
		`{"email":"a@b.c","email":"d@e.f","password":"password1"}`,
	}
	for i := range jsonRoutes {
		for _, s := range seeds {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		route := jsonRoutes[int(which)%len(jsonRoutes)]
		token := ""
		if route.authed {
			token = a.Token
		}
		r := e.Raw(t, route.method, route.path, token, "application/json", body)
		checkAnswer(t, route, body, r)
	})
}

// multipartRoutes are the uploads; FuzzMultipartUploads adds a group's
// avatar (its id is known only once the group is made).
var multipartRoutes = []fuzzRoute{
	{"PUT", "/api/v1/me/avatar", true},
	{"POST", "/api/v1/files", true},
	{"POST", "/api/v1/qrcode/parse", true},
}

// fuzzBoundary is the multipart boundary of every fuzzed body, so that the
// fuzzer's mutations of a seed stay parseable often enough to go deep.
const fuzzBoundary = "fuzz-boundary-0123456789"

// multipartSeed is one part named field with data, under fuzzBoundary.
func multipartSeed(f *testing.F, field, filename string, data []byte) []byte {
	f.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if err := w.SetBoundary(fuzzBoundary); err != nil {
		f.Fatal(err)
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, field, filename))
	p, err := w.CreatePart(h)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := p.Write(data); err != nil {
		f.Fatal(err)
	}
	if err := w.Close(); err != nil {
		f.Fatal(err)
	}
	return b.Bytes()
}

func FuzzMultipartUploads(f *testing.F) {
	e := usertest.Start(f)
	a := e.NewAccount(f, "Fuzz")
	peer := e.NewAccount(f, "Peer")
	if r := e.Do(f, "POST", "/api/v1/friends/requests", a.Token, map[string]string{"user_id": peer.ID}); r.Status != http.StatusCreated {
		f.Fatalf("friend request: %d %s", r.Status, r.Body)
	}
	if r := e.Do(f, "POST", "/api/v1/friends/requests/"+a.ID+"/accept", peer.Token, nil); r.Status != http.StatusOK {
		f.Fatalf("accept: %d %s", r.Status, r.Body)
	}
	g := e.Do(f, "POST", "/api/v1/groups", a.Token, map[string]any{"name": "Fuzz", "member_ids": []string{peer.ID}})
	var group struct {
		ID string `json:"id"`
	}
	if g.Status != http.StatusCreated {
		f.Fatalf("group: %d %s", g.Status, g.Body)
	}
	g.Decode(f, &group)
	routes := append(multipartRoutes, fuzzRoute{"PUT", "/api/v1/groups/" + group.ID + "/avatar", true})
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, gradient(8, 8)); err != nil {
		f.Fatal(err)
	}
	img := pngBuf.Bytes()
	qr := e.Do(f, "GET", "/api/v1/me/qrcode", a.Token, nil)
	if qr.Status != http.StatusOK {
		f.Fatalf("qrcode: %d", qr.Status)
	}
	seeds := [][]byte{
		multipartSeed(f, "avatar", "a.png", img),
		multipartSeed(f, "file", "notes.txt", []byte("hello")),
		multipartSeed(f, "image", "qr.png", qr.Body),
		multipartSeed(f, "avatar", "a.png", img[:len(img)/2]),
		multipartSeed(f, "avatar", `a"; name="other`, []byte("x")),
		multipartSeed(f, "image", "x.gif", []byte("GIF89a\x01\x00\x01\x00")),
		[]byte("--" + fuzzBoundary + "\r\nContent-Disposition: form-data; name=\"avatar\"\r\n\r\nno end"),
		[]byte("--" + fuzzBoundary + "--\r\n"),
		{},
	}
	for i := range routes {
		for _, s := range seeds {
			f.Add(uint8(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		route := routes[int(which)%len(routes)]
		r := e.Raw(t, route.method, route.path, a.Token, "multipart/form-data; boundary="+fuzzBoundary, body)
		checkAnswer(t, route, body, r)
	})
}
