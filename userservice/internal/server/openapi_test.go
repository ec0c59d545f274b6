package server_test

import (
	"context"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/privateim/privateim/foundation/openapitest"
	"github.com/privateim/privateim/userservice/internal/httpapi"
	"github.com/privateim/privateim/userservice/internal/server"
	"github.com/privateim/privateim/userservice/internal/usertest"
)

// TestOpenAPIMatchesRoutes keeps the OpenAPI document and the routes the
// server registers in step: the document is valid OpenAPI 3, every route of
// the gin engine (as wired by New, so a feature added there is seen) is in
// the document with its method, and the document has no route the engine
// lacks. It needs no DataService: New connects lazily.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	s, err := server.New(usertest.OfflineConfig(t), usertest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.CloseUnserved(context.Background()); err != nil {
			t.Error(err)
		}
	})
	openapitest.CheckRoutes(t, s.HTTP.Handler.(*gin.Engine), httpapi.OpenAPIDoc, 40)
}
