package mysql

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/privateim/privateim/dataservice/internal/store"
)

const msgCols = "id, conversation, seq, sender_id, client_msg_id, kind, content, created_at"

// An append batch is inserted in statements of at most this many content
// bytes, far below MariaDB's default max_allowed_packet (16 MiB), so 1000
// messages of 256 KiB each still go through.
const maxInsertBytes = 4 << 20

// A dedup race loses against at most one rival per key; after this many
// rounds something else is wrong.
const maxDedupRetries = 8

// errDedupRace: one of our (sender, client id) keys is stored already
// (before an insert that did not look, or by another transaction after we
// looked). Retrying with the lookup sees its row.
var errDedupRace = errors.New("idempotency key stored concurrently")

type dedupKey struct {
	sender int64
	client string
}

func keyOf(m store.Message) dedupKey { return dedupKey{m.SenderID, m.ClientMsgID} }

// AppendMessages stores msgs in one transaction of two round trips to the
// server (multi-statement packets, see Open): "begin; bump the counters;
// read them" and "insert the messages; commit". The first attempt does not
// look for the idempotency keys: it inserts, and a duplicate key (a
// re-sent message, rare) rolls the whole transaction back, counters
// included, so seqs stay gap-free; the next attempt first reads the keys
// stored before and answers those as duplicates. A deadlock victim is run
// again, up to 5 times.
func (d *Documents) AppendMessages(ctx context.Context, msgs []store.Message) ([]store.AppendResult, error) {
	if len(msgs) == 0 {
		return []store.AppendResult{}, nil
	}
	lookup := false
	for races, deadlocks := 0, 0; ; {
		out, err := d.appendOnce(ctx, msgs, lookup)
		switch {
		case err == nil:
			return out, nil
		case errors.Is(err, errDedupRace) && races+1 < maxDedupRetries:
			races++
			lookup = true
		case !lookup && (errors.Is(err, store.ErrPrecondition) || errors.Is(err, store.ErrNotFound)):
			// A refused change may be a re-sent event whose first send
			// applied it: the attempt that looks up the keys first answers
			// that one as a duplicate and applies nothing.
			lookup = true
		case isRetryable(err) && deadlocks+1 < 5:
			deadlocks++
		default:
			return nil, fmt.Errorf("append %d messages: %w", len(msgs), err)
		}
	}
}

// beginRC opens a READ COMMITTED transaction (see docTx) as the head of a
// multi-statement packet.
const beginRC = "SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION; "

