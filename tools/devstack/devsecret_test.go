package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDevSecretIsMadeOnceAndKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".dev", "jwt-secret")
	first, err := devSecret(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) < 32 {
		t.Fatalf("secret %d bytes, want >= 32", len(first))
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	again, err := devSecret(path)
	if err != nil || again != first {
		t.Errorf("second read = %q, %v; want the first secret", again, err)
	}
	if err := os.WriteFile(path, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := devSecret(path); err == nil {
		t.Error("a short secret was accepted")
	}
}
