package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
)

// The conversation-state part of the suite (issue 14): read seqs, settings,
// readers, receipt counts and heads.

func (f *docFixture) setRead(t *testing.T, user int64, conv string, seq int64) (int64, bool) {
	t.Helper()
	got, changed, err := f.s.SetReadSeq(f.ctx, user, conv, seq)
	if err != nil {
		t.Fatalf("SetReadSeq(%d, %q, %d): %v", user, conv, seq, err)
	}
	return got, changed
}

func (f *docFixture) state(t *testing.T, user int64, conv string) store.ConversationState {
	t.Helper()
	st, err := f.s.ConversationStates(f.ctx, user, []string{conv})
	if err != nil {
		t.Fatalf("ConversationStates(%d, %q): %v", user, conv, err)
	}
	if len(st) != 1 {
		t.Fatalf("ConversationStates(%d, %q) returned %d states", user, conv, len(st))
	}
	return st[0]
}

// fill appends n messages of sender to conv.
func (f *docFixture) fill(t *testing.T, conv string, sender int64, n int) {
	t.Helper()
	for range n {
		f.appendOne(t, f.msg(conv, sender, fmt.Sprintf("fill-%d", f.id())))
	}
}

func testReadSeqMonotonic(t *testing.T, f *docFixture) {
	f.fill(t, "c", 1, 3)
	steps := []struct {
		seq         int64
		want        int64
		wantChanged bool
	}{{2, 2, true}, {1, 2, false}, {2, 2, false}, {3, 3, true}}
	for _, s := range steps {
		got, changed := f.setRead(t, 2, "c", s.seq)
		if got != s.want || changed != s.wantChanged {
			t.Errorf("SetReadSeq(%d) = %d, %v; want %d, %v", s.seq, got, changed, s.want, s.wantChanged)
		}
	}
	if st := f.state(t, 2, "c"); st.ReadSeq != 3 || st.UpdatedAt.IsZero() {
		t.Errorf("state = %+v, want read seq 3 with a time", st)
	}
}

func testReadSeqBeyondHead(t *testing.T, f *docFixture) {
	f.fill(t, "c", 1, 2)
	for _, tc := range []struct {
		conv string
		seq  int64
	}{{"c", 3}, {"unknown", 1}} {
		_, _, err := f.s.SetReadSeq(f.ctx, 2, tc.conv, tc.seq)
		var pe *store.PreconditionError
		if !errors.As(err, &pe) || !errors.Is(err, store.ErrPrecondition) {
			t.Errorf("SetReadSeq(%q, %d) beyond the head: err = %v, want a *PreconditionError", tc.conv, tc.seq, err)
		}
		if st := f.state(t, 2, tc.conv); st.ReadSeq != 0 || !st.UpdatedAt.IsZero() {
			t.Errorf("after a refused SetReadSeq(%q): state = %+v, want nothing stored", tc.conv, st)
		}
	}
}

// send appends msgs and then moves their senders' read seqs, as the
// messageservice does (its cursor writer calls MoveSenders after the append).
func (f *docFixture) send(t *testing.T, msgs ...store.Message) []store.AppendResult {
	t.Helper()
	res := f.append(t, msgs...)
	var sent []store.SentSeq
	for _, r := range res {
		if r.Message.SenderID != 0 {
			sent = append(sent, store.SentSeq{UserID: r.Message.SenderID, Conversation: r.Message.Conversation, Seq: r.Message.Seq})
		}
	}
	if err := f.s.MoveSenders(f.ctx, sent); err != nil {
		t.Fatalf("MoveSenders(%v): %v", sent, err)
	}
	return res
}

// sendFill is fill with the senders moved (send).
func (f *docFixture) sendFill(t *testing.T, conv string, sender int64, n int) {
	t.Helper()
	for range n {
		f.send(t, f.msg(conv, sender, fmt.Sprintf("fill-%d", f.id())))
	}
}

