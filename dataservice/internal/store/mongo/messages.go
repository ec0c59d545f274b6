package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
	"go.mongodb.org/mongo-driver/v2/bson"
	mdb "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// maxAppendAttempts bounds the retries of an append that lost a race on a
// (sender, cmid) key to another transaction. One retry normally suffices:
// it finds the winner's message and returns it as a duplicate.
const maxAppendAttempts = 5

// defaultLimit applies when a caller passes no limit (the API's default).
const defaultLimit = 50

// appendTxnOptions: snapshot reads so the existence check and the counter see one
// consistent state, majority writes so a committed append survives failover.
var appendTxnOptions = options.Transaction().
	SetReadConcern(readconcern.Snapshot()).
	SetWriteConcern(writeconcern.Majority()).
	SetReadPreference(readpref.Primary())

// appendPlan is what the input alone decides: the distinct idempotency keys
// and, per input, the index of the first input with the same key.
type appendPlan struct {
	keys  []clientKey
	first []int
}

func planAppend(msgs []store.Message) appendPlan {
	p := appendPlan{first: make([]int, len(msgs))}
	seen := make(map[clientKey]int, len(msgs))
	for i, m := range msgs {
		k := clientKey{m.SenderID, m.ClientMsgID}
		if j, ok := seen[k]; ok {
			p.first[i] = j
			continue
		}
		seen[k] = i
		p.first[i] = i
		p.keys = append(p.keys, k)
	}
	return p
}

// AppendMessages stores msgs in one transaction: find the keys stored
// before, reserve seqs for the new messages by $inc of each conversation's
// counter, insert them. A transaction that loses a race on a counter or key
// gets a write conflict, which WithTransaction retries; one that finds the
// key committed by another after its own check gets a duplicate key, and
// the whole append is retried here, finding the winner this time. (Inside
// a snapshot transaction the server mostly reports such races as write
// conflicts; duplicate keys come from writers outside transactions.)
func (d *Documents) AppendMessages(ctx context.Context, msgs []store.Message) ([]store.AppendResult, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	plan := planAppend(msgs)
	sess, err := d.client.StartSession()
	if err != nil {
		return nil, fmt.Errorf("append %d messages: start session: %w", len(msgs), err)
	}
	defer sess.EndSession(context.WithoutCancel(ctx))
	for attempt := 1; ; attempt++ {
		res, err := sess.WithTransaction(ctx, func(ctx context.Context) (any, error) {
			return d.appendTxn(ctx, msgs, plan)
		}, appendTxnOptions)
		if err == nil {
			return res.([]store.AppendResult), nil
		}
		if errors.Is(err, errRaced) && ctx.Err() == nil {
			if attempt < maxAppendAttempts {
				continue
			}
			return nil, fmt.Errorf("append %d messages: %w after %d attempts: %w", len(msgs), errTooManyConflicts, attempt, err)
		}
		if mdb.IsDuplicateKeyError(err) && dupKeyIndex(err) != idxID {
			// A seq taken twice means a counter behind its messages: an
			// internal fault, not something the caller sent twice.
			return nil, fmt.Errorf("append %d messages: %w", len(msgs), err)
		}
		return nil, fmt.Errorf("append %d messages: %w", len(msgs), translate(err))
	}
}

// errRaced marks a duplicate key that a concurrent append caused after this
// one's reads: the key or the counter it found missing now exists.
var errRaced = errors.New("raced with a concurrent append")

// raced marks err with errRaced when it is a duplicate key on one of the
// given indexes; the driver's labels stay reachable for WithTransaction.
func raced(err error, indexes ...string) error {
	if mdb.IsDuplicateKeyError(err) && slices.Contains(indexes, dupKeyIndex(err)) {
		return fmt.Errorf("%w: %w", errRaced, err)
	}
	return err
}

