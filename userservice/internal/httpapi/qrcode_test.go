package httpapi_test

import (
	"bytes"
	"context"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"net/http"
	"strconv"
	"testing"

	"google.golang.org/grpc"

	"github.com/privateim/privateim/foundation/qrcode"
	"github.com/privateim/privateim/foundation/tlsconfig"
	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/userservice/internal/media"
	"github.com/privateim/privateim/userservice/internal/usertest"
)

type qrJSON struct {
	Content string `json:"content"`
	Kind    string `json:"kind"`
	ID      string `json:"id"`
}

// groups is a client of the DataService's Groups, to make groups without
// depending on the groups routes.
func groups(t *testing.T, e *usertest.Env) datav1.GroupsClient {
	t.Helper()
	creds, err := tlsconfig.ClientCredentials(e.Certs.Client, "")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(e.Data.Addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return datav1.NewGroupsClient(conn)
}

func parseQR(t *testing.T, e *usertest.Env, token string, img []byte) usertest.Response {
	t.Helper()
	return upload(t, e, http.MethodPost, "/api/v1/qrcode/parse", token, "image", "qr.png", img)
}

func getPNG(t *testing.T, e *usertest.Env, path, token string) []byte {
	t.Helper()
	r := e.Do(t, http.MethodGet, path, token, nil)
	want(t, r, http.StatusOK, "", "")
	if ct := r.Header.Get("Content-Type"); ct != "image/png" {
		t.Fatalf("Content-Type %q, want image/png", ct)
	}
	if _, err := png.Decode(bytes.NewReader(r.Body)); err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	return r.Body
}

func TestQRCodes(t *testing.T) {
	t.Parallel()
	e := usertest.Start(t)
	a := e.NewAccount(t, "Ada")
	b := e.NewAccount(t, "Bob")

	t.Run("user round trip", func(t *testing.T) {
		img := getPNG(t, e, "/api/v1/me/qrcode", a.Token)
		// Anyone signed in reads it: Bob scans Ada's code.
		r := parseQR(t, e, b.Token, img)
		want(t, r, http.StatusOK, "", "")
		var got qrJSON
		r.Decode(t, &got)
		if got != (qrJSON{Content: "privateim://user/" + a.ID, Kind: "user", ID: a.ID}) {
			t.Errorf("parse = %+v, want Ada's user code", got)
		}
	})

	t.Run("group round trip", func(t *testing.T) {
		owner, _ := strconv.ParseInt(a.ID, 10, 64)
		g, err := groups(t, e).CreateGroupPlus(context.Background(), &datav1.CreateGroupPlusRequest{Name: "Lovelace fans", OwnerId: owner})
		if err != nil {
			t.Fatal(err)
		}
		id := strconv.FormatInt(g.GetGroup().GetId(), 10)
		img := getPNG(t, e, "/api/v1/groups/"+id+"/qrcode", b.Token)

		// A photo of the code: JPEG, shifted inside a larger grey picture.
		src, _ := png.Decode(bytes.NewReader(img))
		photo := image.NewRGBA(image.Rect(0, 0, 640, 480))
		draw.Draw(photo, photo.Bounds(), image.NewUniform(image.White.C), image.Point{}, draw.Src)
		draw.Draw(photo, src.Bounds().Add(image.Pt(150, 100)), src, image.Point{}, draw.Src)
		var jp bytes.Buffer
		if err := jpeg.Encode(&jp, photo, &jpeg.Options{Quality: 85}); err != nil {
			t.Fatal(err)
		}
		for name, data := range map[string][]byte{"png": img, "jpeg photo": jp.Bytes()} {
			r := parseQR(t, e, a.Token, data)
			want(t, r, http.StatusOK, "", "")
			var got qrJSON
			r.Decode(t, &got)
			if got != (qrJSON{Content: "privateim://group/" + id, Kind: "group", ID: id}) {
				t.Errorf("%s: parse = %+v, want the group's code", name, got)
			}
		}

		// A dismissed group has no code any more.
		dismissed := true
		if _, err := groups(t, e).UpdateGroup(context.Background(), &datav1.UpdateGroupRequest{Id: g.GetGroup().GetId(), Dismissed: &dismissed}); err != nil {
			t.Fatal(err)
		}
		want(t, e.Do(t, http.MethodGet, "/api/v1/groups/"+id+"/qrcode", a.Token, nil), http.StatusNotFound, "group_not_found", "")
	})

	t.Run("unknown group", func(t *testing.T) {
		want(t, e.Do(t, http.MethodGet, "/api/v1/groups/123456789/qrcode", a.Token, nil), http.StatusNotFound, "group_not_found", "")
		want(t, e.Do(t, http.MethodGet, "/api/v1/groups/abc/qrcode", a.Token, nil), http.StatusBadRequest, "invalid", "id")
		want(t, e.Do(t, http.MethodGet, "/api/v1/groups/0/qrcode", a.Token, nil), http.StatusBadRequest, "invalid", "id")
	})

	t.Run("subscription code parses", func(t *testing.T) {
		img, err := qrcode.Encode("privateim://subscription/77")
		if err != nil {
			t.Fatal(err)
		}
		r := parseQR(t, e, a.Token, img)
		want(t, r, http.StatusOK, "", "")
		var got qrJSON
		r.Decode(t, &got)
		if got.Kind != "subscription" || got.ID != "77" {
			t.Errorf("parse = %+v", got)
		}
	})

	t.Run("bad pictures", func(t *testing.T) {
		foreign, err := qrcode.Encode("https://example.com/privateim://user/1")
		if err != nil {
			t.Fatal(err)
		}
		badID, err := qrcode.Encode("privateim://user/0")
		if err != nil {
			t.Fatal(err)
		}
		plain := encodePNG(t, gradient(300, 200))
		tests := []struct {
			name   string
			data   []byte
			status int
			code   string
		}{
			{"not a privateim code", foreign, http.StatusBadRequest, "not_privateim_qr_code"},
			{"privateim code with a bad id", badID, http.StatusBadRequest, "not_privateim_qr_code"},
			{"no code in the picture", plain, http.StatusBadRequest, "no_qr_code"},
			{"not an image", []byte("privateim://user/1"), http.StatusBadRequest, "not_an_image"},
			{"damaged image", foreign[:len(foreign)/2], http.StatusBadRequest, "invalid_image"},
			{"over 8 MiB", append(bytes.Clone(foreign), make([]byte, media.MaxQRImageBytes)...), http.StatusRequestEntityTooLarge, "too_large"},
		}
		for _, tt := range tests {
			want(t, parseQR(t, e, a.Token, tt.data), tt.status, tt.code, "")
		}
		want(t, upload(t, e, http.MethodPost, "/api/v1/qrcode/parse", a.Token, "file", "x.png", foreign), http.StatusBadRequest, "required", "image")
		want(t, e.Raw(t, http.MethodPost, "/api/v1/qrcode/parse", a.Token, "image/png", foreign), http.StatusUnsupportedMediaType, "unsupported_media_type", "")
	})

	t.Run("unauthenticated", func(t *testing.T) {
		want(t, e.Do(t, http.MethodGet, "/api/v1/me/qrcode", "", nil), http.StatusUnauthorized, "unauthenticated", "")
		want(t, e.Do(t, http.MethodGet, "/api/v1/groups/1/qrcode", "", nil), http.StatusUnauthorized, "unauthenticated", "")
		want(t, parseQR(t, e, "", []byte("x")), http.StatusUnauthorized, "unauthenticated", "")
		want(t, e.Do(t, http.MethodGet, "/api/v1/me/qrcode", "not.a.jwt", nil), http.StatusUnauthorized, "invalid_token", "")
	})
}
