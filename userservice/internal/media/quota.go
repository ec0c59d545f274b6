package media

import (
	"context"
	"path"
	"strconv"
	"sync"
)

// quota keeps the bytes of chat files each user stores, counted from the
// user's keys (files/<id>/) on the user's first upload of the process
// and kept up to date after, and hands out room for uploads.
//
// Owner: Service; mu is a leaf and guards used.
type quota struct {
	storage Storage
	max     int64
	mu      sync.Mutex
	used    map[int64]int64 // user -> bytes stored or reserved by uploads in flight
}

func newQuota(storage Storage, max int64) *quota {
	return &quota{storage: storage, max: max, used: make(map[int64]int64)}
}

// reserve sets aside room for an upload of user of at most limit bytes:
// n is the room given (at most limit, the rest of the quota),
// ErrQuotaExceeded when there is none.
func (q *quota) reserve(ctx context.Context, user int64, limit int64) (n int64, err error) {
	q.mu.Lock()
	used, ok := q.used[user]
	q.mu.Unlock()
	if !ok {
		// Counted outside the lock: a directory of many files takes a
		// while, and other users' uploads need not wait for it.
		if used, err = q.count(ctx, user); err != nil {
			return 0, err
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if u, ok := q.used[user]; ok {
		used = u // counted meanwhile by a concurrent upload, with its reservation
	}
	n = min(limit, q.max-used)
	if n <= 0 {
		q.used[user] = used
		return 0, ErrQuotaExceeded
	}
	q.used[user] = used + n
	return n, nil
}

// settle gives back what a reservation of n did not use (stored is what
// was kept: 0 when the upload failed).
func (q *quota) settle(user, n, stored int64) {
	q.mu.Lock()
	q.used[user] -= n - stored
	q.mu.Unlock()
}

// count sums the sizes of user's stored files.
func (q *quota) count(ctx context.Context, user int64) (int64, error) {
	return q.storage.Usage(ctx, path.Join(dirFiles, strconv.FormatInt(user, 10))+"/")
}
