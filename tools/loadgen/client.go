package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// user is one account of the population. idx is its place in the run's
// population (receivers and ledgers are indexed by it).
type user struct {
	idx   int
	id    string
	token string
	rx    *receiver // what this user's device received, across its connections
}

// inFrame is every field of a server frame the load generator reads.
type inFrame struct {
	Type         string          `json:"type"`
	ClientMsgID  string          `json:"client_msg_id"`
	Conversation string          `json:"conversation"`
	Seq          int64           `json:"seq"`
	From         string          `json:"from"`
	Content      json.RawMessage `json:"content"`
	Messages     []inFrame       `json:"messages"`
	HasMore      bool            `json:"has_more"`
	Code         string          `json:"code"`
	Message      string          `json:"message"`
}

// stamp is what the load generator puts in a message to time it: the
// scheduled send time in unix nanoseconds. Text messages carry it as their
// text, broadcasts and pushes as {"t":...}.
type stamp struct {
	Text string `json:"text"`
	T    int64  `json:"t"`
}

func (f *inFrame) sentAt() (time.Time, bool) {
	var s stamp
	if decodeStamp(f.Content, &s) != nil {
		return time.Time{}, false
	}
	ns := s.T
	if ns == 0 {
		ns, _ = strconv.ParseInt(s.Text, 10, 64)
	}
	if ns == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}

// receiver is one device's delivery log: per conversation, how often each
// seq arrived. It survives reconnects (storm). Its lock is a leaf.
type receiver struct {
	mu       sync.Mutex
	convs    map[string]*convRecv
	dirty    atomic.Bool  // something arrived that is not acked yet
	got      atomic.Int64 // first deliveries
	afterAck atomic.Int64 // duplicates of seqs this device had acked: redelivered although acked
}

type convRecv struct {
	counts []uint8 // index seq; saturates at 255
	high   int64   // highest seq received
	acked  int64   // highest seq acked
	// system: the seqs that are group system messages (the group's
	// creation, joins): acked like any, not load traffic, not counted.
	system map[int64]bool
}

func newReceiver() *receiver { return &receiver{convs: map[string]*convRecv{}} }

// record notes seq of conv; it reports whether it had arrived before.
func (r *receiver) record(conv string, seq int64) (dup bool) { return r.recordKind(conv, seq, false) }

// recordKind is record, noting a group system message as such.
func (r *receiver) recordKind(conv string, seq int64, system bool) (dup bool) {
	r.mu.Lock()
	c := r.convs[conv]
	if c == nil {
		c = &convRecv{}
		r.convs[conv] = c
	}
	if seq >= int64(len(c.counts)) {
		n := max(2*len(c.counts), int(seq)+1, 16)
		grown := make([]uint8, n)
		copy(grown, c.counts)
		c.counts = grown
	}
	dup = c.counts[seq] > 0
	if dup && seq <= c.acked {
		r.afterAck.Add(1)
	}
	if c.counts[seq] < 255 {
		c.counts[seq]++
	}
	c.high = max(c.high, seq)
	if system {
		if c.system == nil {
			c.system = map[int64]bool{}
		}
		c.system[seq] = true
	}
	r.mu.Unlock()
	r.dirty.Store(true)
	if !dup && !system {
		r.got.Add(1)
	}
	return dup
}

// groupEvent reports a group's system message (sender 0 in a group
// conversation, docs/websocket.md "Group events"): not load traffic.
func (f *inFrame) groupEvent() bool { return f.From == "0" && strings.HasPrefix(f.Conversation, "g:") }

// count returns how often seq of conv arrived.
func (r *receiver) count(conv string, seq int64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.convs[conv]
	if c == nil || seq >= int64(len(c.counts)) {
		return 0
	}
	return int(c.counts[seq])
}

