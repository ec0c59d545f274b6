package grpcapi

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/privateim/privateim/dataservice/internal/store"
	datav1 "github.com/privateim/privateim/protos/data/v1"
)

// Limits of an audit entry's fields (the admin_audit columns).
const (
	maxAuditWord   = 64
	maxAuditTarget = 255
	maxAuditDetail = 4096
	maxAuditShort  = 32
)

type auditServer struct {
	datav1.UnimplementedAuditServer
	*base
}

func (s *auditServer) AppendAudit(ctx context.Context, r *datav1.AppendAuditRequest) (*datav1.AppendAuditResponse, error) {
	e := r.GetEntry()
	var c checker
	if e == nil {
		c.add("entry", "required")
		return nil, c.err()
	}
	c.key("entry.actor", e.GetActor(), maxAuditWord)
	c.key("entry.action", e.GetAction(), maxAuditWord)
	c.key("entry.target", e.GetTarget(), maxAuditTarget)
	c.maxBytes("entry.detail", e.GetDetail(), maxAuditDetail)
	c.key("entry.outcome", e.GetOutcome(), maxAuditShort)
	c.key("entry.service", e.GetService(), maxAuditShort)
	if err := c.err(); err != nil {
		return nil, err
	}
	detail := e.GetDetail()
	if detail == "" {
		detail = "{}"
	}
	stored, err := s.rel.AppendAudit(ctx, store.AuditEntry{
		ID: s.ids.Next(), Actor: e.GetActor(), Action: e.GetAction(), Target: e.GetTarget(), Detail: detail,
		Outcome: e.GetOutcome(), Service: e.GetService(), CreatedAt: s.now(),
	})
	if err != nil {
		return nil, s.fail(ctx, "append audit", err)
	}
	return &datav1.AppendAuditResponse{Entry: auditPB(stored)}, nil
}

func (s *auditServer) ListAudit(ctx context.Context, r *datav1.ListAuditRequest) (*datav1.ListAuditResponse, error) {
	var c checker
	p := c.page(r.GetLimit(), r.GetPageToken())
	c.maxBytes("target", r.GetTarget(), maxAuditTarget)
	c.maxBytes("action", r.GetAction(), maxAuditWord)
	if err := c.err(); err != nil {
		return nil, err
	}
	es, next, err := s.rel.ListAudit(ctx, store.AuditFilter{Target: r.GetTarget(), Action: r.GetAction()}, p)
	if err != nil {
		return nil, s.fail(ctx, "list audit", err)
	}
	out := &datav1.ListAuditResponse{Entries: make([]*datav1.AuditEntry, len(es)), NextPageToken: encodePageToken(next)}
	for i, e := range es {
		out.Entries[i] = auditPB(e)
	}
	return out, nil
}

func auditPB(e store.AuditEntry) *datav1.AuditEntry {
	return &datav1.AuditEntry{Id: e.ID, Actor: e.Actor, Action: e.Action, Target: e.Target, Detail: e.Detail,
		Outcome: e.Outcome, Service: e.Service, CreatedAt: timestamppb.New(e.CreatedAt)}
}
