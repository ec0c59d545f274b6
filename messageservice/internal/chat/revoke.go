// Revocation and expiry of a connection's token.
//
// A connection keeps the token it opened with. When the userservice revokes
// a user's tokens (password changed or reset, account deleted or banned) it
// publishes SESSIONS_REVOKED; Revoke is handed the event and trusts nothing
// in it: each of the user's connections on this node has its token checked
// again with the userservice (Auth/CheckToken), and only the ones refused
// are closed (CloseRevoked). While the check runs, live messages to the
// connection are held (like during catch-up), so a message sent after the
// revocation reaches no connection whose token it revoked; a token found
// good releases them. A forged event therefore costs a CheckToken and that
// much delay per connection of the named user, never a connection or a
// message. A token that cannot be
// checked (the userservice unreachable after recheckTries) closes the
// connection with CloseTryAgain: it reconnects through the upgrade's own
// check. Each connection also closes when its token expires (CloseExpired).

package chat

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/privateim/privateim/messageservice/internal/lockorder"
)

// Credentials are what a connection authenticated with.
type Credentials struct {
	Token   string    // the bearer token, checked again on revocation
	Expires time.Time // the token's expiry; the connection closes then (zero: never)
	// Checked is when the check that let the connection in started: a
	// revocation seen since then may have raced it, so Open checks again.
	Checked time.Time
}

// TokenChecker checks a token with the userservice.
type TokenChecker interface {
	// CheckToken returns the token's user and expiry; an error matching
	// ErrTokenRefused when the userservice refuses it, any other error
	// when it could not be asked.
	CheckToken(ctx context.Context, token string) (user int64, expires time.Time, err error)
}

// ErrTokenRefused is a token the userservice refuses (bad, expired,
// revoked, or its user deleted or banned).
var ErrTokenRefused = errors.New("token refused")

// refuseAll is the TokenChecker of a Service built without one: every
// re-check fails, so a revocation closes the user's connections.
type refuseAll struct{}

func (refuseAll) CheckToken(context.Context, string) (int64, time.Time, error) {
	return 0, time.Time{}, ErrTokenRefused
}

const (
	// recheckTries and recheckBackoff: a userservice that does not answer
	// three tries over about 3 s closes the connection (CloseTryAgain).
	recheckTries   = 3
	recheckBackoff = time.Second
	recheckTimeout = 5 * time.Second
	// revokeWindow is how long a revocation is remembered for connections
	// whose upgrade check began before it arrived (the upgrade's check
	// times out after 10 s).
	revokeWindow = 30 * time.Second
)

// revocations remembers when each user's last revocation arrived, for
// revokeWindow. Its mu is a leaf.
type revocations struct {
	mu     lockorder.Mutex // rank Leaf; guards at and pruned
	at     map[int64]time.Time
	pruned time.Time
}

func (r *revocations) add(user int64, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.at == nil {
		r.at = make(map[int64]time.Time)
	}
	r.at[user] = now
	if now.Sub(r.pruned) > revokeWindow {
		for u, t := range r.at {
			if now.Sub(t) > revokeWindow {
				delete(r.at, u)
			}
		}
		r.pruned = now
	}
}

// since reports whether a revocation of user arrived at or after t.
func (r *revocations) since(user int64, t time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	at, ok := r.at[user]
	return ok && !at.Before(t)
}

// Revoke is told that user's tokens may have been revoked (the
// SESSIONS_REVOKED event). It checks the token of each of user's
// connections on this node again, in the background, and closes those the
// userservice refuses with CloseRevoked.
func (s *Service) Revoke(user int64) {
	s.revoked.add(user, time.Now())
	for _, ss := range s.hub.Conns(user) {
		ss.recheck()
	}
}

// recheck schedules a check of the session's token and holds its live
// frames until the check passes. One check runs per session at a time;
// revocations arriving meanwhile make it check once more.
func (ss *Session) recheck() {
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return
	}
	ss.held, ss.recheckDue = true, true
	start := !ss.checking
	ss.checking = true
	ss.mu.Unlock()
	if !start {
		return // the running check sees recheckDue
	}
	ss.svc.wg.Go(func() {
		for {
			ss.mu.Lock()
			if !ss.recheckDue { // the last check started after the last revocation
				ss.checking, ss.held = false, false
				ss.releaseLocked()
				ss.mu.Unlock()
				return
			}
			ss.recheckDue = false
			ss.mu.Unlock()
			if !ss.checkToken() {
				return // closed: the held frames go with the session
			}
		}
	})
}

// recheckAllWorkers bounds the checks RecheckAll runs at once, so that a
// node with many connections does not flood the userservice.
const recheckAllWorkers = 4

// RecheckAll checks the token of every connection on this node again and
// closes the refused ones with CloseRevoked. The node calls it after it
// reconnected to NATS: SESSIONS_REVOKED events are delivered at most once
// and may have been missed meanwhile. Unlike Revoke it holds no frames (no
// connection is suspect). A call while one runs makes it run once more.
func (s *Service) RecheckAll() {
	if s.recheckAll.Add(1) > 1 {
		return
	}
	s.wg.Go(func() {
		for {
			n := s.recheckAll.Load()
			var all []*Session
			s.hub.Each(func(_ int64, ss *Session) { all = append(all, ss) })
			sem := make(chan struct{}, recheckAllWorkers)
			var wg sync.WaitGroup
			for _, ss := range all {
				select {
				case sem <- struct{}{}:
				case <-s.ctx.Done():
					wg.Wait()
					return
				}
				wg.Go(func() {
					defer func() { <-sem }()
					ss.checkToken()
				})
			}
			wg.Wait()
			if s.recheckAll.CompareAndSwap(n, 0) {
				return
			}
		}
	})
}

// checkToken asks the userservice about the session's token and closes
// the connection unless it is still good; it returns whether it is.
func (ss *Session) checkToken() bool {
	for try := 1; ; try++ {
		ctx, cancel := context.WithTimeout(ss.ctx, recheckTimeout)
		user, _, err := ss.svc.opt.Tokens.CheckToken(ctx, ss.cred.Token)
		cancel()
		switch {
		case ss.ctx.Err() != nil:
			return false // closed meanwhile
		case err == nil && user == ss.user:
			return true
		case err == nil || errors.Is(err, ErrTokenRefused):
			ss.svc.log.Info("connection closed: token revoked", "user", ss.user, "conn", ss.id)
			ss.t.Close(CloseRevoked, "revoked")
			return false
		case try == recheckTries:
			ss.svc.log.Warn("connection closed: its token could not be checked again", "user", ss.user, "conn", ss.id, "err", err)
			ss.t.Close(CloseTryAgain, "token check unavailable")
			return false
		}
		t := time.NewTimer(recheckBackoff)
		select {
		case <-ss.ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
	}
}

// expire closes the connection with CloseExpired when its token expires.
// Called by Open; the timer is stopped by Close.
func (ss *Session) expire() *time.Timer {
	if ss.cred.Expires.IsZero() {
		return nil
	}
	return time.AfterFunc(time.Until(ss.cred.Expires), func() {
		ss.svc.log.Debug("connection closed: token expired", "user", ss.user, "conn", ss.id)
		ss.t.Close(CloseExpired, "expired")
	})
}
