// Delete for me (issue 15): a user hides a conversation's messages up to a
// seq from all their own devices. It is not an event of that conversation
// (the others see no change) but of the user's own sys: conversation,
// stored through the one append path with the user's cleared seq raised in
// the same transaction: so it is idempotent by client_msg_id, reaches the
// user's devices on every node, and a device offline meanwhile gets it at
// catch-up; sync and catch-up leave out what it covers.

package chat

import (
	"context"
	"errors"
	"fmt"

	"github.com/privateim/privateim/foundation/conv"
	"github.com/privateim/privateim/messageservice/internal/frame"
)

// ErrClearAhead: a delete for me past the conversation's last message.
var ErrClearAhead = errors.New("delete for me past the last message")

// DeleteForMe hides the messages of f.Conversation up to f.Seq from the
// user on all their devices; answered and delivered (to the user's other
// connections) like a send.
func (ss *Session) DeleteForMe(ctx context.Context, f *frame.DeleteForMe, reply func(sent []byte, err error)) {
	s := ss.svc
	if _, err := s.participants(ctx, ss.user, f.Conversation); err != nil {
		reply(nil, err)
		return
	}
	heads, err := s.store.Heads(ctx, []string{f.Conversation})
	if err != nil {
		reply(nil, fmt.Errorf("head of %s: %w", f.Conversation, err))
		return
	}
	if f.Seq > heads[f.Conversation] {
		// A re-send after its success cannot be refused by this: heads
		// never move back.
		reply(nil, ErrClearAhead)
		return
	}
	ss.submit(ctx, []int64{ss.user}, AppendRequest{
		Conversation: conv.System(ss.user).String(), SenderID: ss.user, ClientMsgID: f.ClientMsgID, Kind: frame.KindCleared,
		Content: frame.Marshal(frame.ClearedEvent{Kind: frame.KindCleared, Conversation: f.Conversation, UpToSeq: f.Seq}),
		Clear:   &Clear{User: ss.user, Conversation: f.Conversation, UpTo: f.Seq},
	}, reply)
}
