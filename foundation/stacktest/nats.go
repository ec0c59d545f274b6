package stacktest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/privateim/privateim/foundation/natsauth"
	"github.com/privateim/privateim/foundation/tlsconfig"
	"github.com/privateim/privateim/foundation/tlsconfig/devpki"
)

// NATS is a NATS server run in the test process the way a deployment runs
// an external one: mutual TLS with the stack's CA and one user per role
// with its permissions (foundation/natsauth).
type NATS struct {
	Server *natsserver.Server
	URL    string // nats://127.0.0.1:port
	Certs  devpki.Set
	Users  map[natsauth.Role]natsauth.Auth
}

// StartNATS starts a NATS server on a free port of 127.0.0.1 with a
// certificate of its own ("nats") from certs, clients' certificates
// verified against certs' CA, and a generated user per role, until
// cleanup.
func StartNATS(tb testing.TB, certs devpki.Set) *NATS {
	tb.Helper()
	files, err := certs.Issue("nats")
	if err != nil {
		tb.Fatalf("nats certificate: %v", err)
	}
	tlsc, err := tlsconfig.Server(files)
	if err != nil {
		tb.Fatalf("nats tls: %v", err)
	}
	n := &NATS{Certs: certs, Users: map[natsauth.Role]natsauth.Auth{
		natsauth.Node: natsauth.Generate("node"), natsauth.Publisher: natsauth.Generate("publisher"),
	}}
	opts, err := natsauth.ServerOptions("127.0.0.1", -1, tlsc, []natsauth.User{
		{Role: natsauth.Node, Auth: n.Users[natsauth.Node]}, {Role: natsauth.Publisher, Auth: n.Users[natsauth.Publisher]},
	})
	if err != nil {
		tb.Fatal(err)
	}
	if n.Server, err = natsserver.NewServer(opts); err != nil {
		tb.Fatalf("nats server: %v", err)
	}
	go n.Server.Start()
	if !n.Server.ReadyForConnections(10 * time.Second) {
		n.Server.Shutdown()
		tb.Fatal("nats server not ready")
	}
	tb.Cleanup(func() { n.Server.Shutdown(); n.Server.WaitForShutdown() })
	n.URL = n.Server.ClientURL()
	return n
}

// Client is how the service of role r connects: its credential and its
// certificate (the messageservice's for a node, the userservice's for the
// publisher).
func (n *NATS) Client(r natsauth.Role) natsauth.Client {
	files := n.Certs.Message
	if r == natsauth.Publisher {
		files = n.Certs.User
	}
	return natsauth.Client{URL: n.URL, Auth: n.Users[r], TLS: files}
}

// Env are the settings of a service connecting as role r: NATS_URL,
// NATS_USER, NATS_PASSWORD (TLS comes from the service's TLS_CA and client
// certificate).
func (n *NATS) Env(r natsauth.Role) []string {
	a := n.Users[r]
	return []string{"NATS_URL=" + n.URL, "NATS_USER=" + a.User, "NATS_PASSWORD=" + a.Password}
}

// Connect connects as role r until cleanup.
func (n *NATS) Connect(tb testing.TB, r natsauth.Role, opts ...nats.Option) *nats.Conn {
	tb.Helper()
	nc, err := n.Client(r).Connect(opts...)
	if err != nil {
		tb.Fatalf("nats connect as %s: %v", r, err)
	}
	tb.Cleanup(nc.Close)
	return nc
}

// StartNATSConfig runs a NATS server from conf, a nats-server
// configuration (natsauth.ServerConfig and more), the way an external
// nats-server reads its file, listening on a free port of 127.0.0.1, until
// cleanup. It returns the server's URL.
func StartNATSConfig(tb testing.TB, conf string) string {
	tb.Helper()
	file := filepath.Join(tb.TempDir(), "nats.conf")
	if err := os.WriteFile(file, []byte("listen: 127.0.0.1:-1\n"+conf), 0o600); err != nil {
		tb.Fatal(err)
	}
	opts, err := natsserver.ProcessConfigFile(file)
	if err != nil {
		tb.Fatalf("nats configuration: %v\n%s", err, conf)
	}
	opts.NoLog, opts.NoSigs = true, true
	ns, err := natsserver.NewServer(opts)
	if err != nil {
		tb.Fatalf("nats server: %v", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		tb.Fatal("nats server not ready")
	}
	tb.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns.ClientURL()
}
