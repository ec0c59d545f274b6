// Package logtail reads the end of a log file, so that the error about a
// child process that died or never became ready (a test's DataService, a
// loadgen node) carries what it said last. Only the standard library.
package logtail

import "os"

// Tail returns the last max bytes of the file at path, or "" when it
// cannot be read: it only decorates an error that is already on its way.
func Tail(path string, max int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}
