package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/privateim/privateim/foundation/tlsconfig"
	"github.com/privateim/privateim/foundation/tlsconfig/devpki"
)

var pemFiles = []string{"ca.pem", "ca-key.pem",
	"dataservice.pem", "dataservice-key.pem", "messageservice.pem", "messageservice-key.pem",
	"userservice.pem", "userservice-key.pem", "subscriptionservice.pem", "subscriptionservice-key.pem",
	"operator.pem", "operator-key.pem", "admin.pem", "admin-key.pem"}

func readAll(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	got := map[string][]byte{}
	for _, f := range pemFiles {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("read %s: %v", f, err)
		}
		got[f] = b
	}
	return got
}

func TestRunIsIdempotent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	var out bytes.Buffer
	if err := run([]string{"-dir", dir}, &out); err != nil {
		t.Fatalf("first run: %v", err)
	}
	if !bytes.Contains(out.Bytes(), []byte(filepath.Join(dir, "dataservice.pem"))) {
		t.Errorf("output does not name the dataservice's certificate:\n%s", out.String())
	}
	first := readAll(t, dir)
	if err := run([]string{"-dir", dir}, io.Discard); err != nil {
		t.Fatalf("second run: %v", err)
	}
	second := readAll(t, dir)
	for _, f := range pemFiles {
		if !bytes.Equal(first[f], second[f]) {
			t.Errorf("%s changed on the second run", f)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "operator-key.pem")); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("operator key must be private: %v %v", fi.Mode(), err)
	}
}

// Each certificate names its identity in a URI SAN, and the CA is the one
// production mode refuses.
func TestCertificatesNameTheirIdentity(t *testing.T) {
	dir := t.TempDir()
	if err := run([]string{"-dir", dir}, io.Discard); err != nil {
		t.Fatal(err)
	}
	set := devpki.Paths(dir)
	for _, id := range devpki.Identities {
		pair, err := tls.LoadX509KeyPair(set.For(id).Cert, set.For(id).Key)
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := x509.ParseCertificate(pair.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := tlsconfig.IdentityOf(leaf); !ok || got != id {
			t.Errorf("%s.pem names identity %q (%v), URIs %v", id, got, ok, leaf.URIs)
		}
	}
	if err := tlsconfig.CheckProduction(set.Data); err == nil || !strings.Contains(err.Error(), "TLS_CA") {
		t.Errorf("CheckProduction of the dev CA = %v, want an error naming TLS_CA", err)
	}
}

// -extra issues a certificate of its own for a server that is not a
// service, for the hosts given, naming that identity; a service's identity
// is refused.
func TestExtraIdentities(t *testing.T) {
	dir := t.TempDir()
	if err := run([]string{"-dir", dir, "-hosts", "nats-1,localhost", "-extra", "nats"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	files := devpki.Paths(dir).For("nats")
	pair, err := tls.LoadX509KeyPair(files.Cert, files.Key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := tlsconfig.IdentityOf(leaf); !ok || id != "nats" {
		t.Errorf("identity %q, %v; want nats", id, ok)
	}
	if err := leaf.VerifyHostname("nats-1"); err != nil {
		t.Errorf("not valid for -hosts: %v", err)
	}
	if err := run([]string{"-dir", dir, "-extra", "dataservice"}, io.Discard); err == nil {
		t.Error("-extra dataservice: want an error")
	}
}

func TestRunRejectsEmptyHosts(t *testing.T) {
	if err := run([]string{"-dir", t.TempDir(), "-hosts", " , "}, io.Discard); err == nil {
		t.Fatal("want an error for -hosts with no host")
	}
}

// The written server and client certificates complete a mutual-TLS handshake
// through tlsconfig, and a client whose certificate comes from another CA is
// refused.
func TestHandshake(t *testing.T) {
	dir := t.TempDir()
	if err := run([]string{"-dir", dir}, io.Discard); err != nil {
		t.Fatal(err)
	}
	set := devpki.Paths(dir)
	srvCfg, err := tlsconfig.Server(set.Data)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", srvCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if err := c.(*tls.Conn).Handshake(); err != nil {
					return
				}
				io.Copy(c, c) // echo
			}()
		}
	}()

	t.Run("client from certgen", func(t *testing.T) {
		cliCfg, err := tlsconfig.Client(set.Client, "localhost")
		if err != nil {
			t.Fatal(err)
		}
		c, err := tls.Dial("tcp", ln.Addr().String(), cliCfg)
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		defer c.Close()
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
			t.Fatalf("echo: %q %v", buf, err)
		}
	})

	t.Run("client from another CA", func(t *testing.T) {
		other := t.TempDir()
		if err := run([]string{"-dir", other}, io.Discard); err != nil {
			t.Fatal(err)
		}
		foreign := devpki.Paths(other).Client
		foreign.CA = set.Client.CA // trusts our server, but its own cert is foreign
		cliCfg, err := tlsconfig.Client(foreign, "localhost")
		if err != nil {
			t.Fatal(err)
		}
		c, err := tls.Dial("tcp", ln.Addr().String(), cliCfg)
		if err == nil {
			// TLS 1.3 reports the server's refusal on the first read.
			_, err = c.Read(make([]byte, 1))
			c.Close()
		}
		if err == nil {
			t.Fatal("server accepted a client certificate from another CA")
		}
	})
}
