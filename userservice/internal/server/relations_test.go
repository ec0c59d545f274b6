package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/privateim/privateim/userservice/internal/server"
	"github.com/privateim/privateim/userservice/internal/usertest"
)

// With NATS_URL set, the server does not start without a NATS server: relation
// events would be lost silently otherwise.
func TestNewFailsWithoutNATS(t *testing.T) {
	t.Parallel()
	cfg := usertest.OfflineConfig(t)
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
