// Package elastic is the search.Index on Elasticsearch 8 (or a server that
// speaks its API, such as zincsearch, which the tests use), chosen when ES_URL
// is set. Several UserService replicas can share it, unlike search/bleve.
//
// All kinds live in one index (Options.Index) with a keyword field "kind";
// New creates it with its mappings when it is missing. The analyzers use only
// the standard tokenizer and the lowercase, cjk_width and cjk_bigram filters,
// which Elasticsearch and zincsearch both accept, and mirror search/bleve's.
// The index has one shard so that scores, and so the order of results, do not
// depend on which shard a document landed in.
//
// Elasticsearch is near-real-time: a write is searchable after the next
// refresh, about a second later. Writes do not ask for ?refresh=wait_for:
// sign-up and profile changes should not wait on the index, and zincsearch
// refreshes asynchronously whatever is asked; the tests poll instead.
//
// It may import go-elasticsearch's esapi, its transport and the search package only.
package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/elastic/elastic-transport-go/v8/elastictransport"
	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/privateim/privateim/userservice/internal/search"
)

// DefaultIndex is the index name when Options.Index is empty.
const DefaultIndex = "privateim-search"

// Options configure New.
type Options struct {
	// URL of the server, e.g. http://127.0.0.1:9200; user:password in the
	// URL is used for basic authentication (and never logged).
	URL string
	// Index is the index name; DefaultIndex when empty.
	Index string
	Log   *slog.Logger
}

// Index is a search.Index on an Elasticsearch index. Safe for concurrent use.
type Index struct {
	// es is the bare transport the esapi requests run on. The package
	// go-elasticsearch/v8 itself is not imported: it pulls in the typed
	// API (over 2,000 generated files), which took minutes of a cold
	// `make test` to compile with -race, and the typed API is unused here.
	es    *elastictransport.Client
	index string
	log   *slog.Logger
	// zinc is set when the server is zincsearch, whose dialect differs:
	// see scoreSort and Delete.
	zinc bool
}

var _ search.Index = (*Index)(nil)

// New connects and creates the index when missing.
func New(ctx context.Context, opt Options) (*Index, error) {
	u, err := url.Parse(opt.URL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("elasticsearch: URL must be http(s)://host[:port][/path]")
	}
	cfg := elastictransport.Config{}
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
		u.User = nil
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	cfg.URLs = []*url.URL{u}
	es, err := elastictransport.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("elasticsearch client: %w", err)
	}
	x := &Index{es: es, index: opt.Index, log: opt.Log}
	if x.index == "" {
		x.index = DefaultIndex
	}
	if x.log == nil {
		x.log = slog.New(slog.DiscardHandler)
	}
	if x.zinc, err = x.isZincsearch(ctx); err != nil {
		return nil, err
	}
	if err := x.ensureIndex(ctx); err != nil {
		return nil, err
	}
	return x, nil
}

// isZincsearch asks the server who it is: zincsearch answers the root
// request as node "zinc" with no Lucene version.
func (x *Index) isZincsearch(ctx context.Context) (bool, error) {
	res, err := esapi.InfoRequest{}.Do(ctx, x.es)
	if err != nil {
		return false, fmt.Errorf("elasticsearch info: %w", err)
	}
	defer drain(res)
	if res.IsError() {
		return false, fmt.Errorf("elasticsearch info: %w", responseError(res))
	}
	var info struct {
		Name    string `json:"name"`
		Version struct {
			Lucene string `json:"lucene_version"`
		} `json:"version"`
	}
	if err := json.NewDecoder(res.Body).Decode(&info); err != nil {
		return false, fmt.Errorf("elasticsearch info: %w", err)
	}
	return info.Name == "zinc" && info.Version.Lucene == "N/A", nil
}

// scoreSort sorts by descending score. zincsearch reads {"_score": ...} as a
// (missing) field and "_score" as ascending; it takes bluge's "-_score".
func (x *Index) scoreSort() any {
	if x.zinc {
		return "-_score"
	}
	return map[string]any{"_score": map[string]any{"order": "desc"}}
}

// settings are the index's analysis, mappings and shard count.
func settings() map[string]any {
	text := func(analyzer string) map[string]any {
		return map[string]any{"type": "text", "analyzer": analyzer}
	}
	keyword := map[string]any{"type": "keyword"}
	return map[string]any{
		"settings": map[string]any{
			"number_of_shards":   1,
			"number_of_replicas": 0,
			"analysis": map[string]any{
				"analyzer": map[string]any{
					"privateim_name_bigram": map[string]any{
						"type":      "custom",
						"tokenizer": "standard",
						"filter":    []string{"cjk_width", "lowercase", "cjk_bigram"},
					},
					"privateim_name_words": map[string]any{
						"type":      "custom",
						"tokenizer": "standard",
						"filter":    []string{"cjk_width", "lowercase"},
					},
				},
			},
		},
		"mappings": map[string]any{
			"dynamic": false,
			"properties": map[string]any{
				search.FieldKind:      keyword,
				search.FieldName:      text("privateim_name_bigram"),
				search.FieldNameWords: text("privateim_name_words"),
				search.FieldEmail:     keyword,
				search.FieldSortID:    keyword,
			},
		},
	}
}

