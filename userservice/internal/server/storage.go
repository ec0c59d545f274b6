package server

import (
	"context"
	"fmt"
	"time"

	"github.com/privateim/privateim/userservice/internal/filestore/local"
	"github.com/privateim/privateim/userservice/internal/filestore/s3"
	"github.com/privateim/privateim/userservice/internal/media"
)

// openStorage opens where avatars and files are kept: the S3-compatible
// bucket when S3_URL is set (every instance shares it), else UPLOAD_DIR;
// the directory's closer is registered.
func (s *Server) openStorage(ctx context.Context) (media.Storage, error) {
	if c := s.cfg.S3; c.URL != "" {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		b, err := s3.New(ctx, s3.Options{URL: c.URL, Bucket: c.Bucket, Region: c.Region,
			AccessKey: c.AccessKey, SecretKey: c.SecretKey, PartSize: c.PartSize})
		if err != nil {
			return nil, fmt.Errorf("file storage: %w", err)
		}
		s.log.Info("file storage", "kind", "s3", "url", c.URL, "bucket", c.Bucket)
		return b, nil
	}
	d, err := local.Open(s.cfg.UploadDir)
	if err != nil {
		return nil, fmt.Errorf("file storage: %w", err)
	}
	s.Closers.Add("file storage", func(context.Context) error { return d.Close() })
	return d, nil
}

var (
	_ media.Storage = (*local.Dir)(nil)
	_ media.Storage = (*s3.Bucket)(nil)
)
