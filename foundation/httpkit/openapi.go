package httpkit

import "github.com/gin-gonic/gin"

// OpenAPI is the Feature serving a service's OpenAPI 3 document at
// GET /openapi.yaml. Each service embeds its own document; its OpenAPI
// test (openapitest) keeps the document and the routes in step.
type OpenAPI struct {
	Doc []byte
}

// Register implements Feature.
func (o OpenAPI) Register(r Routes) {
	r.Root.GET("/openapi.yaml", func(c *gin.Context) {
		c.Header("Cache-Control", "no-cache")
		c.Data(200, "application/yaml", o.Doc)
	})
}
