package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
	"go.mongodb.org/mongo-driver/v2/bson"
	mdb "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// head is a conversation's last seq (0 when it has none).
func (d *Documents) head(ctx context.Context, conv string) (int64, error) {
	var doc counterDoc
	err := d.counters.FindOne(ctx, counterFilter(conv)).Decode(&doc)
	if errors.Is(err, mdb.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("head of %q: %w", conv, err)
	}
	return doc.Seq, nil
}

// SetReadSeq checks the head (heads only grow, so a check before the write
// stays true) and reads the count as of seq from its message, then sets
// read (and rc, the count) where read is below seq. A stored read at or past
// seq makes the upsert's filter miss and its insert collide with the unique
// (u, c) key: that is "unchanged".
func (d *Documents) SetReadSeq(ctx context.Context, userID int64, conversation string, seq int64) (int64, bool, error) {
	head, err := d.head(ctx, conversation)
	if err != nil {
		return 0, false, fmt.Errorf("set read seq of user %d in %q: %w", userID, conversation, err)
	}
	if seq > head {
		return 0, false, fmt.Errorf("set read seq of user %d in %q: %w", userID, conversation,
			store.Preconditionf("seq %d is beyond the conversation's head %d", seq, head))
	}
	counted, err := d.countsAt(ctx, map[string][]int64{conversation: {seq}})
	if err != nil {
		return 0, false, fmt.Errorf("set read seq of user %d in %q: %w", userID, conversation, err)
	}
	filter := append(stateFilter(userID, conversation), bson.E{Key: "read", Value: bson.D{{Key: "$lt", Value: seq}}})
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "read", Value: seq}, {Key: "rc", Value: counted[conversation][seq]},
		{Key: "ts", Value: nanos(d.now())}}}}
	_, err = d.states.UpdateOne(ctx, filter, update, options.UpdateOne().SetUpsert(true))
	switch {
	case err == nil:
		return seq, true, nil
	case !mdb.IsDuplicateKeyError(err):
		return 0, false, fmt.Errorf("set read seq of user %d in %q: %w", userID, conversation, err)
	}
	var doc stateDoc
	if err := d.states.FindOne(ctx, stateFilter(userID, conversation)).Decode(&doc); err != nil {
		return 0, false, fmt.Errorf("set read seq of user %d in %q: %w", userID, conversation, translate(err))
	}
	return doc.Read, false, nil
}

// ConversationStates reads the user's documents (one shard: conv_states
// is sharded by u).
func (d *Documents) ConversationStates(ctx context.Context, userID int64, conversations []string) ([]store.ConversationState, error) {
	filter := bson.D{{Key: "u", Value: userID}}
	if len(conversations) > 0 {
		filter = append(filter, bson.E{Key: "c", Value: bson.D{{Key: "$in", Value: conversations}}})
	}
	cur, err := d.states.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "c", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("conversation states of user %d: %w", userID, err)
	}
	var docs []stateDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("conversation states of user %d: %w", userID, err)
	}
	if len(conversations) == 0 {
		out := make([]store.ConversationState, len(docs))
		for i, doc := range docs {
			out[i] = doc.state()
		}
		return out, nil
	}
	byConv := make(map[string]store.ConversationState, len(docs))
	for _, doc := range docs {
		byConv[doc.Conv] = doc.state()
	}
	out := make([]store.ConversationState, len(conversations))
	for i, c := range conversations {
		s, ok := byConv[c]
		if !ok {
			s = store.ConversationState{UserID: userID, Conversation: c}
		}
		out[i] = s
	}
	return out, nil
}

