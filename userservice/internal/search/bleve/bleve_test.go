package bleve_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

// An index another process has open is refused at once with ErrHeld, whose
// message names ES_URL (two userservices on one SEARCH_DIR would each see
// only their own writes); once the holder closes it, it opens. The holder
// is this test binary run again (TestHoldIndex).
func TestOpenRefusesAHeldIndex(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "search")
	x := open(t, dir)
	if _, err := bleve.Open(dir); !errors.Is(err, bleve.ErrHeld) || !strings.Contains(err.Error(), "ES_URL") {
		t.Fatalf("second Open in the same process: %v, want ErrHeld naming ES_URL", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHoldIndex$", "-test.count=1")
	cmd.Env = append(os.Environ(), "BLEVE_TEST_OPEN="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "refused: ") || !strings.Contains(string(out), "ES_URL") {
		t.Fatalf("Open in another process: err %v, output:\n%s", err, out)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	x = open(t, dir)
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestHoldIndex is TestOpenRefusesAHeldIndex's other process: it opens the
// index in BLEVE_TEST_OPEN and prints how it was refused.
func TestHoldIndex(t *testing.T) {
	dir := os.Getenv("BLEVE_TEST_OPEN")
	if dir == "" {
		t.Skip("run by TestOpenRefusesAHeldIndex")
	}
	x, err := bleve.Open(dir)
	if err == nil {
		x.Close()
		t.Fatal("Open of a held index succeeded")
	}
	if !errors.Is(err, bleve.ErrHeld) {
		t.Fatalf("Open: %v, want ErrHeld", err)
	}
	fmt.Println("refused:", err)
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
