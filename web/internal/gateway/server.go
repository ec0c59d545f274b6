package gateway

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/privateim/privateim/foundation/runner"
)

// ServerConfig is what a Server needs; the webgateway fills it from its
// Config.
type ServerConfig struct {
	Addr            string
	ReadHeader      time.Duration
	Read, Write     time.Duration
	Idle            time.Duration
	ShutdownTimeout time.Duration
	Upstreams       Upstreams
	App             fs.FS
}

// Server is the gateway listening.
type Server struct {
	log     *slog.Logger
	cfg     ServerConfig
	lis     net.Listener
	srv     *http.Server
	cutConn context.CancelFunc // ends every proxied WebSocket (their requests' base context)
}

// Listen opens the listener, so Addr is known before Run serves.
func Listen(log *slog.Logger, cfg ServerConfig) (*Server, error) {
	lis, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen http %s: %w", cfg.Addr, err)
	}
	// An upgraded connection is hijacked: http.Server.Shutdown neither
	// waits for it nor closes it. The reverse proxy closes the node's side
	// when the request's context ends, so ending the base context ends
	// every proxied WebSocket; their clients reconnect elsewhere.
	base, cut := context.WithCancel(context.Background())
	s := &Server{log: log, cfg: cfg, lis: lis, cutConn: cut}
	s.srv = &http.Server{
		Handler:           New(log, cfg.Upstreams, cfg.App),
		ReadHeaderTimeout: cfg.ReadHeader, ReadTimeout: cfg.Read, WriteTimeout: cfg.Write, IdleTimeout: cfg.Idle,
		BaseContext: func(net.Listener) context.Context { return base },
		ErrorLog:    slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// Addr is the address the gateway listens on.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// Run serves until ctx is done, then shuts down in order within
// ShutdownTimeout: HTTP Shutdown (requests in flight finish, new ones are
// refused), then the proxied WebSockets are cut. It returns nil after a
// clean shutdown.
func (s *Server) Run(ctx context.Context) error {
	_, built := fs.Stat(s.cfg.App, "index.html")
	s.log.Info("listening", "http", s.Addr(), "app_built", built == nil)
	serving := runner.Serve(runner.HTTPServer("http", s.srv, s.lis))
	serveErr := serving.Wait(ctx)
	stopErr := runner.Shutdown(ctx, s.log, s.cfg.ShutdownTimeout,
		runner.StopHTTP(s.log, "http", s.srv),
		runner.Do("websockets", s.cutConn),
		runner.Step{Name: "serving", Stop: serving.Stopped},
	)
	if serveErr != nil {
		return serveErr
	}
	return stopErr
}
