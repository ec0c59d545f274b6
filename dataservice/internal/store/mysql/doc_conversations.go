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

const stateCols = "user_id, conversation, read_seq, last_sent_seq, muted, pinned, hidden_seq, updated_at, mention_seq, cleared_seq"

// receiptChunk bounds the UNION ALL of one CountReceipts/UserReceipts
// statement: 100 small SELECTs stay far below any packet limit.
const receiptChunk = 100

// SetReadSeq reads the head (read_seq may not pass it) and the count of
// messages that count as of seq (messages.counted), then upserts the state
// with read_seq = GREATEST(stored, seq), read_counted likewise (the count
// grows with seq, so the two stay paired). The connection does not set
// CLIENT_FOUND_ROWS, so the upsert reports 0 rows when nothing changed,
// which is what changed says; updated_at moves only with read_seq (it is
// assigned first, while read_seq still holds the old value).
func (d *Documents) SetReadSeq(ctx context.Context, userID int64, conversation string, seq int64) (int64, bool, error) {
	var stored int64
	var changed bool
	err := docTx(ctx, d.db, func(tx *sql.Tx) error {
		var head, counted int64
		err := tx.QueryRowContext(ctx, "SELECT cs.seq, COALESCE(m.counted, 0) FROM conversation_seq cs"+
			" LEFT JOIN messages m ON m.conversation = cs.conversation AND m.seq = ? WHERE cs.conversation = ?",
			seq, conversation).Scan(&head, &counted)
		if err != nil && err != sql.ErrNoRows {
			return fmt.Errorf("head of %q: %w", conversation, err)
		}
		if seq > head {
			return store.Preconditionf("seq %d is beyond the conversation's head %d", seq, head)
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO conversation_states (user_id, conversation, read_seq, read_counted, updated_at) VALUES (?, ?, ?, ?, ?)"+
			" ON DUPLICATE KEY UPDATE updated_at = IF(VALUES(read_seq) > read_seq, VALUES(updated_at), updated_at),"+
			" read_seq = GREATEST(read_seq, VALUES(read_seq)), read_counted = GREATEST(read_counted, VALUES(read_counted))",
			userID, conversation, seq, counted, dbTime(time.Now()))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if changed = n > 0; changed {
			stored = seq // the upsert wrote seq: no read-back
			return nil
		}
		return tx.QueryRowContext(ctx, "SELECT read_seq FROM conversation_states WHERE user_id = ? AND conversation = ?",
			userID, conversation).Scan(&stored)
	})
	if err != nil {
		return 0, false, fmt.Errorf("set read seq of user %d in %q: %w", userID, conversation, err)
	}
	return stored, changed, nil
}

// headOf is a conversation's last seq (0 when it has none).
func headOf(ctx context.Context, tx *sql.Tx, conversation string) (int64, error) {
	var head int64
	err := tx.QueryRowContext(ctx, "SELECT seq FROM conversation_seq WHERE conversation = ?", conversation).Scan(&head)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("head of %q: %w", conversation, err)
	}
	return head, nil
}

