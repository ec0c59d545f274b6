package s3_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/privateim/privateim/foundation/stacktest"
	"github.com/privateim/privateim/userservice/internal/filestore/s3"
	"github.com/privateim/privateim/userservice/internal/filestoretest"
	"github.com/privateim/privateim/userservice/internal/media"
)

// The suite against a real S3-compatible server (versitygw, built by
// scripts/versitygw.sh), a bucket per case; the big object is two and a
// half parts of the least part size, so it goes up as a multipart upload.
func TestConformance(t *testing.T) {
	srv := stacktest.StartS3(t)
	var n atomic.Int32
	filestoretest.Run(t, func(t *testing.T) media.Storage {
		return open(t, srv, fmt.Sprintf("case-%d", n.Add(1)))
	}, 5<<20*5/2)
}

func open(t *testing.T, srv *stacktest.S3, bucket string) *s3.Bucket {
	t.Helper()
	b, err := s3.New(context.Background(), s3.Options{URL: srv.URL, Bucket: bucket, Region: srv.Region,
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, PartSize: 5 << 20})
	if err != nil {
		t.Fatalf("s3.New: %v", err)
	}
	return b
}

// Two instances starting at once on a missing bucket both start: the one
// that loses the race to make it uses the other's.
func TestNewOnABucketAnotherMade(t *testing.T) {
	srv := stacktest.StartS3(t)
	open(t, srv, "shared")
	open(t, srv, "shared")
}

func TestNewRefusesBadOptions(t *testing.T) {
	for name, o := range map[string]s3.Options{
		"S3_URL":        {URL: "s3.example.com", Bucket: "b", AccessKey: "a", SecretKey: "s"},
		"S3_BUCKET":     {URL: "http://127.0.0.1:1", AccessKey: "a", SecretKey: "s"},
		"S3_ACCESS_KEY": {URL: "http://127.0.0.1:1", Bucket: "b"},
		"S3_PART_SIZE":  {URL: "http://127.0.0.1:1", Bucket: "b", AccessKey: "a", SecretKey: "s", PartSize: 1 << 20},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := s3.New(context.Background(), o); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("New = %v, want an error naming %s", err, name)
			}
		})
	}
}
