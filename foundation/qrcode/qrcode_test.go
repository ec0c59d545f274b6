package qrcode

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"testing"
)

// gradient is a picture with no QR code in it.
func gradient() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 24, 16))
	for y := range 16 {
		for x := range 24 {
			img.Set(x, y, color.RGBA{uint8(x * 10), uint8(y * 15), 99, 255})
		}
	}
	return img
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, content := range []string{Content(User, 1), Content(Group, 7402916376119017472), "https://example.com/x"} {
		b, err := Encode(content)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if w := img.Bounds().Dx(); w%ModulePixels != 0 || w < 21*ModulePixels {
			t.Errorf("side %d px, want whole modules of %d px", w, ModulePixels)
		}
		got, err := Decode(img)
		if err != nil || got != content {
			t.Errorf("Decode = %q, %v; want %q", got, err, content)
		}
	}
	if _, err := Decode(gradient()); !errors.Is(err, ErrNoCode) {
		t.Errorf("Decode of a gradient = %v, want ErrNoCode", err)
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	ok := []struct {
		in   string
		kind Kind
		id   int64
	}{
		{"privateim://user/1", User, 1},
		{"privateim://group/9223372036854775807", Group, 9223372036854775807},
		{"privateim://subscription/42", Subscription, 42},
	}
	for _, tt := range ok {
		got, err := Parse(tt.in)
		if err != nil || got.Kind != tt.kind || got.ID != tt.id || got.Content != tt.in {
			t.Errorf("Parse(%q) = %+v, %v", tt.in, got, err)
		}
	}
	for _, in := range []string{
		"", "https://example.com", "privateim://", "privateim://user", "privateim://user/", "privateim://user/0",
		"privateim://user/-1", "privateim://user/+1", "privateim://user/01", "privateim://user/1/2",
		"privateim://user/9223372036854775808", "privateim://channel/1", "PRIVATEIM://user/1", " privateim://user/1",
	} {
		if _, err := Parse(in); !errors.Is(err, ErrNotOurs) {
			t.Errorf("Parse(%q) = %v, want ErrNotOurs", in, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"privateim://user/1", "privateim://group/01", "privateim://subscription/9223372036854775807", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, err := Parse(in)
		if err != nil {
			return
		}
		// Only canonical contents parse: writing the result back gives the input.
		if Content(c.Kind, c.ID) != in || c.Content != in || c.ID <= 0 {
			t.Fatalf("Parse(%q) = %+v", in, c)
		}
	})
}

// TestRoundTripIDs reads back the codes of ids that once failed to decode
// (fractional module sizes, one binarizer only) and a spread of others.
func TestRoundTripIDs(t *testing.T) {
	ids := []int64{7400013137660412863, 7400015061983185814}
	for i := int64(0); i < 100; i++ {
		ids = append(ids, 7400000000000000000+i*7919*1000003)
	}
	for _, id := range ids {
		content := Content(User, id)
		b, err := Encode(content)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := Decode(img); err != nil || got != content {
			t.Errorf("Decode(%s) = %q, %v", content, got, err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	content := Content(User, 7402916376119017472)
	for b.Loop() {
		if _, err := Encode(content); err != nil {
			b.Fatal(err)
		}
	}
}

// bigPhoto is a side×side white picture of type like the decoders make,
// with our code for content scaled up to a third of the side in it.
func bigPhoto(t testing.TB, side int, content string, newImg func(image.Rectangle) draw.Image) image.Image {
	t.Helper()
	b, err := Encode(content)
	if err != nil {
		t.Fatal(err)
	}
	code, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	img := newImg(image.Rect(0, 0, side, side))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	cs := code.Bounds().Dx()
	scale := side / 3 / cs
	off := side / 3
	for y := range cs * scale {
		for x := range cs * scale {
			if c := code.At(x/scale, y/scale); gray(c) < 128 {
				img.Set(off+x, off+y, color.Black)
			}
		}
	}
	return img
}

func TestDecodeShrinksBigPictures(t *testing.T) {
	t.Parallel()
	content := Content(Group, 7402916376119017472)
	for name, newImg := range map[string]func(image.Rectangle) draw.Image{
		"gray":  func(r image.Rectangle) draw.Image { return image.NewGray(r) },
		"rgba":  func(r image.Rectangle) draw.Image { return image.NewRGBA(r) },
		"nrgba": func(r image.Rectangle) draw.Image { return image.NewNRGBA(r) },
		"paletted": func(r image.Rectangle) draw.Image {
			return image.NewPaletted(r, color.Palette{color.White, color.Black})
		},
		"gray16": func(r image.Rectangle) draw.Image { return image.NewGray16(r) },
	} {
		t.Run(name, func(t *testing.T) {
			img := bigPhoto(t, 4001, content, newImg) // shrunk by 3 to 1333
			got, err := Decode(img)
			if err != nil || got != content {
				t.Fatalf("Decode = %q, %v; want %q", got, err, content)
			}
		})
	}
	if _, w, h := luminance(image.NewGray(image.Rect(0, 0, 6000, 3000)), MaxSide); w != 1500 || h != 750 {
		t.Errorf("6000×3000 shrunk to %d×%d, want 1500×750 (factor 4)", w, h)
	}
	if _, w, h := luminance(image.NewGray(image.Rect(0, 0, 1600, 20)), MaxSide); w != 1600 || h != 20 {
		t.Errorf("1600×20 became %d×%d, want it untouched", w, h)
	}
}

// BenchmarkDecodeBig reads a code from a 6000×6000 paletted picture (what a
// two-colour PNG decodes to), the size that took 1.6 s and 91 MiB when
// gozxing read it whole.
func BenchmarkDecodeBig(b *testing.B) {
	img := bigPhoto(b, 6000, Content(User, 42), func(r image.Rectangle) draw.Image {
		return image.NewPaletted(r, color.Palette{color.White, color.Black})
	})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(img); err != nil {
			b.Fatal(err)
		}
	}
}
