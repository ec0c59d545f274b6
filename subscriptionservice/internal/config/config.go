// Package config is the subscriptionservice's one configuration: every
// setting, its default, its flag and its environment variable, filled in one
// place (Load). Flags override the environment, which overrides the
// defaults.
//
// It imports only the standard library, foundation/config (the loader)
// and foundation/tlsconfig.
package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/privateim/privateim/foundation/config"
	"github.com/privateim/privateim/foundation/tlsconfig"
)

// Config of the subscriptionservice binary. Default returns one with every
// default.
type Config struct {
	HTTPAddr    string              // HTTP_ADDR: the public HTTP API
	HTTP        config.HTTPTimeouts // HTTP_READ_HEADER_TIMEOUT, HTTP_READ_TIMEOUT, HTTP_WRITE_TIMEOUT, HTTP_IDLE_TIMEOUT
	GRPCAddr    string              // GRPC_ADDR: the internal gRPC API (mTLS)
	DataAddr    string              // DATA_ADDR: the DataService
	UserAddr    string              // USER_ADDR: the userservice's internal gRPC (CheckToken, Directory)
	MessageAddr string              // MESSAGE_ADDR: the MessageService's internal gRPC (Broadcast)
	TLS         tlsconfig.Files     // TLS_CA, TLS_CERT, TLS_KEY: its own certificate (identity subscriptionservice), served
	ClientTLS   tlsconfig.Files     // the same files, presented calling the other services
	Reflection  bool                // GRPC_REFLECTION
	MetricsAddr string              // METRICS_ADDR: GET /metrics (Prometheus); "" = off
	Env         string              // ENV: development or production

	// ReviewerEmails (REVIEWER_EMAILS, comma separated) are the accounts
	// allowed to approve and reject articles, lower-cased.
	ReviewerEmails []string
	PublicURL      string // PUBLIC_URL: base of avatar URLs
	UploadDir      string // UPLOAD_DIR: avatars

	PushTimeout  time.Duration // PUSH_TIMEOUT: one Broadcast call
	PushRetryMin time.Duration // PUSH_RETRY_MIN: first wait before retrying failed pushes
	PushRetryMax time.Duration // PUSH_RETRY_MAX: longest wait between retries (and the sweep interval)

	LogLevel        slog.Level    // LOG_LEVEL
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT
}

// settings is the table Load fills the Config from and LogValue logs.
var settings = slices.Concat([]config.Setting[Config]{
	config.Var("HTTP_ADDR", "http-addr", ":8082", "public HTTP API listen address", config.String(func(c *Config) *string { return &c.HTTPAddr })),
	config.Var("GRPC_ADDR", "grpc-addr", ":9093", "internal gRPC (mTLS) listen address", config.String(func(c *Config) *string { return &c.GRPCAddr })),
	config.Var("DATA_ADDR", "data-addr", "127.0.0.1:9090", "DataService gRPC address", config.String(func(c *Config) *string { return &c.DataAddr })),
	config.Var("USER_ADDR", "user-addr", "127.0.0.1:9092", "userservice internal gRPC address (CheckToken, Directory)", config.String(func(c *Config) *string { return &c.UserAddr })),
	config.Var("MESSAGE_ADDR", "message-addr", "127.0.0.1:9091", "MessageService internal gRPC address (Broadcast)", config.String(func(c *Config) *string { return &c.MessageAddr })),
	config.Var("TLS_CA", "tls-ca", "certs/ca.pem", "CA that signs the peers' certificates (clients of this service and the services it calls)", config.String(func(c *Config) *string { return &c.TLS.CA }, func(c *Config) *string { return &c.ClientTLS.CA })),
	config.Var("TLS_CERT", "tls-cert", "certs/subscriptionservice.pem", "the subscriptionservice's certificate (URI SAN spiffe://privateim/subscriptionservice), served and presented to the services it calls", config.String(func(c *Config) *string { return &c.TLS.Cert }, func(c *Config) *string { return &c.ClientTLS.Cert })),
	config.Var("TLS_KEY", "tls-key", "certs/subscriptionservice-key.pem", "its key", config.String(func(c *Config) *string { return &c.TLS.Key }, func(c *Config) *string { return &c.ClientTLS.Key })),
	config.Var("GRPC_REFLECTION", "grpc-reflection", "false", "serve gRPC server reflection (grpcurl without .proto files); make run turns it on", config.Bool(func(c *Config) *bool { return &c.Reflection })),
	config.MetricsVar(func(c *Config) *string { return &c.MetricsAddr }),
	config.EnvVar(func(c *Config) *string { return &c.Env }),
	config.Var("REVIEWER_EMAILS", "reviewer-emails", "", "comma-separated emails of the accounts that review articles", config.List(func(c *Config) *[]string { return &c.ReviewerEmails }, reviewerEmail)),
	config.Var("PUBLIC_URL", "public-url", "http://127.0.0.1:8082", "public base URL of this service, used in avatar URLs", config.String(func(c *Config) *string { return &c.PublicURL })),
	config.Var("UPLOAD_DIR", "upload-dir", ".dev/subscription-uploads", "where subscription avatars are stored", config.String(func(c *Config) *string { return &c.UploadDir })),
	config.Var("PUSH_TIMEOUT", "push-timeout", "5s", "how long one Broadcast to the MessageService may take", config.Duration(func(c *Config) *time.Duration { return &c.PushTimeout })),
	config.Var("PUSH_RETRY_MIN", "push-retry-min", "1s", "first wait before retrying articles whose push failed", config.Duration(func(c *Config) *time.Duration { return &c.PushRetryMin })),
	config.Var("PUSH_RETRY_MAX", "push-retry-max", "1m", "longest wait between push retries; also how often published articles not yet pushed are looked for", config.Duration(func(c *Config) *time.Duration { return &c.PushRetryMax })),
	config.Var("LOG_LEVEL", "log-level", "info", "debug, info, warn or error", config.Level(func(c *Config) *slog.Level { return &c.LogLevel })),
	config.Var("SHUTDOWN_TIMEOUT", "shutdown-timeout", "10s", "how long a graceful stop waits for requests in flight", config.Duration(func(c *Config) *time.Duration { return &c.ShutdownTimeout })),
}, config.HTTPTimeoutVars(func(c *Config) *config.HTTPTimeouts { return &c.HTTP }, "1m"))

