package stacktest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/privateim/privateim/protos/tlsconfig"
	userv1 "github.com/privateim/privateim/protos/user/v1"
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
	got, err := userv1.NewAuthClient(conn).CheckToken(ctx, &userv1.CheckTokenRequest{Token: out.Token})
	if err != nil || got.GetUserId() == 0 {
		t.Fatalf("CheckToken = %v, %v", got, err)
	}
}
