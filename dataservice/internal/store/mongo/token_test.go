package mongo

import (
	"errors"
	"testing"

	"github.com/privateim/privateim/dataservice/internal/store"
)

func TestTimeToken(t *testing.T) {
	for _, k := range []timeKey{{ts: 1795417200123456789, seq: 1}, {ts: 0, seq: 7}, {ts: -5, seq: 1 << 62}} {
		tok := encodeTimeToken(k)
		got, err := decodeTimeToken(tok)
		if err != nil || got != k {
			t.Errorf("decode(encode(%+v)) = %+v, %v (token %q)", k, got, err, tok)
		}
	}
	if got := encodeTimeToken(timeKey{ts: 1795417200123456789, seq: 4}); got != "1795417200123456789:4" {
		t.Errorf("token = %q", got)
	}
	for _, bad := range []string{"x", "1", "1:", ":1", "1:0", "1:-3", "a:1", "1:b", "1:2:3", " 1:2", "1:2 ",
		"99999999999999999999:1", "1:99999999999999999999", "0x10:1", strings100()} {
		if k, err := decodeTimeToken(bad); !errors.Is(err, store.ErrBadPageToken) {
			t.Errorf("decodeTimeToken(%q) = %+v, %v; want ErrBadPageToken", bad, k, err)
		}
	}
}

func TestIDToken(t *testing.T) {
	for _, id := range []int64{1, 42, 1<<63 - 1} {
		got, err := decodeIDToken(encodeIDToken(id))
		if err != nil || got != id {
			t.Errorf("decode(encode(%d)) = %d, %v", id, got, err)
		}
	}
	for _, bad := range []string{"x", "0", "-1", "1.5", "1:2", " 1", "9223372036854775808", strings100()} {
		if id, err := decodeIDToken(bad); !errors.Is(err, store.ErrBadPageToken) {
			t.Errorf("decodeIDToken(%q) = %d, %v; want ErrBadPageToken", bad, id, err)
		}
	}
	// The error quotes a bounded prefix of what it was given.
	if _, err := decodeIDToken(strings100()); len(err.Error()) > 80 {
		t.Errorf("error too long: %q", err)
	}
}

func strings100() string {
	b := make([]byte, 100)
	for i := range b {
		b[i] = 'z'
	}
	return string(b)
}
