// Package cluster lets several messageservice nodes serve one user base
// over NATS: a user->node registry that every node keeps in memory, and
// routing that carries a delivery to exactly the nodes holding receivers —
// one NATS message per node, none to nodes without receivers.
//
// Subjects (JSON payloads; <from> is the publishing node, <node> the
// addressed one):
//
//	privateim.msg.conn.<from>       a connection opened or closed on a node
//	privateim.msg.hello.<from>      a node started: every node answers with its snapshot
//	privateim.msg.snapshot.<from>   all connections of one node (replaces what others knew)
//	privateim.msg.heartbeat.<from>  a node is alive, and how many connections it holds
//	privateim.msg.resync.<node>     asks node for a snapshot (two heartbeats' counts disagreed)
//	privateim.msg.node.<node>       deliveries for users on node (envelope)
//
// A node's announcements name it in the subject, so NATS permissions can
// hold each node to its own (foundation/natsauth.NodePermissions); a
// payload that names another node than its subject is dropped.
//
// A node not heard for DeadAfter is dropped from the registry (a killed
// node). NATS core delivers at most once: heartbeat counts repair a lost
// conn event within a heartbeat or two.
//
// A 4th connection of a user anywhere closes the oldest one of the
// cluster: every node applies the same rule (the newest three by open
// time, ties by node and id, stay) and closes its own connections beyond.
//
// Locking: Cluster.mu guards users and nodes; it is a leaf (no call into
// chat or NATS under it).
package cluster

import (
	"cmp"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/privateim/privateim/foundation/natsauth"

	"github.com/privateim/privateim/messageservice/internal/chat"
	"github.com/privateim/privateim/messageservice/internal/hub"
	"github.com/privateim/privateim/messageservice/internal/lockorder"
	"github.com/privateim/privateim/messageservice/internal/nodemetrics"
)

const prefix = natsauth.ClusterPrefix

// Local is what the cluster needs of this node's chat service: it is
// given at Start, and the cluster is chat's Router (chat.Options.Join).
type Local interface {
	// Deliver hands a delivery another node routed here to the local
	// connections.
	Deliver(d chat.Delivery)
	LocalConns() []chat.LocalConn
	Evict(user int64, conn uint64)
}

// Options of a Cluster.
type Options struct {
	NodeID    string
	Heartbeat time.Duration // 0: 1s
	DeadAfter time.Duration // 0: 3 heartbeats
	// Metrics counts forwards; nil: counted in metrics nobody reads.
	Metrics *nodemetrics.Metrics
}

// Cluster is one node's view of the cluster. Close stops it.
type Cluster struct {
	log   *slog.Logger
	nc    *nats.Conn
	node  string
	opt   Options
	local Local
	pub   func(subject string, data []byte) error // nc.Publish
	subs  []*nats.Subscription
	stop  chan struct{}
	wg    sync.WaitGroup

	mu    lockorder.Mutex     // rank Leaf
	users map[int64][]connRef // every connection of the cluster, by user
	nodes map[string]*nodeInfo
}

type connRef struct {
	Node   string `json:"n"`
	ID     uint64 `json:"i"`
	User   int64  `json:"u"`
	Device string `json:"d,omitempty"`
	Opened int64  `json:"o"` // unix ns
}

type nodeInfo struct {
	seen     time.Time
	count    int // connections the node said it holds
	mismatch int // heartbeats in a row whose count disagreed with the registry
}

type connEvent struct {
	Open bool    `json:"open"`
	Conn connRef `json:"c"`
}

type snapshot struct {
	Node  string    `json:"n"`
	Conns []connRef `json:"c"`
}

// envelope is a chat.Delivery between nodes, on privateim.msg.node.<node>.
type envelope struct {
	Users  []int64         `json:"u"`
	Conv   string          `json:"c,omitempty"`
	Seq    int64           `json:"s,omitempty"`
	Logout *string         `json:"l,omitempty"` // chat.Delivery.Logout: a device to close, no frame
	Sent   int64           `json:"t,omitempty"` // chat.Delivery.Sent
	Frame  json.RawMessage `json:"f"`           // a JSON frame; raw, not base64, on the wire; last (Forward)
}

