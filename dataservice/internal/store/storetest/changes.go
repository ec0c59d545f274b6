package storetest

// Lifecycle events (issue 15): an appended message with a Change rewrites an
// earlier message of its conversation in the same transaction.

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/privateim/privateim/dataservice/internal/store"
)

var changeTests = []struct {
	name string
	fn   func(t *testing.T, f *docFixture)
}{
	{"ChangeAppliesWithTheEvent", testChangeAppliesWithTheEvent},
	{"ChangeNotAppliedByADuplicate", testChangeNotAppliedByADuplicate},
	{"ChangeOfRecalledRefused", testChangeOfRecalledRefused},
	{"ChangeOfUnknownSeqRefused", testChangeOfUnknownSeqRefused},
	{"ChangeRefusedFailsTheBatch", testChangeRefusedFailsTheBatch},
	{"ConcurrentRecallsOneWins", testConcurrentRecallsOneWins},
	{"EditKeepsPreviousVersions", testEditKeepsPreviousVersions},
}

// event is a message of sender in conv that changes message target.
func (f *docFixture) event(conv string, sender int64, client string, target int64, kind, content string) store.Message {
	m := f.msg(conv, sender, client)
	m.Kind = "edit"
	m.Content = []byte(`{"kind":"edit","target_seq":1}`)
	m.Change = &store.MessageChange{TargetSeq: target, Kind: kind, Content: []byte(content)}
	return m
}

// stored is the message conv holds at seq.
func (f *docFixture) stored(t *testing.T, conv string, seq int64) store.Message {
	t.Helper()
	for _, m := range f.all(t, conv) {
		if m.Seq == seq {
			return m
		}
	}
	t.Fatalf("%s holds no seq %d", conv, seq)
	return store.Message{}
}

func wantContent(t *testing.T, what string, m store.Message, kind, content string) {
	t.Helper()
	if m.Kind != kind || !bytes.Equal(m.Content, []byte(content)) {
		t.Errorf("%s: kind %q content %s, want %q %s", what, m.Kind, m.Content, kind, content)
	}
}

func testChangeAppliesWithTheEvent(t *testing.T, f *docFixture) {
	one := f.appendOne(t, f.msg("c", 1, "a")).Message
	two := f.appendOne(t, f.msg("c", 2, "b")).Message
	ev := f.appendOne(t, f.event("c", 1, "e", 1, "text", `{"kind":"text","text":"new","edited_at":5}`))
	if ev.Duplicate || ev.Message.Seq != 3 {
		t.Fatalf("event: seq %d duplicate %v, want seq 3, new", ev.Message.Seq, ev.Duplicate)
	}
	changed := f.stored(t, "c", 1)
	wantContent(t, "the target", changed, "text", `{"kind":"text","text":"new","edited_at":5}`)
	if changed.ID != one.ID || changed.SenderID != 1 || changed.ClientMsgID != "a" || !changed.CreatedAt.Equal(one.CreatedAt) {
		t.Errorf("the target's identity changed: %s, was %s", showMessage(changed), showMessage(one))
	}
	wantMessage(t, "the other message", f.stored(t, "c", 2), two)
	wantContent(t, "the event", f.stored(t, "c", 3), "edit", `{"kind":"edit","target_seq":1}`)
	// A recall replaces the content with its tombstone.
	f.appendOne(t, f.event("c", 1, "r", 1, store.KindRecalled, `{"kind":"recalled","by":"1"}`))
	wantContent(t, "the recalled target", f.stored(t, "c", 1), store.KindRecalled, `{"kind":"recalled","by":"1"}`)
	if got := f.heads(t, "c"); got[0] != 4 {
		t.Errorf("head %d, want 4", got[0])
	}
}

