// Package nodemetrics holds the counters and histograms a message node
// updates on its hot path (docs/operations.md, "Metrics"): frames in and
// out by type, slow-reader closes, send-to-deliver latency, store latency,
// redeliveries, evictions, prunes, cluster forwards, rate-limited frames.
// Every series is resolved when the node starts: counting a frame is one
// atomic add, with no label hashing and no allocation. The gauges read at
// scrape time (connections, queues, caches) are the server's collector.
//
// It imports the standard library and client_golang only.
package nodemetrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

const ns = "privateim"

// FrameIn is the type of a client frame, the label value of
// privateim_ws_frames_received_total.
type FrameIn int

// The client frame types; Invalid is a frame that did not decode (or was
// not text).
const (
	InSend FrameIn = iota
	InAck
	InSync
	InVersions
	InRead
	InTyping
	InRecall
	InEdit
	InReact
	InUnreact
	InDeleteForMe
	InPing
	InInvalid
	numIn
)

var inNames = [numIn]string{"send", "ack", "sync", "versions", "read", "typing", "recall", "edit", "react", "unreact", "delete_for_me", "ping", "invalid"}

// outNames are the server frame types counted by name; any other counts
// as "other". Keep in step with docs/websocket.md.
var outNames = []string{"message", "sent", "error", "pong", "history", "versions", "presence", "read", "receipt", "delivered", "typing", "other"}

// Metrics of one node. Make it with New; its zero value is not usable.
type Metrics struct {
	framesIn  [numIn]prometheus.Counter
	framesOut map[string]prometheus.Counter // keys: outNames; read only after New

	SlowReaderCloses prometheus.Counter   // connections closed with 1013: their send queue overflowed
	Delivery         prometheus.Histogram // send frame received -> message frame handed to a receiver's connection
	Store            prometheus.Histogram // one append call to the DataService (a batch or a single message)
	StoreFailures    prometheus.Counter   // append calls that failed
	Redeliveries     prometheus.Counter   // unacked message frames sent again
	Evictions        prometheus.Counter   // connections closed with 4001: replaced by a newer one of the user elsewhere
	PrunedGroups     prometheus.Counter
	PrunedSubs       prometheus.Counter
	Forwards         prometheus.Counter // deliveries published to another node over NATS
	ForwardsReceived prometheus.Counter // deliveries another node published to this one
	RateLimited      *prometheus.CounterVec
}

// DeliveryBuckets are the buckets of the send-to-deliver histogram, in
// seconds: 1 ms to 10 s.
var DeliveryBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// New makes the metrics and registers them with reg; nil reg: not
// registered (a node a test builds without a registry).
func New(reg prometheus.Registerer) *Metrics {
	in := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: "ws", Name: "frames_received_total", Help: "Client frames received, by type (invalid: did not decode).",
	}, []string{"type"})
	out := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: "ws", Name: "frames_sent_total", Help: "Frames queued to clients, by type.",
	}, []string{"type"})
	counter := func(sub, name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help})
	}
	pruned := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: "chat", Name: "pruned_nodes_total", Help: "Cached group and subscription nodes dropped by pruning, by kind.",
	}, []string{"kind"})
	m := &Metrics{
		framesOut:        make(map[string]prometheus.Counter, len(outNames)),
		SlowReaderCloses: counter("ws", "slow_reader_closes_total", "Connections closed as slow readers (1013): their send queue overflowed."),
		Delivery: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: "chat", Name: "delivery_seconds", Buckets: DeliveryBuckets,
			Help: "From a send frame's arrival to its message frame queued to a receiver's connection (on the receiver's node; across nodes the clocks of both count).",
		}),
		Store: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: "chat", Name: "store_seconds", Buckets: DeliveryBuckets,
			Help: "Duration of one append call to the DataService (a batch of messages or one).",
		}),
		StoreFailures:    counter("chat", "store_failures_total", "Append calls to the DataService that failed."),
		Redeliveries:     counter("chat", "redeliveries_total", "Unacked message frames sent again (RETRY_INTERVAL)."),
		Evictions:        counter("chat", "evictions_total", "Connections closed with 4001 replaced: a newer connection of the same device opened."),
		PrunedGroups:     pruned.WithLabelValues("group"),
		PrunedSubs:       pruned.WithLabelValues("subscription"),
		Forwards:         counter("cluster", "forwards_total", "Deliveries published to another node over NATS."),
		ForwardsReceived: counter("cluster", "forwards_received_total", "Deliveries received from another node over NATS."),
		RateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: "ws", Name: "rate_limited_frames_total", Help: "Client frames refused by a rate limit, by limit (connection, user, send, read, sync, ack, typing).",
		}, []string{"limit"}),
	}
	for i, n := range inNames {
		m.framesIn[i] = in.WithLabelValues(n)
	}
	for _, n := range outNames {
		m.framesOut[n] = out.WithLabelValues(n)
	}
	for _, l := range []string{"connection", "user", "send", "read", "sync", "ack", "typing"} {
		m.RateLimited.WithLabelValues(l) // exported at 0 before the first refusal
	}
	if reg != nil {
		reg.MustRegister(in, out, pruned, m.SlowReaderCloses, m.Delivery, m.Store, m.StoreFailures, m.Redeliveries,
			m.Evictions, m.Forwards, m.ForwardsReceived, m.RateLimited)
	}
	return m
}

// FrameIn counts a client frame of type t.
func (m *Metrics) FrameIn(t FrameIn) { m.framesIn[t].Inc() }

// FrameOut counts a frame queued to a client; its type is read from its
// first bytes (every server frame starts with {"type":"...").
func (m *Metrics) FrameOut(b []byte) {
	c, ok := m.framesOut[string(frameType(b))] // string(bytes) as a map key does not allocate
	if !ok {
		c = m.framesOut["other"]
	}
	c.Inc()
}

// frameType is the type of a server frame, or nil when it does not start
// with {"type":".
func frameType(b []byte) []byte {
	const prefix = `{"type":"`
	if len(b) < len(prefix) || string(b[:len(prefix)]) != prefix {
		return nil
	}
	b = b[len(prefix):]
	for i, c := range b {
		if c == '"' {
			return b[:i]
		}
		if i > 32 {
			break
		}
	}
	return nil
}

// Delivered observes the latency of a message received at sent (unix
// nanoseconds; 0: unknown, not observed) and delivered now.
func (m *Metrics) Delivered(sent int64) {
	if sent == 0 {
		return
	}
	d := time.Duration(time.Now().UnixNano() - sent)
	if d < 0 {
		d = 0 // another node's clock ahead of ours
	}
	m.Delivery.Observe(d.Seconds())
}
