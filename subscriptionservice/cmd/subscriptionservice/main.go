// Command subscriptionservice serves PrivateIM's public HTTP API for
// subscription accounts and their articles (HTTP_ADDR, :8082) and the
// internal gRPC Subscriptions service for other teams' services (GRPC_ADDR,
// :9093, mutual TLS). It reaches data only through the DataService, checks
// tokens with the userservice and pushes published articles through the
// MessageService. Configuration: flags or environment, see -h.
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/privateim/privateim/subscriptionservice/internal/config"
	"github.com/privateim/privateim/subscriptionservice/internal/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The handler passes every level; run filters by the configured one.
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if err := run(ctx, log, os.Args[1:], os.Getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		log.Error("subscriptionservice stopped", "err", err)
		stop()
		os.Exit(1)
	}
}

// run serves until ctx is done, then shuts down in order (server.Run). It
// returns nil after a clean shutdown.
func run(ctx context.Context, log *slog.Logger, args []string, getenv func(string) string) error {
	cfg, err := config.Load(args, getenv, os.Stderr)
	if err != nil {
		return err
	}
	log = slog.New(minLevel{min: cfg.LogLevel, Handler: log.Handler()})
	log.Info("starting", "config", cfg)
	s, err := server.New(cfg, log)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}

// minLevel drops records below min before they reach Handler.
type minLevel struct {
	min slog.Level
	slog.Handler
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.min, h.Handler.WithAttrs(as)}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.min, h.Handler.WithGroup(name)}
}
