package security_test

// Sessions (docs/security.md "Sessions"): what revokes an account's tokens
// (a password change or reset, a deletion, a ban) also spends its reset
// links, and a banned or deleted account neither signs in nor passes a
// token check. The WebSocket side is messageservice/internal/security.

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	userv1 "github.com/privateim/privateim/protos/user/v1"

	"github.com/privateim/privateim/foundation/grpcdial"
	"github.com/privateim/privateim/foundation/tlsconfig"

	"github.com/privateim/privateim/userservice/internal/usertest"
)

const wait = 15 * time.Second

var resetLink = regexp.MustCompile(`reset-password\?token=(\S+)`)

// mailedResetToken asks for a reset link for email and returns the token
// of the n-th mail to it.
func mailedResetToken(t *testing.T, e *usertest.Env, email string, n int) string {
	t.Helper()
	expect(t, e.Do(t, "POST", "/api/v1/auth/password/forgot", "", map[string]string{"email": email}), http.StatusAccepted, "")
	m := resetLink.FindStringSubmatch(e.Mail.WaitMessageAbout(t, email, "Reset", n, wait).Text)
	if m == nil {
		t.Fatal("no reset link in the mail")
	}
	tok, err := url.QueryUnescape(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// expect fails the test unless r has status and, when code is set, that
// error code.
func expect(t *testing.T, r usertest.Response, status int, code string) {
	t.Helper()
	if r.Status != status || (code != "" && r.Err().Code != code) {
		t.Fatalf("got %d %s, want %d %s", r.Status, r.Body, status, code)
	}
}

func reset(e *usertest.Env, t *testing.T, token, password string) usertest.Response {
	return e.Do(t, "POST", "/api/v1/auth/password/reset", "", map[string]string{"token": token, "password": password})
}

// TestResetLinkMailedBeforePasswordChangeIsSpent: someone who got hold of
// a reset mail (a shared inbox, a forwarded mail) cannot use it after the
// owner changed the password.
func TestResetLinkMailedBeforePasswordChangeIsSpent(t *testing.T) {
	t.Parallel()
	e := usertest.StartWith(t, usertest.Options{Mail: true})
	a := e.NewAccount(t, "Ada")
	stolen := mailedResetToken(t, e, a.Email, 1)
	expect(t, e.Do(t, "PUT", "/api/v1/me/password", a.Token, map[string]string{"old_password": a.Password, "password": "owner's new password"}), http.StatusNoContent, "")
	expect(t, reset(e, t, stolen, "attacker's password"), http.StatusGone, "reset_token_used")
	expect(t, e.Do(t, "POST", "/api/v1/auth/signin", "", map[string]string{"email": a.Email, "password": "owner's new password"}), http.StatusOK, "")
}

// TestOtherResetLinksAreSpentByAReset: of several reset mails, the first
// one used spends the others.
func TestOtherResetLinksAreSpentByAReset(t *testing.T) {
	t.Parallel()
	e := usertest.StartWith(t, usertest.Options{Mail: true})
	a := e.NewAccount(t, "Ada")
	first := mailedResetToken(t, e, a.Email, 1)
	second := mailedResetToken(t, e, a.Email, 2)
	expect(t, reset(e, t, second, "the owner's choice"), http.StatusNoContent, "")
	expect(t, reset(e, t, first, "attacker's password"), http.StatusGone, "reset_token_used")
	expect(t, e.Do(t, "POST", "/api/v1/auth/signin", "", map[string]string{"email": a.Email, "password": "the owner's choice"}), http.StatusOK, "")
}

func admin(t *testing.T, e *usertest.Env) (userv1.AdminClient, userv1.AuthClient) {
	t.Helper()
	conn, err := grpcdial.Dial("userservice", e.GRPCAddr, e.Certs.Admin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	op, err := grpcdial.Dial("userservice", e.GRPCAddr, e.Certs.Client)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Close() })
	return userv1.NewAdminClient(conn), userv1.NewAuthClient(op)
}

// TestSuspendedUserCannotSignInNorUseTokens: a suspension revokes every
// token and refuses sign-in (403 account_suspended, told only to who knows
// the password); unsuspending lets the user sign in again, but the tokens
// the suspension revoked stay revoked.
func TestSuspendedUserCannotSignInNorUseTokens(t *testing.T) {
	t.Parallel()
	e := usertest.Start(t)
	adm, auth := admin(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	a := e.NewAccount(t, "Mallory")
	id, err := strconv.ParseInt(a.ID, 10, 64)
	if err != nil {
		t.Fatal(err)
	}

	r, err := adm.SuspendUser(ctx, &userv1.SuspendUserRequest{UserId: id})
	if err != nil || !r.GetSuspended() || r.GetUserId() != id {
		t.Fatalf("suspend: %v %v", r, err)
	}
	if _, err := adm.SuspendUser(ctx, &userv1.SuspendUserRequest{UserId: id}); err != nil {
		t.Fatalf("suspending again: %v", err)
	}
	expect(t, e.Do(t, "GET", "/api/v1/me", a.Token, nil), http.StatusUnauthorized, "token_revoked")
	if _, err := auth.CheckToken(ctx, &userv1.CheckTokenRequest{Token: a.Token}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("CheckToken of a suspended user's token: %v", err)
	}
	expect(t, e.Do(t, "POST", "/api/v1/auth/signin", "", map[string]string{"email": a.Email, "password": a.Password}), http.StatusForbidden, "account_suspended")
	expect(t, e.Do(t, "POST", "/api/v1/auth/signin", "", map[string]string{"email": a.Email, "password": "a wrong password"}), http.StatusUnauthorized, "bad_credentials")

	if r, err := adm.UnsuspendUser(ctx, &userv1.UnsuspendUserRequest{UserId: id}); err != nil || r.GetSuspended() {
		t.Fatalf("unsuspend: %v %v", r, err)
	}
	expect(t, e.Do(t, "GET", "/api/v1/me", a.Token, nil), http.StatusUnauthorized, "token_revoked")
	expect(t, e.Do(t, "POST", "/api/v1/auth/signin", "", map[string]string{"email": a.Email, "password": a.Password}), http.StatusOK, "")

	for name, tc := range map[string]struct {
		id   int64
		code codes.Code
	}{
		"no id":        {0, codes.InvalidArgument},
		"negative id":  {-1, codes.InvalidArgument},
		"unknown user": {123456789, codes.NotFound},
	} {
		if _, err := adm.SuspendUser(ctx, &userv1.SuspendUserRequest{UserId: tc.id}); status.Code(err) != tc.code || !strings.HasPrefix(status.Convert(err).Message(), "user_id: ") {
			t.Errorf("%s: suspend: %v, want %s naming user_id", name, err, tc.code)
		}
		if _, err := adm.UnsuspendUser(ctx, &userv1.UnsuspendUserRequest{UserId: tc.id}); status.Code(err) != tc.code || !strings.HasPrefix(status.Convert(err).Message(), "user_id: ") {
			t.Errorf("%s: unsuspend: %v, want %s naming user_id", name, err, tc.code)
		}
	}
}

// TestDeletedAccountTokensAndSignInAreRefused: deleting the account (with
// its password) revokes its tokens; it cannot sign in; a stolen token
// cannot delete it without the password.
func TestDeletedAccountTokensAndSignInAreRefused(t *testing.T) {
	t.Parallel()
	e := usertest.Start(t)
	a := e.NewAccount(t, "Ada")
	expect(t, e.Do(t, "DELETE", "/api/v1/me", a.Token, map[string]string{"password": "not the password"}), http.StatusForbidden, "wrong_password")
	expect(t, e.Do(t, "DELETE", "/api/v1/me", a.Token, map[string]string{}), http.StatusBadRequest, "required")
	expect(t, e.Do(t, "GET", "/api/v1/me", a.Token, nil), http.StatusOK, "")
	expect(t, e.Do(t, "DELETE", "/api/v1/me", a.Token, map[string]string{"password": a.Password}), http.StatusNoContent, "")
	expect(t, e.Do(t, "GET", "/api/v1/me", a.Token, nil), http.StatusUnauthorized, "token_revoked")
	expect(t, e.Do(t, "POST", "/api/v1/auth/signin", "", map[string]string{"email": a.Email, "password": a.Password}), http.StatusUnauthorized, "bad_credentials")
}

// TestOnlyAnAdminCertificateMaySuspendUsers: Admin is the admins'; a
// service's certificate (a compromised message node) and the operator's
// may not suspend anyone.
func TestOnlyAnAdminCertificateMaySuspendUsers(t *testing.T) {
	t.Parallel()
	e := usertest.Start(t)
	a := e.NewAccount(t, "Ada")
	id, err := strconv.ParseInt(a.ID, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for name, files := range map[string]tlsconfig.Files{"messageservice": e.Certs.Message, "subscriptionservice": e.Certs.Subscription, "operator": e.Certs.Client} {
		conn, err := grpcdial.Dial("userservice", e.GRPCAddr, files)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := userv1.NewAdminClient(conn).SuspendUser(ctx, &userv1.SuspendUserRequest{UserId: id}); status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s certificate: SuspendUser: %v, want PermissionDenied", name, err)
		}
	}
	expect(t, e.Do(t, "GET", "/api/v1/me", a.Token, nil), http.StatusOK, "")
}
