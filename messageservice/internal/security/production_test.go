package security

import (
	"io"
	"testing"

	"github.com/privateim/privateim/foundation/stacktest"
	"github.com/privateim/privateim/foundation/tlsconfig"

	"github.com/privateim/privateim/messageservice/internal/config"
)

// A deployment started with ENV=production on the dev CA from certs/ (whose
// key sits in every developer's checkout) or with a TLS file missing does
// not start: the messageservice's configuration loading refuses it, naming the
// setting. docs/security.md, "Production mode".
func TestProductionModeRefusesTheDevCA(t *testing.T) {
	t.Parallel()
	stacktest.ProductionMode(t, tlsconfig.MessageService, nil, func(getenv func(string) string) error {
		_, err := config.Load(nil, getenv, io.Discard)
		return err
	})
}
