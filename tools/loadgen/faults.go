package main

// The faults workload: delivery integrity and recovery time on a 3-node
// message cluster with an external 3-server NATS cluster while, under
// steady p2p and group load, one fault after another hits the stack.
//
// Definitions (also in docs/benchmarks.md, "Faults"). The protocol is
// at-least-once on the wire with stable seqs: a client drops a seq it
// already holds, so a screen shows each message once. Counted per device
// (one per user here), for every message the server acknowledged with
// `sent`:
//
//   - missing: a (receiver, seq) never received, over all its connections.
//   - duplicates (must be 0): a message stored twice (the same
//     client_msg_id at two seqs, in the `sent` frames or in the history
//     read back with sync), and a copy of a seq on the same live
//     connection after that connection's ack of it was applied by the
//     node (a pong answered a ping written after the ack: the node reads a
//     connection's frames in order) or after the connection had it as its
//     own `sent` (an echo).
//   - redelivered (informational): copies of seqs the device held, on a
//     later connection than the one that last had them (the ack, or the
//     cursor write behind it, may have died with a node or an outage);
//     in_flight (informational): a same-connection copy whose ack was not
//     yet known to be applied.
//
// "Serves again": from the fault until a fresh round trip (dial, send,
// `sent`, delivery to a receiver on another node) works through every
// node that is up; must be <= 10 s.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/gorilla/websocket"

	messagev1 "github.com/privateim/privateim/protos/message/v1"
)

// serveLimit is the bound on "serves again".
const serveLimit = 10 * time.Second

var allFaults = []string{"kill-node", "restart-dataservice", "restart-nats", "restart-mariadb", "slow-reader"}

// faultsReport is the faults workload's report.
type faultsReport struct {
	Workload  string         `json:"workload"`
	Params    map[string]any `json:"params"`
	Seconds   float64        `json:"seconds"`
	Phases    []phaseReport  `json:"phases"`
	Sent      int64          `json:"sent"`
	Latency   latency        `json:"latency"` // scheduled send -> first delivery, faults included
	Integrity faultIntegrity `json:"integrity"`
	OK        bool           `json:"ok"`
}

type phaseReport struct {
	Fault        string  `json:"fault"`
	ServesAgainS float64 `json:"serves_again_s"`        // -1: not within the wait
	RecoveredS   float64 `json:"recovered_s,omitempty"` // kill-node: the restarted node serves too; slow-reader: the held user is connected again
	ClosedS      float64 `json:"closed_s,omitempty"`    // slow-reader: the node closed the held reader
	Note         string  `json:"note,omitempty"`
	Reconnects   int64   `json:"reconnects"`
	Resent       int64   `json:"resent"`
	Sent         int64   `json:"sent"`
	Acked        int64   `json:"acked"`
	OK           bool    `json:"ok"`
}

type faultIntegrity struct {
	Sent          int64    `json:"sent"`    // distinct messages sent (client_msg_ids)
	Acked         int64    `json:"acked"`   // distinct client_msg_ids answered with sent
	Unacked       int64    `json:"unacked"` // neither sent nor refused by the end: the cluster does not serve
	Refused       int64    `json:"refused"` // answered with an error frame (not internal): not owed
	Expected      int64    `json:"expected_deliveries"`
	Missing       int64    `json:"missing"`
	Duplicates    int64    `json:"duplicates"`
	StoredTwice   int64    `json:"stored_twice"` // of duplicates: a client_msg_id at two seqs
	SameConn      int64    `json:"same_connection"`
	Redelivered   int64    `json:"redelivered"`
	InFlight      int64    `json:"in_flight"`
	Stored        int64    `json:"stored"`
	StoredMissing int64    `json:"stored_missing"`
	Errors        int64    `json:"errors"`
	Problems      []string `json:"problems,omitempty"`
	OK            bool     `json:"ok"`
}

func (in *faultIntegrity) problem(format string, args ...any) {
	if len(in.Problems) < 30 {
		in.Problems = append(in.Problems, fmt.Sprintf(format, args...))
	}
}

// fSend is a send without its sent frame yet.
type fSend struct {
	frame   []byte
	written time.Time // last write
}

// fConv is what a device holds of one conversation. last[seq] is the
// connection generation that last had the seq (0: never), own[seq] that
// it is the device's own message.
type fConv struct {
	last []int32
	own  []bool
	cont int64 // 1..cont all held (held seqs stay held, so it only grows)
}

func (c *fConv) grow(seq int64) {
	if seq >= int64(len(c.last)) {
		n := max(2*len(c.last), int(seq)+1, 16)
		c.last = append(c.last, make([]int32, n-len(c.last))...)
		c.own = append(c.own, make([]bool, n-len(c.own))...)
	}
}

func (c *fConv) has(seq int64) bool { return seq < int64(len(c.last)) && c.last[seq] != 0 }

// contiguous is the highest k with 1..k all held.
func (c *fConv) contiguous() int64 {
	for c.cont+1 < int64(len(c.last)) && c.last[c.cont+1] != 0 {
		c.cont++
	}
	return c.cont
}

