package security

import (
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/privateim/privateim/foundation/stacktest"
	"github.com/privateim/privateim/foundation/tlsconfig"
	"github.com/privateim/privateim/foundation/tlsconfig/devpki"

	"github.com/privateim/privateim/userservice/internal/config"
)

// A deployment started with ENV=production on the dev CA from certs/ (whose
// key sits in every developer's checkout) or with a TLS file missing does
// not start: the userservice's configuration loading refuses it, naming the
// setting. docs/security.md, "Production mode".
func TestProductionModeRefusesTheDevCA(t *testing.T) {
	t.Parallel()
	stacktest.ProductionMode(t, tlsconfig.UserService, map[string]string{"JWT_SECRET": strings.Repeat("s", 40)}, func(getenv func(string) string) error {
		_, err := config.Load(nil, getenv, io.Discard)
		return err
	})
}

// Mail in clear (the reset and verification links are credentials) is for
// mailpit on a developer's machine: production refuses SMTP_TLS=none even
// with the deployment's own CA.
func TestProductionModeRefusesPlainSMTP(t *testing.T) {
	t.Parallel()
	prod, err := devpki.WriteCA(filepath.Join(t.TempDir(), "prod"), "Example Deployment CA")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ENV": "production", "JWT_SECRET": strings.Repeat("s", 40), "SMTP_TLS": "none"}
	for k, v := range map[string]string{"TLS_CA": prod.CA, "TLS_CERT": prod.User.Cert, "TLS_KEY": prod.User.Key} {
		env[k] = v
	}
	_, err = config.Load(nil, func(k string) string { return env[k] }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "SMTP_TLS") {
		t.Fatalf("SMTP_TLS=none in production: %v, want an error naming SMTP_TLS", err)
	}
	env["SMTP_TLS"] = "starttls"
	if _, err := config.Load(nil, func(k string) string { return env[k] }, io.Discard); err != nil {
		t.Fatalf("SMTP_TLS=starttls in production: %v", err)
	}
}
