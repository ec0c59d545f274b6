package security

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	messagev1 "github.com/privateim/privateim/protos/message/v1"

	"github.com/privateim/privateim/foundation/stacktest"
	"github.com/privateim/privateim/foundation/tlsconfig"

	"github.com/privateim/privateim/messageservice/internal/mstest"
)

// The attacks of a process holding another service's certificate on a
// message node's internal gRPC API. docs/security.md, "Service identity".

// The userservice's certificate (say, a compromised userservice) tries to
// put a post on every follower's socket through Broadcast: only the
// subscriptionservice may broadcast. Reflection is off too.
func TestUserServiceCertificateCallingBroadcastIsDenied(t *testing.T) {
	t.Parallel()
	st := mstest.StartStack(t)
	node := st.StartNode(t, st.Config())
	certs := st.Data.Certs
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := &messagev1.BroadcastRequest{SubscriptionId: 1, SenderId: 1, ClientMsgId: "article:1", Kind: "article", Content: []byte(`{"title":"forged"}`)}

	_, err := messagev1.NewMessageServiceClient(stacktest.Dial(t, node.GRPCAddr(), certs.User)).Broadcast(ctx, req)
	if s := status.Convert(err); s.Code() != codes.PermissionDenied || !strings.Contains(s.Message(), messagev1.MessageService_Broadcast_FullMethodName) {
		t.Fatalf("userservice certificate: Broadcast = %v, want PermissionDenied naming the method", err)
	}
	if _, err := messagev1.NewMessageServiceClient(stacktest.Dial(t, node.GRPCAddr(), certs.Data)).Broadcast(ctx, req); status.Code(err) != codes.PermissionDenied {
		t.Errorf("dataservice certificate: Broadcast = %v, want PermissionDenied", err)
	}
	if _, err := messagev1.NewMessageServiceClient(stacktest.Dial(t, node.GRPCAddr(), certs.User)).Push(ctx, &messagev1.PushRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("userservice certificate: Push = %v, want PermissionDenied", err)
	}
	// Only the userservice delivers a user's stored join request notices.
	deliver := &messagev1.DeliverUserRequest{UserId: 1, Seqs: []int64{1}}
	for name, cert := range map[string]tlsconfig.Files{"dataservice": certs.Data, "subscriptionservice": certs.Subscription} {
		if _, err := messagev1.NewMessageServiceClient(stacktest.Dial(t, node.GRPCAddr(), cert)).DeliverUser(ctx, deliver); status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s certificate: DeliverUser = %v, want PermissionDenied", name, err)
		}
	}
	// The subscriptionservice passes the allow-list: subscription 1 does
	// not exist, so the node answers for the subscription, not the caller.
	if _, err := messagev1.NewMessageServiceClient(stacktest.Dial(t, node.GRPCAddr(), certs.Subscription)).Broadcast(ctx, req); status.Code(err) == codes.PermissionDenied {
		t.Errorf("subscriptionservice certificate: Broadcast = %v, want past the allow-list", err)
	}

	rc, err := reflectionpb.NewServerReflectionClient(stacktest.Dial(t, node.GRPCAddr(), certs.Client)).ServerReflectionInfo(ctx)
	if err == nil {
		// A refused stream may fail Send with io.EOF; Recv has the status.
		_ = rc.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
		_, err = rc.Recv()
	}
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("reflection: %v, want Unimplemented (off by default)", err)
	}
}
