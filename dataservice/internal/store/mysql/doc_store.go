package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
)

// Documents is the document role (messages, cursors, articles) on MySQL. It
// borrows db from whoever opened it; Close leaves it open.
//
// Seqs are gap-free because every append takes the row locks of its
// conversations' counters (conversation_seq) in sorted name order and holds
// them until its messages are inserted and committed; a transaction that
// rolls back gives its numbers back. Idempotency rests on the unique key
// (sender_id, client_msg_id): a rival that stored the same key first makes
// our insert fail with a duplicate key, and the retried transaction then
// sees the rival's row and reports it as the duplicate.
type Documents struct{ db *sql.DB }

var _ store.Documents = (*Documents)(nil)

// NewDocuments returns the document role over db, which must come from Open
// (UTC times, migrations applied).
func NewDocuments(db *sql.DB) *Documents { return &Documents{db: db} }

// Ping checks the server answers.
func (d *Documents) Ping(ctx context.Context) error {
	if err := d.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping mysql: %w", err)
	}
	return nil
}

// Close is a no-op: the *sql.DB belongs to its opener.
func (d *Documents) Close() error { return nil }

// docTx runs fn in a READ COMMITTED transaction and runs it again (up to 5
// times) when MySQL chose it as a deadlock victim. READ COMMITTED because the
// document writes need no snapshot: every read that matters is of rows the
// transaction has locked or written itself, and the level takes no gap locks
// (MariaDB with innodb_snapshot_isolation would otherwise fail a locking
// write on a row changed since an earlier plain read).
func docTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = runDocTx(ctx, db, fn)
		if err == nil || !isRetryable(err) {
			return err
		}
	}
	return err
}

func runDocTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// dbTime is t as MySQL's DATETIME(6) keeps it, so what an adapter method
// returns equals what a later read returns.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// placeholders returns "?, ?, ..., ?" with n marks.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// parseIDToken decodes a page token that is a positive decimal id.
func parseIDToken(tok string) (int64, error) {
	id, err := strconv.ParseInt(tok, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("page token %q: %w", tok, store.ErrBadPageToken)
	}
	return id, nil
}

// clampLimit applies the API's default (50) and cap (1000) to a limit that
// should already be valid, so a careless caller cannot ask for everything.
func clampLimit(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 1000:
		return 1000
	}
	return n
}
