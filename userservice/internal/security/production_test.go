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
	stacktest.ProductionMode(t, tlsconfig.UserService, prodSecrets, load)
}

func load(getenv func(string) string) error {
	_, err := config.Load(nil, getenv, io.Discard)
	return err
}

// prodSecrets are a deployment's own secrets.
var prodSecrets = map[string]string{
	"JWT_SECRET":      "k3Jq9Vx2Lm7Tz4Rw8Yb1Nc6Hf5Dg0Sp+",
	"FILE_URL_SECRET": "Qa8Zm2Xk7Wv4Pj9Lt3Rc6Yn1Bh5Gd0Fs/",
}

// A production userservice started with an empty or placeholder secret
// (JWT_SECRET forty times "s", FILE_URL_SECRET left to be derived from the
// token key) signs tokens or file URLs with a key anyone may guess, or one
// key for two uses. docs/security.md, "Production mode".
func TestProductionModeRefusesDefaultSecrets(t *testing.T) {
	t.Parallel()
	stacktest.ProductionSecrets(t, tlsconfig.UserService, prodSecrets, load, []stacktest.ProductionCase{
		{Name: "no JWT_SECRET", Env: map[string]string{"JWT_SECRET": ""}, Want: []string{"JWT_SECRET"}},
		{Name: "a placeholder JWT_SECRET", Env: map[string]string{"JWT_SECRET": strings.Repeat("s", 40)}, Want: []string{"JWT_SECRET", "placeholder"}},
		{Name: "changeme", Env: map[string]string{"JWT_SECRET": strings.Repeat("changeme", 5)}, Want: []string{"JWT_SECRET", "placeholder"}},
		{Name: "no FILE_URL_SECRET (derived from JWT_SECRET)", Env: map[string]string{"FILE_URL_SECRET": ""}, Want: []string{"FILE_URL_SECRET", "required in production"}},
		{Name: "a placeholder FILE_URL_SECRET", Env: map[string]string{"FILE_URL_SECRET": strings.Repeat("ab", 20)}, Want: []string{"FILE_URL_SECRET", "placeholder"}},
		{Name: "FILE_URL_SECRET the same as JWT_SECRET", Env: map[string]string{"FILE_URL_SECRET": prodSecrets["JWT_SECRET"]}, Want: []string{"FILE_URL_SECRET", "differ"}},
		{Name: "an SMTP user without a password", Env: map[string]string{"SMTP_USER": "mailer"}, Want: []string{"SMTP_PASSWORD"}},
		{Name: "an SMTP user with a password starts", Env: map[string]string{"SMTP_USER": "mailer", "SMTP_PASSWORD": "Tz5Kx8Qm3Wb7"}},
		{Name: "NATS_URL without a credential", Env: map[string]string{"NATS_URL": "nats://nats.internal:4222"}, Want: []string{"NATS_USER"}},
		{Name: "development keeps the derived file key", Env: map[string]string{"ENV": "development", "FILE_URL_SECRET": ""}},
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
	env := map[string]string{"ENV": "production", "JWT_SECRET": prodSecrets["JWT_SECRET"], "FILE_URL_SECRET": prodSecrets["FILE_URL_SECRET"], "SMTP_TLS": "none"}
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
