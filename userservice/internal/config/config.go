// Package config is the userservice's one configuration: every setting, its
// default, its flag and its environment variable, filled in one place (Load).
// Flags override the environment, which overrides the defaults. Secrets
// (JWT_SECRET, SMTP_PASSWORD) are masked when the Config is logged.
//
// It imports only the standard library and foundation/tlsconfig.
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

	"github.com/privateim/privateim/foundation/tlsconfig"
)

// Config of the userservice binary. Default returns one with every default.
type Config struct {
	HTTPAddr   string          // HTTP_ADDR: the public HTTP API
	GRPCAddr   string          // GRPC_ADDR: the internal gRPC API (mTLS)
	DataAddr   string          // DATA_ADDR: the DataService
	TLS        tlsconfig.Files // TLS_CA, TLS_CERT, TLS_KEY: this server's side
	DataTLS    tlsconfig.Files // TLS_CA, TLS_CLIENT_CERT, TLS_CLIENT_KEY: calling the DataService
	JWTSecret  string          // JWT_SECRET (secret): HS256 key, >= 32 bytes
	JWTTTL     time.Duration   // JWT_TTL: token lifetime
	BcryptCost int             // BCRYPT_COST: 4..31

	SMTPAddr     string        // SMTP_ADDR: host:port of the SMTP server
	SMTPUser     string        // SMTP_USER: empty = no authentication
	SMTPPassword string        // SMTP_PASSWORD (secret)
	MailFrom     string        // MAIL_FROM
	PublicURL    string        // PUBLIC_URL: base of links in mails and of avatar URLs
	ResetTTL     time.Duration // RESET_TTL: password-reset link lifetime

	UploadDir        string // UPLOAD_DIR
	ESURL            string // ES_URL: "" = embedded bleve index
	SearchDir        string // SEARCH_DIR: where the bleve index lives
	NATSURL          string // NATS_URL: "" = relation events off
	GroupMemberLimit int    // GROUP_MEMBER_LIMIT

	SigninPerEmail Rate     // RATE_SIGNIN_EMAIL
	SigninPerIP    Rate     // RATE_SIGNIN_IP
	ForgotPerEmail Rate     // RATE_FORGOT_EMAIL
	ForgotPerIP    Rate     // RATE_FORGOT_IP
	RateKeys       int      // RATE_KEYS: keys each limiter remembers, oldest evicted
	TrustedProxies []string // TRUSTED_PROXIES: CIDRs/IPs whose X-Forwarded-For is believed; none by default

	LogLevel        slog.Level    // LOG_LEVEL
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT
}

// Rate is N events per Per, with bursts of N. The zero Rate means no limit.
// Written "N/duration": "10/1m"; "0" or "off" for none.
type Rate struct {
	N   int
	Per time.Duration
}

// Off reports whether r limits nothing.
func (r Rate) Off() bool { return r.N <= 0 || r.Per <= 0 }

func (r Rate) String() string {
	if r.Off() {
		return "off"
	}
	return strconv.Itoa(r.N) + "/" + r.Per.String()
}

// ParseRate reads "N/duration", "0" or "off".
func ParseRate(s string) (Rate, error) {
	if s == "0" || s == "off" {
		return Rate{}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, errors.New(`want "N/duration", e.g. "10/1m", or "off"`)
	}
	var r Rate
	var err error
	if r.N, err = strconv.Atoi(n); err != nil || r.N < 0 {
		return Rate{}, fmt.Errorf("count %q: want a whole number >= 0", n)
	}
	if r.Per, err = time.ParseDuration(per); err != nil || r.Per <= 0 {
		return Rate{}, fmt.Errorf("period %q: want a duration > 0", per)
	}
	return r, nil
}

// setting is one row of the table Load fills the Config from.
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

func rate(p func(*Config) *Rate) func(*Config, string) error {
	return func(c *Config, v string) (err error) { *p(c), err = ParseRate(v); return err }
}

