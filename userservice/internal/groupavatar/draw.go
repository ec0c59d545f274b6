// Package groupavatar is a group's picture until its owner or an admin
// uploads one: up to MaxCells members' avatars in a grid (one picture, 2x2
// for two to four members, 3x3 for five to nine, the first row centred
// when it is not full, like WeChat), a member without an avatar shown as
// the initial of their name on a colour of their own. The picture is drawn
// again when those members or their avatars change, at most once per
// Config.Debounce per group (service.go).
//
// It imports golang.org/x/image (scaling, the bitmap font) and
// foundation/errs only; the member list and the avatar files come through
// the interfaces it declares.
package groupavatar

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Geometry of the picture, in pixels.
const (
	Size     = 240 // the picture is Size x Size
	Gap      = 6   // between cells and at the edges
	MaxCells = 9
)

// Background is the colour around and between the cells.
var Background = color.RGBA{0xE6, 0xE6, 0xE6, 0xFF}

// palette holds the colours of members without an avatar; a member's is
// fixed by their id, so their cell looks the same in every group.
var palette = []color.RGBA{
	{0xE5, 0x73, 0x73, 0xFF}, // red
	{0xF0, 0x9A, 0x37, 0xFF}, // orange
	{0x4C, 0xAF, 0x50, 0xFF}, // green
	{0x26, 0xA6, 0x9A, 0xFF}, // teal
	{0x42, 0x85, 0xF4, 0xFF}, // blue
	{0x7E, 0x57, 0xC2, 0xFF}, // purple
	{0xEC, 0x40, 0x7A, 0xFF}, // pink
	{0x8D, 0x6E, 0x63, 0xFF}, // brown
}

// Colour is the background of userID's initial.
func Colour(userID int64) color.RGBA {
	i := userID % int64(len(palette))
	if i < 0 {
		i = -i
	}
	return palette[i]
}

// Cell is one member's place in the grid: their avatar when Image is set,
// otherwise the initial of Name on Colour(UserID).
type Cell struct {
	UserID int64
	Name   string
	Image  image.Image
}

// Columns is the grid's width for n cells: 1, 2 or 3.
func Columns(n int) int {
	switch {
	case n <= 1:
		return 1
	case n <= 4:
		return 2
	default:
		return 3
	}
}

// CellRect is where cell i of n (0-based, n at most MaxCells) is drawn. The
// rows are filled from the bottom up, so a row that is not full is the
// first one, and it is centred; the rows together are centred vertically.
func CellRect(i, n int) image.Rectangle {
	n = min(max(n, 1), MaxCells)
	cols := Columns(n)
	side := (Size - (cols+1)*Gap) / cols
	rows := (n + cols - 1) / cols
	first := n - (rows-1)*cols // cells in the first row
	row, col, inRow := 0, i, first
	if i >= first {
		row, col, inRow = 1+(i-first)/cols, (i-first)%cols, cols
	}
	step := side + Gap
	x0 := (Size - (inRow*step - Gap)) / 2
	y0 := (Size - (rows*step - Gap)) / 2
	p := image.Pt(x0+col*step, y0+row*step)
	return image.Rectangle{Min: p, Max: p.Add(image.Pt(side, side))}
}

// Draw paints the picture of cells (the first MaxCells).
func Draw(cells []Cell) *image.RGBA {
	if len(cells) > MaxCells {
		cells = cells[:MaxCells]
	}
	dst := image.NewRGBA(image.Rect(0, 0, Size, Size))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(Background), image.Point{}, draw.Src)
	for i, c := range cells {
		r := CellRect(i, len(cells))
		if c.Image != nil {
			draw.ApproxBiLinear.Scale(dst, r, c.Image, c.Image.Bounds(), draw.Src, nil)
			continue
		}
		draw.Draw(dst, r, image.NewUniform(Colour(c.UserID)), image.Point{}, draw.Src)
		drawInitial(dst, r, initial(c.Name))
	}
	return dst
}

// Encode is Draw as a PNG.
func Encode(cells []Cell) ([]byte, error) {
	var b bytes.Buffer
	if err := png.Encode(&b, Draw(cells)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// initial is the first letter or digit of name, upper-cased; "" when the
// bitmap font has no glyph for it (it covers ASCII): the cell then shows its
// colour alone.
func initial(name string) string {
	for _, r := range strings.TrimSpace(name) {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			continue
		}
		r = unicode.ToUpper(r)
		if r >= utf8.RuneSelf {
			return ""
		}
		return string(r)
	}
	return ""
}

// drawInitial writes s in white in the middle of r, the 7x13 bitmap glyph
// scaled up to about half the cell's height.
func drawInitial(dst *image.RGBA, r image.Rectangle, s string) {
	if s == "" {
		return
	}
	face := basicfont.Face7x13
	glyph := image.NewAlpha(image.Rect(0, 0, face.Advance, face.Height))
	d := font.Drawer{Dst: glyph, Src: image.Opaque, Face: face, Dot: fixed.P(0, face.Ascent)}
	d.DrawString(s)
	h := r.Dy() / 2
	w := h * face.Advance / face.Height
	at := image.Pt(r.Min.X+(r.Dx()-w)/2, r.Min.Y+(r.Dy()-h)/2)
	mask := image.NewAlpha(image.Rect(0, 0, w, h))
	draw.NearestNeighbor.Scale(mask, mask.Bounds(), glyph, glyph.Bounds(), draw.Src, nil)
	draw.DrawMask(dst, image.Rectangle{Min: at, Max: at.Add(image.Pt(w, h))}, image.White, image.Point{}, mask, image.Point{}, draw.Over)
}
