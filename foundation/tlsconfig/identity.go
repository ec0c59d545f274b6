package tlsconfig

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// The identities of PrivateIM's internal callers. A certificate names its
// identity in a URI SAN, spiffe://privateim/<identity> (URI); the gRPC
// servers allow each full method to a list of identities
// (foundation/grpcserver.Allow).
const (
	DataService         = "dataservice"
	UserService         = "userservice"
	MessageService      = "messageservice"
	SubscriptionService = "subscriptionservice"
	// Operator is the certificate of people and tools (grpcurl, loadgen,
	// the tests' direct calls): every server lets it call every method.
	Operator = "operator"
	// Admin is the certificate of the people who act on abuse (suspend a
	// user, delete a message, ...): only the admin methods accept it, and
	// only it may call them (not the operator; IsAdmin). "admin-<name>"
	// is an admin too, so the audit log tells admins apart.
	Admin = "admin"
)

// IsAdmin reports whether identity is an admin's: Admin or
// "admin-<name>".
func IsAdmin(identity string) bool {
	return identity == Admin || (strings.HasPrefix(identity, Admin+"-") && len(identity) > len(Admin)+1)
}

// Services are the identities of the four services, in the order they
// are started.
var Services = []string{DataService, MessageService, UserService, SubscriptionService}

// trustDomain is the host of every identity URI.
const trustDomain = "privateim"

// URI is the URI SAN of identity: spiffe://privateim/<identity>.
func URI(identity string) *url.URL {
	return &url.URL{Scheme: "spiffe", Host: trustDomain, Path: "/" + identity}
}

// IdentityOf returns the identity a certificate names in its URI SAN
// (spiffe://privateim/<identity>), or false when it names none or more
// than one: a certificate that could be read two ways is no identity.
func IdentityOf(cert *x509.Certificate) (string, bool) {
	var id string
	for _, u := range cert.URIs {
		if u.Scheme != "spiffe" || u.Host != trustDomain {
			continue
		}
		name := strings.TrimPrefix(u.Path, "/")
		if name == "" || strings.Contains(name, "/") || id != "" {
			return "", false
		}
		id = name
	}
	return id, id != ""
}

// DevCAName is the subject common name of the CA devpki makes, which a
// production deployment refuses (CheckProduction).
const DevCAName = "PrivateIM dev CA"

// CheckProduction reports why f cannot serve a production deployment: a
// setting that is empty or a file that does not load, a CA that is the
// development CA (subject DevCAName), or a certificate that names no
// identity. The errors name the settings every binary reads f from:
// TLS_CA, TLS_CERT and TLS_KEY.
func CheckProduction(f Files) error {
	names := [3]string{"TLS_CA", "TLS_CERT", "TLS_KEY"}
	var errs []error
	for i, v := range []string{f.CA, f.Cert, f.Key} {
		if v == "" {
			errs = append(errs, fmt.Errorf("%s: required in production", names[i]))
		} else if _, err := os.Stat(v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", names[i], err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	_, cert, err := f.load()
	if err != nil {
		return fmt.Errorf("%s, %s, %s: %w", names[0], names[1], names[2], err)
	}
	caPEM, err := os.ReadFile(f.CA)
	if err != nil {
		return fmt.Errorf("%s: %w", names[0], err)
	}
	for rest := caPEM; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if c, err := x509.ParseCertificate(b.Bytes); err == nil && c.Subject.CommonName == DevCAName {
			errs = append(errs, fmt.Errorf("%s %s: is the development CA (%q); production needs the deployment's own CA", names[0], f.CA, DevCAName))
		}
	}
	if leaf, err := x509.ParseCertificate(cert.Certificate[0]); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", names[1], err))
	} else if _, ok := IdentityOf(leaf); !ok {
		errs = append(errs, fmt.Errorf("%s %s: names no identity (URI SAN spiffe://privateim/<service>)", names[1], f.Cert))
	}
	return errors.Join(errs...)
}
