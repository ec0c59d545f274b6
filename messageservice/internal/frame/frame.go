// Package frame is the WebSocket protocol of the messageservice
// (docs/websocket.md): the JSON frames clients send, decoded and validated by
// Decode, the frames the server sends, and the error codes. One JSON object
// per text frame, each with "type"; ids are decimal strings; conversation
// names are package conv's, which Decode uses to refuse a malformed one.
//
// It imports only the standard library and conv.
package frame

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/privateim/privateim/foundation/conv"
)

// Error codes of error frames.
const (
	CodeBadFrame     = "bad_frame"
	CodeUnknownType  = "unknown_type"
	CodeNotFriends   = "not_friends"
	CodeBlocked      = "blocked"
	CodeNotMember    = "not_member"
	CodeMuted        = "muted"
	CodeNoSuchTarget = "no_such_target"
	CodeTooLarge     = "too_large"
	CodeRateLimited  = "rate_limited"
	CodeInternal     = "internal"
)

// Error is a frame the server refuses, with the protocol code to answer.
type Error struct {
	Code        string
	Message     string
	ClientMsgID string // of a send frame, when known
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func bad(format string, args ...any) *Error {
	return &Error{Code: CodeBadFrame, Message: fmt.Sprintf(format, args...)}
}

// Limits of the protocol.
const (
	MaxClientMsgID = 64
	MaxDeviceID    = 64
	MaxSyncLimit   = 200
	DefaultSync    = 50
	MaxText        = 8000 // runes of a text or emoji content (content.go: the other limits of content)
)

// Target is whom a message goes to.
type Target struct {
	Kind string `json:"kind"` // user or group
	ID   string `json:"id"`
}

// Client frames.
type (
	// Send asks to store and deliver a message.
	Send struct {
		ClientMsgID string
		To          Target
		ToID        int64
		Content     Content
	}
	// Ack says the client holds everything of Conversation up to Seq.
	Ack struct {
		Conversation string
		Seq          int64
	}
	// Sync asks for history after AfterSeq.
	Sync struct {
		Conversation string
		AfterSeq     int64
		Limit        int
	}
	// Versions asks for the kept versions of an edited message (edit
	// history), the newest Limit.
	Versions struct {
		Conversation string
		Seq          int64
		Limit        int
	}
	// Read is a read receipt up to Seq.
	Read struct {
		Conversation string
		Seq          int64
	}
	// Typing says the user is typing in Conversation; it is forwarded,
	// never stored.
	Typing struct {
		Conversation string
	}
	// Ping asks for a pong.
	Ping struct{}
)

// wire is every field a client frame may carry.
type wire struct {
	Type         string           `json:"type"`
	ClientMsgID  *string          `json:"client_msg_id"`
	To           *Target          `json:"to"`
	Content      *json.RawMessage `json:"content"`
	Conversation *string          `json:"conversation"`
	Seq          *int64           `json:"seq"`
	AfterSeq     *int64           `json:"after_seq"`
	Limit        *int             `json:"limit"`
	Text         *string          `json:"text"`  // edit
	Emoji        *string          `json:"emoji"` // react, unreact
}

// Decode reads one client frame: *Send, *Ack, *Sync, *Versions, *Read, *Typing, *Recall, *Edit or *Ping, or a
// *Error with code bad_frame or unknown_type.
func Decode(b []byte) (any, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil, bad("want one JSON object")
	}
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, bad("invalid JSON: %v", plainJSONError(err))
	}
	switch w.Type {
	case "send":
		s, err := decodeSend(&w)
		if err != nil {
			return nil, err
		}
		return s, nil
	case "ack":
		conv, seq, err := convSeq(&w)
		if err != nil {
			return nil, err
		}
		return &Ack{Conversation: conv, Seq: seq}, nil
	case "read":
		conv, seq, err := convSeq(&w)
		if err != nil {
			return nil, err
		}
		return &Read{Conversation: conv, Seq: seq}, nil
	case "sync":
		if w.Conversation == nil {
			return nil, bad("conversation is missing")
		}
		if err := conversation(*w.Conversation); err != nil {
			return nil, err
		}
		s := &Sync{Conversation: *w.Conversation, Limit: DefaultSync}
		if w.AfterSeq != nil {
			s.AfterSeq = *w.AfterSeq
		}
		if s.AfterSeq < 0 {
			return nil, bad("after_seq must be >= 0")
		}
		if w.Limit != nil {
			s.Limit = *w.Limit
		}
		if s.Limit < 1 || s.Limit > MaxSyncLimit {
			return nil, bad("limit must be 1..%d", MaxSyncLimit)
		}
		return s, nil
	case "versions":
		conv, seq, err := convSeq(&w)
		if err != nil {
			return nil, err
		}
		v := &Versions{Conversation: conv, Seq: seq, Limit: DefaultSync}
		if w.Limit != nil {
			v.Limit = *w.Limit
		}
		if v.Limit < 1 || v.Limit > MaxSyncLimit {
			return nil, bad("limit must be 1..%d", MaxSyncLimit)
		}
		return v, nil
	case "typing":
		if w.Conversation == nil {
			return nil, bad("conversation is missing")
		}
		if err := conversation(*w.Conversation); err != nil {
			return nil, err
		}
		return &Typing{Conversation: *w.Conversation}, nil
	case "recall":
		r, err := decodeRecall(&w)
		if err != nil {
			return nil, err
		}
		return r, nil
	case "edit":
		e, err := decodeEdit(&w)
		if err != nil {
			return nil, err
		}
		return e, nil
	case "delete_for_me":
		d, err := decodeDeleteForMe(&w)
		if err != nil {
			return nil, err
		}
		return d, nil
	case "react", "unreact":
		r, err := decodeReact(&w, w.Type == "unreact")
		if err != nil {
			return nil, err
		}
		return r, nil
	case "ping":
		return &Ping{}, nil
	case "":
		return nil, bad("type is missing")
	default:
		return nil, &Error{Code: CodeUnknownType, Message: fmt.Sprintf("unknown frame type %q", truncate(w.Type, 32))}
	}
}

