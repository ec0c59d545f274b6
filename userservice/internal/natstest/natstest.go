// Package natstest starts an embedded NATS server on a free port for tests
// and subscribes to subjects, collecting what arrives.
package natstest

import (
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Start runs a NATS server on 127.0.0.1 and a random port until cleanup
// and returns it; ClientURL() is its URL.
func Start(tb testing.TB) *natsserver.Server {
	tb.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		tb.Fatalf("nats server: %v", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		tb.Fatal("nats server not ready")
	}
	tb.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	return ns
}

// Subscribe subscribes to subject on url; messages arrive on the returned
// channel (buffered: 1024) until cleanup. The subscription is in place when
// Subscribe returns.
func Subscribe(tb testing.TB, url, subject string) <-chan *nats.Msg {
	tb.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		tb.Fatalf("nats connect: %v", err)
	}
	tb.Cleanup(nc.Close)
	ch := make(chan *nats.Msg, 1024)
	if _, err := nc.ChanSubscribe(subject, ch); err != nil {
		tb.Fatalf("subscribe %s: %v", subject, err)
	}
	if err := nc.Flush(); err != nil { // the server has the subscription
		tb.Fatalf("nats flush: %v", err)
	}
	return ch
}
