// Package bleve is the embedded search.Index: a bleve index on local disk,
// the default when no Elasticsearch is configured. It suits one UserService
// process; several replicas need the elastic implementation. Open takes a
// lock beside the index (<dir>.lock) and refuses, with ErrHeld, an index
// another process has open: two userservices sharing one SEARCH_DIR would
// each see only their own writes (bleve itself would wait for the other's
// close forever).
//
// Names are analyzed like the elastic implementation's: Unicode words,
// width-folded and lowercased, with CJK runs as bigrams in search.FieldName
// and as single characters in search.FieldNameWords.
//
// It may import bleve, the search package and foundation/filelock only.
package bleve

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/privateim/privateim/foundation/filelock"
	"github.com/privateim/privateim/userservice/internal/search"
)

const (
	analyzerBigram = "privateim_name_bigram"
	analyzerWords  = "privateim_name_words"
)

// Index is a search.Index on a bleve index. Safe for concurrent use (bleve
// serializes writers itself).
type Index struct {
	idx    bleve.Index
	unlock func() // releases <dir>.lock
}

// ErrHeld is Open's error when another process (or another Open in this
// one) has the index open.
var ErrHeld = errors.New("another process has the search index open; " +
	"run one userservice per SEARCH_DIR, or set ES_URL to share Elasticsearch between instances")

var _ search.Index = (*Index)(nil)

// Open opens the index in dir, creating it (and dir) when missing.
func Open(dir string) (*Index, error) {
	if dir == "" {
		return nil, errors.New("open search index: no directory")
	}
	dir = filepath.Clean(dir)
	if err := os.MkdirAll(filepath.Dir(dir), 0o750); err != nil {
		return nil, fmt.Errorf("create search index %s: %w", dir, err)
	}
	unlock, err := filelock.TryLock(dir + ".lock")
	if errors.Is(err, filelock.ErrLocked) {
		return nil, fmt.Errorf("open search index %s: %w", dir, ErrHeld)
	}
	if err != nil {
		return nil, fmt.Errorf("open search index %s: %w", dir, err)
	}
	idx, err := bleve.Open(dir)
	if errors.Is(err, bleve.ErrorIndexPathDoesNotExist) {
		m, merr := indexMapping()
		if merr != nil {
			unlock()
			return nil, merr
		}
		idx, err = bleve.New(dir, m)
	}
	if err != nil {
		unlock()
		return nil, fmt.Errorf("open search index %s: %w", dir, err)
	}
	return &Index{idx: idx, unlock: unlock}, nil
}

func indexMapping() (*mapping.IndexMappingImpl, error) {
	m := bleve.NewIndexMapping()
	if err := m.AddCustomAnalyzer(analyzerBigram, map[string]any{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": []any{cjk.WidthName, lowercase.Name, cjk.BigramName},
	}); err != nil {
		return nil, fmt.Errorf("search mapping: %w", err)
	}
	if err := m.AddCustomAnalyzer(analyzerWords, map[string]any{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": []any{cjk.WidthName, lowercase.Name},
	}); err != nil {
		return nil, fmt.Errorf("search mapping: %w", err)
	}

	text := func(analyzer string) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Store, f.IncludeTermVectors, f.IncludeInAll, f.DocValues = false, false, false, false
		return f
	}
	keyword := func(docValues bool) *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Store, f.IncludeTermVectors, f.IncludeInAll, f.DocValues = false, false, false, docValues
		return f
	}
	doc := bleve.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt(search.FieldKind, keyword(false))
	doc.AddFieldMappingsAt(search.FieldName, text(analyzerBigram))
	doc.AddFieldMappingsAt(search.FieldNameWords, text(analyzerWords))
	doc.AddFieldMappingsAt(search.FieldEmail, keyword(false))
	doc.AddFieldMappingsAt(search.FieldSortID, keyword(true)) // sorted on
	m.DefaultMapping = doc
	m.StoreDynamic, m.IndexDynamic, m.DocValuesDynamic = false, false, false
	return m, nil
}

// Put implements search.Index.
func (x *Index) Put(_ context.Context, doc search.Doc) error {
	if err := doc.Validate(); err != nil {
		return err
	}
	id := search.DocID(doc.Kind, doc.ID)
	if err := x.idx.Index(id, doc.Fields()); err != nil {
		return fmt.Errorf("index %s: %w", id, err)
	}
	return nil
}

// Delete implements search.Index.
func (x *Index) Delete(_ context.Context, kind search.Kind, id int64) error {
	if !kind.Valid() {
		return fmt.Errorf("%w: unknown kind %q", search.ErrInvalid, kind)
	}
	docID := search.DocID(kind, id)
	if err := x.idx.Delete(docID); err != nil {
		return fmt.Errorf("delete %s: %w", docID, err)
	}
	return nil
}

// Search implements search.Index.
func (x *Index) Search(ctx context.Context, kind search.Kind, q string, limit int, after string) (search.Page, error) {
	pq, err := search.ParseQuery(kind, q, limit, after)
	if err != nil {
		return search.Page{}, err
	}
	if pq.Empty() {
		return search.Page{}, nil
	}
	req := bleve.NewSearchRequestOptions(toQuery(pq), pq.Window(), pq.Offset, false)
	req.SortBy([]string{"-_score", search.FieldSortID})
	res, err := x.idx.SearchInContext(ctx, req)
	if err != nil {
		return search.Page{}, fmt.Errorf("search %s %q: %w", kind, q, err)
	}
	page := search.Page{Next: pq.NextCursor(len(res.Hits))}
	for i, h := range res.Hits {
		if i == pq.Limit {
			break
		}
		_, id, err := search.ParseDocID(h.ID)
		if err != nil {
			return search.Page{}, fmt.Errorf("search %s: %w", kind, err)
		}
		page.IDs = append(page.IDs, id)
	}
	return page, nil
}

func toQuery(pq search.Query) query.Query {
	term := func(field, value string) query.Query {
		t := query.NewTermQuery(value)
		t.SetField(field)
		return t
	}
	must := []query.Query{term(search.FieldKind, string(pq.Kind))}
	if pq.EmailHash != "" {
		return query.NewConjunctionQuery(append(must, term(search.FieldEmail, pq.EmailHash)))
	}
	for _, p := range pq.Prefixes {
		q := query.NewPrefixQuery(p)
		q.SetField(search.FieldNameWords)
		must = append(must, q)
	}
	for _, r := range pq.Runs {
		q := query.NewMatchQuery(r)
		q.SetField(search.FieldName)
		q.SetOperator(query.MatchQueryOperatorAnd)
		must = append(must, q)
	}
	// Optional: whole words and bigrams of the name add to the score.
	whole := query.NewMatchQuery(pq.Text)
	whole.SetField(search.FieldName)
	whole.SetBoost(2)
	return query.NewBooleanQuery(must, []query.Query{whole}, nil)
}

// Close implements search.Index.
func (x *Index) Close() error {
	err := x.idx.Close()
	x.unlock() // after bleve's close: the next Open finds the index whole
	if err != nil {
		return fmt.Errorf("close search index: %w", err)
	}
	return nil
}
