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

// TestOpenAPIMatchesRoutes keeps the OpenAPI document and the routes the
// server registers in step: the document is valid OpenAPI 3, every route of
// the gin engine (as wired by New, so a feature added there is seen) is in
// the document with its method, and the document has no route the engine
// lacks. It needs no other service: New connects lazily.
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
		s.httpLis.Close()
		s.grpcLis.Close()
		if err := s.closeAll(context.Background()); err != nil {
			t.Error(err)
		}
	})

	openapitest.CheckRoutes(t, s.api.Handler().(*gin.Engine), httpapi.OpenAPIDoc, 20)
}
