// Package grpcdial is the one way a service dials another's internal gRPC
// API: mutual TLS from tlsconfig files, a lazy connection, and a reconnect
// backoff fit for a peer restarted in development.
//
// It imports grpc and foundation/tlsconfig only.
package grpcdial

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/privateim/privateim/foundation/tlsconfig"
)

// Dial makes a client connection to the service peer (its identity,
// tlsconfig.DataService, ...: the server's certificate must name it, and
// errors name it) at addr with mutual TLS.
// It does not wait for the connection: calls fail with Unavailable until
// it is up, so a service starts while its peers are down. opts add to the
// defaults (MaxMessageBytes).
func Dial(peer, addr string, files tlsconfig.Files, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	cfg, err := tlsconfig.ClientOf(files, peer)
	if err != nil {
		return nil, fmt.Errorf("%s client tls: %w", peer, err)
	}
	creds := credentials.NewTLS(cfg)
	// gRPC's default reconnect backoff starts at a second and grows to two
	// minutes; a peer restarted in development should be seen back within
	// seconds.
	bo := backoff.DefaultConfig
	bo.MaxDelay = 5 * time.Second
	opts = append([]grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bo, MinConnectTimeout: 5 * time.Second}),
	}, opts...)
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("dial %s %s: %w", peer, addr, err)
	}
	return conn, nil
}

// MaxMessageBytes lets calls send and receive messages of up to n bytes
// (gRPC's default limit on receiving is 4 MiB).
func MaxMessageBytes(n int) grpc.DialOption {
	return grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(n), grpc.MaxCallSendMsgSize(n))
}

// Check asks the health service of the server name (for the error: "the
// dataservice") through h, and returns an error unless it is SERVING: the
// readiness of a service that depends on it.
func Check(ctx context.Context, h healthpb.HealthClient, name string) error {
	resp, err := h.Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return fmt.Errorf("%s health: %w", name, err)
	}
	if s := resp.GetStatus(); s != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("%s health: %s", name, s)
	}
	return nil
}
