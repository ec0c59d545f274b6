// Package config is the one configuration loader of PrivateIM's binaries.
// A binary declares its Config struct and a table of Settings (environment
// variable, flag, default, usage, and the Field it fills); Load fills the
// Config from the defaults, then the environment, then the flags, and
// LogValue logs it from the same table with secrets and credentials masked,
// so no binary writes its own flag parsing or its own LogValue.
//
// It imports only the standard library.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Setting is one row of a binary's configuration table; Var writes one.
type Setting[C any] struct {
	Env     string   // environment variable, e.g. GRPC_ADDR
	Flag    string   // flag name without the dash, e.g. grpc-addr
	Default string   // the default, written as it would be in the environment
	Usage   string   // one line for -h; Load adds "(env ENV)"
	Field   Field[C] // where the value goes: String, Duration, ... or Secret(...)
}

// Var is the Setting of the variable env and the flag flag (without the
// dash), default def, described by usage, filling field. A table is a list
// of Vars, one a line: a function rather than a literal, because vet wants
// the literal of a struct from another package keyed, which would double
// every line.
func Var[C any](env, flag, def, usage string, field Field[C]) Setting[C] {
	return Setting[C]{Env: env, Flag: flag, Default: def, Usage: usage, Field: field}
}

// Field parses a setting's text into its place in a C and reports it for
// the log. Build one with String, Int, Duration, ... or Func.
type Field[C any] struct {
	set    func(c *C, v string) error
	log    func(c *C) slog.Value
	secret bool
}

// Masked replaces a secret, or the password in a URL or DSN, in the log.
const Masked = "xxxxx"

// Func is a Field set by set and logged as log returns (masked like a
// String's value when it is a string).
func Func[C any](set func(c *C, v string) error, log func(c *C) slog.Value) Field[C] {
	return Field[C]{set: set, log: func(c *C) slog.Value {
		v := log(c)
		if v.Kind() == slog.KindString {
			v = slog.StringValue(Mask(v.String()))
		}
		return v
	}}
}

// Secret is f whose value is never shown: the log says Masked when it is
// set ("" when empty) and -h shows no default, so a secret from the
// environment does not reach a terminal.
func Secret[C any](f Field[C]) Field[C] {
	inner := f.log
	f.log = func(c *C) slog.Value {
		if v := inner(c); v.Kind() == slog.KindString && v.String() == "" {
			return v
		}
		return slog.StringValue(Masked)
	}
	f.secret = true
	return f
}

// String sets the string field returns, and every one of also to the same
// value (one file named for two roles, e.g. the CA of the server side and
// of the client side). The log shows the first, with any credentials in it
// masked (Mask).
func String[C any](field func(*C) *string, also ...func(*C) *string) Field[C] {
	return Field[C]{
		set: func(c *C, v string) error {
			*field(c) = v
			for _, f := range also {
				*f(c) = v
			}
			return nil
		},
		log: func(c *C) slog.Value { return slog.StringValue(Mask(*field(c))) },
	}
}

// List sets a comma-separated list: items are trimmed, empty ones dropped,
// and each passed through each when it is not nil (to normalise or refuse
// it). The log shows the items joined by commas.
func List[C any](field func(*C) *[]string, each func(string) (string, error)) Field[C] {
	return Field[C]{
		set: func(c *C, v string) error {
			var items []string
			for item := range strings.SplitSeq(v, ",") {
				if item = strings.TrimSpace(item); item == "" {
					continue
				}
				if each != nil {
					var err error
					if item, err = each(item); err != nil {
						return err
					}
				}
				items = append(items, item)
			}
			*field(c) = items
			return nil
		},
		log: func(c *C) slog.Value { return slog.StringValue(Mask(strings.Join(*field(c), ","))) },
	}
}

// Parsed sets a T read by parse; the log shows fmt.Sprint of it (its
// String method when it has one).
func Parsed[C, T any](field func(*C) *T, parse func(string) (T, error)) Field[C] {
	return Field[C]{
		set: func(c *C, v string) (err error) { *field(c), err = parse(v); return err },
		log: func(c *C) slog.Value { return slog.StringValue(Mask(fmt.Sprint(*field(c)))) },
	}
}

// Int sets an int (strconv.Atoi).
func Int[C any](field func(*C) *int) Field[C] {
	return Field[C]{
		set: func(c *C, v string) (err error) { *field(c), err = strconv.Atoi(v); return err },
		log: func(c *C) slog.Value { return slog.IntValue(*field(c)) },
	}
}

// Int64 sets an int64 (base 10).
func Int64[C any](field func(*C) *int64) Field[C] {
	return Field[C]{
		set: func(c *C, v string) (err error) { *field(c), err = strconv.ParseInt(v, 10, 64); return err },
		log: func(c *C) slog.Value { return slog.Int64Value(*field(c)) },
	}
}

// Float64 sets a float64.
func Float64[C any](field func(*C) *float64) Field[C] {
	return Field[C]{
		set: func(c *C, v string) (err error) { *field(c), err = strconv.ParseFloat(v, 64); return err },
		log: func(c *C) slog.Value { return slog.Float64Value(*field(c)) },
	}
}

// Bool sets a bool (strconv.ParseBool: 1, t, true, 0, f, false, ...).
func Bool[C any](field func(*C) *bool) Field[C] {
	return Field[C]{
		set: func(c *C, v string) (err error) { *field(c), err = strconv.ParseBool(v); return err },
		log: func(c *C) slog.Value { return slog.BoolValue(*field(c)) },
	}
}

