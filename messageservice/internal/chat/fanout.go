// Fan-out: a frame for some users goes to their connections on this node
// and, through the Cluster, to the other nodes holding any of them.

package chat

import (
	"encoding/json"
	"time"
)

// Cluster is what chat needs of the other nodes (internal/cluster).
type Cluster interface {
	// Opened and Closed announce a local connection.
	Opened(user int64, conn uint64, opened time.Time)
	Closed(user int64, conn uint64)
	// Remote groups users by the other nodes holding their connections.
	Remote(users []int64) map[string][]int64
	// Forward hands a delivery to another node (one NATS message).
	Forward(node string, d Delivery)
	// OnlineElsewhere reports whether user has a connection on another node.
	OnlineElsewhere(user int64) bool
}

// Delivery is a frame for users' connections on one node: a message
// frame (Conv and Seq set: delivered in seq order and redelivered until
// acked) or another frame (presence, read).
type Delivery struct {
	Users []int64         `json:"u"`
	Conv  string          `json:"c,omitempty"`
	Seq   int64           `json:"s,omitempty"`
	Frame json.RawMessage `json:"f"` // a JSON frame; raw, not base64, on the wire
}

// SetCluster makes the service route to other nodes.
func (s *Service) SetCluster(c Cluster) { s.cluster = c }

// fanout delivers a frame to every connection of users on every node but
// except (the sending connection).
func (s *Service) fanout(users []int64, except *Session, d Delivery) {
	s.DeliverLocal(d, except)
	if s.cluster == nil {
		return
	}
	for node, us := range s.cluster.Remote(users) {
		d.Users = us
		s.cluster.Forward(node, d)
	}
}

// DeliverLocal hands d to the local connections of d.Users but except.
func (s *Service) DeliverLocal(d Delivery, except *Session) {
	for _, u := range d.Users {
		for _, c := range s.hub.Conns(u) {
			if c == except {
				continue
			}
			if d.Conv != "" {
				c.deliverLive(d.Conv, d.Seq, d.Frame)
			} else {
				c.t.Send(d.Frame)
			}
		}
	}
}

// LocalConn is one connection of this node.
type LocalConn struct {
	User   int64
	ID     uint64
	Opened time.Time
}

// LocalConns lists this node's connections.
func (s *Service) LocalConns() []LocalConn {
	var out []LocalConn
	s.hub.Each(func(user int64, c *Session) {
		out = append(out, LocalConn{User: user, ID: c.id, Opened: c.opened})
	})
	return out
}

// Evict closes a local connection with 4001 "replaced": a newer one of
// its user opened elsewhere in the cluster.
func (s *Service) Evict(user int64, id uint64) {
	for _, c := range s.hub.Conns(user) {
		if c.id == id {
			c.t.Close(CloseReplaced, "replaced")
		}
	}
}
