// Package filestore holds what the file stores share with their consumer
// (media.Storage): the Object an Open answers. The stores are its
// subpackages: local (a directory) and s3 (an S3-compatible bucket).
//
// It may import the standard library only.
package filestore

import (
	"io"
	"time"
)

// Object is a stored file opened to be read, and served with ranges
// (http.ServeContent).
type Object interface {
	io.ReadSeekCloser
	Size() int64
	ModTime() time.Time
}
