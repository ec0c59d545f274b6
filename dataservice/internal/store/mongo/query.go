package mongo

import (
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
	"go.mongodb.org/mongo-driver/v2/bson"
	mdb "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// This file builds every query document the adapter sends. The functions are
// pure so that query_test.go can pin their exact BSON without a server.

// CollectionIndexes are the indexes of one collection.
type CollectionIndexes struct {
	Collection string
	Models     []mdb.IndexModel
}

// Indexes lists the indexes EnsureIndexes creates, per collection.
func Indexes() []CollectionIndexes {
	return []CollectionIndexes{
		{Collection: collMessages, Models: []mdb.IndexModel{
			// Gap-free seqs: a second message with the same seq cannot commit.
			{Keys: bson.D{{Key: "conv", Value: 1}, {Key: "seq", Value: 1}},
				Options: options.Index().SetName(idxConvSeq).SetUnique(true)},
			// Idempotent append keyed by the sender's client message id.
			{Keys: bson.D{{Key: "sender", Value: 1}, {Key: "cmid", Value: 1}},
				Options: options.Index().SetName(idxSenderCMID).SetUnique(true)},
			// Reads by time range, ordered by (ts, seq).
			{Keys: bson.D{{Key: "conv", Value: 1}, {Key: "ts", Value: 1}, {Key: "seq", Value: 1}},
				Options: options.Index().SetName(idxConvTSSeq)},
		}},
		{Collection: collCounters}, // _id (the conversation) is all it needs
		{Collection: collCursors, Models: []mdb.IndexModel{
			{Keys: bson.D{{Key: "u", Value: 1}, {Key: "d", Value: 1}, {Key: "c", Value: 1}},
				Options: options.Index().SetName(idxCursorKey).SetUnique(true)},
			// Delivered counts: a conversation's cursors (acked is not in
			// the key: every ack would rewrite the entry).
			{Keys: bson.D{{Key: "c", Value: 1}, {Key: "u", Value: 1}},
				Options: options.Index().SetName(idxCursorConv)},
		}},
		{Collection: collStates, Models: []mdb.IndexModel{
			{Keys: bson.D{{Key: "u", Value: 1}, {Key: "c", Value: 1}},
				Options: options.Index().SetName(idxStateKey).SetUnique(true)},
			// Readers of a message: a conversation's states (read is not
			// in the key: every send and read would rewrite the entry).
			{Keys: bson.D{{Key: "c", Value: 1}, {Key: "u", Value: 1}},
				Options: options.Index().SetName(idxStateConv)},
		}},
		{Collection: collReactions, Models: []mdb.IndexModel{
			// One reaction per (message, emoji, user).
			{Keys: bson.D{{Key: "conv", Value: 1}, {Key: "seq", Value: 1}, {Key: "emoji", Value: 1}, {Key: "user", Value: 1}},
				Options: options.Index().SetName(idxReaction).SetUnique(true)},
		}},
		{Collection: collVersions, Models: []mdb.IndexModel{
			// One version per (message, edit event); read newest first.
			{Keys: bson.D{{Key: "conv", Value: 1}, {Key: "seq", Value: 1}, {Key: "by", Value: 1}},
				Options: options.Index().SetName(idxVersion).SetUnique(true)},
		}},
		{Collection: collArticles, Models: []mdb.IndexModel{
			{Keys: bson.D{{Key: "sub", Value: 1}, {Key: "_id", Value: -1}},
				Options: options.Index().SetName(idxSubID)},
			{Keys: bson.D{{Key: "state", Value: 1}, {Key: "_id", Value: -1}},
				Options: options.Index().SetName(idxStateID)},
		}},
	}
}

// nanos and fromNanos convert times to the stored int64 Unix nanoseconds;
// the zero time is stored as 0.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// ---- messages ----

type messageDoc struct {
	ID      int64  `bson:"_id"`
	Conv    string `bson:"conv"`
	Seq     int64  `bson:"seq"`
	Sender  int64  `bson:"sender"`
	CMID    string `bson:"cmid"`
	Kind    string `bson:"kind"`
	Content []byte `bson:"content"`
	TS      int64  `bson:"ts"`
}

func (m messageDoc) message() store.Message {
	return store.Message{
		ID:           m.ID,
		Conversation: m.Conv,
		Seq:          m.Seq,
		SenderID:     m.Sender,
		ClientMsgID:  m.CMID,
		Kind:         m.Kind,
		Content:      m.Content,
		CreatedAt:    fromNanos(m.TS),
	}
}

// messageDocument is the stored form of m. Content is always a binary, never
// null, even when empty.
func messageDocument(m store.Message) bson.D {
	content := m.Content
	if content == nil {
		content = []byte{}
	}
	return bson.D{
		{Key: "_id", Value: m.ID},
		{Key: "conv", Value: m.Conversation},
		{Key: "seq", Value: m.Seq},
		{Key: "sender", Value: m.SenderID},
		{Key: "cmid", Value: m.ClientMsgID},
		{Key: "kind", Value: m.Kind},
		{Key: "content", Value: bson.Binary{Subtype: bson.TypeBinaryGeneric, Data: content}},
		{Key: "ts", Value: nanos(m.CreatedAt)},
	}
}

type clientKey struct {
	sender int64
	cmid   string
}

// existingFilter matches the stored messages with any of keys (distinct, in
// first-appearance order), one clause per sender so each uses the
// (sender, cmid) index with an $in.
func existingFilter(keys []clientKey) bson.D {
	var senders []int64
	bySender := map[int64]bson.A{}
	for _, k := range keys {
		if _, ok := bySender[k.sender]; !ok {
			senders = append(senders, k.sender)
		}
		bySender[k.sender] = append(bySender[k.sender], k.cmid)
	}
	clause := func(s int64) bson.D {
		return bson.D{{Key: "sender", Value: s}, {Key: "cmid", Value: bson.D{{Key: "$in", Value: bySender[s]}}}}
	}
	if len(senders) == 1 {
		return clause(senders[0])
	}
	or := make(bson.A, 0, len(senders))
	for _, s := range senders {
		or = append(or, clause(s))
	}
	return bson.D{{Key: "$or", Value: or}}
}

func byClientIDFilter(senderID int64, clientMsgID string) bson.D {
	return bson.D{{Key: "sender", Value: senderID}, {Key: "cmid", Value: clientMsgID}}
}

// counterFilter and counterIncUpdate reserve n seqs of a conversation: the
// counter holds the last seq handed out.
func counterFilter(conv string) bson.D {
	return bson.D{{Key: "_id", Value: conv}}
}

// The counter's ts (Unix ns) is when its head was appended: the newest
// created time of the batch, never moved back.
func counterIncUpdate(n, counted, ts int64) bson.D {
	return bson.D{
		{Key: "$inc", Value: bson.D{{Key: "seq", Value: n}, {Key: "counted", Value: counted}}},
		{Key: "$max", Value: bson.D{{Key: "ts", Value: ts}}},
	}
}

func countersFilter(convs []string) bson.D {
	return bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: convs}}}}
}

