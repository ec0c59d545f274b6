package grpcapi

import (
	"context"
	"log/slog"

	userv1 "github.com/privateim/privateim/protos/user/v1"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/foundation/grpcserver"
	"github.com/privateim/privateim/foundation/textfield"
	"github.com/privateim/privateim/userservice/internal/follow"
)

// Directory is what the Directory service needs of the follow feature.
type Directory interface {
	IndexSubscription(ctx context.Context, id int64, name string) error
	RemoveSubscription(ctx context.Context, id int64) error
}

var _ Directory = (*follow.Service)(nil)

// maxSubscriptionNameRunes is the DataService's limit on an account name.
const maxSubscriptionNameRunes = 64

type directoryServer struct {
	userv1.UnimplementedDirectoryServer
	log *slog.Logger
	dir Directory
}

func (d *directoryServer) IndexSubscription(ctx context.Context, r *userv1.IndexSubscriptionRequest) (*userv1.IndexSubscriptionResponse, error) {
	if err := checkID("subscription_id", r.GetSubscriptionId()); err != nil {
		return nil, grpcserver.Status(ctx, d.log, "index subscription", err)
	}
	name, err := textfield.Name("name", r.GetName(), maxSubscriptionNameRunes)
	if err != nil {
		return nil, grpcserver.Status(ctx, d.log, "index subscription", err)
	}
	if err := d.dir.IndexSubscription(ctx, r.GetSubscriptionId(), name); err != nil {
		return nil, grpcserver.Status(ctx, d.log, "index subscription", err)
	}
	return &userv1.IndexSubscriptionResponse{}, nil
}

func (d *directoryServer) RemoveSubscription(ctx context.Context, r *userv1.RemoveSubscriptionRequest) (*userv1.RemoveSubscriptionResponse, error) {
	if err := checkID("subscription_id", r.GetSubscriptionId()); err != nil {
		return nil, grpcserver.Status(ctx, d.log, "remove subscription", err)
	}
	if err := d.dir.RemoveSubscription(ctx, r.GetSubscriptionId()); err != nil {
		return nil, grpcserver.Status(ctx, d.log, "remove subscription", err)
	}
	return &userv1.RemoveSubscriptionResponse{}, nil
}

// checkID wants a positive id; 0 is a field left out.
func checkID(field string, id int64) error {
	switch {
	case id == 0:
		return errs.Required(field)
	case id < 0:
		return errs.Invalid(field, "must be positive")
	}
	return nil
}
