package media

import (
	"bytes"
	"context"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/privateim/privateim/foundation/qrcode"
)

// BenchmarkParseQRCode reads a code from the PNG the service makes and from
// a 1280×960 JPEG "photo" of it, decoding included.
func BenchmarkParseQRCode(b *testing.B) {
	code, err := qrcode.Encode(qrcode.Content(qrcode.Group, 7402916376119017472))
	if err != nil {
		b.Fatal(err)
	}
	src, _ := png.Decode(bytes.NewReader(code))
	photo := image.NewRGBA(image.Rect(0, 0, 1280, 960))
	draw.Draw(photo, photo.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(photo, src.Bounds().Add(image.Pt(500, 300)), src, image.Point{}, draw.Src)
	var jp bytes.Buffer
	if err := jpeg.Encode(&jp, photo, &jpeg.Options{Quality: 85}); err != nil {
		b.Fatal(err)
	}
	s, _ := newService(b, Config{})
	for name, data := range map[string][]byte{"png256": code, "jpeg1280x960": jp.Bytes()} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := s.ParseQRCode(context.Background(), 1, bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
