package mongo

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ext renders v as canonical extended JSON, which spells out every BSON type
// ({"$numberLong":"5"} is an int64, {"$numberInt":"1"} an int32), so the
// tables below pin the exact documents sent to the server.
func ext(t *testing.T, v any) string {
	t.Helper()
	b, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, true, false)
	if err != nil {
		t.Fatalf("marshal %#v: %v", v, err)
	}
	return strings.TrimSuffix(strings.TrimPrefix(string(b), `{"v":`), "}")
}

// L and I spell canonical int64 and int32 values.
func L(n string) string { return `{"$numberLong":"` + n + `"}` }
func I(n string) string { return `{"$numberInt":"` + n + `"}` }

type builderCase struct {
	name string
	got  any
	want string
}

func runBuilders(t *testing.T, cases []builderCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ext(t, c.got); got != c.want {
				t.Errorf("got\n  %s\nwant\n  %s", got, c.want)
			}
		})
	}
}

var (
	t0 = time.Date(2026, 11, 23, 7, 0, 0, 123456789, time.UTC) // 1795417200123456789 ns
	t1 = t0.Add(time.Hour)                                     // 1795420800123456789 ns
)

const (
	t0ns = "1795417200123456789"
	t1ns = "1795420800123456789"
)

func TestTimeEncoding(t *testing.T) {
	if got := nanos(t0); got != 1795417200123456789 {
		t.Fatalf("nanos(t0) = %d", got)
	}
	if nanos(time.Time{}) != 0 || !fromNanos(0).IsZero() {
		t.Fatal("the zero time must be stored as 0 and read back as zero")
	}
	local := t0.In(time.FixedZone("x", 3600))
	if got := fromNanos(nanos(local)); !got.Equal(t0) || got.Location() != time.UTC {
		t.Fatalf("round trip of %v = %v, want %v in UTC", local, got, t0)
	}
}

