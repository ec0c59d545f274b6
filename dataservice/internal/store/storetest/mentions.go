package storetest

import (
	"errors"
	"testing"

	"github.com/privateim/privateim/dataservice/internal/store"
)

// The mention part of the suite (issue 15): each user's latest mention seq
// per conversation.

// testMentionSeqs: a mention seq never moves back, a batch may name a user
// twice and several conversations, it leaves the read seq and the
// settings alone and a new row reads as a row (UpdatedAt set).
func testMentionSeqs(t *testing.T, f *docFixture) {
	f.fill(t, "g:1", 1, 5)
	f.fill(t, "g:2", 1, 2)
	f.setRead(t, 2, "g:1", 1)
	set := func(ms ...store.MentionSeq) {
		t.Helper()
		if err := f.s.SetMentionSeqs(f.ctx, ms); err != nil {
			t.Fatalf("SetMentionSeqs(%v): %v", ms, err)
		}
	}
	set(store.MentionSeq{UserID: 2, Conversation: "g:1", Seq: 3}, store.MentionSeq{UserID: 3, Conversation: "g:1", Seq: 3},
		store.MentionSeq{UserID: 2, Conversation: "g:2", Seq: 2}, store.MentionSeq{UserID: 2, Conversation: "g:1", Seq: 2})
	if st := f.state(t, 2, "g:1"); st.MentionSeq != 3 || st.ReadSeq != 1 {
		t.Errorf("user 2 in g:1 = %+v, want mention 3 (the larger of a batch naming it twice), read 1", st)
	}
	if st := f.state(t, 3, "g:1"); st.MentionSeq != 3 || st.ReadSeq != 0 || st.UpdatedAt.IsZero() {
		t.Errorf("user 3 in g:1 = %+v, want a new row with mention 3", st)
	}
	if st := f.state(t, 2, "g:2"); st.MentionSeq != 2 {
		t.Errorf("user 2 in g:2 = %+v, want mention 2", st)
	}
	set(store.MentionSeq{UserID: 2, Conversation: "g:1", Seq: 1})
	if st := f.state(t, 2, "g:1"); st.MentionSeq != 3 {
		t.Errorf("a lower mention moved it back: %+v", st)
	}
	set(store.MentionSeq{UserID: 2, Conversation: "g:1", Seq: 5})
	if st := f.state(t, 2, "g:1"); st.MentionSeq != 5 || st.ReadSeq != 1 {
		t.Errorf("user 2 in g:1 = %+v, want mention 5, read 1", st)
	}
	// Reading past it leaves the mention seq: mentioned is mention > read.
	f.setRead(t, 2, "g:1", 5)
	if st := f.state(t, 2, "g:1"); st.MentionSeq != 5 || st.ReadSeq != 5 {
		t.Errorf("after the read: %+v, want mention 5, read 5", st)
	}
	if err := f.s.SetMentionSeqs(f.ctx, nil); err != nil {
		t.Errorf("SetMentionSeqs(nil) = %v", err)
	}
}

// testMentionSeqsBeyondHead: one seq beyond its conversation's head
// refuses the whole batch; nothing of it is stored.
func testMentionSeqsBeyondHead(t *testing.T, f *docFixture) {
	f.fill(t, "g:1", 1, 2)
	for _, bad := range []store.MentionSeq{{UserID: 3, Conversation: "g:1", Seq: 3}, {UserID: 3, Conversation: "unknown", Seq: 1}} {
		err := f.s.SetMentionSeqs(f.ctx, []store.MentionSeq{{UserID: 2, Conversation: "g:1", Seq: 2}, bad})
		var pe *store.PreconditionError
		if !errors.As(err, &pe) || !errors.Is(err, store.ErrPrecondition) {
			t.Errorf("SetMentionSeqs with %+v: err = %v, want a *PreconditionError", bad, err)
		}
		for _, m := range []store.MentionSeq{{UserID: 2, Conversation: "g:1"}, bad} {
			if st := f.state(t, m.UserID, m.Conversation); st.MentionSeq != 0 || !st.UpdatedAt.IsZero() {
				t.Errorf("after a refused batch: %+v, want nothing stored", st)
			}
		}
	}
}
