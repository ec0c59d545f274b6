package grpcapi

import "testing"

func TestPageTokens(t *testing.T) {
	for _, key := range []string{"1", "12345:67", "2024-01-01T00:00:00Z|5", "é/+="} {
		tok := encodePageToken(key)
		got, ok := decodePageToken(tok)
		if !ok || got != key {
			t.Errorf("round trip of %q: %q, %v", key, got, ok)
		}
	}
	if encodePageToken("") != "" {
		t.Error("the last page must have an empty token")
	}
	if got, ok := decodePageToken(""); !ok || got != "" {
		t.Error("an empty token must ask for the first page")
	}
	for _, bad := range []string{"p", "x", "!!!", "p!!!", "p====", "12345"} {
		if _, ok := decodePageToken(bad); ok {
			t.Errorf("token %q accepted", bad)
		}
	}
}
