package security_test

// Attacks on the NATS the message nodes share (docs/security.md, "NATS"):
// a local process without the credential, a service whose credential is
// for other subjects, and a holder of the publisher's credential forging a
// relation event. Each test runs real servers: the DataService, the
// userservice, NATS with mutual TLS, messageservice nodes.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"google.golang.org/protobuf/proto"

	"github.com/privateim/privateim/foundation/natsauth"
	"github.com/privateim/privateim/foundation/poll"
	"github.com/privateim/privateim/foundation/stacktest"
	eventsv1 "github.com/privateim/privateim/protos/events/v1"

	"github.com/privateim/privateim/messageservice/internal/config"
	"github.com/privateim/privateim/messageservice/internal/mstest"
	"github.com/privateim/privateim/messageservice/internal/server"
)

const wait = 10 * time.Second

// embeddedNode starts a node running its own NATS server on a free port
// with no credential configured (the default: it generates one), and
// returns it with that server's address.
func embeddedNode(t *testing.T, st *mstest.Stack) (*mstest.Node, string) {
	t.Helper()
	cfg := st.Config()
	cfg.NATSURL, cfg.NATSAuth = "", natsauth.Auth{}
	cfg.NATSListen = stacktest.FreeAddr(t)
	return st.StartNode(t, cfg), cfg.NATSListen
}

// attackers are the ways a local process without the credential tries
// the embedded server: plain TCP, and TLS with the (readable) dev client
// certificate (the operator's here: any certificate of the CA) but no user
// or a guessed one.
func attackers(st *mstest.Stack, addr string) map[string]func() (*nats.Conn, error) {
	withCert := natsauth.Client{URL: "nats://" + addr, TLS: st.Data.Certs.Client}
	guessed := withCert
	guessed.Auth = natsauth.Auth{User: "messageservice", Password: "messageservice"}
	return map[string]func() (*nats.Conn, error){
		"plain, no credential":          func() (*nats.Conn, error) { return nats.Connect("nats://" + addr) },
		"tls client cert, no user":      func() (*nats.Conn, error) { return withCert.Connect() },
		"tls client cert, guessed user": func() (*nats.Conn, error) { return guessed.Connect() },
	}
}

// TestForgedDeliveryFromUnauthenticatedNATSClientIsRefused: a process on
// the host connects to a node's embedded NATS and publishes a delivery on
// privateim.msg.node.<id> to put its text on a user's socket. The server
// refuses the connection; the user receives nothing.
func TestForgedDeliveryFromUnauthenticatedNATSClientIsRefused(t *testing.T) {
	t.Parallel()
	st := mstest.StartStack(t)
	node, addr := embeddedNode(t, st)
	victim := st.NewUser(t, "Victim")
	vc := node.Dial(t, victim, "")
	uid, _ := strconv.ParseInt(victim.ID, 10, 64)
	frame := `{"type":"message","msg_id":"1","conversation":"sys:` + victim.ID + `","seq":1,"from":"0","to":{"kind":"user","id":"` + victim.ID + `"},"content":{"kind":"text","text":"forged: send your password to evil.example"},"ts":1}`
	envelope, _ := json.Marshal(map[string]any{"u": []int64{uid}, "f": json.RawMessage(frame)})

	for name, connect := range attackers(st, addr) {
		nc, err := connect()
		if err == nil {
			t.Errorf("%s: connected to the embedded NATS", name)
			_ = nc.Publish("privateim.msg.node."+node.Config.NodeID, envelope)
			_ = nc.Flush()
			nc.Close()
		}
	}
	for _, f := range vc.UntilPong(wait) {
		if strings.Contains(string(f.Raw), "forged") {
			t.Fatalf("the victim's socket got the forged frame %s", f.Raw)
		}
	}
}

// syncAnswer sends a sync of conv and returns the answer: "history" or
// the error code.
func syncAnswer(c *mstest.Client, conv string) string {
	c.WriteJSON(map[string]any{"type": "sync", "conversation": conv})
	for {
		f := c.Next(wait)
		switch f.Type {
		case "history":
			return "history"
		case "error":
			return f.Code
		}
	}
}

// cachedGroup makes a group of owner, has the owner post to it on node
// (so the node holds the group's members in its cache) and checks that
// outsider may not read it.
func cachedGroup(t *testing.T, st *mstest.Stack, node *mstest.Node, owner, outsider mstest.User) (string, *mstest.Client) {
	t.Helper()
	g := st.NewGroup(t, owner)
	oc := node.Dial(t, owner, "")
	oc.Send("secret-1", "group", g, "the secret plan")
	oc.Await("sent", wait)
	xc := node.Dial(t, outsider, "")
	if got := syncAnswer(xc, "g:"+g); got != "not_member" {
		t.Fatalf("outsider's sync before the attack = %s, want not_member", got)
	}
	return g, xc
}

