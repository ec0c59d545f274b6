package media

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/privateim/privateim/foundation/imagecheck"
	"github.com/privateim/privateim/foundation/qrcode"
)

// QRCode is a PrivateIM QR code read back (foundation/qrcode).
type QRCode = qrcode.Code

// UserQRCode is the PNG of the user's QR code.
func (s *Service) UserQRCode(userID int64) ([]byte, error) {
	return qrcode.Encode(qrcode.Content(qrcode.User, userID))
}

// GroupQRCode is the PNG of the group's QR code; ErrGroupNotFound unless
// the group exists and is not dismissed.
func (s *Service) GroupQRCode(ctx context.Context, groupID int64) ([]byte, error) {
	ok, err := s.store.GroupExists(ctx, groupID)
	if err != nil {
		return nil, fmt.Errorf("group %d qr code: %w", groupID, err)
	}
	if !ok {
		return nil, ErrGroupNotFound
	}
	return qrcode.Encode(qrcode.Content(qrcode.Group, groupID))
}

// ParseQRCode reads a picture of at most MaxQRImageBytes from r and the
// PrivateIM QR code in it, for user. A picture of up to MaxQRPixels is
// decoded whole, then shrunk to at most qrcode.MaxSide pixels a side before
// the code is looked for. Errors: ErrQRImageTooBig, ErrQRNotImage,
// ErrBadImage, ErrImageTooBig, ErrNoQRCode, ErrNotOurQRCode, ErrBusy (the
// user has a picture being decoded), or those of reading r, wrapped.
func (s *Service) ParseQRCode(ctx context.Context, user int64, r io.Reader) (QRCode, error) {
	data, err := readAll(r, MaxQRImageBytes, ErrQRImageTooBig)
	if err != nil {
		return QRCode{}, err
	}
	release, err := s.qr.acquire(ctx, user)
	if err != nil {
		return QRCode{}, err
	}
	defer release()
	img, _, err := imagecheck.Decode(data, MaxQRPixels)
	if errors.Is(err, imagecheck.ErrNotImage) {
		return QRCode{}, ErrQRNotImage
	}
	if err != nil {
		return QRCode{}, err
	}
	content, err := qrcode.Decode(img)
	if err != nil {
		return QRCode{}, err
	}
	return qrcode.Parse(content)
}
