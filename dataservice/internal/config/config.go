// Package config is the DataService's one configuration: every setting,
// its default, its flag and its environment variable, filled in one place
// (Load). Flags override the environment, which overrides the defaults.
// Secrets (the MySQL password, Mongo credentials) are masked when the
// Config is logged.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/privateim/privateim/foundation/tlsconfig"
)

// Config of the dataservice binary.
type Config struct {
	GRPCAddr        string          // GRPC_ADDR / -grpc-addr
	MySQLDSN        string          // MYSQL_DSN / -mysql-dsn (secret: password)
	DocBackend      string          // DOC_BACKEND / -doc-backend: mysql or mongo
	MongoURI        string          // MONGO_URI / -mongo-uri (secret: credentials)
	MongoDB         string          // MONGO_DB / -mongo-db
	TLS             tlsconfig.Files // TLS_CA, TLS_CERT, TLS_KEY / -tls-ca, -tls-cert, -tls-key
	SnowflakeNode   int64           // SNOWFLAKE_NODE / -snowflake-node: 0..1023
	LogLevel        slog.Level      // LOG_LEVEL / -log-level: debug, info, warn, error
	ShutdownTimeout time.Duration   // SHUTDOWN_TIMEOUT / -shutdown-timeout: graceful stop deadline
	HealthInterval  time.Duration   // HEALTH_INTERVAL / -health-interval: store ping period, 0 = off
}

// Backends of the document role.
const (
	BackendMySQL = "mysql"
	BackendMongo = "mongo"
)

// setting is one row of the table Load fills the Config from.
type setting struct {
	env, flag, def, usage string
	set                   func(*Config, string) error
}

func str(p func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *p(c) = v; return nil }
}

func dur(p func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		*p(c) = d
		return nil
	}
}

var settings = []setting{
	{"GRPC_ADDR", "grpc-addr", ":9090", "gRPC listen address", str(func(c *Config) *string { return &c.GRPCAddr })},
	{"MYSQL_DSN", "mysql-dsn", "root@tcp(127.0.0.1:3306)/privateim", "MySQL DSN (go-sql-driver format); the database is created when missing", str(func(c *Config) *string { return &c.MySQLDSN })},
	{"DOC_BACKEND", "doc-backend", BackendMySQL, "document store: mysql or mongo", str(func(c *Config) *string { return &c.DocBackend })},
	{"MONGO_URI", "mongo-uri", "", "MongoDB URI (doc-backend=mongo)", str(func(c *Config) *string { return &c.MongoURI })},
	{"MONGO_DB", "mongo-db", "privateim", "MongoDB database", str(func(c *Config) *string { return &c.MongoDB })},
	{"TLS_CA", "tls-ca", "certs/ca.pem", "CA that signs client certificates", str(func(c *Config) *string { return &c.TLS.CA })},
	{"TLS_CERT", "tls-cert", "certs/server.pem", "server certificate", str(func(c *Config) *string { return &c.TLS.Cert })},
	{"TLS_KEY", "tls-key", "certs/server-key.pem", "server key", str(func(c *Config) *string { return &c.TLS.Key })},
	{"SNOWFLAKE_NODE", "snowflake-node", "1", "snowflake node id, 0..1023, unique per running instance", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return err
		}
		c.SnowflakeNode = n
		return nil
	}},
	{"LOG_LEVEL", "log-level", "info", "debug, info, warn or error", func(c *Config, v string) error {
		return c.LogLevel.UnmarshalText([]byte(v))
	}},
	{"SHUTDOWN_TIMEOUT", "shutdown-timeout", "10s", "how long a graceful stop waits for calls in flight", dur(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
	{"HEALTH_INTERVAL", "health-interval", "2s", "how often the stores are pinged for the health service (0: never)", dur(func(c *Config) *time.Duration { return &c.HealthInterval })},
}

// Load fills a Config from the defaults, then getenv, then args (without
// the program name). -h prints the usage to usage and returns flag.ErrHelp.
func Load(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("dataservice", flag.ContinueOnError)
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
			return c, fmt.Errorf("-%s / %s %q: %w", s.flag, s.env, *values[i], err)
		}
	}
	return c, c.validate()
}

func (c Config) validate() error {
	var errs []error
	if c.GRPCAddr == "" {
		errs = append(errs, errors.New("grpc-addr is empty"))
	}
	if _, err := mysql.ParseDSN(c.MySQLDSN); err != nil {
		errs = append(errs, fmt.Errorf("mysql-dsn: %w", err))
	}
	switch c.DocBackend {
	case BackendMySQL:
	case BackendMongo:
		if c.MongoURI == "" {
			errs = append(errs, errors.New("doc-backend mongo needs mongo-uri (MONGO_URI)"))
		}
		if c.MongoDB == "" {
			errs = append(errs, errors.New("mongo-db is empty"))
		}
	default:
		errs = append(errs, fmt.Errorf("doc-backend %q: want mysql or mongo", c.DocBackend))
	}
	if c.SnowflakeNode < 0 || c.SnowflakeNode > 1023 {
		errs = append(errs, fmt.Errorf("snowflake-node %d: want 0..1023", c.SnowflakeNode))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("shutdown-timeout must be > 0"))
	}
	if c.HealthInterval < 0 {
		errs = append(errs, errors.New("health-interval must be >= 0"))
	}
	return errors.Join(errs...)
}

const mask = "xxxxx"

// LogValue logs the Config with secrets masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("grpc_addr", c.GRPCAddr),
		slog.String("mysql_dsn", MaskDSN(c.MySQLDSN)),
		slog.String("doc_backend", c.DocBackend),
		slog.String("mongo_uri", MaskURI(c.MongoURI)),
		slog.String("mongo_db", c.MongoDB),
		slog.String("tls_ca", c.TLS.CA),
		slog.String("tls_cert", c.TLS.Cert),
		slog.String("tls_key", c.TLS.Key),
		slog.Int64("snowflake_node", c.SnowflakeNode),
		slog.String("log_level", c.LogLevel.String()),
		slog.String("shutdown_timeout", c.ShutdownTimeout.String()),
		slog.String("health_interval", c.HealthInterval.String()),
	)
}

// MaskDSN hides the password of a MySQL DSN.
func MaskDSN(dsn string) string {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return mask // unparsable: it may still hold a password
	}
	if cfg.Passwd != "" {
		cfg.Passwd = mask
	}
	return cfg.FormatDSN()
}

// MaskURI hides the credentials of a MongoDB URI.
func MaskURI(uri string) string {
	if uri == "" {
		return ""
	}
	u, err := url.Parse(uri)
	if err != nil {
		return mask
	}
	if u.User != nil {
		u.User = url.UserPassword(u.User.Username(), mask)
	}
	// Credentials can also come as query options (e.g. for some auth mechanisms).
	q := u.Query()
	for k := range q {
		if strings.Contains(strings.ToLower(k), "password") || strings.Contains(strings.ToLower(k), "secret") {
			q.Set(k, mask)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}
