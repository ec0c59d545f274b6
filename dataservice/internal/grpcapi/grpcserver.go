package grpcapi

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"

	"github.com/privateim/privateim/foundation/grpcserver"
)

// MaxMessageBytes bounds a request or response: a batch of 1000 messages
// of a few KiB each fits, a runaway one does not.
const MaxMessageBytes = 16 << 20

// Server is the DataService's gRPC server: foundation/grpcserver's (Serve,
// SetServing for the overall health and each DataService service's,
// Shutdown) with the store watch. The binary and the tests build it the
// same way, through NewServer.
type Server struct {
	*grpcserver.Server
	deps Deps
}

// NewServer builds a gRPC server with creds (mutual TLS), keepalive,
// message size limits, the allow-list of Access, the logging/recovering
// interceptor, the six DataService services, health (NOT_SERVING until
// SetServing) and reflection when asked for (GRPC_REFLECTION, so grpcurl
// works with the dev certificates).
// opts come first, outside the logging/recovering interceptor (metrics and
// tracing see a panic's Internal).
func NewServer(d Deps, creds credentials.TransportCredentials, reflection bool, opts ...grpc.ServerOption) *Server {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	gs := grpcserver.New(creds, grpcserver.Options{Allow: Access, Log: d.Log, Reflection: reflection, Server: append(opts,
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
	)})
	Register(gs, d)
	return &Server{Server: gs, deps: d}
}

// Shutdown stops in order: health NOT_SERVING for good (so balancers move
// away), then a graceful stop that lets calls in flight finish, cut short
// once ctx is done. The stores are the caller's to close after.
func (s *Server) Shutdown(ctx context.Context) {
	s.Server.Shutdown(ctx)
	if ctx.Err() != nil {
		s.deps.Log.Warn("graceful stop timed out; closing the calls still running")
	}
}

// FlushGroupNotices appends, every interval, the group notices whose
// change committed but whose append did not happen (a failed document
// store, a stop in between): those older than interval, so a change's own
// append in flight is not raced. It returns when ctx is done.
func (s *Server) FlushGroupNotices(ctx context.Context, interval time.Duration) {
	b := &base{rel: s.deps.Relational, docs: s.deps.Documents, ids: s.deps.IDs, log: s.deps.Log, clock: s.deps.Now}
	if b.clock == nil {
		b.clock = time.Now
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := b.flushGroupNotices(ctx, interval)
		switch {
		case err != nil && ctx.Err() == nil:
			s.deps.Log.Warn("flush group notices", "err", err)
		case n > 0:
			s.deps.Log.Info("flushed group notices", "appended", n)
		}
	}
}

// WatchStores pings both stores every interval and reports NOT_SERVING
// while either fails, SERVING once both answer again. It returns when ctx
// is done. Shutdown makes later health updates no-ops, so a watch still
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