func (x *Index) ensureIndex(ctx context.Context) error {
	res, err := esapi.IndicesExistsRequest{Index: []string{x.index}}.Do(ctx, x.es)
	if err != nil {
		return fmt.Errorf("check index %s: %w", x.index, err)
	}
	drain(res)
	switch res.StatusCode {
	case http.StatusOK:
		return nil
	case http.StatusNotFound:
	default:
		return fmt.Errorf("check index %s: status %d", x.index, res.StatusCode)
	}
	body, err := json.Marshal(settings())
	if err != nil {
		return fmt.Errorf("create index %s: %w", x.index, err)
	}
	res, err = esapi.IndicesCreateRequest{Index: x.index, Body: bytes.NewReader(body)}.Do(ctx, x.es)
	if err != nil {
		return fmt.Errorf("create index %s: %w", x.index, err)
	}
	defer drain(res)
	if res.IsError() {
		e := responseError(res)
		// Another replica created it between the check and now.
		if strings.Contains(e.Error(), "resource_already_exists_exception") || strings.Contains(e.Error(), "already exists") {
			return nil
		}
		return fmt.Errorf("create index %s: %w", x.index, e)
	}
	x.log.Info("search index created", "index", x.index)
	return nil
}

// Put implements search.Index.
func (x *Index) Put(ctx context.Context, doc search.Doc) error {
	if err := doc.Validate(); err != nil {
		return err
	}
	id := search.DocID(doc.Kind, doc.ID)
	body, err := json.Marshal(doc.Fields())
	if err != nil {
		return fmt.Errorf("index %s: %w", id, err)
	}
	res, err := esapi.IndexRequest{
		Index: x.index, DocumentID: id, Body: bytes.NewReader(body),
	}.Do(ctx, x.es)
	if err != nil {
		return fmt.Errorf("index %s: %w", id, err)
	}
	defer drain(res)
	if res.IsError() {
		return fmt.Errorf("index %s: %w", id, responseError(res))
	}
	return nil
}

// Delete implements search.Index.
func (x *Index) Delete(ctx context.Context, kind search.Kind, id int64) error {
	if !kind.Valid() {
		return fmt.Errorf("%w: unknown kind %q", search.ErrInvalid, kind)
	}
	docID := search.DocID(kind, id)
	res, err := esapi.DeleteRequest{Index: x.index, DocumentID: docID}.Do(ctx, x.es)
	if err != nil {
		return fmt.Errorf("delete %s: %w", docID, err)
	}
	defer drain(res)
	if res.IsError() && res.StatusCode != http.StatusNotFound {
		err := responseError(res)
		// zincsearch answers 400 "id not found" where Elasticsearch says 404.
		if x.zinc && res.StatusCode == http.StatusBadRequest && strings.Contains(err.Error(), "id not found") {
			return nil
		}
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
	body, err := json.Marshal(map[string]any{
		"query":            toQuery(pq),
		"from":             pq.Offset,
		"size":             pq.Window(),
		"_source":          false,
		"track_total_hits": false,
		"sort": []any{
			x.scoreSort(),
			map[string]any{search.FieldSortID: map[string]any{"order": "asc"}},
		},
	})
	if err != nil {
		return search.Page{}, fmt.Errorf("search %s: %w", kind, err)
	}
	res, err := esapi.SearchRequest{Index: []string{x.index}, Body: bytes.NewReader(body)}.Do(ctx, x.es)
	if err != nil {
		return search.Page{}, fmt.Errorf("search %s: %w", kind, err)
	}
	defer drain(res)
	if res.IsError() {
		return search.Page{}, fmt.Errorf("search %s: %w", kind, responseError(res))
	}
	var out struct {
		Hits struct {
			Hits []struct {
				ID string `json:"_id"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return search.Page{}, fmt.Errorf("search %s: decode response: %w", kind, err)
	}
	hits := out.Hits.Hits
	page := search.Page{Next: pq.NextCursor(len(hits))}
	for i, h := range hits {
		if i == pq.Limit {
			break
		}
		k, id, err := search.ParseDocID(h.ID)
		if err != nil || k != kind {
			return search.Page{}, fmt.Errorf("search %s: unexpected hit %q", kind, h.ID)
		}
		page.IDs = append(page.IDs, id)
	}
	return page, nil
}

// toQuery is search/bleve's query in the query DSL.
func toQuery(pq search.Query) map[string]any {
	filter := []any{map[string]any{"term": map[string]any{search.FieldKind: string(pq.Kind)}}}
	if pq.EmailHash != "" {
		must := []any{map[string]any{"term": map[string]any{search.FieldEmail: pq.EmailHash}}}
		return map[string]any{"bool": map[string]any{"filter": filter, "must": must}}
	}
	var must []any
	for _, p := range pq.Prefixes {
		must = append(must, map[string]any{"prefix": map[string]any{search.FieldNameWords: map[string]any{"value": p}}})
	}
	for _, r := range pq.Runs {
		must = append(must, map[string]any{"match": map[string]any{search.FieldName: map[string]any{"query": r, "operator": "and"}}})
	}
	should := []any{map[string]any{"match": map[string]any{search.FieldName: map[string]any{"query": pq.Text, "boost": 2}}}}
	return map[string]any{"bool": map[string]any{"filter": filter, "must": must, "should": should}}
}

// Close implements search.Index; the client holds no resources of its own.
func (x *Index) Close() error { return nil }

// responseError reads an error response: the status and the server's reason,
// which describes our request, never a user's data.
func responseError(res *esapi.Response) error {
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if json.Unmarshal(b, &e) == nil && len(e.Error) > 0 {
		b = e.Error
	}
	return fmt.Errorf("status %d: %s", res.StatusCode, bytes.TrimSpace(b))
}

// drain lets the connection be reused.
func drain(res *esapi.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
	_ = res.Body.Close()
}
