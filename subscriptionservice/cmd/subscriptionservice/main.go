// Command subscriptionservice serves PrivateIM's public HTTP API for
// subscription accounts and their articles (HTTP_ADDR, :8082) and the
// internal gRPC Subscriptions service for other teams' services (GRPC_ADDR,
// :9093, mutual TLS). It reaches data only through the DataService, checks
// tokens with the userservice and pushes published articles through the
// MessageService. Configuration: flags or environment, see -h.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/privateim/privateim/foundation/runner"
	"github.com/privateim/privateim/subscriptionservice/internal/config"
	"github.com/privateim/privateim/subscriptionservice/internal/server"
)

func main() { runner.Main("subscriptionservice", run) }

// run serves until ctx is done, then shuts down in order (server.Run). It
// returns nil after a clean shutdown.
func run(ctx context.Context, log *slog.Logger, args []string, getenv func(string) string) error {
	cfg, err := config.Load(args, getenv, os.Stderr)
	if err != nil {
		return err
	}
	return runner.Start(ctx, runner.Level(log, cfg.LogLevel), cfg, server.New)
}
