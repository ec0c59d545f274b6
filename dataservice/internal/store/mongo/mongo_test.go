package mongo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
	"github.com/privateim/privateim/dataservice/internal/store/storetest"
)

// TestDocMongo runs the document-role conformance suite against the MongoDB
// replica set at MONGO_URI, each subtest on a fresh database dropped at
// cleanup.
func TestDocMongo(t *testing.T) {
	uri := os.Getenv("MONGO_URI")
	if uri == "" {
		t.Skip("MONGO_URI not set: the Mongo adapter's conformance run needs a MongoDB replica set (GitHub CI has one)")
	}
	storetest.RunDocuments(t, func(t *testing.T) store.Documents {
		return openTestDatabase(t, uri)
	})
}

// openTestDatabase opens a uniquely named database and drops it at cleanup.
func openTestDatabase(t *testing.T, uri string) *Documents {
	t.Helper()
	name := "privateim_test_" + randomHex(t, 8)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	d, err := Open(ctx, uri, name)
	if err != nil {
		t.Fatalf("open mongo database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// t.Context() is already canceled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := d.messages.Database().Drop(ctx); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
		if err := d.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return d
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
