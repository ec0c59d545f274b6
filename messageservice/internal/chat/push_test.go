package chat

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/poll"
)

// seqStore is a Store that numbers each conversation's messages like the
// DataService (consecutive seqs in request order, idempotent by sender and
// client_msg_id) and yields between storing and answering, so that
// concurrent callers come back in any order.
type seqStore struct {
	mu     sync.Mutex
	heads  map[string]int64
	byKey  map[string]Message
	nextID int64
}

func newSeqStore() *seqStore {
	return &seqStore{heads: make(map[string]int64), byKey: make(map[string]Message)}
}

func (st *seqStore) store(r AppendRequest) (Message, bool) {
	key := fmt.Sprint(r.SenderID, "/", r.ClientMsgID)
	if m, ok := st.byKey[key]; ok {
		return m, true
	}
	st.heads[r.Conversation]++
	st.nextID++
	m := Message{ID: st.nextID, Conversation: r.Conversation, Seq: st.heads[r.Conversation], SenderID: r.SenderID,
		ClientMsgID: r.ClientMsgID, Kind: r.Kind, Content: r.Content, CreatedAt: time.Now()}
	st.byKey[key] = m
	return m, false
}

func (st *seqStore) AppendBatch(_ context.Context, rs []AppendRequest) ([]AppendResult, error) {
	st.mu.Lock()
	out := make([]AppendResult, len(rs))
	for i, r := range rs {
		out[i].Message, out[i].Duplicate = st.store(r)
	}
	st.mu.Unlock()
	runtime.Gosched()
	return out, nil
}

func (st *seqStore) Append(_ context.Context, r AppendRequest) (Message, bool, error) {
	st.mu.Lock()
	m, dup := st.store(r)
	st.mu.Unlock()
	runtime.Gosched()
	return m, dup, nil
}

func (st *seqStore) Heads(_ context.Context, names []string) (map[string]int64, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make(map[string]int64)
	for _, n := range names {
		if h := st.heads[n]; h > 0 {
			out[n] = h
		}
	}
	return out, nil
}

func (st *seqStore) Friendship(context.Context, int64, int64) (Relation, error) {
	return Relation{}, nil
}
func (st *seqStore) UserExists(context.Context, int64) (bool, error)   { return true, nil }
func (st *seqStore) Friends(context.Context, int64) ([]int64, error)   { return nil, nil }
func (st *seqStore) Blacklist(context.Context, int64) ([]int64, error) { return nil, nil }
func (st *seqStore) SetPresence(context.Context, int64, bool, time.Time) (LastSeen, error) {
	return LastSeen{Applied: true}, nil
}
func (st *seqStore) GroupMembers(context.Context, int64) (Roster, error) {
	return Roster{}, ErrNotFound
}
func (st *seqStore) Followers(context.Context, int64) ([]int64, bool, error) {
	return nil, false, ErrNotFound
}
func (st *seqStore) Messages(context.Context, string, int64, int) ([]Message, bool, error) {
	return nil, false, nil
}
func (st *seqStore) History(context.Context, string, int64, int, int64) ([]Message, map[int64][]ReactionCount, bool, error) {
	return nil, nil, false, nil
}
func (st *seqStore) Versions(context.Context, string, int64, int) ([]Version, bool, error) {
	return nil, false, nil
}
func (st *seqStore) ClearedSeqs(context.Context, int64, []string) (map[string]int64, error) {
	return nil, nil
}
func (st *seqStore) MessageByClientID(context.Context, int64, string) (Message, error) {
	return Message{}, ErrNotFound
}
func (st *seqStore) AdvanceCursors(context.Context, []CursorAdvance, []Sent) error { return nil }

