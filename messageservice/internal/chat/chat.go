// Package chat is the messageservice's send pipeline and delivery contract
// on one node: authorize (friends, blacklist, group membership from caches
// kept current by relation events), append to the DataService (idempotent by
// client_msg_id), confirm with `sent`, fan out to every connection of the
// receivers and the sender's other connections in seq order per
// conversation, redeliver unacked messages, and on connect catch a device up
// from its cursors before live traffic.
//
// It imports the frame protocol and hub, never a transport or a driver: a
// connection is a Transport, the DataService is a Store.
//
// Locking: Session.mu guards one connection's delivery state. Messages of
// one conversation are fanned out in seq order by the append worker that
// stored them (appender.go), which holds no lock of its own and takes one
// receiver's Session.mu at a time. Session.mu, groups.mu, groupNode.mu,
// relations.mu, Service.limMu, the cursor writer's mu, the presence queue's mu and the hub's shard
// locks are leaves: nothing else is taken while holding one (a group node's
// mu is held across a DataService read, never with a Session.mu).
package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/privateim/privateim/messageservice/internal/frame"
	"github.com/privateim/privateim/messageservice/internal/hub"
)

// Transport is one client connection. Send never blocks: a connection whose
// queue is full is closed as a slow reader and Send returns false.
type Transport interface {
	Send(b []byte) bool
	// SendWait waits for room in the queue (catch-up uses it).
	SendWait(ctx context.Context, b []byte) error
	Close(code int, reason string)
}

// Close codes the chat features use.
const (
	CloseReplaced  = 4001 // a newer connection of the user took the slot
	CloseQueueFull = 4002 // too much live traffic queued during catch-up
)

// Options of a Service.
type Options struct {
	RetryInterval time.Duration // unacked messages are sent again after this
	MaxTries      int           // sends of one message to one connection
	SendRate      float64       // per user per second; 0 = no limit
	SendBurst     int
	CacheTTL      time.Duration // friendship and membership cache lifetime
	// GapWait is how long a live message past a gap waits for the
	// missing ones before they are read from the DataService.
	GapWait time.Duration
	// Now is the clock of cache ages (pruning); nil: time.Now.
	Now func() time.Time
	// CatchUpQueue bounds the live frames held for a connection while it
	// catches up; more closes it (CloseQueueFull) and it reconnects.
	CatchUpQueue int
}

// Service is safe for concurrent use. Close stops its goroutines.
type Service struct {
	log   *slog.Logger
	store Store
	opt   Options
	hub   *hub.Hub[*Session]
	rels  relations
	grps  nodes // group nodes: members
	subs  nodes // subscription nodes: followers

	appends *appender     // batches appends; fans out in seq order per conversation
	cursors *cursorWriter // coalesces cursor advances

	limMu    sync.Mutex // guards limiters
	limiters map[int64]*rate.Limiter

	presence *presenceQueue  // to the presence worker
	ctx      context.Context // ends at Close: catch-ups and the worker stop
	cancel   context.CancelFunc
	wg       sync.WaitGroup // the presence worker and catch-ups

	pending    atomic.Int64 // unacked messages held for redelivery, all connections
	catching   atomic.Int64 // connections still catching up
	nextID     atomic.Uint64
	messagesIn atomic.Int64 // sends stored (not duplicates)
	deliveries atomic.Int64 // message frames handed to connections

	// cluster routes to the other nodes; nil on a single node. Set once
	// with SetCluster before the first connection.
	cluster Cluster
}

// Cluster is what chat needs of the other nodes (internal/cluster).
type Cluster interface {
	// Opened and Closed announce a local connection.
	Opened(user int64, conn uint64, opened time.Time)
	Closed(user int64, conn uint64)
	// Remote groups users by the other nodes holding their connections.
	Remote(users []int64) map[string][]int64
	// Forward hands a delivery to another node (one NATS message).
	Forward(node string, d Delivery)
	// OnlineElsewhere reports whether user has a connection on another node.
	OnlineElsewhere(user int64) bool
}

// Delivery is a frame for users' connections on one node: a message
// frame (Conv and Seq set: delivered in seq order and redelivered until
// acked) or another frame (presence, read).
type Delivery struct {
	Users []int64         `json:"u"`
	Conv  string          `json:"c,omitempty"`
	Seq   int64           `json:"s,omitempty"`
	Frame json.RawMessage `json:"f"` // a JSON frame; raw, not base64, on the wire
}

// SetCluster makes the service route to other nodes.
func (s *Service) SetCluster(c Cluster) { s.cluster = c }

