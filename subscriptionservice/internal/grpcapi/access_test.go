package grpcapi_test

import (
	"testing"

	"github.com/privateim/privateim/subscriptionservice/internal/grpcapi"
)

// A new RPC cannot land without a line in Access that says who calls it.
func TestAccessNamesEveryMethod(t *testing.T) {
	t.Parallel()
	if got := grpcapi.NewServer(nil, nil, nil, false).Unlisted(); len(got) > 0 {
		t.Fatalf("methods missing from grpcapi.Access: %v", got)
	}
}
