// A connection's Session: its delivery state, opening and closing.

package chat

import (
	"context"
	"time"

	"github.com/privateim/privateim/messageservice/internal/lockorder"
)

// Open registers a new connection of user's device, authenticated with
// cred, and starts catching it up. The connection is closed when its token
// expires or is revoked (revoke.go). The transport calls Session.Close when
// the connection ends.
func (s *Service) Open(t Transport, user int64, device string, cred Credentials) *Session {
	ctx, cancel := context.WithCancel(s.ctx)
	sess := &Session{
		svc: s, t: t, user: user, device: device, id: s.nextID.Add(1), opened: time.Now(),
		ctx: ctx, cancel: cancel, cred: cred,
		mu:       lockorder.Mutex{Rank: lockorder.Session},
		catching: true,
		convs:    make(map[string]*convState),
		lims:     connLimits{user: s.lims.opened(user, time.Now()), frames: s.opt.Frames.PerConn.limiter(), abuse: s.opt.Frames.Abuse.limiter()},
	}
	s.catching.Add(1) // before the hub shows the session: Stats never says caught up too early
	evicted, hasEvicted, first := s.hub.Add(user, sess)
	if hasEvicted {
		s.opt.Metrics.Evictions.Inc()
		evicted.t.Close(CloseReplaced, "replaced")
	}
	if first && !s.router.OnlineElsewhere(user) {
		s.announce(user, true)
	}
	s.router.Opened(user, sess.id, device, sess.opened)
	sess.mu.Lock()
	if !sess.closed {
		sess.expiry = sess.expire()
	}
	sess.mu.Unlock()
	if s.revoked.since(user, cred.Checked) {
		sess.recheck() // a revocation may have raced the upgrade's check
	}
	s.wg.Go(sess.catchUp)
	return sess
}

// Session is one connection's delivery state.
type Session struct {
	svc    *Service
	t      Transport
	user   int64
	device string
	id     uint64 // unique on this node
	opened time.Time
	lims   connLimits      // the frame rate limits (ratelimit.go)
	ctx    context.Context // ends when the session closes
	cancel context.CancelFunc
	cred   Credentials

	mu       lockorder.Mutex // rank Session; guards everything below
	closed   bool
	catching bool // catch-up runs; live frames wait in queued
	held     bool // the token is checked again (revoke.go); live frames wait in queued
	checking bool // a token check runs (revoke.go)
	// recheckDue: a revocation arrived since the running check began.
	recheckDue bool
	queued     []liveFrame // live frames held during catch-up or a token check
	convs      map[string]*convState
	timer      *time.Timer // redelivery; armed while any pending
	armed      bool
	expiry     *time.Timer // closes the connection when its token expires
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
	if ss.expiry != nil {
		ss.expiry.Stop()
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
	ss.svc.router.Closed(ss.user, ss.id)
	ss.svc.lims.closed(ss.lims.user, time.Now())
	if last {
		if !ss.svc.router.OnlineElsewhere(ss.user) {
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
