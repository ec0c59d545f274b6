// Package storetest is the conformance suite every store adapter runs: the
// promises of store.Documents (and their documentation in
// protos/data/v1/messages.proto) written as tests against a real server.
// An adapter's test calls RunDocuments with a constructor that hands each
// subtest an empty store.
//
// It imports only the standard library and package store.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
)

// RunDocuments runs the document-role conformance suite. newStore must return
// an empty store of its own (a fresh database) and register its cleanup with
// t.Cleanup; it is called once per subtest.
//
// What the suite holds every adapter to, beyond the interface comments:
//   - times come back Equal to what was stored at millisecond precision (the
//     suite only stores whole milliseconds, so MongoDB's precision is enough);
//   - conversation names, device ids and client message ids are exact byte
//     strings ("c", "C" and "c " are three conversations);
//   - a page token is "" exactly when nothing follows; a token the adapter did
//     not hand out fails with an error matching store.ErrBadPageToken;
//   - a failed ExpectedState check returns a *store.PreconditionError whose
//     Reason names the current state (e.g. contains "published");
//   - CreateArticle with an id already stored fails with store.ErrExists.
func RunDocuments(t *testing.T, newStore func(t *testing.T) store.Documents) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *docFixture)
	}{
		{"Ping", testPing},
		{"AppendAssignsSeqPerConversation", testAppendSeqPerConversation},
		{"AppendBatchAcrossConversations", testAppendBatchAcrossConversations},
		{"AppendRoundTrip", testAppendRoundTrip},
		{"AppendDuplicateLater", testAppendDuplicateLater},
		{"AppendDuplicateInBatch", testAppendDuplicateInBatch},
		{"AppendSystemMessages", testAppendSystemMessages},
		{"AppendExactKeys", testAppendExactKeys},
		{"AppendContentBytes", testAppendContentBytes},
		{"AppendLargeBatch", testAppendLargeBatch},
		{"GetMessagesRange", testGetMessagesRange},
		{"GetMessagesByTime", testGetMessagesByTime},
		{"GetMessagesByTimeBadToken", testGetMessagesByTimeBadToken},
		{"GetMessageByClientIDNotFound", testGetMessageByClientIDNotFound},
		{"ConversationHeads", testConversationHeads},
		{"ConcurrentDuplicateAppend", testConcurrentDuplicateAppend},
		{"ConcurrentAppendOneConversation", testConcurrentAppendOneConversation},
		{"ConcurrentBatchesManyConversations", testConcurrentBatchesManyConversations},
		{"CursorsAdvanceMonotonic", testCursorsAdvanceMonotonic},
		{"CursorsPerDeviceAndList", testCursorsPerDeviceAndList},
		{"CursorsBatchInputOrder", testCursorsBatchInputOrder},
		{"CursorsNoResultMonotonic", testCursorsNoResultMonotonic},
		{"CursorsNoResultBatch", testCursorsNoResultBatch},
		{"CursorsCanceled", testCursorsCanceled},
		{"ConcurrentCursorAdvance", testConcurrentCursorAdvance},
		{"ReadSeqMonotonic", testReadSeqMonotonic},
		{"ReadSeqBeyondHead", testReadSeqBeyondHead},
		{"MoveSenders", testMoveSenders},
		{"ConversationStatesOrder", testConversationStatesOrder},
		{"ConversationSettings", testConversationSettings},
		{"ListReaders", testListReaders},
		{"CountReceipts", testCountReceipts},
		{"UserReceipts", testUserReceipts},
		{"Heads", testHeads},
		{"ConcurrentReadSeq", testConcurrentReadSeq},
		{"MentionSeqs", testMentionSeqs},
		{"MentionSeqsBeyondHead", testMentionSeqsBeyondHead},
		{"ArticleCreateGet", testArticleCreateGet},
		{"ArticleCreateExists", testArticleCreateExists},
		{"ArticleGetNotFound", testArticleGetNotFound},
		{"ArticleUpdate", testArticleUpdate},
		{"ArticleUpdateExpectedState", testArticleUpdateExpectedState},
		{"ArticleList", testArticleList},
		{"ArticleListBadToken", testArticleListBadToken},
		{"ArticlePushed", testArticlePushed},
		{"ArticleDelete", testArticleDelete},
		{"ArticleDeleteConditional", testArticleDeleteConditional},
	}
	tests = append(tests, changeTests...)
	tests = append(tests, reactionTests...)
	tests = append(tests, unreadTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, &docFixture{s: newStore(t), ctx: t.Context()})
		})
	}
}

// base is the suite's clock: whole milliseconds, UTC.
var base = time.Date(2024, 3, 14, 15, 9, 26, 535_000_000, time.UTC)

func at(ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }

type docFixture struct {
	s      store.Documents
	ctx    context.Context
	nextID atomic.Int64
}

func (f *docFixture) id() int64 { return 1_000_000 + f.nextID.Add(1) }

// msg builds a message with a fresh id, created at base.
func (f *docFixture) msg(conv string, sender int64, client string) store.Message {
	return store.Message{
		ID:           f.id(),
		Conversation: conv,
		SenderID:     sender,
		ClientMsgID:  client,
		Kind:         "text",
		Content:      []byte(`{"text":"` + client + `"}`),
		CreatedAt:    base,
	}
}

func (f *docFixture) append(t *testing.T, msgs ...store.Message) []store.AppendResult {
	t.Helper()
	res, err := f.s.AppendMessages(f.ctx, msgs)
	if err != nil {
		t.Fatalf("AppendMessages(%d): %v", len(msgs), err)
	}
	if len(res) != len(msgs) {
		t.Fatalf("AppendMessages(%d) returned %d results", len(msgs), len(res))
	}
	return res
}

func (f *docFixture) appendOne(t *testing.T, m store.Message) store.AppendResult {
	t.Helper()
	return f.append(t, m)[0]
}

func (f *docFixture) all(t *testing.T, conv string) []store.Message {
	t.Helper()
	msgs, more, err := f.s.GetMessages(f.ctx, store.MessageRange{Conversation: conv, Limit: 1000})
	if err != nil {
		t.Fatalf("GetMessages(%q): %v", conv, err)
	}
	if more {
		t.Fatalf("GetMessages(%q): more than 1000 messages", conv)
	}
	return msgs
}

func (f *docFixture) heads(t *testing.T, convs ...string) []int64 {
	t.Helper()
	h, err := f.s.ConversationHeads(f.ctx, convs)
	if err != nil {
		t.Fatalf("ConversationHeads(%q): %v", convs, err)
	}
	return h
}

func sameMessage(a, b store.Message) bool {
	return a.ID == b.ID && a.Conversation == b.Conversation && a.Seq == b.Seq && a.SenderID == b.SenderID &&
		a.ClientMsgID == b.ClientMsgID && a.Kind == b.Kind && bytes.Equal(a.Content, b.Content) &&
		a.CreatedAt.Equal(b.CreatedAt)
}

func showMessage(m store.Message) string {
	content := string(m.Content)
	if len(content) > 40 {
		content = fmt.Sprintf("%.40s...(%d bytes)", content, len(m.Content))
	}
	return fmt.Sprintf("{id %d %q seq %d sender %d client %q kind %q content %q at %s}",
		m.ID, m.Conversation, m.Seq, m.SenderID, m.ClientMsgID, m.Kind, content, m.CreatedAt.UTC().Format(time.RFC3339Nano))
}

func wantMessage(t *testing.T, what string, got, want store.Message) {
	t.Helper()
	if !sameMessage(got, want) {
		t.Errorf("%s:\n got %s\nwant %s", what, showMessage(got), showMessage(want))
	}
}

// withSeq is m as stored with seq.
func withSeq(m store.Message, seq int64) store.Message {
	m.Seq = seq
	return m
}

func seqsOf(msgs []store.Message) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.Seq
	}
	return out
}