// fanout delivers a frame to every connection of users on every node but
// except (the sending connection).
func (s *Service) fanout(users []int64, except *Session, d Delivery) {
	s.DeliverLocal(d, except)
	if s.cluster == nil {
		return
	}
	for node, us := range s.cluster.Remote(users) {
		d.Users = us
		s.cluster.Forward(node, d)
	}
}

// DeliverLocal hands d to the local connections of d.Users but except.
func (s *Service) DeliverLocal(d Delivery, except *Session) {
	for _, u := range d.Users {
		for _, c := range s.hub.Conns(u) {
			if c == except {
				continue
			}
			if d.Conv != "" {
				c.deliverLive(d.Conv, d.Seq, d.Frame)
			} else {
				c.t.Send(d.Frame)
			}
		}
	}
}

// LocalConn is one connection of this node.
type LocalConn struct {
	User   int64
	ID     uint64
	Opened time.Time
}

// LocalConns lists this node's connections.
func (s *Service) LocalConns() []LocalConn {
	var out []LocalConn
	s.hub.Each(func(user int64, c *Session) {
		out = append(out, LocalConn{User: user, ID: c.id, Opened: c.opened})
	})
	return out
}

// Evict closes a local connection with 4001 "replaced": a newer one of
// its user opened elsewhere in the cluster.
func (s *Service) Evict(user int64, id uint64) {
	for _, c := range s.hub.Conns(user) {
		if c.id == id {
			c.t.Close(CloseReplaced, "replaced")
		}
	}
}

