package mysql

import (
	"bytes"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
	"github.com/privateim/privateim/dataservice/internal/store/mysql/mysqltest"
)

// TestReactionCountsBackfill: migration 0014 writes, from the rows of
// message_reactions, the same reactions column that the appends wrote
// (emoji of any bytes, ties of the first reaction, a removed first
// reaction), so a database with reactions from before it reads the same
// counts after it.
func TestReactionCountsBackfill(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, mysqltest.NewDatabase(t), Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	d := NewDocuments(db)
	base := time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)
	id := int64(0)
	msg := func(sender int64, client string, ms int) store.Message {
		id++
		return store.Message{ID: id, Conversation: "c", SenderID: sender, ClientMsgID: client, Kind: "text",
			Content: []byte(`{"kind":"text","text":"x"}`), CreatedAt: base.Add(time.Duration(ms) * time.Millisecond)}
	}
	react := func(user int64, client string, target int64, emoji string, remove bool, ms int) store.Message {
		m := msg(user, client, ms)
		m.Kind, m.Content = "react", []byte(`{"kind":"react"}`)
		m.Reaction = &store.Reaction{TargetSeq: target, UserID: user, Emoji: emoji, Remove: remove}
		return m
	}
	for i := range 3 {
		if _, err := d.AppendMessages(ctx, []store.Message{msg(1, fmt.Sprint("m", i), 0)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []store.Message{
		react(2, "a", 1, "👍", false, 4),
		react(3, "b", 1, "a,b c", false, 5),
		react(4, "c", 1, "👍", false, 7),
		react(2, "d", 1, "👍", true, 9), // 👍's first reaction goes: it moves after "a,b c"
		react(5, "e", 2, "❤️", false, 3),
		react(6, "f", 2, "\x00\xff", false, 3), // the same first: ordered by emoji bytes
	} {
		if _, err := d.AppendMessages(ctx, []store.Message{m}); err != nil {
			t.Fatalf("%s: %v", m.ClientMsgID, err)
		}
	}
	columns := func() map[int64][]byte {
		t.Helper()
		rows, err := db.QueryContext(ctx, "SELECT seq, reactions FROM messages WHERE conversation = 'c' AND seq <= 3")
		if err != nil {
			t.Fatal(err)
		}
		out := map[int64][]byte{}
		for rows.Next() {
			var seq int64
			var b []byte
			if err := rows.Scan(&seq, &b); err != nil {
				t.Fatal(err)
			}
			out[seq] = b
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	rs, err := d.Reactions(ctx, "c", []int64{1, 2, 3}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(rs[1]); got != "[{a,b c 1 true} {👍 1 false}]" {
		t.Errorf("message 1: %s", got)
	}
	if got := fmt.Sprint(rs[2]); got != fmt.Sprint([]store.ReactionCount{{Emoji: "\x00\xff", Count: 1}, {Emoji: "❤️", Count: 1}}) {
		t.Errorf("message 2: %s", got)
	}
	if len(rs[3]) != 0 || len(columns()[3]) != 0 {
		t.Errorf("message 3 has no reactions: %v, %q", rs[3], columns()[3])
	}
	checkBackfill(t, db, columns)

	// An emoji of more than keptUsers users: not listed, "me" read apart.
	for u := range keptUsers + 1 {
		if _, err := d.AppendMessages(ctx, []store.Message{react(int64(100+u), fmt.Sprint("many", u), 3, "👍", false, 20+u)}); err != nil {
			t.Fatal(err)
		}
	}
	wantMany := func(what string, n int64, listed bool) {
		t.Helper()
		for _, viewer := range []int64{100, 3} {
			rs, err := d.Reactions(ctx, "c", []int64{3}, viewer)
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprint([]store.ReactionCount{{Emoji: "👍", Count: n, Me: viewer == 100}}); fmt.Sprint(rs[3]) != want {
				t.Errorf("%s, seen by %d: %v, want %s", what, viewer, rs[3], want)
			}
		}
		if got := bytes.HasSuffix(columns()[3], []byte(" *")); got == listed {
			t.Errorf("%s: users listed %v, want %v: %q", what, !got, listed, columns()[3])
		}
	}
	wantMany("17 users", keptUsers+1, false)
	checkBackfill(t, db, columns)
	if _, err := d.AppendMessages(ctx, []store.Message{react(116, "fewer", 3, "👍", true, 50)}); err != nil {
		t.Fatal(err)
	}
	wantMany("16 users again", keptUsers, true)
	checkBackfill(t, db, columns)
}

// checkBackfill runs the UPDATE of migration 0014 over emptied columns and
// wants back what the appends wrote.
func checkBackfill(t *testing.T, db *sql.DB, columns func() map[int64][]byte) {
	t.Helper()
	ctx := t.Context()
	appended := columns()
	body, err := migrations.ReadFile("migrations/0014_reaction_counts.sql")
	if err != nil {
		t.Fatal(err)
	}
	var backfill string
	for _, stmt := range splitStatements(string(body)) {
		if strings.HasPrefix(stmt, "UPDATE") {
			backfill = stmt
		}
	}
	if _, err := db.ExecContext(ctx, "UPDATE messages SET reactions = ''"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, backfill); err != nil {
		t.Fatalf("backfill: %v", err)
	}
	for seq, want := range appended {
		if got := columns()[seq]; !bytes.Equal(got, want) {
			t.Errorf("message %d: backfilled %q, appended %q", seq, got, want)
		}
	}
}