func seqRange(from, to int64) []int64 {
	var out []int64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

func testPing(t *testing.T, f *docFixture) {
	if err := f.s.Ping(f.ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testAppendSeqPerConversation(t *testing.T, f *docFixture) {
	for i := range 3 {
		for _, conv := range []string{"u:1:2", "g:7"} {
			m := f.msg(conv, 1, fmt.Sprintf("%s-%d", conv, i))
			r := f.appendOne(t, m)
			if r.Duplicate {
				t.Errorf("append %d to %s: Duplicate on a new key", i, conv)
			}
			wantMessage(t, fmt.Sprintf("append %d to %s", i, conv), r.Message, withSeq(m, int64(i+1)))
		}
	}
	for _, conv := range []string{"u:1:2", "g:7"} {
		if got := seqsOf(f.all(t, conv)); !slices.Equal(got, []int64{1, 2, 3}) {
			t.Errorf("stored seqs of %s = %v, want [1 2 3]", conv, got)
		}
	}
}

func testAppendBatchAcrossConversations(t *testing.T, f *docFixture) {
	convs := []string{"a", "b", "a", "c", "a", "b"}
	wantSeq := []int64{1, 1, 2, 1, 3, 2}
	var batch []store.Message
	for i, c := range convs {
		batch = append(batch, f.msg(c, 10+int64(i%2), fmt.Sprintf("m%d", i)))
	}
	res := f.append(t, batch...)
	for i, r := range res {
		if r.Duplicate {
			t.Errorf("result %d: Duplicate on a new key", i)
		}
		wantMessage(t, fmt.Sprintf("result %d", i), r.Message, withSeq(batch[i], wantSeq[i]))
	}
	// A second batch continues each conversation.
	second := []store.Message{f.msg("c", 10, "n0"), f.msg("a", 10, "n1"), f.msg("c", 10, "n2")}
	res = f.append(t, second...)
	for i, want := range []int64{2, 4, 3} {
		if res[i].Message.Seq != want {
			t.Errorf("second batch result %d: seq %d, want %d", i, res[i].Message.Seq, want)
		}
	}
	for conv, n := range map[string]int64{"a": 4, "b": 2, "c": 3} {
		if got := seqsOf(f.all(t, conv)); !slices.Equal(got, seqRange(1, n)) {
			t.Errorf("stored seqs of %s = %v, want 1..%d", conv, got, n)
		}
	}
}

func testAppendRoundTrip(t *testing.T, f *docFixture) {
	m := store.Message{
		ID:           f.id(),
		Conversation: "u:42:43",
		SenderID:     42,
		ClientMsgID:  "c-0001",
		Kind:         "image",
		Content:      []byte(`{"url":"https://x/y.png","w":640}`),
		CreatedAt:    at(1234),
	}
	r := f.appendOne(t, m)
	want := withSeq(m, 1)
	wantMessage(t, "append result", r.Message, want)
	got, err := f.s.GetMessageByClientID(f.ctx, 42, "c-0001")
	if err != nil {
		t.Fatalf("GetMessageByClientID: %v", err)
	}
	wantMessage(t, "GetMessageByClientID", got, want)
	msgs := f.all(t, "u:42:43")
	if len(msgs) != 1 {
		t.Fatalf("GetMessages: %d messages, want 1", len(msgs))
	}
	wantMessage(t, "GetMessages", msgs[0], want)
}

func testAppendDuplicateLater(t *testing.T, f *docFixture) {
	first := f.msg("u:1:2", 1, "dup")
	first.Content = []byte("first")
	stored := f.appendOne(t, first).Message

	again := f.msg("u:1:2", 1, "dup")
	again.Content = []byte("second")
	again.CreatedAt = at(5000)
	r := f.appendOne(t, again)
	if !r.Duplicate {
		t.Errorf("repeated key: Duplicate = false")
	}
	wantMessage(t, "repeated key", r.Message, stored)

	// The key is the sender's, not the conversation's: the same key sent to
	// another conversation is still the first message.
	elsewhere := f.msg("g:9", 1, "dup")
	r = f.appendOne(t, elsewhere)
	if !r.Duplicate {
		t.Errorf("repeated key in another conversation: Duplicate = false")
	}
	wantMessage(t, "repeated key in another conversation", r.Message, stored)
	if h := f.heads(t, "g:9"); h[0] != 0 {
		t.Errorf("head of g:9 after a duplicate = %d, want 0", h[0])
	}

	// The same client id from another sender is a different key.
	other := f.msg("u:1:2", 2, "dup")
	if r := f.appendOne(t, other); r.Duplicate || r.Message.Seq != 2 {
		t.Errorf("same client id, other sender: Duplicate %v seq %d, want false 2", r.Duplicate, r.Message.Seq)
	}
	// Duplicates consumed no seq.
	next := f.msg("u:1:2", 1, "next")
	if r := f.appendOne(t, next); r.Message.Seq != 3 {
		t.Errorf("append after duplicates: seq %d, want 3", r.Message.Seq)
	}
	msgs := f.all(t, "u:1:2")
	if got := seqsOf(msgs); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("stored seqs = %v, want [1 2 3]", got)
	}
	wantMessage(t, "stored first", msgs[0], stored)
}

func testAppendDuplicateInBatch(t *testing.T, f *docFixture) {
	before := f.appendOne(t, f.msg("a", 1, "old")).Message
	batch := []store.Message{
		f.msg("a", 1, "k1"),  // new: a/2
		f.msg("b", 1, "k2"),  // new: b/1
		f.msg("a", 1, "k1"),  // duplicate of [0]
		f.msg("a", 1, "old"), // duplicate of before
		f.msg("b", 2, "k1"),  // other sender: new, b/2
		f.msg("c", 1, "k2"),  // duplicate of [1], c gets nothing
		f.msg("a", 1, "k3"),  // new: a/3
	}
	res := f.append(t, batch...)
	want := []store.AppendResult{
		{Message: withSeq(batch[0], 2)},
		{Message: withSeq(batch[1], 1)},
		{Message: withSeq(batch[0], 2), Duplicate: true},
		{Message: before, Duplicate: true},
		{Message: withSeq(batch[4], 2)},
		{Message: withSeq(batch[1], 1), Duplicate: true},
		{Message: withSeq(batch[6], 3)},
	}
	for i, w := range want {
		if res[i].Duplicate != w.Duplicate {
			t.Errorf("result %d: Duplicate = %v, want %v", i, res[i].Duplicate, w.Duplicate)
		}
		wantMessage(t, fmt.Sprintf("result %d", i), res[i].Message, w.Message)
	}
	if got := f.heads(t, "a", "b", "c"); !slices.Equal(got, []int64{3, 2, 0}) {
		t.Errorf("heads = %v, want [3 2 0]", got)
	}
	if got := seqsOf(f.all(t, "a")); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Errorf("stored seqs of a = %v, want [1 2 3]", got)
	}

	// A batch of nothing but duplicates stores nothing and consumes no seq.
	res = f.append(t, f.msg("a", 1, "k3"), f.msg("a", 1, "k1"))
	if !res[0].Duplicate || !res[1].Duplicate || res[0].Message.Seq != 3 || res[1].Message.Seq != 2 {
		t.Errorf("all-duplicate batch: got %+v", res)
	}
	if r := f.appendOne(t, f.msg("a", 1, "k4")); r.Message.Seq != 4 {
		t.Errorf("append after all-duplicate batch: seq %d, want 4", r.Message.Seq)
	}
}

func testAppendSystemMessages(t *testing.T, f *docFixture) {
	conv := "sys:77"
	m1 := f.msg(conv, 0, "notice-1")
	m1.Kind = "notice"
	m2 := f.msg(conv, 0, "notice-2")
	m2.Kind = "notice"
	res := f.append(t, m1, m2)
	wantMessage(t, "system message 1", res[0].Message, withSeq(m1, 1))
	wantMessage(t, "system message 2", res[1].Message, withSeq(m2, 2))
	if res[0].Duplicate || res[1].Duplicate {
		t.Errorf("system messages with distinct client ids reported as duplicates")
	}
	again := f.msg(conv, 0, "notice-1")
	r := f.appendOne(t, again)
	if !r.Duplicate {
		t.Errorf("repeated system notice: Duplicate = false")
	}
	wantMessage(t, "repeated system notice", r.Message, withSeq(m1, 1))
	got, err := f.s.GetMessageByClientID(f.ctx, 0, "notice-2")
	if err != nil {
		t.Fatalf("GetMessageByClientID(0, notice-2): %v", err)
	}
	wantMessage(t, "GetMessageByClientID(0, notice-2)", got, withSeq(m2, 2))
}

func testAppendExactKeys(t *testing.T, f *docFixture) {
	convs := []string{"c", "C", "c ", "é", "e"}
	for _, c := range convs {
		f.appendOne(t, f.msg(c, 1, "x-"+c))
	}
	if got := f.heads(t, convs...); !slices.Equal(got, []int64{1, 1, 1, 1, 1}) {
		t.Errorf("heads of %q = %v, want all 1", convs, got)
	}
	for _, c := range convs {
		msgs := f.all(t, c)
		if len(msgs) != 1 || msgs[0].Conversation != c {
			t.Errorf("messages of %q: %d, conversation %q", c, len(msgs), func() string {
				if len(msgs) > 0 {
					return msgs[0].Conversation
				}
				return ""
			}())
		}
	}
	for _, client := range []string{"k", "K", "k "} {
		if r := f.appendOne(t, f.msg("keys", 5, client)); r.Duplicate {
			t.Errorf("client id %q reported as duplicate of another spelling", client)
		}
	}
	if got := f.heads(t, "keys"); got[0] != 3 {
		t.Errorf("head of keys = %d, want 3", got[0])
	}
}

func testAppendContentBytes(t *testing.T, f *docFixture) {
	big := make([]byte, 256<<10)
	for i := range big {
		big[i] = byte(i*7 + i>>8)
	}
	contents := map[string][]byte{
		"empty":    {},
		"nonutf8":  {0xff, 0xfe, 0x00, 0x80, 'a', 0xc3, 0x28, 0x00},
		"zeros":    make([]byte, 17),
		"utf8":     []byte(`{"text":"héllo 世界 🙂"}`),
		"256KiB":   big,
		"trailing": []byte("spaces   "),
	}
	var batch []store.Message
	for name, c := range contents {
		m := f.msg("bytes", 3, name)
		m.Content = c
		batch = append(batch, m)
	}
	res := f.append(t, batch...)
	for i, r := range res {
		if !bytes.Equal(r.Message.Content, batch[i].Content) {
			t.Errorf("append result %q: content differs", batch[i].ClientMsgID)
		}
	}
	for name, c := range contents {
		got, err := f.s.GetMessageByClientID(f.ctx, 3, name)
		if err != nil {
			t.Fatalf("GetMessageByClientID(%q): %v", name, err)
		}
		if !bytes.Equal(got.Content, c) {
			t.Errorf("content %q: got %d bytes, want %d, equal %v", name, len(got.Content), len(c), bytes.Equal(got.Content, c))
		}
	}

	// A batch whose contents add up past common packet limits (64 x 256 KiB = 16 MiB).
	batch = batch[:0]
	for i := range 64 {
		m := f.msg("big", 3, fmt.Sprintf("big-%d", i))
		m.Content = slices.Clone(big)
		m.Content[0] = byte(i)
		batch = append(batch, m)
	}
	f.append(t, batch...)
	msgs := f.all(t, "big")
	if len(msgs) != 64 {
		t.Fatalf("big batch: %d stored, want 64", len(msgs))
	}
	for i, m := range msgs {
		if m.Seq != int64(i+1) || !bytes.Equal(m.Content, batch[i].Content) {
			t.Errorf("big batch message %d: seq %d, content equal %v", i, m.Seq, bytes.Equal(m.Content, batch[i].Content))
		}
	}
}

func testAppendLargeBatch(t *testing.T, f *docFixture) {
	var batch []store.Message
	for i := range 1000 {
		batch = append(batch, f.msg(fmt.Sprintf("conv-%d", i%7), int64(i%13), fmt.Sprintf("m-%d", i)))
	}
	res := f.append(t, batch...)
	next := map[string]int64{}
	for i, r := range res {
		next[batch[i].Conversation]++
		if r.Duplicate || r.Message.Seq != next[batch[i].Conversation] || r.Message.ID != batch[i].ID {
			t.Fatalf("result %d: duplicate %v seq %d id %d, want false %d %d", i, r.Duplicate, r.Message.Seq, r.Message.ID,
				next[batch[i].Conversation], batch[i].ID)
		}
	}
	for c, n := range next {
		if got := seqsOf(f.all(t, c)); !slices.Equal(got, seqRange(1, n)) {
			t.Errorf("stored seqs of %s: %d of them, want 1..%d", c, len(got), n)
		}
	}
}

func testGetMessagesRange(t *testing.T, f *docFixture) {
	var batch []store.Message
	for i := range 10 {
		batch = append(batch, f.msg("r", 1, fmt.Sprintf("r%d", i)))
	}
	f.append(t, batch...)
	f.appendOne(t, f.msg("other", 1, "o"))
	cases := []struct {
		name string
		r    store.MessageRange
		want []int64
		more bool
	}{
		{"first page", store.MessageRange{AfterSeq: 0, Limit: 3}, []int64{1, 2, 3}, true},
		{"middle page", store.MessageRange{AfterSeq: 3, Limit: 3}, []int64{4, 5, 6}, true},
		{"last page exactly full", store.MessageRange{AfterSeq: 7, Limit: 3}, []int64{8, 9, 10}, false},
		{"last page short", store.MessageRange{AfterSeq: 8, Limit: 3}, []int64{9, 10}, false},
		{"past the end", store.MessageRange{AfterSeq: 10, Limit: 3}, []int64{}, false},
		{"before bound", store.MessageRange{AfterSeq: 7, BeforeSeq: 10, Limit: 5}, []int64{8, 9}, false},
		{"before bound full", store.MessageRange{AfterSeq: 2, BeforeSeq: 6, Limit: 2}, []int64{3, 4}, true},
		{"before bound exactly full", store.MessageRange{AfterSeq: 2, BeforeSeq: 5, Limit: 2}, []int64{3, 4}, false},
		{"empty window", store.MessageRange{AfterSeq: 4, BeforeSeq: 5, Limit: 2}, []int64{}, false},
		{"newest first", store.MessageRange{Limit: 3, NewestFirst: true}, []int64{8, 9, 10}, true},
		{"newest first before", store.MessageRange{BeforeSeq: 5, Limit: 2, NewestFirst: true}, []int64{3, 4}, true},
		{"newest first reaches start", store.MessageRange{BeforeSeq: 3, Limit: 2, NewestFirst: true}, []int64{1, 2}, false},
		{"newest first window", store.MessageRange{AfterSeq: 8, Limit: 5, NewestFirst: true}, []int64{9, 10}, false},
		{"newest first inside window", store.MessageRange{AfterSeq: 2, BeforeSeq: 9, Limit: 3, NewestFirst: true}, []int64{6, 7, 8}, true},
		{"all", store.MessageRange{Limit: 1000}, seqRange(1, 10), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.r.Conversation = "r"
			msgs, more, err := f.s.GetMessages(f.ctx, tc.r)
			if err != nil {
				t.Fatalf("GetMessages(%+v): %v", tc.r, err)
			}
			if got := seqsOf(msgs); !slices.Equal(got, tc.want) || more != tc.more {
				t.Fatalf("GetMessages(%+v) = %v more %v, want %v more %v", tc.r, got, more, tc.want, tc.more)
			}
			for _, m := range msgs {
				wantMessage(t, fmt.Sprintf("seq %d", m.Seq), m, withSeq(batch[m.Seq-1], m.Seq))
			}
		})
	}
	msgs, more, err := f.s.GetMessages(f.ctx, store.MessageRange{Conversation: "nobody", Limit: 10})
	if err != nil || len(msgs) != 0 || more {
		t.Errorf("GetMessages of an unknown conversation = %d messages, more %v, err %v; want none", len(msgs), more, err)
	}
}

