package metrics

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// grpcMetrics are the RED metrics of one side (server or client):
// grpc_<side>_handled_total{grpc_service,grpc_method,grpc_code} and
// grpc_<side>_handling_seconds{grpc_service,grpc_method}, the names of
// go-grpc-middleware's Prometheus provider, which dashboards know.
type grpcMetrics struct {
	handled *prometheus.CounterVec
	seconds *prometheus.HistogramVec
	methods sync.Map // full method -> *methodMetrics
}

// methodMetrics are one method's series, resolved once: a call costs no
// label hashing.
type methodMetrics struct {
	service, method string
	seconds         prometheus.Observer
	codes           [codes.Unauthenticated + 1]atomic.Pointer[prometheus.Counter]
	handled         *prometheus.CounterVec
}

func newGRPCMetrics(reg prometheus.Registerer, side string) *grpcMetrics {
	m := &grpcMetrics{
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grpc_" + side + "_handled_total", Help: "gRPC calls completed (" + side + " side), by method and status code.",
		}, []string{"grpc_service", "grpc_method", "grpc_code"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "grpc_" + side + "_handling_seconds", Help: "Duration of gRPC calls (" + side + " side) until the status, by method.",
			Buckets: LatencyBuckets,
		}, []string{"grpc_service", "grpc_method"}),
	}
	reg.MustRegister(m.handled, m.seconds)
	return m
}

func (g *grpcMetrics) method(full string) *methodMetrics {
	if mm, ok := g.methods.Load(full); ok {
		return mm.(*methodMetrics)
	}
	service, method := splitMethod(full)
	mm := &methodMetrics{service: service, method: method, seconds: g.seconds.WithLabelValues(service, method), handled: g.handled}
	actual, _ := g.methods.LoadOrStore(full, mm)
	return actual.(*methodMetrics)
}

// done counts a call that ended with err after start.
func (mm *methodMetrics) done(start time.Time, err error) {
	mm.seconds.Observe(time.Since(start).Seconds())
	code := status.Code(err)
	if int(code) >= len(mm.codes) {
		code = codes.Unknown
	}
	p := mm.codes[code].Load()
	if p == nil {
		c := mm.handled.WithLabelValues(mm.service, mm.method, code.String())
		p = &c
		mm.codes[code].Store(p)
	}
	(*p).Inc()
}

// splitMethod splits "/pkg.Service/Method".
func splitMethod(full string) (service, method string) {
	full = strings.TrimPrefix(full, "/")
	if i := strings.LastIndexByte(full, '/'); i >= 0 {
		return full[:i], full[i+1:]
	}
	return "unknown", full
}

// GRPCServerOptions are the interceptors that count every call a gRPC
// server handles; pass them to grpcserver.Options.Server. The allow-list
// runs before them: a denied call is counted (PermissionDenied) like any.
func (r *Registry) GRPCServerOptions() []grpc.ServerOption {
	if r == nil {
		return nil
	}
	if r.grpcServer == nil {
		r.grpcServer = newGRPCMetrics(r, "server")
	}
	g := r.grpcServer
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			start := time.Now()
			resp, err := handler(ctx, req)
			g.method(info.FullMethod).done(start, err)
			return resp, err
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
			start := time.Now()
			err := handler(srv, ss)
			g.method(info.FullMethod).done(start, err)
			return err
		}),
	}
}

// GRPCDialOptions are the interceptors that count every unary call a
// client makes (streams: until the stream is open).
func (r *Registry) GRPCDialOptions() []grpc.DialOption {
	if r == nil {
		return nil
	}
	if r.grpcClient == nil {
		r.grpcClient = newGRPCMetrics(r, "client")
	}
	g := r.grpcClient
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			start := time.Now()
			err := invoker(ctx, method, req, reply, cc, opts...)
			g.method(method).done(start, err)
			return err
		}),
		grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			start := time.Now()
			s, err := streamer(ctx, desc, cc, method, opts...)
			g.method(method).done(start, err)
			return s, err
		}),
	}
}
