// Package server assembles the messageservice from its Config, the way the
// binary runs it: the DataService and userservice clients, NATS (embedded
// or external; always TLS with a credential, foundation/natsauth) with the
// relation-event subscription and the cluster
// (registry and routing between nodes sharing that NATS), the chat service, the
// WebSocket server on HTTP_ADDR (GET /ws, /healthz, /readyz) and the
// internal gRPC server on GRPC_ADDR (foundation/grpcserver: mTLS, health,
// the MessageService API).
//
// Shutdown order: /readyz and gRPC health say not serving -> every
// WebSocket closed with 1001 "going away" -> HTTP shutdown -> gRPC stop ->
// chat service, NATS and the clients closed.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"sync/atomic"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/privateim/privateim/foundation/audit"
	fconfig "github.com/privateim/privateim/foundation/config"
	"github.com/privateim/privateim/foundation/grpcserver"
	"github.com/privateim/privateim/foundation/metrics"
	"github.com/privateim/privateim/foundation/natsauth"
	"github.com/privateim/privateim/foundation/runner"
	"github.com/privateim/privateim/foundation/tlsconfig"
	messagev1 "github.com/privateim/privateim/protos/message/v1"

	"github.com/privateim/privateim/messageservice/internal/chat"
	"github.com/privateim/privateim/messageservice/internal/cluster"
	"github.com/privateim/privateim/messageservice/internal/config"
	"github.com/privateim/privateim/messageservice/internal/datastore"
	"github.com/privateim/privateim/messageservice/internal/events"
	"github.com/privateim/privateim/messageservice/internal/grpcapi"
	"github.com/privateim/privateim/messageservice/internal/nodemetrics"
	"github.com/privateim/privateim/messageservice/internal/wsconn"
)

// Server is one messageservice node.
type Server struct {
	cfg     config.Config
	log     *slog.Logger
	data    *datastore.Client
	auth    *datastore.Auth
	ns      *natsserver.Server // nil with an external NATS
	nc      *nats.Conn
	chat    *chat.Service
	cluster *cluster.Cluster
	ws      *wsconn.Server
	http    *http.Server
	pprof   *http.Server // nil unless PprofAddr is set
	grpc    *grpcserver.Server
	ready   atomic.Bool
	reg     *metrics.Registry
	metrics *metrics.Server // nil unless MetricsAddr is set

	httpLis, grpcLis, pprofLis net.Listener
}

// New connects and listens; Run serves. On error everything opened is
// closed again.
func New(cfg config.Config, log *slog.Logger) (*Server, error) {
	return NewOn(cfg, log, nil)
}

