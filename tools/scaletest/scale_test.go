// Package scaletest runs every tier twice and checks the flows that cross
// instances (issue 17, "Scale every tier"): here two DataServices on one
// database and two userservices on one S3 bucket (versitygw).
package scaletest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/privateim/privateim/foundation/stacktest"
)

// Sign up on one userservice and sign in on the other; a file uploaded
// through one is downloaded through the other (the same bucket, the same
// FILE_URL_SECRET, one PUBLIC_URL in front of both in production).
func TestTwoUserServicesShareAccountsAndFiles(t *testing.T) {
	s3 := stacktest.StartS3(t)
	d1 := stacktest.StartDataService(t)
	d2 := d1.StartReplica(t, 2)
	env := []string{
		"S3_URL=" + s3.URL, "S3_BUCKET=scaletest", "S3_ACCESS_KEY=" + s3.AccessKey, "S3_SECRET_KEY=" + s3.SecretKey,
		"FILE_URL_SECRET=" + strings.Repeat("k", 40),
	}
	jwt := "JWT_SECRET=" + strings.Repeat("j", 40)
	u1 := stacktest.StartUserService(t, d1, stacktest.UserServiceOptions{Env: append(env, jwt)})
	u2 := stacktest.StartUserService(t, d2, stacktest.UserServiceOptions{Env: append(env, jwt)})

	var up struct{ Token string }
	call(t, http.MethodPost, u1.URL+"/api/v1/auth/signup", "", `{"name":"Ada","email":"ada@example.com","password":"correct horse 1"}`, http.StatusCreated, &up)
	var in struct{ Token string }
	call(t, http.MethodPost, u2.URL+"/api/v1/auth/signin", "", `{"email":"ada@example.com","password":"correct horse 1"}`, http.StatusOK, &in)
	if in.Token == "" {
		t.Fatal("sign-in on the second userservice answered no token")
	}
	// The first instance's token works on the second.
	call(t, http.MethodGet, u2.URL+"/api/v1/me", up.Token, "", http.StatusOK, nil)

	data := bytes.Repeat([]byte("a file kept in S3\n"), 1000)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "notes.txt")
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, u1.URL+"/api/v1/files", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+in.Token)
	var f struct{ URL string }
	do(t, req, http.StatusCreated, &f)
	// The URL names the first instance's PUBLIC_URL; fetch its path from
	// the second, as a shared PUBLIC_URL in front of both would.
	fu, err := url.Parse(f.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(u2.URL + fu.RequestURI())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, data) {
		t.Fatalf("download through the second userservice: %d, %d bytes; want 200, the %d bytes uploaded", resp.StatusCode, len(got), len(data))
	}
	if keys := s3Keys(t, s3); keys != 1 {
		t.Errorf("%d files in the bucket's directory, want 1", keys)
	}
}

func call(t *testing.T, method, u, token, body string, want int, out any) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	do(t, req, want, out)
}

func do(t *testing.T, req *http.Request, want int, out any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", req.Method, req.URL, resp.StatusCode, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", req.Method, req.URL, err, b)
		}
	}
}

// s3Keys counts the chat files under the posix backend's bucket directory.
func s3Keys(t *testing.T, s *stacktest.S3) int {
	t.Helper()
	n := 0
	err := walk(s.Dir+"/scaletest/files", &n)
	if err != nil {
		t.Fatal(fmt.Errorf("list the bucket: %w", err))
	}
	return n
}

func walk(dir string, n *int) error {
	return filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			*n++
		}
		return err
	})
}
