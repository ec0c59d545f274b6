package elastic_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/privateim/privateim/userservice/internal/search"
	"github.com/privateim/privateim/userservice/internal/search/elastic"
	"github.com/privateim/privateim/userservice/internal/searchtest"
)

var indexSeq atomic.Int64

// newIndex makes a fresh index on the server at url, deleted at cleanup.
func newIndex(t *testing.T, url string) search.Index {
	t.Helper()
	name := fmt.Sprintf("privateim-test-%d-%d", os.Getpid(), indexSeq.Add(1))
	x, err := elastic.New(context.Background(), elastic.Options{URL: url, Index: name})
	if err != nil {
		t.Fatalf("elastic.New: %v", err)
	}
	t.Cleanup(func() {
		deleteIndex(t, url, name)
		if err := x.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return x
}

// TestConformance runs the suite against zincsearch, which speaks the
// Elasticsearch API and builds here from the Go module proxy, and also
// against a real Elasticsearch when ES_URL names one (GitHub CI has
// Elasticsearch 8).
func TestConformance(t *testing.T) {
	t.Run("zincsearch", func(t *testing.T) {
		z := startZinc(t)
		searchtest.Run(t, func(t *testing.T) search.Index { return newIndex(t, z.url) })
	})
	if url := os.Getenv("ES_URL"); url != "" {
		t.Run("elasticsearch", func(t *testing.T) {
			searchtest.Run(t, func(t *testing.T) search.Index { return newIndex(t, url) })
		})
	}
}

// A second New on an existing index keeps it and its documents.
func TestNewKeepsIndex(t *testing.T) {
	z := startZinc(t)
	ctx := context.Background()
	opt := elastic.Options{URL: z.url, Index: "privateim-test-keep"}
	a, err := elastic.New(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Put(ctx, search.Doc{Kind: search.KindGroup, ID: 9, Name: "Persistent"}); err != nil {
		t.Fatal(err)
	}
	b, err := elastic.New(ctx, opt)
	if err != nil {
		t.Fatalf("second New: %v", err)
	}
	waitFor(t, b, search.KindGroup, "persistent", 9)
}

func TestNewFails(t *testing.T) {
	ctx := context.Background()
	for _, url := range []string{"", "127.0.0.1:9200", "ftp://127.0.0.1/", "http://"} {
		if _, err := elastic.New(ctx, elastic.Options{URL: url}); err == nil {
			t.Errorf("New(%q) succeeded", url)
		}
	}
	// Nothing listens there.
	if _, err := elastic.New(ctx, elastic.Options{URL: "http://" + closedAddr(t)}); err == nil {
		t.Error("New against a closed port succeeded")
	}
	// Wrong password: the error says so, without the password.
	z := startZinc(t)
	bad := strings.Replace(z.url, zincPassword, "wrong-password", 1)
	_, err := elastic.New(ctx, elastic.Options{URL: bad})
	if err == nil {
		t.Fatal("New with a wrong password succeeded")
	}
	if strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("error discloses the password: %v", err)
	}
}
