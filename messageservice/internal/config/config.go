// Package config is the messageservice's one configuration: every setting,
// its default, its flag and its environment variable, filled in one place
// (Load). Flags override the environment, which overrides the defaults.
//
// It imports only the standard library, foundation/config (the loader),
// foundation/natsauth and foundation/tlsconfig.
package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/privateim/privateim/foundation/config"
	"github.com/privateim/privateim/foundation/fileurl"
	"github.com/privateim/privateim/foundation/natsauth"
	"github.com/privateim/privateim/foundation/tlsconfig"
)

// Config of the messageservice binary. Default returns one with every default.
type Config struct {
	HTTPAddr   string          // HTTP_ADDR: GET /ws, /healthz, /readyz
	GRPCAddr   string          // GRPC_ADDR: the internal gRPC API (mTLS)
	DataAddr   string          // DATA_ADDR: the DataService
	UserAddr   string          // USER_ADDR: the userservice's Auth (CheckToken)
	TLS        tlsconfig.Files // TLS_CA, TLS_CERT, TLS_KEY: its own certificate (identity messageservice), served
	ClientTLS  tlsconfig.Files // the same files, presented calling the DataService and the userservice
	Reflection bool            // GRPC_REFLECTION
	Env        string          // ENV: development or production
	NodeID     string          // NODE_ID: unique per node; default hostname:port of HTTP_ADDR
	NATSURL    string          // NATS_URL: "" = an embedded NATS server on NATSListen
	NATSListen string          // NATS_LISTEN: where the embedded NATS server listens
	// NATSAuth (NATS_USER, NATS_PASSWORD or NATS_NKEY_SEED) is this node's
	// NATS credential. With the embedded server it is also the one other
	// nodes use to join it; empty there, one is generated at start.
	NATSAuth natsauth.Auth
	// NATSEvents (NATS_EVENTS_USER, NATS_EVENTS_PASSWORD) is the
	// credential the embedded server gives the relation-event publisher
	// (the userservice); empty: nobody may publish them.
	NATSEvents natsauth.Auth
	NATSCA     string // NATS_CA: the CA that signs the NATS server's certificate; "" = TLS_CA

	SendRate      float64       // SEND_RATE: messages per second per user; 0 = no limit
	SendBurst     int           // SEND_BURST
	MaxFrameBytes int64         // MAX_FRAME_BYTES: larger client frames close the connection with 1009
	SendQueue     int           // SEND_QUEUE: frames queued per connection before it counts as a slow reader
	PingInterval  time.Duration // PING_INTERVAL
	IdleTimeout   time.Duration // IDLE_TIMEOUT: a connection silent this long is closed
	RetryInterval time.Duration // RETRY_INTERVAL: an unacked message is sent again after this
	MaxTries      int           // MAX_TRIES: sends of one message to one connection, the first included
	CacheTTL      time.Duration // CACHE_TTL: friendship and group-membership cache entries are reread after this
	RelationCache int           // RELATION_CACHE: friendship rows cached, least recently used out first
	// TypingMaxMembers (TYPING_MAX_MEMBERS): groups with more members get no typing frames.
	TypingMaxMembers int
	// RecallWindow (RECALL_WINDOW): a sender recalls a message this long
	// after sending it; group owners and admins at any time.
	RecallWindow time.Duration
	// EditWindow (EDIT_WINDOW): a sender edits a text message this long
	// after sending it.
	EditWindow time.Duration
	// EditHistory (EDIT_HISTORY): an edit keeps the message's previous
	// content for its sender and a group's owner and admins (the versions
	// frame) until the message is recalled; off by default.
	EditHistory bool
	FileBase    fileurl.Base // FILE_BASE_URL: the file store (the userservice's PUBLIC_URL + /static/); image and file message urls must be under it

	// Frame rate limits (docs/websocket.md, "Rate limits"), each "rate,burst".
	FramesPerConn Rate // FRAME_RATE_CONN: every frame of one connection
	FramesPerUser Rate // FRAME_RATE_USER: every frame of one user's connections on this node
	ReadRate      Rate // READ_RATE: read frames per user
	SyncRate      Rate // SYNC_RATE: sync frames per user
	AckRate       Rate // ACK_RATE: ack frames per user
	TypingRate    Rate // TYPING_RATE: typing frames per user
	RefusedRate   Rate // REFUSED_RATE: refused frames a connection may send before it is closed (4008)

	// HTTP (HTTP_READ_HEADER_TIMEOUT, HTTP_READ_TIMEOUT, HTTP_WRITE_TIMEOUT,
	// HTTP_IDLE_TIMEOUT) are the HTTP server's timeouts until the upgrade;
	// a WebSocket's own are IdleTimeout and the write deadline of each frame.
	HTTP config.HTTPTimeouts

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
	// MetricsAddr (METRICS_ADDR) serves GET /metrics (Prometheus) when
	// set; off by default (docs/operations.md, "Metrics").
	MetricsAddr string
}