func testChangeNotAppliedByADuplicate(t *testing.T, f *docFixture) {
	f.appendOne(t, f.msg("c", 1, "a"))
	first := f.appendOne(t, f.event("c", 1, "e", 1, "text", `{"text":"one"}`))
	again := f.appendOne(t, f.event("c", 1, "e", 1, "text", `{"text":"two"}`))
	if !again.Duplicate || again.Message.Seq != first.Message.Seq {
		t.Fatalf("re-sent event: seq %d duplicate %v, want seq %d duplicate", again.Message.Seq, again.Duplicate, first.Message.Seq)
	}
	wantContent(t, "the target", f.stored(t, "c", 1), "text", `{"text":"one"}`)
	// A re-sent recall of a recalled message is a duplicate, not refused.
	rec := f.appendOne(t, f.event("c", 1, "r", 1, store.KindRecalled, `{"kind":"recalled"}`))
	rec2 := f.appendOne(t, f.event("c", 1, "r", 1, store.KindRecalled, `{"kind":"recalled"}`))
	if !rec2.Duplicate || rec2.Message.Seq != rec.Message.Seq {
		t.Errorf("re-sent recall: seq %d duplicate %v, want seq %d duplicate", rec2.Message.Seq, rec2.Duplicate, rec.Message.Seq)
	}
	if got := f.heads(t, "c"); got[0] != 3 {
		t.Errorf("head %d, want 3", got[0])
	}
}

// refused appends m, wants it refused with want, and nothing of it stored:
// the head stays, the target keeps kind and content, the key is free.
func (f *docFixture) refused(t *testing.T, want error, msgs ...store.Message) {
	t.Helper()
	conv := msgs[0].Conversation
	head := f.heads(t, conv)[0]
	before := f.all(t, conv)
	_, err := f.s.AppendMessages(f.ctx, msgs)
	if !errors.Is(err, want) {
		t.Fatalf("AppendMessages: %v, want %v", err, want)
	}
	if got := f.heads(t, conv)[0]; got != head {
		t.Errorf("head %d after a refused change, want %d", got, head)
	}
	after := f.all(t, conv)
	if len(after) != len(before) {
		t.Fatalf("%d messages after a refused change, want %d", len(after), len(before))
	}
	for i := range before {
		wantMessage(t, "after a refused change", after[i], before[i])
	}
	for _, m := range msgs {
		if _, err := f.s.GetMessageByClientID(f.ctx, m.SenderID, m.ClientMsgID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("key %q of a refused batch: %v, want not found", m.ClientMsgID, err)
		}
	}
}

func testChangeOfRecalledRefused(t *testing.T, f *docFixture) {
	f.appendOne(t, f.msg("c", 1, "a"))
	f.appendOne(t, f.event("c", 1, "r", 1, store.KindRecalled, `{"kind":"recalled","by":"1"}`))
	f.refused(t, store.ErrPrecondition, f.event("c", 1, "e", 1, "text", `{"text":"back"}`))
	f.refused(t, store.ErrPrecondition, f.event("c", 9, "r2", 1, store.KindRecalled, `{"kind":"recalled","by":"9"}`))
	var pe *store.PreconditionError
	_, err := f.s.AppendMessages(f.ctx, []store.Message{f.event("c", 1, "e2", 1, "text", `{}`)})
	if !errors.As(err, &pe) || pe.Reason == "" || pe.Code != store.RefusalRecalled {
		t.Errorf("change of a recalled message: %v, want a *PreconditionError with a reason and RefusalRecalled", err)
	}
}

func testChangeOfUnknownSeqRefused(t *testing.T, f *docFixture) {
	f.appendOne(t, f.msg("c", 1, "a"))
	f.appendOne(t, f.msg("other", 1, "b"))
	f.refused(t, store.ErrNotFound, f.event("c", 1, "e", 5, "text", `{}`))
	// The seq of another conversation is not this one's.
	f.appendOne(t, f.msg("other", 1, "b2"))
	f.refused(t, store.ErrNotFound, f.event("c", 1, "e", 2, "text", `{}`))
}

func testChangeRefusedFailsTheBatch(t *testing.T, f *docFixture) {
	f.appendOne(t, f.msg("c", 1, "a"))
	f.appendOne(t, f.event("c", 1, "r", 1, store.KindRecalled, `{}`))
	f.appendOne(t, f.msg("c", 1, "b"))
	f.refused(t, store.ErrPrecondition,
		f.msg("c", 2, "plain"),
		f.event("c", 1, "e", 3, "text", `{"text":"fine"}`),
		f.event("c", 1, "e2", 1, "text", `{"text":"refused"}`))
	wantContent(t, "the target of the good change", f.stored(t, "c", 3), "text", `{"text":"b"}`)
}