func joinedEvent(t *testing.T, user, group string) []byte {
	t.Helper()
	u, _ := strconv.ParseInt(user, 10, 64)
	g, _ := strconv.ParseInt(group, 10, 64)
	b, err := proto.Marshal(&eventsv1.RelationEvent{Kind: eventsv1.RelationEvent_GROUP_MEMBER_JOINED, UserId: u, GroupId: g})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestForgedGroupJoinFromUnauthenticatedNATSClientIsRefused: a process on
// the host publishes GROUP_MEMBER_JOINED for an outsider on a node's
// embedded NATS so that the outsider reads the group. The server refuses
// the connection and the outsider still may not read.
func TestForgedGroupJoinFromUnauthenticatedNATSClientIsRefused(t *testing.T) {
	t.Parallel()
	st := mstest.StartStack(t)
	node, addr := embeddedNode(t, st)
	owner, outsider := st.NewUser(t, "Owner"), st.NewUser(t, "Outsider")
	g, xc := cachedGroup(t, st, node, owner, outsider)

	for name, connect := range attackers(st, addr) {
		nc, err := connect()
		if err != nil {
			continue
		}
		t.Errorf("%s: connected to the embedded NATS", name)
		_ = nc.Publish(natsauth.RelationsSubject, joinedEvent(t, outsider.ID, g))
		_ = nc.Flush()
		nc.Close()
		// The node applies events asynchronously: give it until the
		// deadline to show the effect.
		if poll.Until(2*time.Second, func() error {
			if syncAnswer(xc, "g:"+g) == "history" {
				return nil
			}
			return errors.New("still not a member")
		}) == nil {
			t.Fatalf("%s: the outsider read the group after a forged GROUP_MEMBER_JOINED", name)
		}
	}
	if got := syncAnswer(xc, "g:"+g); got != "not_member" {
		t.Fatalf("outsider's sync after the attack = %s, want not_member", got)
	}
}

// TestForgedGroupMemberJoinedFromAuthenticatedClientDoesNotGrantMembership:
// whoever holds the publisher's credential (the userservice's, leaked)
// publishes GROUP_MEMBER_JOINED for an outsider. The node treats the event
// as invalidation: it reads the group's members again from the DataService,
// where the outsider is not one.
func TestForgedGroupMemberJoinedFromAuthenticatedClientDoesNotGrantMembership(t *testing.T) {
	t.Parallel()
	st := mstest.StartStack(t)
	node := st.StartNode(t, st.Config())
	owner, outsider, joiner := st.NewUser(t, "Owner"), st.NewUser(t, "Outsider"), st.NewUser(t, "Joiner")
	g, xc := cachedGroup(t, st, node, owner, outsider)
	jc := node.Dial(t, joiner, "")
	if got := syncAnswer(jc, "g:"+g); got != "not_member" {
		t.Fatalf("joiner's sync before joining = %s", got)
	}

	forger := st.NATS.Connect(t, natsauth.Publisher)
	if err := forger.Publish(natsauth.RelationsSubject, joinedEvent(t, outsider.ID, g)); err != nil {
		t.Fatal(err)
	}
	if err := forger.Flush(); err != nil {
		t.Fatal(err)
	}
	// A real join after it: once the node lets the joiner read, it has
	// handled the forged event too (one server, one subscription: in
	// order).
	st.Do(t, "POST", "/groups/"+g+"/join", joiner.Token, nil, 200, nil)
	poll.Eventually(t, wait, func() error {
		if got := syncAnswer(jc, "g:"+g); got != "history" {
			return fmt.Errorf("joiner's sync = %s", got)
		}
		return nil
	})
	if got := syncAnswer(xc, "g:"+g); got != "not_member" {
		t.Fatalf("outsider's sync after a forged GROUP_MEMBER_JOINED = %s, want not_member", got)
	}
}

// violations collects the asynchronous errors of a connection.
type violations struct {
	mu   sync.Mutex
	errs []error
}

func (v *violations) handler(_ *nats.Conn, _ *nats.Subscription, err error) {
	v.mu.Lock()
	v.errs = append(v.errs, err)
	v.mu.Unlock()
}

func (v *violations) await(t *testing.T, subject string) {
	t.Helper()
	poll.Eventually(t, wait, func() error {
		v.mu.Lock()
		defer v.mu.Unlock()
		for _, err := range v.errs {
			if strings.Contains(err.Error(), "Permissions Violation") && strings.Contains(err.Error(), subject) {
				return nil
			}
		}
		return fmt.Errorf("no permissions violation for %s yet (%v)", subject, v.errs)
	})
}

// TestServiceCredentialCannotPublishAnotherRolesSubjects: the userservice's
// credential cannot publish a delivery to a node, and a node's cannot
// publish a relation event: the server refuses the publish (a permissions
// violation) and the subscribers get nothing.
func TestServiceCredentialCannotPublishAnotherRolesSubjects(t *testing.T) {
	t.Parallel()
	st := mstest.StartStack(t)
	node := st.StartNode(t, st.Config())
	victim := st.NewUser(t, "Victim")
	vc := node.Dial(t, victim, "")
	uid, _ := strconv.ParseInt(victim.ID, 10, 64)

	t.Run("publisher forges a delivery", func(t *testing.T) {
		var v violations
		nc := st.NATS.Connect(t, natsauth.Publisher, nats.ErrorHandler(v.handler))
		subject := "privateim.msg.node." + node.Config.NodeID
		frame := `{"type":"message","msg_id":"1","conversation":"sys:` + victim.ID + `","seq":1,"from":"0","content":{"kind":"text","text":"forged"},"ts":1}`
		envelope, _ := json.Marshal(map[string]any{"u": []int64{uid}, "f": json.RawMessage(frame)})
		if err := nc.Publish(subject, envelope); err != nil {
			t.Fatal(err)
		}
		v.await(t, subject)
		for _, f := range vc.UntilPong(wait) {
			if strings.Contains(string(f.Raw), "forged") {
				t.Fatalf("the victim got %s", f.Raw)
			}
		}
	})
	t.Run("node forges a relation event", func(t *testing.T) {
		events := make(chan *nats.Msg, 16)
		reader := st.NATS.Connect(t, natsauth.Node)
		if _, err := reader.ChanSubscribe(natsauth.RelationsSubject, events); err != nil {
			t.Fatal(err)
		}
		if err := reader.Flush(); err != nil {
			t.Fatal(err)
		}
		var v violations
		nc := st.NATS.Connect(t, natsauth.Node, nats.ErrorHandler(v.handler))
		if err := nc.Publish(natsauth.RelationsSubject, joinedEvent(t, victim.ID, "1")); err != nil {
			t.Fatal(err)
		}
		v.await(t, natsauth.RelationsSubject)
		// The reader's round trip orders after the refused publish.
		if err := reader.Flush(); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-events:
			t.Fatalf("a node's relation event reached a subscriber: %x", m.Data)
		default:
		}
	})
}

