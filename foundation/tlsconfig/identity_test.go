package tlsconfig

import (
	"crypto/x509"
	"net/url"
	"testing"
)

func TestIdentityOf(t *testing.T) {
	t.Parallel()
	u := func(s string) *url.URL {
		p, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		uris []*url.URL
		want string // "" = no identity
	}{
		{"a service", []*url.URL{URI(UserService)}, UserService},
		{"none: a certificate from before identities (server.pem)", nil, ""},
		{"another trust domain is not ours", []*url.URL{u("spiffe://example.org/userservice")}, ""},
		{"another scheme", []*url.URL{u("https://privateim/userservice")}, ""},
		{"a nested path", []*url.URL{u("spiffe://privateim/userservice/extra")}, ""},
		{"an empty name", []*url.URL{u("spiffe://privateim/")}, ""},
		{"two identities are none", []*url.URL{URI(UserService), URI(Operator)}, ""},
		{"a foreign URI beside ours is ignored", []*url.URL{u("https://example.org/x"), URI(DataService)}, DataService},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := IdentityOf(&x509.Certificate{URIs: tc.uris})
			if got != tc.want || ok != (tc.want != "") {
				t.Fatalf("IdentityOf = %q, %v; want %q", got, ok, tc.want)
			}
		})
	}
}

func TestIsAdmin(t *testing.T) {
	for id, want := range map[string]bool{"admin": true, "admin-ann": true, "admin-": false, "administrator": false,
		"operator": false, "userservice": false, "": false} {
		if got := IsAdmin(id); got != want {
			t.Errorf("IsAdmin(%q) = %v, want %v", id, got, want)
		}
	}
}
