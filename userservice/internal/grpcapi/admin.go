package grpcapi

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	userv1 "github.com/privateim/privateim/protos/user/v1"

	"github.com/privateim/privateim/foundation/audit"
	"github.com/privateim/privateim/foundation/grpcserver"
	"github.com/privateim/privateim/userservice/internal/account"
)

// Banner is what Admin needs of the account feature: a suspension is the
// account's banned state.
type Banner interface {
	SetBanned(ctx context.Context, id int64, banned bool) (account.User, error)
}

// GroupDismisser is what Admin needs of the group feature.
type GroupDismisser interface {
	DismissByAdmin(ctx context.Context, id int64) error
}

// AuditLog reads the audit log (the DataService's Audit/ListAudit).
type AuditLog interface {
	ListAudit(ctx context.Context, q audit.Query) ([]audit.Entry, string, error)
}

// Limits of Admin requests.
const (
	maxReason     = 512
	maxAuditLimit = 1000
	maxAuditField = 255
)

// adminServer is privateim.user.v1.Admin: the admins' calls, each recorded
// in the audit log (but ListAudit, which changes nothing).
type adminServer struct {
	userv1.UnimplementedAdminServer
	log      *slog.Logger
	ban      Banner
	groups   GroupDismisser
	auditLog AuditLog
	audit    *audit.Recorder
}

// errNoSuchUser names the field of the request, unlike the HTTP API's
// user_not_found.
var errNoSuchUser = status.Error(codes.NotFound, "user_id: no such user")

func checkReason(reason string) error {
	if len(reason) > maxReason || !utf8.ValidString(reason) {
		return status.Error(codes.InvalidArgument, "reason: at most 512 bytes of UTF-8")
	}
	return nil
}

func (a *adminServer) setSuspended(ctx context.Context, action string, id int64, reason string, suspended bool) (u account.User, err error) {
	defer func() {
		a.audit.Record(ctx, action, "user:"+strconv.FormatInt(id, 10), map[string]any{"reason": reason}, err)
	}()
	if err := checkReason(reason); err != nil {
		return account.User{}, err
	}
	u, err = a.ban.SetBanned(ctx, id, suspended)
	switch {
	case errors.Is(err, account.ErrUserNotFound):
		return account.User{}, errNoSuchUser
	case err != nil:
		return account.User{}, grpcserver.Status(ctx, a.log, action, err)
	}
	return u, nil
}

func (a *adminServer) SuspendUser(ctx context.Context, r *userv1.SuspendUserRequest) (*userv1.SuspendUserResponse, error) {
	u, err := a.setSuspended(ctx, "suspend_user", r.GetUserId(), r.GetReason(), true)
	if err != nil {
		return nil, err
	}
	return &userv1.SuspendUserResponse{UserId: u.ID, Suspended: u.Banned}, nil
}

func (a *adminServer) UnsuspendUser(ctx context.Context, r *userv1.UnsuspendUserRequest) (*userv1.UnsuspendUserResponse, error) {
	u, err := a.setSuspended(ctx, "unsuspend_user", r.GetUserId(), r.GetReason(), false)
	if err != nil {
		return nil, err
	}
	return &userv1.UnsuspendUserResponse{UserId: u.ID, Suspended: u.Banned}, nil
}

func (a *adminServer) DismissGroup(ctx context.Context, r *userv1.DismissGroupRequest) (_ *userv1.DismissGroupResponse, err error) {
	defer func() {
		a.audit.Record(ctx, "dismiss_group", "group:"+strconv.FormatInt(r.GetGroupId(), 10), map[string]any{"reason": r.GetReason()}, err)
	}()
	if err := checkReason(r.GetReason()); err != nil {
		return nil, err
	}
	if err := a.groups.DismissByAdmin(ctx, r.GetGroupId()); err != nil {
		return nil, grpcserver.Status(ctx, a.log, "dismiss group", err)
	}
	return &userv1.DismissGroupResponse{GroupId: r.GetGroupId()}, nil
}

func (a *adminServer) ListAudit(ctx context.Context, r *userv1.ListAuditRequest) (*userv1.ListAuditResponse, error) {
	switch {
	case r.GetLimit() < 0 || r.GetLimit() > maxAuditLimit:
		return nil, status.Error(codes.InvalidArgument, "limit: must be 0..1000")
	case len(r.GetTarget()) > maxAuditField || !utf8.ValidString(r.GetTarget()):
		return nil, status.Error(codes.InvalidArgument, "target: at most 255 bytes of UTF-8")
	case len(r.GetAction()) > 64 || !utf8.ValidString(r.GetAction()):
		return nil, status.Error(codes.InvalidArgument, "action: at most 64 bytes of UTF-8")
	}
	es, next, err := a.auditLog.ListAudit(ctx, audit.Query{Limit: int(r.GetLimit()), PageToken: r.GetPageToken(), Target: r.GetTarget(), Action: r.GetAction()})
	if err != nil {
		return nil, grpcserver.Status(ctx, a.log, "list audit", err)
	}
	out := &userv1.ListAuditResponse{Entries: make([]*userv1.AuditEntry, len(es)), NextPageToken: next}
	for i, e := range es {
		out.Entries[i] = &userv1.AuditEntry{Id: e.ID, Actor: e.Actor, Action: e.Action, Target: e.Target, Detail: e.Detail,
			Outcome: e.Outcome, Service: e.Service, CreatedAt: timestamppb.New(e.At)}
	}
	return out, nil
}
