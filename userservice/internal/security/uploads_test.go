package security_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/apitest"
	"github.com/privateim/privateim/foundation/poll"
	"github.com/privateim/privateim/foundation/qrcode"
	"github.com/privateim/privateim/userservice/internal/config"
	"github.com/privateim/privateim/userservice/internal/media"
	"github.com/privateim/privateim/userservice/internal/usertest"
)

// hugeQRPNG is a side×side two-colour PNG (tens of KB: it compresses
// well) with the code of content drawn a third of the side wide.
func hugeQRPNG(t *testing.T, side int, content string) []byte {
	t.Helper()
	b, err := qrcode.Encode(content)
	if err != nil {
		t.Fatal(err)
	}
	code, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewPaletted(image.Rect(0, 0, side, side), color.Palette{color.White, color.Black})
	cs := code.Bounds().Dx()
	scale, off := side/3/cs, side/3
	for y := range cs * scale {
		for x := range cs * scale {
			if r, _, _, _ := code.At(x/scale, y/scale).RGBA(); r < 0x8000 {
				img.Pix[img.PixOffset(off+x, off+y)] = 1
			}
		}
	}
	var out bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&out, img); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// declaredPNG is a 1×1 PNG whose header claims w×h pixels: a decompression
// bomb's first bytes.
func declaredPNG(t *testing.T, w, h uint32) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	p := b.Bytes()
	// 8 signature bytes, then IHDR: length, "IHDR", width, height, ..., CRC.
	binary.BigEndian.PutUint32(p[16:], w)
	binary.BigEndian.PutUint32(p[20:], h)
	binary.BigEndian.PutUint32(p[29:], crc32.ChecksumIEEE(p[12:29]))
	return p
}

// TestHugePixelQRUploadIsDownscaledAndStillRead sends the picture of the
// report (a few tens of KB of PNG declaring 6000×6000 pixels): it is read
// (shrunk to 1600 pixels a side before gozxing looks at it, see
// foundation/qrcode BenchmarkDecodeBig for the time and memory), one past
// the pixel budget is refused before decoding, and several at once from one
// user get 429 busy instead of each taking a decoder.
func TestHugePixelQRUploadIsDownscaledAndStillRead(t *testing.T) {
	t.Parallel()
	e := usertest.StartWith(t, usertest.Options{Configure: func(c *config.Config) { c.QRDecoders, c.DecodesPerUser = 2, 1 }})
	patient(e)
	ada := e.NewAccount(t, "Ada")
	bob := e.NewAccount(t, "Bob")
	content := "privateim://user/" + ada.ID
	huge := hugeQRPNG(t, 6000, content)
	if len(huge) > media.MaxQRImageBytes {
		t.Fatalf("the picture is %d bytes, over the upload limit", len(huge))
	}

	t.Run("read", func(t *testing.T) {
		r := e.Upload(t, http.MethodPost, "/api/v1/qrcode/parse", bob.Token, "image", "x.png", huge)
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), content) {
			t.Fatalf("status %d %s, want 200 with %s", r.Status, r.Body, content)
		}
	})
	awaitDecodeSlot(t, e, bob.Token, http.MethodPost, "/api/v1/qrcode/parse", "image")
	t.Run("pixel budget", func(t *testing.T) {
		for _, size := range [][2]uint32{{6001, 6000}, {1 << 20, 1 << 20}, {36_000_001, 1}} {
			r := e.Upload(t, http.MethodPost, "/api/v1/qrcode/parse", bob.Token, "image", "x.png", declaredPNG(t, size[0], size[1]))
			if r.Status != http.StatusBadRequest || r.Err().Code != "image_too_large" {
				t.Errorf("%d×%d: status %d %s, want 400 image_too_large", size[0], size[1], r.Status, r.Body)
			}
		}
	})
	awaitDecodeSlot(t, e, bob.Token, http.MethodPost, "/api/v1/qrcode/parse", "image")
	t.Run("one user at a time", func(t *testing.T) {
		const n = 6
		var wg sync.WaitGroup
		statuses := make([]int, n)
		for i := range n {
			wg.Go(func() {
				ct, body := apitest.MultipartFile(t, "image", "x.png", huge)
				req, err := http.NewRequest(http.MethodPost, e.URL+"/api/v1/qrcode/parse", bytes.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				req.Header.Set("Content-Type", ct)
				req.Header.Set("Authorization", "Bearer "+bob.Token)
				resp, err := e.Client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				statuses[i] = resp.StatusCode
			})
		}
		wg.Wait()
		counts := map[int]int{}
		for _, s := range statuses {
			counts[s]++
		}
		if counts[http.StatusOK] < 1 || counts[http.StatusTooManyRequests] < 1 || counts[http.StatusOK]+counts[http.StatusTooManyRequests] != n {
			t.Errorf("statuses %v: want some 200 and the rest 429 busy (one decode per user at once)", statuses)
		}
	})
}

type fileJSON struct {
	URL  string `json:"url"`
	Size int64  `json:"size"`
}

