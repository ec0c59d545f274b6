package security

import (
	"io"
	"strings"
	"testing"

	"github.com/privateim/privateim/foundation/stacktest"
	"github.com/privateim/privateim/foundation/tlsconfig"

	"github.com/privateim/privateim/messageservice/internal/config"
)

func load(getenv func(string) string) error {
	_, err := config.Load(nil, getenv, io.Discard)
	return err
}

// A deployment started with ENV=production on the dev CA from certs/ (whose
// key sits in every developer's checkout) or with a TLS file missing does
// not start: the messageservice's configuration loading refuses it, naming the
// setting. docs/security.md, "Production mode".
func TestProductionModeRefusesTheDevCA(t *testing.T) {
	t.Parallel()
	stacktest.ProductionMode(t, tlsconfig.MessageService, nil, load)
}

// A production node must not take a NATS credential anyone may guess or
// none at all on an external NATS, nor serve its profiles to the network.
// The embedded server's generated credential (none configured) is random
// per start and never leaves the process: accepted. docs/security.md,
// "Production mode".
func TestProductionModeRefusesDefaultSecrets(t *testing.T) {
	t.Parallel()
	const pw = "Hv3Qz8Lk2Wm7Rt5X"
	stacktest.ProductionSecrets(t, tlsconfig.MessageService, nil, load, []stacktest.ProductionCase{
		{Name: "an external NATS without a credential", Env: map[string]string{"NATS_URL": "nats://nats.internal:4222"}, Want: []string{"NATS_USER"}},
		{Name: "an external NATS with a placeholder password", Env: map[string]string{"NATS_URL": "nats://nats.internal:4222", "NATS_USER": "node", "NATS_PASSWORD": strings.Repeat("x", 20)}, Want: []string{"NATS_PASSWORD", "placeholder"}},
		{Name: "a short NATS password", Env: map[string]string{"NATS_URL": "nats://nats.internal:4222", "NATS_USER": "node", "NATS_PASSWORD": "pw"}, Want: []string{"NATS_PASSWORD"}},
		{Name: "an external NATS with its own credential starts", Env: map[string]string{"NATS_URL": "nats://nats.internal:4222", "NATS_USER": "node", "NATS_PASSWORD": pw}},
		{Name: "the embedded NATS with a placeholder events password", Env: map[string]string{"NATS_EVENTS_USER": "userservice", "NATS_EVENTS_PASSWORD": "changeme"}, Want: []string{"NATS_EVENTS_PASSWORD"}},
		{Name: "the embedded NATS with a generated credential starts", Env: map[string]string{"NATS_EVENTS_USER": "userservice", "NATS_EVENTS_PASSWORD": pw}},
		{Name: "pprof on every interface", Env: map[string]string{"PPROF_ADDR": ":6061"}, Want: []string{"PPROF_ADDR"}},
		{Name: "pprof on another host's address", Env: map[string]string{"PPROF_ADDR": "10.0.0.5:6061"}, Want: []string{"PPROF_ADDR"}},
		{Name: "pprof on loopback starts", Env: map[string]string{"PPROF_ADDR": "127.0.0.1:6061"}},
		{Name: "development takes any password", Env: map[string]string{"ENV": "development", "NATS_URL": "nats://127.0.0.1:4222", "NATS_USER": "node", "NATS_PASSWORD": "pw"}},
	})
}
