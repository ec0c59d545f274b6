package server_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/privateim/privateim/foundation/metrics/metricstest"
	"github.com/privateim/privateim/foundation/poll"
	"github.com/privateim/privateim/foundation/stacktest"

	"github.com/privateim/privateim/messageservice/internal/mstest"
)

// TestMetricsMoveWithTraffic scrapes the real GET /metrics of two nodes,
// the DataService and the userservice before and after a message from a
// user on n1 to a user on n2, and checks that the series of that traffic
// moved; then that every metric the dashboards and alert rules of deploy/
// use is exported by one of them.
func TestMetricsMoveWithTraffic(t *testing.T) {
	st := stack(t)
	nodes := make([]*mstest.Node, 2)
	for i := range nodes {
		cfg := st.Config()
		cfg.NodeID = fmt.Sprint("n", i+1)
		cfg.MetricsAddr = "127.0.0.1:0"
		nodes[i] = st.StartNode(t, cfg)
	}
	n1, n2 := nodes[0], nodes[1]
	if st.Data.MetricsAddr == "" || st.Users.MetricsAddr == "" {
		t.Fatalf("metrics addresses: dataservice %q, userservice %q", st.Data.MetricsAddr, st.Users.MetricsAddr)
	}
	before := map[string]metricstest.Samples{
		"n1": metricstest.Scrape(t, n1.MetricsAddr()), "n2": metricstest.Scrape(t, n2.MetricsAddr()),
		"data": metricstest.Scrape(t, st.Data.MetricsAddr), "users": metricstest.Scrape(t, st.Users.MetricsAddr),
	}

	a, b := st.NewUser(t, "a"), st.NewUser(t, "b")
	st.Befriend(t, a, b)
	ca, cb := n1.Dial(t, a, ""), n2.Dial(t, b, "")
	seen(t, n1, b)
	seen(t, n2, a)
	n1.Settle(t)
	n2.Settle(t)
	ca.Send("m1", "user", b.ID, "hello")
	sent := ca.Await("sent", wait)
	if m := cb.Await("message", wait); m.MsgID != sent.MsgID {
		t.Fatalf("b got %s", m.Raw)
	}
	cb.Ack(sent.Conversation, sent.Seq)
	cb.UntilPong(wait)

	// Each row: where, metric, labels; the sum must grow.
	moved := []struct {
		where, name string
		labels      []string
	}{
		{"n1", "privateim_ws_frames_received_total", []string{`type="send"`}},
		{"n1", "privateim_ws_frames_sent_total", []string{`type="sent"`}},
		{"n1", "privateim_chat_store_seconds_count", nil},
		{"n1", "privateim_cluster_forwards_total", nil},
		{"n1", "privateim_chat_messages_stored_total", nil},
		{"n1", "http_server_requests_total", []string{`route="GET /ws"`, `code="101"`}},
		{"n1", "grpc_client_handled_total", []string{`grpc_service="privateim.user.v1.Auth"`, `grpc_method="CheckToken"`, `grpc_code="OK"`}},
		{"n1", "grpc_client_handling_seconds_count", []string{`grpc_service="privateim.data.v1.Messages"`}},
		{"n2", "privateim_cluster_forwards_received_total", nil},
		{"n2", "privateim_chat_delivery_seconds_count", nil},
		{"n2", "privateim_ws_frames_sent_total", []string{`type="message"`}},
		{"n2", "privateim_ws_frames_received_total", []string{`type="ack"`}},
		{"n2", "privateim_chat_deliveries_total", nil},
		{"data", "grpc_server_handled_total", []string{`grpc_service="privateim.data.v1.Messages"`, `grpc_code="OK"`}},
		{"data", "grpc_server_handling_seconds_count", []string{`grpc_service="privateim.data.v1.Friends"`}},
		{"users", "grpc_server_handled_total", []string{`grpc_method="CheckToken"`, `grpc_code="OK"`}},
		{"users", "http_server_requests_total", []string{`route="/api/v1/auth/signup"`, `method="POST"`, `code="201"`}},
		{"users", "http_server_request_duration_seconds_count", []string{`route="/api/v1/friends/requests/:user_id/accept"`}},
		{"users", "grpc_client_handled_total", []string{`grpc_service="privateim.data.v1.Users"`}},
	}
	addrs := map[string]string{"n1": n1.MetricsAddr(), "n2": n2.MetricsAddr(), "data": st.Data.MetricsAddr, "users": st.Users.MetricsAddr}
	var after map[string]metricstest.Samples
	// The receiver's node counts the delivery as it queues the frame, and
	// the sender's the ack's effects a moment after: poll.
	poll.Eventually(t, wait, func() error {
		after = map[string]metricstest.Samples{}
		for k, addr := range addrs {
			after[k] = metricstest.Scrape(t, addr)
		}
		for _, m := range moved {
			was, _ := before[m.where].Sum(m.name, m.labels...)
			now, ok := after[m.where].Sum(m.name, m.labels...)
			if !ok || now <= was {
				return fmt.Errorf("%s: %s%v = %v (found %v), was %v: want more", m.where, m.name, m.labels, now, ok, was)
			}
		}
		return nil
	})

	// Gauges: one connection each, and the pool of the DataService.
	for _, g := range []struct {
		where, name string
		want        float64
	}{
		{"n1", "privateim_ws_connections", 1}, {"n2", "privateim_ws_connections", 1},
		{"n1", "privateim_chat_users_online", 1}, {"n2", "privateim_cluster_nodes", 1},
	} {
		if v, _ := after[g.where].Sum(g.name); v != g.want {
			t.Errorf("%s: %s = %v, want %v", g.where, g.name, v, g.want)
		}
	}
	if v, ok := after["data"].Sum("go_sql_open_connections", `db_name="mysql"`); !ok || v < 1 {
		t.Errorf("dataservice go_sql_open_connections = %v (found %v), want >= 1", v, ok)
	}
	// Never a user id in a label.
	for where, s := range after {
		for series := range s {
			for _, id := range []string{a.ID, b.ID} {
				if containsWord(series, id) {
					t.Errorf("%s: series %s carries user id %s", where, series, id)
				}
			}
		}
	}

	t.Run("deploy files use only exported metrics", func(t *testing.T) {
		names := map[string]bool{"up": true} // Prometheus adds up to every target
		for _, s := range after {
			for n := range s.Names() {
				names[n] = true
			}
		}
		uses, err := metricstest.DeployNames(filepath.Join(stacktest.Root(t), "deploy"))
		if err != nil {
			t.Fatal(err)
		}
		if len(uses) == 0 {
			t.Fatal("the deploy files use no metric")
		}
		for _, u := range uses {
			if !names[u.Metric] {
				t.Errorf("%s: %s uses %s, which no service exports", u.File, u.Where, u.Metric)
			}
		}
	})
}

// containsWord reports whether id stands in s between non-digits.
func containsWord(s, id string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], id)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(id)
		if (j == 0 || !isDigit(s[j-1])) && (end == len(s) || !isDigit(s[end])) {
			return true
		}
		i = j + 1
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
