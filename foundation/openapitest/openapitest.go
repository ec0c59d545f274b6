// Package openapitest checks, in a service's tests, that its OpenAPI
// document and the routes its gin engine registers are the same set: the
// document is valid OpenAPI 3 and served as is at GET /openapi.yaml, every
// operation has an operationId and a summary and declares its path
// parameters, every route is documented and every documented route is
// registered.
package openapitest

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"
)

// CheckRoutes checks engine against doc (the embedded openapi.yaml) and
// fails t on every mismatch; fewer than minRoutes registered routes means
// a feature is missing from the server's wiring.
func CheckRoutes(t *testing.T, engine *gin.Engine, doc []byte, minRoutes int) {
	t.Helper()
	rec := httptest.NewRecorder()
	engine.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.yaml", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/yaml" || rec.Body.String() != string(doc) {
		t.Fatalf("GET /openapi.yaml = %d %q, want 200 application/yaml with the embedded document", rec.Code, rec.Header().Get("Content-Type"))
	}

	loader := openapi3.NewLoader()
	d, err := loader.LoadFromData(doc)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := d.Validate(loader.Context); err != nil {
		t.Fatalf("not valid OpenAPI 3: %v", err)
	}
	if !strings.HasPrefix(d.OpenAPI, "3.") {
		t.Fatalf("openapi %q, want 3.x", d.OpenAPI)
	}

	documented := map[string]bool{}
	for path, item := range d.Paths.Map() {
		for method, op := range item.Operations() {
			documented[method+" "+path] = true
			if op.OperationID == "" || op.Summary == "" {
				t.Errorf("%s %s: no operationId or summary", method, path)
			}
			checkPathParams(t, method, path, item, op)
		}
	}
	registered := map[string]bool{}
	for _, r := range engine.Routes() {
		registered[r.Method+" "+openAPIPath(r.Path)] = true
	}
	for _, route := range sortedKeys(registered) {
		if !documented[route] {
			t.Errorf("route %s is not in openapi.yaml", route)
		}
	}
	for _, route := range sortedKeys(documented) {
		if !registered[route] {
			t.Errorf("openapi.yaml documents %s, which is not registered", route)
		}
	}
	t.Logf("%d routes registered and documented", len(registered))
	if len(registered) < minRoutes {
		t.Errorf("only %d routes registered; is a feature missing from New?", len(registered))
	}
}

var (
	ginParam  = regexp.MustCompile(`[:*]([A-Za-z_]+)`)
	pathParam = regexp.MustCompile(`\{([^}]+)\}`)
)

// openAPIPath writes gin's /groups/:id and /static/*path as /groups/{id}
// and /static/{path}.
func openAPIPath(p string) string { return ginParam.ReplaceAllString(p, "{$1}") }

// checkPathParams wants every {name} of path declared as a path parameter.
func checkPathParams(t *testing.T, method, path string, item *openapi3.PathItem, op *openapi3.Operation) {
	t.Helper()
	declared := map[string]bool{}
	for _, ps := range []openapi3.Parameters{item.Parameters, op.Parameters} {
		for _, p := range ps {
			if p.Value != nil && p.Value.In == openapi3.ParameterInPath {
				declared[p.Value.Name] = true
			}
		}
	}
	for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
		if !declared[m[1]] {
			t.Errorf("%s %s: path parameter %s not declared", method, path, m[1])
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
