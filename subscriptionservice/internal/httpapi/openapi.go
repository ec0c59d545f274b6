package httpapi

import (
	_ "embed"

	"github.com/gin-gonic/gin"
)

// OpenAPIDoc is the OpenAPI 3 document of the public API. The test
// TestOpenAPIMatchesRoutes keeps it and the routes registered in step.
//
//go:embed openapi.yaml
var OpenAPIDoc []byte

// OpenAPI serves OpenAPIDoc at GET /openapi.yaml.
type OpenAPI struct{}

// Register implements Feature.
func (OpenAPI) Register(r Routes) {
	r.Root.GET("/openapi.yaml", func(c *gin.Context) {
		c.Header("Cache-Control", "no-cache")
		c.Data(200, "application/yaml", OpenAPIDoc)
	})
}
