package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/privateim/privateim/userservice/internal/usertest"
)

func TestHealthAndReady(t *testing.T) {
	t.Parallel()
	e := usertest.Start(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		if r := e.Do(t, http.MethodGet, path, "", nil); r.Status != http.StatusOK {
			t.Errorf("GET %s = %d %s, want 200", path, r.Status, r.Body)
		}
	}
	r := e.Do(t, http.MethodGet, "/nope", "", nil)
	if r.Status != http.StatusNotFound || r.Err().Code != "not_found" {
		t.Errorf("GET /nope = %d %s, want 404 not_found", r.Status, r.Body)
	}
	r = e.Do(t, http.MethodDelete, "/healthz", "", nil)
	if r.Status != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /healthz = %d %s, want 405", r.Status, r.Body)
	}
}
