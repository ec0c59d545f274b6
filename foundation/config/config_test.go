package config

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

type testConfig struct {
	Addr     string
	CA, CA2  string
	Workers  int
	Big      int64
	Rate     float64
	Verbose  bool
	Timeout  time.Duration
	Level    slog.Level
	Token    string
	DSN      string
	Peers    []string
	Upper    string
	NoSecret string
}

var testSettings = []Setting[testConfig]{
	Var("ADDR", "addr", ":8080", "listen address", String(func(c *testConfig) *string { return &c.Addr })),
	Var("CA", "ca", "ca.pem", "CA file", String(func(c *testConfig) *string { return &c.CA }, func(c *testConfig) *string { return &c.CA2 })),
	Var("WORKERS", "workers", "4", "workers", Int(func(c *testConfig) *int { return &c.Workers })),
	Var("BIG", "big", "1099511627776", "a big number", Int64(func(c *testConfig) *int64 { return &c.Big })),
	Var("RATE", "rate", "2.5", "a rate", Float64(func(c *testConfig) *float64 { return &c.Rate })),
	Var("VERBOSE", "verbose", "false", "more output", Bool(func(c *testConfig) *bool { return &c.Verbose })),
	Var("TIMEOUT", "timeout", "10s", "a timeout", Duration(func(c *testConfig) *time.Duration { return &c.Timeout })),
	Var("LOG_LEVEL", "log-level", "info", "debug, info, warn or error", Level(func(c *testConfig) *slog.Level { return &c.Level })),
	Var("TOKEN", "token", "", "a secret", Secret(String(func(c *testConfig) *string { return &c.Token }))),
	Var("DSN", "dsn", "root@tcp(127.0.0.1:3306)/x", "a MySQL DSN", String(func(c *testConfig) *string { return &c.DSN })),
	Var("PEERS", "peers", "", "comma-separated peers", List(func(c *testConfig) *[]string { return &c.Peers }, func(p string) (string, error) {
		if strings.Contains(p, " ") {
			return "", errors.New("a peer has no spaces")
		}
		return strings.ToLower(p), nil
	})),
	Var("UPPER", "upper", "a", "upper-cased", Parsed(func(c *testConfig) *string { return &c.Upper }, func(v string) (string, error) { return strings.ToUpper(v), nil })),
	Var("NO_SECRET", "no-secret", "", "logged by Func", Func(func(c *testConfig, v string) error { c.NoSecret = v; return nil }, func(c *testConfig) slog.Value { return slog.StringValue(c.NoSecret) })),
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func load(t *testing.T, args []string, e map[string]string) (testConfig, error) {
	t.Helper()
	return Load("test", testSettings, args, env(e), io.Discard)
}

func TestDefaults(t *testing.T) {
	c, err := load(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := testConfig{Addr: ":8080", CA: "ca.pem", CA2: "ca.pem", Workers: 4, Big: 1 << 40, Rate: 2.5, Timeout: 10 * time.Second,
		Level: slog.LevelInfo, DSN: "root@tcp(127.0.0.1:3306)/x", Upper: "A"}
	if c.Addr != want.Addr || c.CA != want.CA || c.CA2 != want.CA2 || c.Workers != want.Workers || c.Big != want.Big ||
		c.Rate != want.Rate || c.Verbose || c.Timeout != want.Timeout || c.Level != want.Level || c.Token != "" ||
		c.DSN != want.DSN || c.Peers != nil || c.Upper != want.Upper {
		t.Errorf("Load defaults = %+v, want %+v", c, want)
	}
	d := Default(testSettings)
	if d.Addr != c.Addr || d.CA2 != c.CA2 || d.Big != c.Big || d.Timeout != c.Timeout || d.Upper != c.Upper {
		t.Errorf("Default = %+v, differs from Load's %+v", d, c)
	}
}

func TestPrecedence(t *testing.T) {
	e := map[string]string{"ADDR": ":1", "WORKERS": "8", "LOG_LEVEL": "debug", "VERBOSE": "true", "CA": "env.pem", "PEERS": " A, ,b "}
	c, err := load(t, []string{"-addr", ":2", "-ca", "flag.pem"}, e)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"flag over env", c.Addr, ":2"},
		{"flag sets every field", c.CA + "," + c.CA2, "flag.pem,flag.pem"},
		{"env over default", c.Workers, 8},
		{"env level", c.Level, slog.LevelDebug},
		{"env bool", c.Verbose, true},
		{"default", c.Timeout, 10 * time.Second},
		{"list trimmed and normalised", strings.Join(c.Peers, "|"), "a|b"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	// An empty variable counts as unset.
	if c, err := load(t, nil, map[string]string{"ADDR": ""}); err != nil || c.Addr != ":8080" {
		t.Errorf("empty ADDR: %q %v, want the default", c.Addr, err)
	}
}

func TestHelp(t *testing.T) {
	var usage bytes.Buffer
	_, err := Load("test", testSettings, []string{"-h"}, env(map[string]string{"TOKEN": "tok-from-env", "ADDR": ":7"}), &usage)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v, want flag.ErrHelp", err)
	}
	out := usage.String()
	for _, s := range testSettings {
		if !strings.Contains(out, "-"+s.Flag) || !strings.Contains(out, "(env "+s.Env+")") {
			t.Errorf("-h does not list -%s with %s:\n%s", s.Flag, s.Env, out)
		}
	}
	if strings.Contains(out, "tok-from-env") {
		t.Errorf("-h shows the secret:\n%s", out)
	}
	if !strings.Contains(out, `(default ":7")`) {
		t.Errorf("-h does not show the environment's value as the default:\n%s", out)
	}
}

func TestRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		env  map[string]string
		want []string
	}{
		"bad int flag":       {[]string{"-workers", "many"}, nil, []string{"-workers / WORKERS", `"many"`}},
		"bad env duration":   {nil, map[string]string{"TIMEOUT": "soon"}, []string{"-timeout / TIMEOUT", `"soon"`}},
		"bad level":          {nil, map[string]string{"LOG_LEVEL": "loud"}, []string{"-log-level / LOG_LEVEL"}},
		"bad list item":      {[]string{"-peers", "a,b c"}, nil, []string{"-peers / PEERS", "no spaces"}},
		"every bad value":    {[]string{"-workers", "x", "-rate", "y"}, nil, []string{"WORKERS", "RATE"}},
		"stray argument":     {[]string{"serve"}, nil, []string{"unexpected arguments", "serve"}},
		"unknown flag":       {[]string{"-nope"}, nil, []string{"nope"}},
		"bad bool":           {nil, map[string]string{"VERBOSE": "sometimes"}, []string{"VERBOSE"}},
		"bad int64":          {nil, map[string]string{"BIG": "1e3"}, []string{"BIG"}},
		"credentials masked": {nil, map[string]string{"WORKERS": "u:hunter2@x"}, []string{"WORKERS", "u:xxxxx@x"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := load(t, tc.args, tc.env)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows a password", err)
			}
		})
	}
}

