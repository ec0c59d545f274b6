// Package searchtest is the conformance suite every search.Index
// implementation runs: `searchtest.Run(t, func(t *testing.T) search.Index {...})`.
//
// Implementations may be near-real-time, so every assertion on results polls
// until the expected answer appears or a deadline passes; an assertion that
// something is absent is made only in the same answer as something that is
// present (or after it was seen), so it cannot pass just because a write is
// not visible yet.
//
// It imports testing, the search package, foundation/poll and the standard
// library only.
package searchtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/poll"

	"github.com/privateim/privateim/userservice/internal/search"
)

// Deadline is how long an assertion waits for a write to become visible.
var Deadline = 20 * time.Second

// Run runs the suite; newIndex returns an empty index for one subtest and
// closes it at the subtest's cleanup (Run does not call Close).
func Run(t *testing.T, newIndex func(t *testing.T) search.Index) {
	tests := []struct {
		name string
		fn   func(t *testing.T, x search.Index)
	}{
		{"PutUpdateDelete", testPutUpdateDelete},
		{"LatinPrefix", testLatinPrefix},
		{"CJK", testCJK},
		{"Email", testEmail},
		{"KindsSeparated", testKinds},
		{"Ranking", testRanking},
		{"Paging", testPaging},
		{"SpecialCharacters", testSpecialCharacters},
		{"InvalidInput", testInvalidInput},
		{"Concurrent", testConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newIndex(t))
		})
	}
}

func put(t *testing.T, x search.Index, docs ...search.Doc) {
	t.Helper()
	for _, d := range docs {
		if err := x.Put(context.Background(), d); err != nil {
			t.Fatalf("Put(%+v): %v", d, err)
		}
	}
}

func user(id int64, name, email string) search.Doc {
	return search.Doc{Kind: search.KindUser, ID: id, Name: name, Email: email}
}

func group(id int64, name string) search.Doc {
	return search.Doc{Kind: search.KindGroup, ID: id, Name: name}
}

// all returns every id the query finds, following cursors.
func all(x search.Index, kind search.Kind, q string) ([]int64, error) {
	var ids []int64
	after := ""
	for range search.MaxOffset {
		p, err := x.Search(context.Background(), kind, q, search.MaxLimit, after)
		if err != nil {
			return nil, err
		}
		ids = append(ids, p.IDs...)
		if p.Next == "" {
			return ids, nil
		}
		after = p.Next
	}
	return nil, errors.New("cursor never ended")
}

// expect polls until query q of kind finds exactly want, in that order.
func expect(t *testing.T, x search.Index, kind search.Kind, q string, want ...int64) {
	t.Helper()
	expectFunc(t, x, kind, q, fmt.Sprint(want), func(got []int64) bool {
		return slices.Equal(got, want)
	})
}

// expectSet polls until query q finds exactly the ids of want, in any order.
func expectSet(t *testing.T, x search.Index, kind search.Kind, q string, want ...int64) {
	t.Helper()
	want = slices.Sorted(slices.Values(want))
	expectFunc(t, x, kind, q, fmt.Sprintf("%v in any order", want), func(got []int64) bool {
		return slices.Equal(slices.Sorted(slices.Values(got)), want)
	})
}

func expectFunc(t *testing.T, x search.Index, kind search.Kind, q, want string, ok func([]int64) bool) {
	t.Helper()
	var got []int64
	var err error
	errNoMatch := errors.New("no match yet")
	if poll.Until(Deadline, func() error {
		got, err = all(x, kind, q)
		if err == nil && !ok(got) {
			return errNoMatch
		}
		return err
	}) == nil {
		return
	}
	if err != nil {
		t.Fatalf("Search(%s, %q): %v", kind, q, err)
	}
	t.Fatalf("Search(%s, %q) = %v, want %s (waited %v)", kind, q, got, want, Deadline)
}

func testPutUpdateDelete(t *testing.T, x search.Index) {
	ctx := context.Background()
	put(t, x, user(1, "Oldname Person", ""), user(2, "Oldname Other", ""))
	expect(t, x, search.KindUser, "oldname", 1, 2)

	put(t, x, user(1, "Newname Person", "")) // replaces, not adds
	expect(t, x, search.KindUser, "newname", 1)
	expect(t, x, search.KindUser, "oldname", 2)
	expect(t, x, search.KindUser, "person", 1)

	if err := x.Delete(ctx, search.KindUser, 2); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	expect(t, x, search.KindUser, "oldname")
	expect(t, x, search.KindUser, "newname", 1) // the other document stays

	// Deleting twice, or what never existed, is no error.
	for _, id := range []int64{2, 999} {
		if err := x.Delete(ctx, search.KindUser, id); err != nil {
			t.Errorf("Delete(%d) again: %v", id, err)
		}
	}
	// A deleted document can come back.
	put(t, x, user(2, "Oldname Returns", ""))
	expect(t, x, search.KindUser, "returns", 2)
}