// toAck returns the conversations whose highest seq is not acked yet and
// marks them acked.
func (r *receiver) toAck() map[string]int64 {
	if !r.dirty.Swap(false) {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out map[string]int64
	for name, c := range r.convs {
		if c.high > c.acked {
			if out == nil {
				out = map[string]int64{}
			}
			out[name] = c.high
			c.acked = c.high
		}
	}
	return out
}

// duplicates walks every received seq and calls fn for those that came
// more than once.
func (r *receiver) duplicates(fn func(conv string, seq int64, n int)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, c := range r.convs {
		for seq, n := range c.counts {
			if n > 1 {
				fn(name, int64(seq), int(n))
			}
		}
	}
}

// handlers are what a workload wants to hear from a connection; each is
// called on the connection's read goroutine and may be nil.
type handlers struct {
	sent    func(c *client, f *inFrame, at time.Time)
	message func(c *client, f *inFrame, at time.Time, dup bool)
	err     func(c *client, f *inFrame)
	// closed: the connection ended without close or drop being called.
	closed func(c *client, err error)
	// drop, for tests, makes the client ignore a delivery as if the
	// network lost it: the injected fault the integrity check must see.
	drop func(u *user, conv string, seq int64) bool
}

// client is one WebSocket connection of a user. Writes are serialized by
// wmu (gorilla allows one writer); reads happen on the read goroutine,
// which owns the receiver updates and the handler calls.
type client struct {
	u       *user
	ws      *websocket.Conn
	h       *handlers
	wmu     sync.Mutex
	pong    chan struct{}         // a pong arrived; buffered 1
	hist    chan inFrame          // history answers for sync
	done    chan struct{}         // closed when the read goroutine ends
	err     atomic.Pointer[error] // why it ended
	closing atomic.Bool           // close or drop was called: the end is ours
}

var dialer = websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 4096, WriteBufferSize: 4096}

// dial opens a connection of u to wsURL and waits for the pong of a first
// ping, so the server has opened the session (and started its catch-up,
// which is read by the read goroutine like any other frame).
func dial(ctx context.Context, wsURL string, u *user, h *handlers) (*client, error) {
	hdr := http.Header{}
	hdr.Set("Authorization", "Bearer "+u.token)
	ws, resp, err := dialer.DialContext(ctx, wsURL, hdr)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		return nil, fmt.Errorf("dial user %s: %w (HTTP %d)", u.id, err, status)
	}
	c := &client{u: u, ws: ws, h: h, pong: make(chan struct{}, 1), hist: make(chan inFrame, 1), done: make(chan struct{})}
	go c.read()
	if err := c.ping(ctx, 30*time.Second); err != nil {
		c.close()
		return nil, fmt.Errorf("first ping of user %s: %w", u.id, err)
	}
	return c, nil
}

func (c *client) read() {
	defer close(c.done)
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			c.err.Store(&err)
			if c.h.closed != nil && !c.closing.Load() {
				c.h.closed(c, err)
			}
			return
		}
		now := time.Now()
		var f inFrame
		if err := decodeFrame(b, &f); err != nil {
			err = fmt.Errorf("frame %q: %w", b, err)
			c.err.Store(&err)
			return
		}
		switch f.Type {
		case "message":
			if c.h.drop != nil && c.h.drop(c.u, f.Conversation, f.Seq) {
				continue
			}
			dup := c.u.rx.recordKind(f.Conversation, f.Seq, f.groupEvent())
			if c.h.message != nil && !f.groupEvent() {
				c.h.message(c, &f, now, dup)
			}
		case "sent":
			if c.h.sent != nil {
				c.h.sent(c, &f, now)
			}
		case "pong":
			select {
			case c.pong <- struct{}{}:
			default:
			}
		case "history":
			select {
			case c.hist <- f:
			default: // nobody asked: drop it
			}
		case "error":
			if c.h.err != nil {
				c.h.err(c, &f)
			}
		}
	}
}

// write sends v as one text frame.
func (c *client) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.writeRaw(b)
}

