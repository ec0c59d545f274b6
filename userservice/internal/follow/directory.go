package follow

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/userservice/internal/search"
)

// ErrDeleted answers IndexSubscription for an account the subscription
// service deleted.
var ErrDeleted = errs.New(errs.KindGone, "subscription_deleted", "the subscription account is deleted")

// lockStripes is how many mutexes guard the index writes of accounts; an
// account's is locks[id % lockStripes].
const lockStripes = 64

// IndexSubscription puts an account into the search index, after the
// subscription service created, renamed or re-owned it. name is what the
// caller stored; the index takes the DataService's current name instead, so
// calls arriving out of order still leave the latest name. Unknown accounts
// are ErrNotFound; deleted ones leave the index and are ErrDeleted.
// Idempotent.
func (s *Service) IndexSubscription(ctx context.Context, id int64, name string) error {
	defer s.lock(id)()
	sub, err := s.store.Subscription(ctx, id)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return ErrNotFound
	case err != nil:
		return fmt.Errorf("get subscription %d: %w", id, err)
	}
	if err := s.indexWrite(ctx, sub); err != nil {
		return err
	}
	if sub.Deleted {
		return ErrDeleted
	}
	if sub.Name != name {
		s.log.DebugContext(ctx, "indexed the stored name of a subscription, not the announced one",
			"subscription", id, "announced", name, "stored", sub.Name)
	}
	return nil
}

// RemoveSubscription takes an account out of the search index, after the
// subscription service deleted it; one not indexed is no error.
func (s *Service) RemoveSubscription(ctx context.Context, id int64) error {
	defer s.lock(id)()
	if err := s.index.Delete(ctx, search.KindSubscription, id); err != nil {
		return fmt.Errorf("unindex subscription %d: %w", id, err)
	}
	return nil
}

// indexFound indexes the accounts the DataService's prefix search found.
// They are read again under their locks: a rename indexed between the
// search and now must not be overwritten by the name the search saw. A
// failure is logged; the search answers anyway.
func (s *Service) indexFound(ctx context.Context, found []Subscription) {
	if len(found) == 0 {
		return
	}
	ids := make([]int64, 0, len(found))
	for _, sub := range found {
		ids = append(ids, sub.ID)
	}
	defer s.lock(ids...)()
	subs, err := s.store.Subscriptions(ctx, ids)
	if err != nil {
		s.log.WarnContext(ctx, "index subscriptions found", "count", len(ids), "err", err)
		return
	}
	for _, sub := range subs {
		if err := s.indexWrite(ctx, sub); err != nil {
			s.log.WarnContext(ctx, "index subscription", "subscription", sub.ID, "err", err)
		}
	}
}

// indexWrite makes the index agree with sub as just read: live accounts
// are put, deleted ones removed. The caller holds sub's lock.
func (s *Service) indexWrite(ctx context.Context, sub Subscription) error {
	if sub.Deleted {
		if err := s.index.Delete(ctx, search.KindSubscription, sub.ID); err != nil {
			return fmt.Errorf("unindex subscription %d: %w", sub.ID, err)
		}
		return nil
	}
	if err := s.index.Put(ctx, search.Doc{Kind: search.KindSubscription, ID: sub.ID, Name: sub.Name}); err != nil {
		return fmt.Errorf("index subscription %d: %w", sub.ID, err)
	}
	return nil
}

// lock locks the stripes of ids in ascending order, the one lock order,
// and returns the function that unlocks them. A read of an account and the
// index write that follows it happen under its lock, so that two writers in
// this process cannot index an older read after a newer one.
func (s *Service) lock(ids ...int64) (unlock func()) {
	stripes := make([]int, 0, len(ids))
	for _, id := range ids {
		stripes = append(stripes, int(uint64(id)%lockStripes))
	}
	slices.Sort(stripes)
	stripes = slices.Compact(stripes)
	for _, i := range stripes {
		s.locks[i].Lock()
	}
	return func() {
		for _, i := range slices.Backward(stripes) {
			s.locks[i].Unlock()
		}
	}
}
