package media

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"strconv"
	"strings"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/skip2/go-qrcode"
)

// QRKind is what a PrivateIM QR code points at.
type QRKind string

// QR kinds; the content is "privateim://<kind>/<id>".
const (
	QRUser         QRKind = "user"
	QRGroup        QRKind = "group"
	QRSubscription QRKind = "subscription"
)

// QRModulePixels is the side of one QR module in the PNGs made. Whole
// pixels per module keep every edge crisp: a fixed image side (256 px) gives
// fractional modules, and about 1 in 1,500 such codes could not be read back.
const QRModulePixels = 8

const qrScheme = "privateim://"

// QRContent is the text a QR code of kind and id holds.
func QRContent(kind QRKind, id int64) string {
	return qrScheme + string(kind) + "/" + strconv.FormatInt(id, 10)
}

// EncodeQR makes a PNG of a QR code holding content, with medium (15%)
// error correction and the standard quiet zone.
func EncodeQR(content string) ([]byte, error) {
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("encode qr code: %w", err)
	}
	// A negative size asks go-qrcode for that many pixels per module.
	png, err := q.PNG(-QRModulePixels)
	if err != nil {
		return nil, fmt.Errorf("encode qr code: %w", err)
	}
	return png, nil
}

// DecodeQR reads the first QR code found in img; ErrNoQRCode when there is
// none it can read.
func DecodeQR(img image.Image) (string, error) {
	src := gozxing.NewLuminanceSourceFromImage(img)
	// gozxing misreads a small share of clean codes with one binarizer or
	// one hint set and reads them with another (measured: about 1 in 3,000
	// of our own PNGs failed the first attempt alone), so try the cheap
	// combinations in turn before giving up.
	attempts := []struct {
		binarizer func(gozxing.LuminanceSource) gozxing.Binarizer
		hints     map[gozxing.DecodeHintType]any
	}{
		{gozxing.NewHybridBinarizer, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}},
		{gozxing.NewGlobalHistgramBinarizer, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}},
		{gozxing.NewHybridBinarizer, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true}},
	}
	for _, a := range attempts {
		bmp, err := gozxing.NewBinaryBitmap(a.binarizer(src))
		if err != nil {
			continue
		}
		// NotFound, Checksum and Format exceptions alike: try the next way.
		if res, err := zxqr.NewQRCodeReader().Decode(bmp, a.hints); err == nil {
			return res.GetText(), nil
		}
	}
	return "", ErrNoQRCode
}

// QRCode is a PrivateIM QR code read back.
type QRCode struct {
	Content string
	Kind    QRKind
	ID      int64
}

// ParseQRContent reads "privateim://<kind>/<id>"; anything else is
// ErrNotOurQRCode.
func ParseQRContent(content string) (QRCode, error) {
	rest, ok := strings.CutPrefix(content, qrScheme)
	if !ok {
		return QRCode{}, ErrNotOurQRCode
	}
	kind, id, ok := strings.Cut(rest, "/")
	if !ok {
		return QRCode{}, ErrNotOurQRCode
	}
	switch k := QRKind(kind); k {
	case QRUser, QRGroup, QRSubscription:
		n, err := strconv.ParseInt(id, 10, 64)
		// Only the canonical form: no sign, no leading zeros.
		if err != nil || n <= 0 || strconv.FormatInt(n, 10) != id {
			return QRCode{}, ErrNotOurQRCode
		}
		return QRCode{Content: content, Kind: k, ID: n}, nil
	}
	return QRCode{}, ErrNotOurQRCode
}

// UserQRCode is the PNG of the user's QR code.
func (s *Service) UserQRCode(userID int64) ([]byte, error) {
	return EncodeQR(QRContent(QRUser, userID))
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
	return EncodeQR(QRContent(QRGroup, groupID))
}

// ParseQRCode reads a picture of at most MaxQRImageBytes from r and the
// PrivateIM QR code in it. Errors: ErrQRImageTooBig, ErrQRNotImage,
// ErrBadImage, ErrImageTooBig, ErrNoQRCode, ErrNotOurQRCode, or those of
// reading r, wrapped.
func (s *Service) ParseQRCode(ctx context.Context, r io.Reader) (QRCode, error) {
	data, err := readAll(r, MaxQRImageBytes, ErrQRImageTooBig)
	if err != nil {
		return QRCode{}, err
	}
	release, err := s.acquire(ctx)
	if err != nil {
		return QRCode{}, err
	}
	defer release()
	img, _, err := decodeImage(data, MaxQRPixels)
	if errors.Is(err, ErrNotImage) {
		return QRCode{}, ErrQRNotImage
	}
	if err != nil {
		return QRCode{}, err
	}
	content, err := DecodeQR(img)
	if err != nil {
		return QRCode{}, err
	}
	return ParseQRContent(content)
}