// UpdateConversationSettings sets the given fields with one upsert.
func (d *Documents) UpdateConversationSettings(ctx context.Context, userID int64, conversation string, set store.ConversationSettings) (store.ConversationState, error) {
	fields := bson.D{{Key: "ts", Value: nanos(d.now())}}
	if set.Muted != nil {
		fields = append(fields, bson.E{Key: "muted", Value: *set.Muted})
	}
	if set.Pinned != nil {
		fields = append(fields, bson.E{Key: "pinned", Value: *set.Pinned})
	}
	if set.Hidden != nil {
		var hidden int64
		if *set.Hidden {
			h, err := d.head(ctx, conversation)
			if err != nil {
				return store.ConversationState{}, fmt.Errorf("update settings of user %d in %q: %w", userID, conversation, err)
			}
			hidden = h
		}
		fields = append(fields, bson.E{Key: "hidden", Value: hidden})
	}
	var doc stateDoc
	err := d.states.FindOneAndUpdate(ctx, stateFilter(userID, conversation), bson.D{{Key: "$set", Value: fields}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&doc)
	if mdb.IsDuplicateKeyError(err) {
		// Two first upserts raced; the row exists now.
		err = d.states.FindOneAndUpdate(ctx, stateFilter(userID, conversation), bson.D{{Key: "$set", Value: fields}},
			options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&doc)
	}
	if err != nil {
		return store.ConversationState{}, fmt.Errorf("update settings of user %d in %q: %w", userID, conversation, translate(err))
	}
	return doc.state(), nil
}

// ListReaders ranges over the c_u index.
func (d *Documents) ListReaders(ctx context.Context, q store.ReaderQuery, afterUserID int64, limit int) ([]int64, bool, error) {
	if limit <= 0 {
		limit = defaultLimit
	}
	cur, err := d.states.Find(ctx, readersFilter(q, afterUserID), options.Find().
		SetSort(bson.D{{Key: "u", Value: 1}}).SetLimit(int64(limit)+1).SetProjection(bson.D{{Key: "u", Value: 1}}))
	if err != nil {
		return nil, false, fmt.Errorf("readers of %q at %d: %w", q.Conversation, q.Seq, err)
	}
	var docs []stateDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, false, fmt.Errorf("readers of %q at %d: %w", q.Conversation, q.Seq, err)
	}
	more := len(docs) > limit
	if more {
		docs = docs[:limit]
	}
	ids := make([]int64, len(docs))
	for i, doc := range docs {
		ids[i] = doc.User
	}
	return ids, more, nil
}

// CountReceipts counts readers (c_u) and the distinct users of the
// acked cursors (c_u) per query.
func (d *Documents) CountReceipts(ctx context.Context, qs []store.ReaderQuery) ([]store.ReceiptCount, error) {
	out := make([]store.ReceiptCount, len(qs))
	for i, q := range qs {
		read, err := d.states.CountDocuments(ctx, readersFilter(q, 0))
		if err != nil {
			return nil, fmt.Errorf("count readers of %q at %d: %w", q.Conversation, q.Seq, err)
		}
		res := d.cursors.Distinct(ctx, "u", deliveredFilter(q))
		var users []int64
		if err := res.Decode(&users); err != nil {
			return nil, fmt.Errorf("count delivered of %q at %d: %w", q.Conversation, q.Seq, err)
		}
		out[i] = store.ReceiptCount{Read: read, Delivered: int64(len(users))}
	}
	return out, nil
}

// UserReceipts reads each key's state and its highest acked cursor.
func (d *Documents) UserReceipts(ctx context.Context, keys []store.UserReceipt) ([]store.UserReceipt, error) {
	out := make([]store.UserReceipt, len(keys))
	for i, k := range keys {
		r := store.UserReceipt{Conversation: k.Conversation, UserID: k.UserID}
		var st stateDoc
		err := d.states.FindOne(ctx, stateFilter(k.UserID, k.Conversation)).Decode(&st)
		if err != nil && !errors.Is(err, mdb.ErrNoDocuments) {
			return nil, fmt.Errorf("receipt of user %d in %q: %w", k.UserID, k.Conversation, err)
		}
		r.ReadSeq = st.Read
		var cd cursorDoc
		err = d.cursors.FindOne(ctx, bson.D{{Key: "u", Value: k.UserID}, {Key: "c", Value: k.Conversation}},
			options.FindOne().SetSort(bson.D{{Key: "acked", Value: -1}})).Decode(&cd)
		if err != nil && !errors.Is(err, mdb.ErrNoDocuments) {
			return nil, fmt.Errorf("receipt of user %d in %q: %w", k.UserID, k.Conversation, err)
		}
		r.DeliveredSeq = cd.Acked
		out[i] = r
	}
	return out, nil
}

