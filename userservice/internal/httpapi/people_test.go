package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/privateim/privateim/userservice/internal/usertest"
)

func TestUserLookupAndPrivacy(t *testing.T) {
	t.Parallel()
	e := usertest.Start(t)
	ada := e.NewAccount(t, "Ada Lovelace")
	bob := e.SignUp(t, "张伟 Bob", "bob@example.com", "password-bob1")
	eve := e.NewAccount(t, "Eve")
	must(t, e, bob, "PATCH", "/api/v1/me", map[string]string{"mobile": "+86 138", "gender": "male"}, http.StatusOK)
	befriend(t, e, ada, bob)
	must(t, e, ada, "PATCH", "/api/v1/friends/"+bob.ID, map[string]string{"note": "bobby"}, http.StatusOK)

	type user struct {
		ID     string  `json:"id"`
		Name   string  `json:"name"`
		Friend bool    `json:"friend"`
		Mobile *string `json:"mobile"`
		Gender *string `json:"gender"`
		Note   *string `json:"note"`
	}
	friendView := func(t *testing.T, r usertest.Response) {
		var u user
		r.Decode(t, &u)
		if u.ID != bob.ID || !u.Friend || u.Mobile == nil || *u.Mobile != "+86 138" || u.Gender == nil || *u.Gender != "male" || u.Note == nil || *u.Note != "bobby" {
			t.Fatalf("a friend sees %s", r.Body)
		}
	}
	strangerView := func(t *testing.T, r usertest.Response) {
		var u user
		r.Decode(t, &u)
		if u.ID != bob.ID || u.Name != "张伟 Bob" || u.Friend {
			t.Fatalf("a stranger sees %s", r.Body)
		}
		for _, k := range []string{"mobile", "gender", "note", "email", "+86"} {
			if strings.Contains(string(r.Body), k) {
				t.Fatalf("a stranger sees %q: %s", k, r.Body)
			}
		}
	}
	firstUser := func(check func(*testing.T, usertest.Response)) func(*testing.T, usertest.Response) {
		return func(t *testing.T, r usertest.Response) {
			var body struct {
				Users []json.RawMessage `json:"users"`
			}
			r.Decode(t, &body)
			if len(body.Users) != 1 {
				t.Fatalf("want one user: %s", r.Body)
			}
			check(t, usertest.Response{Status: r.Status, Body: body.Users[0]})
		}
	}
	q := func(s string) string { return "/api/v1/users/search?q=" + url.QueryEscape(s) }

	runSteps(t, e, []relStep{
		{name: "friend gets full profile", as: ada, method: "GET", path: "/api/v1/users/" + bob.ID, status: 200, check: friendView},
		{name: "stranger gets id name avatar", as: eve, method: "GET", path: "/api/v1/users/" + bob.ID, status: 200, check: strangerView},
		{name: "self gets mobile and gender", as: bob, method: "GET", path: "/api/v1/users/" + bob.ID, status: 200, check: func(t *testing.T, r usertest.Response) {
			var u user
			r.Decode(t, &u)
			if u.Mobile == nil || u.Gender == nil || u.Friend {
				t.Fatalf("self sees %s", r.Body)
			}
		}},
		{name: "search by exact email as stranger", as: eve, method: "GET", path: q("BOB@example.com"), status: 200, check: firstUser(strangerView)},
		{name: "search by name prefix as friend", as: ada, method: "GET", path: q("bo"), status: 200, check: firstUser(friendView)},
		{name: "search by one CJK character", as: eve, method: "GET", path: q("伟"), status: 200, check: firstUser(strangerView)},
		{name: "search by CJK run", as: eve, method: "GET", path: q("张伟"), status: 200, check: firstUser(strangerView)},
		{name: "search without match", as: eve, method: "GET", path: q("nobody"), status: 200, check: func(t *testing.T, r usertest.Response) {
			wantIDs(t, r, "users", "id")
		}},
		{name: "search without q", as: eve, method: "GET", path: "/api/v1/users/search", status: 400, code: "required", field: "q"},
		{name: "search with too long q", as: eve, method: "GET", path: q(strings.Repeat("a", 101)), status: 400, code: "invalid", field: "q"},
		{name: "search with limit 0", as: eve, method: "GET", path: q("bo") + "&limit=0", status: 400, code: "invalid", field: "limit"},
		{name: "search with limit not a number", as: eve, method: "GET", path: q("bo") + "&limit=ten", status: 400, code: "invalid", field: "limit"},
		{name: "search with limit over 100", as: eve, method: "GET", path: q("bo") + "&limit=101", status: 400, code: "invalid", field: "limit"},
		{name: "search with forged page token", as: eve, method: "GET", path: q("bo") + "&page_token=zzz", status: 400, code: "invalid", field: "page_token"},
		{name: "search without token", method: "GET", path: q("bo"), status: 401, code: "unauthenticated"},
		{name: "get unknown user", as: eve, method: "GET", path: "/api/v1/users/999999999", status: 404, code: "user_not_found"},
		{name: "get malformed id", as: eve, method: "GET", path: "/api/v1/users/abc", status: 400, code: "invalid", field: "id"},
		{name: "get negative id", as: eve, method: "GET", path: "/api/v1/users/-4", status: 400, code: "invalid", field: "id"},
	})

	t.Run("paging", func(t *testing.T) {
		var want []string
		for range 5 {
			want = append(want, e.NewAccount(t, "Pager").ID)
		}
		var got []string
		token := ""
		for page := 0; ; page++ {
			if page > 5 {
				t.Fatal("paging does not end")
			}
			r := must(t, e, eve, "GET", q("pager")+"&limit=2&page_token="+url.QueryEscape(token), nil, 200)
			got = append(got, ids(t, r, "users", "id")...)
			if token = nextToken(t, r); token == "" {
				break
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("pages gave %v, want %v (equal names page by id)", got, want)
		}
	})
}

func TestFriendRequests(t *testing.T) {
	t.Parallel()
	e := usertest.Start(t)
	a := e.NewAccount(t, "Ann")
	b := e.NewAccount(t, "Ben")
	c := e.NewAccount(t, "Cai")
	d := e.NewAccount(t, "Dee")
	const req = "/api/v1/friends/requests"
	accept := func(id string) string { return req + "/" + id + "/accept" }
	reject := func(id string) string { return req + "/" + id + "/reject" }
	status := func(want string) func(*testing.T, usertest.Response) {
		return func(t *testing.T, r usertest.Response) {
			var body struct {
				Status string `json:"status"`
			}
			r.Decode(t, &body)
			if body.Status != want {
				t.Fatalf("status %q, want %q: %s", body.Status, want, r.Body)
			}
		}
	}

	runSteps(t, e, []relStep{
		// Bad input.
		{name: "request to self", as: a, method: "POST", path: req, body: map[string]string{"user_id": a.ID}, status: 400, code: "self", field: "user_id"},
		{name: "request to unknown user", as: a, method: "POST", path: req, body: map[string]string{"user_id": "999999999"}, status: 404, code: "user_not_found"},
		{name: "request without user_id", as: a, method: "POST", path: req, body: map[string]string{}, status: 400, code: "required", field: "user_id"},
		{name: "request with numeric user_id", as: a, method: "POST", path: req, body: rawJSON(`{"user_id": 12}`), status: 400, code: "wrong_type", field: "user_id"},
		{name: "request with id zero", as: a, method: "POST", path: req, body: map[string]string{"user_id": "0"}, status: 400, code: "wrong_type", field: "user_id"},
		{name: "request with note of wrong type", as: a, method: "POST", path: req, body: rawJSON(`{"user_id":"` + b.ID + `","note":true}`), status: 400, code: "wrong_type", field: "note"},
		{name: "request malformed JSON", as: a, method: "POST", path: req, body: rawJSON(`{"user_id":`), status: 400, code: "bad_json"},
		{name: "request unknown field", as: a, method: "POST", path: req, body: rawJSON(`{"user_id":"` + b.ID + `","x":1}`), status: 400, code: "unknown_field", field: "x"},
		{name: "request note too long", as: a, method: "POST", path: req, body: map[string]string{"user_id": b.ID, "note": strings.Repeat("注", 33)}, status: 400, code: "invalid", field: "note"},
		{name: "request message too long", as: a, method: "POST", path: req, body: map[string]string{"user_id": b.ID, "message": strings.Repeat("m", 256)}, status: 400, code: "invalid", field: "message"},
		{name: "request without token", method: "POST", path: req, body: map[string]string{"user_id": b.ID}, status: 401, code: "unauthenticated"},

		// A asks B; B accepts.
		{name: "a requests b", as: a, method: "POST", path: req, body: map[string]string{"user_id": b.ID, "note": "from school", "message": "hi, Ann here"}, status: 201, check: status("pending")},
		{name: "a requests b again replaces the greeting", as: a, method: "POST", path: req, body: map[string]string{"user_id": b.ID, "note": "from school", "message": "hello again"}, status: 201, check: status("pending")},
		{name: "b sees the incoming request", as: b, method: "GET", path: req, status: 200, check: func(t *testing.T, r usertest.Response) {
			wantIDs(t, r, "requests", "direction", "incoming")
			if !strings.Contains(string(r.Body), "hello again") || !strings.Contains(string(r.Body), a.ID) || strings.Contains(string(r.Body), "from school") {
				t.Fatalf("incoming requests: %s", r.Body)
			}
		}},
		{name: "a sees the outgoing request", as: a, method: "GET", path: req + "?direction=outgoing", status: 200, check: func(t *testing.T, r usertest.Response) {
			wantIDs(t, r, "requests", "direction", "outgoing")
			if !strings.Contains(string(r.Body), "from school") {
				t.Fatalf("outgoing requests lack my note: %s", r.Body)
			}
		}},
		{name: "a has no incoming requests", as: a, method: "GET", path: req + "?direction=incoming", status: 200, check: func(t *testing.T, r usertest.Response) {
			wantIDs(t, r, "requests", "direction")
		}},
		{name: "requests with a bad direction", as: a, method: "GET", path: req + "?direction=sideways", status: 400, code: "invalid", field: "direction"},
		{name: "requests with a forged page token", as: a, method: "GET", path: req + "?page_token=in.zzz", status: 400, code: "invalid", field: "page_token"},
		{name: "c accepts a request that does not exist", as: c, method: "POST", path: accept(a.ID), status: 404, code: "request_not_found"},
		{name: "b accepts with a note too long", as: b, method: "POST", path: accept(a.ID), body: map[string]string{"note": strings.Repeat("n", 33)}, status: 400, code: "invalid", field: "note"},
		{name: "b accepts with malformed JSON", as: b, method: "POST", path: accept(a.ID), body: rawJSON(`{"note"`), status: 400, code: "bad_json"},
		{name: "b accepts with a bad path id", as: b, method: "POST", path: accept("x1"), status: 400, code: "invalid", field: "user_id"},
		{name: "b accepts a", as: b, method: "POST", path: accept(a.ID), body: map[string]string{"note": "Ann from school"}, status: 200, check: func(t *testing.T, r usertest.Response) {
			if !strings.Contains(string(r.Body), `"friend":true`) || !strings.Contains(string(r.Body), "Ann from school") {
				t.Fatalf("accept answered %s", r.Body)
			}
		}},
		{name: "b accepts again", as: b, method: "POST", path: accept(a.ID), status: 409, code: "already_friends"},
		{name: "a requests b when friends", as: a, method: "POST", path: req, body: map[string]string{"user_id": b.ID}, status: 409, code: "already_friends"},
		{name: "the request is gone", as: b, method: "GET", path: req, status: 200, check: func(t *testing.T, r usertest.Response) {
			wantIDs(t, r, "requests", "direction")
		}},
		{name: "a lists friends", as: a, method: "GET", path: "/api/v1/friends", status: 200, check: func(t *testing.T, r usertest.Response) {
			wantIDs(t, r, "friends", "id", b.ID)
			if !strings.Contains(string(r.Body), `"from school"`) || !strings.Contains(string(r.Body), `"mobile"`) {
				t.Fatalf("friends list: %s", r.Body)
			}
		}},
		{name: "a sets a note", as: a, method: "PATCH", path: "/api/v1/friends/" + b.ID, body: map[string]string{"note": "Benny"}, status: 200, check: func(t *testing.T, r usertest.Response) {
			if !strings.Contains(string(r.Body), `"note":"Benny"`) {
				t.Fatalf("note: %s", r.Body)
			}
		}},
		{name: "a clears the note", as: a, method: "PATCH", path: "/api/v1/friends/" + b.ID, body: map[string]string{"note": ""}, status: 200},
		{name: "note missing", as: a, method: "PATCH", path: "/api/v1/friends/" + b.ID, body: map[string]string{}, status: 400, code: "required", field: "note"},
		{name: "note too long", as: a, method: "PATCH", path: "/api/v1/friends/" + b.ID, body: map[string]string{"note": strings.Repeat("x", 33)}, status: 400, code: "invalid", field: "note"},
		{name: "note of wrong type", as: a, method: "PATCH", path: "/api/v1/friends/" + b.ID, body: rawJSON(`{"note":5}`), status: 400, code: "wrong_type", field: "note"},
		{name: "note for a stranger", as: a, method: "PATCH", path: "/api/v1/friends/" + c.ID, body: map[string]string{"note": "x"}, status: 404, code: "not_friends"},

		// Crossing requests: C asks D, D asks C.
		{name: "c requests d", as: c, method: "POST", path: req, body: map[string]string{"user_id": d.ID}, status: 201, check: status("pending")},
		{name: "d requests c: accepts the crossing request", as: d, method: "POST", path: req, body: map[string]string{"user_id": c.ID, "note": "Cai"}, status: 200, check: status("accepted")},
		{name: "c and d are friends", as: c, method: "GET", path: "/api/v1/friends", status: 200, check: func(t *testing.T, r usertest.Response) {
			wantIDs(t, r, "friends", "id", d.ID)
		}},

		// Reject, request again, reject with blacklist.
		{name: "c requests a", as: c, method: "POST", path: req, body: map[string]string{"user_id": a.ID}, status: 201},
		{name: "a rejects c", as: a, method: "POST", path: reject(c.ID), status: 204},
		{name: "a rejects c again", as: a, method: "POST", path: reject(c.ID), status: 404, code: "request_not_found"},
		{name: "a accepts the rejected request", as: a, method: "POST", path: accept(c.ID), status: 404, code: "request_not_found"},
		{name: "c requests a after the reject", as: c, method: "POST", path: req, body: map[string]string{"user_id": a.ID}, status: 201},
		{name: "reject with blacklist of wrong type", as: a, method: "POST", path: reject(c.ID), body: rawJSON(`{"blacklist":"yes"}`), status: 400, code: "wrong_type", field: "blacklist"},
		{name: "a rejects and blacklists c", as: a, method: "POST", path: reject(c.ID), body: map[string]bool{"blacklist": true}, status: 204},
		{name: "c is blocked", as: c, method: "POST", path: req, body: map[string]string{"user_id": a.ID}, status: 403, code: "blocked"},
		{name: "a cannot request c while blacklisting", as: a, method: "POST", path: req, body: map[string]string{"user_id": c.ID}, status: 409, code: "blacklisted"},
		{name: "a's blacklist", as: a, method: "GET", path: "/api/v1/blacklist", status: 200, check: func(t *testing.T, r usertest.Response) {
			wantIDs(t, r, "users", "id", c.ID)
		}},
		{name: "a unblocks c", as: a, method: "DELETE", path: "/api/v1/blacklist/" + c.ID, status: 204},
		{name: "a unblocks c again", as: a, method: "DELETE", path: "/api/v1/blacklist/" + c.ID, status: 404, code: "not_blacklisted"},
		{name: "c may request a again", as: c, method: "POST", path: req, body: map[string]string{"user_id": a.ID}, status: 201},

		// Blacklisting withdraws and rejects pending requests.
		{name: "a blacklists c with c's request pending", as: a, method: "PUT", path: "/api/v1/blacklist/" + c.ID, status: 204},
		{name: "blacklisting is idempotent", as: a, method: "PUT", path: "/api/v1/blacklist/" + c.ID, status: 204},
		{name: "c's request was rejected", as: a, method: "GET", path: req, status: 200, check: func(t *testing.T, r usertest.Response) {
			wantIDs(t, r, "requests", "direction")
		}},
		{name: "blacklist self", as: a, method: "PUT", path: "/api/v1/blacklist/" + a.ID, status: 400, code: "self", field: "user_id"},
		{name: "blacklist unknown user", as: a, method: "PUT", path: "/api/v1/blacklist/999999999", status: 404, code: "user_not_found"},
		{name: "blacklist bad id", as: a, method: "PUT", path: "/api/v1/blacklist/1.5", status: 400, code: "invalid", field: "user_id"},
		{name: "a blacklists friend b: stays a friend", as: a, method: "PUT", path: "/api/v1/blacklist/" + b.ID, status: 204},
		{name: "friends list marks b blacklisted", as: a, method: "GET", path: "/api/v1/friends", status: 200, check: func(t *testing.T, r usertest.Response) {
			wantIDs(t, r, "friends", "id", b.ID)
			if !strings.Contains(string(r.Body), `"blacklisted":true`) {
				t.Fatalf("friends: %s", r.Body)
			}
		}},
		{name: "blacklist lists b and c", as: a, method: "GET", path: "/api/v1/blacklist?limit=1", status: 200, check: func(t *testing.T, r usertest.Response) {
			wantIDs(t, r, "users", "id", b.ID)
			if nextToken(t, r) == "" {
				t.Fatalf("no next page: %s", r.Body)
			}
		}},
		{name: "a unblocks b", as: a, method: "DELETE", path: "/api/v1/blacklist/" + b.ID, status: 204},

		// Delete a friend.
		{name: "a deletes b", as: a, method: "DELETE", path: "/api/v1/friends/" + b.ID, status: 204},
		{name: "a deletes b again", as: a, method: "DELETE", path: "/api/v1/friends/" + b.ID, status: 404, code: "not_friends"},
		{name: "delete self", as: a, method: "DELETE", path: "/api/v1/friends/" + a.ID, status: 400, code: "self", field: "user_id"},
		{name: "b's friends no longer hold a", as: b, method: "GET", path: "/api/v1/friends", status: 200, check: func(t *testing.T, r usertest.Response) {
			wantIDs(t, r, "friends", "id")
		}},
		{name: "b sees a as a stranger", as: b, method: "GET", path: "/api/v1/users/" + a.ID, status: 200, check: func(t *testing.T, r usertest.Response) {
			if strings.Contains(string(r.Body), "mobile") || strings.Contains(string(r.Body), `"friend":true`) {
				t.Fatalf("after delete: %s", r.Body)
			}
		}},
		{name: "b requests a after the delete", as: b, method: "POST", path: req, body: map[string]string{"user_id": a.ID}, status: 201},
		{name: "a accepts with an empty body", as: a, method: "POST", path: accept(b.ID), status: 200},
	})
}

func TestFriendListsPage(t *testing.T) {
	t.Parallel()
	e := usertest.Start(t)
	me := e.NewAccount(t, "Me")
	var friends, askers []string
	for range 3 {
		f := e.NewAccount(t, "Friend")
		befriend(t, e, me, f)
		friends = append(friends, f.ID)
	}
	for range 3 {
		x := e.NewAccount(t, "Asker")
		must(t, e, x, "POST", "/api/v1/friends/requests", map[string]string{"user_id": me.ID}, http.StatusCreated)
		askers = append(askers, x.ID)
	}
	out := e.NewAccount(t, "Asked")
	must(t, e, me, "POST", "/api/v1/friends/requests", map[string]string{"user_id": out.ID}, http.StatusCreated)

	collect := func(t *testing.T, path, key, idKey string) []string {
		var got []string
		token := ""
		for page := 0; ; page++ {
			if page > 10 {
				t.Fatal("paging does not end")
			}
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			r := must(t, e, me, "GET", path+sep+"limit=2&page_token="+url.QueryEscape(token), nil, 200)
			got = append(got, ids(t, r, key, idKey)...)
			if token = nextToken(t, r); token == "" {
				return got
			}
		}
	}
	userIDs := func(t *testing.T, path string) []string {
		var got []string
		token := ""
		for {
			r := must(t, e, me, "GET", path+"&limit=2&page_token="+url.QueryEscape(token), nil, 200)
			var body struct {
				Requests []struct {
					User struct {
						ID string `json:"id"`
					} `json:"user"`
				} `json:"requests"`
			}
			r.Decode(t, &body)
			for _, q := range body.Requests {
				got = append(got, q.User.ID)
			}
			if token = nextToken(t, r); token == "" {
				return got
			}
		}
	}
	t.Run("friends", func(t *testing.T) {
		if got := collect(t, "/api/v1/friends", "friends", "id"); strings.Join(got, ",") != strings.Join(friends, ",") {
			t.Fatalf("friends %v, want %v", got, friends)
		}
	})
	t.Run("requests both directions", func(t *testing.T) {
		got := collect(t, "/api/v1/friends/requests", "requests", "direction")
		want := "incoming,incoming,incoming,outgoing"
		if strings.Join(got, ",") != want {
			t.Fatalf("directions %v, want %s", got, want)
		}
		if got := userIDs(t, "/api/v1/friends/requests?direction="); strings.Join(got, ",") != strings.Join(append(askers, out.ID), ",") {
			t.Fatalf("users %v, want %v then %s", got, askers, out.ID)
		}
	})
	t.Run("token of one direction refused by the other", func(t *testing.T) {
		r := must(t, e, me, "GET", "/api/v1/friends/requests?direction=incoming&limit=1", nil, 200)
		tok := nextToken(t, r)
		r = relDo(t, e, me, "GET", "/api/v1/friends/requests?direction=outgoing&page_token="+url.QueryEscape(tok), nil)
		want(t, r, 400, "invalid", "page_token")
	})
}
