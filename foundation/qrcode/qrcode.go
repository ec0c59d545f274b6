// Package qrcode makes and reads PrivateIM QR codes: the content
// "privateim://<kind>/<id>" (Content, Parse), PNGs of it (Encode, with
// skip2/go-qrcode) and the code read back from a picture (Decode, with
// gozxing). The userservice reads them; both it and the
// subscriptionservice make them.
//
// It imports the two QR libraries and foundation/errs only.
package qrcode

import (
	"fmt"
	"image"
	"strconv"
	"strings"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/skip2/go-qrcode"

	"github.com/privateim/privateim/foundation/errs"
)

// Kind is what a PrivateIM QR code points at.
type Kind string

// Kinds; the content is "privateim://<kind>/<id>".
const (
	User         Kind = "user"
	Group        Kind = "group"
	Subscription Kind = "subscription"
)

// ModulePixels is the side of one QR module in the PNGs made. Whole pixels
// per module keep every edge crisp: a fixed image side (256 px) gives
// fractional modules, and about 1 in 1,500 such codes could not be read
// back.
const ModulePixels = 8

const scheme = "privateim://"

// Errors of reading a code, safe to show a caller.
var (
	ErrNoCode  = errs.New(errs.KindInvalid, "no_qr_code", "no readable QR code in the image")
	ErrNotOurs = errs.New(errs.KindInvalid, "not_privateim_qr_code", "the QR code is not a PrivateIM user, group or subscription code")
)

// Content is the text a QR code of kind and id holds.
func Content(kind Kind, id int64) string {
	return scheme + string(kind) + "/" + strconv.FormatInt(id, 10)
}

// Encode makes a PNG of a QR code holding content, with medium (15%) error
// correction and the standard quiet zone.
func Encode(content string) ([]byte, error) {
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("encode qr code: %w", err)
	}
	// A negative size asks go-qrcode for that many pixels per module.
	png, err := q.PNG(-ModulePixels)
	if err != nil {
		return nil, fmt.Errorf("encode qr code: %w", err)
	}
	return png, nil
}

// Decode reads the first QR code found in img; ErrNoCode when there is none
// it can read.
//
// A picture with a side over MaxSide is shrunk first (see MaxSide).
func Decode(img image.Image) (string, error) {
	pix, w, h := luminance(img, MaxSide)
	src, err := gozxing.NewPlanarYUVLuminanceSource(pix, w, h, 0, 0, w, h, false)
	if err != nil || w < 21 || h < 21 { // 21 modules: the smallest code
		return "", ErrNoCode
	}
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
	return "", ErrNoCode
}

// Code is a PrivateIM QR code read back.
type Code struct {
	Content string
	Kind    Kind
	ID      int64
}

// Parse reads "privateim://<kind>/<id>"; anything else is ErrNotOurs.
func Parse(content string) (Code, error) {
	rest, ok := strings.CutPrefix(content, scheme)
	if !ok {
		return Code{}, ErrNotOurs
	}
	kind, id, ok := strings.Cut(rest, "/")
	if !ok {
		return Code{}, ErrNotOurs
	}
	switch k := Kind(kind); k {
	case User, Group, Subscription:
		n, err := strconv.ParseInt(id, 10, 64)
		// Only the canonical form: no sign, no leading zeros.
		if err != nil || n <= 0 || strconv.FormatInt(n, 10) != id {
			return Code{}, ErrNotOurs
		}
		return Code{Content: content, Kind: k, ID: n}, nil
	}
	return Code{}, ErrNotOurs
}