// reviewerEmail is one of REVIEWER_EMAILS lower-cased; it must be a bare
// address, since it is compared with account emails as it is.
func reviewerEmail(e string) (string, error) {
	e = strings.ToLower(e)
	if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
		return "", fmt.Errorf("%q is not a bare email address", e)
	}
	return e, nil
}

// Default (the Config of the defaults alone, where tests start), Load
// (defaults, then getenv, then args without the program name, validated;
// -h prints the usage and returns flag.ErrHelp) and LogValue all read the
// settings table.
func Default() Config { return config.Default(settings) }

func Load(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	return config.LoadValid("subscriptionservice", settings, args, getenv, usage)
}

func (c Config) LogValue() slog.Value { return config.LogValue(settings, &c) }

// Validate reports every setting out of range, in the order of the table.
func (c Config) Validate() error {
	var errs []error
	for _, a := range []struct{ env, v string }{
		{"HTTP_ADDR", c.HTTPAddr}, {"GRPC_ADDR", c.GRPCAddr}, {"DATA_ADDR", c.DataAddr},
		{"USER_ADDR", c.UserAddr}, {"MESSAGE_ADDR", c.MessageAddr},
		{"TLS_CA", c.TLS.CA}, {"TLS_CERT", c.TLS.Cert}, {"TLS_KEY", c.TLS.Key},
		{"UPLOAD_DIR", c.UploadDir},
	} {
		if a.v == "" {
			errs = append(errs, fmt.Errorf("%s: required", a.env))
		}
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("PUBLIC_URL: %q is not an http(s) URL", c.PublicURL))
	}
	for _, d := range []struct {
		env string
		v   time.Duration
	}{{"PUSH_TIMEOUT", c.PushTimeout}, {"PUSH_RETRY_MIN", c.PushRetryMin}, {"PUSH_RETRY_MAX", c.PushRetryMax}, {"SHUTDOWN_TIMEOUT", c.ShutdownTimeout}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be > 0", d.env))
		}
	}
	if err := c.HTTP.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.PushRetryMax < c.PushRetryMin {
		errs = append(errs, errors.New("PUSH_RETRY_MAX: must be >= PUSH_RETRY_MIN"))
	}
	if c.Env == config.Production {
		errs = append(errs, tlsconfig.CheckProduction(c.TLS))
	}
	return errors.Join(errs...)
}