func testConcurrentRecallsOneWins(t *testing.T, f *docFixture) {
	f.appendOne(t, f.msg("c", 1, "a"))
	const n = 8
	var won, lost int
	errs := make([]error, n)
	_ = parallel(n, func(i int) error {
		_, errs[i] = f.s.AppendMessages(f.ctx, []store.Message{f.event("c", int64(i+1), "r", 1, store.KindRecalled, `{"kind":"recalled"}`)})
		return nil
	})
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, store.ErrPrecondition):
			lost++
		default:
			t.Errorf("recall %d: %v", i, err)
		}
	}
	if won != 1 || lost != n-1 {
		t.Errorf("%d recalls stored, %d refused; want 1 and %d", won, lost, n-1)
	}
	if got := f.heads(t, "c"); got[0] != 2 {
		t.Errorf("head %d, want 2", got[0])
	}
}

var reactionTests = []struct {
	name string
	fn   func(t *testing.T, f *docFixture)
}{
	{"ReactionsCountAndMe", testReactionsCountAndMe},
	{"ReactionRefusals", testReactionRefusals},
	{"RecallDropsReactions", testRecallDropsReactions},
	{"ConcurrentReactionsAddUp", testConcurrentReactionsAddUp},
	{"ManyUsersReactAndUnreact", testManyUsersReactAndUnreact},
	{"ClearRaisesClearedSeq", testClearRaisesClearedSeq},
	{"MessagesAfterClearedSeq", testMessagesAfterClearedSeq},
	{"MessagesWithReactions", testMessagesWithReactions},
}

// reaction is a reaction event of user in conv on message target, created
// at ms.
func (f *docFixture) reaction(conv string, user int64, client string, target int64, emoji string, remove bool, ms int) store.Message {
	m := f.msg(conv, user, client)
	m.Kind, m.Content, m.CreatedAt = "react", []byte(`{"kind":"react"}`), at(ms)
	m.Reaction = &store.Reaction{TargetSeq: target, UserID: user, Emoji: emoji, Remove: remove}
	return m
}

func (f *docFixture) reactions(t *testing.T, conv string, viewer int64, seqs ...int64) map[int64][]store.ReactionCount {
	t.Helper()
	rs, err := f.s.Reactions(f.ctx, conv, seqs, viewer)
	if err != nil {
		t.Fatalf("Reactions(%q, %v): %v", conv, seqs, err)
	}
	return rs
}

func wantReactions(t *testing.T, what string, got, want []store.ReactionCount) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %v, want %v", what, got, want)
		return
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s: %v, want %v", what, got, want)
			return
		}
	}
}

func testReactionsCountAndMe(t *testing.T, f *docFixture) {
	f.appendOne(t, f.msg("c", 1, "a"))
	f.appendOne(t, f.msg("c", 2, "b"))
	f.append(t, f.reaction("c", 2, "r1", 1, "👍", false, 1), f.reaction("c", 3, "r2", 1, "👍", false, 2))
	f.appendOne(t, f.reaction("c", 1, "r3", 1, "❤️", false, 3))
	f.appendOne(t, f.reaction("c", 1, "r4", 1, "👍", false, 4))
	f.appendOne(t, f.msg("other", 1, "o1"))
	f.appendOne(t, f.reaction("other", 1, "r5", 1, "👍", false, 5)) // not c's message 1
	rs := f.reactions(t, "c", 1, 1, 2, 99)
	wantReactions(t, "message 1 seen by 1", rs[1], []store.ReactionCount{{Emoji: "👍", Count: 3, Me: true}, {Emoji: "❤️", Count: 1, Me: true}})
	if len(rs[2]) != 0 || len(rs[99]) != 0 {
		t.Errorf("messages without reactions: %v", rs)
	}
	wantReactions(t, "message 1 seen by 3", f.reactions(t, "c", 3, 1)[1], []store.ReactionCount{{Emoji: "👍", Count: 3, Me: true}, {Emoji: "❤️", Count: 1}})
	// Removing one; a re-sent removal is a duplicate and removes nothing more.
	f.appendOne(t, f.reaction("c", 1, "u1", 1, "👍", true, 6))
	again := f.appendOne(t, f.reaction("c", 1, "u1", 1, "👍", true, 6))
	if !again.Duplicate {
		t.Errorf("re-sent removal stored again")
	}
	wantReactions(t, "after 1 took back 👍", f.reactions(t, "c", 1, 1)[1], []store.ReactionCount{{Emoji: "👍", Count: 2}, {Emoji: "❤️", Count: 1, Me: true}})
}

