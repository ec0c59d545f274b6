package metricstest

import (
	"slices"
	"strings"
	"testing"
)

func TestExprNames(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`up`, []string{"up"}},
		{`histogram_quantile(0.99, sum by (le) (rate(privateim_chat_delivery_seconds_bucket{job=~"$job"}[5m]))) > 0.5`, []string{"privateim_chat_delivery_seconds_bucket"}},
		{`sum without (instance) (rate(grpc_server_handled_total{grpc_code!="OK"}[$__rate_interval])) / on (job) group_left sum(rate(grpc_server_handled_total[5m]))`, []string{"grpc_server_handled_total"}},
		{`increase(privateim_ws_slow_reader_closes_total[10m]) > 1e2 and max_over_time(up[1m]) == 0`, []string{"privateim_ws_slow_reader_closes_total", "up"}},
		{`a_total offset 5m unless b{x="}"}`, []string{"a_total", "b"}},
	} {
		if got := ExprNames(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("ExprNames(%s) = %v, want %v", tc.expr, got, tc.want)
		}
	}
}

func TestParse(t *testing.T) {
	s, err := Parse(strings.NewReader("# HELP x y\n# TYPE x counter\nx_total{a=\"1\",b=\"two words\"} 3\nx_total{a=\"2\"} 4\ng 1.5e+06\n"))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := s.Sum("x_total"); !ok || v != 7 {
		t.Errorf("Sum x_total = %v %v", v, ok)
	}
	if v, _ := s.Sum("x_total", `b="two words"`); v != 3 {
		t.Errorf("Sum x_total b = %v", v)
	}
	if !s.Names()["g"] || s["g"] != 1.5e6 {
		t.Errorf("g: %v", s)
	}
}
