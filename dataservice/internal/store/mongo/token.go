package mongo

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/privateim/privateim/dataservice/internal/store"
)

// Page tokens are the key of the last row of the previous page, in plain
// text: "<ts unix nanoseconds>:<seq>" for messages by time, "<id>" for
// articles. They are not secret; garbage is refused with store.ErrBadPageToken.

type timeKey struct {
	ts  int64
	seq int64
}

func encodeTimeToken(k timeKey) string {
	return strconv.FormatInt(k.ts, 10) + ":" + strconv.FormatInt(k.seq, 10)
}

func decodeTimeToken(s string) (timeKey, error) {
	tsText, seqText, ok := strings.Cut(s, ":")
	if !ok {
		return timeKey{}, badToken(s)
	}
	ts, err1 := strconv.ParseInt(tsText, 10, 64)
	seq, err2 := strconv.ParseInt(seqText, 10, 64)
	if err1 != nil || err2 != nil || seq <= 0 {
		return timeKey{}, badToken(s)
	}
	return timeKey{ts: ts, seq: seq}, nil
}

func encodeIDToken(id int64) string { return strconv.FormatInt(id, 10) }

func decodeIDToken(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, badToken(s)
	}
	return id, nil
}

func badToken(s string) error {
	if len(s) > 32 {
		s = s[:32] + "..."
	}
	return fmt.Errorf("%w %q", store.ErrBadPageToken, s)
}
