// Package metrics is the Prometheus side of every PrivateIM binary
// (docs/operations.md, "Metrics"): one Registry per service instance (never
// the global default one, so that several nodes in one test process keep
// their own series), the Go and process collectors, RED metrics of gRPC
// servers and clients (interceptors) and of HTTP handlers by route
// template (gin and net/http middleware), and the listener that serves
// GET /metrics apart from the public API (METRICS_ADDR).
//
// Names follow Prometheus conventions: units in the name (_seconds,
// _bytes), counters end in _total, labels take bounded values only (a
// method, a route template, a code; never a user or a path with ids).
//
// It imports the standard library, client_golang and grpc only (gin's
// middleware is foundation/httpkit.Metrics).
package metrics

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes the metrics PrivateIM defines itself.
const Namespace = "privateim"

// LatencyBuckets are the histogram buckets of request and store latency,
// in seconds: 0.5 ms to 10 s.
var LatencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Registry is one service instance's metrics. Its zero value is not
// usable: make one with New.
type Registry struct {
	*prometheus.Registry
	grpcServer, grpcClient *grpcMetrics // made on first use
	http                   *httpMetrics
}

// New makes a Registry with the Go runtime and process collectors, and
// the gauge privateim_build_info{service} = 1 naming the binary.
func New(service string) *Registry {
	r := &Registry{Registry: prometheus.NewRegistry()}
	r.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "build_info", Help: "Always 1; the service label names the binary.",
			ConstLabels: prometheus.Labels{"service": service},
		}, func() float64 { return 1 }),
	)
	return r
}

// Handler serves the registry in the Prometheus text format (and
// OpenMetrics when asked).
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.Registry, promhttp.HandlerOpts{Registry: r.Registry, EnableOpenMetrics: true})
}

// Server is the metrics listener: GET /metrics on its own address, never
// on the public API's.
type Server struct {
	http *http.Server
	lis  net.Listener
}

// Listen listens on addr for GET /metrics of r. The caller runs Serve and,
// at shutdown, Close.
func Listen(addr string, r *Registry) (*Server, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen metrics %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", r.Handler())
	return &Server{lis: lis, http: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}}, nil
}

// Addr is where the listener listens; "" for a nil Server (none).
func (s *Server) Addr() string {
	if s == nil {
		return ""
	}
	return s.lis.Addr().String()
}

// Serve serves until Close; it returns nil then.
func (s *Server) Serve() error {
	if err := s.http.Serve(s.lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close stops serving (a scrape in flight is cut: scrapes are retried).
// A nil Server has nothing to close.
func (s *Server) Close(context.Context) error {
	if s == nil {
		return nil
	}
	err := s.http.Close()
	s.lis.Close()
	return err
}

// Start listens on addr and serves r there in the background until
// Close, and logs {"msg":"metrics","addr":...}; with addr empty it
// returns a nil Server (Addr "", Close a no-op).
func Start(addr string, r *Registry, log *slog.Logger) (*Server, error) {
	if addr == "" {
		return nil, nil
	}
	s, err := Listen(addr, r)
	if err != nil {
		return nil, err
	}
	go func() { _ = s.Serve() }() // ends at Close
	log.Info("metrics", "addr", s.Addr())
	return s, nil
}

// DB registers the connection pool statistics of db (database/sql DBStats:
// go_sql_open_connections, go_sql_wait_duration_seconds_total, ...) with
// the label db_name=name.
func (r *Registry) DB(db *sql.DB, name string) {
	r.MustRegister(collectors.NewDBStatsCollector(db, name))
}
