// Package natstest starts a NATS server for the userservice's tests the
// way a deployment runs one (foundation/stacktest.StartNATS: mutual TLS, a
// user per role) and subscribes to subjects as a message node, collecting
// what arrives.
package natstest

import (
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/privateim/privateim/foundation/natsauth"
	"github.com/privateim/privateim/foundation/stacktest"
	"github.com/privateim/privateim/foundation/tlsconfig/devpki"
)

// Start runs a NATS server with certs on a free port of 127.0.0.1 until
// cleanup.
func Start(tb testing.TB, certs devpki.Set) *stacktest.NATS {
	tb.Helper()
	return stacktest.StartNATS(tb, certs)
}

// Subscribe subscribes to subject on ns as a message node (the role that
// reads relation events); messages arrive on the returned channel
// (buffered: 1024) until cleanup. The subscription is in place when
// Subscribe returns.
func Subscribe(tb testing.TB, ns *stacktest.NATS, subject string) <-chan *nats.Msg {
	tb.Helper()
	nc := ns.Connect(tb, natsauth.Node)
	ch := make(chan *nats.Msg, 1024)
	if _, err := nc.ChanSubscribe(subject, ch); err != nil {
		tb.Fatalf("subscribe %s: %v", subject, err)
	}
	if err := nc.Flush(); err != nil { // the server has the subscription
		tb.Fatalf("nats flush: %v", err)
	}
	return ch
}
