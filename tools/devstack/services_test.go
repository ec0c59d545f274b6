package main

import (
	"slices"
	"strings"
	"testing"
)

// TestSubscriptionServicePassesReviewers: make run starts the
// subscriptionservice after the services it calls, with REVIEWER_EMAILS from the environment and
// the addresses of the services it calls, on ports no other service uses.
func TestSubscriptionServicePassesReviewers(t *testing.T) {
	t.Setenv("REVIEWER_EMAILS", "ada@example.com,bob@example.com")
	c, err := loadConfig([]string{"-root", t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	svcs := services(c)
	last := svcs[len(svcs)-2]
	if last.name != "subscriptionservice" || last.addr != "127.0.0.1:9093" {
		t.Fatalf("last but one service %s at %s, want subscriptionservice at 127.0.0.1:9093", last.name, last.addr)
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

// TestWebGatewayIsTheOrigin: make run starts the webgateway last, in front
// of the three HTTP services, and every URL the services hand out (reset
// links, avatars, chat files) is of its origin, the one address printed.
func TestWebGatewayIsTheOrigin(t *testing.T) {
	t.Setenv("WEB_HTTP_ADDR", "127.0.0.1:18000")
	c, err := loadConfig([]string{"-root", t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	svcs := services(c)
	env := map[string][]string{}
	for _, s := range svcs {
		env[s.name] = s.env
	}
	if last := svcs[len(svcs)-1]; last.name != "webgateway" || last.httpHealth != "http://127.0.0.1:18000/healthz" {
		t.Fatalf("last service %s (health %s), want webgateway at 127.0.0.1:18000", last.name, last.httpHealth)
	}
	for name, kvs := range map[string][]string{
		"webgateway":          {"HTTP_ADDR=127.0.0.1:18000", "USER_URL=http://127.0.0.1:8080", "SUBSCRIPTION_URL=http://127.0.0.1:8082", "MESSAGE_URLS=http://127.0.0.1:8081"},
		"userservice":         {"PUBLIC_URL=http://localhost:18000", "TRUSTED_PROXIES=127.0.0.1,::1"},
		"messageservice":      {"FILE_BASE_URL=http://localhost:18000/static/"},
		"subscriptionservice": {"PUBLIC_URL=http://localhost:18000/sub"},
	} {
		for _, kv := range kvs {
			if !slices.Contains(env[name], kv) {
				t.Errorf("%s env lacks %s: %q", name, kv, env[name])
			}
		}
	}
}