// pageByTime reads all pages of [from, to) with limit and returns the seqs.
func (f *docFixture) pageByTime(t *testing.T, conv string, from, to time.Time, limit int) (seqs []int64, pages [][]int64) {
	t.Helper()
	after := ""
	for range 100 {
		msgs, next, err := f.s.GetMessagesByTime(f.ctx, conv, from, to, store.Page{Limit: limit, After: after})
		if err != nil {
			t.Fatalf("GetMessagesByTime(%s, after %q): %v", conv, after, err)
		}
		if len(msgs) > limit {
			t.Fatalf("GetMessagesByTime: %d messages, limit %d", len(msgs), limit)
		}
		if next != "" && len(msgs) == 0 {
			t.Fatalf("GetMessagesByTime: empty page with a next token")
		}
		for _, m := range msgs {
			if m.CreatedAt.Before(from) || !m.CreatedAt.Before(to) {
				t.Errorf("GetMessagesByTime: seq %d at %s outside [%s, %s)", m.Seq, m.CreatedAt, from, to)
			}
		}
		seqs = append(seqs, seqsOf(msgs)...)
		pages = append(pages, seqsOf(msgs))
		if next == "" {
			return seqs, pages
		}
		after = next
	}
	t.Fatalf("GetMessagesByTime: more than 100 pages")
	return nil, nil
}