// NewOn is New serving the internal gRPC API on grpcLis, a socket the
// caller already listens on (nil: listen on cfg.GRPCAddr). The Server owns
// grpcLis from the call on, also when NewOn fails. Tests use it to name a
// node's address to another process before the node starts without giving
// the port up in between (another socket could take it meanwhile).
func NewOn(cfg config.Config, log *slog.Logger, grpcLis net.Listener) (_ *Server, err error) {
	s := &Server{cfg: cfg, log: log, grpcLis: grpcLis}
	defer func() {
		if err != nil {
			for _, l := range []net.Listener{s.httpLis, s.grpcLis, s.pprofLis} {
				if l != nil {
					l.Close()
				}
			}
			if s.metrics != nil {
				s.metrics.Close(context.Background())
			}
			s.closeAll()
		}
	}()
	s.reg = metrics.New("messageservice")
	node := nodemetrics.New(s.reg)
	if s.data, err = datastore.Dial(cfg.DataAddr, cfg.ClientTLS, s.reg.GRPCDialOptions()...); err != nil {
		return nil, err
	}
	if s.auth, err = datastore.DialAuth(cfg.UserAddr, cfg.ClientTLS, s.reg.GRPCDialOptions()...); err != nil {
		return nil, err
	}
	url := cfg.NATSURL
	if url == "" {
		if cfg.NATSAuth.IsZero() {
			// Nobody configured a credential: only this process knows it.
			cfg.NATSAuth = natsauth.Generate("messageservice")
		}
		if s.ns, err = startNATS(cfg); err != nil {
			return nil, err
		}
		url = s.ns.ClientURL()
		log.Info("embedded nats", "url", url, "events_user", cfg.NATSEvents.User)
	}
	if s.nc, err = cfg.NATSClient(url).Connect(nats.Name("messageservice "+cfg.NodeID), nats.MaxReconnects(-1), nats.NoEcho(),
		nats.ReconnectHandler(func(*nats.Conn) {
			log.Info("nats reconnected; relation caches reread")
			if s.chat != nil {
				s.chat.ForgetCaches()
				s.chat.RecheckAll() // revocations may have been missed too
			}
		}),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if !nc.IsClosed() { // not our own Close at shutdown
				log.Warn("nats disconnected", "err", err)
			}
		}),
		// Permission violations and slow consumers arrive here: a node
		// whose credential lacks a subject says so instead of going quiet.
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { log.Warn("nats", "err", err) }),
	); err != nil {
		return nil, fmt.Errorf("connect nats %s: %w", fconfig.Mask(url), err)
	}
	// The cluster is built with the chat service as its local node and is
	// the service's Router: no setter, no nil cluster.
	if s.chat, err = chat.New(log, s.data, chat.Options{
		RetryInterval: cfg.RetryInterval, MaxTries: cfg.MaxTries,
		SendRate: cfg.SendRate, SendBurst: cfg.SendBurst, CacheTTL: cfg.CacheTTL, RelationCache: cfg.RelationCache, Files: cfg.FileBase,
		TypingMaxMembers: cfg.TypingMaxMembers, RecallWindow: cfg.RecallWindow, EditWindow: cfg.EditWindow, EditHistory: cfg.EditHistory,
		Frames: chat.FrameLimits{
			PerConn: chat.Rate(cfg.FramesPerConn), PerUser: chat.Rate(cfg.FramesPerUser),
			Read: chat.Rate(cfg.ReadRate), Sync: chat.Rate(cfg.SyncRate), Abuse: chat.Rate(cfg.RefusedRate),
			Ack: chat.Rate(cfg.AckRate), Typing: chat.Rate(cfg.TypingRate),
		},
		Tokens:  s.auth,
		Metrics: node,
		Join: func(local *chat.Service) (chat.Router, error) {
			c, err := cluster.Start(log, s.nc, local, cluster.Options{NodeID: cfg.NodeID, Heartbeat: cfg.ClusterHeartbeat, Metrics: node})
			if err != nil {
				return nil, err
			}
			s.cluster = c
			return c, nil
		},
	}); err != nil {
		return nil, err
	}
	if _, err = events.Subscribe(log, s.nc, s.chat.ApplyRelation); err != nil {
		return nil, err
	}
	s.ws = wsconn.NewServer(log, s.auth, func(c *wsconn.Conn, user int64, device string, cred chat.Credentials) wsconn.Session {
		return s.chat.Open(c, user, device, cred)
	}, wsconn.Options{
		MaxFrameBytes: cfg.MaxFrameBytes, SendQueue: cfg.SendQueue,
		PingInterval: cfg.PingInterval, IdleTimeout: cfg.IdleTimeout, BadToken: datastore.ErrBadToken,
		Metrics: node,
	})
	s.reg.MustRegister(statsCollector{s})
	mux := http.NewServeMux()
	mux.Handle("GET /ws", s.ws)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	s.http = &http.Server{
		Handler: s.reg.HTTP(mux),
		// Until the upgrade; net/http clears the deadlines of a hijacked
		// connection and wsconn sets its own (IDLE_TIMEOUT, writes).
		ReadHeaderTimeout: cfg.HTTP.ReadHeader,
		ReadTimeout:       cfg.HTTP.Read,
		WriteTimeout:      cfg.HTTP.Write,
		IdleTimeout:       cfg.HTTP.Idle,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	creds, err := tlsconfig.ServerCredentials(cfg.TLS)
	if err != nil {
		return nil, fmt.Errorf("server tls: %w", err)
	}
	s.grpc = grpcserver.New(creds, grpcserver.Options{Allow: grpcapi.Access, Log: log, Reflection: cfg.Reflection, Server: s.reg.GRPCServerOptions()})
	messagev1.RegisterMessageServiceServer(s.grpc, grpcapi.New(log, s.chat, cfg.NodeID, s.pruneOptions(), nil))
	messagev1.RegisterAdminServer(s.grpc, grpcapi.NewAdmin(log, s.chat, cfg.NodeID, audit.New(log, s.data, tlsconfig.MessageService)))
	if s.httpLis, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, fmt.Errorf("listen http %s: %w", cfg.HTTPAddr, err)
	}
	if s.grpcLis == nil {
		if s.grpcLis, err = net.Listen("tcp", cfg.GRPCAddr); err != nil {
			return nil, fmt.Errorf("listen grpc %s: %w", cfg.GRPCAddr, err)
		}
	}
	if cfg.PprofAddr != "" {
		if s.pprofLis, err = net.Listen("tcp", cfg.PprofAddr); err != nil {
			return nil, fmt.Errorf("listen pprof %s: %w", cfg.PprofAddr, err)
		}
		s.pprof = &http.Server{Handler: pprofMux(), ReadHeaderTimeout: 10 * time.Second}
	}
	if cfg.MetricsAddr != "" {
		if s.metrics, err = metrics.Listen(cfg.MetricsAddr, s.reg); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// pprofMux serves net/http/pprof on its own mux, never on the public one.
func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// startNATS starts the embedded NATS server on cfg.NATSListen: mutual TLS
// with the node's server certificate and CA, and two users, this node
// (cfg.NATSAuth, which other nodes joining it use too) and the
// relation-event publisher (cfg.NATSEvents, when set), each limited to its
// subjects (foundation/natsauth).
func startNATS(cfg config.Config) (*natsserver.Server, error) {
	host, portStr, err := net.SplitHostPort(cfg.NATSListen)
	if err != nil {
		return nil, fmt.Errorf("nats-listen %q: %w", cfg.NATSListen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("nats-listen %q: port: %w", cfg.NATSListen, err)
	}
	if port == 0 {
		port = -1 // a random free port
	}
	tlsc, err := tlsconfig.Server(cfg.TLS)
	if err != nil {
		return nil, fmt.Errorf("embedded nats tls: %w", err)
	}
	users := []natsauth.User{{Role: natsauth.Node, Auth: cfg.NATSAuth}}
	if !cfg.NATSEvents.IsZero() {
		users = append(users, natsauth.User{Role: natsauth.Publisher, Auth: cfg.NATSEvents})
	}
	opts, err := natsauth.ServerOptions(host, port, tlsc, users)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	ns, err := natsserver.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("embedded nats on %s did not start", cfg.NATSListen)
	}
	return ns, nil
}

func (s *Server) pruneOptions() chat.PruneOptions {
	return chat.PruneOptions{MaxAge: s.cfg.PruneMaxAge, MaxNodes: s.cfg.PruneMaxNodes, Percent: s.cfg.PrunePercent}
}

// pruneDaily prunes the cached group and subscription nodes every day at
// PruneHour (UTC) until ctx ends.
func (s *Server) pruneDaily(ctx context.Context) {
	if s.cfg.PruneHour < 0 {
		return
	}
	for {
		now := time.Now().UTC()
		next := time.Date(now.Year(), now.Month(), now.Day(), s.cfg.PruneHour, 0, 0, 0, time.UTC)
		if !next.After(now) {
			next = next.AddDate(0, 0, 1)
		}
		t := time.NewTimer(next.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		g, sub := s.chat.Prune(time.Now(), s.pruneOptions())
		s.log.Info("daily pruning", "groups", g, "subscriptions", sub)
	}
}

// HTTPAddr is where GET /ws listens.
func (s *Server) HTTPAddr() string { return s.httpLis.Addr().String() }

// GRPCAddr is where the internal gRPC API listens.
func (s *Server) GRPCAddr() string { return s.grpcLis.Addr().String() }

// MetricsAddr is where GET /metrics listens ("" when METRICS_ADDR is not set).
func (s *Server) MetricsAddr() string {
	if s.metrics == nil {
		return ""
	}
	return s.metrics.Addr()
}

// Chat is the node's chat service (tests read its Stats).
func (s *Server) Chat() *chat.Service { return s.chat }

// Cluster is the node's view of the cluster.
func (s *Server) Cluster() *cluster.Cluster { return s.cluster }

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if !s.ready.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"shutting down"}`))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := errors.Join(s.data.Check(ctx), s.auth.Check(ctx)); err != nil {
		s.log.Warn("not ready", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"dependencies unavailable"}`))
		return
	}
	_, _ = w.Write([]byte(`{"status":"ready"}`))
}

