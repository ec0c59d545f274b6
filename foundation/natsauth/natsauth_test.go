package natsauth_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/privateim/privateim/foundation/natsauth"
	"github.com/privateim/privateim/foundation/stacktest"
	"github.com/privateim/privateim/foundation/tlsconfig/devpki"
)

func TestAuthValidate(t *testing.T) {
	for _, tt := range []struct {
		name string
		a    natsauth.Auth
		ok   bool
	}{
		{"none", natsauth.Auth{}, true},
		{"user and password", natsauth.Auth{User: "u", Password: "p"}, true},
		{"seed", natsauth.Auth{NKeySeed: "f"}, true},
		{"user alone", natsauth.Auth{User: "u"}, false},
		{"password alone", natsauth.Auth{Password: "p"}, false},
		{"both kinds", natsauth.Auth{User: "u", Password: "p", NKeySeed: "f"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.a.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

// The configuration written for an external nats-server gives a real
// server the same users and permissions as ServerOptions: each role
// publishes its subjects only, and a client needs TLS and a credential.
func TestServerConfigRunsAServerWithTheRoles(t *testing.T) {
	dir := t.TempDir()
	certs, err := devpki.Write(filepath.Join(dir, "certs"))
	if err != nil {
		t.Fatal(err)
	}
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := kp.Seed()
	seedFile := filepath.Join(dir, "node.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	pub := natsauth.Generate("userservice")
	server, err := certs.Issue("nats")
	if err != nil {
		t.Fatal(err)
	}
	conf, err := natsauth.ServerConfig(server, []natsauth.User{
		{Role: natsauth.Node, Auth: natsauth.Auth{NKeySeed: seedFile}}, {Role: natsauth.Publisher, Auth: pub},
	})
	if err != nil {
		t.Fatal(err)
	}
	url := stacktest.StartNATSConfig(t, conf)

	client := func(a natsauth.Auth) natsauth.Client {
		return natsauth.Client{URL: url, Auth: a, TLS: certs.Message}
	}
	if nc, err := client(natsauth.Auth{}).Connect(); err == nil {
		nc.Close()
		t.Fatal("connected without a credential")
	}
	if nc, err := nats.Connect(url, nats.UserInfo(pub.User, pub.Password)); err == nil {
		nc.Close()
		t.Fatal("connected without TLS")
	}

	node, err := client(natsauth.Auth{NKeySeed: seedFile}).Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	got := make(chan *nats.Msg, 4)
	if _, err := node.ChanSubscribe(natsauth.RelationsSubject, got); err != nil {
		t.Fatal(err)
	}
	if err := node.Flush(); err != nil {
		t.Fatal(err)
	}
	violations := make(chan error, 4)
	publisher, err := client(pub).Connect(nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { violations <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer publisher.Close()
	if err := publisher.Publish(natsauth.RelationsSubject, []byte("event")); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if string(m.Data) != "event" {
			t.Fatalf("got %q", m.Data)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the publisher's event did not arrive")
	}
	if err := publisher.Publish("privateim.msg.node.n1", []byte("forged")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-violations:
		if !strings.Contains(err.Error(), "Permissions Violation") {
			t.Fatalf("error %v, want a permissions violation", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the publisher published a delivery")
	}
}

func TestServerConfigRefusesBadUsers(t *testing.T) {
	for _, tt := range []struct {
		name  string
		users []natsauth.User
	}{
		{"no users", nil},
		{"no credential", []natsauth.User{{Role: natsauth.Node}}},
		{"a user twice", []natsauth.User{{Role: natsauth.Node, Auth: natsauth.Auth{User: "a", Password: "p"}}, {Role: natsauth.Publisher, Auth: natsauth.Auth{User: "a", Password: "q"}}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := natsauth.ServerConfig(devpki.Set{}.Data, tt.users); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestValidNodeID(t *testing.T) {
	for id, ok := range map[string]bool{
		"n1": true, "host.example.com:8081": true, "test-AB12": true,
		"": false, "a..b": false, ".a": false, "a.": false, "a b": false, "n*": false, "n>": false,
	} {
		if err := natsauth.ValidNodeID(id); (err == nil) != ok {
			t.Errorf("ValidNodeID(%q) = %v, want ok %v", id, err, ok)
		}
	}
}