// The read-state methods: this unit test's sends store no read state.
func (st *seqStore) SetReadSeq(context.Context, int64, string, int64) (int64, bool, error) {
	return 0, false, nil
}
func (st *seqStore) ReadStates(context.Context, int64) ([]ReadState, error) { return nil, nil }
func (st *seqStore) SetMentionSeqs(context.Context, []MentionSeq) error     { return nil }
func (st *seqStore) CountReceipts(_ context.Context, qs []ReceiptQuery) ([]ReceiptCount, error) {
	return make([]ReceiptCount, len(qs)), nil
}
func (st *seqStore) PeerReceipts(_ context.Context, keys []PeerReceipt) ([]PeerReceipt, error) {
	return keys, nil
}
func (st *seqStore) BlacklistedBy(context.Context, int64) ([]int64, error) { return nil, nil }
func (st *seqStore) SessionStart(context.Context, int64) (SessionStart, error) {
	return SessionStart{}, nil
}

// otherNode is a cluster of one other node holding a connection of every
// user; it records, per conversation, the seqs forwarded to it in order.
type otherNode struct {
	mu   sync.Mutex
	seqs map[string][]int64
}

func (o *otherNode) Opened(int64, uint64, string, time.Time) {}
func (o *otherNode) RemoteSessions(int64) []SessionInfo      { return nil }
func (o *otherNode) RemoteUsers() []int64                    { return nil }
func (o *otherNode) Closed(int64, uint64)                    {}
func (o *otherNode) OnlineElsewhere(int64) bool              { return true }
func (o *otherNode) Remote(users []int64) map[string][]int64 {
	return map[string][]int64{"other": users}
}
func (o *otherNode) Forward(_ string, d Delivery) {
	if d.Conv == "" {
		return
	}
	o.mu.Lock()
	o.seqs[d.Conv] = append(o.seqs[d.Conv], d.Seq)
	o.mu.Unlock()
}

// recorder is a Transport that keeps the seqs of the message frames it is
// sent, per conversation.
type recorder struct {
	mu   sync.Mutex
	seqs map[string][]int64
}

func (r *recorder) Send(b []byte) bool {
	var f struct {
		Type, Conversation string
		Seq                int64
	}
	if json.Unmarshal(b, &f) == nil && f.Type == "message" {
		r.mu.Lock()
		r.seqs[f.Conversation] = append(r.seqs[f.Conversation], f.Seq)
		r.mu.Unlock()
	}
	return true
}
func (r *recorder) SendWait(_ context.Context, b []byte) error { r.Send(b); return nil }
func (r *recorder) Close(int, string)                          {}

func strictlyIncreasing(seqs []int64) bool {
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			return false
		}
	}
	return true
}

// TestConcurrentPushesFanOutInSeqOrder: pushes to one user from many
// goroutines at once reach this node's connection and the other node in
// seq order, every seq once. The other node gets what the fan-out hands it
// in that order (a session would put a reordered frame back in order, but
// only after waiting for the gap), so a push that fanned out beside the
// append worker shows here.
func TestConcurrentPushesFanOutInSeqOrder(t *testing.T) {
	const user, pushers, each = 7, 32, 25
	other := &otherNode{seqs: make(map[string][]int64)}
	svc, err := New(slog.New(slog.DiscardHandler), newSeqStore(), Options{
		RetryInterval: time.Hour, MaxTries: 1,
		Join: func(*Service) (Router, error) { return other, nil },
	})
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

	var wg sync.WaitGroup
	for p := range pushers {
		wg.Go(func() {
			for i := range each {
				if _, err := svc.Push(t.Context(), []int64{user}, fmt.Sprintf("p%d-%d", p, i), "text", []byte(`{"kind":"text","text":"x"}`)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()

	name := "sys:7"
	other.mu.Lock()
	forwarded := other.seqs[name]
	other.mu.Unlock()
	if len(forwarded) != pushers*each || !strictlyIncreasing(forwarded) {
		t.Errorf("the other node got %d seqs, in seq order: %v; want %d in order", len(forwarded), strictlyIncreasing(forwarded), pushers*each)
	}
	rec.mu.Lock()
	local := rec.seqs[name]
	rec.mu.Unlock()
	if len(local) != pushers*each || !strictlyIncreasing(local) {
		t.Errorf("the connection got %d seqs, in seq order: %v; want %d in order", len(local), strictlyIncreasing(local), pushers*each)
	}
}