type counterDoc struct {
	Conv    string `bson:"_id"`
	Seq     int64  `bson:"seq"`
	TS      int64  `bson:"ts"`
	Counted int64  `bson:"counted,omitempty"` // messages up to seq that count as unread
}

// rangeFilter selects r.AfterSeq < seq (< r.BeforeSeq when > 0).
func rangeFilter(r store.MessageRange) bson.D {
	seq := bson.D{{Key: "$gt", Value: r.AfterSeq}}
	if r.BeforeSeq > 0 {
		seq = append(seq, bson.E{Key: "$lt", Value: r.BeforeSeq})
	}
	return bson.D{{Key: "conv", Value: r.Conversation}, {Key: "seq", Value: seq}}
}

func seqSort() bson.D { return bson.D{{Key: "seq", Value: 1}} }

// newestPipeline returns the newest limit messages of r plus one more (which
// tells whether older ones exist), re-sorted ascending on the server.
func newestPipeline(r store.MessageRange, limit int) mdb.Pipeline {
	return mdb.Pipeline{
		{{Key: "$match", Value: rangeFilter(r)}},
		{{Key: "$sort", Value: bson.D{{Key: "seq", Value: -1}}}},
		{{Key: "$limit", Value: int64(limit) + 1}},
		{{Key: "$sort", Value: bson.D{{Key: "seq", Value: 1}}}},
	}
}

