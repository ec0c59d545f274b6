// Rate limits of the frames a client sends: every frame per connection and
// per user, and each kind but ping per user too (send, read, sync, ack,
// typing), with a close for a connection that keeps going past its limits.
//
// The per-user buckets are this node's: a user's connections on another
// node count there. A user holds at most hub.MaxConns (3) connections in
// the whole cluster, so a user's rate over the cluster is at most three
// times a limit.

package chat

import (
	"fmt"
	"math"
	"time"

	"golang.org/x/time/rate"

	"github.com/privateim/privateim/messageservice/internal/frame"
	"github.com/privateim/privateim/messageservice/internal/lockorder"
)

// CloseRateLimited closes a connection that kept sending frames past its
// rate limits (more refused frames than FrameLimits.Abuse allows).
const CloseRateLimited = 4008

// Rate is PerSecond events a second in bursts of Burst; the zero Rate
// (or a PerSecond <= 0) limits nothing.
type Rate struct {
	PerSecond float64
	Burst     int
}

func (r Rate) off() bool { return r.PerSecond <= 0 }

// refill is how long an emptied bucket of r takes to be full again, at
// most a day (a bucket kept longer than that costs memory for nothing).
func (r Rate) refill() time.Duration {
	if r.off() {
		return 0
	}
	return time.Duration(min(float64(max(r.Burst, 1))/r.PerSecond, (24*time.Hour).Seconds()) * float64(time.Second))
}

func (r Rate) limiter() *rate.Limiter {
	if r.off() {
		return nil
	}
	return rate.NewLimiter(rate.Limit(r.PerSecond), max(r.Burst, 1))
}

// FrameLimits are the rates of the frames clients send. Send (the
// Options' SendRate) is per user too.
type FrameLimits struct {
	PerConn Rate // every frame of one connection, of any type, malformed ones too
	PerUser Rate // every frame of all of one user's connections on this node
	Read    Rate // read frames of one user: each fans out to every participant's sockets
	Sync    Rate // sync frames of one user: each reads the DataService
	// Ack frames of one user: one for a conversation not delivered on the
	// connection reads the DataService twice, the others write cursors.
	Ack Rate
	// Typing frames of one user: each reads the participants and may fan
	// out to a group's members (one per conversation per TypingInterval).
	Typing Rate
	// Abuse is how many refused frames a connection may send (bursts of
	// Burst, then PerSecond): one more closes it with CloseRateLimited.
	Abuse Rate
}

// RateLimitError refuses a frame over a rate limit: the client may send
// again after RetryAfter. Close says the connection is to be closed
// (CloseRateLimited): it went on sending past its limits.
type RateLimitError struct {
	Limit      string // which limit: "connection", "user", "send", "read", "sync", "ack" or "typing"
	RetryAfter time.Duration
	Close      bool
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("over the %s rate limit; retry after %v", e.Limit, e.RetryAfter)
}
func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// userLimits are one user's buckets on this node. They outlive the user's
// connections by the time the buckets take to fill up again, so that a
// reconnect does not earn a fresh burst.
type userLimits struct {
	send, frames, read, sync, ack, typing *rate.Limiter // nil: that limit is off
	conns                                 int           // open sessions on this node
	idle                                  time.Time     // when conns last fell to 0
}

// limits holds every user's buckets. Owner: Service.
type limits struct {
	send   Rate
	frames FrameLimits
	keep   time.Duration // how long an idle user's buckets are kept: the longest refill

	mu    lockorder.Mutex // rank Leaf; guards m and sweep
	m     map[int64]*userLimits
	sweep int // len(m) at which idle users are swept next
}

const minSweep = 1024

func newLimits(send Rate, f FrameLimits) *limits {
	return &limits{
		send: send, frames: f,
		keep: max(send.refill(), f.PerUser.refill(), f.Read.refill(), f.Sync.refill(), f.Ack.refill(), f.Typing.refill()),
		mu:   lockorder.Mutex{Rank: lockorder.Leaf},
		m:    make(map[int64]*userLimits), sweep: minSweep,
	}
}

// opened and closed count user's sessions on this node.
func (l *limits) opened(user int64, now time.Time) *userLimits {
	l.mu.Lock()
	defer l.mu.Unlock()
	u := l.m[user]
	if u == nil {
		if len(l.m) >= l.sweep {
			l.sweepLocked(now)
		}
		u = &userLimits{send: l.send.limiter(), frames: l.frames.PerUser.limiter(), read: l.frames.Read.limiter(), sync: l.frames.Sync.limiter(),
			ack: l.frames.Ack.limiter(), typing: l.frames.Typing.limiter()}
		l.m[user] = u
	}
	u.conns++
	return u
}

func (l *limits) closed(u *userLimits, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if u.conns--; u.conns == 0 {
		u.idle = now
	}
}

// sweepLocked forgets the users without a connection whose buckets are
// full again: forgetting them changes nothing. So the map holds the users
// online plus those gone within keep, and sweeping costs O(1) amortized.
func (l *limits) sweepLocked(now time.Time) {
	for id, u := range l.m {
		if u.conns == 0 && now.Sub(u.idle) >= l.keep {
			delete(l.m, id)
		}
	}
	l.sweep = max(minSweep, 2*len(l.m))
}

// len is the number of users whose buckets are kept.
func (l *limits) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}

// connLimits are one connection's buckets; only its read loop uses them
// (rate.Limiter is safe for concurrent use anyway).
type connLimits struct {
	user   *userLimits
	frames *rate.Limiter // FrameLimits.PerConn
	abuse  *rate.Limiter // FrameLimits.Abuse: refused frames
}

// take takes one event of lim at now, or reports how long until one is
// there (taking nothing). A nil lim always has one.
func take(lim *rate.Limiter, now time.Time) time.Duration {
	if lim == nil {
		return 0
	}
	r := lim.ReserveN(now, 1)
	if !r.OK() {
		return time.Duration(math.MaxInt64)
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d
	}
	return 0
}

// Admit counts one frame the client sent (f as frame.Decode returned it;
// nil when it did not decode) against the connection's and the user's
// limits. Over one, it returns a *RateLimitError; its Close is set once
// the connection has had more refusals than FrameLimits.Abuse allows.
// The transport calls it for every frame before handling it.
func (ss *Session) Admit(f any) error {
	now := time.Now()
	lim := ss.lims
	kind, perKind := "", (*rate.Limiter)(nil)
	switch f.(type) {
	case *frame.Send, *frame.Recall, *frame.Edit, *frame.React, *frame.DeleteForMe:
		// A lifecycle event is appended like a message.
		kind, perKind = "send", lim.user.send
	case *frame.Read:
		kind, perKind = "read", lim.user.read
	case *frame.Sync, *frame.Versions:
		kind, perKind = "sync", lim.user.sync
	case *frame.Ack:
		kind, perKind = "ack", lim.user.ack
	case *frame.Typing:
		kind, perKind = "typing", lim.user.typing
	}
	refuse := func(limit string, wait time.Duration) error {
		return &RateLimitError{Limit: limit, RetryAfter: wait, Close: take(lim.abuse, now) > 0}
	}
	if wait := take(lim.frames, now); wait > 0 {
		return refuse("connection", wait)
	}
	if wait := take(lim.user.frames, now); wait > 0 {
		return refuse("user", wait)
	}
	if wait := take(perKind, now); wait > 0 {
		return refuse(kind, wait)
	}
	return nil
}