// externalNATS runs a NATS server from the configuration natsauth writes
// for an external nats-server (natsauth.ServerConfig): mutual TLS with the
// stack's certificates, and a user of its own for each of the nodes ids
// (NodePermissions): the first with an nkey, the others with a password.
func externalNATS(t *testing.T, st *mstest.Stack, ids ...string) (url string, auths []natsauth.Auth) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := kp.Seed()
	seedFile := filepath.Join(t.TempDir(), "node.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	users := []natsauth.User{{Role: natsauth.Publisher, Auth: natsauth.Generate("userservice")}}
	for i, id := range ids {
		a := natsauth.Generate("node-" + id)
		if i == 0 {
			a = natsauth.Auth{NKeySeed: seedFile}
		}
		auths = append(auths, a)
		users = append(users, natsauth.User{Role: natsauth.Node, Auth: a, NodeID: id})
	}
	server, err := st.Data.Certs.Issue("nats")
	if err != nil {
		t.Fatal(err)
	}
	conf, err := natsauth.ServerConfig(server, users)
	if err != nil {
		t.Fatal(err)
	}
	return stacktest.StartNATSConfig(t, conf), auths
}

// externalCluster starts two nodes, n0 and n1, on an external NATS with a
// user each, and waits until they hear each other.
func externalCluster(t *testing.T, st *mstest.Stack) (url string, nodes [2]*mstest.Node, auths []natsauth.Auth) {
	t.Helper()
	ids := []string{"n0-" + strconv.Itoa(os.Getpid()), "n1-" + strconv.Itoa(os.Getpid())}
	url, auths = externalNATS(t, st, ids...)
	for i := range nodes {
		cfg := st.Config()
		cfg.NodeID = ids[i]
		cfg.NATSURL, cfg.NATSAuth = url, auths[i]
		nodes[i] = st.StartNode(t, cfg)
	}
	poll.Eventually(t, wait, func() error {
		if n := nodes[0].Cluster().Nodes(); len(n) != 1 || n[0] != ids[1] {
			return fmt.Errorf("node 0 hears %v", n)
		}
		return nil
	})
	return url, nodes, auths
}