func testMoveSenders(t *testing.T, f *docFixture) {
	f.fill(t, "c", 1, 2)
	if st := f.state(t, 1, "c"); st.ReadSeq != 0 || st.LastSentSeq != 0 {
		t.Errorf("sender after 2 appends: read %d, sent %d; want 0, 0 (the append moves nobody)", st.ReadSeq, st.LastSentSeq)
	}
	move := func(sent ...store.SentSeq) {
		t.Helper()
		if err := f.s.MoveSenders(f.ctx, sent); err != nil {
			t.Fatalf("MoveSenders(%v): %v", sent, err)
		}
	}
	move(store.SentSeq{UserID: 1, Conversation: "c", Seq: 2})
	if st := f.state(t, 1, "c"); st.ReadSeq != 2 || st.LastSentSeq != 2 || st.UpdatedAt.IsZero() {
		t.Errorf("sender after MoveSenders: %+v; want read 2, sent 2", st)
	}
	f.fill(t, "c", 2, 1) // seq 3
	// Not the user's message, an unknown seq or conversation: nothing.
	move(store.SentSeq{UserID: 1, Conversation: "c", Seq: 3}, store.SentSeq{UserID: 2, Conversation: "c", Seq: 1},
		store.SentSeq{UserID: 2, Conversation: "c", Seq: 9}, store.SentSeq{UserID: 2, Conversation: "none", Seq: 1})
	if st := f.state(t, 1, "c"); st.ReadSeq != 2 || st.LastSentSeq != 2 {
		t.Errorf("sender 1 after moves of others' messages: read %d, sent %d; want 2, 2", st.ReadSeq, st.LastSentSeq)
	}
	if st := f.state(t, 2, "c"); st.ReadSeq != 0 || !st.UpdatedAt.IsZero() {
		t.Errorf("sender 2 after wrong moves: %+v; want nothing stored", st)
	}
	// A batch across conversations and users; never back.
	f.append(t, f.msg("c", 1, "b1"), f.msg("d", 1, "b2"), f.msg("c", 1, "b3"), f.msg("c", 2, "b4")) // c 4, d 1, c 5, c 6
	move(store.SentSeq{UserID: 1, Conversation: "c", Seq: 5}, store.SentSeq{UserID: 1, Conversation: "d", Seq: 1},
		store.SentSeq{UserID: 2, Conversation: "c", Seq: 6}, store.SentSeq{UserID: 2, Conversation: "c", Seq: 3})
	move(store.SentSeq{UserID: 1, Conversation: "c", Seq: 4})
	for _, tc := range []struct {
		user       int64
		conv       string
		read, sent int64
	}{{1, "c", 5, 5}, {1, "d", 1, 1}, {2, "c", 6, 6}} {
		if st := f.state(t, tc.user, tc.conv); st.ReadSeq != tc.read || st.LastSentSeq != tc.sent {
			t.Errorf("after the batch, user %d in %q: read %d, sent %d; want %d, %d", tc.user, tc.conv, st.ReadSeq, st.LastSentSeq, tc.read, tc.sent)
		}
	}
	// A read seq already past the sent seq stays.
	f.setRead(t, 1, "c", 6)
	move(store.SentSeq{UserID: 1, Conversation: "c", Seq: 5})
	if st := f.state(t, 1, "c"); st.ReadSeq != 6 || st.LastSentSeq != 5 {
		t.Errorf("after a read past it: read %d, sent %d; want 6, 5", st.ReadSeq, st.LastSentSeq)
	}
	if err := f.s.MoveSenders(f.ctx, nil); err != nil {
		t.Errorf("MoveSenders(nil): %v", err)
	}
}

