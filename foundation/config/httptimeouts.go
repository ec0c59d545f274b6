package config

import (
	"fmt"
	"time"
)

// HTTPTimeouts are the timeouts of a binary's public HTTP server, those of
// net/http.Server with the same names: the time a client has to send the
// request headers (ReadHeader) and the whole request (Read), the time to
// write the answer (Write), and how long a keep-alive connection may wait
// for its next request (Idle). They stop clients that hold connections
// open by sending slowly (slowloris) or not at all.
type HTTPTimeouts struct {
	ReadHeader, Read, Write, Idle time.Duration
}

// HTTPTimeoutVars are the settings HTTP_READ_HEADER_TIMEOUT (10s),
// HTTP_READ_TIMEOUT and HTTP_WRITE_TIMEOUT (both readWrite: what the
// slowest upload or download may take) and HTTP_IDLE_TIMEOUT (2m), filling
// field. Concatenate them to a binary's settings.
func HTTPTimeoutVars[C any](field func(*C) *HTTPTimeouts, readWrite string) []Setting[C] {
	d := func(part func(*HTTPTimeouts) *time.Duration) Field[C] {
		return Duration(func(c *C) *time.Duration { return part(field(c)) })
	}
	return []Setting[C]{
		Var("HTTP_READ_HEADER_TIMEOUT", "http-read-header-timeout", "10s", "time a client has to send a request's headers", d(func(t *HTTPTimeouts) *time.Duration { return &t.ReadHeader })),
		Var("HTTP_READ_TIMEOUT", "http-read-timeout", readWrite, "time a client has to send a whole request, body included", d(func(t *HTTPTimeouts) *time.Duration { return &t.Read })),
		Var("HTTP_WRITE_TIMEOUT", "http-write-timeout", readWrite, "time to answer a request, from the end of its headers", d(func(t *HTTPTimeouts) *time.Duration { return &t.Write })),
		Var("HTTP_IDLE_TIMEOUT", "http-idle-timeout", "2m", "a keep-alive connection waiting for its next request is closed after this", d(func(t *HTTPTimeouts) *time.Duration { return &t.Idle })),
	}
}

// Validate wants every timeout > 0 (0 would mean none in net/http).
func (t HTTPTimeouts) Validate() error {
	for _, v := range []struct {
		name string
		d    time.Duration
	}{{"http-read-header-timeout", t.ReadHeader}, {"http-read-timeout", t.Read}, {"http-write-timeout", t.Write}, {"http-idle-timeout", t.Idle}} {
		if v.d <= 0 {
			return fmt.Errorf("%s must be > 0", v.name)
		}
	}
	return nil
}
