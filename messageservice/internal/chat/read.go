// The checks of a read frame before its receipt fans out: a receipt goes
// to every participant's sockets (up to 1,500 for a 500-member group), so
// only a true one is sent.

package chat

import (
	"context"
	"fmt"

	"github.com/privateim/privateim/messageservice/internal/conv"
	"github.com/privateim/privateim/messageservice/internal/frame"
)

// checkRead returns who gets the receipt of f: the user must take part in
// the conversation, a direct one only with a friend and no blacklist
// between them (ErrNotFriends, ErrBlocked), and f.Seq must not be past the
// conversation's last message (ErrReadAhead). A seq this connection was
// sent needs no DataService read.
func (ss *Session) checkRead(ctx context.Context, f *frame.Read) ([]int64, error) {
	s := ss.svc
	users, err := s.participants(ctx, ss.user, f.Conversation)
	if err != nil {
		return nil, err
	}
	if c, err := conv.Parse(f.Conversation); err == nil && c.Kind == conv.KindUser {
		if err := s.directAllowed(ctx, ss.user, c); err != nil {
			return nil, err
		}
	}
	ss.mu.Lock()
	cs := ss.convs[f.Conversation]
	sent := cs != nil && f.Seq <= cs.delivered
	ss.mu.Unlock()
	if !sent {
		heads, err := s.store.Heads(ctx, []string{f.Conversation})
		if err != nil {
			return nil, fmt.Errorf("head of %s: %w", f.Conversation, err)
		}
		if f.Seq > heads[f.Conversation] {
			return nil, ErrReadAhead
		}
	}
	return users, nil
}
