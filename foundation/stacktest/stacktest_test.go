package stacktest

import (
	"context"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"google.golang.org/grpc"

	"github.com/privateim/privateim/foundation/tlsconfig"
)

func TestParseDSN(t *testing.T) {
	for in, want := range map[string]dsn{
		"root@tcp(127.0.0.1:3306)/":                 {user: "root", net: "tcp", addr: "127.0.0.1:3306"},
		"u:p@ss@tcp(db:13306)/x?parseTime=true":     {user: "u", pass: "p@ss", net: "tcp", addr: "db:13306", db: "x", params: "parseTime=true"},
		"u@unix(/run/mysqld/mysqld.sock)/privateim": {user: "u", net: "unix", addr: "/run/mysqld/mysqld.sock", db: "privateim"},
		"/": {},
	} {
		got, err := parseDSN(in)
		if err != nil || got != want {
			t.Errorf("parseDSN(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"root@tcp(127.0.0.1:3306)", "root@tcp127.0.0.1/", "nothing"} {
		if _, err := parseDSN(in); err == nil {
			t.Errorf("parseDSN(%q) accepted", in)
		}
	}
	got, err := WithDatabase("u:p@tcp(h:1)/?tls=false", "t1")
	if err != nil || got != "u:p@tcp(h:1)/t1?tls=false" {
		t.Errorf("WithDatabase = %q, %v", got, err)
	}
}

// TestStartDataService starts the real binary and calls it over mutual
// TLS; cleanup stops it and drops its database.
func TestStartDataService(t *testing.T) {
	d := StartDataService(t)
	creds, err := tlsconfig.ClientCredentials(d.Certs.Client, "")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(d.Addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health = %v, %v", resp, err)
	}
}

func TestStartMailpit(t *testing.T) {
	m := StartMailpit(t)
	list, err := m.Messages(context.Background())
	if err != nil || len(list) != 0 {
		t.Fatalf("messages of a new mailpit: %v, %v", list, err)
	}
}