func TestSecretErrorHidesValue(t *testing.T) {
	settings := []Setting[testConfig]{
		{"TOKEN", "token", "", "a secret", Secret(Func(func(*testConfig, string) error { return errors.New("too short") },
			func(c *testConfig) slog.Value { return slog.StringValue(c.Token) }))},
	}
	_, err := Load("test", settings, nil, env(map[string]string{"TOKEN": "tok-123"}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "-token / TOKEN: too short") || strings.Contains(err.Error(), "tok-123") {
		t.Errorf("err = %v, want one naming the setting without its value", err)
	}
}

func TestLogValue(t *testing.T) {
	c, err := load(t, []string{"-dsn", "app:s3cretpw@tcp(db:3306)/x", "-addr", "nats://bob:hunter2xyz@nats:4222"},
		map[string]string{"TOKEN": "tok-abcdef", "PEERS": "a,b", "NO_SECRET": "https://u:pw-func@h/"})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	slog.New(slog.NewJSONHandler(&b, nil)).Info("starting", "config", LogValue(testSettings, &c))
	out := b.String()
	for _, secret := range []string{"s3cretpw", "hunter2xyz", "tok-abcdef", "pw-func"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log shows %q: %s", secret, out)
		}
	}
	for _, want := range []string{
		`"addr":"nats://bob:xxxxx@nats:4222"`, `"dsn":"app:xxxxx@tcp(db:3306)/x"`, `"token":"xxxxx"`, `"ca":"ca.pem"`,
		`"workers":4`, `"big":1099511627776`, `"rate":2.5`, `"verbose":false`, `"timeout":"10s"`, `"log_level":"INFO"`,
		`"peers":"a,b"`, `"upper":"A"`, `"no_secret":"https://u:xxxxx@h/"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %s: %s", want, out)
		}
	}
	c.Token = ""
	b.Reset()
	slog.New(slog.NewJSONHandler(&b, nil)).Info("starting", "config", LogValue(testSettings, &c))
	if !strings.Contains(b.String(), `"token":""`) {
		t.Errorf("an unset secret is not logged empty: %s", b.String())
	}
}

func TestHTTPTimeoutVars(t *testing.T) {
	type C struct{ HTTP HTTPTimeouts }
	settings := HTTPTimeoutVars(func(c *C) *HTTPTimeouts { return &c.HTTP }, "1m")
	c := Default(settings)
	if c.HTTP != (HTTPTimeouts{ReadHeader: 10 * time.Second, Read: time.Minute, Write: time.Minute, Idle: 2 * time.Minute}) || c.HTTP.Validate() != nil {
		t.Fatalf("defaults %+v", c.HTTP)
	}
	c, err := Load("x", settings, []string{"-http-idle-timeout", "5s"}, func(k string) string {
		return map[string]string{"HTTP_READ_HEADER_TIMEOUT": "2s"}[k]
	}, io.Discard)
	if err != nil || c.HTTP.ReadHeader != 2*time.Second || c.HTTP.Idle != 5*time.Second {
		t.Fatalf("loaded %+v, %v", c.HTTP, err)
	}
	c.HTTP.Write = 0
	if err := c.HTTP.Validate(); err == nil || !strings.Contains(err.Error(), "http-write-timeout") {
		t.Fatalf("Validate of a zero write timeout = %v", err)
	}
}

func TestProductionSecret(t *testing.T) {
	for _, tc := range []struct {
		name, v string
		want    string // in the error; "" for none
	}{
		{"empty", "", "required in production"},
		{"short", "Ab3$kL9!", "at least 32 bytes"},
		{"one letter", strings.Repeat("s", 40), "placeholder"},
		{"changeme", strings.Repeat("changeme", 5), "placeholder"},
		{"hex", "3f9a0c7be21d4586a7f0e9b3c6d21458", ""},
		{"base64", "q1Zr8+Xv0Lk3/JtYwP2mN5oA6sBdEeF7", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ProductionSecret("jwt-secret (JWT_SECRET)", tc.v, 32)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "JWT_SECRET") {
				t.Fatalf("error %v, want one naming JWT_SECRET with %q", err, tc.want)
			}
			if tc.v != "" && strings.Contains(err.Error(), tc.v) {
				t.Fatalf("the error shows the secret: %v", err)
			}
		})
	}
}