type heartbeat struct {
	Node  string `json:"n"`
	Count int    `json:"c"`
}

var _ chat.Router = (*Cluster)(nil)

// Start joins the cluster on nc (made with nats.NoEcho, so that the node
// does not hear itself) and asks the others for their snapshots.
func Start(log *slog.Logger, nc *nats.Conn, local Local, opt Options) (*Cluster, error) {
	if opt.Heartbeat <= 0 {
		opt.Heartbeat = time.Second
	}
	if opt.DeadAfter <= 0 {
		opt.DeadAfter = 3 * opt.Heartbeat
	}
	if opt.Metrics == nil {
		opt.Metrics = nodemetrics.New(nil)
	}
	c := &Cluster{
		log: log, nc: nc, node: opt.NodeID, opt: opt, local: local, pub: nc.Publish, stop: make(chan struct{}),
		users: make(map[int64][]connRef), nodes: make(map[string]*nodeInfo), mu: lockorder.Mutex{Rank: lockorder.Leaf},
	}
	handlers := map[string]nats.MsgHandler{
		prefix + "conn.>":           c.onConn,
		prefix + "hello.>":          func(*nats.Msg) { c.publishSnapshot() },
		prefix + "snapshot.>":       c.onSnapshot,
		prefix + "heartbeat.>":      c.onHeartbeat,
		prefix + "resync." + c.node: func(*nats.Msg) { c.publishSnapshot() },
		prefix + "node." + c.node:   c.onDelivery,
	}
	for subj, h := range handlers {
		sub, err := nc.Subscribe(subj, h)
		if err != nil {
			c.unsubscribe()
			return nil, fmt.Errorf("subscribe %s: %w", subj, err)
		}
		c.subs = append(c.subs, sub)
	}
	if err := nc.Flush(); err != nil {
		c.unsubscribe()
		return nil, fmt.Errorf("cluster subscriptions: %w", err)
	}
	c.publish(prefix+"hello."+c.node, struct{}{})
	c.wg.Go(c.beat)
	return c, nil
}

// Close leaves the cluster. The others drop this node after DeadAfter; a
// node shutting down has closed its connections already, so they know.
func (c *Cluster) Close() {
	close(c.stop)
	c.wg.Wait()
	c.unsubscribe()
}

func (c *Cluster) unsubscribe() {
	for _, s := range c.subs {
		_ = s.Unsubscribe()
	}
}

func (c *Cluster) publish(subject string, v any) {
	b, err := json.Marshal(v)
	if err == nil {
		err = c.pub(subject, b)
	}
	if err != nil {
		c.log.Warn("cluster publish", "subject", subject, "err", err)
	}
}

// Opened records a local connection and tells the others.
func (c *Cluster) Opened(user int64, conn uint64, device string, opened time.Time) {
	ev := connEvent{Open: true, Conn: connRef{Node: c.node, ID: conn, User: user, Device: device, Opened: opened.UnixNano()}}
	evict := c.apply(ev)
	c.publish(prefix+"conn."+c.node, ev)
	c.evict(evict)
}

// Closed forgets a local connection and tells the others.
func (c *Cluster) Closed(user int64, conn uint64) {
	ev := connEvent{Open: false, Conn: connRef{Node: c.node, ID: conn, User: user}}
	c.apply(ev)
	c.publish(prefix+"conn."+c.node, ev)
}

// fromOther reports whether m, on prefix+kind+".<from>", is another
// node's and its payload names that node (named): a payload naming another
// node than the subject's is dropped, since the subject is what NATS
// permissions check.
func (c *Cluster) fromOther(m *nats.Msg, kind, named string) bool {
	from := strings.TrimPrefix(m.Subject, prefix+kind+".")
	if from == c.node {
		return false
	}
	if named != from {
		c.log.Warn("cluster message names another node than its subject", "subject", m.Subject, "names", named)
		return false
	}
	return true
}

