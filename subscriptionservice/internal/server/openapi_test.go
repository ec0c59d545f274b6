package server_test

import (
	"context"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/privateim/privateim/foundation/openapitest"
	"github.com/privateim/privateim/subscriptionservice/internal/httpapi"
	"github.com/privateim/privateim/subscriptionservice/internal/server"
	"github.com/privateim/privateim/subscriptionservice/internal/subtest"
)

// TestOpenAPIMatchesRoutes checks the OpenAPI document against the gin
// engine as New wires it (openapitest.CheckRoutes: valid OpenAPI 3, the same
// routes and methods both ways), with no other service running.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	s, err := server.New(subtest.OfflineConfig(t), subtest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	openapitest.CheckRoutes(t, s.HTTP.Handler.(*gin.Engine), httpapi.OpenAPIDoc, 20)
	if err := s.CloseUnserved(context.Background()); err != nil {
		t.Error(err)
	}
}