func testReactionRefusals(t *testing.T, f *docFixture) {
	f.appendOne(t, f.msg("c", 1, "a"))
	f.appendOne(t, f.reaction("c", 1, "r1", 1, "👍", false, 1))
	wantReason := func(reason string, m store.Message) {
		t.Helper()
		f.refused(t, store.ErrPrecondition, m)
		code := map[string]store.Refusal{store.ReasonReacted: store.RefusalReacted, store.ReasonNotReacted: store.RefusalNotReacted,
			store.ReasonTooManyEmoji: store.RefusalTooManyEmoji, "recalled": store.RefusalRecalled}[reason]
		var pe *store.PreconditionError
		if _, err := f.s.AppendMessages(f.ctx, []store.Message{m}); !errors.As(err, &pe) || !bytes.Contains([]byte(pe.Reason), []byte(reason)) || pe.Code != code {
			t.Errorf("refusal %v, want the reason %q and code %d", err, reason, code)
		}
	}
	wantReason(store.ReasonReacted, f.reaction("c", 1, "r2", 1, "👍", false, 2))
	wantReason(store.ReasonNotReacted, f.reaction("c", 1, "r3", 1, "❤️", true, 3))
	wantReason(store.ReasonNotReacted, f.reaction("c", 2, "r4", 1, "👍", true, 4))
	f.refused(t, store.ErrNotFound, f.reaction("c", 1, "r5", 7, "👍", false, 5))
	// 20 distinct emoji: a 21st is refused, one of the 20 by another user is not.
	for i := 1; i < store.MaxReactionEmoji; i++ {
		f.appendOne(t, f.reaction("c", 1, "e"+string(rune('a'+i)), 1, "e"+string(rune('a'+i)), false, 10+i))
	}
	wantReason(store.ReasonTooManyEmoji, f.reaction("c", 2, "r6", 1, "one-too-many", false, 40))
	f.appendOne(t, f.reaction("c", 2, "r7", 1, "eb", false, 41))
	if got := len(f.reactions(t, "c", 2, 1)[1]); got != store.MaxReactionEmoji {
		t.Errorf("%d emoji, want %d", got, store.MaxReactionEmoji)
	}
	f.appendOne(t, f.event("c", 1, "rec", 1, store.KindRecalled, `{"kind":"recalled"}`))
	wantReason("recalled", f.reaction("c", 2, "r8", 1, "👍", false, 50))
}

func testRecallDropsReactions(t *testing.T, f *docFixture) {
	f.appendOne(t, f.msg("c", 1, "a"))
	f.appendOne(t, f.msg("c", 1, "b"))
	f.appendOne(t, f.reaction("c", 2, "r1", 1, "👍", false, 1))
	f.appendOne(t, f.reaction("c", 2, "r2", 2, "👍", false, 2))
	f.appendOne(t, f.event("c", 1, "rec", 1, store.KindRecalled, `{"kind":"recalled"}`))
	rs := f.reactions(t, "c", 2, 1, 2)
	if len(rs[1]) != 0 {
		t.Errorf("a recalled message keeps reactions: %v", rs[1])
	}
	wantReactions(t, "the other message", rs[2], []store.ReactionCount{{Emoji: "👍", Count: 1, Me: true}})
}