// Run serves until ctx ends, then shuts down in order. It returns nil
// after a clean shutdown.
func (s *Server) Run(ctx context.Context) error {
	serving := runner.Serve(
		runner.HTTPServer("http", s.http, s.httpLis),
		runner.Server{Name: "grpc", Serve: func() error { return s.grpc.Serve(s.grpcLis) }},
	)
	if s.pprof != nil {
		go func() { _ = s.pprof.Serve(s.pprofLis) }() // ends at Close below
		defer s.pprof.Close()
		s.log.Info("pprof", "addr", s.pprofLis.Addr().String())
	}
	if s.metrics != nil {
		go func() { _ = s.metrics.Serve() }() // ends at Close below
		defer s.metrics.Close(context.Background())
		s.log.Info("metrics", "addr", s.metrics.Addr())
	}
	pruneCtx, stopPrune := context.WithCancel(ctx)
	pruned := make(chan struct{})
	go func() { defer close(pruned); s.pruneDaily(pruneCtx) }()
	defer func() { stopPrune(); <-pruned }()
	s.ready.Store(true)
	s.grpc.SetServing(true)
	s.log.Info("listening", "http", s.HTTPAddr(), "grpc", s.GRPCAddr(), "node", s.cfg.NodeID)

	failed := serving.Wait(ctx)
	err := errors.Join(failed, runner.Shutdown(ctx, s.log, s.cfg.ShutdownTimeout,
		runner.Do("readiness off", func() {
			s.ready.Store(false)
			s.grpc.SetServing(false)
		}),
		runner.Step{Name: "websockets", Stop: func(ctx context.Context) error {
			if err := s.ws.CloseAll(ctx, s.cfg.DrainSpread); err != nil {
				s.log.Warn("websockets did not all close in time", "err", err)
			}
			return nil
		}},
		runner.StopHTTP(s.log, "http", s.http),
		runner.Step{Name: "grpc", Stop: func(ctx context.Context) error { s.grpc.Shutdown(ctx); return nil }},
		runner.Step{Name: "servers", Stop: serving.Stopped},
		runner.Do("clients", s.closeAll),
	))
	if err == nil {
		s.log.Info("stopped")
	}
	return err
}

// closeAll closes what New opened, in reverse order.
func (s *Server) closeAll() {
	if s.cluster != nil {
		s.cluster.Close()
	}
	if s.chat != nil {
		s.chat.Close()
	}
	if s.nc != nil {
		s.nc.Close()
	}
	if s.ns != nil {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
	}
	if s.auth != nil {
		s.auth.Close()
	}
	if s.data != nil {
		s.data.Close()
	}
}