// Heads reads the counters, then the last messages by their (conv, seq)
// key, and cuts long contents here.
func (d *Documents) Heads(ctx context.Context, conversations []string, contentLimit int) ([]store.Head, error) {
	out := make([]store.Head, len(conversations))
	for i, c := range conversations {
		out[i] = store.Head{Conversation: c}
	}
	if len(conversations) == 0 {
		return out, nil
	}
	cur, err := d.counters.Find(ctx, countersFilter(conversations))
	if err != nil {
		return nil, fmt.Errorf("heads of %d conversations: %w", len(conversations), err)
	}
	var counters []counterDoc
	if err := cur.All(ctx, &counters); err != nil {
		return nil, fmt.Errorf("heads of %d conversations: %w", len(conversations), err)
	}
	if len(counters) == 0 {
		return out, nil
	}
	// Heads only (contentLimit 0): the last message is read for its time
	// alone, and only for a counter from before it kept one.
	keys := make(bson.A, 0, len(counters))
	for _, c := range counters {
		if contentLimit > 0 || c.TS == 0 {
			keys = append(keys, bson.D{{Key: "conv", Value: c.Conv}, {Key: "seq", Value: c.Seq}})
		}
	}
	var msgs []store.Message
	if len(keys) > 0 {
		mcur, err := d.messages.Find(ctx, bson.D{{Key: "$or", Value: keys}})
		if err != nil {
			return nil, fmt.Errorf("heads of %d conversations: last messages: %w", len(conversations), err)
		}
		if msgs, err = decodeMessages(ctx, mcur); err != nil {
			return nil, fmt.Errorf("heads of %d conversations: last messages: %w", len(conversations), err)
		}
	}
	last := make(map[string]store.Message, len(msgs))
	for _, m := range msgs {
		last[m.Conversation] = m
	}
	byConv := make(map[string]store.Head, len(counters))
	for _, c := range counters {
		h := store.Head{Conversation: c.Conv, Seq: c.Seq, UpdatedAt: fromNanos(c.TS)}
		if m, ok := last[c.Conv]; ok && m.Seq == c.Seq {
			if contentLimit > 0 {
				if len(m.Content) > contentLimit {
					m.Content, h.Truncated = m.Content[:contentLimit], true
				}
				h.Last = m
			}
			if h.UpdatedAt.IsZero() {
				h.UpdatedAt = m.CreatedAt
			}
		}
		byConv[c.Conv] = h
	}
	for i, c := range conversations {
		if h, ok := byConv[c]; ok {
			out[i] = h
		}
	}
	return out, nil
}

