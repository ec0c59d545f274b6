package mysql

// Reactions (issue 15). message_reactions holds one row per (message, emoji,
// user). A history page does not read those rows: each message row keeps
// its counts in messages.reactions, with the users of every emoji that has
// at most keptUsers of them, rewritten by every reaction's append under the
// message's row lock. So a page with reactions is one query over messages
// like a plain one; only an emoji with more users (a popular message of a
// big group) costs a second query for the viewer's own rows of the page.
// Reading and counting the page's reaction rows instead cost 1.9x a plain
// page, and a subquery per message for the viewer's rows 2x
// (BenchmarkSyncWithReactions100, docs/benchmarks.md).

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
)

// keptUsers is how many users of one emoji the reactions column lists.
// 20 emoji of 16 users fit in 8 KiB.
const keptUsers = 16

// emojiCount is one entry of messages.reactions.
type emojiCount struct {
	emoji string
	count int64
	first int64   // unix µs of the emoji's earliest reaction still there
	users []int64 // ascending, when count <= keptUsers; else nil
}

// The messages.reactions column is "" or, per emoji in the order of
// (first, emoji), "<emoji as upper-case hex> <count> <first> <users>"
// joined by ",", users being the user ids joined by "." or "*" when there
// are more than keptUsers: hex keeps any emoji byte out of the separators.
// Migration 0014 writes the same format from message_reactions in SQL.

func formatCounts(cs []emojiCount) []byte {
	b := []byte{}
	for i, c := range cs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, strings.ToUpper(hex.EncodeToString([]byte(c.emoji)))...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, c.count, 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, c.first, 10)
		b = append(b, ' ')
		if c.count > keptUsers {
			b = append(b, '*')
			continue
		}
		for j, u := range c.users {
			if j > 0 {
				b = append(b, '.')
			}
			b = strconv.AppendInt(b, u, 10)
		}
	}
	return b
}

