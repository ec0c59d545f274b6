package httpapi_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/privateim/privateim/foundation/tlsconfig"
	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/userservice/internal/usertest"
)

// A user deleted in the DataService (soft delete) loses its tokens and
// cannot sign in or ask for a reset.
func TestDeletedUser(t *testing.T) {
	t.Parallel()
	e := usertest.StartWith(t, usertest.Options{Mail: true})
	a := e.NewAccount(t, "Ada")
	creds, err := tlsconfig.ClientCredentials(e.Data.Certs.Client, "")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(e.Data.Addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	id, _ := strconv.ParseInt(a.ID, 10, 64)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := datav1.NewUsersClient(conn).DeleteUser(ctx, &datav1.DeleteUserRequest{Id: id}); err != nil {
		t.Fatal(err)
	}
	want(t, e.Do(t, "GET", "/api/v1/me", a.Token, nil), http.StatusUnauthorized, "token_revoked", "")
	want(t, e.Do(t, "POST", "/api/v1/auth/signin", "", map[string]string{"email": a.Email, "password": a.Password}), http.StatusUnauthorized, "bad_credentials", "")
	want(t, e.Do(t, "POST", "/api/v1/auth/password/forgot", "", map[string]string{"email": a.Email}), http.StatusAccepted, "", "")
	// The email is taken still: the account exists, deleted.
	want(t, e.Do(t, "POST", "/api/v1/auth/signup", "", map[string]string{"name": "Ada", "email": a.Email, "password": "password1"}), http.StatusConflict, "email_taken", "")
	// A mail sent after the forgot request proves the queue has moved on;
	// none went to the deleted account.
	b := e.NewAccount(t, "Bob")
	want(t, e.Do(t, "POST", "/api/v1/auth/password/forgot", "", map[string]string{"email": b.Email}), http.StatusAccepted, "", "")
	e.Mail.WaitMessageAbout(t, b.Email, "Reset", 1, 15*time.Second)
	if got, err := e.Mail.MessagesAbout(ctx, a.Email, "Reset"); err != nil || len(got) != 0 {
		t.Errorf("reset mails to the deleted account: %d, %v", len(got), err)
	}
}
