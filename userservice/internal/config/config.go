// Package config is the userservice's one configuration: every setting, its
// default, its flag and its environment variable, filled in one place (Load).
// Flags override the environment, which overrides the defaults. Secrets
// (JWT_SECRET, SMTP_PASSWORD, FILE_URL_SECRET, NATS_PASSWORD) are masked when
// the Config is logged, and so is the password of a URL (NATS_URL, ES_URL).
//
// It imports only the standard library, foundation/config (the loader),
// foundation/natsauth and foundation/tlsconfig.
package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/privateim/privateim/foundation/config"
	"github.com/privateim/privateim/foundation/natsauth"
	"github.com/privateim/privateim/foundation/tlsconfig"
	"github.com/privateim/privateim/userservice/internal/mailer"
)

// Config of the userservice binary. Default returns one with every default.
type Config struct {
	HTTPAddr    string              // HTTP_ADDR: the public HTTP API
	HTTP        config.HTTPTimeouts // HTTP_READ_HEADER_TIMEOUT, HTTP_READ_TIMEOUT, HTTP_WRITE_TIMEOUT, HTTP_IDLE_TIMEOUT
	GRPCAddr    string              // GRPC_ADDR: the internal gRPC API (mTLS)
	DataAddr    string              // DATA_ADDR: the DataService
	TLS         tlsconfig.Files     // TLS_CA, TLS_CERT, TLS_KEY: its own certificate (identity userservice), served
	DataTLS     tlsconfig.Files     // the same files, presented calling the DataService
	Reflection  bool                // GRPC_REFLECTION
	MetricsAddr string              // METRICS_ADDR: GET /metrics (Prometheus); "" = off
	Env         string              // ENV: development or production
	JWTSecret   string              // JWT_SECRET (secret): HS256 key, >= 32 bytes
	JWTTTL      time.Duration       // JWT_TTL: token lifetime
	BcryptCost  int                 // BCRYPT_COST: 4..31

	SMTPAddr     string        // SMTP_ADDR: host:port of the SMTP server
	SMTPUser     string        // SMTP_USER: empty = no authentication
	SMTPPassword string        // SMTP_PASSWORD (secret)
	SMTPTLS      string        // SMTP_TLS: none (local dev server only), starttls (required) or tls (implicit)
	SMTPTLSCA    string        // SMTP_TLS_CA: CAs for the SMTP server's certificate; empty = system roots
	MailFrom     string        // MAIL_FROM
	PublicURL    string        // PUBLIC_URL: base of links in mails and of avatar URLs
	ResetTTL     time.Duration // RESET_TTL: password-reset link lifetime
	VerifyTTL    time.Duration // EMAIL_VERIFY_TTL: email-verification link lifetime

	UploadDir string // UPLOAD_DIR: files when S3URL is ""
	// S3 (S3_URL, S3_BUCKET, S3_REGION, S3_ACCESS_KEY, S3_SECRET_KEY,
	// S3_PART_SIZE) is the S3-compatible bucket of the files; URL "" =
	// UPLOAD_DIR.
	S3             S3
	FileURLSecret  string        // FILE_URL_SECRET (secret): signs chat file URLs; "" = derived from JWT_SECRET
	FileURLTTL     time.Duration // FILE_URL_TTL: how long a chat file URL works
	UploadQuota    int64         // UPLOAD_QUOTA: bytes of chat files one user may store
	QRDecoders     int           // QR_DECODERS: pictures decoded at once to read QR codes
	AvatarDecoders int           // AVATAR_DECODERS: avatars decoded at once
	DecodesPerUser int           // DECODES_PER_USER: of those, at once for one user (each pool)
	ESURL          string        // ES_URL: "" = embedded bleve index
	SearchDir      string        // SEARCH_DIR: where the bleve index lives
	NATSURL        string        // NATS_URL: "" = relation events off
	// NATSAuth (NATS_USER, NATS_PASSWORD or NATS_NKEY_SEED) is the NATS
	// credential that may publish relation events.
	NATSAuth         natsauth.Auth
	NATSCA           string // NATS_CA: the CA of the NATS server's certificate; "" = TLS_CA
	GroupMemberLimit int    // GROUP_MEMBER_LIMIT
	// GroupAvatarDebounce (GROUP_AVATAR_DEBOUNCE) is the least time between
	// two drawings of a group's generated picture.
	GroupAvatarDebounce time.Duration
	GroupMaxAdmins      int // GROUP_MAX_ADMINS
	// GroupReceiptsMax (GROUP_RECEIPTS_MAX_MEMBERS): groups with more
	// members list no readers of a message (409 counts_only).
	GroupReceiptsMax int
	MessageAddr      string // MESSAGE_ADDR: the MessageService's internal gRPC (DeliverGroup); "" = none

	SigninPerEmail Rate     // RATE_SIGNIN_EMAIL: per email and client address
	SigninPerIP    Rate     // RATE_SIGNIN_IP
	SignupPerIP    Rate     // RATE_SIGNUP_IP
	SignupAll      Rate     // RATE_SIGNUP_ALL: every client together
	ForgotPerEmail Rate     // RATE_FORGOT_EMAIL
	ForgotPerIP    Rate     // RATE_FORGOT_IP
	ResetPerIP     Rate     // RATE_RESET_IP: reset confirmations
	ResetAll       Rate     // RATE_RESET_ALL
	VerifyPerUser  Rate     // RATE_VERIFY_USER: verification mails a user may ask for
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

// settings is the table Load fills the Config from and LogValue logs.
var settings = slices.Concat([]config.Setting[Config]{
	config.Var("HTTP_ADDR", "http-addr", ":8080", "public HTTP API listen address", config.String(func(c *Config) *string { return &c.HTTPAddr })),
	config.Var("GRPC_ADDR", "grpc-addr", ":9092", "internal gRPC (mTLS) listen address", config.String(func(c *Config) *string { return &c.GRPCAddr })),
	config.Var("DATA_ADDR", "data-addr", "127.0.0.1:9090", "DataService gRPC address", config.String(func(c *Config) *string { return &c.DataAddr })),
	config.Var("TLS_CA", "tls-ca", "certs/ca.pem", "CA that signs the peers' certificates (clients of this service and the DataService)", config.String(func(c *Config) *string { return &c.TLS.CA }, func(c *Config) *string { return &c.DataTLS.CA })),
	config.Var("TLS_CERT", "tls-cert", "certs/userservice.pem", "the userservice's certificate (URI SAN spiffe://privateim/userservice), served and presented to the DataService", config.String(func(c *Config) *string { return &c.TLS.Cert }, func(c *Config) *string { return &c.DataTLS.Cert })),
	config.Var("TLS_KEY", "tls-key", "certs/userservice-key.pem", "its key", config.String(func(c *Config) *string { return &c.TLS.Key }, func(c *Config) *string { return &c.DataTLS.Key })),
	config.Var("GRPC_REFLECTION", "grpc-reflection", "false", "serve gRPC server reflection (grpcurl without .proto files); make run turns it on", config.Bool(func(c *Config) *bool { return &c.Reflection })),
	config.MetricsVar(func(c *Config) *string { return &c.MetricsAddr }),
	config.EnvVar(func(c *Config) *string { return &c.Env }),
	config.Var("JWT_SECRET", "jwt-secret", "", "HS256 key for tokens, at least 32 bytes (required; prefer the environment to the flag)", config.Secret(config.String(func(c *Config) *string { return &c.JWTSecret }))),
	config.Var("JWT_TTL", "jwt-ttl", "24h", "token lifetime", config.Duration(func(c *Config) *time.Duration { return &c.JWTTTL })),
	config.Var("BCRYPT_COST", "bcrypt-cost", "10", "bcrypt cost for new password hashes, 4..31", config.Int(func(c *Config) *int { return &c.BcryptCost })),
	config.Var("SMTP_ADDR", "smtp-addr", "127.0.0.1:1025", "SMTP server host:port", config.String(func(c *Config) *string { return &c.SMTPAddr })),
	config.Var("SMTP_USER", "smtp-user", "", "SMTP user; empty for none", config.String(func(c *Config) *string { return &c.SMTPUser })),
	config.Var("SMTP_PASSWORD", "smtp-password", "", "SMTP password", config.Secret(config.String(func(c *Config) *string { return &c.SMTPPassword }))),
	config.Var("SMTP_TLS", "smtp-tls", "starttls", "SMTP transport security: starttls (required: a server without it is refused), tls (implicit, port 465) or none (a local dev server only)", config.String(func(c *Config) *string { return &c.SMTPTLS })),
	config.Var("SMTP_TLS_CA", "smtp-tls-ca", "", "PEM file of the CAs that sign the SMTP server's certificate; empty for the system roots", config.String(func(c *Config) *string { return &c.SMTPTLSCA })),
	config.Var("MAIL_FROM", "mail-from", "PrivateIM <no-reply@privateim.localhost>", "From of the mails sent", config.String(func(c *Config) *string { return &c.MailFrom })),
	config.Var("PUBLIC_URL", "public-url", "http://127.0.0.1:8080", "public base URL, used in reset links and file URLs", config.String(func(c *Config) *string { return &c.PublicURL })),
	config.Var("RESET_TTL", "reset-ttl", "30m", "password-reset link lifetime", config.Duration(func(c *Config) *time.Duration { return &c.ResetTTL })),
	config.Var("EMAIL_VERIFY_TTL", "email-verify-ttl", "48h", "email-verification link lifetime", config.Duration(func(c *Config) *time.Duration { return &c.VerifyTTL })),
	config.Var("UPLOAD_DIR", "upload-dir", ".dev/uploads", "where avatars and files are stored", config.String(func(c *Config) *string { return &c.UploadDir })),
	config.Var("S3_URL", "s3-url", "", "S3-compatible endpoint, http(s)://host[:port], for avatars and files (shared by every instance); empty for upload-dir", config.String(func(c *Config) *string { return &c.S3.URL })),
	config.Var("S3_BUCKET", "s3-bucket", "privateim", "S3 bucket of avatars and files; made when missing", config.String(func(c *Config) *string { return &c.S3.Bucket })),
	config.Var("S3_REGION", "s3-region", "us-east-1", "S3 region", config.String(func(c *Config) *string { return &c.S3.Region })),
	config.Var("S3_ACCESS_KEY", "s3-access-key", "", "S3 access key id", config.String(func(c *Config) *string { return &c.S3.AccessKey })),
	config.Var("S3_SECRET_KEY", "s3-secret-key", "", "S3 secret access key", config.Secret(config.String(func(c *Config) *string { return &c.S3.SecretKey }))),
	config.Var("S3_PART_SIZE", "s3-part-size", "16777216", "bytes of each part of a multipart upload to S3 (at least 5 MiB); larger files go up in parts", config.Int64(func(c *Config) *int64 { return &c.S3.PartSize })),
	config.Var("FILE_URL_SECRET", "file-url-secret", "", "key (>= 32 bytes) of the signatures of chat file URLs; empty derives one from JWT_SECRET", config.Secret(config.String(func(c *Config) *string { return &c.FileURLSecret }))),
	config.Var("FILE_URL_TTL", "file-url-ttl", "168h", "how long a chat file URL (POST /api/v1/files) can be fetched", config.Duration(func(c *Config) *time.Duration { return &c.FileURLTTL })),
	config.Var("UPLOAD_QUOTA", "upload-quota", "104857600", "bytes of chat files one user may store (100 MiB)", config.Int64(func(c *Config) *int64 { return &c.UploadQuota })),
	config.Var("QR_DECODERS", "qr-decoders", "2", "pictures decoded at once to read QR codes", config.Int(func(c *Config) *int { return &c.QRDecoders })),
	config.Var("AVATAR_DECODERS", "avatar-decoders", "2", "avatars decoded at once", config.Int(func(c *Config) *int { return &c.AvatarDecoders })),
	config.Var("DECODES_PER_USER", "decodes-per-user", "1", "pictures of one user decoded at once in each of the two pools; more are refused (429 busy)", config.Int(func(c *Config) *int { return &c.DecodesPerUser })),
	config.Var("ES_URL", "es-url", "", "Elasticsearch URL; empty for the embedded bleve index", config.String(func(c *Config) *string { return &c.ESURL })),
	config.Var("SEARCH_DIR", "search-dir", ".dev/search", "bleve index directory", config.String(func(c *Config) *string { return &c.SearchDir })),
	config.Var("NATS_URL", "nats-url", "", "NATS URL for relation events; empty for none", config.String(func(c *Config) *string { return &c.NATSURL })),
	config.Var("NATS_USER", "nats-user", "", "NATS user that may publish relation events (with nats-password)", config.String(func(c *Config) *string { return &c.NATSAuth.User })),
	config.Var("NATS_PASSWORD", "nats-password", "", "NATS password of nats-user", config.Secret(config.String(func(c *Config) *string { return &c.NATSAuth.Password }))),
	config.Var("NATS_NKEY_SEED", "nats-nkey-seed", "", "file holding the NATS nkey seed (instead of nats-user)", config.String(func(c *Config) *string { return &c.NATSAuth.NKeySeed })),
	config.Var("NATS_CA", "nats-ca", "", "CA of the NATS server's certificate; empty for tls-ca", config.String(func(c *Config) *string { return &c.NATSCA })),
	config.Var("GROUP_AVATAR_DEBOUNCE", "group-avatar-debounce", "10s", "least time between two drawings of a group's generated avatar (its first nine members)", config.Duration(func(c *Config) *time.Duration { return &c.GroupAvatarDebounce })),
	config.Var("GROUP_MEMBER_LIMIT", "group-member-limit", "500", "most members a group may have", config.Int(func(c *Config) *int { return &c.GroupMemberLimit })),
	config.Var("GROUP_RECEIPTS_MAX_MEMBERS", "group-receipts-max-members", "500", "groups with more members keep read counts only: no list of who read a message", config.Int(func(c *Config) *int { return &c.GroupReceiptsMax })),
	config.Var("GROUP_MAX_ADMINS", "group-max-admins", "10", "most admins a group may have (the owner not counted)", config.Int(func(c *Config) *int { return &c.GroupMaxAdmins })),
	config.Var("MESSAGE_ADDR", "message-addr", "127.0.0.1:9091", "MessageService internal gRPC address (DeliverGroup: group system messages to devices now); empty for none (devices get them on catch-up)", config.String(func(c *Config) *string { return &c.MessageAddr })),
	config.Var("RATE_SIGNIN_EMAIL", "rate-signin-email", "10/1m", "sign-ins per email from one client address (IPv4, or IPv6 /64), N/duration or off", config.Parsed(func(c *Config) *Rate { return &c.SigninPerEmail }, ParseRate)),
	config.Var("RATE_SIGNIN_IP", "rate-signin-ip", "60/1m", "sign-ins per client address (IPv4, or IPv6 /64)", config.Parsed(func(c *Config) *Rate { return &c.SigninPerIP }, ParseRate)),
	config.Var("RATE_SIGNUP_IP", "rate-signup-ip", "10/1h", "sign-ups per client address (IPv4, or IPv6 /64)", config.Parsed(func(c *Config) *Rate { return &c.SignupPerIP }, ParseRate)),
	config.Var("RATE_SIGNUP_ALL", "rate-signup-all", "600/1m", "sign-ups of all clients together", config.Parsed(func(c *Config) *Rate { return &c.SignupAll }, ParseRate)),
	config.Var("RATE_FORGOT_EMAIL", "rate-forgot-email", "3/15m", "password-forgot requests per email", config.Parsed(func(c *Config) *Rate { return &c.ForgotPerEmail }, ParseRate)),
	config.Var("RATE_FORGOT_IP", "rate-forgot-ip", "30/15m", "password-forgot requests per client address (IPv4, or IPv6 /64)", config.Parsed(func(c *Config) *Rate { return &c.ForgotPerIP }, ParseRate)),
	config.Var("RATE_RESET_IP", "rate-reset-ip", "20/15m", "password-reset confirmations per client address (IPv4, or IPv6 /64)", config.Parsed(func(c *Config) *Rate { return &c.ResetPerIP }, ParseRate)),
	config.Var("RATE_RESET_ALL", "rate-reset-all", "300/1m", "password-reset confirmations of all clients together", config.Parsed(func(c *Config) *Rate { return &c.ResetAll }, ParseRate)),
	config.Var("RATE_VERIFY_USER", "rate-verify-user", "3/15m", "verification mails each user may ask for (POST /auth/email/resend)", config.Parsed(func(c *Config) *Rate { return &c.VerifyPerUser }, ParseRate)),
	config.Var("RATE_KEYS", "rate-keys", "100000", "keys (emails, addresses) each rate limiter remembers, each at most 128 bytes; the least recent is forgotten first", config.Int(func(c *Config) *int { return &c.RateKeys })),
	config.Var("TRUSTED_PROXIES", "trusted-proxies", "", "comma-separated proxy IPs/CIDRs whose X-Forwarded-For is believed; none by default", config.List(func(c *Config) *[]string { return &c.TrustedProxies }, nil)),
	config.Var("LOG_LEVEL", "log-level", "info", "debug, info, warn or error", config.Level(func(c *Config) *slog.Level { return &c.LogLevel })),
	config.Var("SHUTDOWN_TIMEOUT", "shutdown-timeout", "10s", "how long a graceful stop waits for requests in flight", config.Duration(func(c *Config) *time.Duration { return &c.ShutdownTimeout })),
}, config.HTTPTimeoutVars(func(c *Config) *config.HTTPTimeouts { return &c.HTTP }, "2m")) // 2m: uploads of up to 20 MiB on slow links

// Default returns the Config of the defaults alone (JWTSecret is empty and
// must be set). Tests start from it.
func Default() Config { return config.Default(settings) }

// Load fills a Config from the defaults, then getenv, then args (without
// the program name), and validates it. -h prints the usage to usage and
// returns flag.ErrHelp.
func Load(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	return config.LoadValid("userservice", settings, args, getenv, usage)
}

// LogValue logs the Config from the settings table, secrets masked.
func (c Config) LogValue() slog.Value { return config.LogValue(settings, &c) }

// NATSClient is how relation events reach NATS_URL: the credential, the
// NATS CA and the client certificate.
func (c Config) NATSClient() natsauth.Client {
	files := c.DataTLS
	if c.NATSCA != "" {
		files.CA = c.NATSCA
	}
	return natsauth.Client{URL: c.NATSURL, Auth: c.NATSAuth, TLS: files}
}

// S3 is the S3-compatible bucket of the files (Config.S3).
type S3 struct {
	URL, Bucket, Region, AccessKey, SecretKey string
	PartSize                                  int64
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
	if err := c.HTTP.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.NATSAuth.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("nats-user, nats-password, nats-nkey-seed: %w", err))
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
	if _, err := mailer.ParseMode(c.SMTPTLS); err != nil {
		errs = append(errs, err)
	}
	if c.ResetTTL <= 0 {
		errs = append(errs, errors.New("reset-ttl must be > 0"))
	}
	if c.VerifyTTL <= 0 {
		errs = append(errs, errors.New("email-verify-ttl must be > 0"))
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("public-url %q: want an http(s) URL", c.PublicURL))
	}
	if c.S3.URL != "" {
		if c.S3.Bucket == "" {
			errs = append(errs, errors.New("s3-bucket (S3_BUCKET) is required with s3-url"))
		}
		if c.S3.AccessKey == "" || c.S3.SecretKey == "" {
			errs = append(errs, errors.New("s3-access-key and s3-secret-key (S3_ACCESS_KEY, S3_SECRET_KEY) are required with s3-url"))
		}
		if c.S3.PartSize < 5<<20 {
			errs = append(errs, fmt.Errorf("s3-part-size (S3_PART_SIZE) must be at least 5 MiB (5242880), got %d", c.S3.PartSize))
		}
	}
	if c.FileURLSecret != "" && len(c.FileURLSecret) < 32 {
		errs = append(errs, fmt.Errorf("file-url-secret (FILE_URL_SECRET) must be at least 32 bytes, got %d", len(c.FileURLSecret)))
	}
	if c.FileURLTTL <= 0 {
		errs = append(errs, errors.New("file-url-ttl must be > 0"))
	}
	if c.UploadQuota < 1 {
		errs = append(errs, fmt.Errorf("upload-quota %d: want >= 1", c.UploadQuota))
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"qr-decoders", c.QRDecoders}, {"avatar-decoders", c.AvatarDecoders}, {"decodes-per-user", c.DecodesPerUser}} {
		if n.v < 1 {
			errs = append(errs, fmt.Errorf("%s %d: want >= 1", n.name, n.v))
		}
	}
	if c.GroupAvatarDebounce <= 0 {
		errs = append(errs, errors.New("group-avatar-debounce must be > 0"))
	}
	if c.GroupMemberLimit < 2 {
		errs = append(errs, fmt.Errorf("group-member-limit %d: want >= 2", c.GroupMemberLimit))
	}
	if c.GroupReceiptsMax < 1 {
		errs = append(errs, fmt.Errorf("group-receipts-max-members %d: want >= 1", c.GroupReceiptsMax))
	}
	if c.GroupMaxAdmins < 1 {
		errs = append(errs, fmt.Errorf("group-max-admins %d: want >= 1", c.GroupMaxAdmins))
	}
	if c.RateKeys < 1 {
		errs = append(errs, fmt.Errorf("rate-keys %d: want >= 1", c.RateKeys))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("shutdown-timeout must be > 0"))
	}
	if c.Env == config.Production {
		errs = append(errs, tlsconfig.CheckProduction(c.TLS))
		// Every secret is the deployment's own and set on purpose: no
		// placeholder, and the file URL key not derived from the token key
		// (one key per use: rotating one must not rotate the other).
		errs = append(errs, config.ProductionSecret("jwt-secret (JWT_SECRET)", c.JWTSecret, MinJWTSecret),
			config.ProductionSecret("file-url-secret (FILE_URL_SECRET)", c.FileURLSecret, 32))
		if c.FileURLSecret != "" && c.FileURLSecret == c.JWTSecret {
			errs = append(errs, errors.New("file-url-secret (FILE_URL_SECRET): must differ from jwt-secret (JWT_SECRET) in production"))
		}
		if c.NATSAuth.Password != "" {
			errs = append(errs, config.ProductionSecret("nats-password (NATS_PASSWORD)", c.NATSAuth.Password, 16))
		}
		if c.SMTPUser != "" && c.SMTPPassword == "" {
			errs = append(errs, errors.New("smtp-password (SMTP_PASSWORD): required in production with smtp-user"))
		}
		if m, err := mailer.ParseMode(c.SMTPTLS); err == nil && m == mailer.None {
			errs = append(errs, errors.New("smtp-tls (SMTP_TLS) none: plain SMTP is for a local development server; production mail needs starttls or tls"))
		}
		if c.NATSURL != "" && c.NATSAuth.IsZero() {
			// An external NATS that lets anyone in is no deployment.
			errs = append(errs, errors.New("nats-user (NATS_USER) and nats-password, or nats-nkey-seed: required in production with a nats-url"))
		}
	}
	return errors.Join(errs...)
}
