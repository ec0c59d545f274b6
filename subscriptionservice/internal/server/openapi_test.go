package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"

	"github.com/privateim/privateim/protos/tlsconfig/devpki"

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
	dir := t.TempDir()
	certs, err := devpki.Write(filepath.Join(dir, "certs"))
	if err != nil {
		t.Fatal(err)
	}
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

	// Served as is.
	rec := httptest.NewRecorder()
	s.api.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.yaml", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/yaml" || rec.Body.String() != string(httpapi.OpenAPIDoc) {
		t.Fatalf("GET /openapi.yaml = %d %q, want 200 application/yaml with the embedded document", rec.Code, rec.Header().Get("Content-Type"))
	}

	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(httpapi.OpenAPIDoc)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("not valid OpenAPI 3: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi %q, want 3.x", doc.OpenAPI)
	}

	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			documented[method+" "+path] = true
			if op.OperationID == "" || op.Summary == "" {
				t.Errorf("%s %s: no operationId or summary", method, path)
			}
			checkPathParams(t, method, path, item, op)
		}
	}
	registered := map[string]bool{}
	for _, r := range s.api.Handler().(*gin.Engine).Routes() {
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
	if len(registered) < 20 {
		t.Errorf("only %d routes registered; is a feature missing from New?", len(registered))
	}
}

var ginParam = regexp.MustCompile(`[:*]([A-Za-z_]+)`)

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
	for _, m := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(path, -1) {
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
