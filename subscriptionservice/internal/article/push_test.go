package article

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSummary(t *testing.T) {
	long := strings.Repeat("字", SummaryRunes+5)
	cases := []struct{ name, body, want string }{
		{"empty", "", ""},
		{"short", "Hello,\n\n  world.", "Hello, world."},
		{"exactly the limit", strings.Repeat("a", SummaryRunes), strings.Repeat("a", SummaryRunes)},
		{"cut on runes", long, strings.Repeat("字", SummaryRunes) + "…"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Summary(tc.body)
			if got != tc.want || !utf8.ValidString(got) {
				t.Errorf("Summary = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStateNames(t *testing.T) {
	for s, want := range map[State]string{Draft: "draft", InReview: "in_review", Approved: "approved",
		Rejected: "rejected", Published: "published", Withdrawn: "withdrawn", 9: "state_9"} {
		if s.String() != want {
			t.Errorf("State(%d) = %q, want %q", s, s.String(), want)
		}
	}
	if got := ClientMsgID(42); got != "article:42" {
		t.Errorf("ClientMsgID = %q", got)
	}
}