// fUser is one user's device: its current connection and what it holds.
// mu guards everything but the atomics; lock order fUser.mu ->
// faultRun.mu (sent frames register in the run).
type fUser struct {
	u       *user
	home    int
	smallRx bool // dialled with a small receive buffer (the slow reader)

	mu       sync.Mutex
	c        *client
	gen      int32
	stopped  bool
	pending  map[string]*fSend
	convs    map[string]*fConv
	acked    map[string]int64 // this connection: acks written
	applied  map[string]int64 // this connection: acks the node has read
	inPing   map[string]int64 // acks written before the ping in flight
	pinging  bool
	closeErr error // why the last connection ended

	hold atomic.Pointer[chan struct{}] // non-nil: the read goroutine stops at the next message
}

// faultRun is the workload's state.
type faultRun struct {
	cfg    config
	log    *slog.Logger
	stderr io.Writer
	st     *faultStack
	sb     *stackBackend
	led    *ledger
	lat    hist
	users  []*fUser
	probes [][2]*fUser // per node: a friend pair for the probes
	held   *fUser      // the slow reader (receiver of pair 0)
	flood  *fUser      // its friend, who floods it
	gid    string      // the group

	mu       sync.Mutex
	ackedIDs map[string]string // client_msg_id -> conv:seq of its first sent
	ids      map[string]bool   // every client_msg_id sent
	refused  map[string]bool   // answered with an error frame other than internal
	in       faultIntegrity    // counters filled while running (dups, stored twice)

	sent, reconnects, resent, errs atomic.Int64
	wg                             sync.WaitGroup // reconnect goroutines
	ctx                            context.Context
}

func (r *faultRun) nodeAlive(i int) bool { return r.st.msg[i].c.alive() }

// dialUser connects fu to node, with a small receive buffer for the slow
// reader so that its TCP window fills quickly.
func (r *faultRun) dialUser(ctx context.Context, fu *fUser, node int, h *handlers) (*client, error) {
	d := dialer
	if fu.smallRx {
		nd := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
			return errors.Join(err, serr)
		}}
		d.NetDialContext = nd.DialContext
	}
	hdr := http.Header{}
	hdr.Set("Authorization", "Bearer "+fu.u.token)
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ws, resp, err := d.DialContext(dctx, r.st.msg[node].ws(), hdr)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	c := &client{u: fu.u, ws: ws, h: h, pong: make(chan struct{}, 1), hist: make(chan inFrame, 1), done: make(chan struct{})}
	go c.read()
	if err := c.ping(ctx, 5*time.Second); err != nil {
		c.drop()
		return nil, err
	}
	return c, nil
}

// attach makes c fu's connection and re-sends every send without its sent
// frame, with the same client_msg_id (the documented retry).
func (r *faultRun) attach(fu *fUser, c *client) {
	fu.mu.Lock()
	fu.c = c
	fu.gen++
	fu.acked, fu.applied, fu.inPing, fu.pinging = map[string]int64{}, map[string]int64{}, nil, false
	var frames [][]byte
	for _, s := range fu.pending {
		frames = append(frames, s.frame)
		s.written = time.Now()
	}
	fu.mu.Unlock()
	for _, f := range frames {
		if c.writeRaw(f) != nil {
			return // closed again: the next attach re-sends
		}
		r.resent.Add(1)
	}
}

// reconnect dials fu to the nodes in turn, starting after from, until one
// takes it (or the run stops).
func (r *faultRun) reconnect(fu *fUser, from int) {
	defer r.wg.Done()
	r.reconnects.Add(1)
	for attempt := 1; r.ctx.Err() == nil; attempt++ {
		node := (from + attempt) % len(r.st.msg)
		c, err := r.dialUser(r.ctx, fu, node, r.handlers(fu))
		if err == nil {
			fu.mu.Lock()
			stopped := fu.stopped
			fu.mu.Unlock()
			if stopped {
				c.close()
				return
			}
			r.attach(fu, c)
			return
		}
		select {
		case <-r.ctx.Done():
		case <-time.After(time.Duration(min(attempt, 5)) * 100 * time.Millisecond):
		}
	}
}

// handlers are fu's connection callbacks (on the read goroutine).
func (r *faultRun) handlers(fu *fUser) *handlers {
	return &handlers{
		sent: func(c *client, f *inFrame, at time.Time) { r.onSent(fu, c, f) },
		message: func(c *client, f *inFrame, at time.Time, _ bool) {
			if h := fu.hold.Load(); h != nil {
				<-*h
			}
			r.onMessage(fu, c, f, at)
		},
		err: func(c *client, f *inFrame) {
			if f.Code == "internal" && f.ClientMsgID != "" {
				return // stays pending; the resender writes it again
			}
			if f.ClientMsgID != "" { // refused for good: not owed to anyone
				fu.mu.Lock()
				delete(fu.pending, f.ClientMsgID)
				fu.mu.Unlock()
				r.mu.Lock()
				r.refused[f.ClientMsgID] = true
				r.mu.Unlock()
			}
			if r.errs.Add(1) <= 5 {
				r.log.Warn("error frame", "user", fu.u.id, "code", f.Code, "message", f.Message, "client_msg_id", f.ClientMsgID)
			}
		},
		closed: func(c *client, err error) {
			fu.mu.Lock()
			if fu.c != c || fu.stopped {
				fu.mu.Unlock()
				return
			}
			fu.c, fu.closeErr = nil, err
			fu.mu.Unlock()
			from := slices.IndexFunc(r.st.msg, func(n *msgNode) bool { return strings.Contains(c.ws.RemoteAddr().String(), n.http) })
			r.wg.Add(1)
			go r.reconnect(fu, max(from, 0))
		},
	}
}

