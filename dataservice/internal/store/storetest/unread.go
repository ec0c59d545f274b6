package storetest

import (
	"testing"

	"github.com/privateim/privateim/dataservice/internal/store"
)

// The unread part of the suite (issue 14): unread counts only the messages
// that count (store.Message.Counts) after the read point, and is kept
// without counting messages on read.

var unreadTests = []struct {
	name string
	fn   func(t *testing.T, f *docFixture)
}{
	{"UnreadCountsOnlyCountedMessages", testUnreadCountsOnlyCounted},
	{"UnreadFloorsAndClears", testUnreadFloorsAndClears},
	{"UnreadAnswersInInputOrder", testUnreadAnswersInInputOrder},
}

// unread is Unread of user over qs, failing the test on error.
func (f *docFixture) unread(t *testing.T, user int64, qs ...store.UnreadQuery) []store.UnreadEntry {
	t.Helper()
	es, err := f.s.Unread(f.ctx, user, qs)
	if err != nil {
		t.Fatalf("Unread(%d, %v): %v", user, qs, err)
	}
	if len(es) != len(qs) {
		t.Fatalf("Unread(%d) answered %d entries for %d queries", user, len(es), len(qs))
	}
	return es
}

// unreadOf is user's unread count of conv with no floor.
func (f *docFixture) unreadOf(t *testing.T, user int64, conv string) int64 {
	t.Helper()
	return f.unread(t, user, store.UnreadQuery{Conversation: conv})[0].Unread
}

func testUnreadCountsOnlyCounted(t *testing.T, f *docFixture) {
	// 1 and 2 talk in c, 3 only reacts; 2 reads nothing. Every message
	// sent moves its sender's read seq (send), lifecycle events too.
	f.sendFill(t, "c", 1, 2) // seqs 1, 2
	steps := []struct {
		name         string
		msgs         []store.Message
		want1, want2 int64
	}{
		{"two messages of 1", nil, 0, 2},
		{"an edit of 1 (seq 3)", []store.Message{f.event("c", 1, "e1", 1, "text", `{"kind":"text","text":"new"}`)}, 0, 2},
		{"a reaction of 3 (seq 4)", []store.Message{f.reaction("c", 3, "r1", 1, "👍", false, 1)}, 0, 2},
		{"an unreaction of 3 (seq 5)", []store.Message{f.reaction("c", 3, "r2", 1, "👍", true, 2)}, 0, 2},
		{"a recall of 1 (seq 6): the tombstone stays counted", []store.Message{f.event("c", 1, "rc", 2, store.KindRecalled, `{"kind":"recalled"}`)}, 0, 2},
		{"an uncounted notice (seq 7)", []store.Message{uncounted(f.msg("c", 0, "n1"))}, 0, 2},
		{"a counted notice (seq 8)", []store.Message{f.msg("c", 0, "n2")}, 1, 3},
		{"a batch: 2 sends two, 1 one (seqs 9-11)", []store.Message{f.msg("c", 2, "b1"), f.msg("c", 2, "b2"), f.msg("c", 1, "b3")}, 0, 1},
	}
	for _, s := range steps {
		if len(s.msgs) > 0 {
			f.send(t, s.msgs...)
		}
		if got1, got2 := f.unreadOf(t, 1, "c"), f.unreadOf(t, 2, "c"); got1 != s.want1 || got2 != s.want2 {
			t.Errorf("after %s: unread of 1 %d, of 2 %d; want %d, %d", s.name, got1, got2, s.want1, s.want2)
		}
	}
	// Reads at any seq: the counted messages after it (1, 2, 8, 9, 10, 11
	// count). 3's unreaction moved 3's read seq to 5; a read never moves
	// back.
	for _, r := range []struct {
		user, seq, want int64
	}{{3, 5, 4}, {3, 9, 2}, {3, 11, 0}, {1, 2, 0}, {2, 11, 0}} {
		f.setRead(t, r.user, "c", r.seq)
		if got := f.unreadOf(t, r.user, "c"); got != r.want {
			t.Errorf("user %d after reading to %d: unread %d, want %d", r.user, r.seq, got, r.want)
		}
	}
	// A duplicate moves nothing; a new message counts once.
	f.send(t, f.msg("c", 2, "b1"), f.msg("c", 2, "b4"))
	if got := f.unreadOf(t, 1, "c"); got != 1 {
		t.Errorf("after a duplicate and a new message: unread %d, want 1", got)
	}
	e := f.unread(t, 1, store.UnreadQuery{Conversation: "c"})[0]
	if e.Head.Seq != 12 || e.Head.UpdatedAt.IsZero() || e.State.ReadSeq != 11 || e.State.LastSentSeq != 11 {
		t.Errorf("entry = %+v, want head 12 with a time, read 11, sent 11", e)
	}
}

