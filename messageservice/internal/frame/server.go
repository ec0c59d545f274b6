package frame

import "encoding/json"

// Server frames. Encode them with Marshal.
type (
	// Sent confirms a stored message to its sender.
	Sent struct {
		Type         string `json:"type"` // "sent"
		ClientMsgID  string `json:"client_msg_id"`
		MsgID        string `json:"msg_id"`
		Conversation string `json:"conversation"`
		Seq          int64  `json:"seq"`
		TS           int64  `json:"ts"` // unix ms
	}
	// Message is a stored message; in a history frame Type is empty.
	Message struct {
		Type         string          `json:"type,omitempty"` // "message"
		MsgID        string          `json:"msg_id"`
		Conversation string          `json:"conversation"`
		Seq          int64           `json:"seq"`
		From         string          `json:"from"`
		To           Target          `json:"to"`
		Content      json.RawMessage `json:"content"`
		TS           int64           `json:"ts"`
		// Reactions (history only): the message's reactions, per emoji.
		Reactions []ReactionCount `json:"reactions,omitempty"`
	}
	// History answers a sync.
	History struct {
		Type         string    `json:"type"` // "history"
		Conversation string    `json:"conversation"`
		Messages     []Message `json:"messages"`
		HasMore      bool      `json:"has_more"`
	}
	// VersionHistory answers a versions frame: the kept versions of
	// message Seq, oldest first.
	VersionHistory struct {
		Type         string    `json:"type"` // "versions"
		Conversation string    `json:"conversation"`
		Seq          int64     `json:"seq"`
		Versions     []Version `json:"versions"`
		HasMore      bool      `json:"has_more"`
	}
	// Version is a message's content until the edit event ReplacedBySeq
	// replaced it at ReplacedAt (unix ms); the content as it was stored.
	Version struct {
		Content       json.RawMessage `json:"content"`
		ReplacedBySeq int64           `json:"replaced_by_seq"`
		ReplacedAt    int64           `json:"replaced_at"`
	}
	// ReadReceipt forwards a read frame to the other members.
	ReadReceipt struct {
		Type         string `json:"type"` // "read"
		Conversation string `json:"conversation"`
		Seq          int64  `json:"seq"`
		User         string `json:"user"`
	}
	// TypingNotice forwards a typing frame to the other participants.
	TypingNotice struct {
		Type         string `json:"type"` // "typing"
		Conversation string `json:"conversation"`
		User         string `json:"user"`
	}
	// Receipt aggregates a group message's readers and deliveries for its
	// sender's devices.
	Receipt struct {
		Type           string `json:"type"` // "receipt"
		Conversation   string `json:"conversation"`
		Seq            int64  `json:"seq"`
		ReadCount      int64  `json:"read_count"`
		DeliveredCount int64  `json:"delivered_count"`
	}
	// Delivered tells the peer of a 1:1 that a device of User has the
	// conversation up to Seq.
	Delivered struct {
		Type         string `json:"type"` // "delivered"
		Conversation string `json:"conversation"`
		Seq          int64  `json:"seq"`
		User         string `json:"user"`
	}
	// ConversationSettings tells a user's devices their settings of a
	// conversation changed.
	ConversationSettings struct {
		Type         string `json:"type"` // "conversation"
		Conversation string `json:"conversation"`
		Muted        bool   `json:"muted"`
		Pinned       bool   `json:"pinned"`
		Hidden       bool   `json:"hidden"`
	}
	// Presence tells friends a user came online or went offline.
	Presence struct {
		Type   string `json:"type"` // "presence"
		User   string `json:"user"`
		Online bool   `json:"online"`
		// LastSeen (offline only): when the last connection closed, unix
		// ms; absent when the user shows it to nobody.
		LastSeen int64 `json:"last_seen,omitempty"`
	}
	// ErrorFrame refuses a client frame; the connection stays open.
	ErrorFrame struct {
		Type        string `json:"type"` // "error"
		Code        string `json:"code"`
		Message     string `json:"message"`
		ClientMsgID string `json:"client_msg_id,omitempty"`
		// Until (code "muted"): when the sender's mute ends, RFC 3339 UTC;
		// absent when the group is muted for all until an admin lifts it.
		Until string `json:"until,omitempty"`
		// RetryAfter (code "rate_limited"): milliseconds until a frame of
		// this kind is taken again.
		RetryAfter int64 `json:"retry_after,omitempty"`
	}
)

// Pong is the answer to a ping, encoded once.
var Pong = []byte(`{"type":"pong"}`)

// Marshal encodes a server frame; the frames above cannot fail to encode.
func Marshal(v any) []byte {
	// Messages carry their content as stored (content.go).
	switch f := v.(type) {
	case Message:
		return marshalMessage(f)
	case History:
		return marshalHistory(f)
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic("frame: marshal " + err.Error())
	}
	return b
}

// ErrorBytes encodes an error frame.
func ErrorBytes(code, message, clientMsgID string) []byte {
	return Marshal(ErrorFrame{Type: "error", Code: code, Message: message, ClientMsgID: clientMsgID})
}