func convSeq(w *wire) (string, int64, error) {
	if w.Conversation == nil {
		return "", 0, bad("conversation is missing")
	}
	if err := conversation(*w.Conversation); err != nil {
		return "", 0, err
	}
	if w.Seq == nil || *w.Seq < 1 {
		return "", 0, bad("seq must be a number >= 1")
	}
	return *w.Conversation, *w.Seq, nil
}

func decodeSend(w *wire) (*Send, error) {
	s := &Send{}
	if w.ClientMsgID != nil {
		s.ClientMsgID = *w.ClientMsgID
	}
	if n := len(s.ClientMsgID); n < 1 || n > MaxClientMsgID || !utf8.ValidString(s.ClientMsgID) {
		return nil, bad("client_msg_id must be 1..%d bytes of UTF-8", MaxClientMsgID)
	}
	fail := func(format string, args ...any) (*Send, error) {
		e := bad(format, args...)
		e.ClientMsgID = s.ClientMsgID
		return nil, e
	}
	if w.To == nil {
		return fail("to is missing")
	}
	s.To = *w.To
	if s.To.Kind != "user" && s.To.Kind != "group" {
		return fail(`to.kind must be "user" or "group"`)
	}
	id, err := ParseID(s.To.ID)
	if err != nil {
		return fail("to.id: %v", err)
	}
	s.ToID = id
	if w.Content == nil {
		return fail("content is missing")
	}
	c, msg := decodeContent(*w.Content)
	if msg != "" {
		return fail("%s", msg)
	}
	s.Content = c
	return s, nil
}

// ParseID reads a decimal id > 0.
func ParseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 || strconv.FormatInt(id, 10) != s {
		return 0, errors.New("want a decimal id > 0")
	}
	return id, nil
}

// FormatID writes an id as the protocol does.
func FormatID(id int64) string { return strconv.FormatInt(id, 10) }

// conversation checks a conversation name (package conv) and answers a
// malformed one with bad_frame.
func conversation(s string) error {
	if _, err := conv.Parse(s); err != nil {
		return &Error{Code: CodeBadFrame, Message: err.Error()}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// plainJSONError keeps what encoding/json says short and free of Go types.
func plainJSONError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("field %q has the wrong type", te.Field)
		}
		return "wrong type"
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax error at offset %d", se.Offset)
	}
	return "cannot decode"
}
