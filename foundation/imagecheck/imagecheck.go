// Package imagecheck decides whether uploaded bytes are a picture the
// services keep (avatars) or read (QR codes): PNG, JPEG, GIF or WebP,
// decoded whole, with the pixel count checked before decoding, because a
// small file can declare a huge image (a decompression bomb). It trusts the
// bytes only, never a name or a header.
//
// It imports golang.org/x/image/webp and foundation/errs only.
package imagecheck

import (
	"bytes"
	"errors"
	"fmt"
	"image"

	// The image formats accepted, registered with package image.
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/webp"

	"github.com/privateim/privateim/foundation/errs"
)

// Ext is the file extension of each accepted format, as package image
// names them. Other registered formats are refused.
var Ext = map[string]string{"png": ".png", "jpeg": ".jpg", "gif": ".gif", "webp": ".webp"}

// Errors of Decode, safe to show a caller.
var (
	ErrNotImage      = errs.New(errs.KindUnsupportedMedia, "unsupported_image", "not a PNG, JPEG, GIF or WebP image")
	ErrBadImage      = errs.New(errs.KindInvalid, "invalid_image", "the image is damaged or truncated and cannot be decoded")
	ErrTooManyPixels = errs.New(errs.KindInvalid, "image_too_large", "the image has too many pixels")
)

// Decode decodes data whole, refusing formats outside Ext and images of
// more than maxPixels before decoding them. It returns the image and its
// format (a key of Ext), or ErrNotImage, ErrBadImage or an error of the
// kind and code of ErrTooManyPixels that names the size.
func Decode(data []byte, maxPixels int) (image.Image, string, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if errors.Is(err, image.ErrFormat) {
		return nil, "", ErrNotImage
	}
	if err != nil {
		return nil, "", ErrBadImage
	}
	if _, ok := Ext[format]; !ok {
		return nil, "", ErrNotImage
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, "", ErrBadImage
	}
	if cfg.Width > maxPixels/cfg.Height {
		return nil, "", &errs.Error{Kind: ErrTooManyPixels.Kind, Code: ErrTooManyPixels.Code,
			Message: fmt.Sprintf("the image is %d×%d pixels; at most %d pixels in all", cfg.Width, cfg.Height, maxPixels)}
	}
	// Decoding the whole image, not just its header, catches a valid
	// header followed by garbage.
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, "", ErrBadImage
	}
	return img, format, nil
}
