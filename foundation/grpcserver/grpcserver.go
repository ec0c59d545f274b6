// Package grpcserver is the internal gRPC server of a service: mutual TLS,
// a per-method allow-list on the peer certificate's identity (Allow), the
// gRPC health service reporting every registered service, server
// reflection when asked for, and a graceful shutdown with a deadline. It
// also holds the one table from foundation/errs kinds to gRPC codes
// (Status), so that each service's grpcapi translates errors the same way.
//
// It imports grpc, foundation/errs and foundation/tlsconfig only; never a
// service or protos/.
package grpcserver

import (
	"context"
	"errors"
	"log/slog"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
)

// Options are the choices of a server beyond its credentials.
type Options struct {
	// Allow is who may call which method; nil lets only the operator call
	// anything but health.
	Allow Allow
	// Log receives the calls the allow-list denies; nil discards them.
	Log *slog.Logger
	// Reflection registers server reflection, so grpcurl needs no .proto
	// files. Off unless a service's config turns it on: it hands anyone
	// with a certificate the map of the API.
	Reflection bool
	// Server are more options of the grpc.Server: message size limits,
	// keepalive, interceptors.
	Server []grpc.ServerOption
}

// Server is a gRPC server with its health service. Register the APIs on
// it (it is a grpc.ServiceRegistrar) before Serve.
type Server struct {
	grpc     *grpc.Server
	health   *health.Server
	services []string // registered service names, reported by SetServing
	methods  []string // registered full methods, for Unlisted
	allow    Allow
}

var _ grpc.ServiceRegistrar = (*Server)(nil)

// New builds a server with creds; it reports NOT_SERVING until
// SetServing(true).
func New(creds credentials.TransportCredentials, o Options) *Server {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	// The allow-list runs first, before any interceptor of o.Server: a
	// denied call reaches nothing of the service.
	opts := append([]grpc.ServerOption{
		grpc.Creds(creds),
		grpc.ChainUnaryInterceptor(o.Allow.unary(o.Log)),
		grpc.ChainStreamInterceptor(o.Allow.stream(o.Log)),
	}, o.Server...)
	s := &Server{grpc: grpc.NewServer(opts...), health: health.NewServer(), allow: o.Allow}
	healthpb.RegisterHealthServer(s.grpc, s.health)
	if o.Reflection {
		reflection.Register(s.grpc)
	}
	s.SetServing(false)
	return s
}

// RegisterService registers an API and has SetServing report on it.
func (s *Server) RegisterService(desc *grpc.ServiceDesc, impl any) {
	s.grpc.RegisterService(desc, impl)
	s.services = append(s.services, desc.ServiceName)
	for _, m := range desc.Methods {
		s.methods = append(s.methods, "/"+desc.ServiceName+"/"+m.MethodName)
	}
	for _, m := range desc.Streams {
		s.methods = append(s.methods, "/"+desc.ServiceName+"/"+m.StreamName)
	}
	s.health.SetServingStatus(desc.ServiceName, healthpb.HealthCheckResponse_NOT_SERVING)
}

// Serve accepts on lis until Shutdown.
func (s *Server) Serve(lis net.Listener) error {
	if err := s.grpc.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

// SetServing sets the health status of the server ("") and of every
// registered service.
func (s *Server) SetServing(ok bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if ok {
		st = healthpb.HealthCheckResponse_SERVING
	}
	s.health.SetServingStatus("", st)
	for _, name := range s.services {
		s.health.SetServingStatus(name, st)
	}
}

// Shutdown reports NOT_SERVING, then stops gracefully; when ctx ends first
// the calls still running are cut.
func (s *Server) Shutdown(ctx context.Context) {
	s.health.Shutdown()
	Stop(ctx, s.grpc)
}

// Stop stops srv gracefully, waiting for the calls in flight; when ctx
// ends first they are cut.
func Stop(ctx context.Context, srv *grpc.Server) {
	done := make(chan struct{})
	go func() {
		srv.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		srv.Stop()
		<-done
	}
}
