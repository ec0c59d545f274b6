package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc"

	"github.com/privateim/privateim/foundation/tlsconfig"
	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/userservice/internal/usertest"
)

// subscriptions is a client of the DataService's Subscriptions: accounts
// are made by the subscription service, which the tests stand in for.
func subscriptions(t *testing.T, e *usertest.Env) datav1.SubscriptionsClient {
	t.Helper()
	creds, err := tlsconfig.ClientCredentials(e.Certs.Client, "")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(e.Data.Addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return datav1.NewSubscriptionsClient(conn)
}

func newSubscription(t *testing.T, c datav1.SubscriptionsClient, owner usertest.Account, name string) string {
	t.Helper()
	ownerID, err := strconv.ParseInt(owner.ID, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.CreateSubscription(context.Background(), &datav1.CreateSubscriptionRequest{Name: name, OwnerId: ownerID, Intro: "about " + name})
	if err != nil {
		t.Fatalf("create subscription %s: %v", name, err)
	}
	return strconv.FormatInt(s.GetId(), 10)
}

func TestFollow(t *testing.T) {
	t.Parallel()
	e := usertest.Start(t)
	subs := subscriptions(t, e)
	owner := e.NewAccount(t, "Publisher")
	me := e.NewAccount(t, "Reader")
	news := newSubscription(t, subs, owner, "Go 周报 Weekly")
	rust := newSubscription(t, subs, owner, "Rust Daily")
	gone := newSubscription(t, subs, owner, "Gone News")
	goneID, _ := strconv.ParseInt(gone, 10, 64)
	if _, err := subs.DeleteSubscriptionPlus(context.Background(), &datav1.DeleteSubscriptionPlusRequest{Id: goneID}); err != nil {
		t.Fatal(err)
	}
	const base = "/api/v1/subscriptions/"
	search := func(q string) string { return base + "search?q=" + url.QueryEscape(q) }

	runSteps(t, e, []relStep{
		{name: "search before anything is indexed asks the DataService", as: me, method: "GET", path: search("go"), status: 200, check: func(t *testing.T, r usertest.Response) {
			wantIDs(t, r, "subscriptions", "id", news)
		}},
		{name: "then the index finds it mid-name", as: me, method: "GET", path: search("周报"), status: 200, check: func(t *testing.T, r usertest.Response) {
			wantIDs(t, r, "subscriptions", "id", news)
			if !strings.Contains(string(r.Body), `"intro":"about Go 周报 Weekly"`) {
				t.Fatalf("search: %s", r.Body)
			}
		}},
		{name: "search leaves out deleted accounts", as: me, method: "GET", path: search("gone"), status: 200, check: func(t *testing.T, r usertest.Response) {
			wantIDs(t, r, "subscriptions", "id")
		}},
		{name: "search without q", as: me, method: "GET", path: base + "search", status: 400, code: "required", field: "q"},
		{name: "search with forged page token", as: me, method: "GET", path: search("go") + "&page_token=x", status: 400, code: "invalid", field: "page_token"},
		{name: "search with forged DataService token", as: me, method: "GET", path: search("go") + "&page_token=d.x", status: 400, code: "invalid", field: "page_token"},
		{name: "follow", as: me, method: "POST", path: base + news + "/follow", status: 200, check: func(t *testing.T, r usertest.Response) {
			if !strings.Contains(string(r.Body), `"follower_count":1`) {
				t.Fatalf("follow: %s", r.Body)
			}
		}},
		{name: "follow twice", as: me, method: "POST", path: base + news + "/follow", status: 409, code: "already_following"},
		{name: "follow a deleted account", as: me, method: "POST", path: base + gone + "/follow", status: 404, code: "subscription_not_found"},
		{name: "follow an unknown account", as: me, method: "POST", path: base + "999999999/follow", status: 404, code: "subscription_not_found"},
		{name: "follow a bad id", as: me, method: "POST", path: base + "0/follow", status: 400, code: "invalid", field: "id"},
		{name: "follow without token", method: "POST", path: base + rust + "/follow", status: 401, code: "unauthenticated"},
		{name: "follow another", as: me, method: "POST", path: base + rust + "/follow", status: 200},
		{name: "following", as: me, method: "GET", path: base + "following", status: 200, check: func(t *testing.T, r usertest.Response) {
			wantIDs(t, r, "subscriptions", "id", news, rust)
		}},
		{name: "following paged", as: me, method: "GET", path: base + "following?limit=1", status: 200, check: func(t *testing.T, r usertest.Response) {
			wantIDs(t, r, "subscriptions", "id", news)
			r = must(t, e, me, "GET", base+"following?limit=1&page_token="+url.QueryEscape(nextToken(t, r)), nil, 200)
			wantIDs(t, r, "subscriptions", "id", rust)
			if nextToken(t, r) != "" {
				t.Fatalf("a page after the last: %s", r.Body)
			}
		}},
		{name: "following with bad limit", as: me, method: "GET", path: base + "following?limit=x", status: 400, code: "invalid", field: "limit"},
		{name: "following with forged token", as: me, method: "GET", path: base + "following?page_token=zz", status: 400, code: "invalid", field: "page_token"},
		{name: "unfollow", as: me, method: "DELETE", path: base + news + "/follow", status: 204},
		{name: "unfollow again", as: me, method: "DELETE", path: base + news + "/follow", status: 404, code: "not_following"},
		{name: "unfollow never followed", as: owner, method: "DELETE", path: base + rust + "/follow", status: 404, code: "not_following"},
		{name: "unfollow unknown", as: me, method: "DELETE", path: base + "999999999/follow", status: 404, code: "not_following"},
		{name: "following after unfollow", as: me, method: "GET", path: base + "following", status: 200, check: func(t *testing.T, r usertest.Response) {
			wantIDs(t, r, "subscriptions", "id", rust)
		}},
		{name: "follow again after unfollow", as: me, method: "POST", path: base + news + "/follow", status: 200},
	})

	t.Run("search pages through the DataService", func(t *testing.T) {
		var want []string
		for i := range 3 {
			want = append(want, newSubscription(t, subs, owner, "Paged "+strconv.Itoa(i)))
		}
		r := must(t, e, me, "GET", search("paged")+"&limit=2", nil, http.StatusOK)
		got := ids(t, r, "subscriptions", "id")
		r = must(t, e, me, "GET", search("paged")+"&limit=2&page_token="+url.QueryEscape(nextToken(t, r)), nil, http.StatusOK)
		got = append(got, ids(t, r, "subscriptions", "id")...)
		if strings.Join(got, ",") != strings.Join(want, ",") || nextToken(t, r) != "" {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
}
