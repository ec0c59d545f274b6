// Package chat is the messageservice's send pipeline and delivery contract
// on one node: authorize (friends, blacklist, group membership from caches
// kept current by relation events), append to the DataService (idempotent by
// client_msg_id), confirm with `sent`, fan out to every connection of the
// receivers and the sender's other connections in seq order per
// conversation, redeliver unacked messages, and on connect catch a device up
// from its cursors before live traffic.
//
// It imports the frame protocol, conv (conversation names), hub and
// lockorder, never a transport or a driver: a connection is a Transport,
// the DataService is a Store, the other nodes are a Router (singleNode
// when the node is alone).
//
// Files: session.go (a connection's Session, open and close), send.go (the
// send pipeline), appender.go (the one append path of Send, Push and
// Broadcast: batching, fan-out in seq order), fanout.go (local delivery and
// the Router), deliver.go (live delivery in seq order, redelivery),
// catchup.go (catch-up on connect, gap fill), ack.go (ack, sync), read.go
// (read state: store, mirror), receipts.go (group receipts, delivered),
// typing.go (typing frames), lifecycle.go (recall and edit),
// revoke.go (token revocation and expiry of a connection),
// authz.go (who may send and read, rate limits), push.go (Push, Broadcast),
// presence.go, relation.go and cache.go (relation events and the caches they
// keep), cursors.go (the cursor writer), render.go (server frames of stored
// messages), store.go (the Store it needs).
//
// Lock order (checked in tests by package lockorder; lowest first):
//
//	Session.mu           one connection's delivery state
//	  -> Transport.Send  (wsconn.Conn.mu): frames are sent under Session.mu,
//	                     in sendLocked, redeliver and the end of catch-up
//	leaves               limits.mu, revocations.mu, relations.mu, the cursor writer's mu, typingGate.mu, receiptQueue.mu,
//	                     the presence queue's mu, the hub's shard locks,
//	                     nodes.mu and a node's mu (held across a DataService
//	                     read, never with a Session.mu): nothing else is
//	                     taken while holding one
//
// No lock is held across a DataService call but a node's own mu. Messages of
// one conversation are fanned out in seq order by the append worker that
// stored them (appender.go), which holds no lock of its own and takes one
// receiver's Session.mu at a time; two Session.mu are never held at once.
package chat

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/privateim/privateim/foundation/fileurl"
	"github.com/privateim/privateim/messageservice/internal/hub"
	"github.com/privateim/privateim/messageservice/internal/lockorder"
	"github.com/privateim/privateim/messageservice/internal/nodemetrics"
)

// Transport is one client connection. Send never blocks: a connection whose
// queue is full is closed as a slow reader and Send returns false. Send is
// called with a Session.mu held: it takes only its own lock (ranked after
// Session.mu, lockorder.Conn) and never calls back into chat.
type Transport interface {
	Send(b []byte) bool
	// SendWait waits for room in the queue (catch-up uses it), leaving a
	// part of the queue to Send.
	SendWait(ctx context.Context, b []byte) error
	Close(code int, reason string)
}

// Close codes the chat features use.
const (
	CloseReplaced  = 4001 // a newer connection of the user took the slot
	CloseQueueFull = 4002 // too much live traffic queued during catch-up
	CloseRevoked   = 4003 // the token was revoked (password, deletion, ban): sign in again
	CloseExpired   = 4004 // the token expired: sign in again
	CloseTryAgain  = 1013 // the token could not be checked again: reconnect later
)