// appendTxn is the body of the append transaction. WithTransaction may run
// it several times, so it only reads msgs and plan.
func (d *Documents) appendTxn(ctx context.Context, msgs []store.Message, plan appendPlan) ([]store.AppendResult, error) {
	existing, err := d.findByClientKeys(ctx, plan.keys)
	if err != nil {
		return nil, err
	}
	b := newAppendBatch(msgs, plan, existing)
	if len(b.convs) > 0 {
		last, err := d.reserveSeqs(ctx, b.convs, b.count, b.counts, newestTime(msgs))
		if err != nil {
			return nil, err
		}
		docs := b.assign(msgs, plan, last)
		if err := d.applyChanges(ctx, msgs, plan, b); err != nil {
			return nil, err
		}
		if _, err := d.messages.InsertMany(ctx, docs, options.InsertMany().SetOrdered(true)); err != nil {
			return nil, fmt.Errorf("insert messages: %w", raced(err, idxSenderCMID))
		}
	}
	return b.finish(plan), nil
}

// appendBatch is one run of the append transaction, computed without I/O so
// that its bookkeeping is unit-tested.
type appendBatch struct {
	results []store.AppendResult
	convs   []string         // conversations with new messages, first-appearance order
	count   map[string]int64 // new messages per conversation
	counts  map[string]int64 // of those, the ones that count as unread (store.Message.Counts)
	counted []int64          // per input: a new message's count as of it
}

// newAppendBatch answers the inputs whose key was stored before and counts
// the new messages of each conversation.
func newAppendBatch(msgs []store.Message, plan appendPlan, existing map[clientKey]store.Message) *appendBatch {
	b := &appendBatch{results: make([]store.AppendResult, len(msgs)), count: map[string]int64{}, counts: map[string]int64{},
		counted: make([]int64, len(msgs))}
	for i, m := range msgs {
		if plan.first[i] != i {
			continue
		}
		if old, ok := existing[clientKey{m.SenderID, m.ClientMsgID}]; ok {
			b.results[i] = store.AppendResult{Message: old, Duplicate: true}
			continue
		}
		if b.count[m.Conversation] == 0 {
			b.convs = append(b.convs, m.Conversation)
		}
		b.count[m.Conversation]++
		if m.Counts() {
			b.counts[m.Conversation]++
		}
	}
	return b
}

// assign numbers the new messages of each conversation last-count+1 ..
// last in input order and returns the documents to insert, each with the
// conversation's count of messages that count as of it ("counted").
func (b *appendBatch) assign(msgs []store.Message, plan appendPlan, last map[string]counterDoc) []any {
	next := make(map[string]int64, len(b.convs))
	counted := make(map[string]int64, len(b.convs))
	for _, c := range b.convs {
		next[c] = last[c].Seq - b.count[c] + 1
		counted[c] = last[c].Counted - b.counts[c]
	}
	docs := make([]any, 0, len(msgs))
	for i, m := range msgs {
		if plan.first[i] != i || b.results[i].Duplicate {
			continue
		}
		m.Seq = next[m.Conversation]
		next[m.Conversation]++
		// Answer what a later read returns: UTC, no monotonic clock, non-nil content.
		m.CreatedAt = fromNanos(nanos(m.CreatedAt))
		if m.Content == nil {
			m.Content = []byte{}
		}
		if m.Counts() {
			counted[m.Conversation]++
		}
		docs = append(docs, append(messageDocument(m), bson.E{Key: "counted", Value: counted[m.Conversation]}))
		b.counted[i] = counted[m.Conversation]
		b.results[i] = store.AppendResult{Message: m}
	}
	return docs
}

// finish answers the repeats within the batch with their first's message.
func (b *appendBatch) finish(plan appendPlan) []store.AppendResult {
	for i, j := range plan.first {
		if j != i {
			b.results[i] = store.AppendResult{Message: b.results[j].Message, Duplicate: true}
		}
	}
	return b.results
}

func (d *Documents) findByClientKeys(ctx context.Context, keys []clientKey) (map[clientKey]store.Message, error) {
	cur, err := d.messages.Find(ctx, existingFilter(keys))
	if err != nil {
		return nil, fmt.Errorf("find client ids: %w", err)
	}
	var docs []messageDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("find client ids: %w", err)
	}
	found := make(map[clientKey]store.Message, len(docs))
	for _, doc := range docs {
		found[clientKey{doc.Sender, doc.CMID}] = doc.message()
	}
	return found, nil
}

