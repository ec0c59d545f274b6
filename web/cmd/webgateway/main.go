// Command webgateway serves PrivateIM's web app (built into the binary with
// go:embed) and reverse-proxies the services' public APIs at the same
// origin: /api/... and /static/... to the userservice, /sub/... to the
// subscriptionservice, /ws to the message nodes (docs/web.md).
// Configuration: flags or environment, see -h.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/privateim/privateim/foundation/runner"
	"github.com/privateim/privateim/web/app"
	"github.com/privateim/privateim/web/internal/config"
	"github.com/privateim/privateim/web/internal/gateway"
)

func main() { runner.Main("webgateway", run) }

// run serves until ctx is done, then shuts down in order (gateway.Run). It
// returns nil after a clean shutdown.
func run(ctx context.Context, log *slog.Logger, args []string, getenv func(string) string) error {
	cfg, err := config.Load(args, getenv, os.Stderr)
	if err != nil {
		return err
	}
	return runner.Start(ctx, runner.Level(log, cfg.LogLevel), cfg, newServer)
}

func newServer(cfg config.Config, log *slog.Logger) (*gateway.Server, error) {
	if !app.Built() {
		log.Warn("the web app is not built: its pages say to run scripts/web.sh", "dir", "web/app/dist")
	}
	return gateway.Listen(log, gateway.ServerConfig{
		Addr:       cfg.HTTPAddr,
		ReadHeader: cfg.HTTP.ReadHeader, Read: cfg.HTTP.Read, Write: cfg.HTTP.Write, Idle: cfg.HTTP.Idle,
		ShutdownTimeout: cfg.ShutdownTimeout,
		Upstreams:       gateway.Upstreams{User: cfg.UserURL, Subscription: cfg.SubscriptionURL, Messages: cfg.MessageURLs},
		App:             app.Files(),
	})
}