func TestIndexes(t *testing.T) {
	type idx struct {
		coll, name, keys string
		unique           bool
	}
	want := []idx{
		{collMessages, "conv_seq", `{"conv":` + I("1") + `,"seq":` + I("1") + `}`, true},
		{collMessages, "sender_cmid", `{"sender":` + I("1") + `,"cmid":` + I("1") + `}`, true},
		{collMessages, "conv_ts_seq", `{"conv":` + I("1") + `,"ts":` + I("1") + `,"seq":` + I("1") + `}`, false},
		{collCursors, "u_d_c", `{"u":` + I("1") + `,"d":` + I("1") + `,"c":` + I("1") + `}`, true},
		{collCursors, "c_u", `{"c":` + I("1") + `,"u":` + I("1") + `}`, false},
		{collStates, "u_c", `{"u":` + I("1") + `,"c":` + I("1") + `}`, true},
		{collStates, "c_u", `{"c":` + I("1") + `,"u":` + I("1") + `}`, false},
		{collReactions, "conv_seq_emoji_user", `{"conv":` + I("1") + `,"seq":` + I("1") + `,"emoji":` + I("1") + `,"user":` + I("1") + `}`, true},
		{collVersions, "conv_seq_by", `{"conv":` + I("1") + `,"seq":` + I("1") + `,"by":` + I("1") + `}`, true},
		{collArticles, "sub_id", `{"sub":` + I("1") + `,"_id":` + I("-1") + `}`, false},
		{collArticles, "state_id", `{"state":` + I("1") + `,"_id":` + I("-1") + `}`, false},
	}
	var got []idx
	colls := map[string]bool{}
	for _, ci := range Indexes() {
		colls[ci.Collection] = true
		for _, m := range ci.Models {
			var o options.IndexOptions
			for _, set := range m.Options.Opts {
				if err := set(&o); err != nil {
					t.Fatal(err)
				}
			}
			if o.Name == nil {
				t.Fatalf("index %s on %s has no name", ext(t, m.Keys), ci.Collection)
			}
			got = append(got, idx{ci.Collection, *o.Name, ext(t, m.Keys), o.Unique != nil && *o.Unique})
		}
	}
	for _, c := range []string{collMessages, collCounters, collCursors, collArticles, collStates, collReactions, collVersions} {
		if !colls[c] {
			t.Errorf("collection %s missing from Indexes()", c)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("got %d indexes, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("index %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestShardKeys(t *testing.T) {
	runBuilders(t, []builderCase{
		{"messages", ShardKeys[collMessages], `{"conv":` + I("1") + `,"seq":` + I("1") + `}`},
		{"counters", ShardKeys[collCounters], `{"_id":"hashed"}`},
		{"cursors", ShardKeys[collCursors], `{"u":` + I("1") + `}`},
		{"articles", ShardKeys[collArticles], `{"sub":` + I("1") + `}`},
		{"conv_states", ShardKeys[collStates], `{"u":` + I("1") + `}`},
	})
	// Every unique index other than _id must start with its collection's
	// shard key, or a sharded cluster refuses it. sender_cmid is the known,
	// documented exception.
	for _, ci := range Indexes() {
		key := ShardKeys[ci.Collection]
		for _, m := range ci.Models {
			var o options.IndexOptions
			for _, set := range m.Options.Opts {
				_ = set(&o)
			}
			if o.Unique == nil || !*o.Unique || *o.Name == idxSenderCMID {
				continue
			}
			keys := m.Keys.(bson.D)
			for i, e := range key {
				if i >= len(keys) || keys[i].Key != e.Key {
					t.Errorf("unique index %s on %s does not start with the shard key %v", *o.Name, ci.Collection, key)
				}
			}
		}
	}
}

func TestMessageBuilders(t *testing.T) {
	m := store.Message{ID: 7, Conversation: "g:1", Seq: 3, SenderID: 42, ClientMsgID: "c-1", Kind: "text", Content: []byte("hi"), CreatedAt: t0}
	empty := m
	empty.Content = nil
	runBuilders(t, []builderCase{
		{"document", messageDocument(m),
			`{"_id":` + L("7") + `,"conv":"g:1","seq":` + L("3") + `,"sender":` + L("42") + `,"cmid":"c-1","kind":"text",` +
				`"content":{"$binary":{"base64":"aGk=","subType":"00"}},"ts":` + L(t0ns) + `}`},
		{"document with nil content stores an empty binary", messageDocument(empty),
			`{"_id":` + L("7") + `,"conv":"g:1","seq":` + L("3") + `,"sender":` + L("42") + `,"cmid":"c-1","kind":"text",` +
				`"content":{"$binary":{"base64":"","subType":"00"}},"ts":` + L(t0ns) + `}`},
		{"existing one sender", existingFilter([]clientKey{{42, "a"}, {42, "b"}}),
			`{"sender":` + L("42") + `,"cmid":{"$in":["a","b"]}}`},
		{"existing several senders in first-appearance order", existingFilter([]clientKey{{42, "a"}, {0, "sys"}, {42, "b"}}),
			`{"$or":[{"sender":` + L("42") + `,"cmid":{"$in":["a","b"]}},{"sender":` + L("0") + `,"cmid":{"$in":["sys"]}}]}`},
		{"by client id", byClientIDFilter(42, "c-1"), `{"sender":` + L("42") + `,"cmid":"c-1"}`},
		{"counter", counterFilter("u:1:2"), `{"_id":"u:1:2"}`},
		{"counter inc", counterIncUpdate(3, 2, 7), `{"$inc":{"seq":` + L("3") + `,"counted":` + L("2") + `},"$max":{"ts":` + L("7") + `}}`},
		{"counters", countersFilter([]string{"a", "b"}), `{"_id":{"$in":["a","b"]}}`},
		{"range after", rangeFilter(store.MessageRange{Conversation: "g:1", AfterSeq: 5}),
			`{"conv":"g:1","seq":{"$gt":` + L("5") + `}}`},
		{"range after and before", rangeFilter(store.MessageRange{Conversation: "g:1", AfterSeq: 5, BeforeSeq: 9}),
			`{"conv":"g:1","seq":{"$gt":` + L("5") + `,"$lt":` + L("9") + `}}`},
		{"seq sort", seqSort(), `{"seq":` + I("1") + `}`},
		{"newest pipeline", newestPipeline(store.MessageRange{Conversation: "g:1", BeforeSeq: 100}, 10),
			`[{"$match":{"conv":"g:1","seq":{"$gt":` + L("0") + `,"$lt":` + L("100") + `}}},` +
				`{"$sort":{"seq":` + I("-1") + `}},{"$limit":` + L("11") + `},{"$sort":{"seq":` + I("1") + `}}]`},
		{"by time first page", byTimeFilter("g:1", t0, t1, nil),
			`{"conv":"g:1","ts":{"$gte":` + L(t0ns) + `,"$lt":` + L(t1ns) + `}}`},
		{"by time after key", byTimeFilter("g:1", t0, t1, &timeKey{ts: 1795417200123456789, seq: 4}),
			`{"conv":"g:1","ts":{"$gte":` + L(t0ns) + `,"$lt":` + L(t1ns) + `},` +
				`"$or":[{"ts":{"$gt":` + L(t0ns) + `}},{"ts":` + L(t0ns) + `,"seq":{"$gt":` + L("4") + `}}]}`},
		{"time sort", timeSort(), `{"ts":` + I("1") + `,"seq":` + I("1") + `}`},
	})
}

func TestMessageDocRoundTrip(t *testing.T) {
	for _, content := range [][]byte{[]byte(`{"text":"hi"}`), {}} {
		m := store.Message{ID: 7, Conversation: "g:1", Seq: 3, SenderID: 42, ClientMsgID: "c-1", Kind: "text", Content: content, CreatedAt: t0}
		raw, err := bson.Marshal(messageDocument(m))
		if err != nil {
			t.Fatal(err)
		}
		var doc messageDoc
		if err := bson.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		got := doc.message()
		if !got.CreatedAt.Equal(m.CreatedAt) || string(got.Content) != string(m.Content) || got.Content == nil {
			t.Fatalf("round trip: got %+v, want %+v", got, m)
		}
		got.CreatedAt, got.Content, m.Content = m.CreatedAt, nil, nil
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("round trip: got %+v, want %+v", got, m)
		}
	}
}

func TestPlanAppend(t *testing.T) {
	msgs := []store.Message{
		{SenderID: 1, ClientMsgID: "a"},
		{SenderID: 1, ClientMsgID: "b"},
		{SenderID: 2, ClientMsgID: "a"}, // same cmid, other sender: distinct
		{SenderID: 1, ClientMsgID: "a"}, // repeat of 0
		{SenderID: 1, ClientMsgID: "b"}, // repeat of 1
	}
	p := planAppend(msgs)
	wantFirst := []int{0, 1, 2, 0, 1}
	for i, f := range wantFirst {
		if p.first[i] != f {
			t.Errorf("first[%d] = %d, want %d", i, p.first[i], f)
		}
	}
	wantKeys := []clientKey{{1, "a"}, {1, "b"}, {2, "a"}}
	if len(p.keys) != len(wantKeys) {
		t.Fatalf("keys = %v, want %v", p.keys, wantKeys)
	}
	for i := range wantKeys {
		if p.keys[i] != wantKeys[i] {
			t.Errorf("keys[%d] = %v, want %v", i, p.keys[i], wantKeys[i])
		}
	}
}

func TestCursorBuilders(t *testing.T) {
	c := store.Cursor{UserID: 9, DeviceID: "phone", Conversation: "g:1", DeliveredSeq: 5, AckedSeq: 3}
	runBuilders(t, []builderCase{
		{"key", cursorFilter(keyOf(c)), `{"u":` + L("9") + `,"d":"phone","c":"g:1"}`},
		{"advance", cursorAdvanceUpdate(c, t0),
			`{"$max":{"delivered":` + L("5") + `,"acked":` + L("3") + `},"$set":{"ts":` + L(t0ns) + `}}`},
		{"read back one", cursorsFilter([]cursorKey{{9, "phone", "g:1"}}), `{"u":` + L("9") + `,"d":"phone","c":"g:1"}`},
		{"read back several", cursorsFilter([]cursorKey{{9, "phone", "g:1"}, {9, "", "g:2"}, {8, "pc", "g:1"}}),
			`{"$or":[{"u":` + L("9") + `,"d":"phone","c":"g:1"},{"u":` + L("9") + `,"d":"","c":"g:2"},{"u":` + L("8") + `,"d":"pc","c":"g:1"}]}`},
		{"list one device", listCursorsFilter(store.CursorFilter{UserID: 9}), `{"u":` + L("9") + `,"d":""}`},
		{"list all devices", listCursorsFilter(store.CursorFilter{UserID: 9, DeviceID: "ignored", AllDevices: true}), `{"u":` + L("9") + `}`},
		{"list some conversations", listCursorsFilter(store.CursorFilter{UserID: 9, DeviceID: "pc", Conversations: []string{"a", "b"}}),
			`{"u":` + L("9") + `,"d":"pc","c":{"$in":["a","b"]}}`},
		{"sort", cursorSort(), `{"d":` + I("1") + `,"c":` + I("1") + `}`},
	})
}

func TestArticleBuilders(t *testing.T) {
	a := store.Article{ID: 5, SubscriptionID: 2, AuthorID: 3, Title: "T", Body: "B", CoverURL: "http://c", State: store.ArticleDraft,
		ReviewerID: 4, RejectReason: "r", CreatedAt: t0, UpdatedAt: t1}
	pub := a
	pub.PublishedAt = t1
	title, state, reason, reviewer, body, cover := "New", store.ArticlePublished, "", int64(8), "b2", "c2"
	zero := time.Time{}
	pushed := true
	base := `{"_id":` + L("5") + `,"sub":` + L("2") + `,"author":` + L("3") + `,"title":"T","body":"B","cover":"http://c",` +
		`"state":` + I("1") + `,"reason":"r","reviewer":` + L("4") + `,"created":` + L(t0ns) + `,"updated":` + L(t1ns)
	runBuilders(t, []builderCase{
		{"document unpublished", articleDocument(a), base + `}`},
		{"document published", articleDocument(pub), base + `,"published":` + L(t1ns) + `}`},
		{"id", idFilter(5), `{"_id":` + L("5") + `}`},
		{"update filter", articleUpdateFilter(5, 0), `{"_id":` + L("5") + `}`},
		{"update filter with expected state", articleUpdateFilter(5, store.ArticleInReview), `{"_id":` + L("5") + `,"state":` + I("2") + `}`},
		{"update nothing still stamps", articleUpdate(store.ArticleUpdate{}, t0), `{"$set":{"updated":` + L(t0ns) + `}}`},
		{"update every field", articleUpdate(store.ArticleUpdate{Title: &title, Body: &body, CoverURL: &cover, State: &state,
			RejectReason: &reason, ReviewerID: &reviewer, PublishedAt: &t1, ExpectedState: store.ArticleApproved}, t0),
			`{"$set":{"title":"New","body":"b2","cover":"c2","state":` + I("5") + `,"reason":"","reviewer":` + L("8") +
				`,"published":` + L(t1ns) + `,"updated":` + L(t0ns) + `}}`},
		{"update zero published unsets it", articleUpdate(store.ArticleUpdate{PublishedAt: &zero}, t0),
			`{"$set":{"updated":` + L(t0ns) + `},"$unset":{"published":""}}`},
		{"list everything", listArticlesFilter(store.ArticleFilter{}, 0), `{}`},
		{"list one subscription", listArticlesFilter(store.ArticleFilter{SubscriptionID: 2}, 0), `{"sub":` + L("2") + `}`},
		{"list unpushed published", listArticlesFilter(store.ArticleFilter{States: []store.ArticleState{store.ArticlePublished}, UnpushedOnly: true}, 0),
			`{"state":{"$in":[` + I("5") + `]},"pushed":{"$ne":true}}`},
		{"update pushed", articleUpdate(store.ArticleUpdate{Pushed: &pushed}, t0), `{"$set":{"pushed":true,"updated":` + L(t0ns) + `}}`},
		{"list states after id", listArticlesFilter(store.ArticleFilter{States: []store.ArticleState{store.ArticlePublished, store.ArticleWithdrawn}}, 99),
			`{"state":{"$in":[` + I("5") + `,` + I("6") + `]},"_id":{"$lt":` + L("99") + `}}`},
		{"list all filters", listArticlesFilter(store.ArticleFilter{SubscriptionID: 2, States: []store.ArticleState{store.ArticleDraft}}, 99),
			`{"sub":` + L("2") + `,"state":{"$in":[` + I("1") + `]},"_id":{"$lt":` + L("99") + `}}`},
		{"sort", articleSort(), `{"_id":` + I("-1") + `}`},
	})
}

func TestArticleDocRoundTrip(t *testing.T) {
	for _, pub := range []time.Time{{}, t1} {
		a := store.Article{ID: 5, SubscriptionID: 2, AuthorID: 3, Title: "T", Body: "B", CoverURL: "c", State: store.ArticlePublished,
			RejectReason: "r", ReviewerID: 4, CreatedAt: t0, UpdatedAt: t1, PublishedAt: pub}
		raw, err := bson.Marshal(articleDocument(a))
		if err != nil {
			t.Fatal(err)
		}
		var doc articleDoc
		if err := bson.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		if got := doc.article(); got != a {
			t.Errorf("round trip: got %+v, want %+v", got, a)
		}
	}
}

func TestStateName(t *testing.T) {
	for s, want := range map[store.ArticleState]string{
		store.ArticleDraft: "draft", store.ArticleInReview: "in review", store.ArticleApproved: "approved",
		store.ArticleRejected: "rejected", store.ArticlePublished: "published", store.ArticleWithdrawn: "withdrawn",
		9: "in state 9",
	} {
		if got := stateName(s); got != want {
			t.Errorf("stateName(%d) = %q, want %q", s, got, want)
		}
	}
}

func TestAppendBatch(t *testing.T) {
	msg := func(id int64, conv string, sender int64, cmid string) store.Message {
		return store.Message{ID: id, Conversation: conv, SenderID: sender, ClientMsgID: cmid, Kind: "text", Content: []byte("x"), CreatedAt: t0}
	}
	msgs := []store.Message{
		msg(1, "g:1", 7, "a"),
		msg(2, "g:2", 7, "b"),
		msg(3, "g:1", 8, "old"), // stored before
		msg(4, "g:1", 7, "c"),
		msg(5, "g:2", 7, "a"), // repeat of input 0, other conversation: still input 0's result
		msg(6, "g:1", 8, "old"),
		msg(7, "g:2", 9, "d"),
	}
	stored := msg(100, "g:1", 8, "old")
	stored.Seq = 41
	plan := planAppend(msgs)
	b := newAppendBatch(msgs, plan, map[clientKey]store.Message{{8, "old"}: stored})
	if want := []string{"g:1", "g:2"}; !reflect.DeepEqual(b.convs, want) {
		t.Fatalf("convs = %v, want %v", b.convs, want)
	}
	if want := map[string]int64{"g:1": 2, "g:2": 2}; !reflect.DeepEqual(b.count, want) {
		t.Fatalf("count = %v, want %v", b.count, want)
	}
	// The counters after $inc: g:1 had 41, g:2 had 0.
	docs := b.assign(msgs, plan, map[string]counterDoc{"g:1": {Seq: 43, Counted: 43}, "g:2": {Seq: 2, Counted: 2}})
	res := b.finish(plan)
	type row struct {
		id, seq int64
		dup     bool
	}
	want := []row{{1, 42, false}, {2, 1, false}, {100, 41, true}, {4, 43, false}, {1, 42, true}, {100, 41, true}, {7, 2, false}}
	for i, w := range want {
		got := row{res[i].Message.ID, res[i].Message.Seq, res[i].Duplicate}
		if got != w {
			t.Errorf("result %d = %+v, want %+v", i, got, w)
		}
	}
	if len(docs) != 4 {
		t.Fatalf("%d documents to insert, want 4", len(docs))
	}
	wantDocs := []store.Message{res[0].Message, res[1].Message, res[3].Message, res[6].Message}
	for i, d := range docs {
		m := wantDocs[i]
		if got, want := ext(t, d), ext(t, append(messageDocument(m), bson.E{Key: "counted", Value: m.Seq})); got != want {
			t.Errorf("document %d = %s, want %s", i, got, want)
		}
	}
}
