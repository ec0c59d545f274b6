// Package natsauth is who may use PrivateIM's NATS and what each may do:
// the subject map, the two roles with their per-subject permissions, the
// options of a NATS server that admits only those roles over mutual TLS
// (the messageservice's embedded server and the tests' servers) or the
// configuration of an external nats-server that does the same, and the
// client options every service connects with (credentials + TLS).
//
// Subject map (docs/events.md, docs/messageservice.md, docs/scaling.md):
//
//	privateim.relations   userservice -> message nodes: relation events (cache invalidation)
//	privateim.msg.>       message node <-> message node: registry, heartbeats, deliveries
//	                      (a node's own user: only its own announcements, NodePermissions)
//
// Nobody else publishes or subscribes: a process without credentials
// cannot connect, the userservice cannot forge a delivery, a node cannot
// forge a relation event.
//
// It imports the standard library, nats.go, nkeys, nats-server's options
// and foundation/tlsconfig.
package natsauth

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/privateim/privateim/foundation/tlsconfig"
)

// The subjects of the map above.
const (
	RelationsSubject = "privateim.relations"
	ClusterPrefix    = "privateim.msg."
	ClusterSubjects  = ClusterPrefix + ">"
)

// Role is what a NATS user is allowed to do.
type Role int

// The roles.
const (
	// Node is a messageservice node: publishes and reads the cluster
	// subjects, reads relation events.
	Node Role = iota + 1
	// Publisher is the userservice: publishes relation events, reads
	// nothing.
	Publisher
)

func (r Role) String() string {
	switch r {
	case Node:
		return "node"
	case Publisher:
		return "publisher"
	}
	return fmt.Sprintf("role(%d)", int(r))
}

// Permissions returns what role may publish and subscribe; anything not
// allowed is refused by the server (a "Permissions Violation" error on the
// connection, the message dropped).
func Permissions(r Role) *natsserver.Permissions {
	switch r {
	case Node:
		return &natsserver.Permissions{
			Publish:   &natsserver.SubjectPermission{Allow: []string{ClusterSubjects}},
			Subscribe: &natsserver.SubjectPermission{Allow: []string{ClusterSubjects, RelationsSubject}},
		}
	case Publisher:
		return &natsserver.Permissions{
			Publish:   &natsserver.SubjectPermission{Allow: []string{RelationsSubject}},
			Subscribe: &natsserver.SubjectPermission{Deny: []string{">"}},
		}
	}
	// Unknown: nothing at all.
	return &natsserver.Permissions{
		Publish:   &natsserver.SubjectPermission{Deny: []string{">"}},
		Subscribe: &natsserver.SubjectPermission{Deny: []string{">"}},
	}
}

// Auth is one NATS credential: a user and password, or an nkey seed file
// (for an external NATS configured with nkeys). The zero Auth connects
// without credentials (a server that needs them refuses it).
type Auth struct {
	User     string
	Password string
	NKeySeed string // path of a file holding the nkey seed ("SU...")
}

// IsZero reports whether a holds no credential.
func (a Auth) IsZero() bool { return a.User == "" && a.Password == "" && a.NKeySeed == "" }

// Validate reports a half-set credential.
func (a Auth) Validate() error {
	switch {
	case a.NKeySeed != "" && (a.User != "" || a.Password != ""):
		return errors.New("nats credentials: set a user and password or an nkey seed file, not both")
	case (a.User == "") != (a.Password == ""):
		return errors.New("nats credentials: a user needs a password and a password a user")
	}
	return nil
}

// Generate returns a credential for user with a random 26-character
// password (130 bits).
func Generate(user string) Auth { return Auth{User: user, Password: rand.Text()} }

// User is one NATS user of a server and its role. Several users may share
// a role. A node user with a NodeID is that node's alone
// (NodePermissions); without, any node may use it.
type User struct {
	Role   Role
	Auth   Auth
	NodeID string
}

func (u User) permissions() *natsserver.Permissions {
	if u.Role == Node && u.NodeID != "" {
		return NodePermissions(u.NodeID)
	}
	return Permissions(u.Role)
}

// NodePermissions are those of node id's own user: like the Node role's,
// but of the subjects that name their publisher (conn, hello, snapshot,
// heartbeat: privateim.msg.<kind>.<node>) only its own, so a node cannot
// announce connections or a registry in another's name. Deliveries
// (privateim.msg.node.<node>) and resync requests go to any node.
func NodePermissions(id string) *natsserver.Permissions {
	pub := []string{ClusterPrefix + "node.>", ClusterPrefix + "resync.>"}
	for _, kind := range []string{"conn", "hello", "snapshot", "heartbeat"} {
		pub = append(pub, ClusterPrefix+kind+"."+id)
	}
	return &natsserver.Permissions{
		Publish:   &natsserver.SubjectPermission{Allow: pub},
		Subscribe: &natsserver.SubjectPermission{Allow: []string{ClusterSubjects, RelationsSubject}},
	}
}

// ValidNodeID reports why id cannot be a node id in subjects: it must be
// non-empty dot-separated tokens without white space, * or >.
func ValidNodeID(id string) error {
	if id == "" || strings.ContainsAny(id, " \t\r\n*>") || slices.Contains(strings.Split(id, "."), "") {
		return fmt.Errorf("node id %q: want dot-separated non-empty parts without white space, * or >", id)
	}
	return nil
}

