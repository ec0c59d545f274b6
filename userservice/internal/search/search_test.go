package search_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/privateim/privateim/userservice/internal/search"
)

func TestParseQuery(t *testing.T) {
	for _, tc := range []struct {
		q              string
		prefixes, runs []string
		email          bool
	}{
		{q: "Alice", prefixes: []string{"alice"}},
		{q: "  ALI smi ali ", prefixes: []string{"ali", "smi"}},
		{q: "Ａｌｉ", prefixes: []string{"ali"}},
		{q: "张伟明", runs: []string{"张伟明"}},
		{q: "张", prefixes: []string{"张"}},
		{q: "张伟 明", prefixes: []string{"明"}, runs: []string{"张伟"}},
		{q: "wang小明", prefixes: []string{"wang"}, runs: []string{"小明"}},
		{q: "“张伟”", runs: []string{"张伟"}},
		{q: "o'brien", prefixes: []string{"o'brien"}},
		{q: `ali* "x" \y`, prefixes: []string{"ali", "x", "y"}},
		{q: "***"},
		{q: "a@b.c", email: true},
	} {
		t.Run(tc.q, func(t *testing.T) {
			q, err := search.ParseQuery(search.KindUser, tc.q, 0, "")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(q.Prefixes, tc.prefixes) || !slices.Equal(q.Runs, tc.runs) || (q.EmailHash != "") != tc.email {
				t.Errorf("ParseQuery(%q) = prefixes %q runs %q email %v; want %q %q %v",
					tc.q, q.Prefixes, q.Runs, q.EmailHash != "", tc.prefixes, tc.runs, tc.email)
			}
			if q.Limit != search.DefaultLimit || q.Offset != 0 {
				t.Errorf("limit %d offset %d", q.Limit, q.Offset)
			}
		})
	}
	// "@" is an email only where emails are indexed.
	q, err := search.ParseQuery(search.KindGroup, "a@b.c", 0, "")
	if err != nil || q.EmailHash != "" || !slices.Equal(q.Prefixes, []string{"a", "b.c"}) {
		t.Errorf("group query with @ = %+v, %v", q, err)
	}
}

func TestCursor(t *testing.T) {
	q, err := search.ParseQuery(search.KindUser, "a", 10, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := q.NextCursor(10); got != "" {
		t.Errorf("NextCursor with no extra hit = %q", got)
	}
	next := q.NextCursor(11)
	q2, err := search.ParseQuery(search.KindUser, "a", 10, next)
	if err != nil || q2.Offset != 10 {
		t.Fatalf("cursor %q -> offset %d, %v", next, q2.Offset, err)
	}
	// Paging stops at MaxOffset.
	last, err := search.ParseQuery(search.KindUser, "a", search.MaxLimit, "")
	if err != nil {
		t.Fatal(err)
	}
	pages := 0
	for cur := ""; ; pages++ {
		p, err := search.ParseQuery(search.KindUser, "a", search.MaxLimit, cur)
		if err != nil {
			t.Fatal(err)
		}
		if p.Offset+p.Window() > search.MaxOffset {
			t.Fatalf("window %d at offset %d passes MaxOffset", p.Window(), p.Offset)
		}
		if cur = p.NextCursor(p.Window()); cur == "" {
			break
		}
		last = p
	}
	if want := search.MaxOffset/search.MaxLimit - 1; pages != want || last.Offset != search.MaxOffset-2*search.MaxLimit {
		t.Errorf("%d pages to MaxOffset, last full offset %d", pages, last.Offset)
	}
	for _, bad := range []string{"!", "eDEw", "bzA", "by0x", "bzF4", "bzEwMDA", "bzEwMDAw", "bzEw="} {
		if _, err := search.ParseQuery(search.KindUser, "a", 10, bad); !errors.Is(err, search.ErrBadCursor) {
			t.Errorf("cursor %q: %v, want ErrBadCursor", bad, err)
		}
	}
}

func TestDocID(t *testing.T) {
	for _, d := range []search.Doc{{Kind: search.KindUser, ID: 1}, {Kind: search.KindSubscription, ID: 1<<63 - 1}} {
		k, id, err := search.ParseDocID(search.DocID(d.Kind, d.ID))
		if err != nil || k != d.Kind || id != d.ID {
			t.Errorf("round trip of %v: %v %v %v", d, k, id, err)
		}
	}
	for _, bad := range []string{"", "user", "user-", "user-x", "robot-1", "-1"} {
		if _, _, err := search.ParseDocID(bad); err == nil {
			t.Errorf("ParseDocID(%q) succeeded", bad)
		}
	}
	if search.SortKey(9) >= search.SortKey(10) || search.SortKey(1<<62) >= search.SortKey(1<<63-1) {
		t.Error("SortKey does not order numerically")
	}
	if search.EmailHash(" A@B.c ") != search.EmailHash("a@b.c") || strings.Contains(search.EmailHash("a@b.c"), "@") {
		t.Error("EmailHash does not normalize or does not hash")
	}
}

// ParseQuery never panics, and whatever it accepts is normalized.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"Alice", "张伟明", "a@b.c", `"*?:\`, "\xff", " ", "タナカ ひろし", "e\u0301"} {
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, q, after string) {
		pq, err := search.ParseQuery(search.KindUser, q, 10, after)
		if err != nil {
			if !errors.Is(err, search.ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		for _, w := range append(slices.Clone(pq.Prefixes), pq.Runs...) {
			if w == "" || !utf8.ValidString(w) || strings.ToLower(w) != w {
				t.Fatalf("word %q not normalized", w)
			}
		}
		for _, r := range pq.Runs {
			if utf8.RuneCountInString(r) < 2 {
				t.Fatalf("run %q shorter than 2", r)
			}
		}
	})
}
