package mysql

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
)

const cursorCols = "user_id, device_id, conversation, delivered_seq, acked_seq, updated_at"

type cursorKey struct {
	user         int64
	device, conv string
}

func cursorKeyOf(c store.Cursor) cursorKey { return cursorKey{c.UserID, c.DeviceID, c.Conversation} }

func compareCursorKeys(a, b cursorKey) int {
	return cmp.Or(cmp.Compare(a.user, b.user), strings.Compare(a.device, b.device), strings.Compare(a.conv, b.conv))
}

// AdvanceCursors upserts all cursors with one multi-row statement, each seq
// becoming GREATEST(stored, given), then reads them back. Rows are written in
// key order so concurrent batches lock them in the same order.
func (d *Documents) AdvanceCursors(ctx context.Context, cs []store.Cursor) ([]store.Cursor, error) {
	if len(cs) == 0 {
		return []store.Cursor{}, nil
	}
	insert, args := cursorUpsert(cs)
	sorted := slices.Clone(cs)
	slices.SortFunc(sorted, func(a, b store.Cursor) int { return compareCursorKeys(cursorKeyOf(a), cursorKeyOf(b)) })

	var where []string
	keyArgs := make([]any, 0, 3*len(sorted))
	for i, c := range sorted {
		if i > 0 && cursorKeyOf(c) == cursorKeyOf(sorted[i-1]) {
			continue
		}
		where = append(where, "(user_id = ? AND device_id = ? AND conversation = ?)")
		keyArgs = append(keyArgs, c.UserID, c.DeviceID, c.Conversation)
	}
	var got []store.Cursor
	err := docTx(ctx, d.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, insert, args...); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, "SELECT "+cursorCols+" FROM cursors WHERE "+strings.Join(where, " OR "), keyArgs...)
		if err != nil {
			return err
		}
		got, err = scanCursors(rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("advance %d cursors: %w", len(cs), err)
	}
	byKey := make(map[cursorKey]store.Cursor, len(got))
	for _, c := range got {
		byKey[cursorKeyOf(c)] = c
	}
	out := make([]store.Cursor, len(cs))
	for i, c := range cs {
		s, ok := byKey[cursorKeyOf(c)]
		if !ok {
			return nil, fmt.Errorf("advance %d cursors: cursor %d/%q/%q missing after upsert", len(cs), c.UserID, c.DeviceID, c.Conversation)
		}
		out[i] = s
	}
	return out, nil
}

// AdvanceCursorsNoResult is AdvanceCursors without the read-back: one
// multi-row upsert, a transaction of its own, for callers that do not use
// the stored cursors (the messageservice's cursor writer).
func (d *Documents) AdvanceCursorsNoResult(ctx context.Context, cs []store.Cursor) error {
	if len(cs) == 0 {
		return nil
	}
	insert, args := cursorUpsert(cs)
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if _, err = d.db.ExecContext(ctx, insert, args...); err == nil || !isRetryable(err) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("advance %d cursors: %w", len(cs), err)
	}
	return nil
}

// cursorUpsert is the multi-row upsert of cs, in key order so concurrent
// batches lock rows in the same order; each seq becomes GREATEST(stored,
// given).
func cursorUpsert(cs []store.Cursor) (string, []any) {
	sorted := slices.Clone(cs)
	slices.SortFunc(sorted, func(a, b store.Cursor) int { return compareCursorKeys(cursorKeyOf(a), cursorKeyOf(b)) })
	now := dbTime(time.Now())
	args := make([]any, 0, 6*len(sorted))
	for _, c := range sorted {
		args = append(args, c.UserID, c.DeviceID, c.Conversation, c.DeliveredSeq, c.AckedSeq, now)
	}
	return "INSERT INTO cursors (" + cursorCols + ") VALUES " +
		strings.Repeat("(?, ?, ?, ?, ?, ?), ", len(sorted)-1) + "(?, ?, ?, ?, ?, ?)" +
		" ON DUPLICATE KEY UPDATE delivered_seq = GREATEST(delivered_seq, VALUES(delivered_seq))," +
		" acked_seq = GREATEST(acked_seq, VALUES(acked_seq)), updated_at = VALUES(updated_at)", args
}

// ListCursors returns a user's cursors ordered by device, then conversation.
func (d *Documents) ListCursors(ctx context.Context, f store.CursorFilter) ([]store.Cursor, error) {
	q := "SELECT " + cursorCols + " FROM cursors WHERE user_id = ?"
	args := []any{f.UserID}
	if !f.AllDevices {
		q += " AND device_id = ?"
		args = append(args, f.DeviceID)
	}
	if len(f.Conversations) > 0 {
		q += " AND conversation IN (" + placeholders(len(f.Conversations)) + ")"
		for _, c := range f.Conversations {
			args = append(args, c)
		}
	}
	q += " ORDER BY device_id, conversation"
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list cursors of user %d: %w", f.UserID, err)
	}
	cs, err := scanCursors(rows)
	if err != nil {
		return nil, fmt.Errorf("list cursors of user %d: %w", f.UserID, err)
	}
	return orEmpty(cs), nil
}

func scanCursors(rows *sql.Rows) ([]store.Cursor, error) {
	defer rows.Close()
	var out []store.Cursor
	for rows.Next() {
		var c store.Cursor
		if err := rows.Scan(&c.UserID, &c.DeviceID, &c.Conversation, &c.DeliveredSeq, &c.AckedSeq, &c.UpdatedAt); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
