// Reactions (issue 15): react and unreact are lifecycle events like recall
// and edit (lifecycle.go), whose append adds or removes the reaction in the
// same transaction; history aggregates them per emoji.

package chat

import (
	"context"
	"errors"

	"github.com/privateim/privateim/messageservice/internal/frame"
)

// Errors of reaction frames (wsconn names the emoji field).
var (
	ErrReacted      = errors.New("already reacted with this emoji")
	ErrNotReacted   = errors.New("not reacted with this emoji")
	ErrTooManyEmoji = errors.New("the message has 20 distinct emoji")
)

// lifecycleKind reports whether kind is a lifecycle event's: events are not
// recalled, edited or reacted to.
func lifecycleKind(kind string) bool {
	switch kind {
	case frame.KindRecall, frame.KindEdit, frame.KindReact, frame.KindUnreact:
		return true
	}
	return false
}

// React adds (f.Remove: takes back) the user's emoji on message f.Seq: one
// per (user, message, emoji), at most 20 distinct emoji per message, none
// on a recalled message. A reaction reaches the conversation like a send,
// so it is checked like one (friends and no blacklist in a 1:1, not muted
// in a group). The event is answered and delivered like a send; the store
// keeps the reaction in the same transaction, so concurrent reactions add
// up exactly.
func (ss *Session) React(ctx context.Context, f *frame.React, reply func(sent []byte, err error)) {
	s := ss.svc
	receivers, t, err := ss.target(ctx, f.Conversation, f.Seq)
	if err == nil {
		receivers, err = s.mayPost(ctx, ss.user, f.Conversation)
	}
	if err != nil {
		ss.refuse(ctx, f.ClientMsgID, f.Conversation, receivers, err, reply)
		return
	}
	kind := frame.KindReact
	if f.Remove {
		kind = frame.KindUnreact
	}
	ss.submit(ctx, receivers, AppendRequest{
		Conversation: f.Conversation, SenderID: ss.user, ClientMsgID: f.ClientMsgID, Kind: kind,
		Content:  frame.Marshal(frame.ReactEvent{Kind: kind, TargetSeq: t.Seq, Emoji: f.Emoji, User: frame.FormatID(ss.user)}),
		Reaction: &Reaction{TargetSeq: t.Seq, User: ss.user, Emoji: f.Emoji, Remove: f.Remove},
	}, reply)
}
