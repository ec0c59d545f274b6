package main

import (
	"slices"
	"strings"
	"testing"
)

// TestSubscriptionServicePassesReviewers: make run starts the
// subscriptionservice last, with REVIEWER_EMAILS from the environment and
// the addresses of the services it calls, on ports no other service uses.
func TestSubscriptionServicePassesReviewers(t *testing.T) {
	t.Setenv("REVIEWER_EMAILS", "ada@example.com,bob@example.com")
	c, err := loadConfig([]string{"-root", t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	svcs := services(c)
	last := svcs[len(svcs)-1]
	if last.name != "subscriptionservice" || last.addr != "127.0.0.1:9093" {
		t.Fatalf("last service %s at %s, want subscriptionservice at 127.0.0.1:9093", last.name, last.addr)
	}
	for _, kv := range []string{"REVIEWER_EMAILS=ada@example.com,bob@example.com", "HTTP_ADDR=127.0.0.1:8082",
		"USER_ADDR=127.0.0.1:9092", "MESSAGE_ADDR=127.0.0.1:9091", "DATA_ADDR=127.0.0.1:9090"} {
		if !slices.Contains(last.env, kv) {
			t.Errorf("subscriptionservice env lacks %s: %q", kv, last.env)
		}
	}
	seen := map[string]string{}
	for _, s := range svcs {
		for _, p := range s.ports {
			if other, ok := seen[p]; ok {
				t.Errorf("%s and %s both listen on %s", other, s.name, p)
			}
			seen[p] = s.name
		}
	}
}

// TestDataServiceEndpointMasksPassword: the line printed for the
// DataService shows the MySQL DSN without its password.
// TestUserServiceDeliversToTheMessageService: make run points the
// userservice's MESSAGE_ADDR (group system messages) at the
// messageservice's gRPC address, moved or not.
func TestUserServiceDeliversToTheMessageService(t *testing.T) {
	t.Setenv("MESSAGESERVICE_GRPC_ADDR", "127.0.0.1:19091")
	c, err := loadConfig([]string{"-root", t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range services(c) {
		if s.name == "userservice" {
			if !slices.Contains(s.env, "MESSAGE_ADDR=127.0.0.1:19091") {
				t.Fatalf("userservice env lacks MESSAGE_ADDR=127.0.0.1:19091: %q", s.env)
			}
			return
		}
	}
	t.Fatal("no userservice in make run's services")
}

func TestDataServiceEndpointMasksPassword(t *testing.T) {
	t.Setenv("MYSQL_DSN", "app:s3cr@t@tcp(db:3306)/")
	c, err := loadConfig([]string{"-root", t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	line := services(c)[0].endpoints[0]
	if strings.Contains(line, "s3cr") || !strings.Contains(line, "app:") || !strings.Contains(line, "@tcp(db:3306)/privateim") {
		t.Errorf("endpoint %q: want the user and address, the database privateim, and no password", line)
	}
}
