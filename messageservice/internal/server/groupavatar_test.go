package server_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/privateim/privateim/messageservice/internal/mstest"
)

// TestGroupAvatarUploadIsAGroupEvent: an owner's upload of the group's
// avatar reaches a member's device as an avatar_changed system message
// carrying the new URL.
func TestGroupAvatarUploadIsAGroupEvent(t *testing.T) {
	st := stack(t)
	n1 := startNodes(t, st, 1)[0]
	owner, m1 := st.NewUser(t, "owner"), st.NewUser(t, "m1")
	g := st.NewFriendsGroup(t, owner, m1)
	c := n1.Dial(t, m1, "")
	seen(t, n1, m1)
	n1.Settle(t)

	url := uploadGroupAvatar(t, st, owner, g)

	for range 5 { // the created event may come first
		f := c.Await("message", wait)
		if f.Conversation != "g:"+g || f.GroupEvent() != "avatar_changed" {
			continue
		}
		var ev struct{ Actor, Avatar string }
		if err := json.Unmarshal(f.Content, &ev); err != nil || ev.Actor != owner.ID || ev.Avatar != url || f.From != "0" {
			t.Fatalf("avatar_changed %s (%v)", f.Raw, err)
		}
		return
	}
	t.Fatal("no avatar_changed event")
}

// uploadGroupAvatar uploads a small PNG as group g's avatar as u and
// returns its URL.
func uploadGroupAvatar(t *testing.T, st *mstest.Stack, u mstest.User, g string) string {
	t.Helper()
	var img bytes.Buffer
	if err := png.Encode(&img, image.NewRGBA(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, err := w.CreateFormFile("avatar", "g.png")
	if err != nil {
		t.Fatal(err)
	}
	part.Write(img.Bytes())
	w.Close()
	req, err := http.NewRequest(http.MethodPut, st.Users.URL+"/api/v1/groups/"+g+"/avatar", &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+u.Token)
	resp, err := st.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var up struct {
		AvatarURL string `json:"avatar_url"`
	}
	err = json.NewDecoder(resp.Body).Decode(&up)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil || up.AvatarURL == "" {
		t.Fatalf("upload: %d %v %+v", resp.StatusCode, err, up)
	}
	return up.AvatarURL
}
