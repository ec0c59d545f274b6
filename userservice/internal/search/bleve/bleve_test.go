package bleve_test

import (
	"context"
	"fmt"
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

func benchName(i int) string {
	latin := []string{"Alice", "Bob", "Carol", "Dave", "Alicia", "Mallory", "Peggy", "Trent", "Victor", "Walter"}
	family := []rune("张王李赵刘陈杨黄周吴")
	given := []rune("伟明芳娜秀英敏静丽强")
	return fmt.Sprintf("%s %c%c%c", latin[i%len(latin)], family[i%10], given[(i/10)%10], given[(i/100)%10])
}

// BenchmarkPut indexes users one by one, as sign-ups and profile changes do.
func BenchmarkPut(b *testing.B) {
	ctx := context.Background()
	x, err := bleve.Open(filepath.Join(b.TempDir(), "search"))
	if err != nil {
		b.Fatal(err)
	}
	defer x.Close()
	i := 0
	for b.Loop() {
		i++
		if err := x.Put(ctx, search.Doc{Kind: search.KindUser, ID: int64(i), Name: benchName(i), Email: fmt.Sprintf("u%d@example.com", i)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSearch searches 5,000 users with mixed Latin and Chinese names.
func BenchmarkSearch(b *testing.B) {
	ctx := context.Background()
	x, err := bleve.Open(filepath.Join(b.TempDir(), "search"))
	if err != nil {
		b.Fatal(err)
	}
	defer x.Close()
	for i := range 5000 {
		if err := x.Put(ctx, search.Doc{Kind: search.KindUser, ID: int64(i + 1), Name: benchName(i), Email: fmt.Sprintf("u%d@example.com", i)}); err != nil {
			b.Fatal(err)
		}
	}
	for _, q := range []string{"ali", "张伟", "伟", "alice 张", "u42@example.com"} {
		b.Run(q, func(b *testing.B) {
			for b.Loop() {
				if _, err := x.Search(ctx, search.KindUser, q, 20, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
