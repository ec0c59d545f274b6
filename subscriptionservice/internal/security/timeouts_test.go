package security

import (
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/apitest"

	"github.com/privateim/privateim/subscriptionservice/internal/config"
	"github.com/privateim/privateim/subscriptionservice/internal/server"
	"github.com/privateim/privateim/subscriptionservice/internal/subtest"
)

// httpAddr starts a subscriptionservice (no other service needed: it dials
// them lazily, and /healthz answers without them) with its Config changed
// by configure, and returns its HTTP address.
func httpAddr(t *testing.T, configure func(*config.Config)) string {
	t.Helper()
	cfg := subtest.OfflineConfig(t)
	configure(&cfg)
	s, err := server.New(cfg, subtest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	apitest.Serve(t, "subscriptionservice", s)
	return s.HTTPAddr()
}

// Request headers sent a line at a time held a connection (and its
// goroutine) until HTTP_READ_HEADER_TIMEOUT; it must be the setting's.
func TestSlowlorisHeaderIsCutOff(t *testing.T) {
	t.Parallel()
	apitest.SlowHeadersAreCut(t, httpAddr(t, func(c *config.Config) { c.HTTP.ReadHeader = 500 * time.Millisecond }))
}

// A body dripping a byte at a time holds a connection until
// HTTP_READ_TIMEOUT.
func TestSlowBodyIsCutOff(t *testing.T) {
	t.Parallel()
	apitest.SlowBodyIsCut(t, httpAddr(t, func(c *config.Config) { c.HTTP.Read = time.Second }))
}

// Keep-alive connections that never send a second request are closed after
// HTTP_IDLE_TIMEOUT.
func TestIdleKeepAliveConnectionIsClosed(t *testing.T) {
	t.Parallel()
	apitest.IdleKeepAliveIsClosed(t, httpAddr(t, func(c *config.Config) { c.HTTP.Idle = 500 * time.Millisecond }), 5*time.Second)
}