// Rate is PerSecond events a second in bursts of Burst; written
// "rate,burst" ("100,200"), or "0" / "off" for no limit.
type Rate struct {
	PerSecond float64
	Burst     int
}

func (r Rate) String() string {
	if r.PerSecond <= 0 {
		return "off"
	}
	return strconv.FormatFloat(r.PerSecond, 'g', -1, 64) + "," + strconv.Itoa(r.Burst)
}

// ParseRate reads "rate,burst", "0" or "off".
func ParseRate(s string) (Rate, error) {
	if s == "0" || s == "off" {
		return Rate{}, nil
	}
	r, b, ok := strings.Cut(s, ",")
	if !ok {
		return Rate{}, errors.New(`want "rate,burst" (events a second, most at once), e.g. "100,200", or "off"`)
	}
	var out Rate
	var err error
	if out.PerSecond, err = strconv.ParseFloat(r, 64); err != nil || out.PerSecond <= 0 {
		return Rate{}, fmt.Errorf("rate %q: want a number > 0", r)
	}
	if out.Burst, err = strconv.Atoi(b); err != nil || out.Burst < 1 {
		return Rate{}, fmt.Errorf("burst %q: want a whole number >= 1", b)
	}
	return out, nil
}

// settings is the table Load fills the Config from and LogValue logs.
var settings = slices.Concat([]config.Setting[Config]{
	config.Var("HTTP_ADDR", "http-addr", ":8081", "WebSocket and health listen address", config.String(func(c *Config) *string { return &c.HTTPAddr })),
	config.Var("GRPC_ADDR", "grpc-addr", ":9091", "internal gRPC (mTLS) listen address", config.String(func(c *Config) *string { return &c.GRPCAddr })),
	config.Var("DATA_ADDR", "data-addr", "127.0.0.1:9090", "DataService gRPC address", config.String(func(c *Config) *string { return &c.DataAddr })),
	config.Var("USER_ADDR", "user-addr", "127.0.0.1:9092", "userservice gRPC address (token checks)", config.String(func(c *Config) *string { return &c.UserAddr })),
	config.Var("TLS_CA", "tls-ca", "certs/ca.pem", "CA that signs every peer's certificate", config.String(func(c *Config) *string { return &c.TLS.CA }, func(c *Config) *string { return &c.ClientTLS.CA })),
	config.Var("TLS_CERT", "tls-cert", "certs/messageservice.pem", "the messageservice's certificate (URI SAN spiffe://privateim/messageservice), served and presented to the DataService and the userservice", config.String(func(c *Config) *string { return &c.TLS.Cert }, func(c *Config) *string { return &c.ClientTLS.Cert })),
	config.Var("TLS_KEY", "tls-key", "certs/messageservice-key.pem", "its key", config.String(func(c *Config) *string { return &c.TLS.Key }, func(c *Config) *string { return &c.ClientTLS.Key })),
	config.Var("GRPC_REFLECTION", "grpc-reflection", "false", "serve gRPC server reflection (grpcurl without .proto files); make run turns it on", config.Bool(func(c *Config) *bool { return &c.Reflection })),
	config.EnvVar(func(c *Config) *string { return &c.Env }),
	config.Var("NODE_ID", "node-id", "", "unique id of this node in the cluster; empty = hostname:http-port", config.String(func(c *Config) *string { return &c.NodeID })),
	config.Var("NATS_URL", "nats-url", "", "NATS URL; empty starts an embedded NATS server on nats-listen", config.String(func(c *Config) *string { return &c.NATSURL })),
	config.Var("NATS_LISTEN", "nats-listen", "127.0.0.1:4250", "listen address of the embedded NATS server", config.String(func(c *Config) *string { return &c.NATSListen })),
	config.Var("NATS_USER", "nats-user", "", "NATS user of this node (with nats-password); empty with the embedded server: generated at start", config.String(func(c *Config) *string { return &c.NATSAuth.User })),
	config.Var("NATS_PASSWORD", "nats-password", "", "NATS password of nats-user", config.Secret(config.String(func(c *Config) *string { return &c.NATSAuth.Password }))),
	config.Var("NATS_NKEY_SEED", "nats-nkey-seed", "", "file holding this node's NATS nkey seed (instead of nats-user)", config.String(func(c *Config) *string { return &c.NATSAuth.NKeySeed })),
	config.Var("NATS_EVENTS_USER", "nats-events-user", "", "embedded NATS: the user that may publish relation events (the userservice's nats-user); empty for none", config.String(func(c *Config) *string { return &c.NATSEvents.User })),
	config.Var("NATS_EVENTS_PASSWORD", "nats-events-password", "", "embedded NATS: the password of nats-events-user", config.Secret(config.String(func(c *Config) *string { return &c.NATSEvents.Password }))),
	config.Var("NATS_CA", "nats-ca", "", "CA of the NATS server's certificate; empty for tls-ca", config.String(func(c *Config) *string { return &c.NATSCA })),
	config.Var("SEND_RATE", "send-rate", "20", "messages per second a user may send; 0 for no limit", config.Float64(func(c *Config) *float64 { return &c.SendRate })),
	config.Var("SEND_BURST", "send-burst", "40", "burst of the send rate limit", config.Int(func(c *Config) *int { return &c.SendBurst })),
	config.Var("MAX_FRAME_BYTES", "max-frame-bytes", "65536", "largest client frame; larger ones close the connection (1009)", config.Int64(func(c *Config) *int64 { return &c.MaxFrameBytes })),
	config.Var("SEND_QUEUE", "send-queue", "512", "frames queued per connection; a reader that falls further behind is disconnected", config.Int(func(c *Config) *int { return &c.SendQueue })),
	config.Var("PING_INTERVAL", "ping-interval", "30s", "how often the server pings each connection", config.Duration(func(c *Config) *time.Duration { return &c.PingInterval })),
	config.Var("IDLE_TIMEOUT", "idle-timeout", "60s", "a connection silent this long is closed", config.Duration(func(c *Config) *time.Duration { return &c.IdleTimeout })),
	config.Var("RETRY_INTERVAL", "retry-interval", "5s", "an unacked message is sent again after this", config.Duration(func(c *Config) *time.Duration { return &c.RetryInterval })),
	config.Var("MAX_TRIES", "max-tries", "3", "sends of one message to one connection, the first included", config.Int(func(c *Config) *int { return &c.MaxTries })),
	config.Var("CACHE_TTL", "cache-ttl", "1m", "friendship and membership cache entries are reread after this (relation events update them sooner)", config.Duration(func(c *Config) *time.Duration { return &c.CacheTTL })),
	config.Var("FILE_BASE_URL", "file-base-url", "http://127.0.0.1:8080/static/", "the file store's base URL (the userservice's PUBLIC_URL + /static/): image and file messages must point at chat files under it", config.Parsed(func(c *Config) *fileurl.Base { return &c.FileBase }, fileurl.ParseBase)),
	config.Var("RELATION_CACHE", "relation-cache", "100000", "friendship rows (user pairs) cached; the least recently used is forgotten first", config.Int(func(c *Config) *int { return &c.RelationCache })),
	config.Var("TYPING_MAX_MEMBERS", "typing-max-members", "500", "groups with more members than this get no typing frames", config.Int(func(c *Config) *int { return &c.TypingMaxMembers })),
	config.Var("RECALL_WINDOW", "recall-window", "2m", "how long after sending a sender may recall a message (group owners and admins: any time)", config.Duration(func(c *Config) *time.Duration { return &c.RecallWindow })),
	config.Var("EDIT_WINDOW", "edit-window", "24h", "how long after sending a sender may edit a text message", config.Duration(func(c *Config) *time.Duration { return &c.EditWindow })),
	config.Var("EDIT_HISTORY", "edit-history", "false", "keep the previous versions of edited messages for their sender and group owners and admins (the versions frame) until a recall", config.Bool(func(c *Config) *bool { return &c.EditHistory })),
	config.Var("FRAME_RATE_CONN", "frame-rate-conn", "100,200", "client frames of any type a second per connection, and the burst (\"rate,burst\" or off)", config.Parsed(func(c *Config) *Rate { return &c.FramesPerConn }, ParseRate)),
	config.Var("FRAME_RATE_USER", "frame-rate-user", "200,400", "client frames of any type a second per user over all their connections on this node, and the burst", config.Parsed(func(c *Config) *Rate { return &c.FramesPerUser }, ParseRate)),
	config.Var("READ_RATE", "read-rate", "5,20", "read frames a second per user, and the burst", config.Parsed(func(c *Config) *Rate { return &c.ReadRate }, ParseRate)),
	config.Var("SYNC_RATE", "sync-rate", "10,40", "sync frames a second per user, and the burst", config.Parsed(func(c *Config) *Rate { return &c.SyncRate }, ParseRate)),
	config.Var("ACK_RATE", "ack-rate", "50,200", "ack frames a second per user, and the burst (acks are cumulative: ack batches)", config.Parsed(func(c *Config) *Rate { return &c.AckRate }, ParseRate)),
	config.Var("TYPING_RATE", "typing-rate", "2,10", "typing frames a second per user, and the burst", config.Parsed(func(c *Config) *Rate { return &c.TypingRate }, ParseRate)),
	config.Var("REFUSED_RATE", "refused-rate", "5,50", "refused (rate-limited) frames a connection may send a second, and the burst; one more closes it with 4008", config.Parsed(func(c *Config) *Rate { return &c.RefusedRate }, ParseRate)),
	config.Var("CLUSTER_HEARTBEAT", "cluster-heartbeat", "1s", "how often a node tells the others it is alive; three missed and it counts as gone", config.Duration(func(c *Config) *time.Duration { return &c.ClusterHeartbeat })),
	config.Var("PRUNE_HOUR", "prune-hour", "4", "hour of the day (UTC) of the daily pruning of cached group and subscription nodes; -1 for never", config.Int(func(c *Config) *int { return &c.PruneHour })),
	config.Var("PRUNE_MAX_AGE", "prune-max-age", "24h", "cached nodes older than this are pruned", config.Duration(func(c *Config) *time.Duration { return &c.PruneMaxAge })),
	config.Var("PRUNE_MAX_NODES", "prune-max-nodes", "100000", "when more nodes of a kind are cached ...", config.Int(func(c *Config) *int { return &c.PruneMaxNodes })),
	config.Var("PRUNE_PERCENT", "prune-percent", "10", "... this percentage of them, the least active, is pruned", config.Int(func(c *Config) *int { return &c.PrunePercent })),
	config.Var("LOG_LEVEL", "log-level", "info", "debug, info, warn or error", config.Level(func(c *Config) *slog.Level { return &c.LogLevel })),
	config.Var("SHUTDOWN_TIMEOUT", "shutdown-timeout", "10s", "how long a graceful stop waits", config.Duration(func(c *Config) *time.Duration { return &c.ShutdownTimeout })),
	config.Var("PPROF_ADDR", "pprof-addr", "", "serve net/http/pprof here (e.g. 127.0.0.1:6061); empty for off", config.String(func(c *Config) *string { return &c.PprofAddr })),
	config.MetricsVar(func(c *Config) *string { return &c.MetricsAddr }),
	config.Var("DRAIN_SPREAD", "drain-spread", "2s", "at shutdown, close the WebSockets in ten waves over this (0: all at once), so clients do not reconnect elsewhere all at once", config.Duration(func(c *Config) *time.Duration { return &c.DrainSpread })),
}, config.HTTPTimeoutVars(func(c *Config) *config.HTTPTimeouts { return &c.HTTP }, "30s")) // until the upgrade

