package security

import (
	"strings"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/apitest"
	"github.com/privateim/privateim/userservice/internal/config"
	"github.com/privateim/privateim/userservice/internal/usertest"
)

func httpAddr(t *testing.T, configure func(*config.Config)) string {
	t.Helper()
	e := usertest.StartWith(t, usertest.Options{Configure: configure})
	return strings.TrimPrefix(e.URL, "http://")
}

// The userservice closes a keep-alive connection idle for HTTP_IDLE_TIMEOUT.
func TestIdleKeepAliveConnectionIsClosed(t *testing.T) {
	t.Parallel()
	addr := httpAddr(t, func(c *config.Config) { c.HTTP.Idle = 500 * time.Millisecond })
	apitest.IdleKeepAliveIsClosed(t, addr, 5*time.Second)
}

// Request headers sent a line at a time held a connection for the fixed
// 10 s header timeout, whatever the deployment wanted.
func TestSlowlorisHeaderIsCutOff(t *testing.T) {
	t.Parallel()
	addr := httpAddr(t, func(c *config.Config) { c.HTTP.ReadHeader = 500 * time.Millisecond })
	apitest.SlowHeadersAreCut(t, addr)
}

// A request body dripping a byte at a time held a connection for as long as
// the client liked, up to HTTP_READ_TIMEOUT (2m by default: uploads).
func TestSlowBodyIsCutOff(t *testing.T) {
	t.Parallel()
	addr := httpAddr(t, func(c *config.Config) { c.HTTP.Read = time.Second })
	apitest.SlowBodyIsCut(t, addr)
}
