package bleve_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/privateim/privateim/userservice/internal/search"
	"github.com/privateim/privateim/userservice/internal/search/bleve"
	"github.com/privateim/privateim/userservice/internal/searchtest"
)

func open(t *testing.T, dir string) *bleve.Index {
	t.Helper()
	x, err := bleve.Open(dir)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return x
}

func TestConformance(t *testing.T) {
	searchtest.Run(t, func(t *testing.T) search.Index {
		x := open(t, filepath.Join(t.TempDir(), "search"))
		t.Cleanup(func() {
			if err := x.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return x
	})
}

// The index lives on disk: what was put is there after a restart.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "nested", "search")
	x := open(t, dir)
	if err := x.Put(ctx, search.Doc{Kind: search.KindUser, ID: 7, Name: "张伟明", Email: "z@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}

	x = open(t, dir)
	defer x.Close()
	for _, q := range []string{"伟明", "z@example.com"} {
		p, err := x.Search(ctx, search.KindUser, q, 10, "")
		if err != nil || len(p.IDs) != 1 || p.IDs[0] != 7 {
			t.Errorf("after reopen Search(%q) = %v, %v; want [7]", q, p.IDs, err)
		}
	}
}

func TestOpenFails(t *testing.T) {
	if _, err := bleve.Open(""); err == nil {
		t.Error("Open(\"\") succeeded")
	}
	// A directory that is not an index is not silently replaced.
	dir := t.TempDir()
	if _, err := bleve.Open(dir); err == nil {
		t.Errorf("Open(%s) of a non-index directory succeeded", dir)
	}
}
