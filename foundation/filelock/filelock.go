// Package filelock serializes work across processes with an exclusive
// flock(2) on a file: several test binaries (or loadgen runs) building the
// same binaries into one directory take turns instead of writing over each
// other, and a second process that must not share a directory (the embedded
// search index) is refused at once. Only the standard library; Unix only,
// like the development stack.
package filelock

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ErrLocked is TryLock's answer when another open of the file (another
// process, or the same one) holds the lock.
var ErrLocked = errors.New("held by another process")

// Lock blocks until it holds the exclusive lock of path (created when
// missing) and returns what releases it.
func Lock(path string) (unlock func(), err error) {
	return lock(path, syscall.LOCK_EX)
}

// TryLock takes the exclusive lock of path (created when missing) if no one
// holds it, and otherwise fails at once with an error wrapping ErrLocked.
// The lock lasts until unlock is called or the process ends, so a crashed
// holder never leaves it taken.
func TryLock(path string) (unlock func(), err error) {
	return lock(path, syscall.LOCK_EX|syscall.LOCK_NB)
}

func lock(path string, how int) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			err = ErrLocked
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}