// byTimeFilter selects messages of conv created in [from, to), after the
// (ts, seq) key of the previous page when after is set.
func byTimeFilter(conv string, from, to time.Time, after *timeKey) bson.D {
	f := bson.D{
		{Key: "conv", Value: conv},
		{Key: "ts", Value: bson.D{{Key: "$gte", Value: nanos(from)}, {Key: "$lt", Value: nanos(to)}}},
	}
	if after != nil {
		f = append(f, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "ts", Value: bson.D{{Key: "$gt", Value: after.ts}}}},
			bson.D{{Key: "ts", Value: after.ts}, {Key: "seq", Value: bson.D{{Key: "$gt", Value: after.seq}}}},
		}})
	}
	return f
}

func timeSort() bson.D { return bson.D{{Key: "ts", Value: 1}, {Key: "seq", Value: 1}} }

// ---- cursors ----

type cursorDoc struct {
	User      int64  `bson:"u"`
	Device    string `bson:"d"`
	Conv      string `bson:"c"`
	Delivered int64  `bson:"delivered"`
	Acked     int64  `bson:"acked"`
	TS        int64  `bson:"ts"`
}

func (c cursorDoc) cursor() store.Cursor {
	return store.Cursor{
		UserID:       c.User,
		DeviceID:     c.Device,
		Conversation: c.Conv,
		DeliveredSeq: c.Delivered,
		AckedSeq:     c.Acked,
		UpdatedAt:    fromNanos(c.TS),
	}
}

type cursorKey struct {
	user   int64
	device string
	conv   string
}

func keyOf(c store.Cursor) cursorKey { return cursorKey{c.UserID, c.DeviceID, c.Conversation} }

func cursorFilter(k cursorKey) bson.D {
	return bson.D{{Key: "u", Value: k.user}, {Key: "d", Value: k.device}, {Key: "c", Value: k.conv}}
}

// cursorAdvanceUpdate moves a cursor forward only ($max), creating it on
// upsert with the filter's u, d, c.
func cursorAdvanceUpdate(c store.Cursor, now time.Time) bson.D {
	return bson.D{
		{Key: "$max", Value: bson.D{{Key: "delivered", Value: c.DeliveredSeq}, {Key: "acked", Value: c.AckedSeq}}},
		{Key: "$set", Value: bson.D{{Key: "ts", Value: nanos(now)}}},
	}
}

// cursorsFilter matches the cursors with any of keys (distinct): one clause
// per cursor, each an exact (u, d, c) match on the unique index that a
// mongos routes by u.
func cursorsFilter(keys []cursorKey) bson.D {
	if len(keys) == 1 {
		return cursorFilter(keys[0])
	}
	or := make(bson.A, len(keys))
	for i, k := range keys {
		or[i] = cursorFilter(k)
	}
	return bson.D{{Key: "$or", Value: or}}
}

func listCursorsFilter(f store.CursorFilter) bson.D {
	q := bson.D{{Key: "u", Value: f.UserID}}
	if !f.AllDevices {
		q = append(q, bson.E{Key: "d", Value: f.DeviceID})
	}
	if len(f.Conversations) > 0 {
		q = append(q, bson.E{Key: "c", Value: bson.D{{Key: "$in", Value: f.Conversations}}})
	}
	return q
}

func cursorSort() bson.D { return bson.D{{Key: "d", Value: 1}, {Key: "c", Value: 1}} }

// ---- articles ----

