// Package devpki makes a development certificate authority and the server
// and client certificates signed by it, for localhost. tools/certgen writes
// them to certs/; tests make a throw-away set in a temp dir.
//
// Not for production: keys are ECDSA P-256 kept as plain PEM files.
package devpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/privateim/privateim/foundation/tlsconfig"
)

// CA signs leaf certificates.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	PEM  []byte
	Key  []byte
}

// NewCA makes a self-signed CA valid for ten years.
func NewCA(name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"PrivateIM dev"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	return &CA{cert: cert, key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), Key: keyPEM}, nil
}

// LoadCA reads a CA written by WriteCA.
func LoadCA(certFile, keyFile string) (*CA, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, errors.New("devpki: bad PEM in CA files")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, err
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, err
	}
	return &CA{cert: cert, key: key, PEM: certPEM, Key: keyPEM}, nil
}

// Leaf is an issued certificate and its key, PEM encoded.
type Leaf struct {
	PEM []byte
	Key []byte
}

// Issue signs a certificate for hosts (DNS names or IPs) usable both as a
// server and as a client certificate, valid for two years.
func (ca *CA) Issue(commonName string, hosts ...string) (*Leaf, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: commonName, Organization: []string{"PrivateIM dev"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(2, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	return &Leaf{PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), Key: keyPEM}, nil
}

// Set is the file layout of a directory written by Write.
type Set struct {
	Dir    string
	Server tlsconfig.Files // server.pem / server-key.pem, for every service
	Client tlsconfig.Files // client.pem / client-key.pem, for every caller
}

// Paths returns the layout of dir without touching the disk.
func Paths(dir string) Set {
	ca := filepath.Join(dir, "ca.pem")
	return Set{
		Dir:    dir,
		Server: tlsconfig.Files{CA: ca, Cert: filepath.Join(dir, "server.pem"), Key: filepath.Join(dir, "server-key.pem")},
		Client: tlsconfig.Files{CA: ca, Cert: filepath.Join(dir, "client.pem"), Key: filepath.Join(dir, "client-key.pem")},
	}
}

// DefaultHosts are the names the dev server certificate is valid for.
var DefaultHosts = []string{"localhost", "127.0.0.1", "::1"}

// Write makes dir's CA (ca.pem, ca-key.pem) unless present, and the server and
// client certificates unless present. It is idempotent: existing files are
// kept, so certificates issued before stay valid.
func Write(dir string, hosts ...string) (Set, error) {
	if len(hosts) == 0 {
		hosts = DefaultHosts
	}
	set := Paths(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return set, err
	}
	caKey := filepath.Join(dir, "ca-key.pem")
	var ca *CA
	if exists(set.Server.CA) && exists(caKey) {
		var err error
		if ca, err = LoadCA(set.Server.CA, caKey); err != nil {
			return set, fmt.Errorf("load ca: %w", err)
		}
	} else {
		var err error
		if ca, err = NewCA("PrivateIM dev CA"); err != nil {
			return set, err
		}
		if err := writeFile(set.Server.CA, ca.PEM, 0o644); err != nil {
			return set, err
		}
		if err := writeFile(caKey, ca.Key, 0o600); err != nil {
			return set, err
		}
		// A new CA invalidates every leaf signed by an old one.
		for _, f := range []string{set.Server.Cert, set.Server.Key, set.Client.Cert, set.Client.Key} {
			if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return set, err
			}
		}
	}
	for _, leaf := range []struct {
		name  string
		files tlsconfig.Files
	}{{"privateim-server", set.Server}, {"privateim-client", set.Client}} {
		if exists(leaf.files.Cert) && exists(leaf.files.Key) {
			continue
		}
		l, err := ca.Issue(leaf.name, hosts...)
		if err != nil {
			return set, err
		}
		if err := writeFile(leaf.files.Cert, l.PEM, 0o644); err != nil {
			return set, err
		}
		if err := writeFile(leaf.files.Key, l.Key, 0o600); err != nil {
			return set, err
		}
	}
	return set, nil
}

func encodeKey(k *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return n
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func writeFile(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
