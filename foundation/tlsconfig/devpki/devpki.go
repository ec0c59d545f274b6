// Package devpki makes a development certificate authority and the
// certificates signed by it, one per service and one for the operator, each
// naming its identity (tlsconfig.URI), for localhost. tools/certgen writes
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
	"net/url"
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

// Issue signs a certificate of identity (the URI SAN
// spiffe://privateim/<identity>, tlsconfig.URI; also the common name) for
// hosts (DNS names or IPs), usable both as a server and as a client
// certificate, valid for two years.
func (ca *CA) Issue(identity string, hosts ...string) (*Leaf, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: identity, Organization: []string{"PrivateIM dev"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(2, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		URIs:         []*url.URL{tlsconfig.URI(identity)},
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

// WriteFiles writes l to files' Cert and Key (the key private to the
// user).
func (l *Leaf) WriteFiles(files tlsconfig.Files) error {
	if err := writeFile(files.Cert, l.PEM, 0o644); err != nil {
		return err
	}
	return writeFile(files.Key, l.Key, 0o600)
}

// Set is the file layout of a directory written by Write: the CA and one
// certificate per identity, each the files of tlsconfig.Files with the CA.
type Set struct {
	Dir string
	CA  string // ca.pem; ca-key.pem beside it

	// Each service's own certificate (<service>.pem, <service>-key.pem):
	// it serves with it and presents it when it calls another service.
	Data, User, Message, Subscription tlsconfig.Files
	// Client is the operator's certificate (operator.pem,
	// operator-key.pem): grpcurl, the tools and the tests' direct calls;
	// every server lets it call every method.
	Client tlsconfig.Files
	// Admin is the admins' certificate (admin.pem, admin-key.pem): only
	// the admin methods accept it (imctl's admin commands).
	Admin tlsconfig.Files
}

// Paths returns the layout of dir without touching the disk.
func Paths(dir string) Set {
	s := Set{Dir: dir, CA: filepath.Join(dir, "ca.pem")}
	s.Data, s.User = s.For(tlsconfig.DataService), s.For(tlsconfig.UserService)
	s.Message, s.Subscription = s.For(tlsconfig.MessageService), s.For(tlsconfig.SubscriptionService)
	s.Client, s.Admin = s.For(tlsconfig.Operator), s.For(tlsconfig.Admin)
	return s
}

// For is the layout of identity's certificate in the set's directory:
// <identity>.pem and <identity>-key.pem with the set's CA.
func (s Set) For(identity string) tlsconfig.Files {
	return tlsconfig.Files{CA: s.CA, Cert: filepath.Join(s.Dir, identity+".pem"), Key: filepath.Join(s.Dir, identity+"-key.pem")}
}

// Issue makes (or keeps, when present) the certificate of another
// identity in the set's directory, signed by its CA, for hosts
// (DefaultHosts when none): a server that is not a service, such as a
// test's SMTP server.
func (s Set) Issue(identity string, hosts ...string) (tlsconfig.Files, error) {
	files := s.For(identity)
	if exists(files.Cert) && exists(files.Key) {
		return files, nil
	}
	if len(hosts) == 0 {
		hosts = DefaultHosts
	}
	ca, err := LoadCA(s.CA, filepath.Join(s.Dir, "ca-key.pem"))
	if err != nil {
		return files, fmt.Errorf("load ca: %w", err)
	}
	l, err := ca.Issue(identity, hosts...)
	if err != nil {
		return files, err
	}
	return files, l.WriteFiles(files)
}

// Identities are the certificates Write makes: the four services', the
// operator's and the admin's.
var Identities = append(append([]string(nil), tlsconfig.Services...), tlsconfig.Operator, tlsconfig.Admin)

// DefaultHosts are the names the dev certificates are valid for.
var DefaultHosts = []string{"localhost", "127.0.0.1", "::1"}

// Write makes dir's CA (ca.pem, ca-key.pem, subject tlsconfig.DevCAName)
// unless present, and the certificate of each of Identities unless
// present. It is idempotent: existing files are kept, so certificates
// issued before stay valid.
func Write(dir string, hosts ...string) (Set, error) {
	return WriteCA(dir, tlsconfig.DevCAName, hosts...)
}

// WriteCA is Write with a CA named caName when it makes one: tests of
// production mode make a CA that is not the dev CA.
func WriteCA(dir, caName string, hosts ...string) (Set, error) {
	if len(hosts) == 0 {
		hosts = DefaultHosts
	}
	set := Paths(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return set, err
	}
	caKey := filepath.Join(dir, "ca-key.pem")
	var ca *CA
	if exists(set.CA) && exists(caKey) {
		var err error
		if ca, err = LoadCA(set.CA, caKey); err != nil {
			return set, fmt.Errorf("load ca: %w", err)
		}
	} else {
		var err error
		if ca, err = NewCA(caName); err != nil {
			return set, err
		}
		if err := writeFile(set.CA, ca.PEM, 0o644); err != nil {
			return set, err
		}
		if err := writeFile(caKey, ca.Key, 0o600); err != nil {
			return set, err
		}
		// A new CA invalidates every leaf signed by an old one.
		for _, id := range Identities {
			for _, f := range []string{set.For(id).Cert, set.For(id).Key} {
				if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return set, err
				}
			}
		}
	}
	for _, id := range Identities {
		files := set.For(id)
		if exists(files.Cert) && exists(files.Key) {
			continue
		}
		l, err := ca.Issue(id, hosts...)
		if err != nil {
			return set, err
		}
		if err := l.WriteFiles(files); err != nil {
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