func testConversationStatesOrder(t *testing.T, f *docFixture) {
	f.sendFill(t, "b", 1, 1)
	f.sendFill(t, "a", 1, 2)
	got, err := f.s.ConversationStates(f.ctx, 1, []string{"a", "unknown", "b", "a"})
	if err != nil {
		t.Fatal(err)
	}
	var convs []string
	var reads []int64
	for _, s := range got {
		convs, reads = append(convs, s.Conversation), append(reads, s.ReadSeq)
		if s.UserID != 1 {
			t.Errorf("state %+v: user id %d, want 1", s, s.UserID)
		}
	}
	if want := []string{"a", "unknown", "b", "a"}; !slices.Equal(convs, want) {
		t.Errorf("conversations = %q, want %q", convs, want)
	}
	if want := []int64{2, 0, 1, 2}; !slices.Equal(reads, want) {
		t.Errorf("read seqs = %v, want %v", reads, want)
	}
	if !got[1].UpdatedAt.IsZero() {
		t.Errorf("a conversation without a row has a time: %+v", got[1])
	}
	all, err := f.s.ConversationStates(f.ctx, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	convs = convs[:0]
	for _, s := range all {
		convs = append(convs, s.Conversation)
	}
	if want := []string{"a", "b"}; !slices.Equal(convs, want) {
		t.Errorf("every row = %q, want %q", convs, want)
	}
}

func testConversationSettings(t *testing.T, f *docFixture) {
	f.fill(t, "c", 1, 3)
	f.setRead(t, 2, "c", 2)
	yes, no := true, false
	upd := func(s store.ConversationSettings) store.ConversationState {
		t.Helper()
		st, err := f.s.UpdateConversationSettings(f.ctx, 2, "c", s)
		if err != nil {
			t.Fatalf("UpdateConversationSettings(%+v): %v", s, err)
		}
		if again := f.state(t, 2, "c"); again != st {
			t.Errorf("update returned %+v, a read returns %+v", st, again)
		}
		return st
	}
	if st := upd(store.ConversationSettings{Muted: &yes}); !st.Muted || st.Pinned || st.HiddenSeq != 0 || st.ReadSeq != 2 {
		t.Errorf("after muting: %+v", st)
	}
	if st := upd(store.ConversationSettings{Pinned: &yes}); !st.Muted || !st.Pinned {
		t.Errorf("after pinning: %+v, want muted and pinned", st)
	}
	if st := upd(store.ConversationSettings{Hidden: &yes}); st.HiddenSeq != 3 || !st.Muted || !st.Pinned || st.ReadSeq != 2 {
		t.Errorf("after hiding: %+v, want hidden at the head 3, the rest kept", st)
	}
	f.fill(t, "c", 1, 1)
	if st := upd(store.ConversationSettings{Muted: &no, Hidden: &no}); st.Muted || !st.Pinned || st.HiddenSeq != 0 {
		t.Errorf("after unmuting and unhiding: %+v", st)
	}
	// Settings of a conversation never read, of a user with no row yet.
	st, err := f.s.UpdateConversationSettings(f.ctx, 3, "c", store.ConversationSettings{Hidden: &yes})
	if err != nil || st.HiddenSeq != 4 || st.ReadSeq != 0 || st.Conversation != "c" || st.UserID != 3 {
		t.Errorf("hiding a fresh row: %+v, %v; want hidden at 4, read 0", st, err)
	}
}

func testListReaders(t *testing.T, f *docFixture) {
	f.sendFill(t, "g", 1, 5)
	for u := int64(2); u <= 8; u++ {
		f.setRead(t, u, "g", u-3) // users 2,3 read nothing (0 is not stored), 4..8 read 1..5
	}
	page := func(seq int64, exclude []int64, after int64, limit int) ([]int64, bool) {
		t.Helper()
		ids, more, err := f.s.ListReaders(f.ctx, store.ReaderQuery{Conversation: "g", Seq: seq, Exclude: exclude}, after, limit)
		if err != nil {
			t.Fatalf("ListReaders: %v", err)
		}
		return ids, more
	}
	// Seq 3: users 6,7,8 and the sender 1 (read 5 by sending).
	if ids, more := page(3, nil, 0, 10); !slices.Equal(ids, []int64{1, 6, 7, 8}) || more {
		t.Errorf("readers of 3 = %v, %v; want [1 6 7 8], false", ids, more)
	}
	if ids, more := page(3, []int64{1, 7}, 0, 10); !slices.Equal(ids, []int64{6, 8}) || more {
		t.Errorf("readers of 3 without 1, 7 = %v, %v; want [6 8]", ids, more)
	}
	ids, more := page(1, []int64{1}, 0, 3)
	if !slices.Equal(ids, []int64{4, 5, 6}) || !more {
		t.Errorf("first page = %v, %v; want [4 5 6], true", ids, more)
	}
	if ids, more = page(1, []int64{1}, ids[len(ids)-1], 3); !slices.Equal(ids, []int64{7, 8}) || more {
		t.Errorf("second page = %v, %v; want [7 8], false", ids, more)
	}
	if ids, _ := page(1, nil, 0, 10); len(ids) != 6 {
		t.Errorf("readers in another conversation leak in or miss: %v", ids)
	}
}

func testCountReceipts(t *testing.T, f *docFixture) {
	f.sendFill(t, "g", 1, 4)
	f.sendFill(t, "h", 1, 1)
	f.setRead(t, 2, "g", 3)
	f.setRead(t, 3, "g", 1)
	f.setRead(t, 2, "h", 1)
	// User 4 acked on two devices (counted once), user 5 acked 2 only.
	f.advance(t,
		store.Cursor{UserID: 4, DeviceID: "a", Conversation: "g", DeliveredSeq: 4, AckedSeq: 4},
		store.Cursor{UserID: 4, DeviceID: "b", Conversation: "g", DeliveredSeq: 3, AckedSeq: 3},
		store.Cursor{UserID: 5, DeviceID: "", Conversation: "g", DeliveredSeq: 4, AckedSeq: 2},
		store.Cursor{UserID: 2, DeviceID: "", Conversation: "g", DeliveredSeq: 4, AckedSeq: 3},
		store.Cursor{UserID: 6, DeviceID: "", Conversation: "h", DeliveredSeq: 1, AckedSeq: 1},
	)
	got, err := f.s.CountReceipts(f.ctx, []store.ReaderQuery{
		{Conversation: "g", Seq: 3, Exclude: []int64{1}},
		{Conversation: "g", Seq: 1, Exclude: []int64{1}},
		{Conversation: "g", Seq: 3},
		{Conversation: "g", Seq: 2, Exclude: []int64{1, 4}},
		{Conversation: "h", Seq: 1, Exclude: []int64{1}},
		{Conversation: "none", Seq: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	rc := func(read, delivered int64) store.ReceiptCount {
		return store.ReceiptCount{Read: read, Delivered: delivered}
	}
	want := []store.ReceiptCount{rc(1, 2), rc(2, 3), rc(2, 2), rc(1, 2), rc(1, 1), rc(0, 0)}
	if !slices.Equal(got, want) {
		t.Errorf("counts = %v, want %v", got, want)
	}
}

func testUserReceipts(t *testing.T, f *docFixture) {
	f.sendFill(t, "u:1:2", 1, 5)
	f.setRead(t, 2, "u:1:2", 3)
	f.advance(t,
		store.Cursor{UserID: 2, DeviceID: "a", Conversation: "u:1:2", DeliveredSeq: 5, AckedSeq: 4},
		store.Cursor{UserID: 2, DeviceID: "b", Conversation: "u:1:2", DeliveredSeq: 5, AckedSeq: 5},
	)
	got, err := f.s.UserReceipts(f.ctx, []store.UserReceipt{{Conversation: "u:1:2", UserID: 2}, {Conversation: "u:1:2", UserID: 1}, {Conversation: "x", UserID: 2}})
	if err != nil {
		t.Fatal(err)
	}
	ur := func(conv string, user, read, delivered int64) store.UserReceipt {
		return store.UserReceipt{Conversation: conv, UserID: user, ReadSeq: read, DeliveredSeq: delivered}
	}
	want := []store.UserReceipt{ur("u:1:2", 2, 3, 5), ur("u:1:2", 1, 5, 0), ur("x", 2, 0, 0)}
	if !slices.Equal(got, want) {
		t.Errorf("receipts = %+v, want %+v", got, want)
	}
}

func testHeads(t *testing.T, f *docFixture) {
	m1 := f.msg("a", 1, "h1")
	m2 := f.msg("a", 2, "h2")
	m2.CreatedAt = at(5)
	m2.Kind = "image"
	m3 := f.msg("b", 0, "h3")
	m3.Content = []byte(`{"text":"` + string(make([]byte, 100)) + `"}`)
	m3.CreatedAt = at(7)
	f.append(t, m1, m2, m3)
	got, err := f.s.Heads(f.ctx, []string{"b", "none", "a", "b"}, 20)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("Heads returned %d heads, want 4", len(got))
	}
	if h := got[1]; h.Conversation != "none" || h.Seq != 0 || !h.UpdatedAt.IsZero() || h.Last.ID != 0 {
		t.Errorf("head of an unknown conversation = %+v, want zeros", h)
	}
	a := got[2]
	wantA := withSeq(m2, 2)
	if a.Conversation != "a" || a.Seq != 2 || !a.UpdatedAt.Equal(at(5)) || a.Truncated {
		t.Errorf("head of a = %+v, want seq 2 at %v, not truncated", a, at(5))
	}
	wantMessage(t, "last message of a", a.Last, wantA)
	for _, b := range []store.Head{got[0], got[3]} {
		if b.Seq != 1 || !b.UpdatedAt.Equal(at(7)) || !b.Truncated || string(b.Last.Content) != string(m3.Content[:20]) || b.Last.Kind != "text" || b.Last.SenderID != 0 {
			t.Errorf("head of b = %+v, want seq 1, the content cut to 20 bytes", b)
		}
	}
	// Heads only: seqs and times, no messages.
	got, err = f.s.Heads(f.ctx, []string{"b", "none", "a"}, 0)
	if err != nil || len(got) != 3 {
		t.Fatalf("heads only: %+v, %v", got, err)
	}
	for i, want := range []struct {
		seq int64
		at  time.Time
	}{{1, at(7)}, {0, time.Time{}}, {2, at(5)}} {
		if h := got[i]; h.Seq != want.seq || !h.UpdatedAt.Equal(want.at) || h.Last.ID != 0 || h.Truncated {
			t.Errorf("heads only %d = %+v, want seq %d at %v and no message", i, h, want.seq, want.at)
		}
	}
	// Exactly at the limit is not truncated.
	got, err = f.s.Heads(f.ctx, []string{"b"}, len(m3.Content))
	if err != nil || got[0].Truncated || !slices.Equal(got[0].Last.Content, m3.Content) {
		t.Errorf("head of b with a limit of its size: %+v, %v; want the whole content", got, err)
	}
}

func testConcurrentReadSeq(t *testing.T, f *docFixture) {
	f.fill(t, "c", 1, 20)
	const n = 20
	changed := make([]bool, n)
	err := parallel(n, func(i int) error {
		_, ch, err := f.s.SetReadSeq(f.ctx, 2, "c", int64(i+1))
		changed[i] = ch
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if st := f.state(t, 2, "c"); st.ReadSeq != n {
		t.Errorf("read seq after %d racing sets = %d, want %d", n, st.ReadSeq, n)
	}
	if !changed[n-1] {
		t.Errorf("the set of the largest seq did not report a change")
	}
	if got, ch := f.setRead(t, 2, "c", n); got != n || ch {
		t.Errorf("setting the stored value again = %d, %v; want %d, false", got, ch, n)
	}
}
