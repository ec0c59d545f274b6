package mysql

import (
	"context"
	"fmt"

	"github.com/privateim/privateim/dataservice/internal/store"
)

const relAuditCols = "id, actor, action, target, detail, outcome, service, created_at"

func relAuditDest(e *store.AuditEntry) []any {
	return []any{&e.ID, &e.Actor, &e.Action, &e.Target, &e.Detail, &e.Outcome, &e.Service, &e.CreatedAt}
}

// AppendAudit stores an admin action.
func (r *Relational) AppendAudit(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error) {
	e.CreatedAt = relTime(e.CreatedAt)
	if _, err := r.db.ExecContext(ctx, "INSERT INTO admin_audit ("+relAuditCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		e.ID, e.Actor, e.Action, e.Target, e.Detail, e.Outcome, e.Service, e.CreatedAt); err != nil {
		return store.AuditEntry{}, fmt.Errorf("append audit %s %s: %w", e.Action, e.Target, err)
	}
	return e, nil
}

// ListAudit pages the log newest first: the page token is the id of the
// previous page's last (oldest) entry.
func (r *Relational) ListAudit(ctx context.Context, f store.AuditFilter, p store.Page) ([]store.AuditEntry, string, error) {
	before, err := relAfter(p)
	if err != nil {
		return nil, "", fmt.Errorf("list audit: %w", err)
	}
	limit := relLimit(p)
	q, args := "SELECT "+relAuditCols+" FROM admin_audit WHERE TRUE", []any{}
	if before > 0 {
		q, args = q+" AND id < ?", append(args, before)
	}
	if f.Target != "" {
		q, args = q+" AND target = ?", append(args, f.Target)
	}
	if f.Action != "" {
		q, args = q+" AND action = ?", append(args, f.Action)
	}
	es, err := relList(ctx, r.db, relAuditDest, q+" ORDER BY id DESC LIMIT ?", append(args, limit+1)...)
	if err != nil {
		return nil, "", fmt.Errorf("list audit: %w", err)
	}
	es, next := relPage(es, limit, func(e *store.AuditEntry) int64 { return e.ID })
	return es, next, nil
}
