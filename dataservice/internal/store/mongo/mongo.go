// Package mongo is the MongoDB adapter of the document role
// (store.Documents): messages, conversation counters, delivery cursors and
// articles, over go.mongodb.org/mongo-driver/v2.
//
// It needs a replica set (or a sharded cluster), not a standalone server:
// AppendMessages reserves seqs and inserts messages in one multi-document
// transaction, so seqs stay gap-free and an idempotent retry never burns a
// seq. A one-node replica set is enough for development.
//
// The query documents (filters, updates, pipelines, sorts, indexes) are built
// by the pure functions in query.go, unit-tested without a server; the
// methods only run them. The shared conformance suite (storetest) runs
// against a real server whenever MONGO_URI is set.
//
// Times are stored as int64 Unix nanoseconds, not BSON dates: BSON dates keep
// milliseconds only, and the document role promises the same round trip as
// the MySQL adapter. Paging tokens encode the last key returned.
//
// It imports only the store package and the MongoDB driver.
package mongo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
	"go.mongodb.org/mongo-driver/v2/bson"
	mdb "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

// Collection names.
const (
	collMessages = "messages"
	collCounters = "counters"
	collCursors  = "cursors"
	collArticles = "articles"
	collStates   = "conv_states"
	// collReactions holds one document per (message, emoji, user).
	collReactions = "reactions"
	// collVersions holds the kept versions of edited messages.
	collVersions = "versions"
)

// ShardKeys are the shard keys chosen for a sharded cluster (apply with
// sh.shardCollection; a replica set ignores them):
//
//   - messages by {conv: 1, seq: 1}: every read names one conversation, so
//     reads target one shard, and a huge conversation can still be split
//     into chunks by seq. The unique (conv, seq) index is the shard key
//     itself, so it stays enforced cluster-wide. The unique (sender, cmid)
//     index does not start with the shard key, so MongoDB refuses it on a
//     sharded collection: when messages are sharded, idempotency keys move to
//     their own collection {_id: {sender, cmid}} sharded by _id and written
//     in the same (then distributed) append transaction.
//   - counters by {_id: "hashed"}: one small document per conversation,
//     spread evenly; the append transaction touches the counter's shard and
//     the messages' shard.
//   - cursors by {u: 1}: a user's cursors (all devices, all conversations)
//     live together, ListCursors targets one shard, and the unique (u, d, c)
//     index starts with the shard key.
//   - conv_states by {u: 1}: a user's conversation list reads one shard;
//     readers and receipt counts of a conversation (index c_u) go to every shard.
//   - articles by {sub: 1}: a subscription's articles list from one shard.
//     _id (a snowflake) is unique per shard only, which snowflakes make safe.
var ShardKeys = map[string]bson.D{
	collMessages: {{Key: "conv", Value: 1}, {Key: "seq", Value: 1}},
	collCounters: {{Key: "_id", Value: "hashed"}},
	collCursors:  {{Key: "u", Value: 1}},
	collArticles: {{Key: "sub", Value: 1}},
	collStates:   {{Key: "u", Value: 1}},
	// reactions by {conv: 1, seq: 1}, like messages: a message's reactions
	// live with it, and the unique key starts with the shard key.
	collReactions: {{Key: "conv", Value: 1}, {Key: "seq", Value: 1}},
	// versions by {conv: 1, seq: 1}, like messages: they live with their
	// message and the unique key starts with the shard key.
	collVersions: {{Key: "conv", Value: 1}, {Key: "seq", Value: 1}},
}

// Documents implements store.Documents on MongoDB. It is safe for concurrent
// use; the driver's client owns the connection pool.
type Documents struct {
	client   *mdb.Client
	messages *mdb.Collection
	counters *mdb.Collection
	cursors  *mdb.Collection
	articles *mdb.Collection
	states   *mdb.Collection
	// reactions: one document per (conv, seq, emoji, user), with ts.
	reactions *mdb.Collection
	// versions: one document per kept version (conv, seq, by: the edit
	// event's seq, kind, content, ts).
	versions *mdb.Collection
	now      func() time.Time
}

var _ store.Documents = (*Documents)(nil)

// Open connects to uri (a mongodb:// or mongodb+srv:// connection string),
// checks the primary answers, and creates the indexes of database.
func Open(ctx context.Context, uri, database string) (*Documents, error) {
	if database == "" {
		return nil, errors.New("open mongo: no database name")
	}
	opts := options.Client().ApplyURI(uri).SetAppName("privateim-dataservice")
	client, err := mdb.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("open mongo: connect: %w", err)
	}
	d := newDocuments(client, database)
	if err := d.Ping(ctx); err != nil {
		_ = d.disconnect()
		return nil, fmt.Errorf("open mongo: %w", err)
	}
	if err := d.checkTransactions(ctx); err != nil {
		_ = d.disconnect()
		return nil, fmt.Errorf("open mongo: %w", err)
	}
	if err := d.EnsureIndexes(ctx); err != nil {
		_ = d.disconnect()
		return nil, fmt.Errorf("open mongo: %w", err)
	}
	return d, nil
}

func newDocuments(client *mdb.Client, database string) *Documents {
	// Reads go to the primary whatever the URI says: callers read what they
	// just wrote (a cursor advanced, a message appended) and expect to see it.
	db := client.Database(database, options.Database().SetReadPreference(readpref.Primary()))
	return &Documents{
		client:    client,
		messages:  db.Collection(collMessages),
		counters:  db.Collection(collCounters),
		cursors:   db.Collection(collCursors),
		articles:  db.Collection(collArticles),
		states:    db.Collection(collStates),
		reactions: db.Collection(collReactions),
		versions:  db.Collection(collVersions),
		now:       func() time.Time { return time.Now().UTC() },
	}
}

