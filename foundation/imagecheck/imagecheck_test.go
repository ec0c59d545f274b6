package imagecheck

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"strings"
	"testing"

	"github.com/privateim/privateim/foundation/errs"
)

const maxPixels = 4096 * 4096

func testImage() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 24, 16))
	for y := range 16 {
		for x := range 24 {
			img.Set(x, y, color.RGBA{uint8(x * 10), uint8(y * 15), 99, 255})
		}
	}
	return img
}

// Encoded returns testImage in each format, WebP from testdata (the
// standard library has no WebP encoder).
func encoded(t *testing.T) map[string][]byte {
	t.Helper()
	var p, j, g bytes.Buffer
	if err := png.Encode(&p, testImage()); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&j, testImage(), nil); err != nil {
		t.Fatal(err)
	}
	if err := gif.Encode(&g, testImage(), nil); err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{"png": p.Bytes(), "jpeg": j.Bytes(), "gif": g.Bytes()}
	for _, name := range []string{"lossy", "lossless"} {
		b, err := os.ReadFile("testdata/" + name + ".webp")
		if err != nil {
			t.Fatal(err)
		}
		out["webp-"+name] = b
	}
	return out
}

func TestDecodeImage(t *testing.T) {
	t.Parallel()
	for name, b := range encoded(t) {
		t.Run(name, func(t *testing.T) {
			img, format, err := Decode(b, maxPixels)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if want, _, _ := strings.Cut(name, "-"); format != want {
				t.Errorf("format %q, want %q", format, want)
			}
			if img.Bounds().Dx() == 0 {
				t.Errorf("empty image")
			}
		})
	}

	pngBytes := encoded(t)["png"]
	// A PNG header declaring 100000×100000 pixels: refused before decoding.
	huge := bytes.Clone(pngBytes[:33])
	copy(huge[16:24], []byte{0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0})
	binary.BigEndian.PutUint32(huge[29:33], crc32.ChecksumIEEE(huge[12:29]))
	tests := []struct {
		name string
		data []byte
		want *errs.Error
	}{
		{"text", []byte("hello, this is not a picture"), ErrNotImage},
		{"empty", nil, ErrNotImage},
		{"png header then garbage", append(bytes.Clone(pngBytes[:40]), bytes.Repeat([]byte{0xa5}, 500)...), ErrBadImage},
		{"truncated png", pngBytes[:len(pngBytes)-20], ErrBadImage},
		{"huge dimensions", huge, ErrTooManyPixels},
		{"bmp", []byte("BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00"), ErrNotImage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Decode(tt.data, maxPixels)
			e, ok := errs.As(err)
			if !ok || e.Code != tt.want.Code {
				t.Fatalf("err %v, want code %s", err, tt.want.Code)
			}
		})
	}
}
