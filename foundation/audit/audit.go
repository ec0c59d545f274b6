// Package audit records admin actions (docs/operations.md, "Admin API and
// imctl"): each one is logged (log/slog: who, what, target, outcome) and
// stored through the DataService's Audit service, by the service that
// acted. Who is the identity of the admin certificate that made the call
// (foundation/grpcserver.PeerIdentity); when is stamped by the DataService.
//
// It imports the standard library, grpc and foundation/grpcserver; the
// services' datastore packages implement Store over protos/data/v1.
package audit

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"google.golang.org/grpc/status"

	"github.com/privateim/privateim/foundation/grpcserver"
)

// Entry is one admin action as the DataService stores it.
type Entry struct {
	ID      int64     // set by the DataService
	At      time.Time // set by the DataService
	Actor   string    // the admin certificate's identity
	Action  string    // suspend_user, delete_message, ...
	Target  string    // user:<id>, group:<id>, <conversation>/<seq>, ...
	Detail  string    // a JSON object: the request's other fields
	Outcome string    // the gRPC code of the answer: "OK", "NotFound", ...
	Service string    // the service that acted
}

// Store keeps entries (the DataService's Audit/AppendAudit).
type Store interface {
	AppendAudit(ctx context.Context, e Entry) error
}

// Query asks for a page of the log, newest first: Limit 0 means 50, the
// token is the previous page's NextPageToken, Target and Action narrow it.
type Query struct {
	Limit          int
	PageToken      string
	Target, Action string
}

// storeTimeout bounds the append, which runs on a context of its own: an
// admin who gives up waiting must not lose the row of what was done.
const storeTimeout = 5 * time.Second

// Recorder records the admin actions of one service.
type Recorder struct {
	log     *slog.Logger
	store   Store
	service string
}

// New returns the recorder of service, storing through store.
func New(log *slog.Logger, store Store, service string) *Recorder {
	return &Recorder{log: log, store: store, service: service}
}

// Record logs and stores the action the caller of ctx asked for on target,
// with detail (the request's other fields) and err, the call's answer (nil,
// or a gRPC status error): its code is the outcome, "OK" for nil. A failed append is
// logged at error level with the whole entry, so the log still holds it.
func (r *Recorder) Record(ctx context.Context, action, target string, detail map[string]any, err error) {
	e := Entry{Actor: grpcserver.PeerIdentity(ctx), Action: action, Target: target, Detail: "{}", Outcome: status.Code(err).String(), Service: r.service}
	if len(detail) > 0 {
		if b, merr := json.Marshal(detail); merr == nil {
			e.Detail = string(b)
		}
	}
	attrs := []any{"actor", e.Actor, "action", e.Action, "target", e.Target, "outcome", e.Outcome, "detail", e.Detail}
	r.log.InfoContext(ctx, "admin action", attrs...)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if serr := r.store.AppendAudit(sctx, e); serr != nil {
		r.log.ErrorContext(ctx, "admin action not stored in the audit log", append(attrs, "err", serr)...)
	}
}