// New makes a Service; call Close when done.
func New(log *slog.Logger, st Store, opt Options) *Service {
	if opt.MaxTries < 1 {
		opt.MaxTries = 1
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.GapWait <= 0 {
		opt.GapWait = 500 * time.Millisecond
	}
	if opt.CatchUpQueue < 1 {
		opt.CatchUpQueue = 4096
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{
		log: log, store: st, opt: opt, hub: hub.New[*Session](),
		rels:     relations{ttl: opt.CacheTTL, m: make(map[[2]int64]relEntry)},
		grps:     newNodes(opt.CacheTTL, opt.Now, st.GroupMembers),
		subs:     newNodes(opt.CacheTTL, opt.Now, st.Followers),
		limiters: make(map[int64]*rate.Limiter),
		presence: newPresenceQueue(),
		ctx:      ctx, cancel: cancel,
	}
	s.appends = newAppender(st)
	for i := range appendWorkers {
		s.wg.Go(func() { s.appends.run(i, ctx.Done()) })
	}
	s.cursors = newCursorWriter(log, st)
	s.wg.Go(func() { s.cursors.run(ctx.Done()) })
	s.wg.Go(s.presenceWorker)
	return s
}

// Close stops catch-ups and the presence worker and waits for them; the
// cursor advances queued so far are written. Sessions still open stay
// usable but get no presence frames.
func (s *Service) Close() {
	s.cancel()
	s.wg.Wait()
}

// Stats is a snapshot of the node.
type Stats struct {
	Users, Conns  int
	Pending       int64 // unacked messages held for redelivery
	CatchingUp    int64 // connections whose catch-up has not finished
	MessagesIn    int64 // sends stored since start (not duplicates)
	Deliveries    int64 // message frames handed to connections since start
	Groups        int   // group nodes cached
	Subscriptions int   // subscription nodes cached
	Batched       int64 // messages appended in batches of more than one
}

// Prune drops cached group and subscription nodes by age and activity
// (PruneOptions) as of now; it returns how many of each it dropped.
func (s *Service) Prune(now time.Time, o PruneOptions) (groups, subscriptions int) {
	return s.grps.prune(now, o), s.subs.prune(now, o)
}

// Stats counts online users, connections and pending messages.
func (s *Service) Stats() Stats {
	u, c := s.hub.Count()
	return Stats{
		Users: u, Conns: c, Pending: s.pending.Load(), CatchingUp: s.catching.Load(),
		MessagesIn: s.messagesIn.Load(), Deliveries: s.deliveries.Load(),
		Groups: s.grps.len(), Subscriptions: s.subs.len(), Batched: s.appends.batched.Load(),
	}
}

// Online reports whether user has a connection on this node.
func (s *Service) Online(user int64) bool { return s.hub.Online(user) }

// UserOnline reports whether user has a connection on any node.
func (s *Service) UserOnline(user int64) bool {
	return s.hub.Online(user) || (s.cluster != nil && s.cluster.OnlineElsewhere(user))
}

func (s *Service) allow(user int64) bool {
	if s.opt.SendRate <= 0 {
		return true
	}
	s.limMu.Lock()
	l := s.limiters[user]
	if l == nil {
		l = rate.NewLimiter(rate.Limit(s.opt.SendRate), s.opt.SendBurst)
		s.limiters[user] = l
	}
	s.limMu.Unlock()
	return l.Allow()
}

// RelationKind is a relation change (docs/events.md).
type RelationKind int

// The relation changes chat applies.
const (
	FriendAdded RelationKind = iota + 1
	FriendRemoved
	Blocked
	Unblocked
	GroupMemberJoined
	GroupMemberLeft
	GroupDismissed
	SubscriptionFollowed
	SubscriptionUnfollowed
)

// Relation is one relation event.
type RelationEvent struct {
	Kind         RelationKind
	User, Peer   int64
	Group        int64
	Subscription int64
}

// ApplyRelation updates the caches with one relation event.
func (s *Service) ApplyRelation(ev RelationEvent) {
	switch ev.Kind {
	case FriendAdded, FriendRemoved, Blocked, Unblocked:
		s.rels.forget(ev.User, ev.Peer)
	case GroupMemberJoined:
		s.grps.joined(ev.Group, ev.User)
	case GroupMemberLeft:
		s.grps.left(ev.Group, ev.User)
	case GroupDismissed:
		s.grps.ended(ev.Group)
	case SubscriptionFollowed:
		s.subs.joined(ev.Subscription, ev.User)
	case SubscriptionUnfollowed:
		s.subs.left(ev.Subscription, ev.User)
	}
}

// ForgetCaches marks every cached relation and membership stale, so the
// next use reads the DataService: relation events may have been missed
// (NATS reconnected; delivery is at most once).
func (s *Service) ForgetCaches() {
	s.rels.mu.Lock()
	clear(s.rels.m)
	s.rels.mu.Unlock()
	s.grps.stale()
	s.subs.stale()
}

// Open registers a new connection of user's device and starts catching it
// up. The transport calls Session.Close when the connection ends.
func (s *Service) Open(t Transport, user int64, device string) *Session {
	ctx, cancel := context.WithCancel(s.ctx)
	sess := &Session{
		svc: s, t: t, user: user, device: device, id: s.nextID.Add(1), opened: time.Now(),
		ctx: ctx, cancel: cancel,
		catching: true,
		convs:    make(map[string]*convState),
	}
	s.catching.Add(1) // before the hub shows the session: Stats never says caught up too early
	evicted, hasEvicted, first := s.hub.Add(user, sess)
	if hasEvicted {
		evicted.t.Close(CloseReplaced, "replaced")
	}
	if first && (s.cluster == nil || !s.cluster.OnlineElsewhere(user)) {
		s.announce(user, true)
	}
	if s.cluster != nil {
		s.cluster.Opened(user, sess.id, sess.opened)
	}
	s.wg.Go(sess.catchUp)
	return sess
}

// announce queues user's new presence for the presence worker.
func (s *Service) announce(user int64, online bool) { s.presence.put(user, online) }

// presenceWorker tells each changed user's friends, one user at a time
// (a Friends read each), the latest state of each.
func (s *Service) presenceWorker() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.presence.kick:
		}
		for user, online := range s.presence.take() {
			if s.ctx.Err() != nil {
				return
			}
			ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
			friends, err := s.store.Friends(ctx, user)
			cancel()
			if err != nil {
				if s.ctx.Err() == nil { // not shutting down
					s.log.Warn("presence: list friends", "user", user, "err", err)
				}
				continue
			}
			b := frame.Marshal(frame.Presence{Type: "presence", User: frame.FormatID(user), Online: online})
			s.fanout(friends, nil, Delivery{Users: friends, Frame: b})
		}
	}
}

// Session is one connection's delivery state.
type Session struct {
	svc    *Service
	t      Transport
	user   int64
	device string
	id     uint64 // unique on this node
	opened time.Time
	ctx    context.Context // ends when the session closes
	cancel context.CancelFunc

	mu       sync.Mutex // guards everything below
	closed   bool
	catching bool        // catch-up runs; live frames wait in queued
	queued   []liveFrame // live frames held during catch-up
	convs    map[string]*convState
	timer    *time.Timer // redelivery; armed while any pending
	armed    bool
	// sending counts this connection's sends in flight by client_msg_id:
	// catch-up may read one back after it is stored and before the
	// append worker marks it as the connection's own (cs.own).
	sending map[string]int
	// slots holds a token per send queued for storing (maxInFlight);
	// made by the read loop on its first send.
	slots chan struct{}
}

type liveFrame struct {
	conv string
	seq  int64
	b    []byte
}

// convState is one conversation on one connection.
type convState struct {
	delivered int64 // highest seq sent to this connection
	acked     int64 // highest seq this device acked (as known here)
	pending   []pending
	own       map[int64]bool   // seqs this connection sent while catching up
	known     bool             // delivered is a real start (caught up, or the first live message)
	ahead     map[int64][]byte // live frames past a gap, by seq
	filling   bool             // a gap fill is scheduled
}

