package mysql

import (
	"testing"
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
)

// TestRelAudit: entries come back as stored, newest first, paged and
// filtered by target and action; a bad page token is ErrBadPageToken.
func TestRelAudit(t *testing.T) {
	r, ctx := relOpen(t)
	at := time.Now()
	var all []store.AuditEntry
	for i, a := range []struct{ action, target string }{
		{"suspend_user", "user:1"}, {"dismiss_group", "group:7"}, {"unsuspend_user", "user:1"}, {"suspend_user", "user:2"}, {"suspend_user", "user:1"},
	} {
		e, err := r.AppendAudit(ctx, store.AuditEntry{ID: int64(100 + i), Actor: "admin", Action: a.action, Target: a.target,
			Detail: `{"reason":"spam ✓"}`, Outcome: "OK", Service: "userservice", CreatedAt: at})
		if err != nil {
			t.Fatal(err)
		}
		all = append([]store.AuditEntry{e}, all...) // newest first
	}
	t.Run("pages newest first", func(t *testing.T) {
		var got []store.AuditEntry
		p := store.Page{Limit: 2}
		for {
			es, next, err := r.ListAudit(ctx, store.AuditFilter{}, p)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, es...)
			if next == "" {
				break
			}
			p.After = next
		}
		relWantEqual(t, got, all)
	})
	t.Run("by target", func(t *testing.T) {
		es, next, err := r.ListAudit(ctx, store.AuditFilter{Target: "user:1"}, store.Page{Limit: 10})
		if err != nil || next != "" {
			t.Fatal(err, next)
		}
		relWantEqual(t, es, []store.AuditEntry{all[0], all[2], all[4]})
	})
	t.Run("by target and action", func(t *testing.T) {
		es, _, err := r.ListAudit(ctx, store.AuditFilter{Target: "user:1", Action: "suspend_user"}, store.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		relWantEqual(t, es, []store.AuditEntry{all[0], all[4]})
	})
	t.Run("bad page token", func(t *testing.T) {
		_, _, err := r.ListAudit(ctx, store.AuditFilter{}, store.Page{Limit: 10, After: "x"})
		relWantIs(t, err, store.ErrBadPageToken)
	})
}
