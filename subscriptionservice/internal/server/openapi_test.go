package server

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/privateim/privateim/foundation/stacktest"

	"github.com/privateim/privateim/foundation/openapitest"
	"github.com/privateim/privateim/subscriptionservice/internal/config"
	"github.com/privateim/privateim/subscriptionservice/internal/httpapi"
)

// TestOpenAPIMatchesRoutes checks the OpenAPI document against the gin
// engine as New wires it (openapitest.CheckRoutes: valid OpenAPI 3, the same
// routes and methods both ways). New connects to the other services lazily,
// so none runs.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	dir, certs := stacktest.TempCerts(t)
	cfg := config.Default()
	cfg.HTTPAddr, cfg.GRPCAddr, cfg.DataAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:1"
	cfg.UserAddr, cfg.MessageAddr = "127.0.0.1:1", "127.0.0.1:1"
	cfg.TLS, cfg.ClientTLS = certs.Server, certs.Client
	cfg.UploadDir = filepath.Join(dir, "uploads")
	s, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.CloseUnserved(context.Background()); err != nil {
			t.Error(err)
		}
	})

	openapitest.CheckRoutes(t, s.api.Handler().(*gin.Engine), httpapi.OpenAPIDoc, 20)
}