// appendOnce is one attempt of AppendMessages on a connection of its own;
// lookup reads the keys stored before first, else a key stored before fails
// the insert with errDedupRace.
func (d *Documents) appendOnce(ctx context.Context, msgs []store.Message, lookup bool) (_ []store.AppendResult, err error) {
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connection: %w", err)
	}
	defer func() { endConn(conn, err != nil) }()

	first := make(map[dedupKey]int, len(msgs)) // key -> index of its first occurrence
	for i, m := range msgs {
		if _, ok := first[keyOf(m)]; !ok {
			first[keyOf(m)] = i
		}
	}
	head := beginRC // what the next packet starts with
	stored := map[dedupKey]store.Message{}
	if lookup {
		if stored, err = messagesByKeys(ctx, conn, head, first); err != nil {
			return nil, err
		}
		head = ""
	}

	// The messages to store: first occurrences of keys not stored before.
	var fresh []int
	count := map[string]int64{}
	counts := map[string]int64{} // of count, those that count as unread
	for i, m := range msgs {
		k := keyOf(m)
		if _, ok := stored[k]; ok || first[k] != i {
			continue
		}
		fresh = append(fresh, i)
		count[m.Conversation]++
		if m.Counts() {
			counts[m.Conversation]++
		}
	}

	results := make([]store.AppendResult, len(msgs))
	if len(fresh) == 0 {
		if _, err := conn.ExecContext(ctx, head+"COMMIT"); err != nil {
			return nil, fmt.Errorf("commit: %w", err)
		}
	} else {
		at := map[string]time.Time{} // the newest created_at per conversation
		for _, i := range fresh {
			if m := msgs[i]; m.CreatedAt.After(at[m.Conversation]) {
				at[m.Conversation] = m.CreatedAt
			}
		}
		heads, err := bumpCounters(ctx, conn, head, count, counts, at)
		if err != nil {
			return nil, err
		}
		// heads[c] is the last seq now reserved and the count as of it;
		// ours are the count[c] seqs before it.
		next := make(map[string]counter, len(count))
		for c, n := range count {
			next[c] = counter{seq: heads[c].seq - n + 1, counted: heads[c].counted - counts[c]}
		}
		rows := make([]row, 0, len(fresh))
		for _, i := range fresh {
			m := msgs[i]
			n := next[m.Conversation]
			m.Seq = n.seq
			if m.Counts() {
				n.counted++
			}
			next[m.Conversation] = counter{seq: n.seq + 1, counted: n.counted}
			m.CreatedAt = dbTime(m.CreatedAt)
			if m.Content == nil {
				m.Content = []byte{}
			}
			results[i] = store.AppendResult{Message: m}
			rows = append(rows, row{Message: m, counted: n.counted})
		}
		if err := applyChanges(ctx, conn, msgs, fresh, results); err != nil {
			return nil, err
		}
		if err := insertMessagesAndCommit(ctx, conn, rows); err != nil {
			return nil, err
		}
	}
	for i, m := range msgs {
		k := keyOf(m)
		if s, ok := stored[k]; ok {
			results[i] = store.AppendResult{Message: s, Duplicate: true}
		} else if f := first[k]; f != i {
			results[i] = store.AppendResult{Message: results[f].Message, Duplicate: true}
		}
	}
	return results, nil
}

// endConn hands conn back to the pool. After a failure the transaction may
// still be open (a statement failed before the COMMIT of its packet): it is
// rolled back, and a connection that cannot even do that is closed rather
// than handed to the next caller mid-transaction.
func endConn(conn *sql.Conn, failed bool) {
	if failed {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		cancel()
	}
	_ = conn.Close()
}

// messagesByKeys reads the stored messages with any of keys, grouping the
// keys by sender so each group is one range on the unique index.
// head is prepended to the query (the transaction's begin).
func messagesByKeys(ctx context.Context, conn *sql.Conn, head string, keys map[dedupKey]int) (map[dedupKey]store.Message, error) {
	bySender := map[int64][]string{}
	for k := range keys {
		bySender[k.sender] = append(bySender[k.sender], k.client)
	}
	var where []string
	args := make([]any, 0, len(keys)+len(bySender))
	for s, clients := range bySender {
		where = append(where, "(sender_id = ? AND client_msg_id IN ("+placeholders(len(clients))+"))")
		args = append(args, s)
		for _, c := range clients {
			args = append(args, c)
		}
	}
	rows, err := conn.QueryContext(ctx, head+"SELECT "+msgCols+" FROM messages WHERE "+strings.Join(where, " OR "), args...)
	if err != nil {
		return nil, fmt.Errorf("read idempotency keys: %w", err)
	}
	msgs, err := scanMessages(rows)
	if err != nil {
		return nil, fmt.Errorf("read idempotency keys: %w", err)
	}
	out := make(map[dedupKey]store.Message, len(msgs))
	for _, m := range msgs {
		out[keyOf(m)] = m
	}
	return out, nil
}

// counter is a conversation_seq row: the head and how many messages up to
// it count as unread; or a message's seq and the count as of it.
type counter struct{ seq, counted int64 }

// row is a message to insert with its count (messages.counted).
type row struct {
	store.Message
	counted int64
}