func testLatinPrefix(t *testing.T, x search.Index) {
	put(t, x,
		user(10, "Alice Smith", ""),
		user(11, "ALICIA", ""),
		user(12, "Bob Alison", ""),
		user(13, "Malice", ""),
		user(14, "O'Brien 2nd", ""),
	)
	expectSet(t, x, search.KindUser, "ali", 10, 11, 12)
	for _, tc := range []struct {
		q    string
		want []int64
	}{
		{"ALI", []int64{10, 11, 12}},
		{"  aLi  ", []int64{10, 11, 12}},
		{"Ａｌｉ", []int64{10, 11, 12}}, // fullwidth
		{"alice", []int64{10}},
		{"smi", []int64{10}},
		{"ali smi", []int64{10}}, // every word must match
		{"smith alice", []int64{10}},
		{"bob ali", []int64{12}},
		{"alice bob", nil},
		{"lice", nil}, // no infix matches
		{"mal", []int64{13}},
		{"o'brien", []int64{14}},
		{"2nd", []int64{14}},
		{"2", []int64{14}},
		{"alicex", nil},
	} {
		t.Run(tc.q, func(t *testing.T) {
			expectSet(t, x, search.KindUser, tc.q, tc.want...)
		})
	}
}

func testCJK(t *testing.T, x search.Index) {
	put(t, x,
		user(1, "张伟明", ""),
		user(2, "张伟", ""),
		user(3, "伟张", ""),
		user(4, "李明", ""),
		user(5, "王小明 Wang", ""),
		user(6, "김철수", ""),
		group(7, "北京大学校友会"),
		user(8, "タナカ ひろし", ""),
	)
	expectSet(t, x, search.KindUser, "张伟", 1, 2)
	expectSet(t, x, search.KindGroup, "大学", 7)
	for _, tc := range []struct {
		q    string
		want []int64
	}{
		{"张伟明", []int64{1}},
		{"伟明", []int64{1}},
		{"明伟", nil}, // the characters, but not next to each other
		{"张", []int64{1, 2, 3}},
		{"伟", []int64{1, 2, 3}}, // a single character anywhere in the name
		{"明", []int64{1, 4, 5}},
		{"张 明", []int64{1}}, // separate words: each anywhere
		{"小明", []int64{5}},
		{"小明 wang", []int64{5}},
		{"wa 王", []int64{5}},
		{"王明", nil},
		{"김철", []int64{6}},
		{"철수", nil}, // Hangul words match by prefix, like Latin ones
		{"赵", nil},
		{"タナカ", []int64{8}}, // katakana and hiragana are CJK runs too
		{"ナカ", []int64{8}},
		{"タ", []int64{8}},
		{"ひろ", []int64{8}},
		{"ろし", []int64{8}},
		{"ろ", []int64{8}},
		{"しろ", nil},
	} {
		t.Run(tc.q, func(t *testing.T) {
			expectSet(t, x, search.KindUser, tc.q, tc.want...)
		})
	}
	expectSet(t, x, search.KindGroup, "北京", 7)
	expectSet(t, x, search.KindGroup, "校友会", 7)
	expectSet(t, x, search.KindGroup, "北京 校友", 7)
	expectSet(t, x, search.KindGroup, "京大", 7)
	expectSet(t, x, search.KindGroup, "北大")
}

