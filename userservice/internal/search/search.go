// Package search finds users, groups and subscription accounts by name, and
// users by exact email. Index is the interface the features consume;
// search/bleve (embedded, the default) and search/elastic (the Elasticsearch
// API, used when ES_URL is set) implement it, and searchtest holds the one
// conformance suite both pass.
//
// The query language is defined here, once, by ParseQuery, so that both
// implementations answer alike:
//
//   - The query is trimmed; an empty one is ErrEmptyQuery. It is width-folded
//     (fullwidth Latin to ASCII, halfwidth katakana to fullwidth), lowercased
//     and split into words at Unicode word boundaries (UAX #29, the rules of
//     both indexes' tokenizers). Punctuation and symbols separate words,
//     except where UAX #29 keeps them inside one ("o'brien", "example.com",
//     "a:b"); quotes, *, ?, :, \ and the like are never query syntax and never
//     an error, and a query made only of them finds nothing.
//   - On kind user, a query containing "@" is an email: it finds only the user
//     whose email equals it, ignoring case. Emails are indexed as SHA-256
//     hashes and never returned; they are not matched by words or prefixes.
//   - Otherwise every word must match the name (AND). A run of two or more
//     adjacent CJK characters (Han, kana) must appear in the name as
//     consecutive characters: its bigrams are all required, so "张伟" and
//     "伟明" find "张伟明" but "明伟" does not. Any other word — Latin, digits,
//     Hangul or a single CJK character — matches as a case-insensitive prefix
//     of a word of the name: "ali" finds "Alice", and since each CJK character
//     of a name is also indexed as a word, "张" and "伟" both find "张伟".
//     Prefixes never match inside a word: "lice" does not find "Alice".
//   - Results are ordered by relevance (names containing the query's words
//     whole rank above prefix-only matches), then by id ascending, so equal
//     names page deterministically.
//   - Paging: Search returns at most limit ids (DefaultLimit when limit <= 0,
//     MaxLimit at most) and a Next cursor, empty on the last page. Cursors are
//     opaque; they hold an offset, so a page is stable only while the index
//     does not change between the requests, and paging stops at MaxOffset.
//
// Writes are near-real-time in the Elasticsearch implementation: a Put or
// Delete is visible to Search within about a second, not at once.
//
// This package imports only the standard library, golang.org/x/text and
// github.com/blevesearch/segment (the query must split like the indexes do).
package search

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/segment"
	"golang.org/x/text/width"
)

// Kind separates what is searched: a search of one kind never returns
// another kind's documents, even with the same id.
type Kind string

const (
	KindUser         Kind = "user"
	KindGroup        Kind = "group"
	KindSubscription Kind = "subscription"
)

// Valid reports whether k is one of the kinds above.
func (k Kind) Valid() bool {
	switch k {
	case KindUser, KindGroup, KindSubscription:
		return true
	}
	return false
}

// Doc is what is indexed about one user, group or subscription account.
type Doc struct {
	Kind Kind
	ID   int64
	Name string
	// Email is for users only: matched exactly, stored hashed, never returned.
	Email string
}

// Page is one page of search results, best first.
type Page struct {
	IDs []int64
	// Next is the cursor for the following page; empty on the last page.
	Next string
}

// Index is a search index of users, groups and subscription accounts. It is
// safe for concurrent use. Put and Delete are idempotent.
type Index interface {
	// Put adds the document or replaces the one with the same kind and id.
	Put(ctx context.Context, doc Doc) error
	// Delete removes the document; deleting a missing one is no error.
	Delete(ctx context.Context, kind Kind, id int64) error
	// Search returns the ids of kind matching query (see the package
	// comment), from the position after names (empty for the first page).
	Search(ctx context.Context, kind Kind, query string, limit int, after string) (Page, error)
	// Close releases the index; it is not used afterwards.
	Close() error
}

const (
	DefaultLimit = 20
	MaxLimit     = 100
	// MaxOffset bounds deep paging (both engines cap from+size).
	MaxOffset = 1000
	// MaxQueryRunes bounds the query; longer ones are ErrInvalid.
	MaxQueryRunes = 100
)

// ErrInvalid is wrapped by every error about the caller's input (map it to
// 400); the message after the colon is safe to show.
var ErrInvalid = errors.New("invalid search request")

var (
	ErrEmptyQuery = fmt.Errorf("%w: empty query", ErrInvalid)
	ErrBadCursor  = fmt.Errorf("%w: malformed cursor", ErrInvalid)
)

// The field names both implementations index.
const (
	FieldKind = "kind"
	// FieldName is analyzed into words with CJK runs as bigrams.
	FieldName = "name"
	// FieldNameWords is analyzed into words with each CJK character alone;
	// prefix matches run on it.
	FieldNameWords = "name_words"
	// FieldEmail holds EmailHash of a user's email.
	FieldEmail = "email_sha256"
	// FieldSortID holds SortKey(id), the tie breaker.
	FieldSortID = "sort_id"
)

// Validate checks a document before it is indexed.
func (d Doc) Validate() error {
	if !d.Kind.Valid() {
		return fmt.Errorf("%w: unknown kind %q", ErrInvalid, d.Kind)
	}
	if d.ID <= 0 {
		return fmt.Errorf("%w: id must be positive", ErrInvalid)
	}
	if d.Email != "" && d.Kind != KindUser {
		return fmt.Errorf("%w: only users have an email", ErrInvalid)
	}
	return nil
}

