// Package runner is the skeleton every PrivateIM binary's main shares: a
// context that SIGINT and SIGTERM cancel, a JSON logger on stderr, -h that
// exits 0, an error that is logged and exits 1; and the level filter the
// binary puts on that logger once its configuration is read.
//
// It imports only the standard library.
package runner

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// Run is a binary's work: it serves until ctx is done and returns nil after
// a clean shutdown. log passes every level (Run filters it with Level once
// it knows the configured one); args are the arguments without the program
// name; getenv is os.Getenv, or a map in tests.
type Run func(ctx context.Context, log *slog.Logger, args []string, getenv func(string) string) error

// Main runs run as the program name and exits with its status: 0 after a
// clean shutdown or -h, 1 after an error (logged as "<name> stopped").
func Main(name string, run Run) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Exec(ctx, name, run, os.Args[1:], os.Getenv, os.Stderr)
	stop() // os.Exit skips deferred calls
	os.Exit(code)
}

// Exec is Main without the signals and the exit: it runs run with a JSON
// logger on stderr and returns the exit status.
func Exec(ctx context.Context, name string, run Run, args []string, getenv func(string) string, stderr io.Writer) int {
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	err := run(ctx, log, args, getenv)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	default:
		log.Error(name+" stopped", "err", err)
		return 1
	}
}

// Level returns log dropping records below min.
func Level(log *slog.Logger, min slog.Leveler) *slog.Logger {
	return slog.New(MinLevel(log.Handler(), min))
}

// MinLevel returns h dropping records below min before they reach it. The
// binaries' handlers pass every level so that the configured one, known
// only after the configuration is read, decides.
func MinLevel(h slog.Handler, min slog.Leveler) slog.Handler {
	return minLevel{min: min, Handler: h}
}

type minLevel struct {
	min slog.Leveler
	slog.Handler
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min.Level() && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.min, h.Handler.WithAttrs(as)}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.min, h.Handler.WithGroup(name)}
}

// Start logs "starting" with the configuration, builds the service from it
// with newService and runs it until ctx is done: the end of every service's
// run once its configuration is loaded and log filtered to its level. The
// service's Run serves until ctx is done, then shuts down in order; it
// returns nil after a clean shutdown.
func Start[C any, S interface{ Run(context.Context) error }](ctx context.Context, log *slog.Logger, cfg C, newService func(C, *slog.Logger) (S, error)) error {
	log.Info("starting", "config", cfg)
	s, err := newService(cfg, log)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}