func (r *faultRun) onSent(fu *fUser, c *client, f *inFrame) {
	fu.mu.Lock()
	delete(fu.pending, f.ClientMsgID)
	cv := fu.conv(f.Conversation)
	cv.grow(f.Seq)
	if f.Seq > 0 {
		cv.own[f.Seq] = true
		switch {
		case fu.c == c:
			cv.last[f.Seq] = fu.gen
		case cv.last[f.Seq] == 0:
			cv.last[f.Seq] = -1 // held, from a connection already replaced
		}
	}
	fu.mu.Unlock()
	at := f.Conversation + ":" + strconv.FormatInt(f.Seq, 10)
	r.mu.Lock()
	if prev, ok := r.ackedIDs[f.ClientMsgID]; ok && prev != at {
		r.in.Duplicates++
		r.in.StoredTwice++
		r.in.problem("stored twice: %s acked as %s and %s", f.ClientMsgID, prev, at)
	} else if !ok {
		r.ackedIDs[f.ClientMsgID] = at
	}
	r.mu.Unlock()
	r.led.ack(f.Conversation, f.Seq, fu.u.idx)
}

func (fu *fUser) conv(name string) *fConv {
	cv := fu.convs[name]
	if cv == nil {
		cv = &fConv{}
		fu.convs[name] = cv
	}
	return cv
}

func (r *faultRun) onMessage(fu *fUser, c *client, f *inFrame, at time.Time) {
	fu.mu.Lock()
	gen := int32(-1)
	if fu.c == c {
		gen = fu.gen
	}
	cv := fu.conv(f.Conversation)
	cv.grow(f.Seq)
	last := cv.last[f.Seq]
	var kind string
	switch {
	case last == 0:
		if gen > 0 {
			cv.last[f.Seq] = gen
		} else {
			cv.last[f.Seq] = -1 // held, from a connection already replaced
		}
		fu.mu.Unlock()
		if t, ok := stampOf(f); ok {
			r.lat.Record(at.Sub(t))
		}
		return
	case gen > 0 && last == gen:
		if cv.own[f.Seq] || fu.applied[f.Conversation] >= f.Seq {
			kind = "dup"
		} else {
			kind = "inflight"
		}
	default:
		kind = "redelivered"
		if gen > 0 {
			cv.last[f.Seq] = gen
		}
	}
	own := cv.own[f.Seq]
	fu.mu.Unlock()
	r.mu.Lock()
	switch kind {
	case "dup":
		r.in.Duplicates++
		r.in.SameConn++
		r.in.problem("duplicate: user %s got %s seq %d again on the same connection after its ack was applied (own %v)", fu.u.id, f.Conversation, f.Seq, own)
	case "inflight":
		r.in.InFlight++
	default:
		r.in.Redelivered++
	}
	r.mu.Unlock()
}

// stampOf reads the scheduled send time from a faults message text
// ("<unix ns> <client_msg_id>").
func stampOf(f *inFrame) (time.Time, bool) {
	var s stamp
	if decodeStamp(f.Content, &s) != nil {
		return time.Time{}, false
	}
	ns, err := strconv.ParseInt(strings.Fields(s.Text + " x")[0], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}

// send records and writes one message of fu (written again on reconnect
// until its sent arrives).
func (r *faultRun) send(fu *fUser, kind, to, id string, sched time.Time, pad int) {
	b := make([]byte, 0, 160+pad)
	b = append(b, `{"type":"send","client_msg_id":"`...)
	b = append(b, id...)
	b = append(b, `","to":{"kind":"`...)
	b = append(b, kind...)
	b = append(b, `","id":"`...)
	b = append(b, to...)
	b = append(b, `"},"content":{"kind":"text","text":"`...)
	b = strconv.AppendInt(b, sched.UnixNano(), 10)
	b = append(b, ' ')
	b = append(b, id...)
	for range pad {
		b = append(b, 'x')
	}
	b = append(b, `"}}`...)
	r.mu.Lock()
	r.ids[id] = true
	r.mu.Unlock()
	r.sent.Add(1)
	fu.mu.Lock()
	fu.pending[id] = &fSend{frame: b, written: time.Now()}
	c := fu.c
	fu.mu.Unlock()
	if c != nil {
		_ = c.writeRaw(b) // a failure: the reconnect re-sends it
	}
}

// maintain runs every 100 ms until ctx ends: cumulative acks of what each
// device holds contiguously, a ping after them (its pong marks them
// applied), and sends without a sent frame for 5 s written again with the
// same client_msg_id (a node can lose one on a DataService outage).
func (r *faultRun) maintain(ctx context.Context) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, fu := range r.users {
			r.maintainUser(fu)
		}
	}
}