// bumpCounters adds count[c] to each conversation's counter and counts[c]
// to its count of messages that count, creating missing ones, stamps it with at[c] (when the head was appended; never moved back, as in
// the Mongo adapter, should two DataService clocks disagree) and
// returns the new values: the upsert and the read in one packet, after head
// (the transaction's begin). The upsert lists conversations in sorted order
// so concurrent batches lock counters in the same order.
func bumpCounters(ctx context.Context, conn *sql.Conn, head string, count, counts map[string]int64, at map[string]time.Time) (map[string]counter, error) {
	convs := make([]string, 0, len(count))
	for c := range count {
		convs = append(convs, c)
	}
	slices.Sort(convs)
	values := strings.Repeat("(?, ?, ?, ?), ", len(convs)-1) + "(?, ?, ?, ?)"
	args := make([]any, 0, 5*len(convs))
	for _, c := range convs {
		args = append(args, c, count[c], counts[c], dbTime(at[c]))
	}
	for _, c := range convs {
		args = append(args, c)
	}
	// We hold these rows' locks after the upsert, so the values read are
	// ours until commit.
	rows, err := conn.QueryContext(ctx, head+"INSERT INTO conversation_seq (conversation, seq, counted, updated_at) VALUES "+values+
		" ON DUPLICATE KEY UPDATE seq = seq + VALUES(seq), counted = counted + VALUES(counted),"+
		" updated_at = GREATEST(COALESCE(updated_at, VALUES(updated_at)), VALUES(updated_at)); "+
		"SELECT conversation, seq, counted FROM conversation_seq WHERE conversation IN ("+placeholders(len(convs))+")", args...)
	if err != nil {
		return nil, fmt.Errorf("bump seq counters: %w", err)
	}
	defer rows.Close()
	heads := make(map[string]counter, len(convs))
	for rows.Next() {
		var c string
		var h counter
		if err := rows.Scan(&c, &h.seq, &h.counted); err != nil {
			return nil, fmt.Errorf("read seq counters: %w", err)
		}
		heads[c] = h
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read seq counters: %w", err)
	}
	if len(heads) != len(convs) {
		return nil, fmt.Errorf("read seq counters: got %d of %d", len(heads), len(convs))
	}
	return heads, nil
}

// insertMessagesAndCommit inserts rows with multi-row INSERTs of bounded
// size, the last one in one packet with the COMMIT, in (sender, client id) order so
// two batches sharing keys take the unique index's locks in the same order.
// A failed statement stops its packet: the COMMIT does not run.
func insertMessagesAndCommit(ctx context.Context, conn *sql.Conn, rows []row) error {
	slices.SortFunc(rows, func(a, b row) int {
		return cmp.Or(cmp.Compare(a.SenderID, b.SenderID), strings.Compare(a.ClientMsgID, b.ClientMsgID))
	})
	for len(rows) > 0 {
		n, size := 0, 0
		for n < len(rows) && (n == 0 || size+len(rows[n].Content) <= maxInsertBytes) {
			size += len(rows[n].Content)
			n++
		}
		chunk := rows[:n]
		rows = rows[n:]
		args := make([]any, 0, 9*len(chunk))
		for _, m := range chunk {
			args = append(args, m.ID, m.Conversation, m.Seq, m.SenderID, m.ClientMsgID, m.Kind, m.Content, m.CreatedAt, m.counted)
		}
		q := "INSERT INTO messages (" + msgCols + ", counted) VALUES " +
			strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?), ", len(chunk)-1) + "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
		if len(rows) == 0 {
			q += "; COMMIT"
		}
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			if isDuplicate(err) {
				return classifyDuplicate(err)
			}
			return fmt.Errorf("insert messages and commit: %w", err)
		}
	}
	return nil
}

