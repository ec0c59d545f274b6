package media

import (
	"context"
	"io"

	"github.com/privateim/privateim/userservice/internal/filestore"
)

// Storage is where the feature keeps its files, under slash-separated keys
// (the layout in the package comment). filestore/local keeps them in a
// directory (UPLOAD_DIR, the default: one userservice), filestore/s3 in an
// S3-compatible bucket that every userservice instance shares. Both pass
// filestoretest.
type Storage interface {
	// Put stores all of r under key, a name no one used before, and
	// returns its size. On error nothing is kept. Errors of reading r are
	// returned as they are (wrapped).
	Put(ctx context.Context, key, contentType string, r io.Reader) (int64, error)
	// Open opens key to be read; a missing key is an error wrapping
	// fs.ErrNotExist.
	Open(ctx context.Context, key string) (filestore.Object, error)
	// Delete removes key; a missing key is no error.
	Delete(ctx context.Context, key string) error
	// Usage is the total size of the objects whose keys start with prefix.
	Usage(ctx context.Context, prefix string) (int64, error)
}
