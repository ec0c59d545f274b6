// Package filelock serializes work across processes with an exclusive
// flock(2) on a file: several test binaries (or loadgen runs) building the
// same binaries into one directory take turns instead of writing over each
// other. Only the standard library; Unix only, like the development stack.
package filelock

import (
	"fmt"
	"os"
	"syscall"
)

// Lock blocks until it holds the exclusive lock of path (created when
// missing) and returns what releases it.
func Lock(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}
