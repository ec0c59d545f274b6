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
	"runtime"
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

// TestWebPCanvasCannotHideALargerImage: a WebP whose VP8X header declares a
// 1×1 canvas passes the pixel check, and golang.org/x/image before v0.45.0
// (GO-2026-6222, found by `make vulncheck`) then decoded the VP8L chunk
// after it at the chunk's own size: 46 bytes became a 4096×4096 image and 64
// MiB, and 16384×16384 would be 1 GiB per upload. Not parallel, so that
// TotalAlloc counts this decode alone.
func TestWebPCanvasCannotHideALargerImage(t *testing.T) {
	// The same file with the canvas telling the truth decodes: what is
	// refused below is the mismatch, not a broken file.
	img, format, err := Decode(webpVP8L(2, 2, 2, 2), maxPixels)
	if err != nil || format != "webp" || img.Bounds() != image.Rect(0, 0, 2, 2) {
		t.Fatalf("honest 2×2 WebP: %v %q %v, want a 2×2 webp", img, format, err)
	}

	hidden := webpVP8L(1, 1, 4096, 4096)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	img, _, err = Decode(hidden, 64*64)
	runtime.ReadMemStats(&after)
	if img != nil {
		t.Errorf("decoded a %v image from a file declaring 1×1 under a 64×64 limit", img.Bounds())
	}
	if e, ok := errs.As(err); !ok || e.Code != ErrBadImage.Code {
		t.Errorf("err %v, want code %s", err, ErrBadImage.Code)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 16<<20 {
		t.Errorf("decoding %d bytes allocated %d MiB", len(hidden), n>>20)
	}
}

// webpVP8L is an extended WebP: a VP8X header declaring a canvasW×canvasH
// canvas, then a lossless VP8L chunk of w×h pixels whose five Huffman codes
// each have one symbol, so every pixel costs no bits (all zero).
func webpVP8L(canvasW, canvasH, w, h int) []byte {
	var bits []byte
	var acc uint64
	var n uint
	write := func(v uint64, width uint) { // least significant bit first
		acc |= v << n
		for n += width; n >= 8; n -= 8 {
			bits = append(bits, byte(acc))
			acc >>= 8
		}
	}
	write(0x2f, 8) // VP8L signature
	write(uint64(w-1), 14)
	write(uint64(h-1), 14)
	write(0, 1+3) // no alpha hint, version 0
	write(0, 1)   // no transform
	write(0, 1)   // no color cache
	write(0, 1)   // no meta Huffman codes
	for range 5 {
		write(1, 1)   // a simple code
		write(0, 1+1) // of one symbol, coded in 1 bit:
		write(0, 1)   // symbol 0
	}
	if n > 0 {
		bits = append(bits, byte(acc))
	}

	vp8x := make([]byte, 10) // flags and reserved bytes 0, then 24-bit sizes minus one
	vp8x[4], vp8x[5], vp8x[6] = byte(canvasW-1), byte((canvasW-1)>>8), byte((canvasW-1)>>16)
	vp8x[7], vp8x[8], vp8x[9] = byte(canvasH-1), byte((canvasH-1)>>8), byte((canvasH-1)>>16)
	chunk := func(fourcc string, data []byte) []byte {
		c := binary.LittleEndian.AppendUint32([]byte(fourcc), uint32(len(data)))
		c = append(c, data...)
		if len(data)%2 == 1 {
			c = append(c, 0)
		}
		return c
	}
	body := append([]byte("WEBP"), chunk("VP8X", vp8x)...)
	body = append(body, chunk("VP8L", bits)...)
	return append(binary.LittleEndian.AppendUint32([]byte("RIFF"), uint32(len(body))), body...)
}
