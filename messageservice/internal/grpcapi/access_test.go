package grpcapi_test

import (
	"testing"

	messagev1 "github.com/privateim/privateim/protos/message/v1"

	"github.com/privateim/privateim/foundation/grpcserver"

	"github.com/privateim/privateim/messageservice/internal/chat"
	"github.com/privateim/privateim/messageservice/internal/grpcapi"
)

// A new RPC cannot land without a line in Access that says who calls it.
func TestAccessNamesEveryMethod(t *testing.T) {
	t.Parallel()
	s := grpcserver.New(nil, grpcserver.Options{Allow: grpcapi.Access})
	messagev1.RegisterMessageServiceServer(s, grpcapi.New(nil, nil, "", chat.PruneOptions{}, nil))
	messagev1.RegisterAdminServer(s, grpcapi.NewAdmin(nil, nil, "", nil))
	if got := s.Unlisted(); len(got) > 0 {
		t.Fatalf("methods missing from grpcapi.Access: %v", got)
	}
}