// Duration sets a time.Duration (time.ParseDuration: "10s", "1m30s").
func Duration[C any](field func(*C) *time.Duration) Field[C] {
	return Field[C]{
		set: func(c *C, v string) (err error) { *field(c), err = time.ParseDuration(v); return err },
		log: func(c *C) slog.Value { return slog.StringValue(field(c).String()) },
	}
}

// Level sets a slog.Level: debug, info, warn or error (with an optional
// offset, "info+2").
func Level[C any](field func(*C) *slog.Level) Field[C] {
	return Field[C]{
		set: func(c *C, v string) error { return field(c).UnmarshalText([]byte(v)) },
		log: func(c *C) slog.Value { return slog.StringValue(field(c).String()) },
	}
}

// Default returns the C of the defaults alone. A default that does not
// parse is a mistake in the table, so it panics.
func Default[C any](settings []Setting[C]) C {
	var c C
	for _, s := range settings {
		if err := s.Field.set(&c, s.Default); err != nil {
			panic(fmt.Sprintf("config: default of %s: %v", s.Env, err))
		}
	}
	return c
}

// Load fills a C from the defaults, then getenv (an empty variable counts
// as unset), then args (without the program name); name is the program's,
// for -h. -h prints the usage to usage and returns flag.ErrHelp; arguments
// that are not flags are refused. Every value that does not parse is
// reported, each naming its flag and variable. Load does not validate: the
// binary's own Validate does that.
func Load[C any](name string, settings []Setting[C], args []string, getenv func(string) string, usage io.Writer) (C, error) {
	var c C
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(usage)
	values := make([]*string, len(settings))
	for i, s := range settings {
		v := s.Default
		if e := getenv(s.Env); e != "" {
			v = e
		}
		shown := v
		if s.Field.secret {
			shown = "" // -h must not print a secret from the environment
		}
		values[i] = fs.String(s.Flag, shown, fmt.Sprintf("%s (env %s)", s.Usage, s.Env))
		*values[i] = v
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	var errs []error
	for i, s := range settings {
		v := *values[i]
		err := s.Field.set(&c, v)
		switch {
		case err == nil:
		case s.Field.secret:
			errs = append(errs, fmt.Errorf("-%s / %s: %w", s.Flag, s.Env, maskedError{err, v, Masked}))
		default:
			errs = append(errs, fmt.Errorf("-%s / %s %q: %w", s.Flag, s.Env, Mask(v), maskedError{err, v, Mask(v)}))
		}
	}
	return c, errors.Join(errs...)
}

// LoadValid is Load followed by c.Validate, for a binary whose Config is
// complete once loaded. (The messageservice derives its node id from the
// loaded address before it validates, so it calls Load and Validate itself.)
func LoadValid[C interface{ Validate() error }](name string, settings []Setting[C], args []string, getenv func(string) string, usage io.Writer) (C, error) {
	c, err := Load(name, settings, args, getenv, usage)
	if err != nil {
		return c, err
	}
	return c, c.Validate()
}

// LogValue is c as a group with one attribute per setting, keyed by its
// environment variable in lower case, secrets and credentials masked. A
// Config's LogValue method is this one line.
func LogValue[C any](settings []Setting[C], c *C) slog.Value {
	attrs := make([]slog.Attr, len(settings))
	for i, s := range settings {
		attrs[i] = slog.Attr{Key: strings.ToLower(s.Env), Value: s.Field.log(c)}
	}
	return slog.GroupValue(attrs...)
}

// maskedError is err with raw shown as masked: parse errors quote the text
// they could not parse, which may be a secret or hold a password.
type maskedError struct {
	err         error
	raw, masked string
}

func (e maskedError) Error() string {
	msg := e.err.Error()
	if e.raw == e.masked || e.raw == "" {
		return msg
	}
	quoted := strconv.Quote(e.raw)
	msg = strings.ReplaceAll(msg, quoted[1:len(quoted)-1], e.masked)
	return strings.ReplaceAll(msg, e.raw, e.masked)
}

func (e maskedError) Unwrap() error { return e.err }

// The values of ENV (EnvVar).
const (
	Development = "development"
	Production  = "production"
)

// EnvVar is the ENV setting every binary has, filling field: development
// (the default) or production. In production a binary's Validate refuses
// what only a developer's machine may use: the dev CA, TLS files that do
// not load, default or generated secrets.
func EnvVar[C any](field func(*C) *string) Setting[C] {
	return Var("ENV", "env", Development, "development or production; production refuses the dev CA, missing TLS files and default secrets",
		Parsed(field, func(v string) (string, error) {
			if v != Development && v != Production {
				return "", fmt.Errorf("want %s or %s", Development, Production)
			}
			return v, nil
		}))
}

// MetricsVar is the METRICS_ADDR setting every service has, filling
// field: where GET /metrics (Prometheus) is served, apart from the public
// API; empty (the default) serves none. The metrics are counted either
// way (docs/operations.md, "Metrics").
func MetricsVar[C any](field func(*C) *string) Setting[C] {
	return Var("METRICS_ADDR", "metrics-addr", "", "serve GET /metrics (Prometheus) on this address, e.g. :9464; empty for off", String(field))
}
