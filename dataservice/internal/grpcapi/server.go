// Package grpcapi is the DataService's gRPC transport: one server type per
// service of protos/data/v1. Each RPC validates its request (InvalidArgument
// naming the field), converts it to the store's types, gives new rows their
// snowflake ids and creation times, calls the store and translates the
// store's errors into gRPC codes in one table (errors.go).
//
// It imports the store interfaces, never an adapter or a driver.
package grpcapi

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/grpc"

	"github.com/privateim/privateim/dataservice/internal/store"
	datav1 "github.com/privateim/privateim/protos/data/v1"
)

// IDs hands out new unique ids (a *snowflake.Generator).
type IDs interface{ Next() int64 }

// Deps is what the servers need.
type Deps struct {
	Relational store.Relational
	Documents  store.Documents
	IDs        IDs
	Log        *slog.Logger
	// Now stamps new rows; time.Now when nil.
	Now func() time.Time
}

// Register registers the nine DataService services on s.
func Register(s grpc.ServiceRegistrar, d Deps) {
	b := &base{rel: d.Relational, docs: d.Documents, ids: d.IDs, log: d.Log, clock: d.Now}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.clock == nil {
		b.clock = time.Now
	}
	friends, groups, subs := &friendsServer{base: b}, &groupsServer{base: b}, &subscriptionsServer{base: b}
	datav1.RegisterUsersServer(s, &usersServer{base: b})
	datav1.RegisterFriendsServer(s, friends)
	datav1.RegisterGroupsServer(s, groups)
	datav1.RegisterSubscriptionsServer(s, subs)
	datav1.RegisterMessagesServer(s, &messagesServer{base: b, friends: friends, groups: groups, subs: subs})
	datav1.RegisterArticlesServer(s, &articlesServer{base: b})
	datav1.RegisterGroupChangesServer(s, &groupChangesServer{base: b})
	datav1.RegisterConversationsServer(s, &conversationsServer{base: b})
	datav1.RegisterAuditServer(s, &auditServer{base: b})
}

// base is shared by the six servers; it is read-only after Register.
type base struct {
	rel   store.Relational
	docs  store.Documents
	ids   IDs
	log   *slog.Logger
	clock func() time.Time
}

// now is the creation time of new rows, at the microsecond precision the
// stores keep, so what a create returns equals what a later read returns.
func (b *base) now() time.Time { return b.clock().UTC().Truncate(time.Microsecond) }

// fail translates a store error for the caller; see statusOf.
func (b *base) fail(ctx context.Context, op string, err error) error {
	return statusOf(ctx, b.log, op, err)
}
