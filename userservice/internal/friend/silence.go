// Blacklist means silence: a user's mobile and gender, shown to friends,
// and last seen time are not shown to a user the user has blacklisted
// (profile, search, friend lists, the blacklist itself). Only the owner's blacklist counts:
// the blocked friend's own fields stay visible to the blocker.

package friend

import (
	"context"
	"fmt"
)

// silenced is v without what a blacklisted viewer may not see.
func silenced(v View) View {
	v.Full, v.Mobile, v.Gender, v.LastSeen = false, "", "", 0
	return v
}

// silenceOne is v (of another user than viewer) as viewer may see it: its
// private fields cleared when its owner has blacklisted viewer.
func (s *Service) silenceOne(ctx context.Context, viewer int64, v View) (View, error) {
	if !v.Full && v.LastSeen == 0 {
		return v, nil
	}
	f, ok, err := s.friendship(ctx, v.ID, viewer)
	if err != nil {
		return View{}, err
	}
	if ok && f.Blacklisted {
		return silenced(v), nil
	}
	return v, nil
}

// silenceFor clears the private fields of the views in vs whose owner has
// blacklisted viewer. It reads the rows naming viewer as blacklisted (one
// list, usually empty) only when some view shows those fields at all.
func (s *Service) silenceFor(ctx context.Context, viewer int64, vs []*View) error {
	if !anyFull(vs) {
		return nil
	}
	blockers := make(map[int64]bool)
	token := ""
	for {
		rows, next, err := s.store.ListFriendships(ctx, Filter{UserID: viewer, Incoming: true, Blacklisted: ptr(true)}, 100, token)
		if err != nil {
			return fmt.Errorf("list who blacklisted %d: %w", viewer, err)
		}
		for _, f := range rows {
			blockers[f.SelfID] = true
		}
		if next == "" {
			break
		}
		token = next
	}
	for _, v := range vs {
		if blockers[v.ID] {
			*v = silenced(*v)
		}
	}
	return nil
}

func anyFull(vs []*View) bool {
	for _, v := range vs {
		if v.Full || v.LastSeen != 0 {
			return true
		}
	}
	return false
}

// others points at the views in vs of users other than viewer (whose own
// view is always whole).
func others(vs []View, viewer int64) []*View {
	out := make([]*View, 0, len(vs))
	for i := range vs {
		if vs[i].ID != viewer {
			out = append(out, &vs[i])
		}
	}
	return out
}
