package mongo

import (
	"context"
	"fmt"

	"github.com/privateim/privateim/dataservice/internal/store"
	mdb "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// AdvanceCursors raises each cursor (see writeCursors), then reads the stored
// cursors back. $max makes every write commutative, so no transaction is
// needed: late or repeated calls never move a cursor back, and the read
// returns at least what was asked.
func (d *Documents) AdvanceCursors(ctx context.Context, cs []store.Cursor) ([]store.Cursor, error) {
	if len(cs) == 0 {
		return []store.Cursor{}, nil
	}
	if err := d.writeCursors(ctx, cs); err != nil {
		return nil, fmt.Errorf("advance %d cursors: %w", len(cs), err)
	}
	var keys []cursorKey
	seen := make(map[cursorKey]bool, len(cs))
	for _, c := range cs {
		if k := keyOf(c); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	cur, err := d.cursors.Find(ctx, cursorsFilter(keys))
	if err != nil {
		return nil, fmt.Errorf("advance %d cursors: read back: %w", len(cs), err)
	}
	var docs []cursorDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("advance %d cursors: read back: %w", len(cs), err)
	}
	stored := make(map[cursorKey]store.Cursor, len(docs))
	for _, doc := range docs {
		c := doc.cursor()
		stored[keyOf(c)] = c
	}
	out := make([]store.Cursor, len(cs))
	for i, c := range cs {
		s, ok := stored[keyOf(c)]
		if !ok {
			return nil, fmt.Errorf("advance %d cursors: cursor %d/%q/%q missing after upsert", len(cs), c.UserID, c.DeviceID, c.Conversation)
		}
		out[i] = s
	}
	return out, nil
}

// ListCursors returns a user's cursors of one device (or all devices),
// optionally only of some conversations, ordered by device then conversation.
func (d *Documents) ListCursors(ctx context.Context, f store.CursorFilter) ([]store.Cursor, error) {
	cur, err := d.cursors.Find(ctx, listCursorsFilter(f), options.Find().SetSort(cursorSort()))
	if err != nil {
		return nil, fmt.Errorf("list cursors of user %d: %w", f.UserID, err)
	}
	var docs []cursorDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("list cursors of user %d: %w", f.UserID, err)
	}
	out := make([]store.Cursor, len(docs))
	for i, doc := range docs {
		out[i] = doc.cursor()
	}
	return out, nil
}

// AdvanceCursorsNoResult is AdvanceCursors without the read-back: the bulk
// write alone, one round trip, for callers that do not use the stored
// cursors (the messageservice's cursor writer).
func (d *Documents) AdvanceCursorsNoResult(ctx context.Context, cs []store.Cursor) error {
	if len(cs) == 0 {
		return nil
	}
	if err := d.writeCursors(ctx, cs); err != nil {
		return fmt.Errorf("advance %d cursors: %w", len(cs), err)
	}
	return nil
}

// writeCursors raises each cursor with one unordered bulk write of $max
// upserts (a cursor named twice in cs gets the larger seqs). Unordered lets
// the server go on past a failed write and a mongos send each shard its part
// at once; the order does not matter because $max commutes.
func (d *Documents) writeCursors(ctx context.Context, cs []store.Cursor) error {
	now := d.now()
	models := make([]mdb.WriteModel, len(cs))
	for i, c := range cs {
		models[i] = mdb.NewUpdateOneModel().SetFilter(cursorFilter(keyOf(c))).SetUpdate(cursorAdvanceUpdate(c, now)).SetUpsert(true)
	}
	bulk := options.BulkWrite().SetOrdered(false)
	_, err := d.cursors.BulkWrite(ctx, models, bulk)
	if mdb.IsDuplicateKeyError(err) {
		// Two first upserts of one cursor raced (the server retries most of
		// these itself). $max makes a second run harmless; now both exist.
		_, err = d.cursors.BulkWrite(ctx, models, bulk)
	}
	return translate(err)
}
