package datastore

import (
	"context"

	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/foundation/audit"
)

var _ audit.Store = (*Client)(nil)

// AppendAudit stores an admin action.
func (c *Client) AppendAudit(ctx context.Context, e audit.Entry) error {
	_, err := c.audit.AppendAudit(ctx, &datav1.AppendAuditRequest{Entry: &datav1.AuditEntry{
		Actor: e.Actor, Action: e.Action, Target: e.Target, Detail: e.Detail, Outcome: e.Outcome, Service: e.Service,
	}})
	return translate("append audit", err)
}