var settings = []setting{
	{"HTTP_ADDR", "http-addr", ":8080", "public HTTP API listen address", str(func(c *Config) *string { return &c.HTTPAddr })},
	{"GRPC_ADDR", "grpc-addr", ":9092", "internal gRPC (mTLS) listen address", str(func(c *Config) *string { return &c.GRPCAddr })},
	{"DATA_ADDR", "data-addr", "127.0.0.1:9090", "DataService gRPC address", str(func(c *Config) *string { return &c.DataAddr })},
	{"TLS_CA", "tls-ca", "certs/ca.pem", "CA that signs the peers' certificates (clients of this service and the DataService)", func(c *Config, v string) error {
		c.TLS.CA, c.DataTLS.CA = v, v
		return nil
	}},
	{"TLS_CERT", "tls-cert", "certs/server.pem", "server certificate", str(func(c *Config) *string { return &c.TLS.Cert })},
	{"TLS_KEY", "tls-key", "certs/server-key.pem", "server key", str(func(c *Config) *string { return &c.TLS.Key })},
	{"TLS_CLIENT_CERT", "tls-client-cert", "certs/client.pem", "client certificate for the DataService", str(func(c *Config) *string { return &c.DataTLS.Cert })},
	{"TLS_CLIENT_KEY", "tls-client-key", "certs/client-key.pem", "client key for the DataService", str(func(c *Config) *string { return &c.DataTLS.Key })},
	{"JWT_SECRET", "jwt-secret", "", "HS256 key for tokens, at least 32 bytes (required; prefer the environment to the flag)", str(func(c *Config) *string { return &c.JWTSecret })},
	{"JWT_TTL", "jwt-ttl", "24h", "token lifetime", dur(func(c *Config) *time.Duration { return &c.JWTTTL })},
	{"BCRYPT_COST", "bcrypt-cost", "10", "bcrypt cost for new password hashes, 4..31", num(func(c *Config) *int { return &c.BcryptCost })},
	{"SMTP_ADDR", "smtp-addr", "127.0.0.1:1025", "SMTP server host:port", str(func(c *Config) *string { return &c.SMTPAddr })},
	{"SMTP_USER", "smtp-user", "", "SMTP user; empty for none", str(func(c *Config) *string { return &c.SMTPUser })},
	{"SMTP_PASSWORD", "smtp-password", "", "SMTP password", str(func(c *Config) *string { return &c.SMTPPassword })},
	{"MAIL_FROM", "mail-from", "PrivateIM <no-reply@privateim.localhost>", "From of the mails sent", str(func(c *Config) *string { return &c.MailFrom })},
	{"PUBLIC_URL", "public-url", "http://127.0.0.1:8080", "public base URL, used in reset links and file URLs", str(func(c *Config) *string { return &c.PublicURL })},
	{"RESET_TTL", "reset-ttl", "30m", "password-reset link lifetime", dur(func(c *Config) *time.Duration { return &c.ResetTTL })},
	{"UPLOAD_DIR", "upload-dir", ".dev/uploads", "where avatars and files are stored", str(func(c *Config) *string { return &c.UploadDir })},
	{"ES_URL", "es-url", "", "Elasticsearch URL; empty for the embedded bleve index", str(func(c *Config) *string { return &c.ESURL })},
	{"SEARCH_DIR", "search-dir", ".dev/search", "bleve index directory", str(func(c *Config) *string { return &c.SearchDir })},
	{"NATS_URL", "nats-url", "", "NATS URL for relation events; empty for none", str(func(c *Config) *string { return &c.NATSURL })},
	{"GROUP_MEMBER_LIMIT", "group-member-limit", "500", "most members a group may have", num(func(c *Config) *int { return &c.GroupMemberLimit })},
	{"RATE_SIGNIN_EMAIL", "rate-signin-email", "10/1m", "sign-ins per email (N/duration or off)", rate(func(c *Config) *Rate { return &c.SigninPerEmail })},
	{"RATE_SIGNIN_IP", "rate-signin-ip", "60/1m", "sign-ins per client IP", rate(func(c *Config) *Rate { return &c.SigninPerIP })},
	{"RATE_FORGOT_EMAIL", "rate-forgot-email", "3/15m", "password-forgot requests per email", rate(func(c *Config) *Rate { return &c.ForgotPerEmail })},
	{"RATE_FORGOT_IP", "rate-forgot-ip", "30/15m", "password-forgot requests per client IP", rate(func(c *Config) *Rate { return &c.ForgotPerIP })},
	{"RATE_KEYS", "rate-keys", "100000", "keys (emails, IPs) each rate limiter remembers; the least recent is forgotten first", num(func(c *Config) *int { return &c.RateKeys })},
	{"TRUSTED_PROXIES", "trusted-proxies", "", "comma-separated proxy IPs/CIDRs whose X-Forwarded-For is believed; none by default", func(c *Config, v string) error {
		c.TrustedProxies = nil
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				c.TrustedProxies = append(c.TrustedProxies, p)
			}
		}
		return nil
	}},
	{"LOG_LEVEL", "log-level", "info", "debug, info, warn or error", func(c *Config, v string) error {
		return c.LogLevel.UnmarshalText([]byte(v))
	}},
	{"SHUTDOWN_TIMEOUT", "shutdown-timeout", "10s", "how long a graceful stop waits for requests in flight", dur(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
}

// Default returns the Config of the defaults alone (JWTSecret is empty and
// must be set). Tests start from it.
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
	fs := flag.NewFlagSet("userservice", flag.ContinueOnError)
	fs.SetOutput(usage)
	values := make([]*string, len(settings))
	for i, s := range settings {
		v := s.def
		if e := getenv(s.env); e != "" {
			v = e
		}
		def := v
		if s.env == "JWT_SECRET" || s.env == "SMTP_PASSWORD" {
			def = "" // -h must not print a secret from the environment
		}
		values[i] = fs.String(s.flag, def, fmt.Sprintf("%s (env %s)", s.usage, s.env))
		if def != v {
			*values[i] = v
		}
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
	return c, c.Validate()
}

// MinJWTSecret is the shortest JWT_SECRET accepted, in bytes.
const MinJWTSecret = 32

// Validate reports every setting that cannot work.
func (c Config) Validate() error {
	var errs []error
	for _, a := range []struct{ name, v string }{{"http-addr", c.HTTPAddr}, {"grpc-addr", c.GRPCAddr}, {"data-addr", c.DataAddr}, {"smtp-addr", c.SMTPAddr}} {
		if a.v == "" {
			errs = append(errs, fmt.Errorf("%s is empty", a.name))
		}
	}
	if len(c.JWTSecret) < MinJWTSecret {
		errs = append(errs, fmt.Errorf("jwt-secret (JWT_SECRET) must be at least %d bytes, got %d", MinJWTSecret, len(c.JWTSecret)))
	}
	if c.JWTTTL <= 0 {
		errs = append(errs, errors.New("jwt-ttl must be > 0"))
	}
	if c.BcryptCost < 4 || c.BcryptCost > 31 {
		errs = append(errs, fmt.Errorf("bcrypt-cost %d: want 4..31", c.BcryptCost))
	}
	if c.ResetTTL <= 0 {
		errs = append(errs, errors.New("reset-ttl must be > 0"))
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("public-url %q: want an http(s) URL", c.PublicURL))
	}
	if c.GroupMemberLimit < 2 {
		errs = append(errs, fmt.Errorf("group-member-limit %d: want >= 2", c.GroupMemberLimit))
	}
	if c.RateKeys < 1 {
		errs = append(errs, fmt.Errorf("rate-keys %d: want >= 1", c.RateKeys))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("shutdown-timeout must be > 0"))
	}
	return errors.Join(errs...)
}