// reserveSeqs raises each conversation's counter by count[conv] (and its
// count of messages that count by counts[conv]) and returns the new values
// (the last seq reserved). One conversation takes one
// findOneAndUpdate; several take one bulk write plus one read, which inside
// the transaction sees the transaction's own increments.
func (d *Documents) reserveSeqs(ctx context.Context, convs []string, count, counts map[string]int64, at time.Time) (map[string]counterDoc, error) {
	last := make(map[string]counterDoc, len(convs))
	if len(convs) == 1 {
		c := convs[0]
		var doc counterDoc
		err := d.counters.FindOneAndUpdate(ctx, counterFilter(c), counterIncUpdate(count[c], counts[c], nanos(at)),
			options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&doc)
		if err != nil {
			return nil, fmt.Errorf("reserve seqs of %q: %w", c, raced(err, idxID))
		}
		last[c] = doc
		return last, nil
	}
	models := make([]mdb.WriteModel, len(convs))
	for i, c := range convs {
		models[i] = mdb.NewUpdateOneModel().SetFilter(counterFilter(c)).SetUpdate(counterIncUpdate(count[c], counts[c], nanos(at))).SetUpsert(true)
	}
	if _, err := d.counters.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
		return nil, fmt.Errorf("reserve seqs of %d conversations: %w", len(convs), raced(err, idxID))
	}
	cur, err := d.counters.Find(ctx, countersFilter(convs))
	if err != nil {
		return nil, fmt.Errorf("read counters: %w", err)
	}
	var docs []counterDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read counters: %w", err)
	}
	for _, doc := range docs {
		last[doc.Conv] = doc
	}
	for _, c := range convs {
		if last[c].Seq < count[c] {
			return nil, fmt.Errorf("read counters: counter of %q is %d after reserving %d", c, last[c].Seq, count[c])
		}
	}
	return last, nil
}

// GetMessages returns messages of r in ascending seq; hasMore tells of more
// in the range past the page (newer ones, or older ones with NewestFirst).
func (d *Documents) GetMessages(ctx context.Context, r store.MessageRange) ([]store.Message, bool, error) {
	if r.ClearedFor > 0 {
		var st struct {
			Cleared int64 `bson:"cleared"`
		}
		err := d.states.FindOne(ctx, stateFilter(r.ClearedFor, r.Conversation), options.FindOne().SetProjection(bson.D{{Key: "cleared", Value: 1}})).Decode(&st)
		if err != nil && !errors.Is(err, mdb.ErrNoDocuments) {
			return nil, false, fmt.Errorf("cleared seq of %q for %d: %w", r.Conversation, r.ClearedFor, err)
		}
		r.AfterSeq = max(r.AfterSeq, st.Cleared)
	}
	limit := r.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	var cur *mdb.Cursor
	var err error
	if r.NewestFirst {
		cur, err = d.messages.Aggregate(ctx, newestPipeline(r, limit))
	} else {
		cur, err = d.messages.Find(ctx, rangeFilter(r),
			options.Find().SetSort(seqSort()).SetLimit(int64(limit)+1))
	}
	if err != nil {
		return nil, false, fmt.Errorf("get messages of %q: %w", r.Conversation, err)
	}
	docs, err := decodeMessages(ctx, cur)
	if err != nil {
		return nil, false, fmt.Errorf("get messages of %q: %w", r.Conversation, err)
	}
	hasMore := len(docs) > limit
	if hasMore {
		if r.NewestFirst {
			docs = docs[1:] // the extra one is the oldest
		} else {
			docs = docs[:limit]
		}
	}
	return docs, hasMore, nil
}

// GetMessagesByTime returns messages of conversation created in [from, to),
// ordered by (created_at, seq), one page at a time.
func (d *Documents) GetMessagesByTime(ctx context.Context, conversation string, from, to time.Time, p store.Page) ([]store.Message, string, error) {
	var after *timeKey
	if p.After != "" {
		k, err := decodeTimeToken(p.After)
		if err != nil {
			return nil, "", fmt.Errorf("get messages of %q by time: %w", conversation, err)
		}
		after = &k
	}
	limit := p.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	cur, err := d.messages.Find(ctx, byTimeFilter(conversation, from, to, after),
		options.Find().SetSort(timeSort()).SetLimit(int64(limit)+1))
	if err != nil {
		return nil, "", fmt.Errorf("get messages of %q by time: %w", conversation, err)
	}
	msgs, err := decodeMessages(ctx, cur)
	if err != nil {
		return nil, "", fmt.Errorf("get messages of %q by time: %w", conversation, err)
	}
	next := ""
	if len(msgs) > limit {
		msgs = msgs[:limit]
		lastMsg := msgs[limit-1]
		next = encodeTimeToken(timeKey{ts: nanos(lastMsg.CreatedAt), seq: lastMsg.Seq})
	}
	return msgs, next, nil
}

