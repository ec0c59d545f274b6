package main

import (
	"context"
	"log/slog"
	"testing"
)

func TestRunRefusesBadConfig(t *testing.T) {
	getenv := func(k string) string {
		if k == "MAX_TRIES" {
			return "0"
		}
		return ""
	}
	if err := run(context.Background(), slog.New(slog.DiscardHandler), nil, getenv); err == nil {
		t.Fatal("run accepted MAX_TRIES=0")
	}
}

func TestRunRefusesMissingCerts(t *testing.T) {
	getenv := func(k string) string {
		switch k {
		case "TLS_CA", "TLS_CERT", "TLS_KEY":
			return t.TempDir() + "/missing.pem"
		case "HTTP_ADDR", "GRPC_ADDR", "NATS_LISTEN":
			return "127.0.0.1:0"
		}
		return ""
	}
	if err := run(context.Background(), slog.New(slog.DiscardHandler), nil, getenv); err == nil {
		t.Fatal("run started without certificates")
	}
}
