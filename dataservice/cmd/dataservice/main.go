// Command dataservice serves the DataService (protos/data/v1) over gRPC with
// mutual TLS, on MySQL for the relational role and MySQL or MongoDB for the
// document role. Configuration: flags or environment, see -h.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/privateim/privateim/dataservice/internal/config"
	"github.com/privateim/privateim/dataservice/internal/grpcapi"
	"github.com/privateim/privateim/dataservice/internal/snowflake"
	"github.com/privateim/privateim/dataservice/internal/store"
	"github.com/privateim/privateim/dataservice/internal/store/mongo"
	"github.com/privateim/privateim/dataservice/internal/store/mysql"
	fconfig "github.com/privateim/privateim/foundation/config"
	"github.com/privateim/privateim/foundation/metrics"
	"github.com/privateim/privateim/foundation/runner"
	"github.com/privateim/privateim/foundation/tlsconfig"
)

func main() { runner.Main("dataservice", run) }

// startTimeout bounds connecting to the stores and applying migrations.
const startTimeout = 60 * time.Second

// run serves until ctx is done, then shuts down in order: health
// NOT_SERVING, graceful stop (bounded by the shutdown timeout), stores
// closed. It returns nil after a clean shutdown.
func run(ctx context.Context, log *slog.Logger, args []string, getenv func(string) string) error {
	cfg, err := config.Load(args, getenv, os.Stderr)
	if err != nil {
		return err
	}
	log = runner.Level(log, cfg.LogLevel)
	log.Info("starting", "config", cfg)

	ids, err := snowflake.New(cfg.SnowflakeNode)
	if err != nil {
		return err
	}
	creds, err := tlsconfig.ServerCredentials(cfg.TLS)
	if err != nil {
		return fmt.Errorf("server tls: %w", err)
	}

	reg := metrics.New("dataservice")
	startCtx, cancel := context.WithTimeout(ctx, startTimeout)
	rel, docs, closeStores, err := openStores(startCtx, cfg, reg)
	cancel()
	if err != nil {
		return err
	}
	defer func() {
		if err := closeStores(); err != nil {
			log.Error("close stores", "err", err)
		}
	}()

	lis, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.GRPCAddr, err)
	}
	srv := grpcapi.NewServer(grpcapi.Deps{Relational: rel, Documents: docs, IDs: ids, Log: log}, creds, cfg.Reflection, reg.GRPCServerOptions()...)
	ms, err := metrics.Start(cfg.MetricsAddr, reg, log)
	if err != nil {
		lis.Close()
		return err
	}
	defer ms.Close(context.Background())

	serving := runner.Serve(runner.Server{Name: "grpc", Serve: func() error { return srv.Serve(lis) }})
	srv.SetServing(true)
	log.Info("listening", "addr", lis.Addr().String(), "doc_backend", cfg.DocBackend)

	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	if cfg.HealthInterval > 0 {
		go srv.WatchStores(watchCtx, cfg.HealthInterval)
	}
	go srv.FlushGroupNotices(watchCtx, cfg.NoticeFlush)

	if err := serving.Wait(ctx); err != nil {
		return err
	}
	if err := runner.Shutdown(ctx, log, cfg.ShutdownTimeout,
		runner.Do("store watch and notice flush", stopWatch),
		runner.Step{Name: "grpc", Stop: func(ctx context.Context) error { srv.Shutdown(ctx); return nil }},
		runner.Step{Name: "servers", Stop: serving.Stopped},
	); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

// openStores opens the relational store (always MySQL) and the document
// store cfg.DocBackend names, and registers the MySQL pool's statistics
// with reg. close closes both.
func openStores(ctx context.Context, cfg config.Config, reg *metrics.Registry) (store.Relational, store.Documents, func() error, error) {
	db, err := mysql.Open(ctx, cfg.MySQLDSN, mysql.Options{})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("open mysql %s: %w", fconfig.Mask(cfg.MySQLDSN), err)
	}
	reg.DB(db, "mysql")
	rel := mysql.NewRelational(db)
	var docs store.Documents
	switch cfg.DocBackend {
	case config.BackendMongo:
		md, err := mongo.Open(ctx, cfg.MongoURI, cfg.MongoDB)
		if err != nil {
			db.Close()
			return nil, nil, nil, fmt.Errorf("open mongo %s: %w", fconfig.Mask(cfg.MongoURI), err)
		}
		docs = md
	default:
		docs = mysql.NewDocuments(db)
	}
	closeAll := func() error {
		return errors.Join(docs.Close(), rel.Close(), db.Close())
	}
	return rel, docs, closeAll, nil
}
