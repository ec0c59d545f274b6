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

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":8081" || c.GRPCAddr != ":9091" || c.NATSListen != "127.0.0.1:4250" || c.NATSURL != "" ||
		c.SendRate != 20 || c.SendBurst != 40 || c.MaxFrameBytes != 64<<10 || c.RetryInterval != 5*time.Second ||
		c.MaxTries != 3 || c.PingInterval != 30*time.Second || c.IdleTimeout != 60*time.Second {
		t.Fatalf("defaults = %+v", c)
	}
	if !strings.HasSuffix(c.NodeID, ":8081") {
		t.Fatalf("node id %q, want hostname:8081", c.NodeID)
	}
}

func TestFlagsOverrideEnv(t *testing.T) {
	c, err := Load([]string{"-send-rate", "0", "-node-id", "n2"}, env(map[string]string{"SEND_RATE": "5", "NODE_ID": "n1", "RETRY_INTERVAL": "1s"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.SendRate != 0 || c.NodeID != "n2" || c.RetryInterval != time.Second {
		t.Fatalf("config = %+v", c)
	}
}

func TestInvalid(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"bad duration", map[string]string{"RETRY_INTERVAL": "soon"}, "RETRY_INTERVAL"},
		{"zero tries", map[string]string{"MAX_TRIES": "0"}, "max-tries"},
		{"tiny frames", map[string]string{"MAX_FRAME_BYTES": "10"}, "max-frame-bytes"},
		{"ping after idle", map[string]string{"PING_INTERVAL": "2m"}, "ping-interval"},
		{"rate without burst", map[string]string{"SEND_BURST": "0"}, "send-burst"},
		{"node id not a subject", map[string]string{"NODE_ID": "a..b"}, "node-id"},
		{"node id wildcard", map[string]string{"NODE_ID": "n*"}, "node-id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(nil, env(tt.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load = %v, want an error naming %s", err, tt.want)
			}
		})
	}
	if _, err := Load([]string{"-h"}, env(nil), io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h = %v", err)
	}
	if _, err := Load([]string{"extra"}, env(nil), io.Discard); err == nil {
		t.Fatal("an extra argument was accepted")
	}
}

// NATS credentials, in the URL or in their own settings, never reach the
// log of the Config.
func TestNATSCredentialsAreMasked(t *testing.T) {
	const urlPass, pass, events = "url-pass-word", "nats-pass-word", "events-pass-word"
	for name, tt := range map[string]struct {
		env  map[string]string
		want []string
	}{
		"external": {
			map[string]string{"NATS_URL": "nats://node:" + urlPass + "@nats.internal:4222", "NATS_USER": "node", "NATS_PASSWORD": pass},
			[]string{`"nats_url":"nats://node:xxxxx@nats.internal:4222"`, `"nats_password":"xxxxx"`},
		},
		"embedded": {
			map[string]string{"NATS_USER": "node", "NATS_PASSWORD": pass, "NATS_EVENTS_USER": "userservice", "NATS_EVENTS_PASSWORD": events},
			[]string{`"nats_password":"xxxxx"`, `"nats_events_password":"xxxxx"`},
		},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := Load(nil, env(tt.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if c.NATSAuth.Password != pass {
				t.Fatal("the credentials were not loaded")
			}
			var logged bytes.Buffer
			slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "config", c)
			for _, want := range tt.want {
				if !strings.Contains(logged.String(), want) {
					t.Errorf("the log lacks %s: %s", want, logged.String())
				}
			}
			for _, s := range []string{urlPass, pass, events} {
				if strings.Contains(logged.String(), s) {
					t.Errorf("the log shows %s: %s", s, logged.String())
				}
			}
		})
	}
	if _, err := Load(nil, env(map[string]string{"NATS_EVENTS_USER": "userservice"}), io.Discard); err == nil || !strings.Contains(err.Error(), "nats-events-password") {
		t.Errorf("an events user without a password: %v", err)
	}
	if _, err := Load(nil, env(map[string]string{"NATS_URL": "nats://nats.internal:4222", "NATS_EVENTS_USER": "u", "NATS_EVENTS_PASSWORD": "p"}), io.Discard); err == nil || !strings.Contains(err.Error(), "only for the embedded") {
		t.Errorf("an events user with an external NATS: %v", err)
	}
}

// In production an external NATS needs a credential (one that lets anyone
// in is no deployment); the embedded server generates its own.
func TestProductionNeedsANATSCredential(t *testing.T) {
	base := map[string]string{"ENV": "production", "NATS_URL": "nats://nats.internal:4222"}
	if _, err := Load(nil, env(base), io.Discard); err == nil || !strings.Contains(err.Error(), "nats-user (NATS_USER)") {
		t.Fatalf("production NATS_URL without a credential: %v", err)
	}
	base["NATS_USER"], base["NATS_PASSWORD"] = "node", "Hv3Qz8Lk2Wm7Rt5X"
	if _, err := Load(nil, env(base), io.Discard); err != nil && strings.Contains(err.Error(), "nats-user (NATS_USER)") {
		t.Fatalf("production NATS_URL with a credential: %v", err)
	}
}