func testGetMessagesByTime(t *testing.T, f *docFixture) {
	// Times as the caller set them, not in seq order, with ties.
	times := []int{0, 1000, 1000, 3000, 1000, 2000, 5000, 1000, 4000, 999}
	var batch []store.Message
	for i, ms := range times {
		m := f.msg("t", 1, fmt.Sprintf("t%d", i))
		m.CreatedAt = at(ms)
		batch = append(batch, m)
	}
	f.append(t, batch...)
	noise := f.msg("t2", 1, "noise")
	noise.CreatedAt = at(1000)
	f.appendOne(t, noise)

	// Ordered by (created_at, seq): 0ms:1, 999ms:10, 1000ms:2,3,5,8, 2000ms:6, 3000ms:4, 4000ms:9, 5000ms:7.
	cases := []struct {
		name     string
		from, to time.Time
		limit    int
		want     []int64
		pages    int
	}{
		{"everything in one page", at(0), at(6000), 100, []int64{1, 10, 2, 3, 5, 8, 6, 4, 9, 7}, 1},
		{"everything by 3", at(0), at(6000), 3, []int64{1, 10, 2, 3, 5, 8, 6, 4, 9, 7}, 4},
		{"ties split across pages", at(1000), at(2001), 2, []int64{2, 3, 5, 8, 6}, 3},
		{"ties by 1", at(1000), at(1001), 1, []int64{2, 3, 5, 8}, 4},
		{"to is exclusive", at(999), at(1000), 10, []int64{10}, 1},
		{"from is inclusive", at(3000), at(4000), 10, []int64{4}, 1},
		{"exactly full last page", at(2000), at(6000), 2, []int64{6, 4, 9, 7}, 2},
		{"nothing", at(6000), at(9000), 10, []int64{}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seqs, pages := f.pageByTime(t, "t", tc.from, tc.to, tc.limit)
			if !slices.Equal(orNone(seqs), tc.want) {
				t.Errorf("seqs = %v, want %v (pages %v)", seqs, tc.want, pages)
			}
			if len(pages) != tc.pages {
				t.Errorf("%d pages %v, want %d (next must be empty exactly when nothing follows)", len(pages), pages, tc.pages)
			}
		})
	}
	msgs, _, err := f.s.GetMessagesByTime(f.ctx, "t", at(4000), at(4001), store.Page{Limit: 5})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("GetMessagesByTime one message: %d, %v", len(msgs), err)
	}
	wantMessage(t, "GetMessagesByTime", msgs[0], withSeq(batch[8], 9))
}

func orNone(s []int64) []int64 {
	if s == nil {
		return []int64{}
	}
	return s
}

func testGetMessagesByTimeBadToken(t *testing.T, f *docFixture) {
	f.appendOne(t, f.msg("t", 1, "a"))
	for _, tok := range []string{"not a token!", "%%%", "-1"} {
		_, _, err := f.s.GetMessagesByTime(f.ctx, "t", at(0), at(1000), store.Page{Limit: 10, After: tok})
		if !errors.Is(err, store.ErrBadPageToken) {
			t.Errorf("GetMessagesByTime(after %q): err %v, want ErrBadPageToken", tok, err)
		}
	}
}

func testGetMessageByClientIDNotFound(t *testing.T, f *docFixture) {
	f.appendOne(t, f.msg("u:1:2", 1, "there"))
	for _, k := range []struct {
		sender int64
		client string
	}{{1, "missing"}, {2, "there"}, {0, "there"}} {
		_, err := f.s.GetMessageByClientID(f.ctx, k.sender, k.client)
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetMessageByClientID(%d, %q): err %v, want ErrNotFound", k.sender, k.client, err)
		}
	}
}

func testConversationHeads(t *testing.T, f *docFixture) {
	f.append(t, f.msg("x", 1, "1"), f.msg("y", 1, "2"), f.msg("x", 1, "3"), f.msg("z", 1, "4"), f.msg("x", 1, "5"))
	got := f.heads(t, "z", "unknown", "x", "y", "x")
	if want := []int64{1, 0, 3, 1, 3}; !slices.Equal(got, want) {
		t.Errorf("heads = %v, want %v", got, want)
	}
	if got := f.heads(t, "nobody"); !slices.Equal(got, []int64{0}) {
		t.Errorf("heads of an unknown conversation = %v, want [0]", got)
	}
}

// parallel runs fn(i) for i in [0, n) on n goroutines released together and
// returns the first error.
func parallel(n int, fn func(i int) error) error {
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errors.Join(errs...)
}

func testConcurrentDuplicateAppend(t *testing.T, f *docFixture) {
	const n = 16
	results := make([]store.AppendResult, n)
	err := parallel(n, func(i int) error {
		m := f.msg("race", 9, "same")
		m.Content = fmt.Appendf(nil, "attempt %d", i)
		res, err := f.s.AppendMessages(f.ctx, []store.Message{m})
		if err != nil {
			return err
		}
		results[i] = res[0]
		return nil
	})
	if err != nil {
		t.Fatalf("concurrent appends: %v", err)
	}
	msgs := f.all(t, "race")
	if len(msgs) != 1 {
		t.Fatalf("%d messages stored, want 1", len(msgs))
	}
	fresh := 0
	for i, r := range results {
		if !r.Duplicate {
			fresh++
		}
		wantMessage(t, fmt.Sprintf("result %d", i), r.Message, msgs[0])
	}
	if fresh != 1 {
		t.Errorf("%d results with Duplicate false, want 1", fresh)
	}
	if r := f.appendOne(t, f.msg("race", 9, "after")); r.Message.Seq != 2 {
		t.Errorf("append after the race: seq %d, want 2", r.Message.Seq)
	}
}

