package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"net/http"
	"path"
	"regexp"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/foundation/imagecheck"
)

// SetAvatar reads an image of at most MaxAvatarBytes from r, checks that it
// is a PNG, JPEG, GIF or WebP image by decoding it, stores it under a random
// name and makes it the user's avatar. It returns the avatar's URL. The
// avatar it replaces is deleted. Errors of reading r are returned wrapped.
func (s *Service) SetAvatar(ctx context.Context, userID int64, r io.Reader) (string, error) {
	return s.setAvatar(ctx, userID, r, func(url string) (string, error) {
		prev, err := s.store.SetUserAvatar(ctx, userID, url)
		if errors.Is(err, errs.ErrNotFound) {
			return "", ErrUserNotFound
		}
		if err != nil {
			return "", fmt.Errorf("set avatar of user %d: %w", userID, err)
		}
		return prev, nil
	})
}

// SetGroupAvatar is SetAvatar for a group, uploaded by user: the image gets
// the same checks, and set records its URL (it checks who may, and returns
// the URL replaced); when set fails the new file is deleted.
func (s *Service) SetGroupAvatar(ctx context.Context, user int64, r io.Reader, set func(url string) (previous string, err error)) (string, error) {
	return s.setAvatar(ctx, user, r, set)
}

func (s *Service) setAvatar(ctx context.Context, user int64, r io.Reader, set func(url string) (string, error)) (string, error) {
	data, err := readAll(r, MaxAvatarBytes, ErrAvatarTooBig)
	if err != nil {
		return "", err
	}
	release, err := s.avatar.acquire(ctx, user)
	if err != nil {
		return "", err
	}
	_, format, err := imagecheck.Decode(data, MaxAvatarPixels)
	release()
	if err != nil {
		return "", err
	}
	name := randomName() + imagecheck.Ext[format]
	rel := path.Join(dirAvatars, name)
	if _, err := s.storage.Put(ctx, rel, http.DetectContentType(data), bytes.NewReader(data)); err != nil {
		return "", fmt.Errorf("store avatar: %w", err)
	}
	url := s.url(dirAvatars, name)
	prev, err := set(url)
	if err != nil {
		s.remove(ctx, rel)
		return "", err
	}
	// The previous avatar is ours to delete when it is one of our files;
	// whatever the host part of its URL was then.
	if m := oldAvatar.FindStringSubmatch(prev); m != nil && m[1] != name {
		s.remove(ctx, path.Join(dirAvatars, m[1]))
	}
	return url, nil
}

// ErrNotOurAvatar is LoadAvatar's answer for a URL that is not one of the
// avatar files stored here.
var ErrNotOurAvatar = errors.New("not an avatar stored here")

// LoadAvatar decodes the avatar file that url names (an avatar URL this
// service answered), in the avatar pool under key (0 or below for work
// that is no user's). A URL of another host's file is ErrNotOurAvatar:
// nothing is fetched from elsewhere.
func (s *Service) LoadAvatar(ctx context.Context, key int64, url string) (image.Image, error) {
	m := oldAvatar.FindStringSubmatch(url)
	if m == nil {
		return nil, ErrNotOurAvatar
	}
	f, err := s.storage.Open(ctx, path.Join(dirAvatars, m[1]))
	if err != nil {
		return nil, fmt.Errorf("open avatar: %w", err)
	}
	defer f.Close()
	data, err := readAll(f, MaxAvatarBytes, ErrAvatarTooBig)
	if err != nil {
		return nil, err
	}
	release, err := s.avatar.acquire(ctx, key)
	if err != nil {
		return nil, err
	}
	defer release()
	img, _, err := imagecheck.Decode(data, MaxAvatarPixels)
	return img, err
}

var oldAvatar = regexp.MustCompile(`/static/avatars/([0-9a-f]{32}\.(?:png|jpg|gif|webp))$`)

// remove deletes rel, logging a failure: an orphan file costs only space.
// It runs even when ctx is cancelled (an upload cut off is cleaned up).
func (s *Service) remove(ctx context.Context, rel string) {
	if err := s.storage.Delete(context.WithoutCancel(ctx), rel); err != nil {
		s.log.Warn("remove upload", "file", rel, "err", err)
	}
}

// readAll reads r up to max bytes; more is tooBig.
func readAll(r io.Reader, max int64, tooBig error) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, &errs.ReadError{Err: err}
	}
	if int64(len(b)) > max {
		return nil, tooBig
	}
	return b, nil
}