// Options of a Service.
type Options struct {
	RetryInterval time.Duration // unacked messages are sent again after this
	MaxTries      int           // sends of one message to one connection
	SendRate      float64       // per user per second; 0 = no limit
	SendBurst     int
	Frames        FrameLimits // rates of every client frame (ratelimit.go); zero: none
	// RelationCache bounds the friendship rows cached (least recently
	// used first out); < 1: 100,000.
	RelationCache int
	CacheTTL      time.Duration // friendship and membership cache lifetime
	// GapWait is how long a live message past a gap waits for the
	// missing ones before they are read from the DataService.
	GapWait time.Duration
	// Now is the clock of cache ages (pruning); nil: time.Now.
	Now func() time.Time
	// Join, when set, makes the Router to the other nodes of a cluster;
	// New calls it once the service can take deliveries and calls (the
	// router is built with the service as its local node). nil: the node
	// is alone (singleNode).
	Join func(local *Service) (Router, error)
	// CatchUpQueue bounds the live frames held for a connection while it
	// catches up; more closes it (CloseQueueFull) and it reconnects.
	CatchUpQueue int
	// Tokens checks a connection's token again when its user's tokens
	// are revoked (Revoke). nil: every re-check fails, so a revocation
	// closes the user's connections.
	Tokens TokenChecker
	// TypingMaxMembers: groups with more members get no typing frames;
	// < 1: DefaultTypingMaxMembers.
	TypingMaxMembers int
	// Files is the file store's base URL (FILE_BASE_URL): the url of an
	// image or file message must be a chat file under it (fileurl.go).
	// The zero Base accepts none.
	Files fileurl.Base
	// Metrics counts deliveries, store calls, redeliveries, evictions and
	// prunes; nil: counted in metrics nobody reads.
	Metrics *nodemetrics.Metrics
	// RecallWindow: how long after sending the sender recalls a message;
	// EditWindow: edits a text one (lifecycle.go). <= 0: the defaults.
	RecallWindow, EditWindow time.Duration
	// EditHistory: an edit keeps the message's previous content, which its
	// sender and a group's owner and admins read with a versions frame
	// (Versions), until the message is recalled. Off: nothing is kept.
	EditHistory bool
}

// Service is safe for concurrent use. Close stops its goroutines.
type Service struct {
	log   *slog.Logger
	store Store
	opt   Options
	hub   *hub.Hub[*Session]
	rels  relations
	grps  nodes // group nodes: members
	subs  nodes // subscription nodes: followers

	appends  *appender      // batches appends; fans out in seq order per conversation
	cursors  *cursorWriter  // coalesces cursor advances
	mentions *mentionWriter // writes the mentions of stored messages

	lims    *limits     // per-user buckets of the frame rate limits
	revoked revocations // recent revocations by user (revoke.go)
	// recheckAll counts RecheckAll calls not yet served; one runs while > 0.
	recheckAll atomic.Int32

	typing   *typingGate     // typing frames forwarded lately (typing.go)
	receipts *receiptQueue   // group receipt rounds due (receipts.go)
	presence *presenceQueue  // to the presence worker
	ctx      context.Context // ends at Close: catch-ups and the worker stop
	cancel   context.CancelFunc
	wg       sync.WaitGroup // the presence worker and catch-ups

	pending    atomic.Int64 // unacked messages held for redelivery, all connections
	catching   atomic.Int64 // connections still catching up
	nextID     atomic.Uint64
	messagesIn atomic.Int64 // sends stored (not duplicates)
	deliveries atomic.Int64 // message frames handed to connections

	router Router // to the other nodes; singleNode when alone. Set in New.
}