func testEmail(t *testing.T, x search.Index) {
	put(t, x,
		user(1, "Eve", "Eve.Adams@Example.com"),
		user(2, "Adams Family", "adams@example.org"),
		user(3, "Example User", ""),
	)
	expect(t, x, search.KindUser, "eve.adams@example.com", 1)
	expect(t, x, search.KindUser, "adams@example.org", 2)
	for _, tc := range []struct {
		q    string
		want []int64
	}{
		{"EVE.ADAMS@EXAMPLE.COM", []int64{1}},
		{" eve.adams@example.com ", []int64{1}},
		{"eve.adams@example", nil}, // exact only
		{"eve.adams@example.co", nil},
		{"@example.com", nil},
		{"eve", []int64{1}},
		{"adams", []int64{2}},   // by name, never by email
		{"example", []int64{3}}, // the email domain is not a name
		{"example.com", nil},
	} {
		t.Run(tc.q, func(t *testing.T) {
			expectSet(t, x, search.KindUser, tc.q, tc.want...)
		})
	}

	// Changing the email replaces the old one.
	put(t, x, user(1, "Eve", "eve@new.example"))
	expect(t, x, search.KindUser, "eve@new.example", 1)
	expect(t, x, search.KindUser, "eve.adams@example.com")

	// Other kinds have no email.
	put(t, x, group(1, "adams@example.org"))
	expectSet(t, x, search.KindGroup, "adams", 1)
	expect(t, x, search.KindUser, "adams@example.org", 2)
	err := x.Put(context.Background(), search.Doc{Kind: search.KindGroup, ID: 2, Name: "g", Email: "g@example.com"})
	if !errors.Is(err, search.ErrInvalid) {
		t.Errorf("Put(group with email) = %v, want ErrInvalid", err)
	}
}

func testKinds(t *testing.T, x search.Index) {
	put(t, x,
		user(1, "Kindred", ""),
		group(1, "Kindred"),
		group(2, "Kindred Spirits"),
		search.Doc{Kind: search.KindSubscription, ID: 3, Name: "Kindred News"},
	)
	expectSet(t, x, search.KindSubscription, "kindred", 3)
	expectSet(t, x, search.KindGroup, "kindred", 1, 2)
	expectSet(t, x, search.KindUser, "kindred", 1)

	// Deleting the group with id 1 leaves the user with id 1.
	if err := x.Delete(context.Background(), search.KindGroup, 1); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	expectSet(t, x, search.KindGroup, "kindred", 2)
	expectSet(t, x, search.KindUser, "kindred", 1)
}

func testRanking(t *testing.T, x search.Index) {
	put(t, x,
		user(5, "Alicia Keys", ""),
		user(10, "Alice", ""),
		user(20, "Ali", ""),
		user(30, "Ali", ""),
		user(40, "Dan", ""),
	)
	// Whole-word matches first; equal names by id.
	expectFunc(t, x, search.KindUser, "ali", "[20 30 ...] then 5 and 10", func(got []int64) bool {
		return len(got) == 4 && slices.Equal(got[:2], []int64{20, 30}) &&
			slices.Equal(slices.Sorted(slices.Values(got[2:])), []int64{5, 10})
	})
	// Deterministic: the same query answers the same.
	first, err := all(x, search.KindUser, "ali")
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		again, err := all(x, search.KindUser, "ali")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(first, again) {
			t.Fatalf("Search not deterministic: %v then %v", first, again)
		}
	}
}

func testPaging(t *testing.T, x search.Index) {
	ctx := context.Background()
	// Put out of order; equal names must come back by id.
	for _, id := range []int64{4, 1, 5, 3, 2} {
		put(t, x, group(id, "Pager Group"))
	}
	// Ids beyond 2^53 keep their order and value.
	big := []int64{1<<62 + 1, 1<<62 + 2}
	put(t, x, group(big[1], "Pager Group"), group(big[0], "Pager Group"))
	want := append([]int64{1, 2, 3, 4, 5}, big...)
	expect(t, x, search.KindGroup, "pager", want...)

	var got []int64
	after := ""
	for i := 0; ; i++ {
		if i > len(want) {
			t.Fatalf("cursor did not end after %d pages", i)
		}
		p, err := x.Search(ctx, search.KindGroup, "pager group", 2, after)
		if err != nil {
			t.Fatalf("Search page %d: %v", i, err)
		}
		if len(p.IDs) > 2 {
			t.Fatalf("page %d has %d ids, limit 2", i, len(p.IDs))
		}
		got = append(got, p.IDs...)
		if p.Next == "" {
			break
		}
		after = p.Next
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages = %v, want %v", got, want)
	}

	// A limit of 0 means the default; larger than MaxLimit is capped.
	for _, limit := range []int{0, -1, search.MaxLimit + 1} {
		p, err := x.Search(ctx, search.KindGroup, "pager", limit, "")
		if err != nil || !slices.Equal(p.IDs, want) || p.Next != "" {
			t.Errorf("Search(limit %d) = %v, %q, %v; want %v", limit, p.IDs, p.Next, err, want)
		}
	}
	// An exactly full last page has no next cursor.
	p, err := x.Search(ctx, search.KindGroup, "pager", len(want), "")
	if err != nil || len(p.IDs) != len(want) || p.Next != "" {
		t.Errorf("Search(limit %d) = %v, %q, %v; want all and no cursor", len(want), p.IDs, p.Next, err)
	}
	// No results: no cursor.
	p, err = x.Search(ctx, search.KindGroup, "nothing matches this", 2, "")
	if err != nil || len(p.IDs) != 0 || p.Next != "" {
		t.Errorf("Search(no match) = %v, %q, %v", p.IDs, p.Next, err)
	}
}