type pending struct {
	seq   int64
	b     []byte
	tries int
	due   time.Time
}

// User is the session's user id.
func (ss *Session) User() int64 { return ss.user }

// Close ends the session: no more deliveries; the user goes offline when it
// was their last connection.
func (ss *Session) Close() {
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return
	}
	ss.closed = true
	if ss.timer != nil {
		ss.timer.Stop()
	}
	var n int64
	for _, cs := range ss.convs {
		n += int64(len(cs.pending))
		cs.pending = nil
	}
	ss.svc.pending.Add(-n)
	ss.queued = nil
	ss.mu.Unlock()
	ss.cancel()
	last := ss.svc.hub.Remove(ss.user, ss)
	if ss.svc.cluster != nil {
		ss.svc.cluster.Closed(ss.user, ss.id)
	}
	if last {
		ss.svc.limMu.Lock()
		delete(ss.svc.limiters, ss.user)
		ss.svc.limMu.Unlock()
		if ss.svc.cluster == nil || !ss.svc.cluster.OnlineElsewhere(ss.user) {
			ss.svc.announce(ss.user, false)
		}
	}
}

func (ss *Session) conv(name string) *convState {
	cs := ss.convs[name]
	if cs == nil {
		cs = &convState{}
		ss.convs[name] = cs
	}
	return cs
}

// deliverLive hands a live message to the session: held while it catches
// up, else sent at once unless already delivered.
func (ss *Session) deliverLive(conv string, seq int64, b []byte) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return
	}
	if ss.catching {
		if len(ss.queued) >= ss.svc.opt.CatchUpQueue {
			ss.queued = nil
			go ss.t.Close(CloseQueueFull, "catch-up queue full")
			return
		}
		ss.queued = append(ss.queued, liveFrame{conv, seq, b})
		return
	}
	ss.pushLocked(conv, seq, b)
}

// pushLocked sends a live message frame in seq order: unless this
// connection had it; past a gap (a message of another node's fan-out not
// here yet) it waits in ahead, and the gap is read from the DataService
// when it does not fill within GapWait.
func (ss *Session) pushLocked(conv string, seq int64, b []byte) {
	cs := ss.conv(conv)
	if !cs.known {
		// A conversation that was not caught up on connect (a new friend,
		// a group joined since): its first live message is the start.
		cs.known = true
		cs.delivered = max(cs.delivered, seq-1)
	}
	if seq <= cs.delivered {
		return
	}
	if seq > cs.delivered+1 {
		if cs.ahead == nil {
			cs.ahead = make(map[int64][]byte)
		}
		cs.ahead[seq] = b
		if !cs.filling {
			cs.filling = true
			time.AfterFunc(ss.svc.opt.GapWait, func() { ss.fillGap(conv) })
		}
		return
	}
	ss.sendLocked(cs, seq, b)
}

// sendLocked sends the next message of cs and any that waited behind it.
// A nil frame in ahead is a message this connection sent itself.
func (ss *Session) sendLocked(cs *convState, seq int64, b []byte) {
	for {
		cs.delivered = seq
		if b != nil { // nil: the connection's own message, it has it
			ss.t.Send(b)
			ss.svc.deliveries.Add(1)
			ss.holdLocked(cs, seq, b)
		}
		seq++
		var ok bool
		if b, ok = cs.ahead[seq]; !ok {
			return
		}
		delete(cs.ahead, seq)
	}
}

// fillGap reads the messages missing before the frames waiting in ahead.
func (ss *Session) fillGap(conv string) {
	ss.mu.Lock()
	cs := ss.convs[conv]
	if ss.closed || cs == nil || len(cs.ahead) == 0 {
		if cs != nil {
			cs.filling = false
		}
		ss.mu.Unlock()
		return
	}
	from, to := cs.delivered, int64(0)
	for seq := range cs.ahead {
		if to == 0 || seq < to {
			to = seq
		}
	}
	ss.mu.Unlock()
	ctx, cancel := context.WithTimeout(ss.ctx, 10*time.Second)
	msgs, _, err := ss.svc.store.Messages(ctx, conv, from, int(min(to-from-1, 1000)))
	cancel()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return
	}
	if err != nil {
		ss.svc.log.Warn("fill delivery gap", "user", ss.user, "conversation", conv, "err", err)
	}
	for _, m := range msgs {
		if m.Seq == cs.delivered+1 {
			ss.sendLocked(cs, m.Seq, frame.Marshal(messageFrame(m, "message")))
		}
	}
	if len(cs.ahead) > 0 {
		time.AfterFunc(ss.svc.opt.GapWait, func() { ss.fillGap(conv) })
		return
	}
	cs.filling = false
}

