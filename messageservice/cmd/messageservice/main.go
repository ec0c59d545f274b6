// Command messageservice serves PrivateIM's chat over WebSocket (HTTP_ADDR,
// :8081, GET /ws; docs/websocket.md) and the internal gRPC API (GRPC_ADDR,
// :9091, mutual TLS). It reaches data only through the DataService and
// checks tokens with the userservice. Configuration: flags or environment,
// see -h.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/privateim/privateim/foundation/runner"
	"github.com/privateim/privateim/messageservice/internal/config"
	"github.com/privateim/privateim/messageservice/internal/server"
)

func main() { runner.Main("messageservice", run) }

// run serves until ctx is done, then shuts down in order (server.Run). It
// returns nil after a clean shutdown.
func run(ctx context.Context, log *slog.Logger, args []string, getenv func(string) string) error {
	cfg, err := config.Load(args, getenv, os.Stderr)
	if err != nil {
		return err
	}
	return runner.Start(ctx, runner.Level(log, cfg.LogLevel), cfg, server.New)
}