func postFile(t *testing.T, e *usertest.Env, token string, data []byte) usertest.Response {
	t.Helper()
	return e.Upload(t, http.MethodPost, "/api/v1/files", token, "file", "notes.txt", data)
}

// TestPrivateFileNotServedToStranger uploads a chat file and fetches it as
// a stranger would: by its path without the signature, with the signature
// of another file, with a forged expiry, and after the URL expired; every
// one is a 404 like a missing file. The signed URL itself is served, never
// as cacheable by shared caches.
func TestPrivateFileNotServedToStranger(t *testing.T) {
	t.Parallel()
	e := usertest.StartWith(t, usertest.Options{Configure: func(c *config.Config) { c.FileURLTTL = 3 * time.Second }})
	ada := e.NewAccount(t, "Ada")
	var f, g fileJSON
	r := postFile(t, e, ada.Token, []byte("the secret plan"))
	if r.Status != http.StatusCreated {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	r.Decode(t, &f)
	postFile(t, e, ada.Token, []byte("another file")).Decode(t, &g)
	u, _ := url.Parse(f.URL)
	other, _ := url.Parse(g.URL)

	get := func(target string) usertest.Response { return e.Do(t, http.MethodGet, target, "", nil) }
	ok := get(u.RequestURI())
	if ok.Status != http.StatusOK || string(ok.Body) != "the secret plan" {
		t.Fatalf("signed URL: %d %s", ok.Status, ok.Body)
	}
	if cc := ok.Header.Get("Cache-Control"); !strings.HasPrefix(cc, "private") || strings.Contains(cc, "public") {
		t.Errorf("Cache-Control %q, want private", cc)
	}
	q := u.Query()
	for name, target := range map[string]string{
		"bare path":             u.Path,
		"another file's query":  u.Path + "?" + other.RawQuery,
		"later expiry":          u.Path + "?exp=" + fmt.Sprint(time.Now().Add(time.Hour).Unix()) + "&sig=" + q.Get("sig"),
		"signature only":        u.Path + "?sig=" + q.Get("sig"),
		"bearer token, no sig":  u.Path,
		"signature on other id": strings.Replace(u.Path, "/files/"+ada.ID+"/", "/files/1/", 1) + "?" + u.RawQuery,
	} {
		t.Run(name, func(t *testing.T) {
			tok := ""
			if strings.HasPrefix(name, "bearer") {
				tok = ada.Token // a session is not a signature either
			}
			r := e.Do(t, http.MethodGet, target, tok, nil)
			if r.Status != http.StatusNotFound || r.Err().Code != "not_found" {
				t.Errorf("GET %s = %d %s, want 404 not_found", target, r.Status, r.Body)
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		poll.Eventually(t, 10*time.Second, func() error {
			if r := get(u.RequestURI()); r.Status != http.StatusNotFound {
				return fmt.Errorf("GET after the expiry = %d, want 404", r.Status)
			}
			return nil
		})
	})
}

// TestUploadQuotaExceededRefused fills a user's quota: the upload that
// would pass it is refused with 413 upload_quota_exceeded and not stored,
// while another user still uploads.
func TestUploadQuotaExceededRefused(t *testing.T) {
	t.Parallel()
	e := usertest.StartWith(t, usertest.Options{Configure: func(c *config.Config) { c.UploadQuota = 1000 }})
	ada := e.NewAccount(t, "Ada")
	bob := e.NewAccount(t, "Bob")
	if r := postFile(t, e, ada.Token, bytes.Repeat([]byte("a"), 600)); r.Status != http.StatusCreated {
		t.Fatalf("first upload: %d %s", r.Status, r.Body)
	}
	r := postFile(t, e, ada.Token, bytes.Repeat([]byte("a"), 600))
	if r.Status != http.StatusRequestEntityTooLarge || r.Err().Code != "upload_quota_exceeded" {
		t.Fatalf("upload past the quota: %d %s, want 413 upload_quota_exceeded", r.Status, r.Body)
	}
	if r := postFile(t, e, ada.Token, bytes.Repeat([]byte("a"), 400)); r.Status != http.StatusCreated {
		t.Errorf("upload that fits what is left: %d %s", r.Status, r.Body)
	}
	if r := postFile(t, e, bob.Token, bytes.Repeat([]byte("b"), 600)); r.Status != http.StatusCreated {
		t.Errorf("another user's upload: %d %s", r.Status, r.Body)
	}
}

// bigAvatarPNG is a side×side PNG of two colours in stripes: a few KB that
// decode to side² pixels.
func bigAvatarPNG(t *testing.T, side int) []byte {
	t.Helper()
	img := image.NewPaletted(image.Rect(0, 0, side, side), color.Palette{color.White, color.RGBA{200, 30, 30, 255}})
	for y := range side {
		for x := range side {
			img.Pix[img.PixOffset(x, y)] = uint8((x / 64) % 2)
		}
	}
	var out bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&out, img); err != nil {
		t.Fatal(err)
	}
	if out.Len() > media.MaxAvatarBytes {
		t.Fatalf("the avatar is %d bytes, over the limit", out.Len())
	}
	return out.Bytes()
}

// uploadStatus sends the multipart body (content type ct) to method path
// with token, and returns the status and the error code (safe in
// goroutines).
func uploadStatus(e *usertest.Env, method, path, token, ct string, body []byte) (int, string, error) {
	req, err := http.NewRequest(method, e.URL+path, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := e.Client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var b struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&b)
	return resp.StatusCode, b.Error.Code, nil
}

// TestPictureFloodOfOneUserLeavesOthersDecoding: one account sending
// pictures to decode from several connections at once (QR codes to read,
// avatars) could fill the node's decoders and make everyone else wait. A
// user has one picture decoded at a time in each pool (DECODES_PER_USER):
// the flood's extra pictures get 429 busy at once, and another user's
// picture, sent while the flood goes on, is decoded (200), in either pool.
func TestPictureFloodOfOneUserLeavesOthersDecoding(t *testing.T) {
	t.Parallel()
	e := usertest.StartWith(t, usertest.Options{Configure: func(c *config.Config) { c.QRDecoders, c.AvatarDecoders, c.DecodesPerUser = 2, 2, 1 }})
	patient(e)
	mallory := e.NewAccount(t, "Mallory")
	ada := e.NewAccount(t, "Ada")
	qr := hugeQRPNG(t, 6000, "privateim://user/"+ada.ID)
	avatar := bigAvatarPNG(t, 4000)
	for _, tc := range []struct {
		pool, method, path, field string
		data                      []byte
	}{
		{"qr", http.MethodPost, "/api/v1/qrcode/parse", "image", qr},
		{"avatar", http.MethodPut, "/api/v1/me/avatar", "avatar", avatar},
	} {
		t.Run(tc.pool, func(t *testing.T) {
			ct, body := apitest.MultipartFile(t, tc.field, "x.png", tc.data)
			var (
				mu       sync.Mutex
				statuses = map[string]int{} // "status code" -> count
				stop     = make(chan struct{})
				wg       sync.WaitGroup
			)
			for range 4 {
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						st, code, err := uploadStatus(e, tc.method, tc.path, mallory.Token, ct, body)
						key := fmt.Sprint(st, " ", code)
						if err != nil {
							key = err.Error()
						}
						mu.Lock()
						statuses[key]++
						mu.Unlock()
					}
				})
			}
			stopped := false
			halt := func() {
				if !stopped {
					stopped = true
					close(stop)
					wg.Wait()
				}
			}
			defer halt()
			// The flood is on once one of its pictures was refused.
			poll.Eventually(t, 60*time.Second, func() error {
				mu.Lock()
				defer mu.Unlock()
				if statuses["429 busy"] == 0 {
					return fmt.Errorf("no 429 busy yet: %v", statuses)
				}
				return nil
			})
			for i := range 3 {
				if st, code, err := uploadStatus(e, tc.method, tc.path, ada.Token, ct, body); err != nil || st != http.StatusOK {
					t.Errorf("another user's picture %d during the flood: %d %s %v, want 200", i, st, code, err)
				}
			}
			halt()
			awaitDecodeSlot(t, e, mallory.Token, tc.method, tc.path, tc.field)
			for k, n := range statuses {
				if k != "200 " && k != "429 busy" {
					t.Errorf("the flood got %d× %q, want only 200 and 429 busy", n, k)
				}
			}
			if statuses["200 "] == 0 {
				t.Errorf("the flooding user got no picture decoded: %v", statuses)
			}
		})
	}
}