func (c *Cluster) onConn(m *nats.Msg) {
	var ev connEvent
	if err := json.Unmarshal(m.Data, &ev); err != nil {
		return
	}
	if !c.fromOther(m, "conn", ev.Conn.Node) {
		return
	}
	c.evict(c.apply(ev))
}

// apply changes the registry; it returns this node's connections of the
// user that are now beyond the newest hub.MaxConns of the cluster.
func (c *Cluster) apply(ev connEvent) []connRef {
	c.mu.Lock()
	defer c.mu.Unlock()
	u := ev.Conn.User
	list := slices.DeleteFunc(c.users[u], func(r connRef) bool { return r.Node == ev.Conn.Node && r.ID == ev.Conn.ID })
	if ev.Open {
		list = append(list, ev.Conn)
	}
	if len(list) == 0 {
		delete(c.users, u)
		return nil
	}
	c.users[u] = list
	if len(list) <= hub.MaxConns {
		return nil
	}
	sorted := slices.Clone(list)
	slices.SortFunc(sorted, func(a, b connRef) int {
		return cmp.Or(cmp.Compare(b.Opened, a.Opened), cmp.Compare(a.Node, b.Node), cmp.Compare(a.ID, b.ID))
	})
	var out []connRef
	for _, r := range sorted[hub.MaxConns:] {
		if r.Node == c.node {
			out = append(out, r)
		}
	}
	return out
}

func (c *Cluster) evict(refs []connRef) {
	for _, r := range refs {
		c.local.Evict(r.User, r.ID)
	}
}

func (c *Cluster) publishSnapshot() {
	snap := snapshot{Node: c.node}
	for _, lc := range c.local.LocalConns() {
		snap.Conns = append(snap.Conns, connRef{Node: c.node, ID: lc.ID, User: lc.User, Device: lc.Device, Opened: lc.Opened.UnixNano()})
	}
	c.publish(prefix+"snapshot."+c.node, snap)
}

func (c *Cluster) onSnapshot(m *nats.Msg) {
	var snap snapshot
	if err := json.Unmarshal(m.Data, &snap); err != nil {
		return
	}
	if !c.fromOther(m, "snapshot", snap.Node) {
		return
	}
	c.mu.Lock()
	c.dropNodeLocked(snap.Node)
	for _, r := range snap.Conns {
		r.Node = snap.Node
		c.users[r.User] = append(c.users[r.User], r)
	}
	c.nodes[snap.Node] = &nodeInfo{seen: time.Now(), count: len(snap.Conns)}
	c.mu.Unlock()
}

func (c *Cluster) dropNodeLocked(node string) {
	for u, list := range c.users {
		list = slices.DeleteFunc(list, func(r connRef) bool { return r.Node == node })
		if len(list) == 0 {
			delete(c.users, u)
		} else {
			c.users[u] = list
		}
	}
	delete(c.nodes, node)
}

func (c *Cluster) onHeartbeat(m *nats.Msg) {
	var hb heartbeat
	if err := json.Unmarshal(m.Data, &hb); err != nil {
		return
	}
	if !c.fromOther(m, "heartbeat", hb.Node) {
		return
	}
	c.onHeartbeatFrom(hb)
}

func (c *Cluster) onHeartbeatFrom(hb heartbeat) {
	c.mu.Lock()
	n := c.nodes[hb.Node]
	if n == nil {
		n = &nodeInfo{}
		c.nodes[hb.Node] = n
	}
	n.seen, n.count = time.Now(), hb.Count
	known := 0
	for _, list := range c.users {
		for _, r := range list {
			if r.Node == hb.Node {
				known++
			}
		}
	}
	// Events in flight make one heartbeat disagree now and then; two in
	// a row mean one was lost.
	resync := false
	if known != hb.Count {
		n.mismatch++
		resync = n.mismatch >= 2
	} else {
		n.mismatch = 0
	}
	c.mu.Unlock()
	if resync {
		c.publish(prefix+"resync."+hb.Node, struct{}{})
	}
}

