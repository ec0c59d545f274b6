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

const secret = "0123456789abcdef0123456789abcdef"

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	c, err := Load(nil, env(map[string]string{"JWT_SECRET": secret}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":8080" || c.GRPCAddr != ":9092" || c.DataAddr != "127.0.0.1:9090" {
		t.Errorf("addresses %q %q %q", c.HTTPAddr, c.GRPCAddr, c.DataAddr)
	}
	if c.TLS.CA != "certs/ca.pem" || c.DataTLS.CA != "certs/ca.pem" || c.DataTLS != c.TLS || c.TLS.Cert != "certs/userservice.pem" || c.TLS.Key != "certs/userservice-key.pem" || c.Reflection || c.Env != "development" {
		t.Errorf("tls %+v %+v", c.TLS, c.DataTLS)
	}
	if c.JWTTTL != 24*time.Hour || c.ResetTTL != 30*time.Minute || c.GroupMemberLimit != 500 || c.SMTPAddr != "127.0.0.1:1025" {
		t.Errorf("defaults %+v", c)
	}
	if c.SigninPerEmail != (Rate{10, time.Minute}) || c.ForgotPerEmail != (Rate{3, 15 * time.Minute}) {
		t.Errorf("rates %v %v", c.SigninPerEmail, c.ForgotPerEmail)
	}
	d := Default()
	d.JWTSecret = secret
	if d.Validate() != nil || d.HTTPAddr != c.HTTPAddr || d.SigninPerIP != c.SigninPerIP {
		t.Errorf("Default() differs from Load's defaults")
	}
}

func TestFlagsOverrideEnv(t *testing.T) {
	c, err := Load([]string{"-http-addr", "127.0.0.1:1", "-rate-signin-ip", "off", "-tls-ca", "x/ca.pem"},
		env(map[string]string{"JWT_SECRET": secret, "HTTP_ADDR": "127.0.0.1:2", "GRPC_ADDR": "127.0.0.1:3", "TRUSTED_PROXIES": " 10.0.0.0/8, ,127.0.0.1"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:1" || c.GRPCAddr != "127.0.0.1:3" || !c.SigninPerIP.Off() || c.TLS.CA != "x/ca.pem" || c.DataTLS.CA != "x/ca.pem" {
		t.Errorf("config %+v", c)
	}
	if strings.Join(c.TrustedProxies, "|") != "10.0.0.0/8|127.0.0.1" {
		t.Errorf("trusted proxies %q", c.TrustedProxies)
	}
}

func TestLoadRejects(t *testing.T) {
	for name, tt := range map[string]struct {
		args []string
		env  map[string]string
		want string
	}{
		"no secret":       {nil, nil, "jwt-secret"},
		"short secret":    {nil, map[string]string{"JWT_SECRET": "short"}, "at least 32 bytes"},
		"bad duration":    {[]string{"-jwt-ttl", "soon"}, map[string]string{"JWT_SECRET": secret}, "jwt-ttl"},
		"bad rate":        {[]string{"-rate-forgot-ip", "3 per minute"}, map[string]string{"JWT_SECRET": secret}, "rate-forgot-ip"},
		"bcrypt cost":     {[]string{"-bcrypt-cost", "3"}, map[string]string{"JWT_SECRET": secret}, "bcrypt-cost"},
		"public url":      {[]string{"-public-url", "im.example.com"}, map[string]string{"JWT_SECRET": secret}, "public-url"},
		"smtp tls mode":   {nil, map[string]string{"JWT_SECRET": secret, "SMTP_TLS": "maybe"}, "smtp tls mode"},
		"verify ttl":      {[]string{"-email-verify-ttl", "0s"}, map[string]string{"JWT_SECRET": secret}, "email-verify-ttl"},
		"avatar debounce": {[]string{"-group-avatar-debounce", "0s"}, map[string]string{"JWT_SECRET": secret}, "group-avatar-debounce"},
		"stray argument":  {[]string{"serve"}, map[string]string{"JWT_SECRET": secret}, "unexpected"},
		"unknown flag":    {[]string{"-nope"}, map[string]string{"JWT_SECRET": secret}, "nope"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(tt.args, env(tt.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestSecretsAreMasked(t *testing.T) {
	const smtp = "smtp-pass-word"
	var usage bytes.Buffer
	_, err := Load([]string{"-h"}, env(map[string]string{"JWT_SECRET": secret, "SMTP_PASSWORD": smtp}), &usage)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	if strings.Contains(usage.String(), secret) || strings.Contains(usage.String(), smtp) {
		t.Errorf("-h shows a secret:\n%s", usage.String())
	}
	c, err := Load(nil, env(map[string]string{"JWT_SECRET": secret, "SMTP_PASSWORD": smtp}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.JWTSecret != secret || c.SMTPPassword != smtp {
		t.Fatal("the secrets were not loaded")
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "config", c)
	if strings.Contains(logged.String(), secret) || strings.Contains(logged.String(), smtp) {
		t.Errorf("the log shows a secret: %s", logged.String())
	}
	if !strings.Contains(logged.String(), `"jwt_secret":"xxxxx"`) {
		t.Errorf("the log does not say a secret is set: %s", logged.String())
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]Rate{"10/1m": {10, time.Minute}, "1/1h30m": {1, 90 * time.Minute}, "off": {}, "0": {}, "0/1s": {0, time.Second}} {
		got, err := ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "10", "x/1m", "-1/1m", "10/", "10/0s", "10/-1m", "10/fast"} {
		if _, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) accepted", in)
		}
	}
	if s := (Rate{10, time.Minute}).String(); s != "10/1m0s" {
		t.Errorf("String = %q", s)
	}
}

// NATS credentials, in the URL or in their own settings, never reach the
// log of the Config.
func TestNATSCredentialsAreMasked(t *testing.T) {
	const urlPass, pass = "url-pass-word", "nats-pass-word"
	c, err := Load(nil, env(map[string]string{
		"JWT_SECRET": secret, "NATS_URL": "nats://events:" + urlPass + "@nats.internal:4222",
		"NATS_USER": "events", "NATS_PASSWORD": pass,
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.NATSAuth.Password != pass || !strings.Contains(c.NATSURL, urlPass) {
		t.Fatal("the credentials were not loaded")
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "config", c)
	for _, want := range []string{`"nats_url":"nats://events:xxxxx@nats.internal:4222"`, `"nats_password":"xxxxx"`} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("the log lacks %s: %s", want, logged.String())
		}
	}
	if strings.Contains(logged.String(), urlPass) || strings.Contains(logged.String(), pass) {
		t.Errorf("the log shows a NATS password: %s", logged.String())
	}
	if _, err := Load(nil, env(map[string]string{"JWT_SECRET": secret, "NATS_USER": "events"}), io.Discard); err == nil || !strings.Contains(err.Error(), "nats-password") {
		t.Errorf("a user without a password: %v", err)
	}
}

// In production a NATS_URL needs a credential.
func TestProductionNeedsANATSCredential(t *testing.T) {
	base := map[string]string{"ENV": "production", "JWT_SECRET": secret, "NATS_URL": "nats://nats.internal:4222"}
	if _, err := Load(nil, env(base), io.Discard); err == nil || !strings.Contains(err.Error(), "nats-user (NATS_USER)") {
		t.Fatalf("production NATS_URL without a credential: %v", err)
	}
	base["NATS_USER"], base["NATS_PASSWORD"] = "userservice", "Hv3Qz8Lk2Wm7Rt5X"
	if _, err := Load(nil, env(base), io.Discard); err != nil && strings.Contains(err.Error(), "nats-user (NATS_USER)") {
		t.Fatalf("production NATS_URL with a credential: %v", err)
	}
}
