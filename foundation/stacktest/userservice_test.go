package stacktest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/privateim/privateim/foundation/tlsconfig"
)

func TestStartUserService(t *testing.T) {
	d := StartDataService(t)
	u := StartUserService(t, d, UserServiceOptions{})
	body, _ := json.Marshal(map[string]string{"name": "Ann", "email": "ann@example.com", "password": "password-123"})
	resp, err := http.Post(u.URL+"/api/v1/auth/signup", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated || out.Token == "" {
		t.Fatalf("sign up: %d, %v", resp.StatusCode, err)
	}
	creds, err := tlsconfig.ClientCredentials(d.Certs.Client, "")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(u.GRPCAddr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The module imports no generated protos: the standard health service
	// proves the internal gRPC server answers over mutual TLS.
	got, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || got.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health = %v, %v", got, err)
	}
}
