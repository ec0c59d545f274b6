package datastore

import (
	"context"
	"errors"
	"fmt"

	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/foundation/audit"
	"github.com/privateim/privateim/foundation/errs"
)

var _ audit.Store = (*Client)(nil)

// AppendAudit stores an admin action.
func (c *Client) AppendAudit(ctx context.Context, e audit.Entry) error {
	_, err := c.audit.AppendAudit(ctx, &datav1.AppendAuditRequest{Entry: &datav1.AuditEntry{
		Actor: e.Actor, Action: e.Action, Target: e.Target, Detail: e.Detail, Outcome: e.Outcome, Service: e.Service,
	}})
	if err != nil {
		return fmt.Errorf("append audit %s %s: %w", e.Action, e.Target, translate("append audit", err))
	}
	return nil
}

// ListAudit pages the audit log newest first; a page token the DataService
// did not hand out is errs.Invalid naming page_token.
func (c *Client) ListAudit(ctx context.Context, q audit.Query) ([]audit.Entry, string, error) {
	resp, err := c.audit.ListAudit(ctx, &datav1.ListAuditRequest{Limit: int32(q.Limit), PageToken: q.PageToken, Target: q.Target, Action: q.Action})
	switch err := translate("list audit", err); {
	case errors.Is(err, errs.ErrInvalid):
		return nil, "", errs.Invalid("page_token", "not a token this list handed out")
	case err != nil:
		return nil, "", err
	}
	out := make([]audit.Entry, len(resp.GetEntries()))
	for i, e := range resp.GetEntries() {
		out[i] = audit.Entry{ID: e.GetId(), At: e.GetCreatedAt().AsTime(), Actor: e.GetActor(), Action: e.GetAction(),
			Target: e.GetTarget(), Detail: e.GetDetail(), Outcome: e.GetOutcome(), Service: e.GetService()}
	}
	return out, resp.GetNextPageToken(), nil
}