func testConcurrentAppendOneConversation(t *testing.T, f *docFixture) {
	const workers, each = 8, 50
	err := parallel(workers, func(w int) error {
		for i := range each {
			m := f.msg("busy", int64(w), fmt.Sprintf("w%d-%d", w, i))
			if _, err := f.s.AppendMessages(f.ctx, []store.Message{m}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("concurrent appends: %v", err)
	}
	msgs := f.all(t, "busy")
	if got := seqsOf(msgs); !slices.Equal(got, seqRange(1, workers*each)) {
		t.Fatalf("stored seqs: %d of them, want exactly 1..%d without gaps or repeats", len(got), workers*each)
	}
	// Each worker's messages keep its order.
	last := map[int64]int64{}
	for _, m := range msgs {
		var w, i int64
		fmt.Sscanf(m.ClientMsgID, "w%d-%d", &w, &i)
		if i < last[m.SenderID] {
			t.Errorf("worker %d: message %d stored after a later one", w, i)
		}
		last[m.SenderID] = i
	}
	if h := f.heads(t, "busy"); h[0] != workers*each {
		t.Errorf("head = %d, want %d", h[0], workers*each)
	}
}

func testConcurrentBatchesManyConversations(t *testing.T, f *docFixture) {
	const workers, rounds, size = 8, 10, 10
	convs := []string{"m1", "m2", "m3", "m4", "m5"}
	err := parallel(workers, func(w int) error {
		for r := range rounds {
			var batch []store.Message
			for i := range size {
				// Each worker walks the conversations in its own order.
				c := convs[(w*3+i*(w%4+1)+r)%len(convs)]
				batch = append(batch, f.msg(c, int64(w), fmt.Sprintf("w%d-r%d-%d", w, r, i)))
			}
			// Every third batch repeats one earlier key of its own.
			if r%3 == 2 {
				batch = append(batch, f.msg(convs[w%len(convs)], int64(w), fmt.Sprintf("w%d-r%d-0", w, r-1)))
			}
			res, err := f.s.AppendMessages(f.ctx, batch)
			if err != nil {
				return err
			}
			for i, x := range res {
				if x.Duplicate != (i == size) {
					return fmt.Errorf("worker %d round %d result %d: Duplicate %v", w, r, i, x.Duplicate)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("concurrent batches: %v", err)
	}
	total := 0
	heads := f.heads(t, convs...)
	for i, c := range convs {
		got := seqsOf(f.all(t, c))
		total += len(got)
		if !slices.Equal(got, seqRange(1, int64(len(got)))) || heads[i] != int64(len(got)) {
			t.Errorf("conversation %s: seqs not 1..n (%d stored, head %d)", c, len(got), heads[i])
		}
	}
	if total != workers*rounds*size {
		t.Errorf("%d messages stored, want %d", total, workers*rounds*size)
	}
}

func (f *docFixture) advance(t *testing.T, cs ...store.Cursor) []store.Cursor {
	t.Helper()
	got, err := f.s.AdvanceCursors(f.ctx, cs)
	if err != nil {
		t.Fatalf("AdvanceCursors: %v", err)
	}
	if len(got) != len(cs) {
		t.Fatalf("AdvanceCursors(%d) returned %d", len(cs), len(got))
	}
	return got
}

func (f *docFixture) advanceNoResult(t *testing.T, cs ...store.Cursor) {
	t.Helper()
	if err := f.s.AdvanceCursorsNoResult(f.ctx, cs); err != nil {
		t.Fatalf("AdvanceCursorsNoResult: %v", err)
	}
}

// listCursors returns the states of a user's cursors on every device, sorted.
func (f *docFixture) listCursors(t *testing.T, user int64) []cursorState {
	t.Helper()
	cs, err := f.s.ListCursors(f.ctx, store.CursorFilter{UserID: user, AllDevices: true})
	if err != nil {
		t.Fatalf("ListCursors of user %d: %v", user, err)
	}
	for _, c := range cs {
		if c.UpdatedAt.IsZero() {
			t.Errorf("cursor %+v: UpdatedAt is zero", stateOf(c))
		}
	}
	return statesOf(cs)
}

type cursorState struct {
	User            int64
	Device, Conv    string
	Delivered, Ackd int64
}

func stateOf(c store.Cursor) cursorState {
	return cursorState{c.UserID, c.DeviceID, c.Conversation, c.DeliveredSeq, c.AckedSeq}
}

func statesOf(cs []store.Cursor) []cursorState {
	out := make([]cursorState, len(cs))
	for i, c := range cs {
		out[i] = stateOf(c)
	}
	slices.SortFunc(out, func(a, b cursorState) int {
		if c := strings.Compare(a.Device, b.Device); c != 0 {
			return c
		}
		return strings.Compare(a.Conv, b.Conv)
	})
	return out
}

func testCursorsAdvanceMonotonic(t *testing.T, f *docFixture) {
	c := store.Cursor{UserID: 5, Conversation: "u:5:6"}
	steps := []struct{ delivered, acked, wantD, wantA int64 }{
		{5, 3, 5, 3},
		{4, 2, 5, 3}, // late: nothing moves back
		{7, 2, 7, 3}, // each field on its own
		{6, 6, 7, 6},
		{0, 0, 7, 6},
		{7, 6, 7, 6}, // repeated
	}
	for i, s := range steps {
		c.DeliveredSeq, c.AckedSeq = s.delivered, s.acked
		got := f.advance(t, c)[0]
		want := cursorState{5, "", "u:5:6", s.wantD, s.wantA}
		if stateOf(got) != want {
			t.Errorf("step %d: got %+v, want %+v", i, stateOf(got), want)
		}
		if got.UpdatedAt.IsZero() {
			t.Errorf("step %d: UpdatedAt is zero", i)
		}
	}
	list, err := f.s.ListCursors(f.ctx, store.CursorFilter{UserID: 5})
	if err != nil {
		t.Fatalf("ListCursors: %v", err)
	}
	if len(list) != 1 || stateOf(list[0]) != (cursorState{5, "", "u:5:6", 7, 6}) {
		t.Errorf("ListCursors = %+v", statesOf(list))
	}
}

func testCursorsPerDeviceAndList(t *testing.T, f *docFixture) {
	f.advance(t,
		store.Cursor{UserID: 1, DeviceID: "", Conversation: "a", DeliveredSeq: 1, AckedSeq: 1},
		store.Cursor{UserID: 1, DeviceID: "", Conversation: "b", DeliveredSeq: 2, AckedSeq: 1},
		store.Cursor{UserID: 1, DeviceID: "phone", Conversation: "a", DeliveredSeq: 9, AckedSeq: 8},
		store.Cursor{UserID: 1, DeviceID: "Phone", Conversation: "a", DeliveredSeq: 4, AckedSeq: 4},
		store.Cursor{UserID: 1, DeviceID: "phone", Conversation: "c", DeliveredSeq: 3, AckedSeq: 0},
		store.Cursor{UserID: 2, DeviceID: "", Conversation: "a", DeliveredSeq: 7, AckedSeq: 7},
	)
	// The default device's cursor did not move with the phone's.
	cases := []struct {
		name string
		f    store.CursorFilter
		want []cursorState
	}{
		{"default device", store.CursorFilter{UserID: 1}, []cursorState{
			{1, "", "a", 1, 1}, {1, "", "b", 2, 1}}},
		{"one device", store.CursorFilter{UserID: 1, DeviceID: "phone"}, []cursorState{
			{1, "phone", "a", 9, 8}, {1, "phone", "c", 3, 0}}},
		{"all devices", store.CursorFilter{UserID: 1, AllDevices: true}, []cursorState{
			{1, "", "a", 1, 1}, {1, "", "b", 2, 1}, {1, "Phone", "a", 4, 4}, {1, "phone", "a", 9, 8}, {1, "phone", "c", 3, 0}}},
		{"all devices, filtered", store.CursorFilter{UserID: 1, AllDevices: true, Conversations: []string{"a", "zzz"}}, []cursorState{
			{1, "", "a", 1, 1}, {1, "Phone", "a", 4, 4}, {1, "phone", "a", 9, 8}}},
		{"device, filtered", store.CursorFilter{UserID: 1, DeviceID: "phone", Conversations: []string{"c"}}, []cursorState{
			{1, "phone", "c", 3, 0}}},
		{"other user", store.CursorFilter{UserID: 2, AllDevices: true}, []cursorState{{2, "", "a", 7, 7}}},
		{"nobody", store.CursorFilter{UserID: 3, AllDevices: true}, []cursorState{}},
		{"unknown device", store.CursorFilter{UserID: 1, DeviceID: "tablet"}, []cursorState{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.s.ListCursors(f.ctx, tc.f)
			if err != nil {
				t.Fatalf("ListCursors(%+v): %v", tc.f, err)
			}
			if !slices.Equal(statesOf(got), tc.want) {
				t.Errorf("ListCursors(%+v) =\n %+v\nwant\n %+v", tc.f, statesOf(got), tc.want)
			}
		})
	}
}

func testCursorsBatchInputOrder(t *testing.T, f *docFixture) {
	f.advance(t, store.Cursor{UserID: 1, DeviceID: "d", Conversation: "m", DeliveredSeq: 10, AckedSeq: 10})
	in := []store.Cursor{
		{UserID: 1, DeviceID: "d", Conversation: "z", DeliveredSeq: 1},
		{UserID: 1, DeviceID: "d", Conversation: "m", DeliveredSeq: 5, AckedSeq: 12},
		{UserID: 1, DeviceID: "a", Conversation: "m", DeliveredSeq: 2, AckedSeq: 2},
		{UserID: 1, DeviceID: "d", Conversation: "b", DeliveredSeq: 3, AckedSeq: 1},
		{UserID: 1, DeviceID: "d", Conversation: "z", DeliveredSeq: 4}, // same cursor twice in one batch
	}
	got := f.advance(t, in...)
	want := []cursorState{
		{1, "d", "z", 4, 0},
		{1, "d", "m", 10, 12},
		{1, "a", "m", 2, 2},
		{1, "d", "b", 3, 1},
		{1, "d", "z", 4, 0},
	}
	for i := range want {
		if stateOf(got[i]) != want[i] {
			t.Errorf("result %d = %+v, want %+v", i, stateOf(got[i]), want[i])
		}
	}
}

// testCursorsNoResultMonotonic: AdvanceCursorsNoResult makes the same writes
// as AdvanceCursors (a missing cursor is created, nothing moves back, each
// seq on its own), and the two mix on one cursor.
func testCursorsNoResultMonotonic(t *testing.T, f *docFixture) {
	c := store.Cursor{UserID: 5, DeviceID: "d", Conversation: "u:5:6"}
	steps := []struct {
		delivered, acked, wantD, wantA int64
		withResult                     bool
	}{
		{5, 3, 5, 3, false}, // creates the cursor
		{4, 2, 5, 3, false}, // late: nothing moves back
		{7, 2, 7, 3, false},
		{6, 6, 7, 6, false},
		{0, 0, 7, 6, false},
		{7, 6, 7, 6, false}, // repeated
		{9, 1, 9, 6, true},  // AdvanceCursors sees what NoResult stored
		{8, 8, 9, 8, false}, // and NoResult builds on what it stored
	}
	for i, s := range steps {
		c.DeliveredSeq, c.AckedSeq = s.delivered, s.acked
		want := cursorState{5, "d", "u:5:6", s.wantD, s.wantA}
		if s.withResult {
			if got := f.advance(t, c)[0]; stateOf(got) != want {
				t.Errorf("step %d: AdvanceCursors returned %+v, want %+v", i, stateOf(got), want)
			}
		} else {
			f.advanceNoResult(t, c)
		}
		if got := f.listCursors(t, 5); !slices.Equal(got, []cursorState{want}) {
			t.Errorf("step %d: stored %+v, want %+v", i, got, want)
		}
	}
}

// testCursorsNoResultBatch: a batch creates and raises cursors alike, a
// cursor named twice ends at the larger seqs, and an empty batch is a no-op.
func testCursorsNoResultBatch(t *testing.T, f *docFixture) {
	f.advance(t, store.Cursor{UserID: 1, DeviceID: "d", Conversation: "m", DeliveredSeq: 10, AckedSeq: 10})
	f.advanceNoResult(t,
		store.Cursor{UserID: 1, DeviceID: "d", Conversation: "z", DeliveredSeq: 1},
		store.Cursor{UserID: 1, DeviceID: "d", Conversation: "m", DeliveredSeq: 5, AckedSeq: 12},
		store.Cursor{UserID: 1, DeviceID: "a", Conversation: "m", DeliveredSeq: 2, AckedSeq: 2},
		store.Cursor{UserID: 1, DeviceID: "D", Conversation: "m", DeliveredSeq: 6, AckedSeq: 6},
		store.Cursor{UserID: 1, DeviceID: "d", Conversation: "b", DeliveredSeq: 3, AckedSeq: 1},
		store.Cursor{UserID: 1, DeviceID: "d", Conversation: "z", DeliveredSeq: 4}, // same cursor twice in one batch
		store.Cursor{UserID: 1, DeviceID: "d", Conversation: "z", DeliveredSeq: 2, AckedSeq: 1},
		store.Cursor{UserID: 2, DeviceID: "d", Conversation: "m", DeliveredSeq: 7, AckedSeq: 7},
	)
	want1 := []cursorState{
		{1, "D", "m", 6, 6},
		{1, "a", "m", 2, 2},
		{1, "d", "b", 3, 1},
		{1, "d", "m", 10, 12},
		{1, "d", "z", 4, 1},
	}
	want2 := []cursorState{{2, "d", "m", 7, 7}}
	if got := f.listCursors(t, 1); !slices.Equal(got, want1) {
		t.Errorf("user 1 cursors =\n %+v\nwant\n %+v", got, want1)
	}
	if got := f.listCursors(t, 2); !slices.Equal(got, want2) {
		t.Errorf("user 2 cursors = %+v, want %+v", got, want2)
	}
	if err := f.s.AdvanceCursorsNoResult(f.ctx, nil); err != nil {
		t.Errorf("AdvanceCursorsNoResult(nil): %v", err)
	}
	if got := f.listCursors(t, 1); !slices.Equal(got, want1) {
		t.Errorf("after an empty batch, user 1 cursors = %+v", got)
	}
}

// testCursorsCanceled: both ways of advancing fail, not succeed silently, on
// a canceled context, and store nothing.
func testCursorsCanceled(t *testing.T, f *docFixture) {
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	c := store.Cursor{UserID: 9, DeviceID: "d", Conversation: "u:9:10", DeliveredSeq: 3, AckedSeq: 2}
	if got, err := f.s.AdvanceCursors(ctx, []store.Cursor{c}); err == nil {
		t.Errorf("AdvanceCursors on a canceled context = %+v, nil error", got)
	}
	if err := f.s.AdvanceCursorsNoResult(ctx, []store.Cursor{c}); err == nil {
		t.Error("AdvanceCursorsNoResult on a canceled context: nil error")
	}
	if got := f.listCursors(t, 9); len(got) != 0 {
		t.Errorf("canceled advances stored %+v", got)
	}
}

func testConcurrentCursorAdvance(t *testing.T, f *docFixture) {
	const workers, each = 8, 40
	key := store.Cursor{UserID: 77, DeviceID: "dev", Conversation: "u:77:78"}
	var done atomic.Bool
	watchErr := make(chan error, 1)
	go func() {
		// Watch the cursor while it moves: it must never go back.
		var last cursorState
		for !done.Load() {
			cs, err := f.s.ListCursors(f.ctx, store.CursorFilter{UserID: 77, DeviceID: "dev"})
			if err != nil {
				watchErr <- err
				return
			}
			if len(cs) == 1 {
				s := stateOf(cs[0])
				if s.Delivered < last.Delivered || s.Ackd < last.Ackd {
					watchErr <- fmt.Errorf("cursor moved back: %+v after %+v", s, last)
					return
				}
				last = s
			}
		}
		watchErr <- nil
	}()
	err := parallel(workers, func(w int) error {
		for i := range each {
			// Values go up and down: each worker's sequence has its own rhythm.
			c := key
			c.DeliveredSeq = int64((i*(w+3))%each + i)
			c.AckedSeq = int64((i*(w+5))%each + i/2)
			if w%2 == 1 {
				// Half the workers take the path without read-back.
				if err := f.s.AdvanceCursorsNoResult(f.ctx, []store.Cursor{c}); err != nil {
					return err
				}
				continue
			}
			got, err := f.s.AdvanceCursors(f.ctx, []store.Cursor{c})
			if err != nil {
				return err
			}
			if got[0].DeliveredSeq < c.DeliveredSeq || got[0].AckedSeq < c.AckedSeq {
				return fmt.Errorf("advance to %d/%d returned %d/%d", c.DeliveredSeq, c.AckedSeq, got[0].DeliveredSeq, got[0].AckedSeq)
			}
		}
		return nil
	})
	done.Store(true)
	if werr := <-watchErr; werr != nil {
		t.Errorf("watcher: %v", werr)
	}
	if err != nil {
		t.Fatalf("concurrent advances: %v", err)
	}
	var maxD, maxA int64
	for w := range workers {
		for i := range each {
			maxD = max(maxD, int64((i*(w+3))%each+i))
			maxA = max(maxA, int64((i*(w+5))%each+i/2))
		}
	}
	cs, err := f.s.ListCursors(f.ctx, store.CursorFilter{UserID: 77, DeviceID: "dev"})
	if err != nil || len(cs) != 1 {
		t.Fatalf("ListCursors: %d, %v", len(cs), err)
	}
	if cs[0].DeliveredSeq != maxD || cs[0].AckedSeq != maxA {
		t.Errorf("final cursor %d/%d, want the maxima %d/%d", cs[0].DeliveredSeq, cs[0].AckedSeq, maxD, maxA)
	}
}

func (f *docFixture) article(sub int64, title string, state store.ArticleState) store.Article {
	created := at(int(f.nextID.Load()) * 1000)
	return store.Article{
		ID:             f.id(),
		SubscriptionID: sub,
		AuthorID:       500 + sub,
		Title:          title,
		Body:           "body of " + title + " — ünïcödé",
		CoverURL:       "https://img.example/" + title + ".png",
		State:          state,
		CreatedAt:      created,
		UpdatedAt:      created,
	}
}

func (f *docFixture) create(t *testing.T, a store.Article) store.Article {
	t.Helper()
	got, err := f.s.CreateArticle(f.ctx, a)
	if err != nil {
		t.Fatalf("CreateArticle(%d): %v", a.ID, err)
	}
	return got
}

func sameArticle(a, b store.Article) bool {
	return a.ID == b.ID && a.SubscriptionID == b.SubscriptionID && a.AuthorID == b.AuthorID && a.Title == b.Title &&
		a.Body == b.Body && a.CoverURL == b.CoverURL && a.State == b.State && a.RejectReason == b.RejectReason &&
		a.ReviewerID == b.ReviewerID && a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt) &&
		a.PublishedAt.Equal(b.PublishedAt) && a.Pushed == b.Pushed
}

func wantArticle(t *testing.T, what string, got, want store.Article) {
	t.Helper()
	if !sameArticle(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func testArticleCreateGet(t *testing.T, f *docFixture) {
	a := f.article(1, "hello", store.ArticleDraft)
	a.Body = strings.Repeat("b", 1<<20)
	wantArticle(t, "CreateArticle", f.create(t, a), a)
	got, err := f.s.GetArticle(f.ctx, a.ID)
	if err != nil {
		t.Fatalf("GetArticle: %v", err)
	}
	wantArticle(t, "GetArticle", got, a)
	if !got.PublishedAt.IsZero() {
		t.Errorf("PublishedAt = %v, want zero", got.PublishedAt)
	}

	p := f.article(1, "published", store.ArticlePublished)
	p.PublishedAt = at(99_000)
	p.ReviewerID = 8
	p.RejectReason = "was rejected once"
	f.create(t, p)
	got, err = f.s.GetArticle(f.ctx, p.ID)
	if err != nil {
		t.Fatalf("GetArticle: %v", err)
	}
	wantArticle(t, "GetArticle published", got, p)
}

func testArticleCreateExists(t *testing.T, f *docFixture) {
	a := f.create(t, f.article(1, "one", store.ArticleDraft))
	b := f.article(2, "two", store.ArticleDraft)
	b.ID = a.ID
	_, err := f.s.CreateArticle(f.ctx, b)
	if !errors.Is(err, store.ErrExists) {
		t.Fatalf("CreateArticle with a used id: err %v, want ErrExists", err)
	}
	got, err := f.s.GetArticle(f.ctx, a.ID)
	if err != nil {
		t.Fatalf("GetArticle: %v", err)
	}
	wantArticle(t, "after the failed create", got, a)
}

func testArticleGetNotFound(t *testing.T, f *docFixture) {
	f.create(t, f.article(1, "one", store.ArticleDraft))
	if _, err := f.s.GetArticle(f.ctx, 424242); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetArticle(unknown): err %v, want ErrNotFound", err)
	}
}

func testArticleUpdate(t *testing.T, f *docFixture) {
	a := f.create(t, f.article(3, "draft", store.ArticleDraft))

	title, body, cover := "new title", "new body", "https://img.example/new.png"
	got, err := f.s.UpdateArticle(f.ctx, a.ID, store.ArticleUpdate{Title: &title, Body: &body, CoverURL: &cover})
	if err != nil {
		t.Fatalf("UpdateArticle: %v", err)
	}
	want := a
	want.Title, want.Body, want.CoverURL = title, body, cover
	if got.UpdatedAt.Before(a.UpdatedAt) {
		t.Errorf("UpdatedAt went back: %v before %v", got.UpdatedAt, a.UpdatedAt)
	}
	want.UpdatedAt = got.UpdatedAt
	wantArticle(t, "UpdateArticle text", got, want)

	state, reason, reviewer, published := store.ArticlePublished, "", int64(99), at(77_000)
	got, err = f.s.UpdateArticle(f.ctx, a.ID, store.ArticleUpdate{State: &state, RejectReason: &reason, ReviewerID: &reviewer, PublishedAt: &published})
	if err != nil {
		t.Fatalf("UpdateArticle: %v", err)
	}
	want.State, want.RejectReason, want.ReviewerID, want.PublishedAt = state, reason, reviewer, published
	want.UpdatedAt = got.UpdatedAt
	wantArticle(t, "UpdateArticle state", got, want)

	stored, err := f.s.GetArticle(f.ctx, a.ID)
	if err != nil {
		t.Fatalf("GetArticle: %v", err)
	}
	wantArticle(t, "GetArticle after updates", stored, want)

	// Clearing PublishedAt with the zero time.
	var zero time.Time
	withdrawn := store.ArticleWithdrawn
	got, err = f.s.UpdateArticle(f.ctx, a.ID, store.ArticleUpdate{State: &withdrawn, PublishedAt: &zero})
	if err != nil {
		t.Fatalf("UpdateArticle: %v", err)
	}
	if !got.PublishedAt.IsZero() || got.State != withdrawn || got.Title != title {
		t.Errorf("UpdateArticle withdraw = %+v", got)
	}
	if stored, _ := f.s.GetArticle(f.ctx, a.ID); !stored.PublishedAt.IsZero() {
		t.Errorf("stored PublishedAt = %v, want zero", stored.PublishedAt)
	}

	if _, err := f.s.UpdateArticle(f.ctx, 424242, store.ArticleUpdate{Title: &title}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateArticle(unknown): err %v, want ErrNotFound", err)
	}
}

func testArticleUpdateExpectedState(t *testing.T, f *docFixture) {
	a := f.create(t, f.article(3, "pub", store.ArticlePublished))
	withdrawn := store.ArticleWithdrawn
	_, err := f.s.UpdateArticle(f.ctx, a.ID, store.ArticleUpdate{State: &withdrawn, ExpectedState: store.ArticleDraft})
	if !errors.Is(err, store.ErrPrecondition) {
		t.Fatalf("UpdateArticle with a wrong ExpectedState: err %v, want ErrPrecondition", err)
	}
	var pe *store.PreconditionError
	if !errors.As(err, &pe) {
		t.Fatalf("UpdateArticle with a wrong ExpectedState: err %v is not a *store.PreconditionError", err)
	}
	if !strings.Contains(strings.ToLower(pe.Reason), "published") {
		t.Errorf("precondition reason %q does not name the current state (published)", pe.Reason)
	}
	if got, _ := f.s.GetArticle(f.ctx, a.ID); !sameArticle(got, a) {
		t.Errorf("article changed by a failed conditional update: %+v", got)
	}

	got, err := f.s.UpdateArticle(f.ctx, a.ID, store.ArticleUpdate{State: &withdrawn, ExpectedState: store.ArticlePublished})
	if err != nil || got.State != withdrawn {
		t.Fatalf("UpdateArticle with the right ExpectedState: state %v, err %v", got.State, err)
	}

	// Concurrent transitions out of one state: exactly one wins.
	b := f.create(t, f.article(3, "review", store.ArticleInReview))
	const n = 8
	var wins, lost atomic.Int32
	err = parallel(n, func(i int) error {
		to := store.ArticleApproved
		if i%2 == 1 {
			to = store.ArticleRejected
		}
		_, err := f.s.UpdateArticle(f.ctx, b.ID, store.ArticleUpdate{State: &to, ExpectedState: store.ArticleInReview})
		switch {
		case err == nil:
			wins.Add(1)
		case errors.Is(err, store.ErrPrecondition):
			lost.Add(1)
		default:
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("concurrent transitions: %v", err)
	}
	if wins.Load() != 1 || lost.Load() != n-1 {
		t.Errorf("concurrent transitions: %d won, %d failed the precondition; want 1 and %d", wins.Load(), lost.Load(), n-1)
	}
}

func (f *docFixture) listAll(t *testing.T, sub int64, states []store.ArticleState, limit int) (ids []int64, pages int) {
	t.Helper()
	after := ""
	for range 100 {
		arts, next, err := f.s.ListArticles(f.ctx, store.ArticleFilter{SubscriptionID: sub, States: states}, store.Page{Limit: limit, After: after})
		if err != nil {
			t.Fatalf("ListArticles(%d, %v, after %q): %v", sub, states, after, err)
		}
		if len(arts) > limit {
			t.Fatalf("ListArticles: %d articles, limit %d", len(arts), limit)
		}
		pages++
		for _, a := range arts {
			ids = append(ids, a.ID)
		}
		if next == "" {
			return ids, pages
		}
		after = next
	}
	t.Fatalf("ListArticles: more than 100 pages")
	return nil, 0
}

func testArticleList(t *testing.T, f *docFixture) {
	// id order is creation order; lists are newest (highest) id first.
	var all []store.Article
	add := func(sub int64, state store.ArticleState) {
		all = append(all, f.create(t, f.article(sub, fmt.Sprintf("a%d", len(all)), state)))
	}
	for _, st := range []store.ArticleState{store.ArticleDraft, store.ArticlePublished, store.ArticleInReview,
		store.ArticlePublished, store.ArticleRejected} {
		add(10, st)
	}
	for _, st := range []store.ArticleState{store.ArticlePublished, store.ArticleDraft, store.ArticlePublished} {
		add(20, st)
	}
	ids := func(pick func(a store.Article) bool) []int64 {
		var out []int64
		for i := len(all) - 1; i >= 0; i-- {
			if pick(all[i]) {
				out = append(out, all[i].ID)
			}
		}
		return out
	}
	in := func(a store.Article, sts ...store.ArticleState) bool { return slices.Contains(sts, a.State) }
	cases := []struct {
		name   string
		sub    int64
		states []store.ArticleState
		limit  int
		want   []int64
		pages  int
	}{
		{"subscription, all states", 10, nil, 100, ids(func(a store.Article) bool { return a.SubscriptionID == 10 }), 1},
		{"subscription, paged", 10, nil, 2, ids(func(a store.Article) bool { return a.SubscriptionID == 10 }), 3},
		{"subscription, published", 10, []store.ArticleState{store.ArticlePublished}, 1,
			ids(func(a store.Article) bool { return a.SubscriptionID == 10 && a.State == store.ArticlePublished }), 2},
		{"subscription, two states", 10, []store.ArticleState{store.ArticleDraft, store.ArticleRejected}, 10,
			ids(func(a store.Article) bool {
				return a.SubscriptionID == 10 && in(a, store.ArticleDraft, store.ArticleRejected)
			}), 1},
		{"every subscription", 0, nil, 3, ids(func(store.Article) bool { return true }), 3},
		{"every subscription, published", 0, []store.ArticleState{store.ArticlePublished}, 2,
			ids(func(a store.Article) bool { return a.State == store.ArticlePublished }), 2},
		{"no match", 20, []store.ArticleState{store.ArticleWithdrawn}, 5, nil, 1},
		{"unknown subscription", 30, nil, 5, nil, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, pages := f.listAll(t, tc.sub, tc.states, tc.limit)
			if !slices.Equal(got, tc.want) {
				t.Errorf("ids = %v, want %v", got, tc.want)
			}
			if pages != tc.pages {
				t.Errorf("%d pages, want %d (next must be empty exactly when nothing follows)", pages, tc.pages)
			}
		})
	}
	arts, _, err := f.s.ListArticles(f.ctx, store.ArticleFilter{SubscriptionID: 20}, store.Page{Limit: 1})
	if err != nil || len(arts) != 1 {
		t.Fatalf("ListArticles: %d, %v", len(arts), err)
	}
	wantArticle(t, "listed article", arts[0], all[len(all)-1])
}

// testArticlePushed: the pushed flag starts false (unless created set),
// UpdateArticle sets it (alone, and with an expected state), and
// UnpushedOnly with states [published] lists the published articles still
// to push, across subscriptions, paged.
func testArticlePushed(t *testing.T, f *docFixture) {
	draft := f.create(t, f.article(1, "draft", store.ArticleDraft))
	p1 := f.create(t, f.article(1, "p1", store.ArticlePublished))
	p2 := f.create(t, f.article(2, "p2", store.ArticlePublished))
	p3 := f.article(2, "p3", store.ArticlePublished)
	p3.Pushed = true
	p3 = f.create(t, p3)
	for _, a := range []store.Article{draft, p1, p2} {
		got, err := f.s.GetArticle(f.ctx, a.ID)
		if err != nil || got.Pushed {
			t.Fatalf("GetArticle(%d) = pushed %v, %v; want false", a.ID, got.Pushed, err)
		}
	}
	if got, err := f.s.GetArticle(f.ctx, p3.ID); err != nil || !got.Pushed {
		t.Fatalf("GetArticle(created pushed) = pushed %v, %v; want true", got.Pushed, err)
	}
	unpushed := func() []int64 {
		t.Helper()
		var ids []int64
		after := ""
		for range 10 {
			arts, next, err := f.s.ListArticles(f.ctx, store.ArticleFilter{
				States: []store.ArticleState{store.ArticlePublished}, UnpushedOnly: true,
			}, store.Page{Limit: 1, After: after})
			if err != nil {
				t.Fatalf("ListArticles(unpushed): %v", err)
			}
			for _, a := range arts {
				if a.Pushed || a.State != store.ArticlePublished {
					t.Errorf("listed %d: pushed %v state %d", a.ID, a.Pushed, a.State)
				}
				ids = append(ids, a.ID)
			}
			if next == "" {
				break
			}
			after = next
		}
		return ids
	}
	if got, want := unpushed(), []int64{p2.ID, p1.ID}; !slices.Equal(got, want) {
		t.Fatalf("unpushed = %v, want %v", got, want)
	}
	yes := true
	got, err := f.s.UpdateArticle(f.ctx, p1.ID, store.ArticleUpdate{Pushed: &yes, ExpectedState: store.ArticlePublished})
	if err != nil || !got.Pushed || got.Title != "p1" || got.State != store.ArticlePublished {
		t.Fatalf("UpdateArticle(pushed) = %+v, %v", got, err)
	}
	if got, err := f.s.GetArticle(f.ctx, p1.ID); err != nil || !got.Pushed {
		t.Fatalf("GetArticle after setting pushed = %v, %v", got.Pushed, err)
	}
	if got, want := unpushed(), []int64{p2.ID}; !slices.Equal(got, want) {
		t.Fatalf("unpushed after one push = %v, want %v", got, want)
	}
	// Withdrawn before it was pushed: no longer to push.
	withdrawn := store.ArticleWithdrawn
	if _, err := f.s.UpdateArticle(f.ctx, p2.ID, store.ArticleUpdate{State: &withdrawn}); err != nil {
		t.Fatal(err)
	}
	if got := unpushed(); len(got) != 0 {
		t.Fatalf("unpushed after withdrawal = %v, want none", got)
	}
	// Without the flag, lists show every article as before.
	all, _, err := f.s.ListArticles(f.ctx, store.ArticleFilter{}, store.Page{Limit: 10})
	if err != nil || len(all) != 4 {
		t.Fatalf("ListArticles(all) = %d, %v; want 4", len(all), err)
	}
}

func testArticleListBadToken(t *testing.T, f *docFixture) {
	f.create(t, f.article(1, "one", store.ArticleDraft))
	for _, tok := range []string{"not a token!", "%%%"} {
		_, _, err := f.s.ListArticles(f.ctx, store.ArticleFilter{SubscriptionID: 1}, store.Page{Limit: 10, After: tok})
		if !errors.Is(err, store.ErrBadPageToken) {
			t.Errorf("ListArticles(after %q): err %v, want ErrBadPageToken", tok, err)
		}
	}
}

func testArticleDelete(t *testing.T, f *docFixture) {
	a := f.create(t, f.article(1, "gone", store.ArticleDraft))
	b := f.create(t, f.article(1, "stays", store.ArticleDraft))
	if err := f.s.DeleteArticle(f.ctx, a.ID, 0); err != nil {
		t.Fatalf("DeleteArticle: %v", err)
	}
	if _, err := f.s.GetArticle(f.ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetArticle after delete: err %v, want ErrNotFound", err)
	}
	if err := f.s.DeleteArticle(f.ctx, a.ID, 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteArticle twice: err %v, want ErrNotFound", err)
	}
	ids, _ := f.listAll(t, 1, nil, 10)
	if !slices.Equal(ids, []int64{b.ID}) {
		t.Errorf("ListArticles after delete = %v, want [%d]", ids, b.ID)
	}
}

// testArticleDeleteConditional: with an expected state the delete happens
// only in that state; otherwise a *PreconditionError naming the state, and
// ErrNotFound once the article is gone. Of concurrent conditional deletes
// and transitions from one state exactly one wins.
func testArticleDeleteConditional(t *testing.T, f *docFixture) {
	a := f.create(t, f.article(1, "approved", store.ArticleApproved))
	err := f.s.DeleteArticle(f.ctx, a.ID, store.ArticleInReview)
	var pre *store.PreconditionError
	if !errors.As(err, &pre) || !errors.Is(err, store.ErrPrecondition) || !strings.Contains(pre.Reason, "approved") {
		t.Fatalf("DeleteArticle(expected in review) of an approved article: err %v, want a precondition naming approved", err)
	}
	if got, err := f.s.GetArticle(f.ctx, a.ID); err != nil || got.State != store.ArticleApproved {
		t.Fatalf("article after the refused delete: %+v, %v", got, err)
	}
	if err := f.s.DeleteArticle(f.ctx, a.ID, store.ArticleApproved); err != nil {
		t.Fatalf("DeleteArticle(expected approved): %v", err)
	}
	if err := f.s.DeleteArticle(f.ctx, a.ID, store.ArticleApproved); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteArticle(expected) of a deleted article: err %v, want ErrNotFound", err)
	}

	// A publish (approved -> published) and a delete expecting approved,
	// at once: exactly one wins, and the article ends as the winner says.
	for i := range 20 {
		b := f.create(t, f.article(1, fmt.Sprintf("race %d", i), store.ArticleApproved))
		published := store.ArticlePublished
		var wg sync.WaitGroup
		var upErr, delErr error
		wg.Go(func() {
			_, upErr = f.s.UpdateArticle(f.ctx, b.ID, store.ArticleUpdate{State: &published, ExpectedState: store.ArticleApproved})
		})
		wg.Go(func() { delErr = f.s.DeleteArticle(f.ctx, b.ID, store.ArticleApproved) })
		wg.Wait()
		got, getErr := f.s.GetArticle(f.ctx, b.ID)
		switch {
		case upErr == nil && errors.Is(delErr, store.ErrPrecondition):
			if getErr != nil || got.State != store.ArticlePublished {
				t.Fatalf("race %d: publish won, article %+v, %v", i, got, getErr)
			}
		case delErr == nil && (errors.Is(upErr, store.ErrNotFound) || errors.Is(upErr, store.ErrPrecondition)):
			if !errors.Is(getErr, store.ErrNotFound) {
				t.Fatalf("race %d: delete won, article still there: %+v, %v", i, got, getErr)
			}
		default:
			t.Fatalf("race %d: update err %v, delete err %v: not exactly one winner", i, upErr, delErr)
		}
	}
}