// nkeyPublic reads the public key of the nkey seed in file.
func nkeyPublic(file string) (string, error) {
	seed, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("nkey seed: %w", err)
	}
	kp, err := nkeys.FromSeed(bytes.TrimSpace(seed))
	if err != nil {
		return "", fmt.Errorf("nkey seed %s: %w", file, err)
	}
	defer kp.Wipe()
	return kp.PublicKey()
}

func checkUsers(users []User) error {
	if len(users) == 0 {
		return errors.New("nats server: no users")
	}
	seen := make(map[string]bool)
	for _, u := range users {
		if err := u.Auth.Validate(); err != nil {
			return fmt.Errorf("nats server, %s user: %w", u.Role, err)
		}
		if u.Auth.IsZero() {
			return fmt.Errorf("nats server: the %s user has no credential", u.Role)
		}
		if u.NodeID != "" {
			if err := ValidNodeID(u.NodeID); err != nil {
				return fmt.Errorf("nats server: %w", err)
			}
		}
		name := u.Auth.User + u.Auth.NKeySeed
		if seen[name] {
			return fmt.Errorf("nats server: user %q is given twice", name)
		}
		seen[name] = true
	}
	return nil
}

// ServerOptions are the options of a NATS server on host:port (port -1: a
// free one) that speaks only TLS with tlsc (a config that verifies client
// certificates: tlsconfig.Server) and admits only users, each with its
// role's permissions.
func ServerOptions(host string, port int, tlsc *tls.Config, users []User) (*natsserver.Options, error) {
	if tlsc == nil {
		return nil, errors.New("nats server: tls is required")
	}
	if err := checkUsers(users); err != nil {
		return nil, err
	}
	o := &natsserver.Options{
		Host: host, Port: port, NoLog: true, NoSigs: true,
		TLS: true, TLSVerify: tlsc.ClientAuth == tls.RequireAndVerifyClientCert, TLSConfig: tlsc, TLSTimeout: 2,
	}
	for _, u := range users {
		if u.Auth.NKeySeed != "" {
			pub, err := nkeyPublic(u.Auth.NKeySeed)
			if err != nil {
				return nil, err
			}
			o.Nkeys = append(o.Nkeys, &natsserver.NkeyUser{Nkey: pub, Permissions: u.permissions()})
			continue
		}
		o.Users = append(o.Users, &natsserver.User{Username: u.Auth.User, Password: u.Auth.Password, Permissions: u.permissions()})
	}
	return o, nil
}

// ServerConfig is the nats-server configuration (its tls and
// authorization blocks) of the server ServerOptions describes, for an
// external nats-server: files are its certificate, key and the CA that
// signs the clients' certificates. Add listen, cluster and the rest.
func ServerConfig(files tlsconfig.Files, users []User) (string, error) {
	if err := checkUsers(users); err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "tls {\n  cert_file: %q\n  key_file: %q\n  ca_file: %q\n  verify: true\n  timeout: 2\n}\n", files.Cert, files.Key, files.CA)
	b.WriteString("authorization {\n  users: [\n")
	for _, u := range users {
		p := u.permissions()
		perm := fmt.Sprintf("permissions: {publish: %s, subscribe: %s}", confList(p.Publish), confList(p.Subscribe))
		if u.Auth.NKeySeed != "" {
			pub, err := nkeyPublic(u.Auth.NKeySeed)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&b, "    {nkey: %q, %s}\n", pub, perm)
			continue
		}
		fmt.Fprintf(&b, "    {user: %q, password: %q, %s}\n", u.Auth.User, u.Auth.Password, perm)
	}
	b.WriteString("  ]\n}\n")
	return b.String(), nil
}

func confList(p *natsserver.SubjectPermission) string {
	q := func(l []string) string {
		out := make([]string, len(l))
		for i, s := range l {
			out[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(out, ", ") + "]"
	}
	var parts []string
	if len(p.Allow) > 0 {
		parts = append(parts, "allow: "+q(p.Allow))
	}
	if len(p.Deny) > 0 {
		parts = append(parts, "deny: "+q(p.Deny))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// Client is how a service connects to NATS.
type Client struct {
	URL  string
	Auth Auth
	// TLS: CA verifies the server; Cert and Key are presented when the
	// server asks for a client certificate.
	TLS tlsconfig.Files
}

// Options are nats.go options for c: TLS (required: a server that does
// not speak TLS is refused) and the credential.
func (c Client) Options() ([]nats.Option, error) {
	if err := c.Auth.Validate(); err != nil {
		return nil, err
	}
	tlsc, err := tlsconfig.Client(c.TLS, "")
	if err != nil {
		return nil, fmt.Errorf("nats tls: %w", err)
	}
	opts := []nats.Option{nats.Secure(tlsc)}
	switch {
	case c.Auth.NKeySeed != "":
		o, err := nats.NkeyOptionFromSeed(c.Auth.NKeySeed)
		if err != nil {
			return nil, fmt.Errorf("nats nkey seed: %w", err)
		}
		opts = append(opts, o)
	case c.Auth.User != "":
		opts = append(opts, nats.UserInfo(c.Auth.User, c.Auth.Password))
	}
	return opts, nil
}

// Connect connects to c.URL with c's options and then extra.
func (c Client) Connect(extra ...nats.Option) (*nats.Conn, error) {
	opts, err := c.Options()
	if err != nil {
		return nil, err
	}
	return nats.Connect(c.URL, append(opts, extra...)...)
}
