// Package tlsconfig builds the mutual-TLS configurations every internal gRPC
// connection of PrivateIM uses: servers demand a client certificate signed by
// the configured CA, clients verify the server against the same CA. Each
// certificate names its holder's identity (identity.go), which the servers'
// allow-lists check.
//
// It imports only the standard library and grpc's credentials.
package tlsconfig

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"google.golang.org/grpc/credentials"
)

// Files names the PEM files of one party: the CA that signs peers, and this
// party's own certificate and key.
type Files struct {
	CA   string
	Cert string
	Key  string
}

func (f Files) load() (*x509.CertPool, tls.Certificate, error) {
	if f.CA == "" || f.Cert == "" || f.Key == "" {
		return nil, tls.Certificate{}, errors.New("tls: ca, cert and key files are all required")
	}
	caPEM, err := os.ReadFile(f.CA)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("read ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, tls.Certificate{}, fmt.Errorf("ca %s: no certificate found", f.CA)
	}
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("load key pair: %w", err)
	}
	return pool, cert, nil
}

// Server returns a config that requires and verifies client certificates.
func Server(f Files) (*tls.Config, error) {
	pool, cert, err := f.load()
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
	}, nil
}

// Client returns a config that presents the client certificate and verifies
// the server's against the CA. serverName may be empty to use the dialled host.
func Client(f Files, serverName string) (*tls.Config, error) {
	pool, cert, err := f.load()
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool,
		ServerName:   serverName,
	}, nil
}

// ClientOf returns a Client config (the dialled host verified) that also
// requires the server's certificate to name identity (IdentityOf): another
// service's certificate, a compromised message node's say, cannot stand in
// for the DataService and collect what is sent to it.
func ClientOf(f Files, identity string) (*tls.Config, error) {
	c, err := Client(f, "")
	if err != nil {
		return nil, err
	}
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("tls: the server sent no certificate")
		}
		if id, ok := IdentityOf(cs.PeerCertificates[0]); !ok || id != identity {
			return fmt.Errorf("tls: the server's certificate names identity %q, want %q", id, identity)
		}
		return nil
	}
	return c, nil
}

// ServerCredentials wraps Server for grpc.Creds.
func ServerCredentials(f Files) (credentials.TransportCredentials, error) {
	c, err := Server(f)
	if err != nil {
		return nil, err
	}
	return credentials.NewTLS(c), nil
}

// ClientCredentials wraps Client for grpc.WithTransportCredentials.
func ClientCredentials(f Files, serverName string) (credentials.TransportCredentials, error) {
	c, err := Client(f, serverName)
	if err != nil {
		return nil, err
	}
	return credentials.NewTLS(c), nil
}

// Env is f as the environment every binary reads its TLS files from
// (TLS_CA, TLS_CERT, TLS_KEY), for the tools and tests that start one.
func (f Files) Env() []string {
	return []string{"TLS_CA=" + f.CA, "TLS_CERT=" + f.Cert, "TLS_KEY=" + f.Key}
}