func (ss *Session) holdLocked(cs *convState, seq int64, b []byte) {
	cs.pending = append(cs.pending, pending{seq: seq, b: b, tries: 1, due: time.Now().Add(ss.svc.opt.RetryInterval)})
	ss.svc.pending.Add(1)
	if !ss.armed {
		ss.armed = true
		if ss.timer == nil {
			ss.timer = time.AfterFunc(ss.svc.opt.RetryInterval, ss.redeliver)
		} else {
			ss.timer.Reset(ss.svc.opt.RetryInterval)
		}
	}
}

// redeliver sends again what is due; a message sent MaxTries times is
// dropped here and stays pending for the device (its cursor is not acked),
// so the next connection of the device gets it.
func (ss *Session) redeliver() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return
	}
	now := time.Now()
	var next time.Time
	names := make([]string, 0, len(ss.convs))
	for name, cs := range ss.convs {
		if len(cs.pending) > 0 {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		cs := ss.convs[name]
		kept := cs.pending[:0]
		for _, p := range cs.pending {
			if !p.due.After(now) {
				if p.tries >= ss.svc.opt.MaxTries {
					ss.svc.pending.Add(-1)
					continue
				}
				ss.t.Send(p.b)
				p.tries++
				p.due = now.Add(ss.svc.opt.RetryInterval)
			}
			if next.IsZero() || p.due.Before(next) {
				next = p.due
			}
			kept = append(kept, p)
		}
		clear(cs.pending[len(kept):])
		cs.pending = kept
	}
	if next.IsZero() {
		ss.armed = false
		return
	}
	ss.timer.Reset(next.Sub(now))
}

// catchUp sends, per conversation of the user, everything after the
// device's acked seq, then lets live frames through.
func (ss *Session) catchUp() {
	defer ss.svc.catching.Add(-1)
	if err := ss.doCatchUp(); err != nil {
		if ss.ctx.Err() == nil {
			ss.svc.log.Error("catch up", "user", ss.user, "device", ss.device, "err", err)
			ss.t.Close(1011, "internal error")
		}
		return
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return
	}
	ss.catching = false
	for _, cs := range ss.convs {
		// Messages this connection sent during catch-up that catch-up did
		// not read back: it has them; mark them so that they are skipped,
		// not read from the DataService as a gap.
		for seq := range cs.own {
			if seq > cs.delivered {
				if cs.ahead == nil {
					cs.ahead = make(map[int64][]byte)
				}
				cs.ahead[seq] = nil
			}
		}
		cs.own = nil
		if b, ok := cs.ahead[cs.delivered+1]; ok {
			delete(cs.ahead, cs.delivered+1)
			ss.sendLocked(cs, cs.delivered+1, b)
		}
	}
	for _, f := range ss.queued {
		ss.pushLocked(f.conv, f.seq, f.b)
	}
	ss.queued = nil
}

