package qrcode

import (
	"image"
	"image/color"
)

// MaxSide is the longest side, in pixels, of the picture the QR reader
// looks at: a larger one is shrunk first, by a whole factor, averaging
// boxes of pixels. gozxing reads every pixel through image.At (an
// interface call and an allocation each) and keeps a byte per pixel in
// each of its passes: a 6000×6000 picture took 1.6 s and 91 MiB. At 1600 a
// code that fills a quarter of a 6000-pixel photo still has about 10
// pixels per module, plenty to read.
const MaxSide = 1600

// luminance is img as gray bytes (width×height, row by row), shrunk by the
// smallest whole factor that brings its longest side to at most maxSide.
// The gray value is gozxing's own, (R + 2G + B) / 4 over white.
func luminance(img image.Image, maxSide int) (pix []byte, w, h int) {
	b := img.Bounds()
	f := max((max(b.Dx(), b.Dy())+maxSide-1)/maxSide, 1)
	w, h = b.Dx()/f, b.Dy()/f
	if w == 0 || h == 0 {
		return nil, 0, 0
	}
	pix = make([]byte, w*h)
	row := make([]byte, b.Dx())
	sum := make([]uint32, w)
	n := uint32(f * f)
	for oy := range h {
		clear(sum)
		for dy := range f {
			lumRow(img, b.Min.Y+oy*f+dy, row)
			for ox := range w {
				var s uint32
				for _, v := range row[ox*f : ox*f+f] {
					s += uint32(v)
				}
				sum[ox] += s
			}
		}
		out := pix[oy*w : oy*w+w]
		for ox, s := range sum {
			out[ox] = byte(s / n)
		}
	}
	return pix, w, h
}

// lumRow fills row with the gray values of line y of img, reading the
// pixel buffers of the types the decoders make directly.
func lumRow(img image.Image, y int, row []byte) {
	b := img.Bounds()
	switch m := img.(type) {
	case *image.Gray:
		copy(row, m.Pix[m.PixOffset(b.Min.X, y):])
	case *image.YCbCr:
		// Y is the luminance; gozxing's formula on the RGB from it differs
		// by a few levels at most, which no binarizer notices.
		copy(row, m.Y[m.YOffset(b.Min.X, y):m.YOffset(b.Min.X, y)+len(row)])
	case *image.Paletted:
		var lut [256]byte
		for i, c := range m.Palette {
			lut[i] = gray(c)
		}
		for x, p := range m.Pix[m.PixOffset(b.Min.X, y):][:len(row)] {
			row[x] = lut[p]
		}
	case *image.NRGBA:
		p := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := range row {
			q := p[x*4 : x*4+4]
			row[x] = overWhite((uint32(q[0])+2*uint32(q[1])+uint32(q[2]))/4, uint32(q[3]))
		}
	case *image.RGBA:
		p := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := range row {
			q := p[x*4 : x*4+4]
			a := uint32(q[3])
			// Premultiplied: the white shows through by 255 - a.
			row[x] = byte(min((uint32(q[0])+2*uint32(q[1])+uint32(q[2]))/4+255-a, 255))
		}
	default:
		for x := range row {
			row[x] = gray(img.At(b.Min.X+x, y))
		}
	}
}

func gray(c color.Color) byte {
	r, g, b, a := c.RGBA()
	lum := (r + 2*g + b) * 255 / (4 * 0xffff)
	return byte((lum*a + (0xffff-a)*255) / 0xffff)
}

// overWhite lays a non-premultiplied gray lum of alpha a (0..255) on white.
func overWhite(lum, a uint32) byte { return byte((lum*a + 255*(255-a)) / 255) }
