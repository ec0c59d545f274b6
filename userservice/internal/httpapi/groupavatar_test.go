package httpapi_test

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/poll"

	"github.com/privateim/privateim/userservice/internal/config"
	"github.com/privateim/privateim/userservice/internal/groupavatar"
	"github.com/privateim/privateim/userservice/internal/usertest"
)

func solidPNG(t *testing.T, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 40))
	for y := range 40 {
		for x := range 40 {
			img.SetRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func setAvatar(t *testing.T, e *usertest.Env, a usertest.Account, c color.RGBA) {
	t.Helper()
	if r := upload(t, e, "PUT", "/api/v1/me/avatar", a.Token, "avatar", "a.png", solidPNG(t, c)); r.Status != http.StatusOK {
		t.Fatalf("avatar of %s: %d %s", a.Name, r.Status, r.Body)
	}
}

// groupPicture GETs the drawn picture, without a token, and decodes it.
func groupPicture(t *testing.T, e *usertest.Env, id string) (image.Image, string) {
	t.Helper()
	r := e.Do(t, "GET", "/api/v1/groups/"+id+"/avatar", "", nil)
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "image/png" || r.Header.Get("ETag") == "" {
		t.Fatalf("picture: %d %v %s", r.Status, r.Header, r.Body)
	}
	img, err := png.Decode(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds() != image.Rect(0, 0, groupavatar.Size, groupavatar.Size) {
		t.Fatalf("picture bounds %v", img.Bounds())
	}
	return img, r.Header.Get("ETag")
}

func colourAt(img image.Image, p image.Point) color.RGBA {
	r, g, b, a := img.At(p.X, p.Y).RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
}

// wantCells checks each member's cell (members in user-id order): the
// avatar's colour in the middle, or the member's own colour at the corner.
func wantCells(t *testing.T, img image.Image, members []usertest.Account, avatars map[string]color.RGBA) {
	t.Helper()
	sorted := append([]usertest.Account(nil), members...)
	sort.Slice(sorted, func(i, j int) bool {
		a, _ := strconv.ParseInt(sorted[i].ID, 10, 64)
		b, _ := strconv.ParseInt(sorted[j].ID, 10, 64)
		return a < b
	})
	for i, m := range sorted {
		r := groupavatar.CellRect(i, len(sorted))
		want, ok := avatars[m.ID]
		p := r.Min.Add(r.Max).Div(2)
		if !ok {
			id, _ := strconv.ParseInt(m.ID, 10, 64)
			want, p = groupavatar.Colour(id), r.Min.Add(image.Pt(3, 3))
		}
		if got := colourAt(img, p); got != want {
			t.Errorf("cell %d (%s) at %v: %v, want %v", i, m.Name, p, got, want)
		}
	}
}

func TestGroupAvatarDrawnFromMembersUntilUploaded(t *testing.T) {
	t.Parallel()
	e := usertest.Start(t)
	red, blue, green := color.RGBA{210, 20, 20, 255}, color.RGBA{20, 20, 210, 255}, color.RGBA{20, 180, 20, 255}
	owner, ann, bob := e.NewAccount(t, "Owner"), e.NewAccount(t, "Ann"), e.NewAccount(t, "bob")
	outsider := e.NewAccount(t, "Eve")
	befriend(t, e, owner, ann)
	befriend(t, e, owner, bob)
	setAvatar(t, e, owner, red)
	setAvatar(t, e, ann, blue)
	g := createGroup(t, e, owner, "Painters", ann, bob)
	path := "/api/v1/groups/" + g.ID + "/avatar"

	// Three members in a 2x2 grid: two avatars and Bob's initial on his colour.
	img, etag := groupPicture(t, e, g.ID)
	wantCells(t, img, []usertest.Account{owner, ann, bob}, map[string]color.RGBA{owner.ID: red, ann.ID: blue})
	if r := e.Raw(t, "GET", path, "", "", nil); r.Status != http.StatusOK {
		t.Fatalf("GET: %d", r.Status)
	}
	req, _ := http.NewRequest("GET", e.URL+path, nil)
	req.Header.Set("If-None-Match", etag)
	if r := e.Send(t, req); r.Status != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", r.Status)
	}

	// Uploads: the checks of user avatars, and only the owner or an admin.
	want(t, upload(t, e, "PUT", path, ann.Token, "avatar", "g.png", solidPNG(t, green)), http.StatusForbidden, "not_admin", "")
	want(t, upload(t, e, "PUT", path, outsider.Token, "avatar", "g.png", solidPNG(t, green)), http.StatusForbidden, "not_member", "")
	want(t, upload(t, e, "PUT", path, owner.Token, "avatar", "g.txt", []byte("not an image")), http.StatusUnsupportedMediaType, "", "")
	want(t, upload(t, e, "PUT", path, owner.Token, "other", "g.png", solidPNG(t, green)), http.StatusBadRequest, "", "")
	want(t, upload(t, e, "PUT", "/api/v1/groups/999999999/avatar", owner.Token, "avatar", "g.png", solidPNG(t, green)), http.StatusNotFound, "group_not_found", "")
	want(t, upload(t, e, "PUT", "/api/v1/groups/x/avatar", owner.Token, "avatar", "g.png", solidPNG(t, green)), http.StatusBadRequest, "invalid", "id")
	r := upload(t, e, "PUT", path, owner.Token, "avatar", "g.png", solidPNG(t, green))
	want(t, r, http.StatusOK, "", "")
	var av struct {
		AvatarURL string `json:"avatar_url"`
	}
	r.Decode(t, &av)

	// Uploaded: the route sends the client to the stored file.
	noRedirect := *e.Client
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noRedirect.Get(e.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != av.AvatarURL {
		t.Fatalf("after upload: %d to %q, want 302 to %q", resp.StatusCode, resp.Header.Get("Location"), av.AvatarURL)
	}
	u, err := url.Parse(av.AvatarURL)
	if err != nil {
		t.Fatal(err)
	}
	stored := e.Do(t, "GET", u.Path, "", nil)
	if stored.Status != http.StatusOK || !bytes.Equal(stored.Body, solidPNG(t, green)) {
		t.Fatalf("stored avatar: %d", stored.Status)
	}

	want(t, e.Do(t, "GET", "/api/v1/groups/999999999/avatar", "", nil), http.StatusNotFound, "group_not_found", "")
	want(t, e.Do(t, "GET", "/api/v1/groups/0/avatar", "", nil), http.StatusBadRequest, "invalid", "id")
}

// A member's new avatar shows in the group's picture once the debounce has
// passed.
func TestGroupAvatarRedrawnWhenMembersChange(t *testing.T) {
	t.Parallel()
	e := usertest.StartWith(t, usertest.Options{Configure: func(c *config.Config) { c.GroupAvatarDebounce = 200 * time.Millisecond }})
	red, green := color.RGBA{210, 20, 20, 255}, color.RGBA{20, 180, 20, 255}
	owner, ann := e.NewAccount(t, "Owner"), e.NewAccount(t, "Ann")
	befriend(t, e, owner, ann)
	setAvatar(t, e, owner, red)
	g := createGroup(t, e, owner, "Two", ann)
	img, etag := groupPicture(t, e, g.ID)
	wantCells(t, img, []usertest.Account{owner, ann}, map[string]color.RGBA{owner.ID: red})

	setAvatar(t, e, ann, green)
	poll.Eventually(t, 10*time.Second, func() error {
		img, etag2 := groupPicture(t, e, g.ID)
		if etag2 == etag {
			return errors.New("not drawn again yet")
		}
		wantCells(t, img, []usertest.Account{owner, ann}, map[string]color.RGBA{owner.ID: red, ann.ID: green})
		return nil
	})
}
