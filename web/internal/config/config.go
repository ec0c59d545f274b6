// Package config is the webgateway's one configuration: every setting, its
// default, its flag and its environment variable, filled in one place
// (Load). Flags override the environment, which overrides the defaults.
//
// It imports only the standard library and foundation/config (the loader).
package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/privateim/privateim/foundation/config"
)

// Config of the webgateway binary.
type Config struct {
	HTTPAddr        string              // HTTP_ADDR: where the app and the proxied APIs are served
	HTTP            config.HTTPTimeouts // HTTP_READ_HEADER_TIMEOUT, HTTP_READ_TIMEOUT, HTTP_WRITE_TIMEOUT, HTTP_IDLE_TIMEOUT
	UserURL         *url.URL            // USER_URL: the userservice's public HTTP API (/api/..., /static/...)
	SubscriptionURL *url.URL            // SUBSCRIPTION_URL: the subscriptionservice's (/sub/...)
	MessageURLs     []*url.URL          // MESSAGE_URLS: the message nodes' HTTP addresses (/ws)
	Env             string              // ENV: development or production
	LogLevel        slog.Level          // LOG_LEVEL
	ShutdownTimeout time.Duration       // SHUTDOWN_TIMEOUT
}

var settings = slices.Concat([]config.Setting[Config]{
	config.Var("HTTP_ADDR", "http-addr", ":8000", "listen address of the app and the proxied APIs", config.String(func(c *Config) *string { return &c.HTTPAddr })),
	config.Var("USER_URL", "user-url", "http://127.0.0.1:8080", "the userservice's public HTTP API; /api/... and /static/... go there", config.Parsed(func(c *Config) **url.URL { return &c.UserURL }, upstream)),
	config.Var("SUBSCRIPTION_URL", "subscription-url", "http://127.0.0.1:8082", "the subscriptionservice's public HTTP API; /sub/... goes there without /sub", config.Parsed(func(c *Config) **url.URL { return &c.SubscriptionURL }, upstream)),
	config.Var("MESSAGE_URLS", "message-urls", "http://127.0.0.1:8081", "comma-separated HTTP addresses of the message nodes; each new /ws connection goes to the next", config.Parsed(func(c *Config) *[]*url.URL { return &c.MessageURLs }, upstreams)),
	config.EnvVar(func(c *Config) *string { return &c.Env }),
	config.Var("LOG_LEVEL", "log-level", "info", "debug, info, warn or error", config.Level(func(c *Config) *slog.Level { return &c.LogLevel })),
	config.Var("SHUTDOWN_TIMEOUT", "shutdown-timeout", "10s", "how long a graceful stop waits for requests in flight before WebSockets and the rest are cut", config.Duration(func(c *Config) *time.Duration { return &c.ShutdownTimeout })),
	// Uploads (avatars, chat files) pass through: the read and write
	// timeouts are those of the userservice's slowest upload.
}, config.HTTPTimeoutVars(func(c *Config) *config.HTTPTimeouts { return &c.HTTP }, "1m"))

// upstream is an http(s) URL with a host and nothing after it but a path.
func upstream(v string) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("%q: want an http(s) URL with a host and no query, fragment or user info", v)
	}
	return u, nil
}

func upstreams(v string) ([]*url.URL, error) {
	var out []*url.URL
	for s := range strings.SplitSeq(v, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		u, err := upstream(s)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	if len(out) == 0 {
		return nil, errors.New("want at least one message node URL")
	}
	return out, nil
}

// Default is the Config of the defaults alone.
func Default() Config { return config.Default(settings) }

// Load fills a Config from the defaults, then getenv, then args (without
// the program name), and validates it; -h prints the usage and returns
// flag.ErrHelp.
func Load(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	return config.LoadValid("webgateway", settings, args, getenv, usage)
}

func (c Config) LogValue() slog.Value { return config.LogValue(settings, &c) }

// Validate reports every setting out of range.
func (c Config) Validate() error {
	var errs []error
	if c.HTTPAddr == "" {
		errs = append(errs, errors.New("HTTP_ADDR: required"))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("SHUTDOWN_TIMEOUT: must be > 0"))
	}
	if err := c.HTTP.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
