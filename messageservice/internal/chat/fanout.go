// Fan-out: a frame for some users goes to their connections on this node
// and, through the Router, to the other nodes holding any of them; the
// Router of a node alone (singleNode) knows no other node.

package chat

import "time"

// Router is what chat needs of the other nodes of a cluster
// (internal/cluster implements it over NATS). A node alone uses
// singleNode.
type Router interface {
	// Opened and Closed announce a local connection.
	Opened(user int64, conn uint64, device string, opened time.Time)
	Closed(user int64, conn uint64)
	// Remote groups users by the other nodes holding their connections.
	Remote(users []int64) map[string][]int64
	// Forward hands a delivery to another node; it must not block on the
	// other node (fan-out runs on the append worker).
	Forward(node string, d Delivery)
	// OnlineElsewhere reports whether user has a connection on another node.
	OnlineElsewhere(user int64) bool
	// RemoteSessions are user's connections on the other nodes.
	RemoteSessions(user int64) []SessionInfo
	// RemoteUsers are the users with a connection on another node.
	RemoteUsers() []int64
}

// singleNode is the Router of a node without a cluster: nobody is
// connected anywhere else.
type singleNode struct{}

func (singleNode) Opened(int64, uint64, string, time.Time) {}
func (singleNode) Closed(int64, uint64)                    {}
func (singleNode) Remote([]int64) map[string][]int64       { return nil }
func (singleNode) Forward(string, Delivery)                {}
func (singleNode) OnlineElsewhere(int64) bool              { return false }
func (singleNode) RemoteSessions(int64) []SessionInfo      { return nil }
func (singleNode) RemoteUsers() []int64                    { return nil }

var _ Router = singleNode{}

// Delivery is a frame for users' connections on one node: a message
// frame (Conv and Seq set: delivered in seq order and redelivered until
// acked) or another frame (presence, read). The cluster carries it between
// nodes in its own envelope.
type Delivery struct {
	Users []int64
	Conv  string
	Seq   int64
	Frame []byte // one JSON frame
	// Logout, when set, is no frame: the users' connections of this
	// device close with CloseLoggedOut (an admin's LogoutDevice).
	Logout *string
	// Sent is when the node that stored the message received its send
	// frame (unix nanoseconds; 0: not a send, nothing to time): the start
	// of the send-to-deliver latency (privateim_chat_delivery_seconds).
	Sent int64
}

// fanout delivers a frame to every connection of users on every node but
// except (the sending connection).
func (s *Service) fanout(users []int64, except *Session, d Delivery) {
	s.deliverLocal(d, except)
	for node, us := range s.router.Remote(users) {
		d.Users = us
		s.router.Forward(node, d)
	}
}

// Deliver hands d, which another node routed here, to the local
// connections of d.Users.
func (s *Service) Deliver(d Delivery) {
	if d.Logout != nil {
		s.logoutLocal(d.Users, *d.Logout)
		return
	}
	s.deliverLocal(d, nil)
}

// deliverLocal hands d to the local connections of d.Users but except.
func (s *Service) deliverLocal(d Delivery, except *Session) {
	delivered := false
	for _, u := range d.Users {
		for _, c := range s.hub.Conns(u) {
			if c == except {
				continue
			}
			delivered = true
			if d.Conv != "" {
				c.deliverLive(d.Conv, d.Seq, d.Frame)
			} else {
				c.t.Send(d.Frame)
			}
		}
	}
	if delivered {
		s.opt.Metrics.Delivered(d.Sent) // once per node and message, not per receiver
	}
}

// LocalConn is one connection of this node.
type LocalConn struct {
	User   int64
	ID     uint64
	Device string
	Opened time.Time
}

// LocalConns lists this node's connections.
func (s *Service) LocalConns() []LocalConn {
	var out []LocalConn
	s.hub.Each(func(user int64, c *Session) {
		out = append(out, LocalConn{User: user, ID: c.id, Device: c.device, Opened: c.opened})
	})
	return out
}

// Evict closes a local connection with 4001 "replaced": a newer one of
// its user opened elsewhere in the cluster.
func (s *Service) Evict(user int64, id uint64) {
	for _, c := range s.hub.Conns(user) {
		if c.id == id {
			s.opt.Metrics.Evictions.Inc()
			c.t.Close(CloseReplaced, "replaced")
		}
	}
}
