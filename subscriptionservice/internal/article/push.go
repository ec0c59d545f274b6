package article

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/privateim/privateim/foundation/errs"
)

// Broadcaster hands one message to the MessageService, which stores it in
// the account's conversation and fans it out to the followers. A repeat of
// clientMsgID is a no-op there, so retries are safe. ErrNoSubscription
// (wrapped) when the MessageService does not know the account.
type Broadcaster interface {
	Broadcast(ctx context.Context, subscriptionID, senderID int64, clientMsgID, kind string, content []byte) error
}

// ErrNoSubscription is what a Broadcaster returns when the account is gone:
// the push is given up.
var ErrNoSubscription = errors.New("subscription unknown to the message service")

// Content is the pushed message's content.
type Content struct {
	Kind      string `json:"kind"` // "article"
	ArticleID string `json:"article_id"`
	Title     string `json:"title"`
	Summary   string `json:"summary"`
	CoverURL  string `json:"cover_url"`
}

// ContentOf is what pushing a carries: the title, the cover and the start
// of the body.
func ContentOf(a Article) Content {
	return Content{Kind: "article", ArticleID: strconv.FormatInt(a.ID, 10), Title: a.Title,
		Summary: Summary(a.Body), CoverURL: a.CoverURL}
}

// Summary is the body's first SummaryRunes runes with white space runs
// folded, "…" when cut.
func Summary(body string) string {
	s := strings.Join(strings.Fields(body), " ")
	if utf8.RuneCountInString(s) <= SummaryRunes {
		return s
	}
	n := 0
	for i := range s {
		if n == SummaryRunes {
			return strings.TrimSpace(s[:i]) + "…"
		}
		n++
	}
	return s
}

// ClientMsgID is the idempotency key of an article's push.
func ClientMsgID(id int64) string { return "article:" + strconv.FormatInt(id, 10) }

// pushOne broadcasts a (published) as ownerID and marks it pushed.
func (s *Service) pushOne(ctx context.Context, ownerID int64, a Article) (Article, error) {
	content, err := json.Marshal(ContentOf(a))
	if err != nil {
		return Article{}, fmt.Errorf("encode article %d: %w", a.ID, err)
	}
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.PushTimeout)
	err = s.push.Broadcast(bctx, a.SubscriptionID, ownerID, ClientMsgID(a.ID), "article", content)
	cancel()
	if errors.Is(err, ErrNoSubscription) {
		s.log.WarnContext(ctx, "push given up: the message service does not know the account",
			"article", a.ID, "subscription", a.SubscriptionID)
	} else if err != nil {
		return Article{}, fmt.Errorf("broadcast article %d: %w", a.ID, err)
	}
	yes := true
	// No expected state: a withdrawal in the meantime does not undo the push.
	up, err := s.store.UpdateArticle(context.WithoutCancel(ctx), a.ID, Update{Pushed: &yes})
	if err != nil {
		return Article{}, fmt.Errorf("mark article %d pushed: %w", a.ID, err)
	}
	return up, nil
}

// pusher retries the pushes that failed: it sweeps the published articles
// not yet pushed, at once when woken (a push failed) and at start-up (a
// crash between publishing and pushing), then after each failure with a
// wait doubling from RetryMin to RetryMax, and every RetryMax when all went
// out. One goroutine (run) owns the sweep; wake and stop only signal it.
type pusher struct {
	s      *Service
	wakeCh chan struct{} // capacity 1: wakes coalesce
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once // closes stop
	start  sync.Once
	runs   atomic.Bool   // set when run started; Close waits for done only then
	sweeps chan struct{} // closed and replaced after each sweep (guarded by mu); tests wait on it
	mu     sync.Mutex
}

func newPusher(s *Service) *pusher {
	return &pusher{s: s, wakeCh: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		sweeps: make(chan struct{})}
}

func (p *pusher) wake() {
	select {
	case p.wakeCh <- struct{}{}:
	default:
	}
}