// ConversationStates reads the user's rows by primary key.
func (d *Documents) ConversationStates(ctx context.Context, userID int64, conversations []string) ([]store.ConversationState, error) {
	q := "SELECT " + stateCols + " FROM conversation_states WHERE user_id = ?"
	args := []any{userID}
	if len(conversations) > 0 {
		q += " AND conversation IN (" + placeholders(len(conversations)) + ")"
		for _, c := range conversations {
			args = append(args, c)
		}
	} else {
		q += " ORDER BY conversation"
	}
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("conversation states of user %d: %w", userID, err)
	}
	got, err := scanStates(rows)
	if err != nil {
		return nil, fmt.Errorf("conversation states of user %d: %w", userID, err)
	}
	if len(conversations) == 0 {
		return orEmpty(got), nil
	}
	byConv := make(map[string]store.ConversationState, len(got))
	for _, s := range got {
		byConv[s.Conversation] = s
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

func scanStates(rows *sql.Rows) ([]store.ConversationState, error) {
	defer rows.Close()
	var out []store.ConversationState
	for rows.Next() {
		var s store.ConversationState
		if err := rows.Scan(&s.UserID, &s.Conversation, &s.ReadSeq, &s.LastSentSeq, &s.Muted, &s.Pinned, &s.HiddenSeq, &s.UpdatedAt, &s.MentionSeq, &s.ClearedSeq); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// UpdateConversationSettings upserts the set columns (hidden reads the head
// first) and reads the row back, in one transaction.
func (d *Documents) UpdateConversationSettings(ctx context.Context, userID int64, conversation string, set store.ConversationSettings) (store.ConversationState, error) {
	var out store.ConversationState
	err := docTx(ctx, d.db, func(tx *sql.Tx) error {
		var muted, pinned bool
		var hidden int64
		var updates []string
		if set.Muted != nil {
			muted = *set.Muted
			updates = append(updates, "muted = VALUES(muted)")
		}
		if set.Pinned != nil {
			pinned = *set.Pinned
			updates = append(updates, "pinned = VALUES(pinned)")
		}
		if set.Hidden != nil {
			if *set.Hidden {
				head, err := headOf(ctx, tx, conversation)
				if err != nil {
					return err
				}
				hidden = head
			}
			updates = append(updates, "hidden_seq = VALUES(hidden_seq)")
		}
		updates = append(updates, "updated_at = VALUES(updated_at)")
		if _, err := tx.ExecContext(ctx, "INSERT INTO conversation_states (user_id, conversation, muted, pinned, hidden_seq, updated_at)"+
			" VALUES (?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE "+strings.Join(updates, ", "),
			userID, conversation, muted, pinned, hidden, dbTime(time.Now())); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, "SELECT "+stateCols+" FROM conversation_states WHERE user_id = ? AND conversation = ?", userID, conversation)
		if err != nil {
			return err
		}
		got, err := scanStates(rows)
		if err != nil {
			return err
		}
		if len(got) != 1 {
			return fmt.Errorf("state missing after upsert")
		}
		out = got[0]
		return nil
	})
	if err != nil {
		return store.ConversationState{}, fmt.Errorf("update settings of user %d in %q: %w", userID, conversation, err)
	}
	return out, nil
}

// notIn is " AND <col> NOT IN (...)" with its args, "" for no ids.
func notIn(col string, ids []int64) (string, []any) {
	if len(ids) == 0 {
		return "", nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return " AND " + col + " NOT IN (" + placeholders(len(ids)) + ")", args
}

// ListReaders ranges over idx_conversation_states_conversation.
func (d *Documents) ListReaders(ctx context.Context, q store.ReaderQuery, afterUserID int64, limit int) ([]int64, bool, error) {
	limit = clampLimit(limit)
	excl, exclArgs := notIn("user_id", q.Exclude)
	args := append([]any{q.Conversation, q.Seq, afterUserID}, exclArgs...)
	args = append(args, limit+1)
	rows, err := d.db.QueryContext(ctx, "SELECT user_id FROM conversation_states WHERE conversation = ? AND read_seq >= ? AND user_id > ?"+
		excl+" ORDER BY user_id LIMIT ?", args...)
	if err != nil {
		return nil, false, fmt.Errorf("readers of %q at %d: %w", q.Conversation, q.Seq, err)
	}
	defer rows.Close()
	ids := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, false, fmt.Errorf("readers of %q at %d: %w", q.Conversation, q.Seq, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("readers of %q at %d: %w", q.Conversation, q.Seq, err)
	}
	more := len(ids) > limit
	if more {
		ids = ids[:limit]
	}
	return ids, more, nil
}

// CountReceipts answers up to receiptChunk queries per statement, each a
// pair of counts over one conversation's rows
// (idx_conversation_states_conversation, idx_cursors_conversation).
func (d *Documents) CountReceipts(ctx context.Context, qs []store.ReaderQuery) ([]store.ReceiptCount, error) {
	out := make([]store.ReceiptCount, len(qs))
	for start := 0; start < len(qs); start += receiptChunk {
		end := min(start+receiptChunk, len(qs))
		var parts []string
		var args []any
		for i := start; i < end; i++ {
			q := qs[i]
			exS, exArgs := notIn("user_id", q.Exclude)
			parts = append(parts, "SELECT ?,"+
				" (SELECT COUNT(*) FROM conversation_states WHERE conversation = ? AND read_seq >= ?"+exS+"),"+
				" (SELECT COUNT(DISTINCT user_id) FROM cursors WHERE conversation = ? AND acked_seq >= ?"+exS+")")
			args = append(args, i, q.Conversation, q.Seq)
			args = append(args, exArgs...)
			args = append(args, q.Conversation, q.Seq)
			args = append(args, exArgs...)
		}
		rows, err := d.db.QueryContext(ctx, strings.Join(parts, " UNION ALL "), args...)
		if err != nil {
			return nil, fmt.Errorf("count receipts: %w", err)
		}
		n := 0
		for rows.Next() {
			var i int
			var c store.ReceiptCount
			if err := rows.Scan(&i, &c.Read, &c.Delivered); err != nil {
				rows.Close()
				return nil, fmt.Errorf("count receipts: %w", err)
			}
			out[i] = c
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("count receipts: %w", err)
		}
		if n != end-start {
			return nil, fmt.Errorf("count receipts: got %d of %d answers", n, end-start)
		}
	}
	return out, nil
}

// UserReceipts reads each key's read_seq (primary key) and the largest
// acked_seq of the user's devices (idx_cursors_conversation).
func (d *Documents) UserReceipts(ctx context.Context, keys []store.UserReceipt) ([]store.UserReceipt, error) {
	out := make([]store.UserReceipt, len(keys))
	for start := 0; start < len(keys); start += receiptChunk {
		end := min(start+receiptChunk, len(keys))
		var parts []string
		var args []any
		for i := start; i < end; i++ {
			k := keys[i]
			parts = append(parts, "SELECT ?,"+
				" COALESCE((SELECT read_seq FROM conversation_states WHERE user_id = ? AND conversation = ?), 0),"+
				" COALESCE((SELECT MAX(acked_seq) FROM cursors WHERE conversation = ? AND user_id = ?), 0)")
			args = append(args, i, k.UserID, k.Conversation, k.Conversation, k.UserID)
		}
		rows, err := d.db.QueryContext(ctx, strings.Join(parts, " UNION ALL "), args...)
		if err != nil {
			return nil, fmt.Errorf("user receipts: %w", err)
		}
		n := 0
		for rows.Next() {
			var i int
			var r store.UserReceipt
			if err := rows.Scan(&i, &r.ReadSeq, &r.DeliveredSeq); err != nil {
				rows.Close()
				return nil, fmt.Errorf("user receipts: %w", err)
			}
			r.Conversation, r.UserID = keys[i].Conversation, keys[i].UserID
			out[i] = r
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("user receipts: %w", err)
		}
		if n != end-start {
			return nil, fmt.Errorf("user receipts: got %d of %d answers", n, end-start)
		}
	}
	return out, nil
}

// Heads reads the counters joined with their last messages by the
// (conversation, seq) key: one statement, two primary/unique key lookups
// per conversation, the content cut by the server.
func (d *Documents) Heads(ctx context.Context, conversations []string, contentLimit int) ([]store.Head, error) {
	out := make([]store.Head, len(conversations))
	for i, c := range conversations {
		out[i] = store.Head{Conversation: c}
	}
	if len(conversations) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(conversations)+2)
	args = append(args, contentLimit, contentLimit)
	for _, c := range conversations {
		args = append(args, c)
	}
	query := "SELECT cs.conversation, cs.seq, cs.updated_at," +
		" m.id, m.sender_id, m.client_msg_id, m.kind, SUBSTRING(m.content, 1, ?), LENGTH(m.content) > ?, m.created_at" +
		" FROM conversation_seq cs LEFT JOIN messages m ON m.conversation = cs.conversation AND m.seq = cs.seq"
	if contentLimit == 0 {
		// Heads only: the last message is read for its time alone, and
		// only for a head from before updated_at existed.
		query = "SELECT cs.conversation, cs.seq, cs.updated_at, NULL, NULL, NULL, NULL, ?, ?, m.created_at" +
			" FROM conversation_seq cs LEFT JOIN messages m ON cs.updated_at IS NULL AND m.conversation = cs.conversation AND m.seq = cs.seq"
	}
	rows, err := d.db.QueryContext(ctx, query+" WHERE cs.conversation IN ("+placeholders(len(conversations))+")", args...)
	if err != nil {
		return nil, fmt.Errorf("heads of %d conversations: %w", len(conversations), err)
	}
	defer rows.Close()
	byConv := make(map[string]store.Head, len(conversations))
	for rows.Next() {
		var h store.Head
		var updated, created sql.NullTime
		var id, sender sql.NullInt64
		var client, kind sql.NullString
		var content []byte
		var cut sql.NullBool
		if err := rows.Scan(&h.Conversation, &h.Seq, &updated, &id, &sender, &client, &kind, &content, &cut, &created); err != nil {
			return nil, fmt.Errorf("heads of %d conversations: %w", len(conversations), err)
		}
		if id.Valid {
			if content == nil {
				content = []byte{}
			}
			h.Last = store.Message{ID: id.Int64, Conversation: h.Conversation, Seq: h.Seq, SenderID: sender.Int64,
				ClientMsgID: client.String, Kind: kind.String, Content: content, CreatedAt: created.Time}
			h.Truncated = cut.Bool
		}
		// Heads appended before migration 0008 have no time: their last
		// message's is the same moment.
		h.UpdatedAt = created.Time
		if updated.Valid {
			h.UpdatedAt = updated.Time
		}
		byConv[h.Conversation] = h
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("heads of %d conversations: %w", len(conversations), err)
	}
	for i, c := range conversations {
		if h, ok := byConv[c]; ok {
			out[i] = h
		}
	}
	return out, nil
}

// Unread reads the heads and the user's states of qs in one packet (two
// statements, by primary key each), then, only for the conversations whose
// read point is a floor or cleared seq past read_seq (a member who joined
// and has not read yet), the counts as of those seqs by the messages'
// (conversation, seq) key.
func (d *Documents) Unread(ctx context.Context, userID int64, qs []store.UnreadQuery) ([]store.UnreadEntry, error) {
	out := make([]store.UnreadEntry, len(qs))
	if len(qs) == 0 {
		return out, nil
	}
	args := make([]any, 0, 2*len(qs)+1)
	for _, q := range qs {
		args = append(args, q.Conversation)
	}
	args = append(args, userID)
	for _, q := range qs {
		args = append(args, q.Conversation)
	}
	in := placeholders(len(qs))
	rows, err := d.db.QueryContext(ctx, "SELECT cs.conversation, cs.seq, cs.counted, COALESCE(cs.updated_at, m.created_at)"+
		" FROM conversation_seq cs LEFT JOIN messages m ON cs.updated_at IS NULL AND m.conversation = cs.conversation AND m.seq = cs.seq"+
		" WHERE cs.conversation IN ("+in+"); "+
		"SELECT "+stateCols+", read_counted FROM conversation_states WHERE user_id = ? AND conversation IN ("+in+")", args...)
	if err != nil {
		return nil, fmt.Errorf("unread of user %d: %w", userID, err)
	}
	heads, states, err := scanUnread(rows)
	if err != nil {
		return nil, fmt.Errorf("unread of user %d: %w", userID, err)
	}
	var lookups []counter // seqs whose counts are needed
	var lookupConvs []string
	points := make([]int64, len(qs))
	for i, q := range qs {
		h, st := heads[q.Conversation], states[q.Conversation]
		out[i] = store.UnreadEntry{Head: store.Head{Conversation: q.Conversation, Seq: h.seq, UpdatedAt: h.at}, State: st.ConversationState}
		if out[i].State.Conversation == "" {
			out[i].State = store.ConversationState{UserID: userID, Conversation: q.Conversation}
		}
		points[i] = max(q.FloorSeq, st.ClearedSeq)
		if points[i] > st.ReadSeq && points[i] < h.seq {
			lookups = append(lookups, counter{seq: points[i]})
			lookupConvs = append(lookupConvs, q.Conversation)
		}
	}
	at := map[string]map[int64]int64{}
	if len(lookups) > 0 {
		if at, err = countsAt(ctx, d.db, lookupConvs, lookups); err != nil {
			return nil, fmt.Errorf("unread of user %d: %w", userID, err)
		}
	}
	for i, q := range qs {
		h, st := heads[q.Conversation], states[q.Conversation]
		base := st.readCounted
		if points[i] >= h.seq {
			continue
		}
		if points[i] > st.ReadSeq {
			base = at[q.Conversation][points[i]]
		}
		out[i].Unread = max(0, h.counted-base)
	}
	return out, nil
}

type unreadHead struct {
	seq, counted int64
	at           time.Time
}

type unreadState struct {
	store.ConversationState
	readCounted int64
}

func scanUnread(rows *sql.Rows) (map[string]unreadHead, map[string]unreadState, error) {
	defer rows.Close()
	heads := map[string]unreadHead{}
	for rows.Next() {
		var c string
		var h unreadHead
		var at sql.NullTime
		if err := rows.Scan(&c, &h.seq, &h.counted, &at); err != nil {
			return nil, nil, err
		}
		h.at = at.Time
		heads[c] = h
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	states := map[string]unreadState{}
	if !rows.NextResultSet() {
		return nil, nil, fmt.Errorf("states missing: %w", rows.Err())
	}
	for rows.Next() {
		var s unreadState
		if err := rows.Scan(&s.UserID, &s.Conversation, &s.ReadSeq, &s.LastSentSeq, &s.Muted, &s.Pinned, &s.HiddenSeq,
			&s.UpdatedAt, &s.MentionSeq, &s.ClearedSeq, &s.readCounted); err != nil {
			return nil, nil, err
		}
		states[s.Conversation] = s
	}
	return heads, states, rows.Err()
}

// countsAt reads messages.counted of each (convs[i], seqs[i].seq).
func countsAt(ctx context.Context, db *sql.DB, convs []string, seqs []counter) (map[string]map[int64]int64, error) {
	where := make([]string, len(seqs))
	args := make([]any, 0, 2*len(seqs))
	for i, s := range seqs {
		where[i] = "(conversation = ? AND seq = ?)"
		args = append(args, convs[i], s.seq)
	}
	rows, err := db.QueryContext(ctx, "SELECT conversation, seq, counted FROM messages WHERE "+strings.Join(where, " OR "), args...)
	if err != nil {
		return nil, fmt.Errorf("counts at %d seqs: %w", len(seqs), err)
	}
	defer rows.Close()
	out := map[string]map[int64]int64{}
	for rows.Next() {
		var c string
		var seq, n int64
		if err := rows.Scan(&c, &seq, &n); err != nil {
			return nil, fmt.Errorf("counts at %d seqs: %w", len(seqs), err)
		}
		if out[c] == nil {
			out[c] = map[int64]int64{}
		}
		out[c][seq] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counts at %d seqs: %w", len(seqs), err)
	}
	return out, nil
}

// MoveSenders is one INSERT ... SELECT: the rows come from the messages
// themselves (by their (conversation, seq) key, only where sender_id is
// the user), so the read count is the message's and a wrong entry moves
// nothing; each value becomes GREATEST(stored, given). It runs apart from
// the append, which it no longer slows (docs/benchmarks.md, issue 14). A
// deadlock victim is run again, up to 5 times.
func (d *Documents) MoveSenders(ctx context.Context, sent []store.SentSeq) error {
	if len(sent) == 0 {
		return nil
	}
	sorted := slices.Clone(sent)
	slices.SortFunc(sorted, func(a, b store.SentSeq) int {
		return cmp.Or(strings.Compare(a.Conversation, b.Conversation), cmp.Compare(a.Seq, b.Seq))
	})
	where := make([]string, len(sorted))
	args := make([]any, 0, 1+3*len(sorted))
	args = append(args, dbTime(time.Now()))
	for i, s := range sorted {
		where[i] = "(m.conversation = ? AND m.seq = ? AND m.sender_id = ?)"
		args = append(args, s.Conversation, s.Seq, s.UserID)
	}
	q := "INSERT INTO conversation_states (user_id, conversation, read_seq, read_counted, last_sent_seq, updated_at)" +
		" SELECT m.sender_id, m.conversation, m.seq, m.counted, m.seq, ? FROM messages m WHERE " + strings.Join(where, " OR ") +
		" ON DUPLICATE KEY UPDATE read_seq = GREATEST(read_seq, VALUES(read_seq)), read_counted = GREATEST(read_counted, VALUES(read_counted))," +
		" last_sent_seq = GREATEST(last_sent_seq, VALUES(last_sent_seq)), updated_at = VALUES(updated_at)"
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if _, err = d.db.ExecContext(ctx, q, args...); err == nil || !isRetryable(err) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("move %d senders: %w", len(sent), err)
	}
	return nil
}