func testConcurrentReactionsAddUp(t *testing.T, f *docFixture) {
	f.appendOne(t, f.msg("c", 1, "a"))
	const n = 24
	if err := parallel(n, func(i int) error {
		_, err := f.s.AppendMessages(f.ctx, []store.Message{f.reaction("c", int64(100+i), "r", 1, "👍", false, i)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	wantReactions(t, "after concurrent reactions", f.reactions(t, "c", 100, 1)[1], []store.ReactionCount{{Emoji: "👍", Count: n, Me: true}})
	if got := f.heads(t, "c")[0]; got != n+1 {
		t.Errorf("head %d, want %d", got, n+1)
	}
}

// testManyUsersReactAndUnreact: counts and "me" of an emoji with many users
// (an adapter may list few users and look many up), while they come and
// go, and of the first reaction going.
func testManyUsersReactAndUnreact(t *testing.T, f *docFixture) {
	f.appendOne(t, f.msg("c", 1, "a"))
	f.appendOne(t, f.msg("c", 1, "b"))
	const n = 40
	for u := range n {
		f.appendOne(t, f.reaction("c", int64(100+u), "r", 1, "👍", false, 10+u))
	}
	f.appendOne(t, f.reaction("c", 100, "h", 1, "❤️", false, 30))
	f.appendOne(t, f.reaction("c", 7, "s", 2, "👍", false, 31))
	want := func(what string, count int64, gone int) {
		t.Helper()
		for _, viewer := range []int64{100, 101, int64(100 + n - 1), 7} {
			rs := f.reactions(t, "c", viewer, 1, 2)
			mine := viewer >= int64(100+gone) && viewer < 100+n
			want := []store.ReactionCount{{Emoji: "👍", Count: count, Me: mine}, {Emoji: "❤️", Count: 1, Me: viewer == 100}}
			if gone >= 20 {
				// 👍's first reactions are gone: ❤️ (30 ms) came first now,
				// or at the same time (20 gone) and "❤️" < "👍".
				want[0], want[1] = want[1], want[0]
			}
			wantReactions(t, what, rs[1], want)
			wantReactions(t, what+", message 2", rs[2], []store.ReactionCount{{Emoji: "👍", Count: 1, Me: viewer == 7}})
		}
	}
	want("40 users", n, 0)
	// Users 100.. take theirs back, the first reactions first.
	for u := range n - 2 {
		f.appendOne(t, f.reaction("c", int64(100+u), "u", 1, "👍", true, 100+u))
		switch u + 1 {
		case 1, 20, 23, 24, 25, 30, 37, 38:
			want(fmt.Sprintf("%d users", n-u-1), int64(n-u-1), u+1)
		}
	}
}

func testClearRaisesClearedSeq(t *testing.T, f *docFixture) {
	for i := range 4 {
		f.appendOne(t, f.msg("c", 2, "m"+string(rune('0'+i))))
	}
	clear := func(client string, upTo int64) store.Message {
		m := f.msg("sys:1", 1, client)
		m.Kind, m.Content = "cleared", []byte(`{"kind":"cleared"}`)
		m.Clear = &store.Clear{UserID: 1, Conversation: "c", UpToSeq: upTo}
		return m
	}
	cleared := func() store.ConversationState {
		t.Helper()
		st, err := f.s.ConversationStates(f.ctx, 1, []string{"c"})
		if err != nil || len(st) != 1 {
			t.Fatalf("ConversationStates: %v, %v", st, err)
		}
		return st[0]
	}
	f.appendOne(t, clear("k1", 3))
	if got := cleared(); got.ClearedSeq != 3 || got.ReadSeq != 0 {
		t.Errorf("after clearing up to 3: cleared %d read %d, want 3 and 0", got.ClearedSeq, got.ReadSeq)
	}
	f.appendOne(t, clear("k2", 2))
	if got := cleared().ClearedSeq; got != 3 {
		t.Errorf("a clear to 2 moved it back to %d", got)
	}
	f.appendOne(t, clear("k3", 4))
	if got := cleared().ClearedSeq; got != 4 {
		t.Errorf("cleared %d, want 4", got)
	}
	// Others are untouched.
	st, err := f.s.ConversationStates(f.ctx, 2, []string{"c"})
	if err != nil || st[0].ClearedSeq != 0 {
		t.Errorf("the other user's state: %v, %v", st, err)
	}
}

// testMessagesWithReactions: GetMessagesWithReactions answers what
// GetMessages and Reactions answer, for every shape of range.
func testMessagesWithReactions(t *testing.T, f *docFixture) {
	for i := range 12 {
		f.appendOne(t, f.msg("c", 1, "m"+string(rune('a'+i))))
	}
	for _, seq := range []int64{2, 5, 6, 11} {
		f.appendOne(t, f.reaction("c", 2, "r"+string(rune('0'+seq)), seq, "👍", false, int(seq)))
	}
	f.appendOne(t, f.reaction("c", 3, "x", 5, "❤️", false, 20))
	for _, r := range []store.MessageRange{
		{Conversation: "c", Limit: 5},
		{Conversation: "c", AfterSeq: 4, Limit: 3},
		{Conversation: "c", AfterSeq: 3, BeforeSeq: 7, Limit: 50},
		{Conversation: "c", AfterSeq: 10, Limit: 50},
		{Conversation: "c", Limit: 4, NewestFirst: true},
		{Conversation: "none", Limit: 5},
	} {
		msgs, more, rs, err := f.s.GetMessagesWithReactions(f.ctx, r, 2)
		if err != nil {
			t.Fatalf("GetMessagesWithReactions(%+v): %v", r, err)
		}
		wantMsgs, wantMore, err := f.s.GetMessages(f.ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != len(wantMsgs) || more != wantMore {
			t.Fatalf("%+v: %d messages more %v, want %d more %v", r, len(msgs), more, len(wantMsgs), wantMore)
		}
		var seqs []int64
		for i := range msgs {
			wantMessage(t, "message", msgs[i], wantMsgs[i])
			seqs = append(seqs, msgs[i].Seq)
		}
		wantRs := f.reactions(t, r.Conversation, 2, seqs...)
		if len(rs) != len(wantRs) {
			t.Errorf("%+v: reactions of %d messages, want %d: %v", r, len(rs), len(wantRs), rs)
		}
		for seq, want := range wantRs {
			wantReactions(t, "reactions", rs[seq], want)
		}
	}
}

// testEditKeepsPreviousVersions: an edit with KeepPrevious keeps what the
// message was before it (kind, content byte-for-byte, the event's seq and
// time), one without keeps nothing, a re-sent edit keeps nothing more, the
// newest come first when limited, and a recall deletes them.
func testEditKeepsPreviousVersions(t *testing.T, f *docFixture) {
	f.appendOne(t, f.msg("c", 1, "a"))
	f.appendOne(t, f.msg("c", 2, "b"))
	edit := func(client string, target int64, text string, keep bool, ms int) store.AppendResult {
		t.Helper()
		ev := f.event("c", 1, client, target, "text", `{"kind":"text","text":"`+text+`"}`)
		ev.Change.KeepPrevious = keep
		ev.CreatedAt = at(ms)
		return f.appendOne(t, ev)
	}
	versions := func(seq int64, limit int) ([]store.MessageVersion, bool) {
		t.Helper()
		vs, more, err := f.s.MessageVersions(f.ctx, "c", seq, limit)
		if err != nil {
			t.Fatalf("MessageVersions(%d): %v", seq, err)
		}
		return vs, more
	}
	e1 := edit("e1", 1, "one", true, 10).Message
	e2 := edit("e2", 1, "two", true, 20).Message
	edit("e3", 1, "three", false, 30)
	if again := edit("e2", 1, "two", true, 20); !again.Duplicate {
		t.Fatalf("re-sent edit stored again")
	}
	e4 := edit("e4", 1, "four", true, 40).Message
	vs, more := versions(1, 0)
	want := []store.MessageVersion{
		{Kind: "text", Content: []byte(`{"text":"a"}`), ReplacedBySeq: e1.Seq, ReplacedAt: at(10)},
		{Kind: "text", Content: []byte(`{"kind":"text","text":"one"}`), ReplacedBySeq: e2.Seq, ReplacedAt: at(20)},
		{Kind: "text", Content: []byte(`{"kind":"text","text":"three"}`), ReplacedBySeq: e4.Seq, ReplacedAt: at(40)},
	}
	wantVersions := func(what string, got, want []store.MessageVersion) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d versions, want %d: %+v", what, len(got), len(want), got)
		}
		for i := range want {
			g, w := got[i], want[i]
			if g.Kind != w.Kind || !bytes.Equal(g.Content, w.Content) || g.ReplacedBySeq != w.ReplacedBySeq || !g.ReplacedAt.Equal(w.ReplacedAt) {
				t.Errorf("%s: version %d is %s %s by %d at %v, want %s %s by %d at %v", what, i,
					g.Kind, g.Content, g.ReplacedBySeq, g.ReplacedAt, w.Kind, w.Content, w.ReplacedBySeq, w.ReplacedAt)
			}
		}
	}
	wantVersions("all", vs, want)
	if more {
		t.Errorf("all: more")
	}
	vs, more = versions(1, 2)
	wantVersions("the newest 2", vs, want[1:])
	if !more {
		t.Errorf("the newest 2: no more")
	}
	wantContent(t, "the message", f.stored(t, "c", 1), "text", `{"kind":"text","text":"four"}`)
	if vs, _ := versions(2, 0); len(vs) != 0 {
		t.Errorf("a message never edited: %+v", vs)
	}
	if vs, _ := versions(99, 0); len(vs) != 0 {
		t.Errorf("no such message: %+v", vs)
	}
	edit("f1", 2, "b2", true, 50)
	f.appendOne(t, f.event("c", 1, "rec", 1, store.KindRecalled, `{"kind":"recalled"}`))
	if vs, _ := versions(1, 0); len(vs) != 0 {
		t.Errorf("a recalled message keeps versions: %+v", vs)
	}
	if vs, _ := versions(2, 0); len(vs) != 1 {
		t.Errorf("the other message after the recall: %+v, want its one version", vs)
	}
}

// testMessagesAfterClearedSeq: a range read for a user (ClearedFor) starts
// after the user's cleared seq when that is past AfterSeq, with and
// without reactions, oldest or newest first; another user's reads and a
// user who cleared nothing are not moved.
func testMessagesAfterClearedSeq(t *testing.T, f *docFixture) {
	for i := range 6 {
		f.appendOne(t, f.msg("c", 2, "m"+string(rune('0'+i))))
	}
	f.appendOne(t, f.reaction("c", 2, "r", 5, "👍", false, 1))
	clear := f.msg("sys:1", 1, "k")
	clear.Kind, clear.Content = "cleared", []byte(`{"kind":"cleared"}`)
	clear.Clear = &store.Clear{UserID: 1, Conversation: "c", UpToSeq: 3}
	f.appendOne(t, clear)
	seqs := func(msgs []store.Message) []int64 {
		out := []int64{}
		for _, m := range msgs {
			out = append(out, m.Seq)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		r    store.MessageRange
		want string
	}{
		{"from the start", store.MessageRange{Conversation: "c", ClearedFor: 1, Limit: 50}, "[4 5 6 7]"},
		{"after the cleared seq already", store.MessageRange{Conversation: "c", AfterSeq: 4, ClearedFor: 1, Limit: 50}, "[5 6 7]"},
		{"before the cleared seq", store.MessageRange{Conversation: "c", BeforeSeq: 4, ClearedFor: 1, Limit: 50}, "[]"},
		{"newest first", store.MessageRange{Conversation: "c", ClearedFor: 1, Limit: 2, NewestFirst: true}, "[6 7]"},
		{"another user", store.MessageRange{Conversation: "c", ClearedFor: 2, Limit: 50}, "[1 2 3 4 5 6 7]"},
		{"not for a user", store.MessageRange{Conversation: "c", AfterSeq: 1, Limit: 50}, "[2 3 4 5 6 7]"},
	} {
		msgs, _, err := f.s.GetMessages(f.ctx, tc.r)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := fmt.Sprint(seqs(msgs)); got != tc.want {
			t.Errorf("%s: GetMessages %s, want %s", tc.name, got, tc.want)
		}
		msgs, _, rs, err := f.s.GetMessagesWithReactions(f.ctx, tc.r, 2)
		if err != nil {
			t.Fatalf("%s with reactions: %v", tc.name, err)
		}
		if got := fmt.Sprint(seqs(msgs)); got != tc.want {
			t.Errorf("%s: GetMessagesWithReactions %s, want %s", tc.name, got, tc.want)
		}
		if strings.Contains(tc.want, "5") && len(rs[5]) != 1 {
			t.Errorf("%s: reactions %v, want message 5's", tc.name, rs)
		}
	}
}
