// Package config is the messageservice's one configuration: every setting,
// its default, its flag and its environment variable, filled in one place
// (Load). Flags override the environment, which overrides the defaults.
//
// It imports only the standard library and foundation/tlsconfig.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/privateim/privateim/foundation/tlsconfig"
)

// Config of the messageservice binary. Default returns one with every default.
type Config struct {
	HTTPAddr   string          // HTTP_ADDR: GET /ws, /healthz, /readyz
	GRPCAddr   string          // GRPC_ADDR: the internal gRPC API (mTLS)
	DataAddr   string          // DATA_ADDR: the DataService
	UserAddr   string          // USER_ADDR: the userservice's Auth (CheckToken)
	TLS        tlsconfig.Files // TLS_CA, TLS_CERT, TLS_KEY: this server's side
	ClientTLS  tlsconfig.Files // TLS_CA, TLS_CLIENT_CERT, TLS_CLIENT_KEY: calling the DataService and the userservice
	NodeID     string          // NODE_ID: unique per node; default hostname:port of HTTP_ADDR
	NATSURL    string          // NATS_URL: "" = an embedded NATS server on NATSListen
	NATSListen string          // NATS_LISTEN: where the embedded NATS server listens

	SendRate      float64       // SEND_RATE: messages per second per user; 0 = no limit
	SendBurst     int           // SEND_BURST
	MaxFrameBytes int64         // MAX_FRAME_BYTES: larger client frames close the connection with 1009
	SendQueue     int           // SEND_QUEUE: frames queued per connection before it counts as a slow reader
	PingInterval  time.Duration // PING_INTERVAL
	IdleTimeout   time.Duration // IDLE_TIMEOUT: a connection silent this long is closed
	RetryInterval time.Duration // RETRY_INTERVAL: an unacked message is sent again after this
	MaxTries      int           // MAX_TRIES: sends of one message to one connection, the first included
	CacheTTL      time.Duration // CACHE_TTL: friendship and group-membership cache entries are reread after this

	ClusterHeartbeat time.Duration // CLUSTER_HEARTBEAT: nodes announce themselves this often; silent for 3 of them = gone

	PruneHour     int           // PRUNE_HOUR: hour of the day (UTC, 0..23) of the daily pruning of group and subscription nodes; -1 = never
	PruneMaxAge   time.Duration // PRUNE_MAX_AGE: nodes cached longer are pruned
	PruneMaxNodes int           // PRUNE_MAX_NODES: with more cached (of each kind) ...
	PrunePercent  int           // PRUNE_PERCENT: ... the least active percentage is pruned

	LogLevel        slog.Level    // LOG_LEVEL
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT
	DrainSpread     time.Duration // DRAIN_SPREAD: at shutdown, WebSockets are closed in waves over this
	// PprofAddr (PPROF_ADDR) serves net/http/pprof when set; off by
	// default. Bind it to 127.0.0.1: profiles show internals.
	PprofAddr string
}

type setting struct {
	env, flag, def, usage string
	set                   func(*Config, string) error
}

func str(p func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *p(c) = v; return nil }
}

func dur(p func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) (err error) { *p(c), err = time.ParseDuration(v); return err }
}

func num(p func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) (err error) { *p(c), err = strconv.Atoi(v); return err }
}