type articleDoc struct {
	ID        int64  `bson:"_id"`
	Sub       int64  `bson:"sub"`
	Author    int64  `bson:"author"`
	Title     string `bson:"title"`
	Body      string `bson:"body"`
	Cover     string `bson:"cover"`
	State     int32  `bson:"state"`
	Reason    string `bson:"reason"`
	Reviewer  int64  `bson:"reviewer"`
	Created   int64  `bson:"created"`
	Updated   int64  `bson:"updated"`
	Published int64  `bson:"published,omitempty"`
	Pushed    bool   `bson:"pushed,omitempty"` // absent in articles stored before the flag: false
}

func (a articleDoc) article() store.Article {
	return store.Article{
		ID:             a.ID,
		SubscriptionID: a.Sub,
		AuthorID:       a.Author,
		Title:          a.Title,
		Body:           a.Body,
		CoverURL:       a.Cover,
		State:          store.ArticleState(a.State),
		RejectReason:   a.Reason,
		ReviewerID:     a.Reviewer,
		CreatedAt:      fromNanos(a.Created),
		UpdatedAt:      fromNanos(a.Updated),
		PublishedAt:    fromNanos(a.Published),
		Pushed:         a.Pushed,
	}
}

// articleDocument is the stored form of a; published is absent until set.
func articleDocument(a store.Article) bson.D {
	d := bson.D{
		{Key: "_id", Value: a.ID},
		{Key: "sub", Value: a.SubscriptionID},
		{Key: "author", Value: a.AuthorID},
		{Key: "title", Value: a.Title},
		{Key: "body", Value: a.Body},
		{Key: "cover", Value: a.CoverURL},
		{Key: "state", Value: int32(a.State)},
		{Key: "reason", Value: a.RejectReason},
		{Key: "reviewer", Value: a.ReviewerID},
		{Key: "created", Value: nanos(a.CreatedAt)},
		{Key: "updated", Value: nanos(a.UpdatedAt)},
	}
	if !a.PublishedAt.IsZero() {
		d = append(d, bson.E{Key: "published", Value: nanos(a.PublishedAt)})
	}
	if a.Pushed {
		d = append(d, bson.E{Key: "pushed", Value: true})
	}
	return d
}

func idFilter(id int64) bson.D { return bson.D{{Key: "_id", Value: id}} }

// articleUpdateFilter matches the article, and only in the expected state
// when one is given, so two concurrent transitions cannot both win.
func articleUpdateFilter(id int64, expected store.ArticleState) bson.D {
	f := idFilter(id)
	if expected != 0 {
		f = append(f, bson.E{Key: "state", Value: int32(expected)})
	}
	return f
}

// articleUpdate sets the given fields and the update time; a zero
// PublishedAt removes the publication time.
func articleUpdate(up store.ArticleUpdate, now time.Time) bson.D {
	set := bson.D{}
	if up.Title != nil {
		set = append(set, bson.E{Key: "title", Value: *up.Title})
	}
	if up.Body != nil {
		set = append(set, bson.E{Key: "body", Value: *up.Body})
	}
	if up.CoverURL != nil {
		set = append(set, bson.E{Key: "cover", Value: *up.CoverURL})
	}
	if up.State != nil {
		set = append(set, bson.E{Key: "state", Value: int32(*up.State)})
	}
	if up.RejectReason != nil {
		set = append(set, bson.E{Key: "reason", Value: *up.RejectReason})
	}
	if up.ReviewerID != nil {
		set = append(set, bson.E{Key: "reviewer", Value: *up.ReviewerID})
	}
	unpublish := false
	if up.PublishedAt != nil {
		if up.PublishedAt.IsZero() {
			unpublish = true
		} else {
			set = append(set, bson.E{Key: "published", Value: nanos(*up.PublishedAt)})
		}
	}
	if up.Pushed != nil {
		set = append(set, bson.E{Key: "pushed", Value: *up.Pushed})
	}
	set = append(set, bson.E{Key: "updated", Value: nanos(now)})
	u := bson.D{{Key: "$set", Value: set}}
	if unpublish {
		u = append(u, bson.E{Key: "$unset", Value: bson.D{{Key: "published", Value: ""}}})
	}
	return u
}