// Start runs the push loop until Close; calls after the first do nothing.
func (s *Service) Start() {
	s.pusher.start.Do(func() {
		s.pusher.runs.Store(true)
		go s.pusher.run()
	})
}

// Close stops the push loop and waits for it; a sweep in flight finishes
// its current Broadcast (bounded by PushTimeout) or stops at ctx's end.
func (s *Service) Close(ctx context.Context) error {
	s.pusher.once.Do(func() { close(s.pusher.stop) })
	s.pusher.start.Do(func() {}) // a Start after Close starts nothing
	if !s.pusher.runs.Load() {
		return nil
	}
	select {
	case <-s.pusher.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("push loop did not stop: %w", ctx.Err())
	}
}

// SweepDone returns a channel closed when the next sweep ends; tests use it
// to wait for a retry instead of sleeping.
func (s *Service) SweepDone() <-chan struct{} {
	s.pusher.mu.Lock()
	defer s.pusher.mu.Unlock()
	return s.pusher.sweeps
}

// RetryNow wakes the push loop.
func (s *Service) RetryNow() { s.pusher.wake() }

func (p *pusher) run() {
	defer close(p.done)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-p.stop:
		case <-p.done:
		}
		cancel()
	}()
	wait := time.Duration(0) // sweep at once on start
	failing := false
	for {
		t := time.NewTimer(wait)
		select {
		case <-p.stop:
			t.Stop()
			return
		case <-p.wakeCh:
			t.Stop()
		case <-t.C:
		}
		failed := p.sweep(ctx)
		p.mu.Lock()
		close(p.sweeps)
		p.sweeps = make(chan struct{})
		p.mu.Unlock()
		switch {
		case !failed:
			wait = p.s.cfg.RetryMax
		case failing:
			wait = min(2*wait, p.s.cfg.RetryMax)
		default:
			wait = p.s.cfg.RetryMin
		}
		failing = failed
	}
}

// sweep pushes every published article not pushed yet, page by page, and
// reports whether any push failed (the rest of the sweep is skipped then:
// the MessageService is likely down).
func (p *pusher) sweep(ctx context.Context) (failed bool) {
	s := p.s
	token := ""
	owners := map[int64]int64{}
	for {
		arts, next, err := s.store.ListArticles(ctx, Filter{States: []State{Published}, UnpushedOnly: true},
			Page{Limit: s.cfg.PushPageSize, Token: token})
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("push sweep: list unpushed articles", "err", err)
			}
			return true
		}
		for _, a := range arts {
			if ctx.Err() != nil {
				return true
			}
			owner, ok := owners[a.SubscriptionID]
			if !ok {
				acct, err := s.store.Account(ctx, a.SubscriptionID)
				switch {
				case errors.Is(err, errs.ErrNotFound) || (err == nil && acct.Deleted):
					owner = 0 // the account is gone: give the push up below
				case err != nil:
					s.log.Warn("push sweep: get subscription", "subscription", a.SubscriptionID, "err", err)
					return true
				default:
					owner = acct.OwnerID
				}
				owners[a.SubscriptionID] = owner
			}
			if owner == 0 {
				yes := true
				if _, err := s.store.UpdateArticle(ctx, a.ID, Update{Pushed: &yes}); err != nil {
					s.log.Warn("push sweep: give up article of a deleted account", "article", a.ID, "err", err)
					return true
				}
				s.log.Info("push given up: account deleted", "article", a.ID, "subscription", a.SubscriptionID)
				continue
			}
			if _, err := s.pushOne(ctx, owner, a); err != nil {
				s.log.Warn("push retry failed", "article", a.ID, "subscription", a.SubscriptionID, "err", err)
				return true
			}
			s.log.Info("pushed on retry", "article", a.ID, "subscription", a.SubscriptionID)
		}
		if next == "" {
			return false
		}
		token = next
	}
}