func (ss *Session) doCatchUp() error {
	ctx := ss.ctx
	st := ss.svc.store
	// Acks this node took are written before they are read back.
	if err := ss.svc.cursors.sync(ctx); err != nil {
		return fmt.Errorf("cursors: %w", err)
	}
	start, err := st.SessionStart(ctx, ss.user)
	if err != nil {
		return fmt.Errorf("session start: %w", err)
	}
	convs := map[string]bool{frame.System(ss.user).String(): true}
	for _, f := range start.Friends {
		convs[frame.Direct(ss.user, f).String()] = true
	}
	for _, g := range start.Groups {
		convs[frame.Group(g).String()] = true
	}
	for _, sub := range start.Following {
		convs[frame.Subscription(sub).String()] = true
	}
	cursors := start.Cursors
	mine, best := map[string]int64{}, map[string]int64{}
	seen := false
	current := maps.Clone(convs) // the user's conversations now
	for _, c := range cursors {
		// A cursor outlives membership: a group left, a subscription
		// unfollowed. Only 1:1s (no message reaches ex-friends) and the
		// conversations the user is part of now are caught up.
		if !current[c.Conversation] && !strings.HasPrefix(c.Conversation, frame.KindUser+":") {
			continue
		}
		convs[c.Conversation] = true
		best[c.Conversation] = max(best[c.Conversation], c.Acked)
		if c.Device == ss.device {
			seen = true
			mine[c.Conversation] = c.Acked
		}
	}
	// A device seen for the first time starts after the highest seq any of
	// the user's devices acked; its cursors are written now so that the
	// start stays put when it reconnects before acking.
	base := mine
	if !seen {
		base = best
		sys := frame.System(ss.user).String()
		start := []CursorAdvance{{User: ss.user, Device: ss.device, Conversation: sys, Delivered: best[sys], Acked: best[sys]}}
		for conv, acked := range best {
			if conv != sys {
				start = append(start, CursorAdvance{User: ss.user, Device: ss.device, Conversation: conv, Delivered: acked, Acked: acked})
			}
		}
		for len(start) > 0 {
			n := min(len(start), maxCursorCall)
			if err := st.AdvanceCursors(ctx, start[:n]); err != nil {
				return fmt.Errorf("start cursors: %w", err)
			}
			start = start[n:]
		}
	}
	names := make([]string, 0, len(convs))
	for c := range convs {
		names = append(names, c)
	}
	slices.Sort(names)
	heads, err := st.Heads(ctx, names)
	if err != nil {
		return fmt.Errorf("heads: %w", err)
	}
	ss.mu.Lock()
	for _, name := range names {
		cs := ss.conv(name)
		cs.known = true
		cs.delivered = max(cs.delivered, base[name])
		cs.acked = max(cs.acked, base[name])
	}
	ss.mu.Unlock()
	for _, name := range names {
		after := base[name]
		for heads[name] > after {
			msgs, more, err := st.Messages(ctx, name, after, frame.MaxSyncLimit)
			if err != nil {
				return fmt.Errorf("messages of %s: %w", name, err)
			}
			for _, m := range msgs {
				b := frame.Marshal(messageFrame(m, "message"))
				ss.mu.Lock()
				if ss.closed {
					ss.mu.Unlock()
					return ctx.Err()
				}
				cs := ss.conv(name)
				mine := m.SenderID == ss.user && ss.sending[m.ClientMsgID] > 0
				fresh := m.Seq > cs.delivered && !cs.own[m.Seq] && !mine
				if m.Seq > cs.delivered {
					cs.delivered = m.Seq
				}
				if fresh {
					ss.holdLocked(cs, m.Seq, b)
					ss.svc.deliveries.Add(1)
				}
				ss.mu.Unlock()
				if fresh {
					if err := ss.t.SendWait(ctx, b); err != nil {
						return err
					}
				}
				after = m.Seq
			}
			if !more || len(msgs) == 0 {
				break
			}
		}
	}
	return nil
}

// messageFrame renders a stored message.
func messageFrame(m Message, typ string) frame.Message {
	f := frame.Message{
		Type: typ, MsgID: frame.FormatID(m.ID), Conversation: m.Conversation, Seq: m.Seq,
		From: frame.FormatID(m.SenderID), Content: m.Content, TS: m.CreatedAt.UnixMilli(),
	}
	if c, err := frame.ParseConversation(m.Conversation); err == nil {
		switch c.Kind {
		case frame.KindUser:
			peer := c.A
			if peer == m.SenderID {
				peer = c.B
			}
			f.To = frame.Target{Kind: "user", ID: frame.FormatID(peer)}
		case frame.KindGroup:
			f.To = frame.Target{Kind: "group", ID: frame.FormatID(c.A)}
		case frame.KindSubscription:
			f.To = frame.Target{Kind: "subscription", ID: frame.FormatID(c.A)}
		case frame.KindSystem:
			f.To = frame.Target{Kind: "user", ID: frame.FormatID(c.A)}
		}
	}
	if len(f.Content) == 0 {
		f.Content = []byte("null")
	}
	return f
}

func sentFrame(m Message) []byte {
	return frame.Marshal(frame.Sent{
		Type: "sent", ClientMsgID: m.ClientMsgID, MsgID: frame.FormatID(m.ID),
		Conversation: m.Conversation, Seq: m.Seq, TS: m.CreatedAt.UnixMilli(),
	})
}

// maxInFlight bounds the sends of one connection queued for storing at
// once: a connection keeps several in flight, so that its messages share
// batches, but cannot flood the append workers.
const maxInFlight = 16

