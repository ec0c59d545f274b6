package frame

// Lifecycle frames (issue 15): a client changes one of its conversation's
// messages. Each change is stored as an event of its own seq in the same
// conversation (docs/websocket.md, "Message lifecycle").

import "unicode/utf8"

// Content kinds of lifecycle events and of a recalled message.
const (
	KindRecall   = "recall"   // the event of a recall
	KindEdit     = "edit"     // the event of an edit
	KindRecalled = "recalled" // a recalled message's tombstone
)

type (
	// Recall removes the content of message Seq of Conversation for
	// everyone.
	Recall struct {
		ClientMsgID  string
		Conversation string
		Seq          int64
	}
	// Edit replaces the text of message Seq of Conversation.
	Edit struct {
		ClientMsgID  string
		Conversation string
		Seq          int64
		Text         string
	}
)

// Events, the content of the stored lifecycle messages.
type (
	// RecallEvent is the content of a recall event.
	RecallEvent struct {
		Kind      string `json:"kind"` // "recall"
		TargetSeq int64  `json:"target_seq"`
		By        string `json:"by"`
	}
	// EditEvent is the content of an edit event.
	EditEvent struct {
		Kind      string `json:"kind"` // "edit"
		TargetSeq int64  `json:"target_seq"`
		Text      string `json:"text"`
		EditedAt  int64  `json:"edited_at"` // unix ms
	}
	// Recalled is the tombstone a recalled message's content becomes.
	Recalled struct {
		Kind string `json:"kind"` // "recalled"
		By   string `json:"by"`
	}
)

// lifecycle reads the fields every lifecycle frame has; errors carry the
// client_msg_id once it is valid.
func lifecycle(w *wire) (id, conv string, seq int64, err error) {
	if w.ClientMsgID != nil {
		id = *w.ClientMsgID
	}
	if n := len(id); n < 1 || n > MaxClientMsgID || !utf8.ValidString(id) {
		return "", "", 0, bad("client_msg_id must be 1..%d bytes of UTF-8", MaxClientMsgID)
	}
	fail := func(e *Error) (string, string, int64, error) {
		e.ClientMsgID = id
		return "", "", 0, e
	}
	if w.Conversation == nil {
		return fail(bad("conversation is missing"))
	}
	if err := conversation(*w.Conversation); err != nil {
		e := err.(*Error)
		return fail(&Error{Code: e.Code, Message: e.Message})
	}
	if w.Seq == nil || *w.Seq < 1 {
		return fail(bad("seq must be a number >= 1"))
	}
	return id, *w.Conversation, *w.Seq, nil
}

func decodeRecall(w *wire) (*Recall, error) {
	id, conv, seq, err := lifecycle(w)
	if err != nil {
		return nil, err
	}
	return &Recall{ClientMsgID: id, Conversation: conv, Seq: seq}, nil
}

func decodeEdit(w *wire) (*Edit, error) {
	id, conv, seq, err := lifecycle(w)
	if err != nil {
		return nil, err
	}
	if w.Text == nil || *w.Text == "" || !utf8.ValidString(*w.Text) || utf8.RuneCountInString(*w.Text) > MaxText {
		e := bad("text must be 1..%d characters of UTF-8", MaxText)
		e.ClientMsgID = id
		return nil, e
	}
	return &Edit{ClientMsgID: id, Conversation: conv, Seq: seq, Text: *w.Text}, nil
}

// ClientID is the client_msg_id of a decoded send, recall or edit frame, ""
// for other frames: error frames answering them carry it.
func ClientID(f any) string {
	switch f := f.(type) {
	case *Send:
		return f.ClientMsgID
	case *Recall:
		return f.ClientMsgID
	case *Edit:
		return f.ClientMsgID
	case *React:
		return f.ClientMsgID
	case *DeleteForMe:
		return f.ClientMsgID
	}
	return ""
}

// Reactions.
const (
	KindReact   = "react"   // the event of a reaction added
	KindUnreact = "unreact" // the event of a reaction taken back
	// MaxEmoji bounds a reaction's emoji in bytes (flags, skin tones and
	// joiners make one emoji several code points).
	MaxEmoji = 64
)

// React adds (Unreact: takes back) the user's Emoji on message Seq.
type React struct {
	ClientMsgID  string
	Conversation string
	Seq          int64
	Emoji        string
	Remove       bool // an unreact frame
}

// ReactEvent is the content of a react or unreact event.
type ReactEvent struct {
	Kind      string `json:"kind"` // "react" or "unreact"
	TargetSeq int64  `json:"target_seq"`
	Emoji     string `json:"emoji"`
	User      string `json:"user"`
}

// ReactionCount is one emoji's reactions on a message in history.
type ReactionCount struct {
	Emoji string `json:"emoji"`
	Count int64  `json:"count"`
	Me    bool   `json:"me"`
}

func decodeReact(w *wire, remove bool) (*React, error) {
	id, conv, seq, err := lifecycle(w)
	if err != nil {
		return nil, err
	}
	if w.Emoji == nil || !validEmoji(*w.Emoji) {
		e := bad("emoji must be 1..%d bytes of UTF-8 without spaces or control characters", MaxEmoji)
		e.ClientMsgID = id
		return nil, e
	}
	return &React{ClientMsgID: id, Conversation: conv, Seq: seq, Emoji: *w.Emoji, Remove: remove}, nil
}

func validEmoji(s string) bool {
	if s == "" || len(s) > MaxEmoji || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}

// Delete for me.
const KindCleared = "cleared" // the event of a delete for me, in the user's sys: conversation

// DeleteForMe hides the messages of Conversation up to Seq from the user
// on all their devices; the others see no change.
type DeleteForMe struct {
	ClientMsgID  string
	Conversation string
	Seq          int64
}

// ClearedEvent is the content of a delete for me event.
type ClearedEvent struct {
	Kind         string `json:"kind"` // "cleared"
	Conversation string `json:"conversation"`
	UpToSeq      int64  `json:"up_to_seq"`
}

func decodeDeleteForMe(w *wire) (*DeleteForMe, error) {
	id, conv, seq, err := lifecycle(w)
	if err != nil {
		return nil, err
	}
	return &DeleteForMe{ClientMsgID: id, Conversation: conv, Seq: seq}, nil
}