func (r *faultRun) maintainUser(fu *fUser) {
	fu.mu.Lock()
	c := fu.c
	// Lock order fUser.mu -> client.wmu; a busy writer (a send blocked by
	// a node that does not read) is skipped this round.
	if c == nil || !c.wmu.TryLock() {
		fu.mu.Unlock()
		return
	}
	defer c.wmu.Unlock()
	if fu.pinging {
		select {
		case <-c.pong:
			for k, v := range fu.inPing {
				fu.applied[k] = max(fu.applied[k], v)
			}
			fu.pinging, fu.inPing = false, nil
		default:
		}
	}
	var acks [][]byte
	for name, cv := range fu.convs {
		if k := cv.contiguous(); k > fu.acked[name] {
			fu.acked[name] = k
			acks = append(acks, fmt.Appendf(nil, `{"type":"ack","conversation":%q,"seq":%d}`, name, k))
		}
	}
	ping := len(acks) > 0 && !fu.pinging
	if ping {
		fu.inPing, fu.pinging = map[string]int64{}, true
		for k, v := range fu.acked {
			fu.inPing[k] = v
		}
	}
	var resend [][]byte
	now := time.Now()
	for _, s := range fu.pending {
		if now.Sub(s.written) > 5*time.Second {
			s.written = now
			resend = append(resend, s.frame)
		}
	}
	fu.mu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	for _, a := range acks {
		_ = c.ws.WriteMessage(websocket.TextMessage, a)
	}
	if ping {
		select {
		case <-c.pong: // stale
		default:
		}
		_ = c.ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping"}`))
	}
	for _, b := range resend {
		if c.ws.WriteMessage(websocket.TextMessage, b) == nil {
			r.resent.Add(1)
		}
	}
}