const mask = "xxxxx"

func masked(s string) string {
	if s == "" {
		return ""
	}
	return mask
}

// LogValue logs the Config with secrets masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("http_addr", c.HTTPAddr),
		slog.String("grpc_addr", c.GRPCAddr),
		slog.String("data_addr", c.DataAddr),
		slog.String("tls_ca", c.TLS.CA),
		slog.String("tls_cert", c.TLS.Cert),
		slog.String("tls_key", c.TLS.Key),
		slog.String("tls_client_cert", c.DataTLS.Cert),
		slog.String("tls_client_key", c.DataTLS.Key),
		slog.String("jwt_secret", masked(c.JWTSecret)),
		slog.String("jwt_ttl", c.JWTTTL.String()),
		slog.Int("bcrypt_cost", c.BcryptCost),
		slog.String("smtp_addr", c.SMTPAddr),
		slog.String("smtp_user", c.SMTPUser),
		slog.String("smtp_password", masked(c.SMTPPassword)),
		slog.String("mail_from", c.MailFrom),
		slog.String("public_url", c.PublicURL),
		slog.String("reset_ttl", c.ResetTTL.String()),
		slog.String("upload_dir", c.UploadDir),
		slog.String("es_url", c.ESURL),
		slog.String("search_dir", c.SearchDir),
		slog.String("nats_url", c.NATSURL),
		slog.Int("group_member_limit", c.GroupMemberLimit),
		slog.String("rate_signin_email", c.SigninPerEmail.String()),
		slog.String("rate_signin_ip", c.SigninPerIP.String()),
		slog.String("rate_forgot_email", c.ForgotPerEmail.String()),
		slog.String("rate_forgot_ip", c.ForgotPerIP.String()),
		slog.Int("rate_keys", c.RateKeys),
		slog.String("trusted_proxies", strings.Join(c.TrustedProxies, ",")),
		slog.String("log_level", c.LogLevel.String()),
		slog.String("shutdown_timeout", c.ShutdownTimeout.String()),
	)
}
