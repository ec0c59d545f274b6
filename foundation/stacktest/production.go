package stacktest

import (
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"github.com/privateim/privateim/foundation/tlsconfig"
	"github.com/privateim/privateim/foundation/tlsconfig/devpki"
)

// ProductionMode checks a binary's configuration loading (load, given the
// environment) in ENV=production: it must refuse the dev CA and a TLS file
// that is missing, each error naming the setting, and accept the same
// layout signed by a deployment's own CA. identity is the binary's
// certificate (tlsconfig.DataService, ...); env adds what the binary
// requires besides (JWT_SECRET).
func ProductionMode(t *testing.T, identity string, env map[string]string, load func(getenv func(string) string) error) {
	t.Helper()
	dev, err := devpki.Write(filepath.Join(t.TempDir(), "dev"))
	if err != nil {
		t.Fatal(err)
	}
	prod, err := devpki.WriteCA(filepath.Join(t.TempDir(), "prod"), "Example Deployment CA")
	if err != nil {
		t.Fatal(err)
	}
	getenv := func(files tlsconfig.Files, extra ...string) func(string) string {
		m := map[string]string{"ENV": "production", "TLS_CA": files.CA, "TLS_CERT": files.Cert, "TLS_KEY": files.Key}
		for k, v := range env {
			m[k] = v
		}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return func(k string) string { return m[k] }
	}
	missing := prod.For(identity)
	missing.Cert = filepath.Join(t.TempDir(), "missing.pem")
	tests := []struct {
		name   string
		getenv func(string) string
		want   []string // in the error; none: accepted
	}{
		{"the dev CA is refused", getenv(dev.For(identity)), []string{"TLS_CA", tlsconfig.DevCAName}},
		{"a missing certificate is refused", getenv(missing), []string{"TLS_CERT", "missing.pem"}},
		{"the deployment's CA starts", getenv(prod.For(identity)), nil},
		{"development takes the dev CA", getenv(dev.For(identity), "ENV", "development"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := load(tc.getenv)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want an error naming %v", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

// ProductionCase is one environment ProductionSecrets loads: the
// deployment's good environment with Env's changes (a "" value unsets the
// variable), and what the error must name (nothing: it must load).
type ProductionCase struct {
	Name string
	Env  map[string]string
	Want []string
}

// ProductionSecrets checks a binary's configuration loading (load, given
// the environment) in ENV=production with a deployment's own CA (every
// TLS setting good) and good, which must load: each case changes good
// and wants the error to name the setting (the default secret, the
// placeholder) or, without Want, the configuration to load. No error may
// show a value of any variable whose name holds PASSWORD or SECRET.
func ProductionSecrets(t *testing.T, identity string, good map[string]string, load func(getenv func(string) string) error, cases []ProductionCase) {
	t.Helper()
	prod, err := devpki.WriteCA(filepath.Join(t.TempDir(), "prod"), "Example Deployment CA")
	if err != nil {
		t.Fatal(err)
	}
	files := prod.For(identity)
	base := map[string]string{"ENV": "production", "TLS_CA": files.CA, "TLS_CERT": files.Cert, "TLS_KEY": files.Key}
	for k, v := range good {
		base[k] = v
	}
	cases = append([]ProductionCase{{Name: "the deployment's own secrets start"}}, cases...)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			env := maps.Clone(base)
			for k, v := range tc.Env {
				env[k] = v
			}
			err := load(func(k string) string { return env[k] })
			if len(tc.Want) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want an error naming %v", tc.Want)
			}
			for _, w := range tc.Want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			for k, v := range env {
				if len(v) >= 4 && (strings.Contains(k, "PASSWORD") || strings.Contains(k, "SECRET")) && strings.Contains(err.Error(), v) {
					t.Errorf("error %q shows the value of %s", err, k)
				}
			}
		})
	}
}
