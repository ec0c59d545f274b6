package group

import (
	"context"
	"fmt"
)

// The group's picture: an owner or admin uploads one (SetAvatar, the file
// checked and stored by the media feature); until then the groupavatar
// feature draws one from the first members (AvatarSource).

// SetAvatar makes url the group's avatar (ActSetAvatar: the owner's or an
// admin's; Authorize's errors otherwise), with an avatar_changed system
// message in the same change. It returns the URL it replaced.
func (s *Service) SetAvatar(ctx context.Context, me, id int64, url string) (previous string, err error) {
	g, _, err := s.Authorize(ctx, me, id, ActSetAvatar)
	if err != nil {
		return "", err
	}
	if _, err := s.apply(ctx, Change{
		GroupID: id, Group: &Update{Avatar: &url}, ActorID: me, ActorMinRole: MinRole(ActSetAvatar),
		Notice: NewNotice(EventAvatarChanged, me, nil, map[string]any{"avatar": url}),
	}, nil); err != nil {
		return "", err
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
