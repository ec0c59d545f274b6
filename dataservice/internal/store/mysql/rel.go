package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/privateim/privateim/dataservice/internal/store"
)

// Relational is store.Relational over MySQL/MariaDB (TiDB- and
// Vitess-compatible SQL). The schema is migrations/0001_relational.sql.
//
// Unexported helpers of this role are prefixed "rel" so they never clash
// with the Documents role's helpers in the same package.
//
// Conditional writes avoid SELECT ... FOR UPDATE on rows that may not exist
// (that takes gap locks, which TiDB does not have): an insert that may hit
// an existing row is tried first and, on a duplicate key, followed by an
// UPDATE whose WHERE names the old value, so its affected-row count says
// whether the row was in the expected state.
type Relational struct{ db *sql.DB }

var _ store.Relational = (*Relational)(nil)

// NewRelational returns the adapter over db, which must come from Open (it
// relies on parseTime, UTC and the migrations).
func NewRelational(db *sql.DB) *Relational { return &Relational{db: db} }

// Ping checks the server answers.
func (r *Relational) Ping(ctx context.Context) error {
	if err := r.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping mysql: %w", err)
	}
	return nil
}

// Close does nothing: the *sql.DB belongs to whoever opened it, and may be
// shared with the Documents adapter.
func (r *Relational) Close() error { return nil }

// relQuerier is what *sql.DB and *sql.Tx have in common.
type relQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// relNow is the adapter's clock: UTC at the microsecond precision of
// DATETIME(6), so what a method returns equals what a later read returns.
func relNow() time.Time { return relTime(time.Now()) }

func relTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

const (
	relDefaultLimit = 50
	relMaxLimit     = 1000
)

// relLimit guards against a Page the caller did not validate.
func relLimit(p store.Page) int {
	switch {
	case p.Limit <= 0:
		return relDefaultLimit
	case p.Limit > relMaxLimit:
		return relMaxLimit
	}
	return p.Limit
}

// relAfter decodes a page token: the decimal ordering key (an id, always
// > 0) of the previous page's last row; "" starts at the beginning.
func relAfter(p store.Page) (int64, error) {
	if p.After == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(p.After, 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("page token %q: %w", p.After, store.ErrBadPageToken)
	}
	return v, nil
}

// relPage trims a result fetched with LIMIT limit+1 and returns the token
// of the next page, "" when there is none.
func relPage[T any](rows []T, limit int, key func(*T) int64) ([]T, string) {
	if len(rows) <= limit {
		return rows, ""
	}
	rows = rows[:limit]
	return rows, strconv.FormatInt(key(&rows[limit-1]), 10)
}

// relLikeEscaper makes a user's text literal inside a LIKE pattern. The
// escape character is '!' (declared with ESCAPE '!') rather than the default
// backslash, whose meaning in SQL text depends on NO_BACKSLASH_ESCAPES;
// backslash is then an ordinary character.
var relLikeEscaper = strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")

// relLikePrefix returns the pattern for "starts with prefix"; use it as
// `col LIKE ? ESCAPE '!'`.
func relLikePrefix(prefix string) string { return relLikeEscaper.Replace(prefix) + "%" }

// relDupField names the unique key a duplicate-key error hit: the field of
// the first key in keys (index name -> field) whose name ends the message,
// else "id" (the primary key). MariaDB says "for key 'uq_x'", MySQL 8 and
// TiDB "for key 'table.uq_x'".
func relDupField(err error, keys map[string]string) string {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		for key, field := range keys {
			if strings.HasSuffix(me.Message, key+"'") {
				return field
			}
		}
	}
	return "id"
}

// relSet builds the SET list of a partial update. Column names come from
// this package, never from callers; values are parameters.
type relSet struct {
	exprs []string
	args  []any
}

func (s *relSet) add(col string, v any) {
	s.exprs = append(s.exprs, col+" = ?")
	s.args = append(s.args, v)
}

func (s *relSet) expr(e string, args ...any) {
	s.exprs = append(s.exprs, e)
	s.args = append(s.args, args...)
}

func (s *relSet) String() string { return strings.Join(s.exprs, ", ") }

// relOne runs a query expected to return at most one row and scans it with
// dest; no row is store.ErrNotFound.
func relOne[T any](ctx context.Context, q relQuerier, dest func(*T) []any, query string, args ...any) (T, error) {
	var v T
	err := q.QueryRowContext(ctx, query, args...).Scan(dest(&v)...)
	if errors.Is(err, sql.ErrNoRows) {
		return v, store.ErrNotFound
	}
	return v, err
}

// relList runs a query and scans every row with dest.
func relList[T any](ctx context.Context, q relQuerier, dest func(*T) []any, query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(dest(&v)...); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// relByIDs loads the rows whose key is in ids with `selectFrom WHERE keyCol
// IN (...)` and returns them in the order of ids, each once, unknown ids
// left out.
func relByIDs[T any](ctx context.Context, q relQuerier, dest func(*T) []any, key func(*T) int64, selectFrom, keyCol string, ids []int64) ([]T, error) {
	uniq := make([]int64, 0, len(ids))
	seen := make(map[int64]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	if len(uniq) == 0 {
		return nil, nil
	}
	args := make([]any, len(uniq))
	for i, id := range uniq {
		args[i] = id
	}
	query := selectFrom + " WHERE " + keyCol + " IN (?" + strings.Repeat(", ?", len(uniq)-1) + ")"
	rows, err := relList(ctx, q, dest, query, args...)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]int, len(rows))
	for i := range rows {
		byID[key(&rows[i])] = i
	}
	out := make([]T, 0, len(rows))
	for _, id := range uniq {
		if i, ok := byID[id]; ok {
			out = append(out, rows[i])
		}
	}
	return out, nil
}
