package server_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/metrics/metricstest"
	"github.com/privateim/privateim/foundation/poll"
	"github.com/privateim/privateim/subscriptionservice/internal/config"
	"github.com/privateim/privateim/subscriptionservice/internal/subtest"
)

// TestMetricsMoveWithTraffic scrapes the real GET /metrics (METRICS_ADDR)
// before and after an authenticated request: its route's HTTP series and
// the userservice CheckToken client call move.
func TestMetricsMoveWithTraffic(t *testing.T) {
	e := subtest.StartWith(t, subtest.Options{Configure: func(c *config.Config) { c.MetricsAddr = "127.0.0.1:0" }})
	addr := e.Server.MetricsAddr()
	if addr == "" {
		t.Fatal("no metrics address")
	}
	before := metricstest.Scrape(t, addr)
	owner := e.NewAccount(t, "owner")
	if r := e.Do(t, http.MethodGet, "/api/v1/subscriptions/1/articles", owner.Token, nil); r.Status >= 500 {
		t.Fatalf("list articles: %d", r.Status)
	}
	moved := []struct {
		name   string
		labels []string
	}{
		{"http_server_requests_total", []string{`route="/api/v1/subscriptions/:id/articles"`, `method="GET"`}},
		{"http_server_request_duration_seconds_count", []string{`route="/api/v1/subscriptions/:id/articles"`}},
		{"grpc_client_handled_total", []string{`grpc_service="privateim.user.v1.Auth"`, `grpc_method="CheckToken"`, `grpc_code="OK"`}},
		{"privateim_build_info", []string{`service="subscriptionservice"`}},
	}
	poll.Eventually(t, 10*time.Second, func() error {
		after := metricstest.Scrape(t, addr)
		for _, m := range moved {
			was, _ := before.Sum(m.name, m.labels...)
			if m.name == "privateim_build_info" {
				was = 0
			}
			if now, ok := after.Sum(m.name, m.labels...); !ok || now <= was {
				return fmt.Errorf("%s%v = %v (found %v), was %v: want more", m.name, m.labels, now, ok, was)
			}
		}
		return nil
	})
}
