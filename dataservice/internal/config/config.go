// Package config is the DataService's one configuration: every setting,
// its default, its flag and its environment variable, filled in one place
// (Load). Flags override the environment, which overrides the defaults.
// Secrets (the MySQL password, Mongo credentials) are masked when the
// Config is logged.
package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/privateim/privateim/foundation/config"
	"github.com/privateim/privateim/foundation/tlsconfig"
)

// Config of the dataservice binary.
type Config struct {
	GRPCAddr        string          // GRPC_ADDR / -grpc-addr
	MySQLDSN        string          // MYSQL_DSN / -mysql-dsn (secret: password)
	DocBackend      string          // DOC_BACKEND / -doc-backend: mysql or mongo
	MongoURI        string          // MONGO_URI / -mongo-uri (secret: credentials)
	MongoDB         string          // MONGO_DB / -mongo-db
	TLS             tlsconfig.Files // TLS_CA, TLS_CERT, TLS_KEY / -tls-ca, -tls-cert, -tls-key: its own certificate (identity dataservice)
	Reflection      bool            // GRPC_REFLECTION / -grpc-reflection
	MetricsAddr     string          // METRICS_ADDR: GET /metrics (Prometheus); "" = off
	Env             string          // ENV / -env: development or production
	SnowflakeNode   int64           // SNOWFLAKE_NODE / -snowflake-node: 0..1023
	LogLevel        slog.Level      // LOG_LEVEL / -log-level: debug, info, warn, error
	ShutdownTimeout time.Duration   // SHUTDOWN_TIMEOUT / -shutdown-timeout: graceful stop deadline
	HealthInterval  time.Duration   // HEALTH_INTERVAL / -health-interval: store ping period, 0 = off
	NoticeFlush     time.Duration   // NOTICE_FLUSH_INTERVAL / -notice-flush-interval: group notice outbox retry period
}

// Backends of the document role.
const (
	BackendMySQL = "mysql"
	BackendMongo = "mongo"
)

// settings is the table Load fills the Config from and LogValue logs.
var settings = []config.Setting[Config]{
	config.Var("GRPC_ADDR", "grpc-addr", ":9090", "gRPC listen address", config.String(func(c *Config) *string { return &c.GRPCAddr })),
	config.Var("MYSQL_DSN", "mysql-dsn", "root@tcp(127.0.0.1:3306)/privateim", "MySQL DSN (go-sql-driver format); the database is created when missing", config.String(func(c *Config) *string { return &c.MySQLDSN })),
	config.Var("DOC_BACKEND", "doc-backend", BackendMySQL, "document store: mysql or mongo", config.String(func(c *Config) *string { return &c.DocBackend })),
	config.Var("MONGO_URI", "mongo-uri", "", "MongoDB URI (doc-backend=mongo)", config.String(func(c *Config) *string { return &c.MongoURI })),
	config.Var("MONGO_DB", "mongo-db", "privateim", "MongoDB database", config.String(func(c *Config) *string { return &c.MongoDB })),
	config.Var("TLS_CA", "tls-ca", "certs/ca.pem", "CA that signs client certificates", config.String(func(c *Config) *string { return &c.TLS.CA })),
	config.Var("TLS_CERT", "tls-cert", "certs/dataservice.pem", "the DataService's certificate (URI SAN spiffe://privateim/dataservice)", config.String(func(c *Config) *string { return &c.TLS.Cert })),
	config.Var("TLS_KEY", "tls-key", "certs/dataservice-key.pem", "its key", config.String(func(c *Config) *string { return &c.TLS.Key })),
	config.Var("GRPC_REFLECTION", "grpc-reflection", "false", "serve gRPC server reflection (grpcurl without .proto files); make run turns it on", config.Bool(func(c *Config) *bool { return &c.Reflection })),
	config.MetricsVar(func(c *Config) *string { return &c.MetricsAddr }),
	config.EnvVar(func(c *Config) *string { return &c.Env }),
	config.Var("SNOWFLAKE_NODE", "snowflake-node", "1", "snowflake node id, 0..1023, unique per running instance", config.Int64(func(c *Config) *int64 { return &c.SnowflakeNode })),
	config.Var("LOG_LEVEL", "log-level", "info", "debug, info, warn or error", config.Level(func(c *Config) *slog.Level { return &c.LogLevel })),
	config.Var("SHUTDOWN_TIMEOUT", "shutdown-timeout", "10s", "how long a graceful stop waits for calls in flight", config.Duration(func(c *Config) *time.Duration { return &c.ShutdownTimeout })),
	config.Var("HEALTH_INTERVAL", "health-interval", "2s", "how often the stores are pinged for the health service (0: never)", config.Duration(func(c *Config) *time.Duration { return &c.HealthInterval })),
	config.Var("NOTICE_FLUSH_INTERVAL", "notice-flush-interval", "5s", "how often group notices whose append failed are appended again", config.Duration(func(c *Config) *time.Duration { return &c.NoticeFlush })),
}

// Load fills a Config from the defaults, then getenv, then args (without
// the program name). -h prints the usage to usage and returns flag.ErrHelp.
func Load(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	c, err := config.Load("dataservice", settings, args, getenv, usage)
	if err != nil {
		return c, err
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
	if c.NoticeFlush <= 0 {
		errs = append(errs, errors.New("notice-flush-interval must be > 0"))
	}
	if c.HealthInterval < 0 {
		errs = append(errs, errors.New("health-interval must be >= 0"))
	}
	if c.Env == config.Production {
		errs = append(errs, tlsconfig.CheckProduction(c.TLS), c.checkProductionCredentials())
	}
	return errors.Join(errs...)
}

// checkProductionCredentials refuses databases reached without a
// password: the default MYSQL_DSN (root with none) is a developer's
// MariaDB. A unix socket is let through (the server may authenticate the
// OS user, unix_socket), and so is a Mongo URI naming an authMechanism
// without a password (MONGODB-X509, MONGODB-AWS, GSSAPI). Errors show the
// settings masked.
func (c Config) checkProductionCredentials() error {
	var errs []error
	if d, err := mysql.ParseDSN(c.MySQLDSN); err == nil && d.Passwd == "" && d.Net != "unix" {
		errs = append(errs, fmt.Errorf("mysql-dsn (MYSQL_DSN) %s: no password; production needs the database's own credentials (the default root without a password is for a developer's machine)", config.Mask(c.MySQLDSN)))
	}
	if c.DocBackend == BackendMongo && c.MongoURI != "" {
		u, err := url.Parse(c.MongoURI)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("mongo-uri (MONGO_URI) %s: not a URI", config.Mask(c.MongoURI)))
		case u.Query().Get("authMechanism") != "":
		default:
			if _, ok := u.User.Password(); !ok || u.User.Username() == "" {
				errs = append(errs, fmt.Errorf("mongo-uri (MONGO_URI) %s: no user and password (nor an authMechanism); production needs the database's own credentials", config.Mask(c.MongoURI)))
			}
		}
	}
	return errors.Join(errs...)
}

// LogValue logs the Config from the settings table, the credentials in
// the MySQL DSN and the Mongo URI masked.
func (c Config) LogValue() slog.Value { return config.LogValue(settings, &c) }