// Default returns the Config of the defaults alone. Tests start from it.
func Default() Config { return config.Default(settings) }

// Load fills a Config from the defaults, then getenv, then args (without
// the program name), and validates it. -h prints the usage to usage and
// returns flag.ErrHelp.
func Load(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	c, err := config.Load("messageservice", settings, args, getenv, usage)
	if err != nil {
		return c, err
	}
	if c.NodeID == "" {
		c.NodeID = DefaultNodeID(c.HTTPAddr)
	}
	return c, c.Validate()
}

// NATSClient is how this node connects to NATS at url: its credential,
// the NATS CA, and its client certificate.
func (c Config) NATSClient(url string) natsauth.Client {
	files := c.ClientTLS
	if c.NATSCA != "" {
		files.CA = c.NATSCA
	}
	return natsauth.Client{URL: url, Auth: c.NATSAuth, TLS: files}
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
	if c.NodeID != "" {
		if err := natsauth.ValidNodeID(c.NodeID); err != nil {
			errs = append(errs, fmt.Errorf("node-id: %w", err))
		}
	}
	if err := c.NATSAuth.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("nats-user, nats-password, nats-nkey-seed: %w", err))
	}
	if err := c.NATSEvents.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("nats-events-user, nats-events-password: %w", err))
	}
	if c.NATSURL != "" && !c.NATSEvents.IsZero() {
		// The external server's own configuration says who publishes.
		errs = append(errs, errors.New("nats-events-user, nats-events-password: only for the embedded NATS server, and nats-url is set"))
	}
	if c.SendRate < 0 || (c.SendRate > 0 && c.SendBurst < 1) {
		errs = append(errs, fmt.Errorf("send-rate %v / send-burst %d: want a rate >= 0 and, with a rate, a burst >= 1", c.SendRate, c.SendBurst))
	}
	if err := c.HTTP.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.TypingMaxMembers < 1 {
		errs = append(errs, fmt.Errorf("typing-max-members %d: want >= 1", c.TypingMaxMembers))
	}
	if c.RelationCache < 1 {
		errs = append(errs, fmt.Errorf("relation-cache %d: want >= 1", c.RelationCache))
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
	}{{"ping-interval", c.PingInterval}, {"idle-timeout", c.IdleTimeout}, {"retry-interval", c.RetryInterval}, {"cache-ttl", c.CacheTTL}, {"recall-window", c.RecallWindow}, {"edit-window", c.EditWindow}, {"cluster-heartbeat", c.ClusterHeartbeat}, {"shutdown-timeout", c.ShutdownTimeout}} {
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
	if c.Env == config.Production {
		errs = append(errs, tlsconfig.CheckProduction(c.TLS))
		if c.NATSURL != "" && c.NATSAuth.IsZero() {
			// An external NATS that lets anyone in is no deployment.
			errs = append(errs, errors.New("nats-user (NATS_USER) and nats-password, or nats-nkey-seed: required in production with a nats-url"))
		}
		// A password set is the deployment's own, not a placeholder. (With
		// the embedded server and none set, the node's is generated at
		// start: 130 random bits only this process knows.)
		for _, p := range []struct{ name, v string }{
			{"nats-password (NATS_PASSWORD)", c.NATSAuth.Password},
			{"nats-events-password (NATS_EVENTS_PASSWORD)", c.NATSEvents.Password},
		} {
			if p.v != "" {
				errs = append(errs, config.ProductionSecret(p.name, p.v, MinNATSPassword))
			}
		}
		if c.PprofAddr != "" && !loopback(c.PprofAddr) {
			// Profiles show internals (and cost CPU): not for the network.
			errs = append(errs, fmt.Errorf("pprof-addr (PPROF_ADDR) %q: production serves pprof on a loopback address only (127.0.0.1:port)", c.PprofAddr))
		}
	}
	return errors.Join(errs...)
}

// MinNATSPassword is the shortest NATS password production accepts.
const MinNATSPassword = 16

// loopback reports whether addr (host:port) listens on a loopback address
// only; an empty host is every interface.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// LogValue logs the Config from the settings table: secrets (NATS
// passwords) and a NATS URL's password are masked; keys are files.
func (c Config) LogValue() slog.Value { return config.LogValue(settings, &c) }