// listArticlesFilter selects articles of one subscription (all when 0), in
// the given states (all when empty), not pushed (when asked; an absent flag
// is false), older than afterID (when > 0).
func listArticlesFilter(af store.ArticleFilter, afterID int64) bson.D {
	subscriptionID, states := af.SubscriptionID, af.States
	f := bson.D{}
	if subscriptionID != 0 {
		f = append(f, bson.E{Key: "sub", Value: subscriptionID})
	}
	if len(states) > 0 {
		in := make(bson.A, len(states))
		for i, s := range states {
			in[i] = int32(s)
		}
		f = append(f, bson.E{Key: "state", Value: bson.D{{Key: "$in", Value: in}}})
	}
	if af.UnpushedOnly {
		f = append(f, bson.E{Key: "pushed", Value: bson.D{{Key: "$ne", Value: true}}})
	}
	if afterID > 0 {
		f = append(f, bson.E{Key: "_id", Value: bson.D{{Key: "$lt", Value: afterID}}})
	}
	return f
}

func articleSort() bson.D { return bson.D{{Key: "_id", Value: -1}} }

// ---- conversation states ----

type stateDoc struct {
	User   int64  `bson:"u"`
	Conv   string `bson:"c"`
	Read   int64  `bson:"read"`
	Sent   int64  `bson:"sent"`
	Muted  bool   `bson:"muted"`
	Pinned bool   `bson:"pinned"`
	Hidden int64  `bson:"hidden"`
	TS     int64  `bson:"ts"`
	// Mention is absent on documents written before mentions: 0.
	Mention int64 `bson:"mention,omitempty"`
	Clear   int64 `bson:"cleared,omitempty"` // delete for me; absent: 0
	// ReadCounted: the conversation's count of messages that count as of
	// Read (the count grows with seq, so $max keeps the two paired).
	ReadCounted int64 `bson:"rc,omitempty"`
}

func (s stateDoc) state() store.ConversationState {
	return store.ConversationState{UserID: s.User, Conversation: s.Conv, ReadSeq: s.Read, LastSentSeq: s.Sent,
		Muted: s.Muted, Pinned: s.Pinned, HiddenSeq: s.Hidden, UpdatedAt: fromNanos(s.TS), MentionSeq: s.Mention,
		ClearedSeq: s.Clear}
}

func stateFilter(user int64, conv string) bson.D {
	return bson.D{{Key: "u", Value: user}, {Key: "c", Value: conv}}
}

// sentUpdate moves a sender's read and sent seqs to seq and the read
// count to counted ($max), for MoveSenders.
func sentUpdate(seq, counted int64, now time.Time) bson.D {
	return bson.D{
		{Key: "$max", Value: bson.D{{Key: "read", Value: seq}, {Key: "sent", Value: seq}, {Key: "rc", Value: counted}}},
		{Key: "$set", Value: bson.D{{Key: "ts", Value: nanos(now)}}},
	}
}

// readersFilter selects q's readers above after.
func readersFilter(q store.ReaderQuery, after int64) bson.D {
	u := bson.D{{Key: "$gt", Value: after}}
	if len(q.Exclude) > 0 {
		u = append(u, bson.E{Key: "$nin", Value: q.Exclude})
	}
	return bson.D{{Key: "c", Value: q.Conversation}, {Key: "read", Value: bson.D{{Key: "$gte", Value: q.Seq}}}, {Key: "u", Value: u}}
}

// deliveredFilter selects the cursors of q's conversation acked at or past q.Seq.
func deliveredFilter(q store.ReaderQuery) bson.D {
	f := bson.D{{Key: "c", Value: q.Conversation}, {Key: "acked", Value: bson.D{{Key: "$gte", Value: q.Seq}}}}
	if len(q.Exclude) > 0 {
		f = append(f, bson.E{Key: "u", Value: bson.D{{Key: "$nin", Value: q.Exclude}}})
	}
	return f
}