// probe is a fresh round trip through node: a sender dialled to node, its
// friend to another node that is up, one message, sent and delivered.
func (r *faultRun) probe(ctx context.Context, a, b *fUser, node int, n int) error {
	other := node
	for k := 1; k < len(r.st.msg); k++ {
		if j := (node + k) % len(r.st.msg); r.nodeAlive(j) {
			other = j
			break
		}
	}
	id := fmt.Sprintf("probe-%d-%d", node, n)
	got := make(chan struct{}, 1)
	sent := make(chan struct{}, 1)
	h := &handlers{
		sent: func(_ *client, f *inFrame, _ time.Time) {
			if f.ClientMsgID == id {
				sent <- struct{}{}
			}
		},
		message: func(_ *client, f *inFrame, _ time.Time, _ bool) {
			var s stamp
			if json.Unmarshal(f.Content, &s) == nil && strings.HasSuffix(s.Text, " "+id) {
				select {
				case got <- struct{}{}:
				default:
				}
			}
		},
	}
	rc, err := r.dialUser(ctx, b, other, h)
	if err != nil {
		return fmt.Errorf("dial receiver on node %d: %w", other, err)
	}
	defer rc.close()
	sc, err := r.dialUser(ctx, a, node, h)
	if err != nil {
		return fmt.Errorf("dial sender on node %d: %w", node, err)
	}
	defer sc.close()
	b2 := fmt.Appendf(nil, `{"type":"send","client_msg_id":%q,"to":{"kind":"user","id":%q},"content":{"kind":"text","text":"%d %s"}}`, id, b.u.id, time.Now().UnixNano(), id)
	if err := sc.writeRaw(b2); err != nil {
		return err
	}
	t := time.NewTimer(3 * time.Second)
	defer t.Stop()
	for _, ch := range []chan struct{}{sent, got} {
		select {
		case <-ch:
		case <-t.C:
			return fmt.Errorf("probe through node %d: no sent or delivery within 3s", node)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// servesAgain probes every node that is up until all pass; it returns
// the time since t0, or -1 when wait passed first.
func (r *faultRun) servesAgain(ctx context.Context, t0 time.Time, wait time.Duration) (float64, error) {
	var last error
	for n := 0; time.Since(t0) < wait && ctx.Err() == nil; n++ {
		ok := true
		for i := range r.st.msg {
			if !r.nodeAlive(i) {
				continue
			}
			if err := r.probe(ctx, r.probes[i][0], r.probes[i][1], i, n); err != nil {
				ok, last = false, err
				break
			}
		}
		if ok {
			return round3(time.Since(t0).Seconds()), nil
		}
		if n%10 == 9 {
			r.log.Info("not serving yet", "after", time.Since(t0).Round(time.Millisecond), "err", last)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return -1, last
}

// measureFaults is the faults workload: its own stack, the population,
// the load, one phase per fault, then integrity.
func measureFaults(ctx context.Context, cfg config, log *slog.Logger, stderr io.Writer) (_ *faultsReport, err error) {
	start := time.Now()
	root, rootErr := repoRoot(cfg.root)
	if rootErr != nil && cfg.bin == "" {
		return nil, rootErr
	}
	bin := cfg.bin
	if bin == "" {
		if bin, err = buildFaultBinaries(ctx, root); err != nil {
			return nil, err
		}
	}
	st, err := startFaultStack(ctx, log, root, bin, cfg.sendQueue)
	if err != nil {
		return nil, fmt.Errorf("fault stack: %w", err)
	}
	defer st.stop()
	sb, err := newStackBackend(st.userURL, st.msg[0].ws(), st.msg[0].grpc, st.dataAddr, st.certs.Client, 0, true, cfg.workers)
	if err != nil {
		return nil, err
	}
	defer sb.close()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &faultRun{cfg: cfg, log: log, stderr: stderr, st: st, sb: sb, led: newLedger(), ackedIDs: map[string]string{}, ids: map[string]bool{}, refused: map[string]bool{}, ctx: runCtx}
	defer func() {
		cancel()
		for _, fu := range r.users {
			fu.mu.Lock()
			fu.stopped = true
			c := fu.c
			fu.c = nil
			fu.mu.Unlock()
			if c != nil {
				c.close()
			}
		}
		r.wg.Wait()
	}()
	rep := &faultsReport{Workload: "faults", Params: map[string]any{
		"pairs": cfg.pairs, "members": cfg.members, "publishers": cfg.publishers, "rate": cfg.rate,
		"phase": cfg.duration.String(), "faults": cfg.faults, "send_queue": cfg.sendQueue, "nodes": len(st.msg), "nats_servers": len(st.nats),
	}}
	if err := r.populate(ctx); err != nil {
		return nil, err
	}
	stopMaintain := background(runCtx, r.maintain)
	defer stopMaintain()
	loadCtx, stopLoad := context.WithCancel(runCtx)
	var loadWG sync.WaitGroup
	r.drive(loadCtx, &loadWG)
	stopProgress := background(runCtx, func(ctx context.Context) { r.progress(ctx) })
	defer stopProgress()
	select { // steady load before the first fault
	case <-time.After(min(cfg.duration, 3*time.Second)):
	case <-ctx.Done():
	}
	for _, f := range strings.Split(cfg.faults, ",") {
		if ctx.Err() != nil {
			break
		}
		ph := r.phase(runCtx, f)
		rep.Phases = append(rep.Phases, ph)
	}
	stopLoad()
	loadWG.Wait()
	r.drain(runCtx)
	stopProgress()
	rep.Sent = r.sent.Load()
	rep.Latency = r.lat.summary()
	rep.Integrity = r.check(runCtx)
	rep.OK = rep.Integrity.OK
	for _, ph := range rep.Phases {
		rep.OK = rep.OK && ph.OK
	}
	st.keep = !rep.OK
	rep.Seconds = round3(time.Since(start).Seconds())
	return rep, ctx.Err()
}

// populate signs the users up, makes the relations and connects everyone
// to their home node: a pair's sender and receiver on different nodes,
// the group's members spread over all of them.
func (r *faultRun) populate(ctx context.Context) error {
	nodes := len(r.st.msg)
	n := 2*r.cfg.pairs + r.cfg.members + 2*nodes
	us, err := r.sb.signUp(ctx, n)
	if err != nil {
		return fmt.Errorf("sign up: %w", err)
	}
	r.users = make([]*fUser, n)
	for i, u := range us {
		r.users[i] = &fUser{u: u, pending: map[string]*fSend{}, convs: map[string]*fConv{}}
	}
	var pairs [][2]*user
	for i := range r.cfg.pairs {
		a, b := r.users[2*i], r.users[2*i+1]
		a.home, b.home = i%nodes, (i+1)%nodes
		pairs = append(pairs, [2]*user{a.u, b.u})
		r.led.conv(convName(a.u, b.u), []*user{a.u, b.u})
	}
	r.flood, r.held = r.users[0], r.users[1]
	r.held.smallRx = true
	members := r.users[2*r.cfg.pairs : 2*r.cfg.pairs+r.cfg.members]
	var mus []*user
	for j, m := range members {
		m.home = j % nodes
		mus = append(mus, m.u)
	}
	probeUsers := r.users[2*r.cfg.pairs+r.cfg.members:]
	for i := range nodes {
		a, b := probeUsers[2*i], probeUsers[2*i+1]
		r.probes = append(r.probes, [2]*fUser{a, b})
		pairs = append(pairs, [2]*user{a.u, b.u})
	}
	if err := r.sb.befriend(ctx, pairs); err != nil {
		return fmt.Errorf("befriend: %w", err)
	}
	gid, err := r.sb.newGroup(ctx, mus[0], mus)
	if err != nil {
		return fmt.Errorf("group: %w", err)
	}
	r.gid = gid
	r.led.conv("g:"+gid, mus)
	r.users = r.users[:2*r.cfg.pairs+r.cfg.members] // probes connect only to probe
	return parallel(ctx, r.cfg.connectWorkers, len(r.users), func(ctx context.Context, i int) error {
		fu := r.users[i]
		c, err := r.dialUser(ctx, fu, fu.home, r.handlers(fu))
		if err != nil {
			return fmt.Errorf("connect user %s to node %d: %w", fu.u.id, fu.home, err)
		}
		r.attach(fu, c)
		return nil
	})
}

// drive starts the open-loop senders: every pair's first user to the
// second, the first cfg.publishers members to the group; cfg.rate
// messages per second in all, until ctx ends.
func (r *faultRun) drive(ctx context.Context, wg *sync.WaitGroup) {
	type stream struct {
		fu       *fUser
		kind, to string
	}
	var ss []stream
	for i := range r.cfg.pairs {
		ss = append(ss, stream{r.users[2*i], "user", r.users[2*i+1].u.id})
	}
	for j := range r.cfg.publishers {
		ss = append(ss, stream{r.users[2*r.cfg.pairs+j], "group", r.gid})
	}
	interval := time.Duration(float64(time.Second) * float64(len(ss)) / r.cfg.rate)
	start := time.Now().Add(50 * time.Millisecond)
	for i, s := range ss {
		offset := interval * time.Duration(i) / time.Duration(len(ss))
		wg.Go(func() {
			t := time.NewTimer(0)
			defer t.Stop()
			<-t.C
			for k := 0; ; k++ {
				sched := start.Add(offset + time.Duration(k)*interval)
				if d := time.Until(sched); d > 0 {
					t.Reset(d)
					select {
					case <-t.C:
					case <-ctx.Done():
						return
					}
				} else if ctx.Err() != nil {
					return
				}
				r.send(s.fu, s.kind, s.to, fmt.Sprintf("f%d-%d", i, k), sched, 0)
			}
		})
	}
}

func (r *faultRun) acked() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return int64(len(r.ackedIDs))
}

func (r *faultRun) progress(ctx context.Context) {
	if r.cfg.quiet {
		return
	}
	start := time.Now()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fmt.Fprintf(r.stderr, "[faults] %4.0fs  sent %d  acked %d  reconnects %d  resent %d  p99 %.1fms\n",
			time.Since(start).Seconds(), r.sent.Load(), r.acked(), r.reconnects.Load(), r.resent.Load(), float64(r.lat.Quantile(.99))/1e6)
	}
}

// phase injects one fault under load, measures when the cluster serves
// again, and keeps the load on for cfg.duration.
func (r *faultRun) phase(ctx context.Context, fault string) phaseReport {
	ph := phaseReport{Fault: fault, ServesAgainS: -1}
	sent0, acked0, rec0, res0 := r.sent.Load(), r.acked(), r.reconnects.Load(), r.resent.Load()
	fmt.Fprintf(r.stderr, "[faults] phase %s\n", fault)
	var bg sync.WaitGroup
	var bgErr error
	// The fault is a SIGKILL (synchronous, so no probe can pass before
	// it); the restart runs meanwhile, and "serves again" counts from the
	// kill.
	restart := func(fn func(context.Context) error) {
		bg.Go(func() { bgErr = fn(ctx) })
	}
	wait := 3 * serveLimit
	var t0 time.Time
	switch fault {
	case "kill-node":
		last := len(r.st.msg) - 1
		t0 = time.Now()
		r.st.msg[last].c.kill()
		ph.ServesAgainS, _ = r.servesAgain(ctx, t0, wait)
		// The node comes back on its address; "recovered": it serves too.
		restart(func(ctx context.Context) error { return r.st.startMsg(ctx, last) })
		bg.Wait()
		if bgErr == nil {
			ph.RecoveredS, _ = r.servesAgain(ctx, t0, time.Since(t0)+wait)
		}
		ph.Note = fmt.Sprintf("node %d SIGKILLed: %d nodes serve; then started again (recovered: all %d serve)", last, len(r.st.msg)-1, len(r.st.msg))
	case "restart-dataservice":
		t0 = time.Now()
		r.st.data.kill()
		restart(r.st.startData)
		ph.ServesAgainS, _ = r.servesAgain(ctx, t0, wait)
		ph.Note = "SIGKILL, started again on the same address"
	case "restart-nats":
		t0 = time.Now()
		r.st.nats[1].c.kill()
		restart(func(ctx context.Context) error { return r.st.startNATS(ctx, 1) })
		ph.ServesAgainS, _ = r.servesAgain(ctx, t0, wait)
		ph.Note = "NATS server 1 of 3: SIGKILL, started again on the same ports"
	case "restart-mariadb":
		t0 = time.Now()
		r.st.db.kill()
		restart(r.st.startMariaDB)
		ph.ServesAgainS, _ = r.servesAgain(ctx, t0, wait)
		ph.Note = "SIGKILL, started again on the same data dir and port (InnoDB recovery)"
	case "slow-reader":
		t0 = time.Now()
		ph.ServesAgainS, ph.ClosedS, ph.RecoveredS, ph.Note = r.slowReader(ctx, t0)
	default:
		ph.Note = "unknown fault"
		return ph
	}
	bg.Wait()
	if bgErr != nil {
		ph.Note += "; restart failed: " + bgErr.Error()
	}
	ph.OK = bgErr == nil && ph.ServesAgainS >= 0 && ph.ServesAgainS <= serveLimit.Seconds()
	if fault == "slow-reader" {
		ph.OK = ph.OK && ph.ClosedS >= 0 && ph.RecoveredS >= 0
	}
	select {
	case <-time.After(r.cfg.duration):
	case <-ctx.Done():
	}
	ph.Sent, ph.Acked = r.sent.Load()-sent0, r.acked()-acked0
	ph.Reconnects, ph.Resent = r.reconnects.Load()-rec0, r.resent.Load()-res0
	return ph
}

// slowReader stops the held user's reads (its socket has a 4 KiB receive
// buffer) while its friend floods it with 8 KB messages, until the node
// closes it as a slow reader (the registry says it is offline), then lets
// it read again: it reconnects and must get everything by catch-up.
// "Serves again" here: every node passes a probe while the reader is
// held (one stuck client must not slow the others); closedS: until the
// node closed it; backS: until it is connected again.
func (r *faultRun) slowReader(ctx context.Context, t0 time.Time) (servesS, closedS, backS float64, note string) {
	h := make(chan struct{})
	r.held.hold.Store(&h)
	r.held.mu.Lock()
	gen0 := r.held.gen
	r.held.mu.Unlock()
	floodCtx, stopFlood := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for k := 0; floodCtx.Err() == nil; k++ {
			r.flood.mu.Lock()
			inFlight := len(r.flood.pending)
			r.flood.mu.Unlock()
			if inFlight > 64 {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			r.send(r.flood, "user", r.held.u.id, fmt.Sprintf("flood-%d", k), time.Now(), 7900)
		}
	})
	servesS, _ = r.servesAgain(ctx, t0, 3*serveLimit)
	closedS = -1
	id := id64(r.held.u.id)
	for time.Since(t0) < 3*serveLimit && ctx.Err() == nil {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		res, err := r.sb.msg.Online(cctx, &messagev1.OnlineRequest{UserIds: []int64{id}})
		cancel()
		if err == nil && !slices.Contains(res.GetOnlineUserIds(), id) {
			closedS = round3(time.Since(t0).Seconds())
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	stopFlood()
	wg.Wait()
	r.held.hold.Store(nil)
	close(h)
	backS = -1
	for time.Since(t0) < 6*serveLimit && ctx.Err() == nil {
		r.held.mu.Lock()
		back, why := r.held.c != nil && r.held.gen > gen0, r.held.closeErr
		r.held.mu.Unlock()
		if back {
			backS = round3(time.Since(t0).Seconds())
			note = fmt.Sprintf("held reader (4 KiB receive buffer, flooded with 8 KB messages) closed by its node: %v; SEND_QUEUE %d", why, r.st.sendQ)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if closedS < 0 {
		note = "the node did not close the held reader within 30s"
	}
	return servesS, closedS, backS, note
}

// drain waits until every send has its sent frame and every owed copy
// arrived, or nothing moved for cfg.drain.
func (r *faultRun) drain(ctx context.Context) {
	last, quiet := int64(-1), time.Now()
	for ctx.Err() == nil {
		missing, pending := r.count()
		if missing == 0 && pending == 0 {
			return
		}
		if p := missing*1_000_003 + pending; p != last {
			last, quiet = p, time.Now()
		} else if time.Since(quiet) > r.cfg.drain {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// count returns the owed copies not yet held and the sends without sent.
func (r *faultRun) count() (missing, pending int64) {
	for _, fu := range r.users {
		fu.mu.Lock()
		pending += int64(len(fu.pending))
		fu.mu.Unlock()
	}
	r.forOwed(func(m *fUser, conv string, seq int64) {
		m.mu.Lock()
		if cv := m.convs[conv]; cv == nil || !cv.has(seq) {
			missing++
		}
		m.mu.Unlock()
	})
	return missing, pending
}

// forOwed calls fn for every (receiver, conversation, seq) owed: each
// acked seq to each member but its sender.
func (r *faultRun) forOwed(fn func(m *fUser, conv string, seq int64)) {
	r.led.mu.Lock()
	type cs struct {
		name    string
		members []*user
		senders []int32
	}
	var all []cs
	for name, c := range r.led.convs {
		all = append(all, cs{name, c.members, slices.Clone(c.senders)})
	}
	r.led.mu.Unlock()
	for _, c := range all {
		for _, mu := range c.members {
			m := r.users[mu.idx]
			for seq, s := range c.senders {
				if s != 0 && int(s) != mu.idx+1 {
					fn(m, c.name, int64(seq))
				}
			}
		}
	}
}

// check computes integrity at the end (see the package comment above).
func (r *faultRun) check(ctx context.Context) faultIntegrity {
	r.mu.Lock()
	in := r.in
	in.Problems = slices.Clone(r.in.Problems)
	in.Sent, in.Acked, in.Refused = int64(len(r.ids)), int64(len(r.ackedIDs)), int64(len(r.refused))
	r.mu.Unlock()
	in.Unacked = in.Sent - in.Acked - in.Refused
	in.Errors = r.errs.Load() + r.led.strange.Load()
	r.forOwed(func(m *fUser, conv string, seq int64) {
		in.Expected++
		m.mu.Lock()
		cv := m.convs[conv]
		ok := cv != nil && cv.has(seq)
		m.mu.Unlock()
		if !ok {
			in.Missing++
			in.problem("missing: user %s %s seq %d", m.u.id, conv, seq)
		}
	})
	// Read every conversation back: each acked seq stored, each
	// client_msg_id at one seq.
	r.led.mu.Lock()
	convs := map[string][]*user{}
	acked := map[string][]int32{}
	for name, c := range r.led.convs {
		convs[name], acked[name] = c.members, slices.Clone(c.senders)
	}
	r.led.mu.Unlock()
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range convs {
			if !yield(k) {
				return
			}
		}
	})
	for _, name := range names {
		var c *client
		for _, m := range convs[name] {
			fu := r.users[m.idx]
			fu.mu.Lock()
			c = fu.c
			fu.mu.Unlock()
			if c != nil {
				break
			}
		}
		if c == nil {
			in.Errors++
			in.problem("read back %s: no member connected", name)
			continue
		}
		msgs, err := c.history(ctx, name)
		if err != nil {
			in.Errors++
			in.problem("read back %s: %v", name, err)
			continue
		}
		in.Stored += int64(len(msgs))
		have := map[int64]bool{}
		byID := map[string]int64{}
		for _, m := range msgs {
			have[m.Seq] = true
			var s stamp
			if json.Unmarshal(m.Content, &s) != nil {
				continue
			}
			f := strings.Fields(s.Text)
			if len(f) < 2 {
				continue
			}
			key := m.From + "/" + f[1]
			if prev, ok := byID[key]; ok && prev != m.Seq {
				in.Duplicates++
				in.StoredTwice++
				in.problem("stored twice: %s client_msg_id %s at seqs %d and %d", name, f[1], prev, m.Seq)
			}
			byID[key] = m.Seq
		}
		for seq, s := range acked[name] {
			if s != 0 && !have[int64(seq)] {
				in.StoredMissing++
				in.problem("not stored: %s seq %d", name, seq)
			}
		}
	}
	in.OK = in.Missing == 0 && in.Duplicates == 0 && in.StoredMissing == 0 && in.Unacked == 0
	return in
}

func writeFaultsTable(w io.Writer, rep *faultsReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "faults\t%v\n", rep.Params)
	fmt.Fprintln(tw, "fault\tserves again\tclosed\trecovered\treconnects\tresent\tsent\tacked\tok\tnote")
	for _, p := range rep.Phases {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%v\t%s\n", p.Fault, secs(p.ServesAgainS), secs(p.ClosedS), secs(p.RecoveredS), p.Reconnects, p.Resent, p.Sent, p.Acked, p.OK, p.Note)
	}
	in := rep.Integrity
	fmt.Fprintf(tw, "\nlatency send->deliver (faults included)\tp50 %.1f ms  p99 %.1f ms  max %.1f ms\n", rep.Latency.P50, rep.Latency.P99, rep.Latency.Max)
	fmt.Fprintf(tw, "sent / acked / refused / unacked\t%d / %d / %d / %d\n", in.Sent, in.Acked, in.Refused, in.Unacked)
	fmt.Fprintf(tw, "stored / not stored\t%d / %d\n", in.Stored, in.StoredMissing)
	fmt.Fprintf(tw, "deliveries owed / missing\t%d / %d\n", in.Expected, in.Missing)
	fmt.Fprintf(tw, "duplicates (stored twice, same connection after applied ack)\t%d (%d, %d)\n", in.Duplicates, in.StoredTwice, in.SameConn)
	fmt.Fprintf(tw, "redelivered after reconnect / ack in flight (informational)\t%d / %d\n", in.Redelivered, in.InFlight)
	fmt.Fprintf(tw, "errors\t%d\n", in.Errors)
	fmt.Fprintf(tw, "ok\t%v\n", rep.OK)
	for _, p := range in.Problems {
		fmt.Fprintf(tw, "  %s\n", p)
	}
	return tw.Flush()
}

func secs(v float64) string {
	switch {
	case v < 0:
		return "never"
	case v == 0:
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + " s"
}

// runFaults runs the faults workload and writes its report; the exit
// status is 1 on an integrity failure or a phase that did not serve again
// within 10 s, 2 on any other failure.
func runFaults(ctx context.Context, cfg config, log *slog.Logger, stdout, stderr io.Writer) int {
	rep, err := measureFaults(ctx, cfg, log, stderr)
	if err != nil {
		log.Error("loadgen", "workload", "faults", "err", err)
		return 2
	}
	if cfg.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = writeFaultsTable(stdout, rep)
	}
	if err != nil {
		log.Error("write report", "err", err)
		return 2
	}
	if !rep.OK {
		log.Error("faults check failed", "missing", rep.Integrity.Missing, "duplicates", rep.Integrity.Duplicates, "not_stored", rep.Integrity.StoredMissing, "unacked", rep.Integrity.Unacked)
		return 1
	}
	return 0
}

// faultFlags adds the faults workload's flags (it always starts its own
// stack: --local is implied).
func faultFlags(fs *flag.FlagSet, c *config) {
	fs.IntVar(&c.pairs, "pairs", 200, "friend pairs, sender and receiver on different nodes; the first sends to the second")
	fs.IntVar(&c.members, "members", 100, "members of the group, spread over the nodes")
	fs.IntVar(&c.publishers, "publishers", 10, "members that send to the group")
	fs.Float64Var(&c.rate, "rate", 500, "messages per second in all, open loop (p2p and group senders)")
	fs.DurationVar(&c.duration, "duration", 20*time.Second, "load kept on after each fault once the cluster serves again")
	fs.StringVar(&c.faults, "faults", strings.Join(allFaults, ","), "the phases, in order: "+strings.Join(allFaults, ", "))
	fs.IntVar(&c.sendQueue, "send-queue", 64, "SEND_QUEUE of the nodes (small, so the held reader overflows it)")
}

// validFaults checks the --faults list.
func validFaults(list string) error {
	for f := range strings.SplitSeq(list, ",") {
		if !slices.Contains(allFaults, f) {
			return fmt.Errorf("--faults: unknown fault %q (want %s)", f, strings.Join(allFaults, ", "))
		}
	}
	return nil
}
