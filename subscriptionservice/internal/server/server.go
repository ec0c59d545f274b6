// Package server wires the subscriptionservice from a Config: the clients of
// the DataService, the userservice and the MessageService, the features,
// the public HTTP API and the internal gRPC API. The binary
// (cmd/subscriptionservice) and the tests (subtest) both start it here, so
// what is tested is what runs.
//
// Shutdown order: /readyz reports not ready, HTTP Shutdown waits for the
// requests in flight, gRPC reports NOT_SERVING and stops gracefully, the
// push loop stops, then the clients close, all within ShutdownTimeout.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/privateim/privateim/foundation/tlsconfig"

	"github.com/privateim/privateim/foundation/grpcserver"
	"github.com/privateim/privateim/foundation/httpkit"
	"github.com/privateim/privateim/foundation/runner"
	"github.com/privateim/privateim/subscriptionservice/internal/article"
	"github.com/privateim/privateim/subscriptionservice/internal/config"
	"github.com/privateim/privateim/subscriptionservice/internal/datastore"
	"github.com/privateim/privateim/subscriptionservice/internal/grpcapi"
	"github.com/privateim/privateim/subscriptionservice/internal/httpapi"
	"github.com/privateim/privateim/subscriptionservice/internal/media"
	"github.com/privateim/privateim/subscriptionservice/internal/messenger"
	"github.com/privateim/privateim/subscriptionservice/internal/subscription"
	"github.com/privateim/privateim/subscriptionservice/internal/userclient"
)

// Server is one subscriptionservice, listening once New returns.
type Server struct {
	cfg      config.Config
	log      *slog.Logger
	Articles *article.Service // exported for tests that wait on the push loop
	api      *httpkit.API
	http     *http.Server
	grpc     *grpcserver.Server
	httpLis  net.Listener
	grpcLis  net.Listener
	closers  runner.Closers // run in reverse order after the servers stop
}

// New builds everything and opens both listeners; Run serves (and starts
// the push loop). On error whatever was opened is closed.
func New(cfg config.Config, log *slog.Logger) (_ *Server, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			s.closeAll(context.Background())
		}
	}()

	data, err := datastore.Dial(cfg.DataAddr, cfg.ClientTLS)
	if err != nil {
		return nil, err
	}
	s.closers.Add("dataservice client", func(context.Context) error { return data.Close() })
	users, err := userclient.Dial(cfg.UserAddr, cfg.ClientTLS)
	if err != nil {
		return nil, err
	}
	s.closers.Add("userservice client", func(context.Context) error { return users.Close() })
	msgs, err := messenger.Dial(cfg.MessageAddr, cfg.ClientTLS)
	if err != nil {
		return nil, err
	}
	s.closers.Add("messageservice client", func(context.Context) error { return msgs.Close() })
	avatars, err := media.New(cfg.UploadDir, cfg.PublicURL, log)
	if err != nil {
		return nil, err
	}
	s.closers.Add("avatars", func(context.Context) error { return avatars.Close() })

	accounts := subscription.New(data, users, avatars, log)
	s.Articles = article.New(data, msgs, log, article.Config{
		Reviewers:   cfg.ReviewerEmails,
		PushTimeout: cfg.PushTimeout,
		RetryMin:    cfg.PushRetryMin,
		RetryMax:    cfg.PushRetryMax,
	})
	// Stopped after the servers (closers run in reverse), before the
	// clients it uses close.
	s.closers.Add("push loop", s.Articles.Close)

	s.api, err = httpkit.New(httpkit.Deps{
		Log:   log,
		Auth:  users,
		Ready: data.Check,
		Features: []httpkit.Feature{
			httpkit.OpenAPI{Doc: httpapi.OpenAPIDoc},
			httpapi.Subscriptions{Svc: accounts, Avatars: avatars},
			httpapi.Articles{Svc: s.Articles},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("http api: %w", err)
	}
	s.http = &http.Server{
		Handler:           s.api.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	creds, err := tlsconfig.ServerCredentials(cfg.TLS)
	if err != nil {
		return nil, fmt.Errorf("server tls: %w", err)
	}
	s.grpc = grpcapi.NewServer(log, s.Articles, creds)

	if s.httpLis, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, fmt.Errorf("listen http %s: %w", cfg.HTTPAddr, err)
	}
	if s.grpcLis, err = net.Listen("tcp", cfg.GRPCAddr); err != nil {
		s.httpLis.Close()
		return nil, fmt.Errorf("listen grpc %s: %w", cfg.GRPCAddr, err)
	}
	return s, nil
}

// HTTPAddr is the address the HTTP API listens on.
func (s *Server) HTTPAddr() string { return s.httpLis.Addr().String() }

// GRPCAddr is the address the gRPC API listens on.
func (s *Server) GRPCAddr() string { return s.grpcLis.Addr().String() }

// Run serves until ctx ends, then shuts down in order (see the package
// comment). It returns nil after a clean shutdown, or why serving failed.
func (s *Server) Run(ctx context.Context) error {
	// The push loop runs while the APIs serve; the closers stop it.
	s.Articles.Start()
	return runner.APIs{
		HTTP: s.http, HTTPLis: s.httpLis, GRPC: s.grpc, GRPCLis: s.grpcLis,
		SetReady: s.api.SetReady, Close: s.closeAll, Timeout: s.cfg.ShutdownTimeout,
	}.Run(ctx, s.log)
}

// closeAll runs the closers in reverse order, once.
func (s *Server) closeAll(ctx context.Context) error {
	err := runner.Stop(ctx, s.log, s.closers.Steps()...)
	s.closers = nil
	return err
}