// helloReply is the part of the hello command's reply that tells the
// deployment's kind.
type helloReply struct {
	SetName string `bson:"setName"` // replica set members
	Msg     string `bson:"msg"`     // "isdbgrid" from a mongos
}

// checkTransactions fails fast on a standalone server, where every append
// would fail: multi-document transactions need a replica set or mongos.
func (d *Documents) checkTransactions(ctx context.Context) error {
	var h helloReply
	if err := d.client.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&h); err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	return h.supportsTransactions()
}

func (h helloReply) supportsTransactions() error {
	if h.SetName != "" || h.Msg == "isdbgrid" {
		return nil
	}
	return errors.New("the server is a standalone mongod: the document role needs a replica set or a sharded cluster for transactions (a one-node replica set will do)")
}

// EnsureIndexes creates every index the adapter relies on. createIndexes is
// a no-op for an index that already exists with the same definition, so this
// runs at every start-up. It also creates the collections, which a
// transaction on an older server could not do implicitly.
func (d *Documents) EnsureIndexes(ctx context.Context) error {
	colls := map[string]*mdb.Collection{
		collMessages:  d.messages,
		collCounters:  d.counters,
		collCursors:   d.cursors,
		collArticles:  d.articles,
		collStates:    d.states,
		collReactions: d.reactions,
		collVersions:  d.versions,
	}
	for _, ci := range Indexes() {
		if len(ci.Models) == 0 {
			// counters needs only _id; create the collection explicitly.
			err := colls[ci.Collection].Database().CreateCollection(ctx, ci.Collection)
			var ce mdb.CommandError
			if err != nil && !(errors.As(err, &ce) && (ce.Code == 48 || ce.Name == "NamespaceExists")) {
				return fmt.Errorf("create collection %s: %w", ci.Collection, err)
			}
			continue
		}
		if _, err := colls[ci.Collection].Indexes().CreateMany(ctx, ci.Models); err != nil {
			return fmt.Errorf("create indexes on %s: %w", ci.Collection, err)
		}
	}
	return nil
}

// Ping checks that the primary answers.
func (d *Documents) Ping(ctx context.Context) error {
	if err := d.client.Ping(ctx, readpref.Primary()); err != nil {
		return fmt.Errorf("ping mongo: %w", err)
	}
	return nil
}

// Close disconnects, waiting up to 10 seconds for operations in flight.
func (d *Documents) Close() error {
	if err := d.disconnect(); err != nil {
		return fmt.Errorf("close mongo: %w", err)
	}
	return nil
}

func (d *Documents) disconnect() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return d.client.Disconnect(ctx)
}

// Index names, fixed so that a duplicate-key error can say which one fired.
const (
	idxConvSeq    = "conv_seq"
	idxSenderCMID = "sender_cmid"
	idxConvTSSeq  = "conv_ts_seq"
	idxCursorKey  = "u_d_c"
	idxSubID      = "sub_id"
	idxStateID    = "state_id"
	idxCursorConv = "c_u"
	idxStateKey   = "u_c"
	idxStateConv  = "c_u"
	idxID         = "_id_" // the server's name for the _id index
	idxReaction   = "conv_seq_emoji_user"
	idxVersion    = "conv_seq_by"
)

// errTooManyConflicts is returned when racing appends keep colliding.
var errTooManyConflicts = errors.New("too many conflicting concurrent appends")

// translate maps a driver error to the store's sentinel errors: no document
// to store.ErrNotFound, a duplicate key to *store.ExistsError naming what
// exists. Anything else is returned unchanged (an internal failure).
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mdb.ErrNoDocuments):
		return store.ErrNotFound
	case mdb.IsDuplicateKeyError(err):
		return &store.ExistsError{Field: dupKeyField(dupKeyIndex(err))}
	}
	return err
}

// dupKeyField names, for callers, what a duplicate on each index means.
func dupKeyField(index string) string {
	switch index {
	case idxID:
		return "id"
	case idxSenderCMID:
		return "client_msg_id"
	case idxConvSeq:
		return "seq"
	case idxCursorKey:
		return "cursor"
	}
	return "key"
}

// dupKeyIndex returns the name of the unique index a duplicate-key error
// fired on, "" when it cannot tell. The server names it in the message
// ("E11000 duplicate key error collection: db.messages index: sender_cmid
// dup key: { ... }"), the only place every server version reports it.
func dupKeyIndex(err error) string {
	var msgs []string
	var we mdb.WriteException
	if errors.As(err, &we) {
		for _, e := range we.WriteErrors {
			msgs = append(msgs, e.Message)
		}
	}
	var bwe mdb.BulkWriteException
	if errors.As(err, &bwe) {
		for _, e := range bwe.WriteErrors {
			msgs = append(msgs, e.Message)
		}
	}
	var ce mdb.CommandError
	if errors.As(err, &ce) {
		msgs = append(msgs, ce.Message)
	}
	for _, m := range msgs {
		if !strings.Contains(m, "E11000") {
			continue
		}
		_, rest, ok := strings.Cut(m, " index: ")
		if !ok {
			continue
		}
		if name, _, ok := strings.Cut(rest, " "); ok {
			return name
		}
		return rest
	}
	return ""
}
