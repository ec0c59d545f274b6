package chat

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/poll"
)

// rosterStore is a seqStore whose group 5 holds roster.
type rosterStore struct {
	*seqStore
	roster Roster
}

func (st *rosterStore) GroupMembers(context.Context, int64) (Roster, error) { return st.roster, nil }

// TestGapOfAConversationNoLongerMineIsSkipped: a live group message past
// a gap waits for the gap to be read from the DataService; when the user
// is no longer a member by then (removed, left, or the group dismissed
// while the gap was open, or while the device caught up), the gap cannot
// be read and the waiting message — the notice of the end, which the
// userservice has delivered to them — goes out past it instead of waiting
// forever.
func TestGapOfAConversationNoLongerMineIsSkipped(t *testing.T) {
	const user = 7
	for name, roster := range map[string]Roster{
		"removed":   {Members: []int64{8, 9}},
		"dismissed": {Gone: true},
	} {
		t.Run(name, func(t *testing.T) {
			svc, err := New(slog.New(slog.DiscardHandler), &rosterStore{seqStore: newSeqStore(), roster: roster},
				Options{RetryInterval: time.Hour, MaxTries: 1, GapWait: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer svc.Close()
			rec := &recorder{seqs: make(map[string][]int64)}
			sess := svc.Open(rec, user, "d1", Credentials{})
			defer sess.Close()
			poll.Eventually(t, 10*time.Second, func() error {
				if n := svc.Stats().CatchingUp; n > 0 {
					return fmt.Errorf("%d sessions still catching up", n)
				}
				return nil
			})
			live := func(seq int64) {
				svc.Deliver(Delivery{Users: []int64{user}, Conv: "g:5", Seq: seq,
					Frame: fmt.Appendf(nil, `{"type":"message","conversation":"g:5","seq":%d,"from":"0"}`, seq)})
			}
			live(1)
			live(3) // 2 went elsewhere: a gap, and the user is no member now
			poll.Eventually(t, 5*time.Second, func() error {
				rec.mu.Lock()
				defer rec.mu.Unlock()
				if got := rec.seqs["g:5"]; !slices.Equal(got, []int64{1, 3}) {
					return fmt.Errorf("the connection got seqs %v, want [1 3]", got)
				}
				return nil
			})
		})
	}
}
