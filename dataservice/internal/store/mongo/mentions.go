package mongo

import (
	"context"
	"fmt"

	"github.com/privateim/privateim/dataservice/internal/store"
	"go.mongodb.org/mongo-driver/v2/bson"
	mdb "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// SetMentionSeqs checks the heads first (heads only grow, so a check before
// the write stays true; nothing is written when one fails), then raises
// each mention with $max in one unordered bulk write of upserts. A new
// document gets ts now ($setOnInsert); an existing one keeps its.
func (d *Documents) SetMentionSeqs(ctx context.Context, ms []store.MentionSeq) error {
	if len(ms) == 0 {
		return nil
	}
	heads := map[string]int64{}
	for _, m := range ms {
		if _, ok := heads[m.Conversation]; ok {
			continue
		}
		h, err := d.head(ctx, m.Conversation)
		if err != nil {
			return fmt.Errorf("set %d mention seqs: %w", len(ms), err)
		}
		heads[m.Conversation] = h
	}
	for _, m := range ms {
		if m.Seq > heads[m.Conversation] {
			return fmt.Errorf("set %d mention seqs: %w", len(ms),
				store.Preconditionf("seq %d is beyond the head %d of %q", m.Seq, heads[m.Conversation], m.Conversation))
		}
	}
	now := nanos(d.now())
	models := make([]mdb.WriteModel, len(ms))
	for i, m := range ms {
		models[i] = mdb.NewUpdateOneModel().SetFilter(stateFilter(m.UserID, m.Conversation)).SetUpsert(true).
			SetUpdate(bson.D{
				{Key: "$max", Value: bson.D{{Key: "mention", Value: m.Seq}}},
				{Key: "$setOnInsert", Value: bson.D{{Key: "ts", Value: now}}},
			})
	}
	_, err := d.states.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	if mdb.IsDuplicateKeyError(err) {
		// Two first upserts of one (user, conversation) raced; the document
		// exists now, so the same writes update it.
		_, err = d.states.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	}
	if err != nil {
		return fmt.Errorf("set %d mention seqs: %w", len(ms), translate(err))
	}
	return nil
}
