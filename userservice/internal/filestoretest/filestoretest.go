// Package filestoretest is the one conformance suite of media.Storage:
// every file store (filestore/local, filestore/s3) runs Run.
package filestoretest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"io/fs"
	"testing"
	"time"

	"github.com/privateim/privateim/userservice/internal/media"
)

// Run runs the suite on the store open makes, a new empty one per call.
// big is the size of the object that must go through the store's largest
// path (S3: more than one part of a multipart upload).
func Run(t *testing.T, open func(t *testing.T) media.Storage, big int) {
	ctx := context.Background()
	t.Run("PutOpenSeek", func(t *testing.T) {
		s := open(t)
		data := []byte("hello, stored world")
		before := time.Now().Add(-time.Minute)
		n, err := s.Put(ctx, "files/7/a.txt", "text/plain", bytes.NewReader(data))
		if err != nil || n != int64(len(data)) {
			t.Fatalf("Put = %d, %v; want %d", n, err, len(data))
		}
		o, err := s.Open(ctx, "files/7/a.txt")
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer o.Close()
		if o.Size() != int64(len(data)) || o.ModTime().Before(before) {
			t.Errorf("Size, ModTime = %d, %v; want %d, about now", o.Size(), o.ModTime(), len(data))
		}
		got, err := io.ReadAll(o)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read %q, %v; want %q", got, err, data)
		}
		if _, err := o.Seek(7, io.SeekStart); err != nil {
			t.Fatalf("Seek: %v", err)
		}
		if got, err := io.ReadAll(o); err != nil || string(got) != "stored world" {
			t.Errorf("after Seek(7) read %q, %v", got, err)
		}
	})
	t.Run("Missing", func(t *testing.T) {
		s := open(t)
		if _, err := s.Open(ctx, "files/7/none.txt"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open of a missing key: %v, want fs.ErrNotExist", err)
		}
		if err := s.Delete(ctx, "files/7/none.txt"); err != nil {
			t.Errorf("Delete of a missing key: %v", err)
		}
	})
	t.Run("DeleteAndUsage", func(t *testing.T) {
		s := open(t)
		for key, size := range map[string]int{"files/7/a": 10, "files/7/b": 32, "files/70/c": 1000, "avatars/d.png": 5} {
			if _, err := s.Put(ctx, key, "", bytes.NewReader(make([]byte, size))); err != nil {
				t.Fatalf("Put %s: %v", key, err)
			}
		}
		usage := func(prefix string, want int64) {
			t.Helper()
			if got, err := s.Usage(ctx, prefix); err != nil || got != want {
				t.Errorf("Usage(%q) = %d, %v; want %d", prefix, got, err, want)
			}
		}
		usage("files/7/", 42) // not files/70/
		usage("files/8/", 0)
		if err := s.Delete(ctx, "files/7/b"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := s.Open(ctx, "files/7/b"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open after Delete: %v, want fs.ErrNotExist", err)
		}
		usage("files/7/", 10)
	})
	t.Run("FailedReadKeepsNothing", func(t *testing.T) {
		s := open(t)
		boom := errors.New("client went away")
		r := io.MultiReader(bytes.NewReader(make([]byte, 1000)), errReader{boom})
		if _, err := s.Put(ctx, "files/7/cut", "", r); !errors.Is(err, boom) {
			t.Errorf("Put of a failing reader: %v, want it wrapped", err)
		}
		if _, err := s.Open(ctx, "files/7/cut"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open after a failed Put: %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("Big", func(t *testing.T) {
		s := open(t)
		data := make([]byte, big)
		_, _ = rand.Read(data)
		if n, err := s.Put(ctx, "files/7/big.bin", "application/octet-stream", bytes.NewReader(data)); err != nil || n != int64(big) {
			t.Fatalf("Put = %d, %v; want %d", n, err, big)
		}
		o, err := s.Open(ctx, "files/7/big.bin")
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		if _, err := o.Seek(int64(big-10), io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if tail, err := io.ReadAll(o); err != nil || !bytes.Equal(tail, data[big-10:]) {
			t.Errorf("last 10 bytes %x, %v; want %x", tail, err, data[big-10:])
		}
	})
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
