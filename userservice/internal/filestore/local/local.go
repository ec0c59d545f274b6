// Package local is the media.Storage on a local directory (UPLOAD_DIR), the
// default: keys are paths under it, and every access goes through an
// os.Root, so no key can reach outside. It suits one userservice process;
// several instances need a shared store (filestore/s3).
//
// It may import the standard library and filestore only.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"time"

	"github.com/privateim/privateim/userservice/internal/filestore"
)

// Dir is a directory of stored files. Safe for concurrent use.
type Dir struct {
	root *os.Root
}

// Open opens (creating it when missing) the directory dir.
func Open(dir string) (*Dir, error) {
	if dir == "" {
		return nil, errors.New("file store: no directory")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("file store: create %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("file store: open %s: %w", dir, err)
	}
	return &Dir{root: root}, nil
}

// Close releases the directory.
func (d *Dir) Close() error { return d.root.Close() }

// Put implements media.Storage. The file is created exclusively, so a key
// is never written over.
func (d *Dir) Put(ctx context.Context, key, _ string, r io.Reader) (int64, error) {
	if dir := path.Dir(key); dir != "." {
		if err := d.root.MkdirAll(dir, 0o750); err != nil {
			return 0, fmt.Errorf("store %s: %w", key, err)
		}
	}
	f, err := d.root.OpenFile(key, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return 0, fmt.Errorf("store %s: %w", key, err)
	}
	n, err := io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		_ = d.root.Remove(key)
		return 0, fmt.Errorf("store %s: %w", key, err)
	}
	return n, nil
}

// Open implements media.Storage. Only regular files open.
func (d *Dir) Open(_ context.Context, key string) (filestore.Object, error) {
	f, err := d.root.Open(key)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	return &file{File: f, info: st}, nil
}

type file struct {
	*os.File
	info fs.FileInfo
}

func (f *file) Size() int64        { return f.info.Size() }
func (f *file) ModTime() time.Time { return f.info.ModTime() }

// Delete implements media.Storage.
func (d *Dir) Delete(_ context.Context, key string) error {
	if err := d.root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// Usage implements media.Storage for a prefix that is a directory followed
// by a slash ("files/7/"), the only kind the feature asks for: the sizes of
// the regular files in that directory.
func (d *Dir) Usage(_ context.Context, prefix string) (int64, error) {
	dir := path.Clean(prefix)
	f, err := d.root.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("usage of %s: %w", prefix, err)
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return 0, fmt.Errorf("usage of %s: %w", prefix, err)
	}
	var sum int64
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			sum += info.Size()
		}
	}
	return sum, nil
}
