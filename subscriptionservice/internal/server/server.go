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

	"github.com/gin-gonic/gin"

	"github.com/privateim/privateim/foundation/tlsconfig"

	"github.com/privateim/privateim/foundation/httpkit"
	"github.com/privateim/privateim/foundation/metrics"
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
	runner.APIs // the servers, their listeners and the closers (run in reverse order after the servers stop)
	cfg         config.Config
	log         *slog.Logger
	Articles    *article.Service // exported for tests that wait on the push loop
	api         *httpkit.API
	reg         *metrics.Registry
	metrics     *metrics.Server // nil unless METRICS_ADDR is set
}

// New builds everything and opens both listeners; Run serves (and starts
// the push loop). On error whatever was opened is closed.
func New(cfg config.Config, log *slog.Logger) (_ *Server, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{APIs: runner.APIs{Timeout: cfg.ShutdownTimeout, Log: log}, cfg: cfg, log: log}
	defer s.CloseOnError(&err)

	s.reg = metrics.New("subscriptionservice")
	if s.metrics, err = metrics.Start(cfg.MetricsAddr, s.reg, log); err != nil {
		return nil, err
	}
	s.Closers.Add("metrics", s.metrics.Close) // the last to close

	data, err := datastore.Dial(cfg.DataAddr, cfg.ClientTLS, s.reg.GRPCDialOptions()...)
	if err != nil {
		return nil, err
	}
	s.Closers.Add("dataservice client", func(context.Context) error { return data.Close() })
	users, err := userclient.Dial(cfg.UserAddr, cfg.ClientTLS, s.reg.GRPCDialOptions()...)
	if err != nil {
		return nil, err
	}
	s.Closers.Add("userservice client", func(context.Context) error { return users.Close() })
	msgs, err := messenger.Dial(cfg.MessageAddr, cfg.ClientTLS, s.reg.GRPCDialOptions()...)
	if err != nil {
		return nil, err
	}
	s.Closers.Add("messageservice client", func(context.Context) error { return msgs.Close() })
	avatars, err := media.New(cfg.UploadDir, cfg.PublicURL, log)
	if err != nil {
		return nil, err
	}
	s.Closers.Add("avatars", func(context.Context) error { return avatars.Close() })

	accounts := subscription.New(data, users, avatars, log)
	s.Articles = article.New(data, msgs, log, article.Config{
		Reviewers:   cfg.ReviewerEmails,
		PushTimeout: cfg.PushTimeout,
		RetryMin:    cfg.PushRetryMin,
		RetryMax:    cfg.PushRetryMax,
	})
	// Stopped after the servers (closers run in reverse), before the
	// clients it uses close.
	s.Closers.Add("push loop", s.Articles.Close)

	s.api, err = httpkit.New(httpkit.Deps{
		Log:   log,
		Auth:  users,
		Ready: data.Check,
		Features: []httpkit.Feature{
			httpkit.OpenAPI{Doc: httpapi.OpenAPIDoc},
			httpapi.Subscriptions{Svc: accounts, Avatars: avatars},
			httpapi.Articles{Svc: s.Articles},
		},
		Outer: []gin.HandlerFunc{httpkit.Metrics(s.reg)},
	})
	if err != nil {
		return nil, fmt.Errorf("http api: %w", err)
	}
	s.SetReady = s.api.SetReady
	s.HTTP = s.api.Server(cfg.HTTP)

	creds, err := tlsconfig.ServerCredentials(cfg.TLS)
	if err != nil {
		return nil, fmt.Errorf("server tls: %w", err)
	}
	s.GRPC = grpcapi.NewServer(log, s.Articles, creds, cfg.Reflection, s.reg.GRPCServerOptions()...)

	if err := s.Listen(cfg.HTTPAddr, cfg.GRPCAddr); err != nil {
		return nil, err
	}
	return s, nil
}

// Run serves until ctx ends, then shuts down in order (see the package
// comment). It returns nil after a clean shutdown, or why serving failed.
func (s *Server) Run(ctx context.Context) error {
	// The push loop runs while the APIs serve; the closers stop it.
	s.Articles.Start()
	return s.APIs.Run(ctx)
}

// MetricsAddr is where GET /metrics listens ("" when METRICS_ADDR is not set).
func (s *Server) MetricsAddr() string { return s.metrics.Addr() }
