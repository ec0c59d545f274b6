package cluster

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/privateim/privateim/messageservice/internal/chat"
	"github.com/privateim/privateim/messageservice/internal/nodemetrics"
)

type evictions struct{ got []string }

func (e *evictions) Deliver(chat.Delivery)        {}
func (e *evictions) LocalConns() []chat.LocalConn { return nil }
func (e *evictions) Evict(user int64, conn uint64) {
	e.got = append(e.got, fmt.Sprint(user, "/", conn))
}

// newCluster is a Cluster without NATS: what it publishes is counted in
// published by subject.
func newCluster(node string, local Local) (*Cluster, map[string]int) {
	published := map[string]int{}
	c := &Cluster{log: slog.New(slog.DiscardHandler), node: node, local: local, opt: Options{Metrics: nodemetrics.New(nil)},
		users: map[int64][]connRef{}, nodes: map[string]*nodeInfo{}}
	c.pub = func(subject string, _ []byte) error { published[subject]++; return nil }
	return c, published
}

func open(node string, id uint64, user, at int64) connEvent {
	return connEvent{Open: true, Conn: connRef{Node: node, ID: id, User: user, Opened: at}}
}

func TestFourthConnectionEvictsTheOldestOfTheCluster(t *testing.T) {
	ev := &evictions{}
	c, _ := newCluster("a", ev)
	c.evict(c.apply(open("b", 1, 7, 100))) // oldest, on another node
	c.evict(c.apply(open("a", 1, 7, 200)))
	c.evict(c.apply(open("a", 2, 7, 300)))
	if len(ev.got) != 0 {
		t.Fatalf("evicted %v with three connections", ev.got)
	}
	c.evict(c.apply(open("c", 1, 7, 400)))
	if len(ev.got) != 0 {
		t.Fatalf("node a evicted %v; the oldest is node b's", ev.got)
	}
	if c.Conns(7) != 4 {
		t.Fatalf("%d connections known", c.Conns(7))
	}
	// b's closes; a 4th again: now a's oldest goes.
	c.apply(connEvent{Open: false, Conn: connRef{Node: "b", ID: 1, User: 7}})
	c.evict(c.apply(open("c", 2, 7, 500)))
	if !slices.Equal(ev.got, []string{"7/1"}) {
		t.Fatalf("evicted %v, want a's connection 1", ev.got)
	}
}

func TestRemoteGroupsByNode(t *testing.T) {
	c, _ := newCluster("a", &evictions{})
	c.apply(open("a", 1, 1, 1))
	c.apply(open("b", 1, 2, 1))
	c.apply(open("b", 2, 2, 2)) // two connections of user 2 on b: b once
	c.apply(open("c", 1, 3, 1))
	c.apply(open("b", 3, 3, 1))
	got := c.Remote([]int64{1, 2, 3, 4})
	if !slices.Equal(got["b"], []int64{2, 3}) || !slices.Equal(got["c"], []int64{3}) || got["a"] != nil || len(got) != 2 {
		t.Fatalf("Remote = %v", got)
	}
	if !c.OnlineElsewhere(2) || c.OnlineElsewhere(1) {
		t.Fatal("OnlineElsewhere is wrong")
	}
	c.mu.Lock()
	c.dropNodeLocked("b")
	c.mu.Unlock()
	if got := c.Remote([]int64{2, 3}); len(got) != 1 || !slices.Equal(got["c"], []int64{3}) {
		t.Fatalf("after b is gone: %v", got)
	}
}

func TestHeartbeatRepairsALostEvent(t *testing.T) {
	c, published := newCluster("a", &evictions{})
	c.apply(open("b", 1, 5, 1))
	hb := func(count int) {
		b, _ := json.Marshal(heartbeat{Node: "b", Count: count})
		c.onHeartbeat(&nats.Msg{Subject: prefix + "heartbeat.b", Data: b})
	}
	hb(1)
	if c.nodes["b"].mismatch != 0 {
		t.Fatal("a matching heartbeat counted as a mismatch")
	}
	hb(2) // b's second connection event was lost
	if n := published["privateim.msg.resync.b"]; n != 0 {
		t.Fatalf("one disagreeing heartbeat asked for %d resyncs", n)
	}
	hb(2)
	if n := published["privateim.msg.resync.b"]; n != 1 {
		t.Fatalf("two disagreeing heartbeats asked for %d resyncs, want 1", n)
	}
}

// delivered is a Local that keeps what the cluster delivers.
type delivered struct {
	evictions
	got []chat.Delivery
}

func (d *delivered) Deliver(x chat.Delivery) { d.got = append(d.got, x) }

// TestEnvelopeCarriesADelivery: a delivery forwarded to a node arrives
// there whole (the send's time too), with its frame as raw JSON on the
// wire (not base64).
func TestEnvelopeCarriesADelivery(t *testing.T) {
	var wire []byte
	a, _ := newCluster("a", &evictions{})
	a.pub = func(subject string, b []byte) error {
		if subject == prefix+"node.b" {
			wire = b
		}
		return nil
	}
	// The frame crosses byte-for-byte (a message's custom data and ext
	// are the client's own JSON): not compacted, not re-escaped.
	frame := `{"type":"message","content":{"kind":"custom","data":{ "a" : "<b&c>" , "n":1.50 }}}`
	sent := chat.Delivery{Users: []int64{3, 4}, Conv: "g:9", Seq: 12, Frame: []byte(frame), Sent: 1765123456789012345}
	a.Forward("b", sent)
	if !json.Valid(wire) || !strings.Contains(string(wire), `"f":`+frame) {
		t.Fatalf("on the wire: %s", wire)
	}
	local := &delivered{}
	b, _ := newCluster("b", local)
	b.onDelivery(&nats.Msg{Data: wire})
	if len(local.got) != 1 || !reflect.DeepEqual(local.got[0], sent) {
		t.Errorf("delivered %+v, want %+v", local.got, sent)
	}
}

// TestAnnouncementNamingAnotherNodeIsDropped: a node's announcements name
// it in the subject (what NATS permissions hold it to); a payload that
// names another node is dropped, so no node can announce connections,
// snapshots or heartbeats in another's name.
func TestAnnouncementNamingAnotherNodeIsDropped(t *testing.T) {
	c, _ := newCluster("a", &evictions{})
	msg := func(kind, from string, v any) *nats.Msg {
		b, _ := json.Marshal(v)
		return &nats.Msg{Subject: prefix + kind + "." + from, Data: b}
	}
	c.onConn(msg("conn", "evil", open("b", 1, 7, 1)))
	c.onSnapshot(msg("snapshot", "evil", snapshot{Node: "b", Conns: []connRef{{ID: 2, User: 8}}}))
	c.onHeartbeat(msg("heartbeat", "evil", heartbeat{Node: "b", Count: 3}))
	if c.Conns(7) != 0 || c.Conns(8) != 0 || len(c.Nodes()) != 0 {
		t.Fatalf("forged announcements were taken: conns %d %d, nodes %v", c.Conns(7), c.Conns(8), c.Nodes())
	}
	// The same from b itself, with dots in its id, are taken.
	c.onConn(msg("conn", "b.example.com:8081", open("b.example.com:8081", 1, 7, 1)))
	c.onHeartbeat(msg("heartbeat", "b.example.com:8081", heartbeat{Node: "b.example.com:8081", Count: 1}))
	if c.Conns(7) != 1 || !slices.Equal(c.Nodes(), []string{"b.example.com:8081"}) {
		t.Fatalf("b's own announcements: conns %d, nodes %v", c.Conns(7), c.Nodes())
	}
}