func uncounted(m store.Message) store.Message {
	m.Uncounted = true
	return m
}

func testUnreadFloorsAndClears(t *testing.T, f *docFixture) {
	f.sendFill(t, "g", 1, 3)                           // 1..3
	f.appendOne(t, uncounted(f.msg("g", 0, "joined"))) // 4: 2 joins
	f.sendFill(t, "g", 1, 2)                           // 5, 6
	q := func(floor int64) store.UnreadQuery { return store.UnreadQuery{Conversation: "g", FloorSeq: floor} }
	for _, tc := range []struct {
		floor, want int64
	}{{0, 5}, {4, 2}, {3, 2}, {5, 1}, {6, 0}, {9, 0}} {
		if got := f.unread(t, 2, q(tc.floor))[0].Unread; got != tc.want {
			t.Errorf("floor %d: unread %d, want %d", tc.floor, got, tc.want)
		}
	}
	// A read before the floor leaves the floor in charge; one past it wins.
	f.setRead(t, 2, "g", 2)
	if got := f.unread(t, 2, q(4))[0].Unread; got != 2 {
		t.Errorf("read 2 under floor 4: unread %d, want 2", got)
	}
	f.setRead(t, 2, "g", 5)
	if got := f.unread(t, 2, q(4))[0].Unread; got != 1 {
		t.Errorf("read 5 over floor 4: unread %d, want 1", got)
	}
	// Clearing (delete for me) up to 6 leaves nothing unread; the clear
	// event in 2's own sys: conversation counts for nobody.
	clear := f.msg("sys:2", 2, "clear")
	clear.Kind, clear.Content = "cleared", []byte(`{"kind":"cleared"}`)
	clear.Clear = &store.Clear{UserID: 2, Conversation: "g", UpToSeq: 6}
	f.send(t, clear)
	if got := f.unread(t, 2, q(4), store.UnreadQuery{Conversation: "sys:2"}); got[0].Unread != 0 || got[1].Unread != 0 {
		t.Errorf("after clearing: unread %d in g, %d in sys:2; want 0, 0", got[0].Unread, got[1].Unread)
	}
	f.sendFill(t, "g", 1, 1) // 7
	if got := f.unread(t, 2, q(4))[0]; got.Unread != 1 || got.State.ClearedSeq != 6 {
		t.Errorf("a message after the clear: %+v, want unread 1, cleared 6", got)
	}
}

func testUnreadAnswersInInputOrder(t *testing.T, f *docFixture) {
	f.sendFill(t, "a", 1, 2)
	f.sendFill(t, "b", 1, 1)
	muted := true
	if _, err := f.s.UpdateConversationSettings(f.ctx, 2, "empty", store.ConversationSettings{Muted: &muted}); err != nil {
		t.Fatal(err)
	}
	es := f.unread(t, 2, store.UnreadQuery{Conversation: "b"}, store.UnreadQuery{Conversation: "none"},
		store.UnreadQuery{Conversation: "a"}, store.UnreadQuery{Conversation: "empty"})
	want := []struct {
		conv         string
		head, unread int64
		muted        bool
	}{{"b", 1, 1, false}, {"none", 0, 0, false}, {"a", 2, 2, false}, {"empty", 0, 0, true}}
	for i, w := range want {
		e := es[i]
		if e.Head.Conversation != w.conv || e.State.Conversation != w.conv || e.State.UserID != 2 || e.Head.Seq != w.head ||
			e.Unread != w.unread || e.State.Muted != w.muted || (w.head > 0) == e.Head.UpdatedAt.IsZero() {
			t.Errorf("entry %d = %+v, want %s head %d unread %d muted %v", i, e, w.conv, w.head, w.unread, w.muted)
		}
	}
}
