// Package s3 is the media.Storage on an S3-compatible bucket (AWS S3,
// MinIO, Ceph RGW, versitygw, SeaweedFS...): every userservice instance
// pointed at the same bucket sees the same files, so any of them serves a
// file another one stored. Objects are written with multipart uploads of
// PartSize parts when they are larger than one part (minio-go streams them:
// at most one part is buffered per upload).
//
// It may import minio-go and filestore only.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/privateim/privateim/userservice/internal/filestore"
)

// Options of a Bucket.
type Options struct {
	// URL of the S3 endpoint, http:// or https:// (S3_URL), e.g.
	// https://s3.eu-west-1.amazonaws.com; path-style requests.
	URL       string
	Bucket    string // S3_BUCKET; made when missing
	Region    string // S3_REGION; empty: us-east-1
	AccessKey string // S3_ACCESS_KEY
	SecretKey string // S3_SECRET_KEY
	// PartSize is the size of the parts of a multipart upload (at least 5
	// MiB, S3's least); 0: DefaultPartSize.
	PartSize int64
}

// DefaultPartSize is Options.PartSize's default: 16 MiB, so files below
// it are one PUT and larger ones go up in parts of 16 MiB.
const DefaultPartSize = 16 << 20

const minPartSize = 5 << 20

// Bucket is a bucket of stored files. Safe for concurrent use.
type Bucket struct {
	client   *minio.Client
	bucket   string
	partSize uint64
}

// New connects to the bucket of o, making it when it does not exist.
func New(ctx context.Context, o Options) (*Bucket, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" {
		return nil, fmt.Errorf("S3_URL: want http(s)://host[:port], got %q", o.URL)
	}
	switch {
	case o.Bucket == "":
		return nil, errors.New("S3_BUCKET: required")
	case o.AccessKey == "" || o.SecretKey == "":
		return nil, errors.New("S3_ACCESS_KEY and S3_SECRET_KEY: required")
	case o.PartSize != 0 && o.PartSize < minPartSize:
		return nil, fmt.Errorf("S3_PART_SIZE: at least 5 MiB, got %d", o.PartSize)
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.PartSize == 0 {
		o.PartSize = DefaultPartSize
	}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(o.AccessKey, o.SecretKey, ""),
		Secure:       u.Scheme == "https",
		Region:       o.Region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, fmt.Errorf("S3 client: %w", err)
	}
	b := &Bucket{client: c, bucket: o.Bucket, partSize: uint64(o.PartSize)}
	if err := b.ensureBucket(ctx, o.Region); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *Bucket) ensureBucket(ctx context.Context, region string) error {
	ok, err := b.client.BucketExists(ctx, b.bucket)
	if err != nil {
		return fmt.Errorf("S3 bucket %s: %w", b.bucket, err)
	}
	if ok {
		return nil
	}
	err = b.client.MakeBucket(ctx, b.bucket, minio.MakeBucketOptions{Region: region})
	// Another instance starting at the same time may have made it.
	if code := minio.ToErrorResponse(err).Code; code == "BucketAlreadyOwnedByYou" || code == "BucketAlreadyExists" {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("S3 make bucket %s: %w", b.bucket, err)
	}
	return nil
}

// Put implements media.Storage. The size is not known ahead: minio-go
// reads a part at a time and sends one PUT when the whole object fits in
// the first part, a multipart upload otherwise (aborted on error).
func (b *Bucket) Put(ctx context.Context, key, contentType string, r io.Reader) (int64, error) {
	info, err := b.client.PutObject(ctx, b.bucket, key, r, -1, minio.PutObjectOptions{
		ContentType: contentType,
		PartSize:    b.partSize,
	})
	if err != nil {
		return 0, fmt.Errorf("store %s: %w", key, err)
	}
	return info.Size, nil
}

// Open implements media.Storage: the object's metadata is read at once (a
// HEAD), its bytes as they are read, with ranged GETs after a Seek.
func (b *Bucket) Open(ctx context.Context, key string) (filestore.Object, error) {
	o, err := b.client.GetObject(ctx, b.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	st, err := o.Stat()
	if err != nil {
		o.Close()
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			err = fs.ErrNotExist
		}
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	return &object{Object: o, size: st.Size, mod: st.LastModified}, nil
}

type object struct {
	*minio.Object
	size int64
	mod  time.Time
}

func (o *object) Size() int64        { return o.size }
func (o *object) ModTime() time.Time { return o.mod }

// Delete implements media.Storage (S3 answers a missing key with success).
func (b *Bucket) Delete(ctx context.Context, key string) error {
	if err := b.client.RemoveObject(ctx, b.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// Usage implements media.Storage by listing the prefix.
func (b *Bucket) Usage(ctx context.Context, prefix string) (int64, error) {
	var sum int64
	for o := range b.client.ListObjects(ctx, b.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			return 0, fmt.Errorf("usage of %s: %w", prefix, o.Err)
		}
		sum += o.Size
	}
	return sum, nil
}

// Close implements io.Closer; the client holds nothing to release.
func (b *Bucket) Close() error { return nil }