func decodeMessages(ctx context.Context, cur *mdb.Cursor) ([]store.Message, error) {
	var docs []messageDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	msgs := make([]store.Message, len(docs))
	for i, doc := range docs {
		msgs[i] = doc.message()
	}
	return msgs, nil
}

// GetMessageByClientID returns the message a sender stored under clientMsgID.
func (d *Documents) GetMessageByClientID(ctx context.Context, senderID int64, clientMsgID string) (store.Message, error) {
	var doc messageDoc
	if err := d.messages.FindOne(ctx, byClientIDFilter(senderID, clientMsgID)).Decode(&doc); err != nil {
		return store.Message{}, fmt.Errorf("get message %d/%q: %w", senderID, clientMsgID, translate(err))
	}
	return doc.message(), nil
}

// ConversationHeads returns the last seq of each conversation (0 when none).
// The counter is the head: it moves only in the transaction that inserts the
// messages it numbers.
func (d *Documents) ConversationHeads(ctx context.Context, conversations []string) ([]int64, error) {
	if len(conversations) == 0 {
		return []int64{}, nil
	}
	cur, err := d.counters.Find(ctx, countersFilter(conversations))
	if err != nil {
		return nil, fmt.Errorf("conversation heads: %w", err)
	}
	var docs []counterDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("conversation heads: %w", err)
	}
	head := make(map[string]int64, len(docs))
	for _, doc := range docs {
		head[doc.Conv] = doc.Seq
	}
	heads := make([]int64, len(conversations))
	for i, c := range conversations {
		heads[i] = head[c]
	}
	return heads, nil
}

// newestTime is the latest created time of msgs: when the heads they move
// were appended.
func newestTime(msgs []store.Message) time.Time {
	var at time.Time
	for _, m := range msgs {
		if m.CreatedAt.After(at) {
			at = m.CreatedAt
		}
	}
	return at
}

// applyChanges applies the changes and reactions of the new messages
// (lifecycle events: a recall, an edit, a reaction) to their targets in
// input order, inside the append transaction: a refused one aborts it and
// nothing is stored. Every append of a conversation writes its counter, so
// concurrent ones conflict and WithTransaction retries them: a reaction's
// checks (one per user and emoji, 20 emoji) see every committed one.
func (d *Documents) applyChanges(ctx context.Context, msgs []store.Message, plan appendPlan, b *appendBatch) error {
	for i, m := range msgs {
		if plan.first[i] != i || b.results[i].Duplicate {
			continue
		}
		if c := m.Clear; c != nil {
			up := bson.D{{Key: "$max", Value: bson.D{{Key: "cleared", Value: c.UpToSeq}}}, {Key: "$setOnInsert", Value: bson.D{{Key: "ts", Value: nanos(m.CreatedAt)}}}}
			if _, err := d.states.UpdateOne(ctx, stateFilter(c.UserID, c.Conversation), up, options.UpdateOne().SetUpsert(true)); err != nil {
				return fmt.Errorf("clear %s for %d: %w", c.Conversation, c.UserID, raced(err, idxStateKey))
			}
		}
		if m.Change == nil && m.Reaction == nil {
			continue
		}
		target := int64(0)
		if m.Change != nil {
			target = m.Change.TargetSeq
		} else {
			target = m.Reaction.TargetSeq
		}
		filter := bson.D{{Key: "conv", Value: m.Conversation}, {Key: "seq", Value: target}}
		var doc struct {
			Kind    string `bson:"kind"`
			Content []byte `bson:"content"`
		}
		found := true
		projection := bson.D{{Key: "kind", Value: 1}}
		if m.Change != nil && m.Change.KeepPrevious {
			projection = append(projection, bson.E{Key: "content", Value: 1})
		}
		err := d.messages.FindOne(ctx, filter, options.FindOne().SetProjection(projection)).Decode(&doc)
		if errors.Is(err, mdb.ErrNoDocuments) {
			found = false
		} else if err != nil {
			return fmt.Errorf("read message %d to change: %w", target, err)
		}
		if c := m.Change; c != nil {
			if err := d.changeMessage(ctx, filter, b.results[i].Message, c, found, doc.Kind, doc.Content); err != nil {
				return err
			}
		}
		if m.Reaction != nil {
			if err := d.react(ctx, m, found, doc.Kind); err != nil {
				return err
			}
		}
	}
	return nil
}