func (c *client) writeRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(30 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// sendText sends a text message whose text is the scheduled time.
func (c *client) sendText(clientMsgID, kind, to string, sched time.Time) error {
	// Built by hand: this is the hot path of the generator.
	b := make([]byte, 0, 160)
	b = append(b, `{"type":"send","client_msg_id":"`...)
	b = append(b, clientMsgID...)
	b = append(b, `","to":{"kind":"`...)
	b = append(b, kind...)
	b = append(b, `","id":"`...)
	b = append(b, to...)
	b = append(b, `"},"content":{"kind":"text","text":"`...)
	b = strconv.AppendInt(b, sched.UnixNano(), 10)
	b = append(b, `"}}`...)
	return c.writeRaw(b)
}

// ping sends a ping and waits for a pong: every frame the server queued
// before it has been read by then.
func (c *client) ping(ctx context.Context, timeout time.Duration) error {
	select {
	case <-c.pong: // a stale one
	default:
	}
	if err := c.write(map[string]string{"type": "ping"}); err != nil {
		return err
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-c.pong:
		return nil
	case <-c.done:
		return c.endErr()
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return errors.New("no pong")
	}
}

// sync reads the whole history of conv and returns the seqs stored. Only
// one sync runs per client at a time.
func (c *client) sync(ctx context.Context, conv string) ([]int64, error) {
	msgs, err := c.history(ctx, conv)
	seqs := make([]int64, 0, len(msgs))
	for _, m := range msgs {
		if !m.groupEvent() {
			seqs = append(seqs, m.Seq)
		}
	}
	return seqs, err
}

// history reads the whole history of conv after seq 0, page by page (200
// a page). Only one runs per client at a time.
func (c *client) history(ctx context.Context, conv string) ([]inFrame, error) {
	var out []inFrame
	after := int64(0)
	for {
		if err := c.write(map[string]any{"type": "sync", "conversation": conv, "after_seq": after, "limit": 200}); err != nil {
			return out, err
		}
		var h inFrame
		select {
		case h = <-c.hist:
		case <-c.done:
			return out, c.endErr()
		case <-ctx.Done():
			return out, ctx.Err()
		case <-time.After(30 * time.Second):
			return out, fmt.Errorf("sync %s: no history", conv)
		}
		out = append(out, h.Messages...)
		for _, m := range h.Messages {
			after = max(after, m.Seq)
		}
		if !h.HasMore || len(h.Messages) == 0 {
			return out, nil
		}
	}
}

func (c *client) endErr() error {
	if p := c.err.Load(); p != nil {
		return *p
	}
	return errors.New("connection closed")
}

// close closes the connection with a close frame and waits for the read
// goroutine.
func (c *client) close() {
	c.closing.Store(true)
	c.wmu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	c.wmu.Unlock()
	_ = c.ws.Close()
	<-c.done
}

// drop cuts the TCP connection without a close frame, as a phone losing
// its network does.
func (c *client) drop() {
	c.closing.Store(true)
	if tc, ok := c.ws.NetConn().(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.ws.Close()
	<-c.done
}

// acker sends the cumulative acks of every client every interval until ctx
// ends. One goroutine for all connections: thousands of idle clients cost
// nothing. A connection whose writer is busy (a sender blocked by a server
// that does not read) is skipped this round, so it never delays the acks
// of the others. clients returns the current connections.
func acker(ctx context.Context, interval time.Duration, clients func() []*client) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, c := range clients() {
			if !c.u.rx.dirty.Load() || !c.wmu.TryLock() {
				continue
			}
			for conv, seq := range c.u.rx.toAck() {
				b := fmt.Appendf(nil, `{"type":"ack","conversation":%q,"seq":%d}`, conv, seq)
				_ = c.ws.SetWriteDeadline(time.Now().Add(30 * time.Second))
				_ = c.ws.WriteMessage(websocket.TextMessage, b)
			}
			c.wmu.Unlock()
		}
	}
}
