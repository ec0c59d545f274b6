package group

import (
	"context"
	"fmt"
)

// The group's picture: an owner or admin uploads one (SetAvatar, the file
// checked and stored by the media feature); until then the groupavatar
// feature draws one from the first members (AvatarSource).

// SetAvatar makes url the group's avatar; the owner's or an admin's (403
// "not_admin" otherwise, 409 "group_dismissed" for a dismissed group). It
// returns the URL it replaced.
func (s *Service) SetAvatar(ctx context.Context, me, id int64, url string) (previous string, err error) {
	g, err := s.managed(ctx, me, id)
	if err != nil {
		return "", err
	}
	if _, err := s.store.UpdateGroup(ctx, id, Update{Avatar: &url}); err != nil {
		return "", fmt.Errorf("set avatar of group %d: %w", id, err)
	}
	return g.Avatar, nil
}

// AvatarSource returns the live group's uploaded avatar ("" when none) and,
// when there is none, the profiles of its first n members in member-list
// order (by user id), the owner among them or not.
func (s *Service) AvatarSource(ctx context.Context, id int64, n int) (avatar string, members []Profile, err error) {
	g, err := s.live(ctx, id, ErrGroupNotFound)
	if err != nil {
		return "", nil, err
	}
	if g.Avatar != "" {
		return g.Avatar, nil, nil
	}
	infos, _, err := s.store.MembersInfo(ctx, id, n, "")
	if err != nil {
		return "", nil, fmt.Errorf("members of group %d: %w", id, err)
	}
	members = make([]Profile, 0, len(infos))
	for _, m := range infos {
		members = append(members, m.User)
	}
	return "", members, nil
}
