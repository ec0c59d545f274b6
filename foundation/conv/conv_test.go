package conv

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	for _, s := range []string{"u:1:2", "g:5", "s:7", "sys:9"} {
		c, err := Parse(s)
		if err != nil || c.String() != s {
			t.Errorf("Parse(%q) = %v, %v", s, c, err)
		}
	}
	for _, s := range []string{"u:2:1", "u:1:1", "x:1", "g:", "g:-1", "g:1:2", "u:1", "g:01"} {
		if _, err := Parse(s); !errors.Is(err, ErrBadName) {
			t.Errorf("Parse(%q) = %v, want ErrBadName", s, err)
		}
	}
}

func TestBuild(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Conversation
		want string
	}{
		{"direct orders the ids", Direct(9, 3), "u:3:9"},
		{"group", Group(5), "g:5"},
		{"subscription", Subscription(7), "s:7"},
		{"system", System(9), "sys:9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
	if !IsDirect("u:1:2") || IsDirect("g:1") {
		t.Error("IsDirect")
	}
}
