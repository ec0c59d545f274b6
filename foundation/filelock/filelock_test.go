package filelock_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/privateim/privateim/foundation/filelock"
)

// A held lock refuses TryLock at once (flock locks belong to the open file,
// so a second open in the same process is refused like another process), and
// is free again once released.
func TestTryLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	unlock, err := filelock.TryLock(path)
	if err != nil {
		t.Fatalf("TryLock: %v", err)
	}
	if _, err := filelock.TryLock(path); !errors.Is(err, filelock.ErrLocked) {
		t.Fatalf("TryLock of a held lock: %v, want ErrLocked", err)
	}
	unlock()
	unlock, err = filelock.TryLock(path)
	if err != nil {
		t.Fatalf("TryLock after unlock: %v", err)
	}
	unlock()
	unlock, err = filelock.Lock(path)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if _, err := filelock.TryLock(path); !errors.Is(err, filelock.ErrLocked) {
		t.Fatalf("TryLock while Lock holds it: %v, want ErrLocked", err)
	}
	unlock()
}
