package grpcapi_test

import (
	"testing"

	"github.com/privateim/privateim/userservice/internal/grpcapi"
)

// A new RPC cannot land without a line in Access that says who calls it.
func TestAccessNamesEveryMethod(t *testing.T) {
	t.Parallel()
	if got := grpcapi.NewServer(nil, grpcapi.Deps{}, nil, false).Unlisted(); len(got) > 0 {
		t.Fatalf("methods missing from grpcapi.Access: %v", got)
	}
}
