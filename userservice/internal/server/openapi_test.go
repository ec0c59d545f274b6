package server

import (
	"context"
	"crypto/rand"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/privateim/privateim/foundation/stacktest"

	"github.com/privateim/privateim/foundation/openapitest"
	"github.com/privateim/privateim/userservice/internal/config"
	"github.com/privateim/privateim/userservice/internal/httpapi"
)

// TestOpenAPIMatchesRoutes keeps the OpenAPI document and the routes the
// server registers in step: the document is valid OpenAPI 3, every route of
// the gin engine (as wired by New, so a feature added there is seen) is in
// the document with its method, and the document has no route the engine
// lacks. It needs no DataService: New connects lazily.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	dir, certs := stacktest.TempCerts(t)
	cfg := config.Default()
	cfg.HTTPAddr, cfg.GRPCAddr, cfg.DataAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:1"
	cfg.TLS, cfg.DataTLS = certs.Server, certs.Client
	cfg.JWTSecret = rand.Text() + rand.Text()
	cfg.BcryptCost = 4
	cfg.UploadDir = filepath.Join(dir, "uploads")
	cfg.SearchDir = filepath.Join(dir, "search")
	s, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.CloseUnserved(context.Background()); err != nil {
			t.Error(err)
		}
	})

	openapitest.CheckRoutes(t, s.api.Handler().(*gin.Engine), httpapi.OpenAPIDoc, 40)
}
