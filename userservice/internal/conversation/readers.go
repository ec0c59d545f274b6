package conversation

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/privateim/privateim/foundation/conv"
	"github.com/privateim/privateim/foundation/errs"
)

// Reader is a user who read a message.
type Reader struct {
	ID int64
	Named
}

// ReadersPage is a page of readers; Next is "" on the last one.
type ReadersPage struct {
	Readers []Reader
	Next    string
}

// Readers lists who read conversation up to seq (or further), but the
// caller, paged by user id: only a participant asks (ErrNotFound), in a
// 1:1 or a group (400 conversation otherwise) of at most
// Deps.ReadersMaxMembers members (ErrCountsOnly), for a seq of the
// conversation (400 seq). Members who left and users who have blacklisted
// the caller are left out.
func (s *Service) Readers(ctx context.Context, user int64, conversation string, seq int64, limit int, cur string) (ReadersPage, error) {
	n, err := ParseName(conversation)
	if err != nil {
		return ReadersPage{}, err
	}
	if n.Kind != conv.KindUser && n.Kind != conv.KindGroup {
		return ReadersPage{}, errs.Invalid("conversation", "readers are listed for 1:1 and group conversations")
	}
	if seq < 1 {
		return ReadersPage{}, errs.Invalid("seq", "must be a whole number >= 1")
	}
	var after int64
	if cur != "" {
		if after, err = strconv.ParseInt(cur, 10, 64); err != nil || after < 1 {
			return ReadersPage{}, ErrBadCursor
		}
	}
	if err := s.takesPart(ctx, user, n); err != nil {
		return ReadersPage{}, err
	}
	var members []int64
	if n.Kind == conv.KindGroup {
		gs, err := s.store.GroupInfos(ctx, []int64{n.A})
		if err != nil {
			return ReadersPage{}, fmt.Errorf("group %d: %w", n.A, err)
		}
		if gs[n.A].Members > int64(s.readersMax) {
			return ReadersPage{}, ErrCountsOnly
		}
		if members, err = s.store.MemberIDs(ctx, n.A); err != nil {
			return ReadersPage{}, fmt.Errorf("members of group %d: %w", n.A, err)
		}
	}
	heads, err := s.store.Heads(ctx, []string{n.String()}, 0)
	if err != nil {
		return ReadersPage{}, fmt.Errorf("head of %s: %w", n, err)
	}
	if seq > heads[0].HeadSeq {
		return ReadersPage{}, errs.Invalid("seq", "beyond the conversation's last message (%d)", heads[0].HeadSeq)
	}
	blockers, err := s.store.Blockers(ctx, user)
	if err != nil {
		return ReadersPage{}, fmt.Errorf("who blacklisted %d: %w", user, err)
	}
	// The caller is left out by the store; those who blacklisted the
	// caller here (there may be more than a request may name).
	ids, more, err := s.store.Readers(ctx, n.String(), seq, []int64{user}, after, limit)
	if err != nil {
		return ReadersPage{}, fmt.Errorf("readers of %s %d: %w", n, seq, err)
	}
	var page ReadersPage
	if more && len(ids) > 0 {
		page.Next = strconv.FormatInt(ids[len(ids)-1], 10)
	}
	ids = slices.DeleteFunc(ids, func(id int64) bool {
		return slices.Contains(blockers, id) || (members != nil && !slices.Contains(members, id))
	})
	names, err := s.store.UserNames(ctx, ids)
	if err != nil {
		return ReadersPage{}, fmt.Errorf("name the readers: %w", err)
	}
	for _, id := range ids {
		if nm, ok := names[id]; ok {
			page.Readers = append(page.Readers, Reader{ID: id, Named: nm})
		}
	}
	return page, nil
}