func testSpecialCharacters(t *testing.T, x search.Index) {
	put(t, x, user(1, "Alice Quote", ""), user(2, "C++ Fan", ""), user(3, "张伟", ""))
	expectSet(t, x, search.KindUser, "alice", 1)
	expectSet(t, x, search.KindUser, `"alice"`, 1)
	expectSet(t, x, search.KindUser, "ali*", 1)
	expectSet(t, x, search.KindUser, "ali?", 1)
	expectSet(t, x, search.KindUser, `(alice) qu\`, 1)
	expectSet(t, x, search.KindUser, "c++", 2)
	expectSet(t, x, search.KindUser, "“张伟”", 3)
	expectSet(t, x, search.KindUser, "*", nil...)
	for _, q := range []string{
		`"`, `'`, `*`, `?`, `:`, `\`, `\\`, `/`, `"unterminated`, `name:alice`, `kind:user`, `*:*`,
		`alice AND bob`, `alice OR`, `NOT alice`, `-alice`, `+alice`, `alice~2`, `ali^3`, `[a TO z]`,
		`{}`, `()`, `((`, `&&`, `||`, `!`, `<>`, `=`, `%`, `%00`, "a\x00b", "\xff\xfe", `/.*/`,
		`{"query":{"match_all":{}}}`, `ali\`, `\"`, `'; DROP TABLE users; --`, "🙂", "\u200b", "e\u0301",
	} {
		for _, kind := range []search.Kind{search.KindUser, search.KindGroup} {
			if _, err := x.Search(context.Background(), kind, q, 10, ""); err != nil {
				t.Errorf("Search(%s, %q): %v", kind, q, err)
			}
		}
	}
}

func testInvalidInput(t *testing.T, x search.Index) {
	ctx := context.Background()
	for _, tc := range []struct {
		name         string
		kind         search.Kind
		q, after     string
		wantSentinel error
	}{
		{"empty", search.KindUser, "", "", search.ErrEmptyQuery},
		{"blank", search.KindGroup, " \t\n ", "", search.ErrEmptyQuery},
		{"unknown kind", search.Kind("robot"), "alice", "", search.ErrInvalid},
		{"no kind", "", "alice", "", search.ErrInvalid},
		{"bad cursor", search.KindUser, "alice", "not a cursor!", search.ErrBadCursor},
		{"forged cursor", search.KindUser, "alice", "LTE", search.ErrBadCursor},
		{"too long", search.KindUser, strings.Repeat("张", search.MaxQueryRunes+1), "", search.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := x.Search(ctx, tc.kind, tc.q, 10, tc.after)
			if !errors.Is(err, tc.wantSentinel) || !errors.Is(err, search.ErrInvalid) {
				t.Errorf("Search = %v, want %v (an ErrInvalid)", err, tc.wantSentinel)
			}
		})
	}
	for _, d := range []search.Doc{
		{Kind: "robot", ID: 1, Name: "x"},
		{Kind: search.KindUser, ID: 0, Name: "x"},
		{Kind: search.KindUser, ID: -1, Name: "x"},
	} {
		if err := x.Put(ctx, d); !errors.Is(err, search.ErrInvalid) {
			t.Errorf("Put(%+v) = %v, want ErrInvalid", d, err)
		}
	}
	if err := x.Delete(ctx, "robot", 1); !errors.Is(err, search.ErrInvalid) {
		t.Errorf("Delete(robot) = %v, want ErrInvalid", err)
	}
}

func testConcurrent(t *testing.T, x search.Index) {
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	want := make([]int64, 0, n)
	for i := range int64(n) {
		want = append(want, i+1)
		wg.Go(func() {
			errs <- x.Put(context.Background(), user(i+1, fmt.Sprintf("Crowd Member%d", i+1), ""))
			_, err := x.Search(context.Background(), search.KindUser, "crowd", 5, "")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	expect(t, x, search.KindUser, "crowd", want...)
}