// changeMessage applies c, the change of event ev (stored now), to its
// target (filter), whose kind and (with KeepPrevious) content were read.
func (d *Documents) changeMessage(ctx context.Context, filter bson.D, ev store.Message, c *store.MessageChange, found bool, kind string, previous []byte) error {
	if err := store.ChangeRefused(c, found, kind); err != nil {
		return err
	}
	if c.KeepPrevious && c.Kind != store.KindRecalled {
		if previous == nil {
			previous = []byte{}
		}
		v := bson.D{{Key: "conv", Value: ev.Conversation}, {Key: "seq", Value: c.TargetSeq}, {Key: "by", Value: ev.Seq},
			{Key: "kind", Value: kind}, {Key: "content", Value: bson.Binary{Subtype: bson.TypeBinaryGeneric, Data: previous}},
			{Key: "ts", Value: nanos(ev.CreatedAt)}}
		if _, err := d.versions.InsertOne(ctx, v); err != nil {
			return fmt.Errorf("keep the version of message %d: %w", c.TargetSeq, err)
		}
	}
	content := c.Content
	if content == nil {
		content = []byte{}
	}
	set := bson.D{{Key: "$set", Value: bson.D{
		{Key: "kind", Value: c.Kind},
		{Key: "content", Value: bson.Binary{Subtype: bson.TypeBinaryGeneric, Data: content}},
	}}}
	if _, err := d.messages.UpdateOne(ctx, filter, set); err != nil {
		return fmt.Errorf("change message %d: %w", c.TargetSeq, err)
	}
	if c.Kind == store.KindRecalled {
		if _, err := d.reactions.DeleteMany(ctx, filter); err != nil {
			return fmt.Errorf("drop the reactions of message %d: %w", c.TargetSeq, err)
		}
		if _, err := d.versions.DeleteMany(ctx, filter); err != nil {
			return fmt.Errorf("drop the versions of message %d: %w", c.TargetSeq, err)
		}
	}
	return nil
}

func (d *Documents) react(ctx context.Context, m store.Message, found bool, kind string) error {
	r := m.Reaction
	filter := bson.D{{Key: "conv", Value: m.Conversation}, {Key: "seq", Value: r.TargetSeq}}
	var emoji []string
	var mine bool
	if found {
		cur, err := d.reactions.Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: "emoji", Value: 1}, {Key: "user", Value: 1}}))
		if err != nil {
			return fmt.Errorf("read the reactions of message %d: %w", r.TargetSeq, err)
		}
		var rows []struct {
			Emoji string `bson:"emoji"`
			User  int64  `bson:"user"`
		}
		if err := cur.All(ctx, &rows); err != nil {
			return fmt.Errorf("read the reactions of message %d: %w", r.TargetSeq, err)
		}
		for _, x := range rows {
			if !slices.Contains(emoji, x.Emoji) {
				emoji = append(emoji, x.Emoji)
			}
			mine = mine || (x.Emoji == r.Emoji && x.User == r.UserID)
		}
	}
	if err := store.ReactionRefused(r, found, kind, mine, slices.Contains(emoji, r.Emoji), len(emoji)); err != nil {
		return err
	}
	key := append(filter, bson.E{Key: "emoji", Value: r.Emoji}, bson.E{Key: "user", Value: r.UserID})
	var err error
	if r.Remove {
		_, err = d.reactions.DeleteOne(ctx, key)
	} else {
		_, err = d.reactions.InsertOne(ctx, append(key, bson.E{Key: "ts", Value: nanos(m.CreatedAt)}))
	}
	if err != nil {
		return fmt.Errorf("react to message %d: %w", r.TargetSeq, err)
	}
	return nil
}

