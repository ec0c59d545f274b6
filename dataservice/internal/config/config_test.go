package config

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaults(t *testing.T) {
	c, err := Load(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.GRPCAddr != ":9090" || c.MySQLDSN != "root@tcp(127.0.0.1:3306)/privateim" || c.DocBackend != "mysql" ||
		c.MongoDB != "privateim" || c.TLS.CA != "certs/ca.pem" || c.TLS.Cert != "certs/dataservice.pem" ||
		c.TLS.Key != "certs/dataservice-key.pem" || c.Reflection || c.Env != "development" || c.SnowflakeNode != 1 || c.LogLevel != slog.LevelInfo ||
		c.ShutdownTimeout != 10*time.Second {
		t.Errorf("defaults: %+v", c)
	}
}

func TestFlagsOverrideEnv(t *testing.T) {
	e := env(map[string]string{"GRPC_ADDR": ":1", "SNOWFLAKE_NODE": "7", "LOG_LEVEL": "debug"})
	c, err := Load([]string{"-grpc-addr", ":2"}, e, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.GRPCAddr != ":2" {
		t.Errorf("grpc addr %q, want the flag's :2", c.GRPCAddr)
	}
	if c.SnowflakeNode != 7 || c.LogLevel != slog.LevelDebug {
		t.Errorf("env not applied: node %d level %v", c.SnowflakeNode, c.LogLevel)
	}
}

func TestInvalid(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		env  map[string]string
	}{
		"node too big":       {args: []string{"-snowflake-node", "1024"}},
		"node not a number":  {env: map[string]string{"SNOWFLAKE_NODE": "x"}},
		"unknown backend":    {args: []string{"-doc-backend", "redis"}},
		"mongo without uri":  {args: []string{"-doc-backend", "mongo"}},
		"bad level":          {args: []string{"-log-level", "loud"}},
		"bad dsn":            {args: []string{"-mysql-dsn", "no-slash"}},
		"stray argument":     {args: []string{"serve"}},
		"zero shutdown time": {args: []string{"-shutdown-timeout", "0s"}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Load(tc.args, env(tc.env), io.Discard); err == nil {
				t.Error("no error")
			}
		})
	}
	if _, err := Load([]string{"-h"}, env(nil), io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v, want flag.ErrHelp", err)
	}
}

func TestSecretsMasked(t *testing.T) {
	c, err := Load([]string{
		"-mysql-dsn", "app:s3cretpw@tcp(db:3306)/privateim",
		"-doc-backend", "mongo",
		"-mongo-uri", "mongodb://bob:hunter2xyz@mongo:27017/?authSource=admin",
	}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("config", "config", c)
	out := b.String()
	for _, secret := range []string{"s3cretpw", "hunter2xyz"} {
		if strings.Contains(out, secret) {
			t.Errorf("logged config shows %q: %s", secret, out)
		}
	}
	for _, want := range []string{"app:xxxxx@tcp(db:3306)/privateim", "bob:xxxxx@mongo:27017"} {
		if !strings.Contains(out, want) {
			t.Errorf("logged config lacks %q: %s", want, out)
		}
	}
}
