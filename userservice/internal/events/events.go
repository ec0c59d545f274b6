// Package events publishes relation changes (relation.Event) on NATS as
// protobuf privateim.events.v1.RelationEvent on Subject, for the message
// service's caches (docs/events.md). It implements relation.Publisher.
//
// Delivery is NATS core: at most once, in the order published from one
// connection. A publish that fails (connection closed, reconnect buffer
// full) is logged and dropped; the request that made the change has
// succeeded already and is not failed for it.
//
// It may import nats.go, the protos, foundation/natsauth and relation.
package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/privateim/privateim/protos/events/v1"

	"github.com/privateim/privateim/foundation/natsauth"

	"github.com/privateim/privateim/userservice/internal/relation"
)

// Subject is where every relation event is published.
const Subject = natsauth.RelationsSubject

// Publisher publishes on one NATS connection. Safe for concurrent use.
type Publisher struct {
	nc  *nats.Conn
	log *slog.Logger
}

var _ relation.Publisher = (*Publisher)(nil)

// Connect connects to the NATS server(s) at c.URL (comma-separated) over
// TLS with c's credential. It fails when no server answers now; later
// disconnects are retried forever while publishes are buffered (nats.go's
// reconnect buffer, 8 MiB).
func Connect(c natsauth.Client, log *slog.Logger) (*Publisher, error) {
	nc, err := c.Connect(
		nats.Name("userservice"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("nats reconnected", "url", c.ConnectedUrlRedacted()) }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { log.Warn("nats", "err", err) }),
	)
	if err != nil {
		return nil, fmt.Errorf("connect nats: %w", err)
	}
	log.Info("relation events on nats", "url", nc.ConnectedUrlRedacted(), "subject", Subject)
	return &Publisher{nc: nc, log: log}, nil
}

// Publish implements relation.Publisher.
func (p *Publisher) Publish(ctx context.Context, evs ...relation.Event) {
	for _, ev := range evs {
		b, err := proto.Marshal(Marshal(ev))
		if err == nil {
			err = p.nc.Publish(Subject, b)
		}
		if err != nil {
			p.log.ErrorContext(ctx, "publish relation event", "kind", ev.Kind.String(), "user", ev.UserID,
				"peer", ev.PeerUserID, "group", ev.GroupID, "subscription", ev.SubscriptionID, "err", err)
		}
	}
}

// Flush waits until the NATS server has every event published so far, or
// ctx ends: a caller that must know an event is on its way (a revocation,
// before the request that made it is answered) calls it after Publish.
func (p *Publisher) Flush(ctx context.Context) error {
	if err := p.nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("flush nats: %w", err)
	}
	return nil
}

// closeTimeout bounds Close's flush when its context has no deadline.
const closeTimeout = 5 * time.Second

// Close sends what is buffered (until ctx ends, or closeTimeout when it has
// no deadline) and closes the connection. Events it cannot send are lost
// like any failed publish: logged, and not an error of the shutdown.
func (p *Publisher) Close(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, closeTimeout)
		defer cancel()
	}
	if p.nc.IsConnected() {
		if err := p.nc.FlushWithContext(ctx); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			p.log.WarnContext(ctx, "relation events not flushed at shutdown", "err", err)
		}
	} else if n, err := p.nc.Buffered(); err == nil && n > 0 {
		p.log.WarnContext(ctx, "relation events lost at shutdown: nats disconnected", "buffered_bytes", n)
	}
	p.nc.Close()
	return nil
}

// Marshal converts ev to its protobuf form.
func Marshal(ev relation.Event) *eventsv1.RelationEvent {
	return &eventsv1.RelationEvent{
		Kind:           eventsv1.RelationEvent_Kind(ev.Kind),
		UserId:         ev.UserID,
		PeerUserId:     ev.PeerUserID,
		GroupId:        ev.GroupID,
		SubscriptionId: ev.SubscriptionID,
		At:             timestamppb.New(ev.At),
	}
}

// Logging is the relation.Publisher used when NATS is not configured: it
// drops events, saying so once at start (NewLogging) and at debug level per
// event.
type Logging struct{ Log *slog.Logger }

// NewLogging returns a Logging publisher and logs once that events are off.
func NewLogging(log *slog.Logger) Logging {
	log.Info("relation events off: NATS_URL is empty")
	return Logging{Log: log}
}

// Publish implements relation.Publisher.
func (l Logging) Publish(ctx context.Context, evs ...relation.Event) {
	for _, ev := range evs {
		l.Log.DebugContext(ctx, "relation event dropped", "kind", ev.Kind.String(), "user", ev.UserID,
			"peer", ev.PeerUserID, "group", ev.GroupID, "subscription", ev.SubscriptionID)
	}
}
