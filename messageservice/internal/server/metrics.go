package server

import (
	"github.com/prometheus/client_golang/prometheus"
)

// statsCollector reports the node's gauges at scrape time, from one
// chat.Stats snapshot: nothing on the hot path keeps them.
type statsCollector struct{ s *Server }

func gauge(name, help string) *prometheus.Desc {
	return prometheus.NewDesc("privateim_"+name, help, nil, nil)
}

var (
	descConns      = gauge("ws_connections", "Open WebSocket connections on this node.")
	descQueued     = gauge("ws_send_queue_frames", "Frames waiting in the send queues of this node's connections.")
	descSessions   = gauge("chat_sessions", "Chat sessions (authenticated connections) on this node.")
	descUsers      = gauge("chat_users_online", "Users with a connection on this node.")
	descPending    = gauge("chat_pending_messages", "Message frames sent and not yet acked, held for redelivery.")
	descCatching   = gauge("chat_catching_up_connections", "Connections whose catch-up has not finished.")
	descAppendQ    = gauge("chat_append_queue_depth", "Appends waiting for an append worker.")
	descGroups     = gauge("chat_cached_groups", "Group nodes (member lists) cached.")
	descSubs       = gauge("chat_cached_subscriptions", "Subscription nodes (follower lists) cached.")
	descRelations  = gauge("chat_cached_relations", "Friendship rows (user pairs) cached.")
	descMessagesIn = prometheus.NewDesc("privateim_chat_messages_stored_total", "Sends stored by this node (not duplicates).", nil, nil)
	descDelivered  = prometheus.NewDesc("privateim_chat_deliveries_total", "Message frames handed to this node's connections (redeliveries not counted).", nil, nil)
	descNodes      = gauge("cluster_nodes", "Other message nodes this node sees alive.")
)

func (c statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descConns, descQueued, descSessions, descUsers, descPending, descCatching, descAppendQ,
		descGroups, descSubs, descRelations, descMessagesIn, descDelivered, descNodes} {
		ch <- d
	}
}

func (c statsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	st := s.chat.Stats()
	g := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	g(descConns, float64(s.ws.Count()))
	g(descQueued, float64(s.ws.Queued()))
	g(descSessions, float64(st.Conns))
	g(descUsers, float64(st.Users))
	g(descPending, float64(st.Pending))
	g(descCatching, float64(st.CatchingUp))
	g(descAppendQ, float64(s.chat.AppendQueued()))
	g(descGroups, float64(st.Groups))
	g(descSubs, float64(st.Subscriptions))
	g(descRelations, float64(st.Relations))
	ch <- prometheus.MustNewConstMetric(descMessagesIn, prometheus.CounterValue, float64(st.MessagesIn))
	ch <- prometheus.MustNewConstMetric(descDelivered, prometheus.CounterValue, float64(st.Deliveries))
	if s.cluster != nil {
		g(descNodes, float64(len(s.cluster.Nodes())))
	}
}
