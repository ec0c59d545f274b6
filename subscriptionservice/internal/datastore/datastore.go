// Package datastore is the subscriptionservice's adapter to the DataService: a gRPC
// client over mutual TLS that implements the Store interfaces the features
// declare (subscription.Store, article.Store), converting between protobuf and the
// features' types. It translates gRPC codes once, in translate: NotFound,
// AlreadyExists, FailedPrecondition and InvalidArgument become the errs
// store sentinels the features match with errors.Is; anything else stays an
// opaque internal error.
//
// One file per feature (subscriptions.go, articles.go) keeps helpers apart.
package datastore

import (
	"google.golang.org/grpc"

	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/foundation/dataconn"
	"github.com/privateim/privateim/foundation/tlsconfig"
)

// Client is the subscriptionservice's view of the DataService: users,
// subscriptions and articles over one shared connection, whose Close and
// Check it has. It is safe for concurrent use.
type Client struct {
	*dataconn.Conn
	users         datav1.UsersClient
	subscriptions datav1.SubscriptionsClient
	articles      datav1.ArticlesClient
}

// Dial makes the Client of the DataService at addr with mutual TLS; calls
// fail with Unavailable until the connection is up (Dial does not wait).
func Dial(addr string, files tlsconfig.Files, opts ...grpc.DialOption) (*Client, error) {
	return dataconn.DialClient(addr, files, func(conn *dataconn.Conn) *Client {
		cc := conn.CC
		return &Client{Conn: conn, users: datav1.NewUsersClient(cc),
			subscriptions: datav1.NewSubscriptionsClient(cc), articles: datav1.NewArticlesClient(cc)}
	}, opts...)
}

// translate turns a DataService call's error into a store error: the one
// table of foundation/dataconn.
var translate = dataconn.Translate
