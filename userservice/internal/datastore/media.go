package datastore

import (
	"context"
	"errors"

	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/userservice/internal/media"
)

var _ media.Store = (*Client)(nil)

// SetUserAvatar sets the user's avatar URL and returns the previous one.
// The read and the write are two calls: the previous URL only tells which
// file to delete, and a race between two uploads at worst leaves one
// orphan file, never deletes the current avatar's.
func (c *Client) SetUserAvatar(ctx context.Context, userID int64, url string) (string, error) {
	u, err := c.users.GetUser(ctx, &datav1.GetUserRequest{Id: userID})
	if err != nil {
		return "", translate("GetUser", err)
	}
	if _, err := c.users.UpdateUser(ctx, &datav1.UpdateUserRequest{Id: userID, Avatar: &url}); err != nil {
		return "", translate("UpdateUser", err)
	}
	return u.GetAvatar(), nil
}

// GroupExists reports whether the group exists and is not dismissed.
func (c *Client) GroupExists(ctx context.Context, groupID int64) (bool, error) {
	g, err := c.groups.GetGroup(ctx, &datav1.GetGroupRequest{Id: groupID})
	err = translate("GetGroup", err)
	if errors.Is(err, errs.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return !g.GetDismissed(), nil
}