// Send authorizes f and queues it for storing behind this connection's
// earlier sends, then returns; ctx bounds only that part. reply gets the
// `sent` frame (the same for a re-sent client_msg_id) or the error, once:
// from the append worker after the message is stored and fanned out, or
// before Send returns. Messages of one connection get seqs in the order
// of its Send calls. With maxInFlight sends of the connection queued,
// Send waits for one to finish.
func (ss *Session) Send(ctx context.Context, f *frame.Send, reply func(sent []byte, err error)) {
	s := ss.svc
	if !s.allow(ss.user) {
		reply(nil, ErrRateLimited)
		return
	}
	conv, receivers, err := s.authorize(ctx, ss.user, f)
	if err != nil {
		reply(nil, err)
		return
	}
	content, err := jsonContent(f.Content)
	if err != nil {
		reply(nil, err)
		return
	}
	// Only the connection's read loop calls Send: slots needs no lock.
	if ss.slots == nil {
		ss.slots = make(chan struct{}, maxInFlight)
	}
	slots := ss.slots
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		reply(nil, fmt.Errorf("append to %s: %w", conv, ctx.Err()))
		return
	}
	ss.mu.Lock()
	if ss.sending == nil {
		ss.sending = make(map[string]int)
	}
	ss.sending[f.ClientMsgID]++
	ss.mu.Unlock()
	id := f.ClientMsgID
	release := func() {
		ss.mu.Lock()
		if ss.sending[id]--; ss.sending[id] <= 0 {
			delete(ss.sending, id)
		}
		ss.mu.Unlock()
		<-slots
	}
	var advance bool
	var delivered int64
	err = s.appends.submit(ctx, AppendRequest{
		Conversation: conv, SenderID: ss.user, ClientMsgID: id, Kind: f.Content.Kind, Content: content,
	}, func(m Message, dup bool) {
		// On the append worker, in the conversation's seq order.
		if !dup {
			s.messagesIn.Add(1)
		}
		// A duplicate is a re-send of a stored message whose sent frame
		// was lost: the first attempt may have been stored and then failed
		// (a timeout after the commit, a node killed before its fan-out),
		// so it is fanned out again. Every session drops seqs it has
		// delivered, so receivers that had it get nothing twice, and those
		// that did not get it now rather than at their next gap or
		// reconnect.
		b := frame.Marshal(messageFrame(m, "message"))
		s.fanout(receivers, ss, Delivery{Users: receivers, Conv: m.Conversation, Seq: m.Seq, Frame: b})
		// The sending connection holds it like any message it sent, so a
		// catch-up reading it back does not send it here.
		advance, delivered = ss.ownStored(m)
	}, func(m Message, dup bool, err error) {
		// On the append worker, after the fan-out.
		release()
		if err != nil {
			reply(nil, fmt.Errorf("append to %s: %w", conv, err))
			return
		}
		if advance {
			a := CursorAdvance{User: ss.user, Device: ss.device, Conversation: m.Conversation, Delivered: delivered, Acked: m.Seq}
			if err := s.cursors.advance(s.ctx, a); err != nil {
				s.log.Warn("advance cursor after send", "user", ss.user, "conversation", m.Conversation, "err", err)
			}
		}
		reply(sentFrame(m), nil)
	})
	if err != nil {
		release()
		reply(nil, err)
	}
}

// ownStored records on the sending connection a message it sent: it has
// it. It reports whether the device's cursor may move past it (nothing
// before it is outstanding here) and the connection's delivered seq.
func (ss *Session) ownStored(m Message) (advance bool, delivered int64) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return false, 0
	}
	if ss.catching {
		// Catch-up may read this message back: it must not send the
		// sending connection its own message.
		cs := ss.conv(m.Conversation)
		if cs.own == nil {
			cs.own = make(map[int64]bool)
		}
		cs.own[m.Seq] = true
		return false, 0
	}
	cs := ss.conv(m.Conversation)
	if !cs.known {
		cs.known = true
		cs.delivered = max(cs.delivered, m.Seq-1)
	}
	switch {
	case m.Seq == cs.delivered+1:
		ss.sendLocked(cs, m.Seq, nil)
	case m.Seq > cs.delivered+1:
		// Another node's message before it is still on its way.
		if cs.ahead == nil {
			cs.ahead = make(map[int64][]byte)
		}
		cs.ahead[m.Seq] = nil
		if !cs.filling {
			cs.filling = true
			conv := m.Conversation
			time.AfterFunc(ss.svc.opt.GapWait, func() { ss.fillGap(conv) })
		}
	}
	if cs.acked == m.Seq-1 && len(cs.pending) == 0 {
		cs.acked, advance = m.Seq, true
	}
	return advance, cs.delivered
}

// authorize returns the conversation of a send and who receives it.
func (s *Service) authorize(ctx context.Context, user int64, f *frame.Send) (string, []int64, error) {
	switch f.To.Kind {
	case "user":
		to := f.ToID
		if to == user {
			return "", nil, ErrNoSuchTarget
		}
		mine, theirs, err := s.rels.get(ctx, s.store, user, to)
		if err != nil {
			return "", nil, fmt.Errorf("friendship %d-%d: %w", user, to, err)
		}
		if mine.Blacklisted || theirs.Blacklisted {
			return "", nil, ErrBlocked
		}
		if !mine.friends() || !theirs.friends() {
			if !mine.Found && !theirs.Found {
				ok, err := s.store.UserExists(ctx, to)
				if err != nil {
					return "", nil, fmt.Errorf("user %d: %w", to, err)
				}
				if !ok {
					return "", nil, ErrNoSuchTarget
				}
			}
			return "", nil, ErrNotFriends
		}
		return frame.Direct(user, to).String(), []int64{to, user}, nil
	case "group":
		member, members, err := s.grps.members(ctx, f.ToID, user)
		if err != nil {
			return "", nil, err
		}
		if !member {
			return "", nil, ErrNotMember
		}
		return frame.Group(f.ToID).String(), members, nil
	}
	return "", nil, ErrNoSuchTarget
}