// New makes a Service and joins it to its cluster (Options.Join); call
// Close when done.
func New(log *slog.Logger, st Store, opt Options) (*Service, error) {
	if opt.MaxTries < 1 {
		opt.MaxTries = 1
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.GapWait <= 0 {
		opt.GapWait = 500 * time.Millisecond
	}
	if opt.CatchUpQueue < 1 {
		opt.CatchUpQueue = 4096
	}
	if opt.TypingMaxMembers < 1 {
		opt.TypingMaxMembers = DefaultTypingMaxMembers
	}
	if opt.RecallWindow <= 0 {
		opt.RecallWindow = DefaultRecallWindow
	}
	if opt.EditWindow <= 0 {
		opt.EditWindow = DefaultEditWindow
	}
	if opt.Tokens == nil {
		opt.Tokens = refuseAll{}
	}
	if opt.Metrics == nil {
		opt.Metrics = nodemetrics.New(nil)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{
		log: log, store: st, opt: opt, hub: hub.New[*Session](),
		rels:    newRelations(opt.CacheTTL, opt.RelationCache),
		grps:    newNodes(opt.CacheTTL, opt.Now, st.GroupMembers),
		revoked: revocations{mu: lockorder.Mutex{Rank: lockorder.Leaf}},
		subs: newNodes(opt.CacheTTL, opt.Now, func(ctx context.Context, id int64) (Roster, error) {
			ids, gone, err := st.Followers(ctx, id)
			return Roster{Members: ids, Gone: gone}, err
		}),
		lims:     newLimits(Rate{PerSecond: opt.SendRate, Burst: opt.SendBurst}, opt.Frames),
		presence: newPresenceQueue(),
		typing:   newTypingGate(),
		ctx:      ctx, cancel: cancel,
		router: singleNode{},
	}
	s.appends = newAppender(st, opt.Metrics)
	s.receipts = newReceiptQueue(s)
	if opt.Join != nil {
		r, err := opt.Join(s)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("join the cluster: %w", err)
		}
		s.router = r
	}
	for i := range appendWorkers {
		s.wg.Go(func() { s.appends.run(i, ctx.Done()) })
	}
	s.cursors = newCursorWriter(log, st)
	s.wg.Go(func() { s.cursors.run(ctx.Done()) })
	s.mentions = newMentionWriter(log, st)
	s.wg.Go(func() { s.mentions.run(ctx.Done()) })
	s.wg.Go(s.presenceWorker)
	return s, nil
}

// Close stops catch-ups and the presence worker and waits for them; the
// cursor advances queued so far are written. Sessions still open stay
// usable but get no presence frames.
func (s *Service) Close() {
	s.cancel()
	s.wg.Wait()
}

// Stats is a snapshot of the node.
type Stats struct {
	Users, Conns  int
	Pending       int64 // unacked messages held for redelivery
	CatchingUp    int64 // connections whose catch-up has not finished
	MessagesIn    int64 // sends stored since start (not duplicates)
	Deliveries    int64 // message frames handed to connections since start
	Groups        int   // group nodes cached
	Relations     int   // user pairs whose friendship rows are cached
	RateLimited   int   // users whose rate-limit buckets are kept
	Subscriptions int   // subscription nodes cached
	Batched       int64 // messages appended in batches of more than one
}

// Prune drops cached group and subscription nodes by age and activity
// (PruneOptions) as of now; it returns how many of each it dropped.
func (s *Service) Prune(now time.Time, o PruneOptions) (groups, subscriptions int) {
	groups, subscriptions = s.grps.prune(now, o), s.subs.prune(now, o)
	s.opt.Metrics.PrunedGroups.Add(float64(groups))
	s.opt.Metrics.PrunedSubs.Add(float64(subscriptions))
	return groups, subscriptions
}

// AppendQueued is the number of appends waiting for an append worker.
func (s *Service) AppendQueued() int { return s.appends.queued() }

// Stats counts online users, connections and pending messages.
func (s *Service) Stats() Stats {
	u, c := s.hub.Count()
	return Stats{
		Users: u, Conns: c, Pending: s.pending.Load(), CatchingUp: s.catching.Load(),
		MessagesIn: s.messagesIn.Load(), Deliveries: s.deliveries.Load(),
		Groups: s.grps.len(), Relations: s.rels.len(), RateLimited: s.lims.len(), Subscriptions: s.subs.len(), Batched: s.appends.batched.Load(),
	}
}

// Online reports whether user has a connection on this node.
func (s *Service) Online(user int64) bool { return s.hub.Online(user) }

// UserOnline reports whether user has a connection on any node.
func (s *Service) UserOnline(user int64) bool {
	return s.hub.Online(user) || s.router.OnlineElsewhere(user)
}
