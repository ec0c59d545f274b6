// Package metricstest reads what the services export, for tests: a scrape
// of a real GET /metrics (Scrape), and the metric names that the Grafana
// dashboards and Prometheus rules of deploy/ use (DeployNames), so a test
// checks that every one of them exists.
package metricstest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
)

// Samples are the series of one scrape: `name{labels}` as the exposition
// text writes it (labels in its order) -> value.
type Samples map[string]float64

// Scrape gets http://addr/metrics and parses the text format.
func Scrape(tb testing.TB, addr string) Samples {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("scrape %s: %v", addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		tb.Fatalf("scrape %s: %s: %s", addr, resp.Status, b)
	}
	s, err := Parse(resp.Body)
	if err != nil {
		tb.Fatalf("scrape %s: %v", addr, err)
	}
	return s
}

// Parse reads the Prometheus text format.
func Parse(r io.Reader) (Samples, error) {
	out := Samples{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			return nil, fmt.Errorf("line %q: no value", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out, sc.Err()
}

// Name is the metric name of a series key.
func Name(series string) string {
	if i := strings.IndexByte(series, '{'); i >= 0 {
		return series[:i]
	}
	return series
}

// Sum adds the series of metric name that carry every label pair of
// labels (`grpc_method="CheckToken"`), and reports whether any did.
func (s Samples) Sum(name string, labels ...string) (float64, bool) {
	total, found := 0.0, false
	for k, v := range s {
		if Name(k) != name {
			continue
		}
		ok := true
		for _, l := range labels {
			if !strings.Contains(k, l) {
				ok = false
				break
			}
		}
		if ok {
			total += v
			found = true
		}
	}
	return total, found
}

// Names are the metric names of the scrape.
func (s Samples) Names() map[string]bool {
	out := map[string]bool{}
	for k := range s {
		out[Name(k)] = true
	}
	return out
}

// Use is one metric name an expression of a deploy file uses.
type Use struct {
	File, Where, Metric string
}

// DeployNames reads every Grafana dashboard (dir/grafana/*.json) and
// Prometheus rule file (dir/prometheus/*.yml) and returns the metric names
// their expressions use, with where.
func DeployNames(dir string) ([]Use, error) {
	var out []Use
	dashboards, _ := filepath.Glob(filepath.Join(dir, "grafana", "*.json"))
	rules, _ := filepath.Glob(filepath.Join(dir, "prometheus", "*.yml"))
	if len(dashboards) == 0 || len(rules) == 0 {
		return nil, fmt.Errorf("%s: want grafana/*.json and prometheus/*.yml, found %d and %d", dir, len(dashboards), len(rules))
	}
	for _, f := range dashboards {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var d dashboard
		if err := yaml.Unmarshal(b, &d); err != nil { // JSON is YAML
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if d.Title == "" || len(d.Panels) == 0 {
			return nil, fmt.Errorf("%s: a dashboard wants a title and panels", f)
		}
		for _, p := range d.Panels {
			if len(p.Targets) == 0 && p.Type != "row" {
				return nil, fmt.Errorf("%s: panel %q has no targets", f, p.Title)
			}
			for _, t := range p.Targets {
				for _, m := range ExprNames(t.Expr) {
					out = append(out, Use{File: filepath.Base(f), Where: "panel " + p.Title, Metric: m})
				}
			}
		}
	}
	for _, f := range rules {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var rf ruleFile
		if err := yaml.UnmarshalWithOptions(b, &rf, yaml.Strict()); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				if r.Alert == "" || r.Expr == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["runbook"] == "" {
					return nil, fmt.Errorf("%s: group %s: rule %q wants alert, expr, labels.severity, annotations.summary and annotations.runbook", f, g.Name, r.Alert)
				}
				for _, m := range ExprNames(r.Expr) {
					out = append(out, Use{File: filepath.Base(f), Where: "alert " + r.Alert, Metric: m})
				}
			}
		}
	}
	return out, nil
}

type dashboard struct {
	Title  string `yaml:"title"`
	Panels []struct {
		Title   string `yaml:"title"`
		Type    string `yaml:"type"`
		Targets []struct {
			Expr string `yaml:"expr"`
		} `yaml:"targets"`
	} `yaml:"panels"`
}

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// keywords of PromQL that read like metric names, and the aggregations,
// which may stand before "by (...)" rather than "(".
var keywords = []string{"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan",
	"sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values", "group"}

// ExprNames are the metric names a PromQL expression selects: the
// identifiers that are neither functions (followed by "("), keywords,
// label names (inside {} or the () of by/without/on/ignoring), strings,
// durations nor numbers.
func ExprNames(expr string) []string {
	var out []string
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for j < len(expr) && expr[j] != c {
				if expr[j] == '\\' {
					j++
				}
				j++
			}
			i = j + 1
		case c == '{' || c == '[':
			end := byte('}')
			if c == '[' {
				end = ']'
			}
			for i < len(expr) && expr[i] != end {
				if q := expr[i]; q == '"' {
					i++
					for i < len(expr) && expr[i] != '"' {
						if expr[i] == '\\' {
							i++
						}
						i++
					}
				}
				i++
			}
			i++
		case isIdentStart(c):
			j := i
			for j < len(expr) && isIdent(expr[j]) {
				j++
			}
			word := expr[i:j]
			k := j
			for k < len(expr) && expr[k] == ' ' {
				k++
			}
			switch {
			case slices.Contains(keywords, strings.ToLower(word)):
				if word == "by" || word == "without" || word == "on" || word == "ignoring" || word == "group_left" || word == "group_right" {
					if k < len(expr) && expr[k] == '(' { // a label list
						for k < len(expr) && expr[k] != ')' {
							k++
						}
						j = k + 1
					}
				}
			case k < len(expr) && expr[k] == '(':
				// a function or aggregation
			default:
				if !slices.Contains(out, word) {
					out = append(out, word)
				}
			}
			i = j
		case c >= '0' && c <= '9':
			for i < len(expr) && (isIdent(expr[i]) || expr[i] == '.') {
				i++ // a number or a duration (5m, 1e3)
			}
		default:
			i++
		}
	}
	return out
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdent(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }
