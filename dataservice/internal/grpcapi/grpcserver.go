package grpcapi

import (
	"context"
	"log/slog"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
)

// MaxMessageBytes bounds a request or response: a batch of 1000 messages
// of a few KiB each fits, a runaway one does not.
const MaxMessageBytes = 16 << 20

// Server is the DataService's grpc.Server with its health service. The
// binary and the tests build it the same way, through NewServer.
type Server struct {
	GRPC   *grpc.Server
	Health *health.Server
	deps   Deps
}

// NewServer builds a grpc.Server with creds (mutual TLS), keepalive,
// message size limits, the logging/recovering interceptor, the six
// DataService services, health (NOT_SERVING until SetServing) and
// reflection (so grpcurl works with the dev certificates).
func NewServer(d Deps, creds credentials.TransportCredentials) *Server {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	gs := grpc.NewServer(
		grpc.Creds(creds),
		grpc.MaxRecvMsgSize(MaxMessageBytes),
		grpc.MaxSendMsgSize(MaxMessageBytes),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionIdle: 15 * time.Minute,
			Time:              30 * time.Second, // ping an idle client
			Timeout:           10 * time.Second, // and drop it when the ping goes unanswered
		}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             10 * time.Second,
			PermitWithoutStream: true,
		}),
		grpc.ChainUnaryInterceptor(UnaryInterceptor(d.Log)),
	)
	Register(gs, d)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(gs, hs)
	reflection.Register(gs)
	s := &Server{GRPC: gs, Health: hs, deps: d}
	s.SetServing(false)
	return s
}

// SetServing sets the overall health ("") and each DataService service's.
func (s *Server) SetServing(ok bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if ok {
		st = healthpb.HealthCheckResponse_SERVING
	}
	s.Health.SetServingStatus("", st)
	for name := range s.GRPC.GetServiceInfo() {
		if name != healthpb.Health_ServiceDesc.ServiceName {
			s.Health.SetServingStatus(name, st)
		}
	}
}

// Serve serves lis until Shutdown; it returns nil after a shutdown.
func (s *Server) Serve(lis net.Listener) error {
	err := s.GRPC.Serve(lis)
	if err == grpc.ErrServerStopped {
		return nil
	}
	return err
}

// Shutdown stops in order: health NOT_SERVING for good (so balancers move
// away), then a graceful stop that lets calls in flight finish, cut short
// by Stop once ctx is done. The stores are the caller's to close after.
func (s *Server) Shutdown(ctx context.Context) {
	s.Health.Shutdown()
	done := make(chan struct{})
	go func() {
		s.GRPC.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.deps.Log.Warn("graceful stop timed out; closing the calls still running")
		s.GRPC.Stop()
		<-done
	}
}

// WatchStores pings both stores every interval and reports NOT_SERVING
// while either fails, SERVING once both answer again. It returns when ctx
// is done. Health.Shutdown makes later updates no-ops, so a watch still
// running during shutdown cannot flip the status back.
func (s *Server) WatchStores(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	serving := true
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, interval)
		err := s.deps.Relational.Ping(pctx)
		if err == nil {
			err = s.deps.Documents.Ping(pctx)
		}
		cancel()
		if ctx.Err() != nil {
			return
		}
		if ok := err == nil; ok != serving {
			serving = ok
			if ok {
				s.deps.Log.Info("stores reachable again: serving")
			} else {
				s.deps.Log.Error("stores unreachable: not serving", "err", err)
			}
			s.SetServing(ok)
		}
	}
}