// DocID is the engine's document id for kind and id.
func DocID(kind Kind, id int64) string {
	return string(kind) + "-" + strconv.FormatInt(id, 10)
}

// ParseDocID is the inverse of DocID.
func ParseDocID(s string) (Kind, int64, error) {
	k, n, ok := strings.Cut(s, "-")
	id, err := strconv.ParseInt(n, 10, 64)
	if !ok || err != nil || !Kind(k).Valid() {
		return "", 0, fmt.Errorf("malformed document id %q", s)
	}
	return Kind(k), id, nil
}

// SortKey orders ids numerically as strings: ids are positive int64s, so
// zero-padding to 19 digits makes string order numeric order. (Neither engine
// sorts int64 ids exactly: bleve's numbers are float64.)
func SortKey(id int64) string {
	return fmt.Sprintf("%019d", id)
}

// EmailHash is the indexed form of an email: hashed, so that an index dump
// does not disclose addresses, after trimming and lowercasing.
func EmailHash(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(sum[:])
}

// Fields is the document as both engines index it.
func (d Doc) Fields() map[string]any {
	f := map[string]any{
		FieldKind:      string(d.Kind),
		FieldName:      d.Name,
		FieldNameWords: d.Name,
		FieldSortID:    SortKey(d.ID),
	}
	if d.Email != "" {
		f[FieldEmail] = EmailHash(d.Email)
	}
	return f
}

// Query is a parsed search request; the implementations translate it.
type Query struct {
	Kind Kind
	// EmailHash, when set, is the only condition: FieldEmail equals it.
	EmailHash string
	// Prefixes must each be a prefix of a term of FieldNameWords.
	Prefixes []string
	// Runs are CJK runs of two or more characters; each must match
	// FieldName with all its terms (the bigrams) required.
	Runs []string
	// Text is the normalized query, matched against FieldName with any term
	// sufficing, for relevance only.
	Text string
	// Offset and Limit select the page; fetch Limit+1 to know if one follows.
	Offset, Limit int
}

// Empty reports whether the query cannot match anything (it had no words).
func (q Query) Empty() bool {
	return q.EmailHash == "" && len(q.Prefixes) == 0 && len(q.Runs) == 0
}

// ParseQuery validates a Search call and turns it into a Query.
func ParseQuery(kind Kind, query string, limit int, after string) (Query, error) {
	if !kind.Valid() {
		return Query{}, fmt.Errorf("%w: unknown kind %q", ErrInvalid, kind)
	}
	query = strings.TrimSpace(strings.ToValidUTF8(query, "\uFFFD"))
	if query == "" {
		return Query{}, ErrEmptyQuery
	}
	if utf8.RuneCountInString(query) > MaxQueryRunes {
		return Query{}, fmt.Errorf("%w: query longer than %d characters", ErrInvalid, MaxQueryRunes)
	}
	offset, err := decodeCursor(after)
	if err != nil {
		return Query{}, err
	}
	switch {
	case limit <= 0:
		limit = DefaultLimit
	case limit > MaxLimit:
		limit = MaxLimit
	}
	q := Query{Kind: kind, Offset: offset, Limit: limit}
	if kind == KindUser && strings.Contains(query, "@") {
		q.EmailHash = EmailHash(query)
		return q, nil
	}
	q.Text = strings.ToLower(width.Fold.String(query))
	q.Prefixes, q.Runs = words(q.Text)
	return q, nil
}

// words splits normalized text into prefix words and CJK runs.
func words(text string) (prefixes, runs []string) {
	seg := segment.NewWordSegmenterDirect([]byte(text))
	var run []rune
	flush := func() {
		switch len(run) {
		case 0:
		case 1:
			prefixes = appendNew(prefixes, string(run))
		default:
			runs = appendNew(runs, string(run))
		}
		run = run[:0]
	}
	for seg.Segment() {
		w := seg.Text()
		switch seg.Type() {
		case segment.Ideo, segment.Kana:
			run = append(run, []rune(w)...)
		case segment.Letter, segment.Number:
			flush()
			prefixes = appendNew(prefixes, w)
		default: // a separator: space, punctuation, symbols
			flush()
		}
	}
	flush()
	return prefixes, runs
}

func appendNew(list []string, s string) []string {
	for _, have := range list {
		if have == s {
			return list
		}
	}
	return append(list, s)
}

const cursorPrefix = "o"

// NextCursor is the cursor after a page of q that returned n hits (having
// asked for Limit+1); empty when there is no further page.
func (q Query) NextCursor(n int) string {
	next := q.Offset + q.Limit
	if n <= q.Limit || next >= MaxOffset {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.Itoa(next)))
}

// Window is the size to fetch from Offset: Limit+1, kept within MaxOffset.
func (q Query) Window() int {
	return min(q.Limit+1, MaxOffset-q.Offset)
}

func decodeCursor(after string) (int, error) {
	if after == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(after)
	if err != nil {
		return 0, ErrBadCursor
	}
	n, ok := strings.CutPrefix(string(b), cursorPrefix)
	if !ok {
		return 0, ErrBadCursor
	}
	off, err := strconv.Atoi(n)
	if err != nil || off <= 0 || off >= MaxOffset {
		return 0, ErrBadCursor
	}
	return off, nil
}