// countsAt reads the messages' counts (of messages that count as unread,
// as of each) at the given seqs per conversation, by their (conv, seq) key.
func (d *Documents) countsAt(ctx context.Context, seqs map[string][]int64) (map[string]map[int64]int64, error) {
	keys := bson.A{}
	for c, ss := range seqs {
		for _, seq := range ss {
			keys = append(keys, bson.D{{Key: "conv", Value: c}, {Key: "seq", Value: seq}})
		}
	}
	out := map[string]map[int64]int64{}
	if len(keys) == 0 {
		return out, nil
	}
	cur, err := d.messages.Find(ctx, bson.D{{Key: "$or", Value: keys}},
		options.Find().SetProjection(bson.D{{Key: "conv", Value: 1}, {Key: "seq", Value: 1}, {Key: "counted", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("counts at %d seqs: %w", len(keys), err)
	}
	var docs []struct {
		Conv    string `bson:"conv"`
		Seq     int64  `bson:"seq"`
		Counted int64  `bson:"counted"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("counts at %d seqs: %w", len(keys), err)
	}
	for _, doc := range docs {
		if out[doc.Conv] == nil {
			out[doc.Conv] = map[int64]int64{}
		}
		out[doc.Conv][doc.Seq] = doc.Counted
	}
	return out, nil
}

// Unread reads the counters and the user's states (one shard: conv_states
// is sharded by u), then, only for conversations whose read point is a
// floor or cleared seq past read (a member who joined and has not read
// yet), the counts as of those seqs.
func (d *Documents) Unread(ctx context.Context, userID int64, qs []store.UnreadQuery) ([]store.UnreadEntry, error) {
	out := make([]store.UnreadEntry, len(qs))
	if len(qs) == 0 {
		return out, nil
	}
	convs := make([]string, len(qs))
	for i, q := range qs {
		convs[i] = q.Conversation
	}
	cur, err := d.counters.Find(ctx, countersFilter(convs))
	if err != nil {
		return nil, fmt.Errorf("unread of user %d: %w", userID, err)
	}
	var counters []counterDoc
	if err := cur.All(ctx, &counters); err != nil {
		return nil, fmt.Errorf("unread of user %d: %w", userID, err)
	}
	heads := make(map[string]counterDoc, len(counters))
	for _, c := range counters {
		heads[c.Conv] = c
	}
	scur, err := d.states.Find(ctx, bson.D{{Key: "u", Value: userID}, {Key: "c", Value: bson.D{{Key: "$in", Value: convs}}}})
	if err != nil {
		return nil, fmt.Errorf("unread of user %d: %w", userID, err)
	}
	var docs []stateDoc
	if err := scur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("unread of user %d: %w", userID, err)
	}
	states := make(map[string]stateDoc, len(docs))
	for _, doc := range docs {
		states[doc.Conv] = doc
	}
	points := make([]int64, len(qs))
	lookups := map[string][]int64{}
	var untimed []string // counters from before they kept a time
	for i, q := range qs {
		h, st := heads[q.Conversation], states[q.Conversation]
		points[i] = max(q.FloorSeq, st.Clear)
		if points[i] > st.Read && points[i] < h.Seq {
			lookups[q.Conversation] = append(lookups[q.Conversation], points[i])
		}
		if h.Seq > 0 && h.TS == 0 {
			untimed = append(untimed, q.Conversation)
		}
	}
	at, err := d.countsAt(ctx, lookups)
	if err != nil {
		return nil, fmt.Errorf("unread of user %d: %w", userID, err)
	}
	var times map[string]time.Time
	if len(untimed) > 0 {
		hs, err := d.Heads(ctx, untimed, 0)
		if err != nil {
			return nil, fmt.Errorf("unread of user %d: %w", userID, err)
		}
		times = make(map[string]time.Time, len(hs))
		for _, h := range hs {
			times[h.Conversation] = h.UpdatedAt
		}
	}
	for i, q := range qs {
		h, st := heads[q.Conversation], states[q.Conversation]
		e := store.UnreadEntry{Head: store.Head{Conversation: q.Conversation, Seq: h.Seq}, State: st.state()}
		if h.Seq > 0 {
			e.Head.UpdatedAt = fromNanos(h.TS)
			if h.TS == 0 {
				e.Head.UpdatedAt = times[q.Conversation]
			}
		}
		if _, ok := states[q.Conversation]; !ok {
			e.State = store.ConversationState{UserID: userID, Conversation: q.Conversation}
		}
		if points[i] < h.Seq {
			base := st.ReadCounted
			if points[i] > st.Read {
				base = at[q.Conversation][points[i]]
			}
			e.Unread = max(0, h.Counted-base)
		}
		out[i] = e
	}
	return out, nil
}

// MoveSenders reads the messages (by their (conv, seq) key, only where
// sender is the user) for their read counts, then raises the senders'
// states in one unordered bulk write of $max upserts, apart from the
// append. Two first upserts of one state racing collide on the unique
// (u, c) key: the bulk write is run again once, when the rows exist.
func (d *Documents) MoveSenders(ctx context.Context, sent []store.SentSeq) error {
	if len(sent) == 0 {
		return nil
	}
	keys := make(bson.A, len(sent))
	for i, s := range sent {
		keys[i] = bson.D{{Key: "conv", Value: s.Conversation}, {Key: "seq", Value: s.Seq}, {Key: "sender", Value: s.UserID}}
	}
	cur, err := d.messages.Find(ctx, bson.D{{Key: "$or", Value: keys}},
		options.Find().SetProjection(bson.D{{Key: "conv", Value: 1}, {Key: "seq", Value: 1}, {Key: "sender", Value: 1}, {Key: "counted", Value: 1}}))
	if err != nil {
		return fmt.Errorf("move %d senders: %w", len(sent), err)
	}
	var docs []struct {
		Conv    string `bson:"conv"`
		Seq     int64  `bson:"seq"`
		Sender  int64  `bson:"sender"`
		Counted int64  `bson:"counted"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return fmt.Errorf("move %d senders: %w", len(sent), err)
	}
	if len(docs) == 0 {
		return nil
	}
	now := d.now()
	models := make([]mdb.WriteModel, len(docs))
	for i, m := range docs {
		models[i] = mdb.NewUpdateOneModel().SetFilter(stateFilter(m.Sender, m.Conv)).SetUpdate(sentUpdate(m.Seq, m.Counted, now)).SetUpsert(true)
	}
	_, err = d.states.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	if mdb.IsDuplicateKeyError(err) {
		_, err = d.states.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	}
	if err != nil {
		return fmt.Errorf("move %d senders: %w", len(sent), err)
	}
	return nil
}
