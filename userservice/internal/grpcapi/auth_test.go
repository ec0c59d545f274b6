package grpcapi_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/privateim/privateim/foundation/poll"
	"github.com/privateim/privateim/foundation/tlsconfig"
	"github.com/privateim/privateim/foundation/tlsconfig/devpki"
	userv1 "github.com/privateim/privateim/protos/user/v1"

	"github.com/privateim/privateim/userservice/internal/config"
	"github.com/privateim/privateim/userservice/internal/usertest"
)

func dial(t *testing.T, addr string, creds credentials.TransportCredentials) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func mtls(t *testing.T, files tlsconfig.Files) credentials.TransportCredentials {
	t.Helper()
	c, err := tlsconfig.ClientCredentials(files, "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func code(err error) codes.Code { return status.Code(err) }

func TestCheckToken(t *testing.T) {
	t.Parallel()
	const ttl = 2 * time.Second
	e := usertest.StartWith(t, usertest.Options{Configure: func(c *config.Config) { c.JWTTTL = ttl }})
	auth := userv1.NewAuthClient(dial(t, e.GRPCAddr, mtls(t, e.Certs.Client)))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a := e.NewAccount(t, "Ada")
	issued := time.Now()

	resp, err := auth.CheckToken(ctx, &userv1.CheckTokenRequest{Token: a.Token})
	if err != nil {
		t.Fatalf("valid token: %v", err)
	}
	if strconv.FormatInt(resp.GetUserId(), 10) != a.ID || resp.GetTokenVersion() != 1 {
		t.Errorf("CheckToken = %v, want user %s version 1", resp, a.ID)
	}
	if exp := resp.GetExpiresAt().AsTime(); exp.Before(issued.Add(ttl-2*time.Second)) || exp.After(issued.Add(ttl+time.Second)) {
		t.Errorf("expires_at %v, want about %v", exp, issued.Add(ttl))
	}

	for name, tok := range map[string]string{
		"garbage":       "garbage",
		"not a JWT alg": "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
		"tampered":      a.Token[:len(a.Token)-2] + "xx",
	} {
		if _, err := auth.CheckToken(ctx, &userv1.CheckTokenRequest{Token: tok}); code(err) != codes.Unauthenticated {
			t.Errorf("%s: err = %v, want Unauthenticated", name, err)
		}
	}
	if _, err := auth.CheckToken(ctx, &userv1.CheckTokenRequest{}); code(err) != codes.InvalidArgument {
		t.Errorf("empty token: err = %v, want InvalidArgument", err)
	}

	// Revoked by a password change.
	b := e.NewAccount(t, "Bob")
	if r := e.Do(t, "PUT", "/api/v1/me/password", b.Token, map[string]string{"old_password": b.Password, "password": "new password"}); r.Status != http.StatusNoContent {
		t.Fatalf("change password: %d %s", r.Status, r.Body)
	}
	if _, err := auth.CheckToken(ctx, &userv1.CheckTokenRequest{Token: b.Token}); code(err) != codes.Unauthenticated {
		t.Errorf("revoked: err = %v, want Unauthenticated", err)
	}
	r := e.Do(t, "POST", "/api/v1/auth/signin", "", map[string]string{"email": b.Email, "password": "new password"})
	var in struct{ Token string }
	r.Decode(t, &in)
	if resp, err := auth.CheckToken(ctx, &userv1.CheckTokenRequest{Token: in.Token}); err != nil || resp.GetTokenVersion() != 2 {
		t.Errorf("token after the change: %v, %v; want version 2", resp, err)
	}

	// Expired.
	poll.Eventually(t, 10*time.Second, func() error {
		_, err := auth.CheckToken(ctx, &userv1.CheckTokenRequest{Token: a.Token})
		switch code(err) {
		case codes.Unauthenticated:
			return nil
		case codes.OK:
			return errors.New("still valid")
		}
		t.Fatalf("expired token: %v", err)
		return nil
	})
	if time.Since(issued) < ttl-time.Second {
		t.Errorf("token refused %v after issue; its lifetime is %v", time.Since(issued), ttl)
	}
}

func TestGRPCNeedsAClientCertificateOfTheCA(t *testing.T) {
	t.Parallel()
	e := usertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	health := healthpb.NewHealthClient(dial(t, e.GRPCAddr, mtls(t, e.Certs.Client)))
	if resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health = %v, %v; want SERVING", resp, err)
	}
	if resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{Service: userv1.Auth_ServiceDesc.ServiceName}); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health of Auth = %v, %v; want SERVING", resp, err)
	}

	// Trusts the server, presents no certificate.
	pool, err := tlsconfig.Client(e.Certs.Client, "")
	if err != nil {
		t.Fatal(err)
	}
	noCert := credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool.RootCAs})
	// A certificate of another CA.
	other, err := devpki.Write(filepath.Join(t.TempDir(), "other"))
	if err != nil {
		t.Fatal(err)
	}
	otherCA := tlsconfig.Files{CA: e.Certs.Client.CA, Cert: other.Client.Cert, Key: other.Client.Key}
	for name, creds := range map[string]credentials.TransportCredentials{
		"no client certificate":        noCert,
		"certificate of another CA":    mtls(t, otherCA),
		"server not trusted by client": mtls(t, other.Client),
	} {
		auth := userv1.NewAuthClient(dial(t, e.GRPCAddr, creds))
		cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := auth.CheckToken(cctx, &userv1.CheckTokenRequest{Token: "x"})
		ccancel()
		if c := code(err); c != codes.Unavailable {
			t.Errorf("%s: err = %v, want the connection refused (Unavailable)", name, err)
		}
	}
}