func parseCounts(b []byte) ([]emojiCount, error) {
	var out []emojiCount
	for rest := b; len(rest) > 0; {
		var e entry
		var ok bool
		e, rest, ok = cutEntry(rest)
		emoji, err1 := hex.DecodeString(string(e.emojiHex))
		count, err2 := strconv.ParseInt(string(e.count), 10, 64)
		first, err3 := strconv.ParseInt(string(e.first), 10, 64)
		if !ok || err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("malformed reaction counts %q", b)
		}
		c := emojiCount{emoji: string(emoji), count: count, first: first}
		if count <= keptUsers {
			for u := range bytes.SplitSeq(e.users, []byte{'.'}) {
				id, err := strconv.ParseInt(string(u), 10, 64)
				if err != nil {
					return nil, fmt.Errorf("malformed reaction counts %q", b)
				}
				c.users = append(c.users, id)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// entry is one emoji's fields in a reactions column.
type entry struct{ emojiHex, count, first, users []byte }

func cutEntry(b []byte) (e entry, rest []byte, ok bool) {
	fields, rest, _ := bytes.Cut(b, []byte{','})
	var ok1, ok2, ok3 bool
	e.emojiHex, fields, ok1 = bytes.Cut(fields, []byte{' '})
	e.count, fields, ok2 = bytes.Cut(fields, []byte{' '})
	e.first, e.users, ok3 = bytes.Cut(fields, []byte{' '})
	return e, rest, ok1 && ok2 && ok3
}

func sortCounts(cs []emojiCount) {
	slices.SortFunc(cs, func(a, b emojiCount) int {
		return cmp.Or(cmp.Compare(a.first, b.first), strings.Compare(a.emoji, b.emoji))
	})
}

// react checks and applies m's reaction to its target (found, of kind,
// with the reactions column stored), in the append's transaction that
// holds the target's row lock.
func react(ctx context.Context, conn *sql.Conn, m store.Message, found bool, kind string, stored []byte) error {
	r := m.Reaction
	var counts []emojiCount
	at := dbTime(m.CreatedAt)
	i := -1
	var mine bool
	var mineAt time.Time
	if found {
		var err error
		if counts, err = parseCounts(stored); err != nil {
			return fmt.Errorf("message %d: %w", r.TargetSeq, err)
		}
		i = slices.IndexFunc(counts, func(c emojiCount) bool { return c.emoji == r.Emoji })
		// The users listed answer "mine" unless the row's time is needed.
		if i >= 0 && (r.Remove || counts[i].users == nil) {
			err := conn.QueryRowContext(ctx, "SELECT created_at FROM message_reactions WHERE conversation = ? AND seq = ? AND emoji = ? AND user_id = ?",
				m.Conversation, r.TargetSeq, r.Emoji, r.UserID).Scan(&mineAt)
			switch {
			case err == nil:
				mine = true
			case !errors.Is(err, sql.ErrNoRows):
				return fmt.Errorf("read the reaction to message %d: %w", r.TargetSeq, err)
			}
		} else if i >= 0 {
			_, mine = slices.BinarySearch(counts[i].users, r.UserID)
		}
	}
	if err := store.ReactionRefused(r, found, kind, mine, i >= 0, len(counts)); err != nil {
		return err
	}
	update := "UPDATE messages SET reactions = ? WHERE conversation = ? AND seq = ?"
	if r.Remove {
		if _, err := conn.ExecContext(ctx, "DELETE FROM message_reactions WHERE conversation = ? AND seq = ? AND emoji = ? AND user_id = ?",
			m.Conversation, r.TargetSeq, r.Emoji, r.UserID); err != nil {
			return fmt.Errorf("remove the reaction to message %d: %w", r.TargetSeq, err)
		}
		c := &counts[i]
		c.count--
		if c.count == 0 {
			counts = slices.Delete(counts, i, i+1)
		} else if err := c.reread(ctx, conn, m.Conversation, r.TargetSeq, mineAt.UnixMicro() == c.first, r.UserID); err != nil {
			return err
		}
		sortCounts(counts)
		if _, err := conn.ExecContext(ctx, update, formatCounts(counts), m.Conversation, r.TargetSeq); err != nil {
			return fmt.Errorf("count the reactions to message %d: %w", r.TargetSeq, err)
		}
		return nil
	}
	if i < 0 {
		counts = append(counts, emojiCount{emoji: r.Emoji, first: at.UnixMicro()})
		i = len(counts) - 1
	}
	c := &counts[i]
	c.count++
	c.first = min(c.first, at.UnixMicro())
	if c.count <= keptUsers {
		j, _ := slices.BinarySearch(c.users, r.UserID)
		c.users = slices.Insert(c.users, j, r.UserID)
	} else {
		c.users = nil
	}
	sortCounts(counts)
	if _, err := conn.ExecContext(ctx, "INSERT INTO message_reactions (conversation, seq, emoji, user_id, created_at) VALUES (?, ?, ?, ?, ?); "+update,
		m.Conversation, r.TargetSeq, r.Emoji, r.UserID, at, formatCounts(counts), m.Conversation, r.TargetSeq); err != nil {
		return fmt.Errorf("react to message %d: %w", r.TargetSeq, err)
	}
	return nil
}

// reread brings c up to date after user's reaction was removed (count is
// already lowered): the next first reaction when the removed one was the
// first, the users when they are few enough to list again.
func (c *emojiCount) reread(ctx context.Context, conn *sql.Conn, conv string, seq int64, wasFirst bool, user int64) error {
	if wasFirst {
		var first time.Time
		if err := conn.QueryRowContext(ctx, "SELECT MIN(created_at) FROM message_reactions WHERE conversation = ? AND seq = ? AND emoji = ?",
			conv, seq, c.emoji).Scan(&first); err != nil {
			return fmt.Errorf("read the first reaction to message %d: %w", seq, err)
		}
		c.first = first.UnixMicro()
	}
	switch {
	case c.count > keptUsers:
	case c.users != nil:
		c.users = slices.DeleteFunc(c.users, func(u int64) bool { return u == user })
	default:
		rows, err := conn.QueryContext(ctx, "SELECT user_id FROM message_reactions WHERE conversation = ? AND seq = ? AND emoji = ? ORDER BY user_id",
			conv, seq, c.emoji)
		if err != nil {
			return fmt.Errorf("read the users of a reaction to message %d: %w", seq, err)
		}
		defer rows.Close()
		for rows.Next() {
			var u int64
			if err := rows.Scan(&u); err != nil {
				return fmt.Errorf("read the users of a reaction to message %d: %w", seq, err)
			}
			c.users = append(c.users, u)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read the users of a reaction to message %d: %w", seq, err)
		}
	}
	return nil
}

// Reactions returns the counts of the messages seqs of conversation that
// have any, as viewer sees them.
func (d *Documents) Reactions(ctx context.Context, conversation string, seqs []int64, viewer int64) (map[int64][]store.ReactionCount, error) {
	out := map[int64][]store.ReactionCount{}
	if len(seqs) == 0 {
		return out, nil
	}
	args := make([]any, 0, 1+len(seqs))
	args = append(args, conversation)
	for _, s := range seqs {
		args = append(args, s)
	}
	rows, err := d.db.QueryContext(ctx, "SELECT seq, reactions FROM messages WHERE conversation = ? AND seq IN ("+
		placeholders(len(seqs))+") AND reactions <> ''", args...)
	if err != nil {
		return nil, fmt.Errorf("reactions of %s: %w", conversation, err)
	}
	defer rows.Close()
	dec := newCountDecoder(viewer)
	for rows.Next() {
		var seq int64
		var counts sql.RawBytes
		if err := rows.Scan(&seq, &counts); err != nil {
			return nil, fmt.Errorf("reactions of %s: %w", conversation, err)
		}
		if err := dec.decode(out, seq, counts); err != nil {
			return nil, fmt.Errorf("reactions of %s: message %d: %w", conversation, seq, err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reactions of %s: %w", conversation, err)
	}
	rows.Close()
	if err := dec.lookUpMine(ctx, d.db, conversation, out); err != nil {
		return nil, err
	}
	return out, nil
}

// GetMessagesWithReactions reads the page and its reaction counts in one
// query (two when an emoji of the page has more than keptUsers users).
func (d *Documents) GetMessagesWithReactions(ctx context.Context, r store.MessageRange, viewer int64) ([]store.Message, bool, map[int64][]store.ReactionCount, error) {
	limit := clampLimit(r.Limit)
	q, args := rangeQuery(msgCols+", reactions", nil, r, limit)
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, false, nil, fmt.Errorf("get messages of %q: %w", r.Conversation, err)
	}
	defer rows.Close()
	msgs := make([]store.Message, 0, limit+1)
	rs := map[int64][]store.ReactionCount{}
	dec := newCountDecoder(viewer)
	for rows.Next() {
		var m store.Message
		var counts sql.RawBytes
		if err := rows.Scan(&m.ID, &m.Conversation, &m.Seq, &m.SenderID, &m.ClientMsgID, &m.Kind, &m.Content, &m.CreatedAt, &counts); err != nil {
			return nil, false, nil, fmt.Errorf("get messages of %q: %w", r.Conversation, err)
		}
		msgs = append(msgs, m)
		if len(counts) > 0 && len(msgs) <= limit {
			if err := dec.decode(rs, m.Seq, counts); err != nil {
				return nil, false, nil, fmt.Errorf("reactions of %q: message %d: %w", r.Conversation, m.Seq, err)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, false, nil, fmt.Errorf("get messages of %q: %w", r.Conversation, err)
	}
	rows.Close()
	if err := dec.lookUpMine(ctx, d.db, r.Conversation, rs); err != nil {
		return nil, false, nil, err
	}
	msgs, more := pageOf(msgs, r, limit)
	return msgs, more, rs, nil
}

// countDecoder turns reactions columns into ReactionCounts for a viewer.
type countDecoder struct {
	viewer int64
	dec    []byte            // the viewer's id in decimal
	emoji  map[string]string // hex -> emoji: a page repeats a few emoji many times
	unsure []int64           // seqs with an emoji whose users are not listed
}

func newCountDecoder(viewer int64) *countDecoder {
	return &countDecoder{viewer: viewer, dec: strconv.AppendInt(nil, viewer, 10), emoji: map[string]string{}}
}

// decode adds the counts of message seq to out.
func (d *countDecoder) decode(out map[int64][]store.ReactionCount, seq int64, counts []byte) error {
	rc := make([]store.ReactionCount, 0, bytes.Count(counts, []byte{','})+1)
	unsure := false
	for rest := counts; len(rest) > 0; {
		var e entry
		var ok bool
		e, rest, ok = cutEntry(rest)
		count, err := strconv.ParseInt(string(e.count), 10, 64)
		if !ok || err != nil {
			return fmt.Errorf("malformed reaction counts %q", counts)
		}
		emoji, ok := d.emoji[string(e.emojiHex)]
		if !ok {
			b, err := hex.DecodeString(string(e.emojiHex))
			if err != nil {
				return fmt.Errorf("malformed reaction counts %q", counts)
			}
			emoji = string(b)
			d.emoji[string(e.emojiHex)] = emoji
		}
		unsure = unsure || bytes.Equal(e.users, []byte{'*'})
		rc = append(rc, store.ReactionCount{Emoji: emoji, Count: count, Me: hasUser(e.users, d.dec)})
	}
	if unsure {
		d.unsure = append(d.unsure, seq)
	}
	out[seq] = rc
	return nil
}

// lookUpMine reads the viewer's own reactions of the messages with an
// emoji whose users are not listed, and marks them in out.
func (d *countDecoder) lookUpMine(ctx context.Context, db *sql.DB, conv string, out map[int64][]store.ReactionCount) error {
	if len(d.unsure) == 0 {
		return nil
	}
	args := make([]any, 0, 2+len(d.unsure))
	args = append(args, conv, d.viewer)
	for _, s := range d.unsure {
		args = append(args, s)
	}
	rows, err := db.QueryContext(ctx, "SELECT seq, emoji FROM message_reactions WHERE conversation = ? AND user_id = ? AND seq IN ("+
		placeholders(len(d.unsure))+")", args...)
	if err != nil {
		return fmt.Errorf("the viewer's reactions in %s: %w", conv, err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var emoji sql.RawBytes
		if err := rows.Scan(&seq, &emoji); err != nil {
			return fmt.Errorf("the viewer's reactions in %s: %w", conv, err)
		}
		for i, rc := range out[seq] {
			if rc.Emoji == string(emoji) {
				out[seq][i].Me = true
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("the viewer's reactions in %s: %w", conv, err)
	}
	return nil
}

// hasUser says whether the "."-joined users list holds user.
func hasUser(users, user []byte) bool {
	for len(users) > 0 {
		var u []byte
		u, users, _ = bytes.Cut(users, []byte{'.'})
		if bytes.Equal(u, user) {
			return true
		}
	}
	return false
}
