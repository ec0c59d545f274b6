package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"google.golang.org/grpc"

	"github.com/privateim/privateim/foundation/tlsconfig"
	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/userservice/internal/usertest"
)

// A deleted account disappears from lookups, friend lists, blacklists and
// member lists, and cannot be asked, blacklisted or followed by id.
func TestDeletedUserDisappears(t *testing.T) {
	t.Parallel()
	e := usertest.Start(t)
	me := e.NewAccount(t, "Me")
	gone := e.SignUp(t, "Vanishing Vera", "vera@example.com", "password-vera")
	blocked := e.NewAccount(t, "Blocked Bo")
	befriend(t, e, me, gone)
	must(t, e, me, "PUT", "/api/v1/blacklist/"+blocked.ID, nil, http.StatusNoContent)
	g := createGroup(t, e, me, "With Vera", gone)

	users := usersClient(t, e)
	for _, a := range []usertest.Account{gone, blocked} {
		id, _ := strconv.ParseInt(a.ID, 10, 64)
		if _, err := users.DeleteUser(context.Background(), &datav1.DeleteUserRequest{Id: id}); err != nil {
			t.Fatal(err)
		}
	}

	runSteps(t, e, []relStep{
		{name: "get", as: me, method: "GET", path: "/api/v1/users/" + gone.ID, status: 404, code: "user_not_found"},
		{name: "search by email", as: me, method: "GET", path: "/api/v1/users/search?q=" + url.QueryEscape(gone.Email), status: 200, check: func(t *testing.T, r usertest.Response) {
			wantIDs(t, r, "users", "id")
		}},
		{name: "search by name", as: me, method: "GET", path: "/api/v1/users/search?q=vera", status: 200, check: func(t *testing.T, r usertest.Response) {
			wantIDs(t, r, "users", "id")
		}},
		{name: "friends", as: me, method: "GET", path: "/api/v1/friends", status: 200, check: func(t *testing.T, r usertest.Response) {
			wantIDs(t, r, "friends", "id")
		}},
		{name: "blacklist", as: me, method: "GET", path: "/api/v1/blacklist", status: 200, check: func(t *testing.T, r usertest.Response) {
			wantIDs(t, r, "users", "id")
		}},
		{name: "members", as: me, method: "GET", path: "/api/v1/groups/" + g.ID + "/members", status: 200, check: func(t *testing.T, r usertest.Response) {
			wantIDs(t, r, "members", "user_id", me.ID)
		}},
		{name: "request", as: me, method: "POST", path: "/api/v1/friends/requests", body: map[string]string{"user_id": gone.ID}, status: 404, code: "user_not_found"},
		{name: "blacklist put", as: me, method: "PUT", path: "/api/v1/blacklist/" + gone.ID, status: 404, code: "user_not_found"},
	})
}

// usersClient is a client of the DataService's Users, to delete accounts
// (no route does).
func usersClient(t *testing.T, e *usertest.Env) datav1.UsersClient {
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
	return datav1.NewUsersClient(conn)
}