// participants returns who takes part in a conversation user names, or an
// error when user does not.
func (s *Service) participants(ctx context.Context, user int64, conv string) ([]int64, error) {
	c, err := frame.ParseConversation(conv)
	if err != nil {
		return nil, err
	}
	switch c.Kind {
	case frame.KindUser:
		if user != c.A && user != c.B {
			return nil, ErrNotMember
		}
		return []int64{c.A, c.B}, nil
	case frame.KindGroup:
		member, members, err := s.grps.members(ctx, c.A, user)
		if err != nil {
			return nil, err
		}
		if !member {
			return nil, ErrNotMember
		}
		return members, nil
	case frame.KindSubscription:
		// Followers read a subscription's history; posts come only
		// from Broadcast, and read receipts go to nobody else.
		follower, _, err := s.subs.members(ctx, c.A, user)
		if err != nil {
			return nil, err
		}
		if !follower {
			return nil, ErrNotMember
		}
		return []int64{user}, nil
	case frame.KindSystem:
		if c.A != user {
			return nil, ErrNotMember
		}
		return []int64{user}, nil
	}
	return nil, ErrNotMember
}

// Ack moves this device's cursor to seq (cumulative) and stops redelivery
// of what it covers on this connection. The cursor is written by the
// node's cursor writer, coalesced with other acks (cursors.go).
func (ss *Session) Ack(ctx context.Context, f *frame.Ack) error {
	ss.mu.Lock()
	cs := ss.convs[f.Conversation]
	if cs == nil || f.Seq > cs.delivered {
		// Not sent on this connection (yet): an ack of what an earlier
		// connection of the device had, sent again by catch-up soon. Take
		// it when the user takes part in the conversation and the seq
		// exists, so that a cursor never names another's conversation or
		// a seq past the head.
		ss.mu.Unlock()
		if _, err := ss.svc.participants(ctx, ss.user, f.Conversation); err != nil {
			return err
		}
		heads, err := ss.svc.store.Heads(ctx, []string{f.Conversation})
		if err != nil {
			return fmt.Errorf("head of %s: %w", f.Conversation, err)
		}
		if f.Seq > heads[f.Conversation] {
			return ErrAckAhead
		}
		ss.mu.Lock()
		cs = ss.conv(f.Conversation)
	}
	n := 0
	for n < len(cs.pending) && cs.pending[n].seq <= f.Seq {
		n++
	}
	if n > 0 {
		clear(cs.pending[:n])
		cs.pending = cs.pending[n:]
		ss.svc.pending.Add(int64(-n))
	}
	cs.acked = max(cs.acked, f.Seq)
	delivered := cs.delivered
	ss.mu.Unlock()
	a := CursorAdvance{User: ss.user, Device: ss.device, Conversation: f.Conversation, Delivered: delivered, Acked: f.Seq}
	if err := ss.svc.cursors.advance(ctx, a); err != nil {
		return fmt.Errorf("advance cursor: %w", err)
	}
	return nil
}

// Sync returns the history frame of a conversation after f.AfterSeq.
func (ss *Session) Sync(ctx context.Context, f *frame.Sync) ([]byte, error) {
	if _, err := ss.svc.participants(ctx, ss.user, f.Conversation); err != nil {
		return nil, err
	}
	msgs, more, err := ss.svc.store.Messages(ctx, f.Conversation, f.AfterSeq, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", f.Conversation, err)
	}
	h := frame.History{Type: "history", Conversation: f.Conversation, Messages: make([]frame.Message, len(msgs)), HasMore: more}
	for i, m := range msgs {
		h.Messages[i] = messageFrame(m, "")
	}
	return frame.Marshal(h), nil
}

// Read forwards a read receipt to the other participants' connections and
// the user's other connections.
func (ss *Session) Read(ctx context.Context, f *frame.Read) error {
	users, err := ss.svc.participants(ctx, ss.user, f.Conversation)
	if err != nil {
		return err
	}
	b := frame.Marshal(frame.ReadReceipt{Type: "read", Conversation: f.Conversation, Seq: f.Seq, User: frame.FormatID(ss.user)})
	ss.svc.fanout(users, ss, Delivery{Users: users, Frame: b})
	return nil
}

var errContent = errors.New("content does not encode")

func jsonContent(c frame.Content) ([]byte, error) {
	b := frame.Marshal(c)
	if len(b) == 0 {
		return nil, errContent
	}
	return b, nil
}