// classifyDuplicate tells a lost idempotency race (retry) from a reused
// message id (the caller's mistake).
func classifyDuplicate(err error) error {
	var me *mysql.MySQLError
	errors.As(err, &me)
	switch {
	case strings.Contains(me.Message, "uq_messages_sender_client"):
		return errDedupRace
	case strings.Contains(me.Message, "PRIMARY"):
		return fmt.Errorf("insert messages: %w", &store.ExistsError{Field: "message id"})
	}
	return fmt.Errorf("insert messages: %w", err)
}

func scanMessages(rows *sql.Rows) ([]store.Message, error) {
	defer rows.Close()
	var out []store.Message
	for rows.Next() {
		var m store.Message
		if err := rows.Scan(&m.ID, &m.Conversation, &m.Seq, &m.SenderID, &m.ClientMsgID, &m.Kind, &m.Content, &m.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// GetMessages returns the messages of r in ascending seq order.
func (d *Documents) GetMessages(ctx context.Context, r store.MessageRange) ([]store.Message, bool, error) {
	limit := clampLimit(r.Limit)
	q, args := rangeQuery(msgCols, nil, r, limit)
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, false, fmt.Errorf("get messages of %q: %w", r.Conversation, err)
	}
	msgs, err := scanMessages(rows)
	if err != nil {
		return nil, false, fmt.Errorf("get messages of %q: %w", r.Conversation, err)
	}
	msgs, more := pageOf(msgs, r, limit)
	return orEmpty(msgs), more, nil
}

// rangeQuery selects cols (after args, the arguments of cols' marks) of
// the messages of r, limit+1 of them so the caller can tell whether there
// are more; newest first when r says so.
func rangeQuery(cols string, args []any, r store.MessageRange, limit int) (string, []any) {
	q := "SELECT " + cols + " FROM messages WHERE conversation = ? AND seq > ?"
	args = append(args, r.Conversation, r.AfterSeq)
	if r.ClearedFor > 0 {
		// A constant subquery: MariaDB reads it first and scans the range
		// from there, in the page's own round trip.
		q = "SELECT " + cols + " FROM messages WHERE conversation = ? AND seq > GREATEST(?, COALESCE((SELECT cleared_seq" +
			" FROM conversation_states WHERE user_id = ? AND conversation = ?), 0))"
		args = append(args, r.ClearedFor, r.Conversation)
	}
	if r.BeforeSeq > 0 {
		q += " AND seq < ?"
		args = append(args, r.BeforeSeq)
	}
	if r.NewestFirst {
		q += " ORDER BY seq DESC LIMIT ?"
	} else {
		q += " ORDER BY seq LIMIT ?"
	}
	return q, append(args, limit+1)
}

// pageOf cuts the rows of rangeQuery to limit in ascending seq order and
// says whether there were more.
func pageOf[T any](rows []T, r store.MessageRange, limit int) ([]T, bool) {
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	if r.NewestFirst {
		slices.Reverse(rows)
	}
	return rows, more
}

// GetMessagesByTime pages through [from, to) by (created_at, seq). The page
// token is "<created_at unix microseconds>:<seq>" of the last row returned.
func (d *Documents) GetMessagesByTime(ctx context.Context, conversation string, from, to time.Time, p store.Page) ([]store.Message, string, error) {
	limit := clampLimit(p.Limit)
	from, to = dbTime(from), dbTime(to)
	q := "SELECT " + msgCols + " FROM messages WHERE conversation = ? AND created_at >= ? AND created_at < ?"
	args := []any{conversation, from, to}
	if p.After != "" {
		at, seq, err := parseTimeToken(p.After)
		if err != nil {
			return nil, "", fmt.Errorf("get messages of %q by time: %w", conversation, err)
		}
		if at.After(from) {
			args[1] = at
		}
		q += " AND (created_at > ? OR (created_at = ? AND seq > ?))"
		args = append(args, at, at, seq)
	}
	q += " ORDER BY created_at, seq LIMIT ?"
	args = append(args, limit+1)
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("get messages of %q by time: %w", conversation, err)
	}
	msgs, err := scanMessages(rows)
	if err != nil {
		return nil, "", fmt.Errorf("get messages of %q by time: %w", conversation, err)
	}
	next := ""
	if len(msgs) > limit {
		msgs = msgs[:limit]
		last := msgs[limit-1]
		next = strconv.FormatInt(last.CreatedAt.UnixMicro(), 10) + ":" + strconv.FormatInt(last.Seq, 10)
	}
	return orEmpty(msgs), next, nil
}

func parseTimeToken(tok string) (time.Time, int64, error) {
	us, s, ok := strings.Cut(tok, ":")
	micros, err1 := strconv.ParseInt(us, 10, 64)
	seq, err2 := strconv.ParseInt(s, 10, 64)
	if !ok || err1 != nil || err2 != nil || seq < 1 {
		return time.Time{}, 0, fmt.Errorf("page token %q: %w", tok, store.ErrBadPageToken)
	}
	return time.UnixMicro(micros).UTC(), seq, nil
}

// GetMessageByClientID returns the message stored under the idempotency key.
func (d *Documents) GetMessageByClientID(ctx context.Context, senderID int64, clientMsgID string) (store.Message, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT "+msgCols+" FROM messages WHERE sender_id = ? AND client_msg_id = ?", senderID, clientMsgID)
	if err != nil {
		return store.Message{}, fmt.Errorf("get message %d/%q: %w", senderID, clientMsgID, err)
	}
	msgs, err := scanMessages(rows)
	if err != nil {
		return store.Message{}, fmt.Errorf("get message %d/%q: %w", senderID, clientMsgID, err)
	}
	if len(msgs) == 0 {
		return store.Message{}, fmt.Errorf("get message %d/%q: %w", senderID, clientMsgID, store.ErrNotFound)
	}
	return msgs[0], nil
}

// ConversationHeads reads the counters: seqs are gap-free, so a counter is
// its conversation's last seq.
func (d *Documents) ConversationHeads(ctx context.Context, conversations []string) ([]int64, error) {
	out := make([]int64, len(conversations))
	if len(conversations) == 0 {
		return out, nil
	}
	args := make([]any, len(conversations))
	for i, c := range conversations {
		args[i] = c
	}
	rows, err := d.db.QueryContext(ctx, "SELECT conversation, seq FROM conversation_seq WHERE conversation IN ("+
		placeholders(len(args))+")", args...)
	if err != nil {
		return nil, fmt.Errorf("conversation heads: %w", err)
	}
	defer rows.Close()
	heads := make(map[string]int64, len(conversations))
	for rows.Next() {
		var c string
		var seq int64
		if err := rows.Scan(&c, &seq); err != nil {
			return nil, fmt.Errorf("conversation heads: %w", err)
		}
		heads[c] = seq
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("conversation heads: %w", err)
	}
	for i, c := range conversations {
		out[i] = heads[c]
	}
	return out, nil
}

// orEmpty turns nil into an empty slice so callers can tell "none" from an
// error path without nil checks.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// applyChanges applies the changes and reactions of the new messages
// (lifecycle events: a recall, an edit, a reaction) to their targets, in
// input order, inside the append's transaction after the counters are
// locked: a refused one fails the append and the rollback leaves nothing
// stored. The counter lock already serializes the conversation's appends,
// so a reaction's checks (one per user and emoji, 20 emoji) count exactly.
// Lifecycle events are rare, so each costs its own round trips; plain
// batches pay nothing.
func applyChanges(ctx context.Context, conn *sql.Conn, msgs []store.Message, fresh []int, results []store.AppendResult) error {
	for _, i := range fresh {
		m := msgs[i]
		if m.Clear != nil {
			c := m.Clear
			if _, err := conn.ExecContext(ctx, "INSERT INTO conversation_states (user_id, conversation, cleared_seq, updated_at) VALUES (?, ?, ?, ?)"+
				" ON DUPLICATE KEY UPDATE cleared_seq = GREATEST(cleared_seq, VALUES(cleared_seq))",
				c.UserID, c.Conversation, c.UpToSeq, dbTime(m.CreatedAt)); err != nil {
				return fmt.Errorf("clear %s for %d: %w", c.Conversation, c.UserID, err)
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
		var kind string
		var counts []byte
		found := true
		err := conn.QueryRowContext(ctx, "SELECT kind, reactions FROM messages WHERE conversation = ? AND seq = ? FOR UPDATE", m.Conversation, target).Scan(&kind, &counts)
		if errors.Is(err, sql.ErrNoRows) {
			found = false
		} else if err != nil {
			return fmt.Errorf("read message %d to change: %w", target, err)
		}
		if m.Change != nil {
			if err := changeMessage(ctx, conn, results[i].Message, m.Change, found, kind); err != nil {
				return err
			}
		}
		if m.Reaction != nil {
			if err := react(ctx, conn, m, found, kind, counts); err != nil {
				return err
			}
		}
	}
	return nil
}

// changeMessage applies c, the change of event ev (stored now), to its
// target.
func changeMessage(ctx context.Context, conn *sql.Conn, ev store.Message, c *store.MessageChange, found bool, kind string) error {
	if err := store.ChangeRefused(c, found, kind); err != nil {
		return err
	}
	content := c.Content
	if content == nil {
		content = []byte{}
	}
	conv := ev.Conversation
	if c.Kind == store.KindRecalled {
		// The reactions, their counts and the kept versions go with the
		// content.
		if _, err := conn.ExecContext(ctx, "UPDATE messages SET kind = ?, content = ?, reactions = '' WHERE conversation = ? AND seq = ?; "+
			"DELETE FROM message_reactions WHERE conversation = ? AND seq = ?; "+
			"DELETE FROM message_versions WHERE conversation = ? AND seq = ?",
			c.Kind, content, conv, c.TargetSeq, conv, c.TargetSeq, conv, c.TargetSeq); err != nil {
			return fmt.Errorf("recall message %d: %w", c.TargetSeq, err)
		}
		return nil
	}
	q, args := "", []any{}
	if c.KeepPrevious {
		q = "INSERT INTO message_versions (conversation, seq, replaced_by_seq, kind, content, replaced_at)" +
			" SELECT conversation, seq, ?, kind, content, ? FROM messages WHERE conversation = ? AND seq = ?; "
		args = append(args, ev.Seq, ev.CreatedAt, conv, c.TargetSeq)
	}
	if _, err := conn.ExecContext(ctx, q+"UPDATE messages SET kind = ?, content = ? WHERE conversation = ? AND seq = ?",
		append(args, c.Kind, content, conv, c.TargetSeq)...); err != nil {
		return fmt.Errorf("change message %d: %w", c.TargetSeq, err)
	}
	return nil
}

// MessageVersions returns the newest limit kept versions of message seq,
// oldest first.
func (d *Documents) MessageVersions(ctx context.Context, conversation string, seq int64, limit int) ([]store.MessageVersion, bool, error) {
	limit = clampLimit(limit)
	rows, err := d.db.QueryContext(ctx, "SELECT kind, content, replaced_by_seq, replaced_at FROM message_versions"+
		" WHERE conversation = ? AND seq = ? ORDER BY replaced_by_seq DESC LIMIT ?", conversation, seq, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("versions of message %d of %q: %w", seq, conversation, err)
	}
	defer rows.Close()
	out := []store.MessageVersion{}
	for rows.Next() {
		var v store.MessageVersion
		if err := rows.Scan(&v.Kind, &v.Content, &v.ReplacedBySeq, &v.ReplacedAt); err != nil {
			return nil, false, fmt.Errorf("versions of message %d of %q: %w", seq, conversation, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("versions of message %d of %q: %w", seq, conversation, err)
	}
	out, more := pageOf(out, store.MessageRange{NewestFirst: true}, limit)
	return out, more, nil
}
