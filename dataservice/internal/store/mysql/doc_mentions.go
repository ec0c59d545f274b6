package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
)

// SetMentionSeqs reads the heads of the conversations named, refuses the
// call when a seq is beyond its head, then upserts every row with
// mention_seq = GREATEST(stored, seq) in one statement, all in one
// transaction. A new row gets updated_at now; an existing row keeps its.
func (d *Documents) SetMentionSeqs(ctx context.Context, ms []store.MentionSeq) error {
	if len(ms) == 0 {
		return nil
	}
	err := docTx(ctx, d.db, func(tx *sql.Tx) error {
		heads := map[string]int64{}
		for _, m := range ms {
			if _, ok := heads[m.Conversation]; ok {
				continue
			}
			h, err := headOf(ctx, tx, m.Conversation)
			if err != nil {
				return err
			}
			heads[m.Conversation] = h
		}
		for _, m := range ms {
			if m.Seq > heads[m.Conversation] {
				return store.Preconditionf("seq %d is beyond the head %d of %q", m.Seq, heads[m.Conversation], m.Conversation)
			}
		}
		now := dbTime(time.Now())
		var q strings.Builder
		q.WriteString("INSERT INTO conversation_states (user_id, conversation, mention_seq, updated_at) VALUES ")
		args := make([]any, 0, 4*len(ms))
		for i, m := range ms {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?)")
			args = append(args, m.UserID, m.Conversation, m.Seq, now)
		}
		q.WriteString(" ON DUPLICATE KEY UPDATE mention_seq = GREATEST(mention_seq, VALUES(mention_seq))")
		_, err := tx.ExecContext(ctx, q.String(), args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("set %d mention seqs: %w", len(ms), err)
	}
	return nil
}
