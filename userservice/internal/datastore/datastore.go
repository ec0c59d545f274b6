// Package datastore is the userservice's adapter to the DataService: a gRPC
// client over mutual TLS that implements the Store interfaces the features
// declare (account.Store, ...), converting between protobuf and the
// features' types. It translates gRPC codes once, in translate: NotFound,
// AlreadyExists, FailedPrecondition and InvalidArgument become the errs
// store sentinels the features match with errors.Is; anything else stays an
// opaque internal error.
//
// One file per feature (users.go, friends.go, ...) keeps helpers apart.
package datastore

import (
	"google.golang.org/grpc"

	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/foundation/dataconn"
	"github.com/privateim/privateim/foundation/tlsconfig"
)

// Client is safe for concurrent use; its clients share one connection,
// whose Close and Check it has.
type Client struct {
	*dataconn.Conn
	users         datav1.UsersClient
	friends       datav1.FriendsClient
	groups        datav1.GroupsClient
	groupChanges  datav1.GroupChangesClient
	subscriptions datav1.SubscriptionsClient
	conversations datav1.ConversationsClient
	audit         datav1.AuditClient
}

// Dial makes a client of the DataService at addr with mutual TLS. It does
// not wait for the connection: calls fail with Unavailable until it is up.
func Dial(addr string, files tlsconfig.Files, opts ...grpc.DialOption) (*Client, error) {
	return dataconn.DialClient(addr, files, func(conn *dataconn.Conn) *Client {
		return &Client{
			Conn:          conn,
			users:         datav1.NewUsersClient(conn.CC),
			friends:       datav1.NewFriendsClient(conn.CC),
			groups:        datav1.NewGroupsClient(conn.CC),
			groupChanges:  datav1.NewGroupChangesClient(conn.CC),
			subscriptions: datav1.NewSubscriptionsClient(conn.CC),
			conversations: datav1.NewConversationsClient(conn.CC),
			audit:         datav1.NewAuditClient(conn.CC),
		}
	}, opts...)
}

// translate turns a DataService call's error into a store error: the one
// table of foundation/dataconn.
var translate = dataconn.Translate
