// Command userservice serves PrivateIM's public HTTP API for accounts,
// friends, groups and follows (HTTP_ADDR, :8080) and the internal gRPC Auth
// service for the other services (GRPC_ADDR, :9092, mutual TLS). It reaches
// data only through the DataService. Configuration: flags or environment,
// see -h; JWT_SECRET is required.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/privateim/privateim/foundation/runner"
	"github.com/privateim/privateim/userservice/internal/config"
	"github.com/privateim/privateim/userservice/internal/server"
)

func main() { runner.Main("userservice", run) }

// run serves until ctx is done, then shuts down in order (server.Run). It
// returns nil after a clean shutdown.
func run(ctx context.Context, log *slog.Logger, args []string, getenv func(string) string) error {
	cfg, err := config.Load(args, getenv, os.Stderr)
	if err != nil {
		return err
	}
	return runner.Start(ctx, runner.Level(log, cfg.LogLevel), cfg, server.New)
}
