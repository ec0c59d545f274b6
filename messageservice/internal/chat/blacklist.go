// Blacklist means silence: what a user's frames tell those the user has
// blacklisted. Presence goes only to friends not blacklisted (Store.Friends
// leaves them out); read receipts of a direct conversation stop at a
// blacklist (checkRead), and those of a group skip the members the reader
// has blacklisted (here).

package chat

import (
	"context"
	"fmt"
	"slices"

	"github.com/privateim/privateim/foundation/conv"
)

// receiptAudience is users without those reader has blacklisted, for a
// group conversation (a direct one was checked whole by checkRead). It
// reads the blacklist from the DataService each time: a group read is
// already rate limited (READ_RATE), and a blacklist changed a moment ago
// must hold at once.
func (s *Service) receiptAudience(ctx context.Context, reader int64, conversation string, users []int64) ([]int64, error) {
	c, err := conv.Parse(conversation)
	if err != nil || c.Kind != conv.KindGroup {
		return users, nil
	}
	blocked, err := s.store.Blacklist(ctx, reader)
	if err != nil {
		return nil, fmt.Errorf("blacklist of %d: %w", reader, err)
	}
	if len(blocked) == 0 {
		return users, nil
	}
	return slices.DeleteFunc(slices.Clone(users), func(u int64) bool { return slices.Contains(blocked, u) }), nil
}
