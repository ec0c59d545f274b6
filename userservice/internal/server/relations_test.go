package server_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"

	"github.com/privateim/privateim/foundation/stacktest"

	"github.com/privateim/privateim/userservice/internal/config"
	"github.com/privateim/privateim/userservice/internal/server"
	"github.com/privateim/privateim/userservice/internal/usertest"
)

// With NATS_URL set, the server does not start without a NATS server: relation
// events would be lost silently otherwise.
func TestNewFailsWithoutNATS(t *testing.T) {
	t.Parallel()
	dir, certs := stacktest.TempCerts(t)
	cfg := config.Default()
	cfg.HTTPAddr, cfg.GRPCAddr, cfg.DataAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:1"
	cfg.TLS, cfg.DataTLS = certs.Server, certs.Client
	cfg.JWTSecret = rand.Text() + rand.Text()
	cfg.UploadDir, cfg.SearchDir = filepath.Join(dir, "uploads"), filepath.Join(dir, "search")
	cfg.NATSURL = "nats://127.0.0.1:1"
	_, err := server.New(cfg, usertest.Logger())
	if err == nil || !strings.Contains(err.Error(), "relation events") {
		t.Fatalf("New without NATS: %v", err)
	}
	// What New opened before failing is closed again: the index opens anew.
	cfg.NATSURL = ""
	s, err := server.New(cfg, usertest.Logger())
	if err != nil {
		t.Fatalf("New after the failure: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Run(ctx); err != nil { // serves, sees ctx done, shuts down
		t.Fatal(err)
	}
}