var settings = []setting{
	{"HTTP_ADDR", "http-addr", ":8081", "WebSocket and health listen address", str(func(c *Config) *string { return &c.HTTPAddr })},
	{"GRPC_ADDR", "grpc-addr", ":9091", "internal gRPC (mTLS) listen address", str(func(c *Config) *string { return &c.GRPCAddr })},
	{"DATA_ADDR", "data-addr", "127.0.0.1:9090", "DataService gRPC address", str(func(c *Config) *string { return &c.DataAddr })},
	{"USER_ADDR", "user-addr", "127.0.0.1:9092", "userservice gRPC address (token checks)", str(func(c *Config) *string { return &c.UserAddr })},
	{"TLS_CA", "tls-ca", "certs/ca.pem", "CA that signs every peer's certificate", func(c *Config, v string) error {
		c.TLS.CA, c.ClientTLS.CA = v, v
		return nil
	}},
	{"TLS_CERT", "tls-cert", "certs/server.pem", "server certificate", str(func(c *Config) *string { return &c.TLS.Cert })},
	{"TLS_KEY", "tls-key", "certs/server-key.pem", "server key", str(func(c *Config) *string { return &c.TLS.Key })},
	{"TLS_CLIENT_CERT", "tls-client-cert", "certs/client.pem", "client certificate for the DataService and the userservice", str(func(c *Config) *string { return &c.ClientTLS.Cert })},
	{"TLS_CLIENT_KEY", "tls-client-key", "certs/client-key.pem", "client key", str(func(c *Config) *string { return &c.ClientTLS.Key })},
	{"NODE_ID", "node-id", "", "unique id of this node in the cluster; empty = hostname:http-port", str(func(c *Config) *string { return &c.NodeID })},
	{"NATS_URL", "nats-url", "", "NATS URL; empty starts an embedded NATS server on nats-listen", str(func(c *Config) *string { return &c.NATSURL })},
	{"NATS_LISTEN", "nats-listen", "127.0.0.1:4250", "listen address of the embedded NATS server", str(func(c *Config) *string { return &c.NATSListen })},
	{"SEND_RATE", "send-rate", "20", "messages per second a user may send; 0 for no limit", func(c *Config, v string) (err error) {
		c.SendRate, err = strconv.ParseFloat(v, 64)
		return err
	}},
	{"SEND_BURST", "send-burst", "40", "burst of the send rate limit", num(func(c *Config) *int { return &c.SendBurst })},
	{"MAX_FRAME_BYTES", "max-frame-bytes", "65536", "largest client frame; larger ones close the connection (1009)", func(c *Config, v string) (err error) {
		c.MaxFrameBytes, err = strconv.ParseInt(v, 10, 64)
		return err
	}},
	{"SEND_QUEUE", "send-queue", "512", "frames queued per connection; a reader that falls further behind is disconnected", num(func(c *Config) *int { return &c.SendQueue })},
	{"PING_INTERVAL", "ping-interval", "30s", "how often the server pings each connection", dur(func(c *Config) *time.Duration { return &c.PingInterval })},
	{"IDLE_TIMEOUT", "idle-timeout", "60s", "a connection silent this long is closed", dur(func(c *Config) *time.Duration { return &c.IdleTimeout })},
	{"RETRY_INTERVAL", "retry-interval", "5s", "an unacked message is sent again after this", dur(func(c *Config) *time.Duration { return &c.RetryInterval })},
	{"MAX_TRIES", "max-tries", "3", "sends of one message to one connection, the first included", num(func(c *Config) *int { return &c.MaxTries })},
	{"CACHE_TTL", "cache-ttl", "1m", "friendship and membership cache entries are reread after this (relation events update them sooner)", dur(func(c *Config) *time.Duration { return &c.CacheTTL })},
	{"CLUSTER_HEARTBEAT", "cluster-heartbeat", "1s", "how often a node tells the others it is alive; three missed and it counts as gone", dur(func(c *Config) *time.Duration { return &c.ClusterHeartbeat })},
	{"PRUNE_HOUR", "prune-hour", "4", "hour of the day (UTC) of the daily pruning of cached group and subscription nodes; -1 for never", num(func(c *Config) *int { return &c.PruneHour })},
	{"PRUNE_MAX_AGE", "prune-max-age", "24h", "cached nodes older than this are pruned", dur(func(c *Config) *time.Duration { return &c.PruneMaxAge })},
	{"PRUNE_MAX_NODES", "prune-max-nodes", "100000", "when more nodes of a kind are cached ...", num(func(c *Config) *int { return &c.PruneMaxNodes })},
	{"PRUNE_PERCENT", "prune-percent", "10", "... this percentage of them, the least active, is pruned", num(func(c *Config) *int { return &c.PrunePercent })},
	{"LOG_LEVEL", "log-level", "info", "debug, info, warn or error", func(c *Config, v string) error {
		return c.LogLevel.UnmarshalText([]byte(v))
	}},
	{"SHUTDOWN_TIMEOUT", "shutdown-timeout", "10s", "how long a graceful stop waits", dur(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
	{"PPROF_ADDR", "pprof-addr", "", "serve net/http/pprof here (e.g. 127.0.0.1:6061); empty for off", str(func(c *Config) *string { return &c.PprofAddr })},
	{"DRAIN_SPREAD", "drain-spread", "2s", "at shutdown, close the WebSockets in ten waves over this (0: all at once), so clients do not reconnect elsewhere all at once", dur(func(c *Config) *time.Duration { return &c.DrainSpread })},
}

// Default returns the Config of the defaults alone. Tests start from it.
func Default() Config {
	var c Config
	for _, s := range settings {
		if err := s.set(&c, s.def); err != nil {
			panic(fmt.Sprintf("config: default of %s: %v", s.env, err))
		}
	}
	return c
}

// Load fills a Config from the defaults, then getenv, then args (without
// the program name), and validates it. -h prints the usage to usage and
// returns flag.ErrHelp.
func Load(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("messageservice", flag.ContinueOnError)
	fs.SetOutput(usage)
	values := make([]*string, len(settings))
	for i, s := range settings {
		v := s.def
		if e := getenv(s.env); e != "" {
			v = e
		}
		values[i] = fs.String(s.flag, v, fmt.Sprintf("%s (env %s)", s.usage, s.env))
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	for i, s := range settings {
		if err := s.set(&c, *values[i]); err != nil {
			return c, fmt.Errorf("-%s / %s: %w", s.flag, s.env, err)
		}
	}
	if c.NodeID == "" {
		c.NodeID = DefaultNodeID(c.HTTPAddr)
	}
	return c, c.Validate()
}

// DefaultNodeID is hostname:port of the HTTP address.
func DefaultNodeID(httpAddr string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	_, port, err := net.SplitHostPort(httpAddr)
	if err != nil {
		port = httpAddr
	}
	return host + ":" + port
}

// Validate reports every setting that cannot work.
func (c Config) Validate() error {
	var errs []error
	for _, a := range []struct{ name, v string }{{"http-addr", c.HTTPAddr}, {"grpc-addr", c.GRPCAddr}, {"data-addr", c.DataAddr}, {"user-addr", c.UserAddr}, {"node-id", c.NodeID}} {
		if a.v == "" {
			errs = append(errs, fmt.Errorf("%s is empty", a.name))
		}
	}
	if c.NATSURL == "" && c.NATSListen == "" {
		errs = append(errs, errors.New("nats-listen is empty and no nats-url is set"))
	}
	if c.SendRate < 0 || (c.SendRate > 0 && c.SendBurst < 1) {
		errs = append(errs, fmt.Errorf("send-rate %v / send-burst %d: want a rate >= 0 and, with a rate, a burst >= 1", c.SendRate, c.SendBurst))
	}
	if c.MaxFrameBytes < 1024 {
		errs = append(errs, fmt.Errorf("max-frame-bytes %d: want >= 1024", c.MaxFrameBytes))
	}
	if c.SendQueue < 16 {
		errs = append(errs, fmt.Errorf("send-queue %d: want >= 16", c.SendQueue))
	}
	if c.MaxTries < 1 {
		errs = append(errs, fmt.Errorf("max-tries %d: want >= 1", c.MaxTries))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"ping-interval", c.PingInterval}, {"idle-timeout", c.IdleTimeout}, {"retry-interval", c.RetryInterval}, {"cache-ttl", c.CacheTTL}, {"cluster-heartbeat", c.ClusterHeartbeat}, {"shutdown-timeout", c.ShutdownTimeout}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be > 0", d.name))
		}
	}
	if c.PruneHour < -1 || c.PruneHour > 23 {
		errs = append(errs, fmt.Errorf("prune-hour %d: want 0..23, or -1 for never", c.PruneHour))
	}
	if c.PruneMaxAge < 0 || c.PruneMaxNodes < 0 || c.PrunePercent < 0 || c.PrunePercent > 100 {
		errs = append(errs, errors.New("prune-max-age, prune-max-nodes must be >= 0 and prune-percent 0..100"))
	}
	if c.DrainSpread < 0 || c.DrainSpread >= c.ShutdownTimeout {
		errs = append(errs, fmt.Errorf("drain-spread %s: want >= 0 and shorter than shutdown-timeout %s", c.DrainSpread, c.ShutdownTimeout))
	}
	if c.PingInterval >= c.IdleTimeout {
		errs = append(errs, fmt.Errorf("ping-interval %s must be shorter than idle-timeout %s", c.PingInterval, c.IdleTimeout))
	}
	return errors.Join(errs...)
}

// LogValue logs the Config (it holds no secrets: keys are files).
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("http_addr", c.HTTPAddr), slog.String("grpc_addr", c.GRPCAddr),
		slog.String("data_addr", c.DataAddr), slog.String("user_addr", c.UserAddr),
		slog.String("tls_ca", c.TLS.CA), slog.String("tls_cert", c.TLS.Cert), slog.String("tls_key", c.TLS.Key),
		slog.String("tls_client_cert", c.ClientTLS.Cert), slog.String("tls_client_key", c.ClientTLS.Key),
		slog.String("node_id", c.NodeID), slog.String("nats_url", c.NATSURL), slog.String("nats_listen", c.NATSListen),
		slog.Float64("send_rate", c.SendRate), slog.Int("send_burst", c.SendBurst),
		slog.Int64("max_frame_bytes", c.MaxFrameBytes), slog.Int("send_queue", c.SendQueue),
		slog.String("ping_interval", c.PingInterval.String()), slog.String("idle_timeout", c.IdleTimeout.String()),
		slog.String("retry_interval", c.RetryInterval.String()), slog.Int("max_tries", c.MaxTries),
		slog.String("cache_ttl", c.CacheTTL.String()), slog.String("cluster_heartbeat", c.ClusterHeartbeat.String()),
		slog.Int("prune_hour", c.PruneHour), slog.String("prune_max_age", c.PruneMaxAge.String()),
		slog.Int("prune_max_nodes", c.PruneMaxNodes), slog.Int("prune_percent", c.PrunePercent),
		slog.String("log_level", c.LogLevel.String()), slog.String("shutdown_timeout", c.ShutdownTimeout.String()),
		slog.String("drain_spread", c.DrainSpread.String()), slog.String("pprof_addr", c.PprofAddr),
	)
}
