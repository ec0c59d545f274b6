package chat

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"

	"github.com/privateim/privateim/messageservice/internal/frame"
)

// mentionStore records SetMentionSeqs calls; the first failures calls fail.
type mentionStore struct {
	*seqStore
	mu       sync.Mutex
	calls    [][]MentionSeq
	failures int
}

func (st *mentionStore) SetMentionSeqs(_ context.Context, ms []MentionSeq) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.failures > 0 {
		st.failures--
		return errors.New("unavailable")
	}
	st.calls = append(st.calls, append([]MentionSeq(nil), ms...))
	return nil
}

// TestMentionWriter: a mention_all of a large group is written in calls of
// at most 1000, a failed call is tried again, and what is queued at Close
// is written before run returns.
func TestMentionWriter(t *testing.T) {
	st := &mentionStore{failures: 1}
	w := newMentionWriter(slog.New(slog.DiscardHandler), st)
	members := make([]int64, 2500)
	for i := range members {
		members[i] = int64(i + 1)
	}
	w.add("g:1", 7, mentioned(1, members, &frame.Content{MentionAll: true}))
	w.add("g:1", 8, mentioned(1, members, &frame.Content{MentionIDs: []int64{1, 5}}))
	w.add("g:1", 9, nil) // nobody: nothing queued
	stop := make(chan struct{})
	close(stop)
	w.run(stop)
	total := 0
	for _, c := range st.calls {
		if len(c) > maxMentionCall {
			t.Fatalf("a call of %d mentions", len(c))
		}
		for _, m := range c {
			if m.User == 1 {
				t.Fatalf("the sender is mentioned: %+v", m)
			}
		}
		total += len(c)
	}
	if total != 2499+1 || w.dropped.Load() != 0 {
		t.Fatalf("%d mentions written in %d calls, %d dropped; want 2500, none dropped", total, len(st.calls), w.dropped.Load())
	}
}
