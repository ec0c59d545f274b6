package groupavatar

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"testing"
	"time"
)

func solid(c color.RGBA) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func decode(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds() != image.Rect(0, 0, Size, Size) {
		t.Fatalf("bounds %v, want %dx%d", img.Bounds(), Size, Size)
	}
	return img
}

func rgba(c color.Color) color.RGBA {
	r, g, b, a := c.RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
}

// wantCell checks cell i of n: the avatar's colour in its middle, or the
// member's colour near its corner (the middle holds the initial).
func wantCell(t *testing.T, img image.Image, i, n int, c color.RGBA, avatar bool) {
	t.Helper()
	r := CellRect(i, n)
	p := r.Min.Add(image.Pt(3, 3))
	if avatar {
		p = r.Min.Add(r.Max).Div(2)
	}
	if got := rgba(img.At(p.X, p.Y)); got != c {
		t.Errorf("n=%d cell %d at %v: %v, want %v", n, i, p, got, c)
	}
}

func TestGridLayouts(t *testing.T) {
	for n := 1; n <= MaxCells; n++ {
		cols := Columns(n)
		want := map[int]int{1: 1, 2: 2, 3: 2, 4: 2, 5: 3, 9: 3}
		if w, ok := want[n]; ok && cols != w {
			t.Errorf("Columns(%d) = %d, want %d", n, cols, w)
		}
		bounds := image.Rect(0, 0, Size, Size)
		for i := range n {
			r := CellRect(i, n)
			if !r.In(bounds) || r.Dx() != r.Dy() || r.Dx() != (Size-(cols+1)*Gap)/cols {
				t.Errorf("n=%d cell %d: %v", n, i, r)
			}
			for j := range i {
				if r.Overlaps(CellRect(j, n)) {
					t.Errorf("n=%d cells %d and %d overlap", n, i, j)
				}
			}
		}
	}
	// Three in a 2x2 grid: one centred on top, two below.
	top, left, right := CellRect(0, 3), CellRect(1, 3), CellRect(2, 3)
	if mid := top.Min.X + top.Max.X; top.Min.Y >= left.Min.Y || left.Min.Y != right.Min.Y || mid < Size-1 || mid > Size+1 {
		t.Errorf("3 cells: %v %v %v", top, left, right)
	}
}

func TestDrawnCellsShowAvatarsAndColours(t *testing.T) {
	red, blue := color.RGBA{200, 10, 10, 255}, color.RGBA{10, 10, 200, 255}
	for _, n := range []int{1, 2, 3, 4, 5, 9} {
		cells := make([]Cell, n)
		for i := range cells {
			cells[i] = Cell{UserID: int64(100 + i), Name: "member"}
			switch i % 3 {
			case 0:
				cells[i].Image = solid(red)
			case 1:
				cells[i].Image = solid(blue)
			}
		}
		b, err := Encode(cells)
		if err != nil {
			t.Fatal(err)
		}
		img := decode(t, b)
		if got := rgba(img.At(1, 1)); got != Background {
			t.Errorf("n=%d: corner %v, want the background", n, got)
		}
		for i, c := range cells {
			switch {
			case c.Image == nil:
				wantCell(t, img, i, n, Colour(c.UserID), false)
			case i%3 == 0:
				wantCell(t, img, i, n, red, true)
			default:
				wantCell(t, img, i, n, blue, true)
			}
		}
	}
	// More than nine: the first nine.
	many := make([]Cell, 12)
	for i := range many {
		many[i] = Cell{UserID: int64(i), Name: "x"}
	}
	img := Draw(many)
	wantCell(t, img, 8, 9, Colour(8), false)
}

func TestInitial(t *testing.T) {
	for name, want := range map[string]string{"ada": "A", "  9lives": "9", "-bob": "B", "爱达": "", "": "", "!!": ""} {
		if got := initial(name); got != want {
			t.Errorf("initial(%q) = %q, want %q", name, got, want)
		}
	}
}

// memSource is a Source of fixed members, for the debounce.
type memSource struct {
	members []Member
	reads   int
}

func (m *memSource) Members(context.Context, int64, int) (string, []Member, error) {
	m.reads++
	return "", m.members, nil
}
func (m *memSource) Avatar(context.Context, string) (image.Image, error) { return nil, nil }

func TestPictureIsDrawnAgainOnlyAfterTheDebounce(t *testing.T) {
	now := time.Unix(1000, 0)
	src := &memSource{members: []Member{{UserID: 1, Name: "a"}}}
	s := New(src, nil, Config{Debounce: 10 * time.Second, Now: func() time.Time { return now }})
	ctx := context.Background()
	p1, err := s.Picture(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	src.members = append(src.members, Member{UserID: 2, Name: "b"})
	now = now.Add(5 * time.Second)
	if p, _ := s.Picture(ctx, 7); p.ETag != p1.ETag {
		t.Fatal("drawn again within the debounce")
	}
	now = now.Add(6 * time.Second)
	p2, _ := s.Picture(ctx, 7)
	if p2.ETag == p1.ETag {
		t.Fatal("not drawn again after the debounce")
	}
	wantCell(t, decode(t, p2.PNG), 1, 2, Colour(2), false)
	// Unchanged members: the same picture, however late.
	now = now.Add(time.Hour)
	if p, _ := s.Picture(ctx, 7); p.ETag != p2.ETag || !bytes.Equal(p.PNG, p2.PNG) {
		t.Fatal("drawn again with the same members")
	}
}
