package server

import (
	"context"
	"image"

	"github.com/privateim/privateim/userservice/internal/group"
	"github.com/privateim/privateim/userservice/internal/groupavatar"
	"github.com/privateim/privateim/userservice/internal/media"
)

// avatarSource feeds the drawn group pictures: members from the group
// feature, their avatar files from the media feature (decoded in its
// avatar pool under key 0, no user's).
type avatarSource struct {
	groups *group.Service
	media  *media.Service
}

var _ groupavatar.Source = avatarSource{}

func (a avatarSource) Members(ctx context.Context, groupID int64, n int) (string, []groupavatar.Member, error) {
	uploaded, profiles, err := a.groups.AvatarSource(ctx, groupID, n)
	if err != nil {
		return "", nil, err
	}
	out := make([]groupavatar.Member, len(profiles))
	for i, p := range profiles {
		out[i] = groupavatar.Member{UserID: p.ID, Name: p.Name, Avatar: p.Avatar}
	}
	return uploaded, out, nil
}

func (a avatarSource) Avatar(ctx context.Context, url string) (image.Image, error) {
	return a.media.LoadAvatar(ctx, 0, url)
}
