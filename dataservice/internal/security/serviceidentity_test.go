package security

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/foundation/stacktest"
	"github.com/privateim/privateim/foundation/tlsconfig"
	"github.com/privateim/privateim/foundation/tlsconfig/devpki"
)

// The attacks of a process that holds one service's certificate (or
// another CA's) on the DataService binary, started as `make run` starts it
// (GRPC_REFLECTION unset). docs/security.md, "Service identity".

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// A message node's certificate (say, a compromised node) asks for a
// user's row by email, which carries the password hash: only the
// userservice may.
func TestMessageServiceCertificateReadingPasswordHashesIsDenied(t *testing.T) {
	t.Parallel()
	d := stacktest.StartDataService(t)
	email := "victim-" + strings.ToLower(rand.Text()[:8]) + "@example.com"
	if _, err := datav1.NewUsersClient(stacktest.Dial(t, d.Addr, d.Certs.User)).CreateUser(ctx(t), &datav1.CreateUserRequest{Email: email, Name: "Victim", PasswordHash: "$2a$10$hash"}); err != nil {
		t.Fatalf("the userservice creates a user: %v", err)
	}

	_, err := datav1.NewUsersClient(stacktest.Dial(t, d.Addr, d.Certs.Message)).GetUserByEmail(ctx(t), &datav1.GetUserByEmailRequest{Email: email})
	if st := status.Convert(err); st.Code() != codes.PermissionDenied || !strings.Contains(st.Message(), datav1.Users_GetUserByEmail_FullMethodName) {
		t.Fatalf("messageservice certificate: GetUserByEmail = %v, want PermissionDenied naming the method", err)
	}
	for name, files := range map[string]tlsconfig.Files{"subscriptionservice": d.Certs.Subscription, "dataservice": d.Certs.Data} {
		_, err := datav1.NewUsersClient(stacktest.Dial(t, d.Addr, files)).GetUserByEmail(ctx(t), &datav1.GetUserByEmailRequest{Email: email})
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s certificate: GetUserByEmail = %v, want PermissionDenied", name, err)
		}
	}
	// Nor may it change a password.
	_, err = datav1.NewUsersClient(stacktest.Dial(t, d.Addr, d.Certs.Message)).ResetPasswordPlus(ctx(t), &datav1.ResetPasswordPlusRequest{})
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("messageservice certificate: ResetPasswordPlus = %v, want PermissionDenied", err)
	}

	u, err := datav1.NewUsersClient(stacktest.Dial(t, d.Addr, d.Certs.User)).GetUserByEmail(ctx(t), &datav1.GetUserByEmailRequest{Email: email})
	if err != nil || u.GetPasswordHash() == "" {
		t.Fatalf("userservice certificate: GetUserByEmail = %v, %v; want the user", u, err)
	}
	// What the message nodes do call still works.
	if _, err := datav1.NewUsersClient(stacktest.Dial(t, d.Addr, d.Certs.Message)).GetUser(ctx(t), &datav1.GetUserRequest{Id: u.GetId()}); err != nil {
		t.Fatalf("messageservice certificate: GetUser = %v", err)
	}
}

// A certificate of another CA, even one naming a service, is refused in
// the TLS handshake: the call never reaches the allow-list.
func TestCertificateFromAnotherCAIsRefusedAtTLS(t *testing.T) {
	t.Parallel()
	d := stacktest.StartDataService(t)
	other, err := devpki.Write(filepath.Join(t.TempDir(), "other"))
	if err != nil {
		t.Fatal(err)
	}
	forged := other.User
	forged.CA = d.Certs.CA // it trusts the real server; its own certificate is foreign
	_, err = datav1.NewUsersClient(stacktest.Dial(t, d.Addr, forged)).GetUserByEmail(ctx(t), &datav1.GetUserByEmailRequest{Email: "a@example.com"})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("another CA's userservice certificate: %v, want Unavailable (handshake refused)", err)
	}
}

// Reflection hands anyone with a certificate the map of the API; it is off
// unless GRPC_REFLECTION turns it on.
func TestReflectionIsOffByDefault(t *testing.T) {
	t.Parallel()
	d := stacktest.StartDataService(t)
	rc, err := reflectionpb.NewServerReflectionClient(stacktest.Dial(t, d.Addr, d.Certs.Client)).ServerReflectionInfo(ctx(t))
	if err == nil {
		// A refused stream may fail Send with io.EOF; Recv has the status.
		_ = rc.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
		_, err = rc.Recv()
	}
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("reflection: %v, want Unimplemented", err)
	}
}