// Reactions counts the reactions of the messages seqs of conversation.
func (d *Documents) Reactions(ctx context.Context, conversation string, seqs []int64, viewer int64) (map[int64][]store.ReactionCount, error) {
	out := map[int64][]store.ReactionCount{}
	if len(seqs) == 0 {
		return out, nil
	}
	pipeline := mdb.Pipeline{
		{{Key: "$match", Value: bson.D{{Key: "conv", Value: conversation}, {Key: "seq", Value: bson.D{{Key: "$in", Value: seqs}}}}}},
		{{Key: "$group", Value: bson.D{
			{Key: "_id", Value: bson.D{{Key: "seq", Value: "$seq"}, {Key: "emoji", Value: "$emoji"}}},
			{Key: "count", Value: bson.D{{Key: "$sum", Value: 1}}},
			{Key: "me", Value: bson.D{{Key: "$max", Value: bson.D{{Key: "$eq", Value: bson.A{"$user", viewer}}}}}},
			{Key: "first", Value: bson.D{{Key: "$min", Value: "$ts"}}},
		}}},
		{{Key: "$sort", Value: bson.D{{Key: "_id.seq", Value: 1}, {Key: "first", Value: 1}, {Key: "_id.emoji", Value: 1}}}},
	}
	cur, err := d.reactions.Aggregate(ctx, pipeline)
	if err != nil {
		return nil, fmt.Errorf("reactions of %s: %w", conversation, err)
	}
	var rows []struct {
		ID struct {
			Seq   int64  `bson:"seq"`
			Emoji string `bson:"emoji"`
		} `bson:"_id"`
		Count int64 `bson:"count"`
		Me    bool  `bson:"me"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, fmt.Errorf("reactions of %s: %w", conversation, err)
	}
	for _, r := range rows {
		out[r.ID.Seq] = append(out[r.ID.Seq], store.ReactionCount{Emoji: r.ID.Emoji, Count: r.Count, Me: r.Me})
	}
	return out, nil
}

// GetMessagesWithReactions is GetMessages and Reactions of what it returns.
func (d *Documents) GetMessagesWithReactions(ctx context.Context, r store.MessageRange, viewer int64) ([]store.Message, bool, map[int64][]store.ReactionCount, error) {
	msgs, more, err := d.GetMessages(ctx, r)
	if err != nil {
		return nil, false, nil, err
	}
	seqs := make([]int64, len(msgs))
	for i, m := range msgs {
		seqs[i] = m.Seq
	}
	rs, err := d.Reactions(ctx, r.Conversation, seqs, viewer)
	if err != nil {
		return nil, false, nil, err
	}
	return msgs, more, rs, nil
}

// MessageVersions returns the newest limit kept versions of message seq,
// oldest first.
func (d *Documents) MessageVersions(ctx context.Context, conversation string, seq int64, limit int) ([]store.MessageVersion, bool, error) {
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, 1000)
	cur, err := d.versions.Find(ctx, bson.D{{Key: "conv", Value: conversation}, {Key: "seq", Value: seq}},
		options.Find().SetSort(bson.D{{Key: "by", Value: -1}}).SetLimit(int64(limit)+1))
	if err != nil {
		return nil, false, fmt.Errorf("versions of message %d of %q: %w", seq, conversation, err)
	}
	var docs []struct {
		Kind    string `bson:"kind"`
		Content []byte `bson:"content"`
		By      int64  `bson:"by"`
		TS      int64  `bson:"ts"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, false, fmt.Errorf("versions of message %d of %q: %w", seq, conversation, err)
	}
	more := len(docs) > limit
	if more {
		docs = docs[:limit]
	}
	out := make([]store.MessageVersion, len(docs))
	for i, v := range docs {
		content := v.Content
		if content == nil {
			content = []byte{}
		}
		out[len(docs)-1-i] = store.MessageVersion{Kind: v.Kind, Content: content, ReplacedBySeq: v.By, ReplacedAt: fromNanos(v.TS)}
	}
	return out, more, nil
}