// patient gives e's client a timeout past the server's own deadline for
// an answer (HTTP_WRITE_TIMEOUT): a decode slowed down by a loaded machine
// then ends with the server's answer or its cut, not with the client
// giving up (apitest's 30 s) while the decode goes on holding the user's
// slot, which makes the user's next pictures 429 busy.
func patient(e *usertest.Env) {
	e.Client = &http.Client{Timeout: e.Config.HTTP.Write + 15*time.Second}
}

// awaitDecodeSlot waits until the user of token has no picture being
// decoded in the pool behind method and path: a 1×1 picture sent there is
// answered with anything but 429 busy. Between sub-tests, so that a decode
// the server still runs after a failed request does not turn the next
// sub-test's pictures busy; it asserts nothing itself.
func awaitDecodeSlot(t *testing.T, e *usertest.Env, token, method, path, field string) {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	ct, body := apitest.MultipartFile(t, field, "probe.png", b.Bytes())
	poll.Eventually(t, e.Config.HTTP.Write+15*time.Second, func() error {
		st, code, err := uploadStatus(e, method, path, token, ct, body)
		if err != nil {
			return err
		}
		if st == http.StatusTooManyRequests && code == "busy" {
			return fmt.Errorf("%s %s: the user's picture is still being decoded (429 busy)", method, path)
		}
		return nil
	})
}
