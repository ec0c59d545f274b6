package metrics

import (
	"bufio"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// httpMetrics are the RED metrics of an HTTP server by route template:
// http_server_requests_total{route,method,code} and
// http_server_request_duration_seconds{route,method}. A request no route
// matched counts under route "unmatched", so a scan of random paths adds
// no series.
type httpMetrics struct {
	requests *prometheus.CounterVec
	seconds  *prometheus.HistogramVec
	routes   sync.Map // routeKey -> prometheus.Observer
}

type routeKey struct{ route, method string }

// Unmatched is the route label of a request no route matched.
const Unmatched = "unmatched"

func (r *Registry) httpMetrics() *httpMetrics {
	if r.http == nil {
		r.http = &httpMetrics{
			requests: prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "http_server_requests_total", Help: "HTTP requests answered, by route template, method and status code.",
			}, []string{"route", "method", "code"}),
			seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
				Name: "http_server_request_duration_seconds", Help: "Duration of HTTP requests until the handler returned, by route template and method.",
				Buckets: LatencyBuckets,
			}, []string{"route", "method"}),
		}
		r.MustRegister(r.http.requests, r.http.seconds)
	}
	return r.http
}

func (h *httpMetrics) observe(route, method string, code int, start time.Time) {
	if route == "" {
		route = Unmatched
	}
	method = boundedMethod(method)
	k := routeKey{route, method}
	o, ok := h.routes.Load(k)
	if !ok {
		o, _ = h.routes.LoadOrStore(k, h.seconds.WithLabelValues(route, method))
	}
	o.(prometheus.Observer).Observe(time.Since(start).Seconds())
	h.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
}

// boundedMethod keeps the label to the methods HTTP defines.
func boundedMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// HTTPObserver returns the function that counts one request of route
// (a template: "/api/v1/users/:id"; "" for none matched) answered with
// code, started at start: what a router's middleware calls
// (foundation/httpkit.Metrics for gin).
func (r *Registry) HTTPObserver() func(route, method string, code int, start time.Time) {
	return r.httpMetrics().observe
}

// HTTP counts every request next serves by the pattern of the
// http.ServeMux route that matched it (r.Pattern, "GET /ws"); a hijacked
// connection (a WebSocket upgrade) counts with status 101 once the
// handler returns.
func (r *Registry) HTTP(next http.Handler) http.Handler {
	if r == nil {
		return next
	}
	h := r.httpMetrics()
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, req)
		// ServeMux sets Pattern on the request it was handed.
		h.observe(req.Pattern, req.Method, sw.code(), start)
	})
}

// statusWriter remembers the status; it hijacks for WebSocket upgrades.
type statusWriter struct {
	http.ResponseWriter
	status   int
	hijacked bool
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.hijacked = true
	}
	return c, rw, err
}

func (w *statusWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) code() int {
	switch {
	case w.hijacked:
		return http.StatusSwitchingProtocols
	case w.status == 0:
		return http.StatusOK
	}
	return w.status
}