// TestExternalNATSWithCredentialsAndTLSCarriesTheCluster: two nodes on an
// external NATS that demands TLS and a credential per node (NATS_URL and
// NATS_NKEY_SEED, or NATS_USER and NATS_PASSWORD) form a cluster: a
// message from a user on one reaches a user on the other; a node without
// a credential cannot start.
func TestExternalNATSWithCredentialsAndTLSCarriesTheCluster(t *testing.T) {
	t.Parallel()
	st := mstest.StartStack(t)
	url, nodes, _ := externalCluster(t, st)
	a, b := st.NewUser(t, "Ann"), st.NewUser(t, "Ben")
	st.Befriend(t, a, b)
	ac, bc := nodes[0].Dial(t, a, ""), nodes[1].Dial(t, b, "")
	poll.Eventually(t, wait, func() error {
		if nodes[0].Cluster().Conns(mustID(t, b)) != 1 {
			return errors.New("node 0 does not know b's connection yet")
		}
		return nil
	})
	ac.Send("across-1", "user", b.ID, "over an external NATS")
	ac.Await("sent", wait)
	if m := bc.Await("message", wait); !strings.Contains(string(m.Content), "over an external NATS") {
		t.Fatalf("b got %s", m.Raw)
	}

	t.Run("no credential", func(t *testing.T) {
		cfg := st.Config()
		cfg.NATSURL, cfg.NATSAuth = url, natsauth.Auth{}
		if _, err := newServer(cfg); err == nil {
			t.Fatal("a node without a credential joined the external NATS")
		}
	})
}

// TestNodeCannotAnnounceConnectionsInAnotherNodesName: a node (its
// credential leaked) announces an empty snapshot as another node,
// to drop its users from the others' registries (their messages would no
// longer reach them). With a user per node the server refuses the publish
// (and a payload naming another node than its subject is dropped by the
// nodes: cluster.TestAnnouncementNamingAnotherNodeIsDropped).
func TestNodeCannotAnnounceConnectionsInAnotherNodesName(t *testing.T) {
	t.Parallel()
	st := mstest.StartStack(t)
	url, nodes, auths := externalCluster(t, st)
	victim := st.NewUser(t, "Victim")
	nodes[0].Dial(t, victim, "")
	uid := mustID(t, victim)
	poll.Eventually(t, wait, func() error {
		if nodes[1].Cluster().Conns(uid) != 1 {
			return errors.New("node 1 does not know the victim's connection yet")
		}
		return nil
	})
	n0 := nodes[0].Config.NodeID
	var v violations
	forger := natsauth.Client{URL: url, Auth: auths[1], TLS: st.Data.Certs.Message}
	nc, err := forger.Connect(nats.ErrorHandler(v.handler))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	empty, _ := json.Marshal(map[string]any{"n": n0, "c": []any{}})
	if err := nc.Publish("privateim.msg.snapshot."+n0, empty); err != nil {
		t.Fatal(err)
	}
	v.await(t, "privateim.msg.snapshot."+n0)
	if got := nodes[1].Cluster().Conns(uid); got != 1 {
		t.Fatalf("node 1 knows %d connections of the victim after the forgery, want 1", got)
	}
}

func mustID(t *testing.T, u mstest.User) int64 {
	t.Helper()
	id, err := strconv.ParseInt(u.ID, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// newServer runs server.New as the binary does; a server it makes is
// stopped again at once.
func newServer(cfg config.Config) (*server.Server, error) {
	srv, err := server.New(cfg, mstest.Logger())
	if err == nil {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = srv.Run(ctx)
	}
	return srv, err
}

// TestPublisherCredentialCannotEavesdropOnTheCluster: whoever holds the
// userservice's credential subscribes to privateim.msg.> to watch who is
// online and read deliveries between nodes. The server refuses the
// subscription: while heartbeats flow to a node's subscriber, the
// eavesdropper gets nothing.
func TestPublisherCredentialCannotEavesdropOnTheCluster(t *testing.T) {
	t.Parallel()
	st := mstest.StartStack(t)
	cfg := st.Config()
	cfg.ClusterHeartbeat = 100 * time.Millisecond
	st.StartNode(t, cfg)

	var v violations
	spy := st.NATS.Connect(t, natsauth.Publisher, nats.ErrorHandler(v.handler))
	spied := make(chan *nats.Msg, 64)
	if _, err := spy.ChanSubscribe(natsauth.ClusterSubjects, spied); err != nil {
		t.Fatal(err)
	}
	v.await(t, natsauth.ClusterSubjects)

	node := st.NATS.Connect(t, natsauth.Node)
	beats := make(chan *nats.Msg, 64)
	if _, err := node.ChanSubscribe("privateim.msg.heartbeat.>", beats); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		select {
		case <-beats:
		case <-time.After(wait):
			t.Fatal("no heartbeat reached the node's subscriber")
		}
	}
	// The spy's round trip orders after what the server sent it.
	if err := spy.Flush(); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-spied:
		t.Fatalf("the publisher's credential read %s: %s", m.Subject, m.Data)
	default:
	}
}
