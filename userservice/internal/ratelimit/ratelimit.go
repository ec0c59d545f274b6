// Package ratelimit limits events per key (an email, an IP) with one token
// bucket per key (golang.org/x/time/rate), remembering at most a fixed
// number of keys: the least recently seen is forgotten first, so memory
// stays bounded whatever keys arrive. Forgetting a key gives it a full
// bucket again; with a bound far above the keys active within one period
// that only happens under a flood of distinct keys.
//
// A key occupies at most MaxKeyBytes of its own memory, whatever the caller
// passed: a longer key is kept as its SHA-256 digest, a shorter one is
// copied, so that a key cut from a large request body (a 1 MiB `email`
// field, or a short one trimmed out of 1 MiB of spaces) does not keep that
// body on the heap. A limiter of maxKeys keys so holds at most about
// maxKeys x (MaxKeyBytes + 200) bytes: under 35 MB for 100,000 keys.
package ratelimit

import (
	"container/list"
	"crypto/sha256"
	"math"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter allows n events per period per key, in bursts of up to n. A nil
// *Limiter allows everything. It is safe for concurrent use.
type Limiter struct {
	limit   rate.Limit
	burst   int
	maxKeys int
	now     func() time.Time

	mu   sync.Mutex               // guards keys and lru
	keys map[string]*list.Element // of *entry
	lru  *list.List               // front: most recently used
}

type entry struct {
	key string
	lim *rate.Limiter
}

// New returns a limiter of n events per period per key remembering at most
// maxKeys keys; nil (no limit) when n or period is not positive.
func New(n int, period time.Duration, maxKeys int) *Limiter {
	if n <= 0 || period <= 0 {
		return nil
	}
	return &Limiter{
		limit:   rate.Limit(float64(n) / period.Seconds()),
		burst:   n,
		maxKeys: max(maxKeys, 1),
		now:     time.Now,
		keys:    make(map[string]*list.Element),
		lru:     list.New(),
	}
}

// MaxKeyBytes is the most a key occupies in a Limiter; longer keys are
// stored as their SHA-256 digest (32 bytes).
const MaxKeyBytes = 128

// digest is what a limiter keeps of a key longer than MaxKeyBytes: a
// fixed-size digest, so distinct long keys stay distinct.
func digest(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + string(sum[:])
}

// Allow takes one event for key. When the key has none left it returns
// false and how long until it has one.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	if l == nil {
		return true, 0
	}
	if len(key) > MaxKeyBytes {
		key = digest(key)
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var lim *rate.Limiter
	if el, found := l.keys[key]; found {
		l.lru.MoveToFront(el)
		lim = el.Value.(*entry).lim
	} else {
		if l.lru.Len() >= l.maxKeys {
			old := l.lru.Back()
			l.lru.Remove(old)
			delete(l.keys, old.Value.(*entry).key)
		}
		lim = rate.NewLimiter(l.limit, l.burst)
		key = strings.Clone(key) // never a window into the caller's buffer
		l.keys[key] = l.lru.PushFront(&entry{key: key, lim: lim})
	}
	r := lim.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Duration(math.MaxInt64)
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Len is the number of keys remembered.
func (l *Limiter) Len() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}
