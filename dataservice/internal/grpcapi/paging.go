package grpcapi

import (
	"encoding/base64"
	"strings"
)

// Page tokens are the adapter's key of the last row handed out, wrapped so
// clients treat them as opaque and cannot mistake one for an id: "p" plus
// the key in unpadded base64url. The adapter still checks that the key is
// one of its own (store.ErrBadPageToken).
const tokenPrefix = "p"

func encodePageToken(after string) string {
	if after == "" {
		return ""
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(after))
}

// decodePageToken returns the key of token ("" for the first page) and
// whether token is well formed.
func decodePageToken(token string) (string, bool) {
	if token == "" {
		return "", true
	}
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok || rest == "" {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(b) == 0 {
		return "", false
	}
	return string(b), true
}