// beat publishes heartbeats and drops nodes not heard for DeadAfter.
func (c *Cluster) beat() {
	t := time.NewTicker(c.opt.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		c.publish(prefix+"heartbeat."+c.node, heartbeat{Node: c.node, Count: len(c.local.LocalConns())})
		now := time.Now()
		c.mu.Lock()
		for node, n := range c.nodes {
			if now.Sub(n.seen) > c.opt.DeadAfter {
				c.log.Warn("node gone", "node", node)
				c.dropNodeLocked(node)
			}
		}
		c.mu.Unlock()
	}
}

// Remote groups users by the other nodes holding their connections.
func (c *Cluster) Remote(users []int64) map[string][]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out map[string][]int64
	for _, u := range users {
		for _, r := range c.users[u] {
			if r.Node == c.node {
				continue
			}
			if out == nil {
				out = make(map[string][]int64)
			}
			if l := out[r.Node]; len(l) == 0 || l[len(l)-1] != u {
				out[r.Node] = append(l, u)
			}
		}
	}
	return out
}

// OnlineElsewhere reports whether user has a connection on another node.
func (c *Cluster) OnlineElsewhere(user int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.users[user] {
		if r.Node != c.node {
			return true
		}
	}
	return false
}

// RemoteSessions are user's connections on the other nodes, as this
// node's registry knows them.
func (c *Cluster) RemoteSessions(user int64) []chat.SessionInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []chat.SessionInfo
	for _, r := range c.users[user] {
		if r.Node != c.node {
			out = append(out, chat.SessionInfo{Node: r.Node, ID: r.ID, Device: r.Device, Opened: time.Unix(0, r.Opened)})
		}
	}
	return out
}

// RemoteUsers are the users with a connection on another node.
func (c *Cluster) RemoteUsers() []int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []int64
	for u, list := range c.users {
		if slices.ContainsFunc(list, func(r connRef) bool { return r.Node != c.node }) {
			out = append(out, u)
		}
	}
	return out
}

// Conns is how many connections user holds in the cluster, as this node
// knows.
func (c *Cluster) Conns(user int64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.users[user])
}

// Nodes lists the other nodes this one hears.
func (c *Cluster) Nodes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.nodes))
	for n := range c.nodes {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Forward sends a delivery to node. The frame goes as it is: json.Marshal
// would compact and re-escape it, and with it the clients' own JSON that
// messages carry byte-for-byte (custom data, ext).
func (c *Cluster) Forward(node string, d chat.Delivery) {
	subject := prefix + "node." + node
	c.opt.Metrics.Forwards.Inc()
	if len(d.Frame) == 0 {
		c.publish(subject, envelope{Users: d.Users, Conv: d.Conv, Seq: d.Seq, Logout: d.Logout, Sent: d.Sent, Frame: d.Frame})
		return
	}
	b, err := json.Marshal(envelope{Users: d.Users, Conv: d.Conv, Seq: d.Seq, Sent: d.Sent, Frame: json.RawMessage(`0`)})
	if err == nil {
		// The placeholder 0 is the last field's value: replace it.
		b = append(append(b[:len(b)-2], d.Frame...), '}')
		err = c.pub(subject, b)
	}
	if err != nil {
		c.log.Warn("cluster publish", "subject", subject, "err", err)
	}
}

func (c *Cluster) onDelivery(m *nats.Msg) {
	var e envelope
	if err := json.Unmarshal(m.Data, &e); err != nil {
		c.log.Warn("cluster delivery does not decode", "err", err)
		return
	}
	c.opt.Metrics.ForwardsReceived.Inc()
	c.local.Deliver(chat.Delivery{Users: e.Users, Conv: e.Conv, Seq: e.Seq, Frame: e.Frame, Logout: e.Logout, Sent: e.Sent})
}
