package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// report is what one workload run against one target measured.
type report struct {
	Workload       string         `json:"workload"`
	Target         string         `json:"target"` // stack or baseline
	Params         map[string]any `json:"params"`
	Seconds        float64        `json:"seconds"`
	Sent           int64          `json:"sent"`
	Acked          int64          `json:"acked"`
	SentPerS       float64        `json:"sent_per_s"`
	AckedPerS      float64        `json:"acked_per_s"`
	DeliveredPerS  float64        `json:"delivered_per_s"`
	Latency        latency        `json:"latency"`                        // send (scheduled) -> delivery, after the warm-up
	LatencyAll     *latency       `json:"latency_whole_window,omitempty"` // with --warmup: the warm-up included
	AckLatency     latency        `json:"ack_latency"`                    // send (scheduled) -> sent frame
	Connect        *connectStats  `json:"connect,omitempty"`
	LastFollowerMs []float64      `json:"last_follower_ms,omitempty"` // broadcast: per post
	Storm          *stormStats    `json:"storm,omitempty"`
	Soak           *soakStats     `json:"soak,omitempty"`
	// CPU is each process's CPU time in the send window (p2p, group), the
	// connects (idle) or the storm, in cores.
	CPU       map[string]float64 `json:"cpu_cores,omitempty"`
	Integrity integrity          `json:"integrity"`
	Baseline  *report            `json:"baseline,omitempty"`
	Ratio     map[string]float64 `json:"ratio_to_baseline,omitempty"`
}

type connectStats struct {
	N            int     `json:"n"`
	Seconds      float64 `json:"seconds"`
	PerS         float64 `json:"per_s"`
	RSSBeforeKB  int64   `json:"rss_before_kb,omitempty"`
	RSSAfterKB   int64   `json:"rss_after_kb,omitempty"`
	RSSPerConnKB float64 `json:"rss_per_conn_kb,omitempty"`
}

type stormStats struct {
	N           int     `json:"n"`
	PushedMs    float64 `json:"pushed_ms"` // all dropped and the notices stored
	AllBackMs   float64 `json:"all_back_ms"`
	AllSyncedMs float64 `json:"all_synced_ms"`
}

// ratios compares the stack with the baseline: throughput as stack /
// baseline (1 = as fast as a bare relay), latency as stack / baseline
// (how many times slower).
func ratios(s, b *report) map[string]float64 {
	out := map[string]float64{}
	div := func(k string, x, y float64) {
		if y > 0 {
			out[k] = round3(x / y)
		}
	}
	div("delivered_per_s", s.DeliveredPerS, b.DeliveredPerS)
	div("acked_per_s", s.AckedPerS, b.AckedPerS)
	div("latency_p50", s.Latency.P50, b.Latency.P50)
	div("latency_p99", s.Latency.P99, b.Latency.P99)
	if s.Connect != nil && b.Connect != nil {
		div("connect_per_s", s.Connect.PerS, b.Connect.PerS)
	}
	if s.Storm != nil && b.Storm != nil {
		div("storm_all_back", s.Storm.AllBackMs, b.Storm.AllBackMs)
	}
	if len(s.LastFollowerMs) > 0 && len(b.LastFollowerMs) > 0 {
		div("last_follower", maxOf(s.LastFollowerMs), maxOf(b.LastFollowerMs))
	}
	return out
}

func maxOf(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

func writeJSON(w io.Writer, r *report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeTable prints the human report: the stack's column, and the
// baseline's and the ratio when there is one.
func writeTable(w io.Writer, r *report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := []string{"", r.Target}
	rows := [][]string{}
	add := func(name string, f func(*report) string) {
		row := []string{name, f(r)}
		if r.Baseline != nil {
			row = append(row, f(r.Baseline))
		}
		rows = append(rows, row)
	}
	if r.Baseline != nil {
		head = append(head, r.Baseline.Target)
	}
	num := func(v float64) string { return fmt.Sprintf("%.1f", v) }
	add("seconds", func(x *report) string { return num(x.Seconds) })
	if r.Sent > 0 {
		add("sent", func(x *report) string { return fmt.Sprint(x.Sent) })
		if r.SentPerS > 0 { // a send loop ran (p2p, group)
			add("sent/s", func(x *report) string { return num(x.SentPerS) })
			add("sent-acked/s", func(x *report) string { return num(x.AckedPerS) })
		}
		add("delivered/s", func(x *report) string { return num(x.DeliveredPerS) })
		add("latency p50 ms", func(x *report) string { return num(x.Latency.P50) })
		add("latency p90 ms", func(x *report) string { return num(x.Latency.P90) })
		add("latency p99 ms", func(x *report) string { return num(x.Latency.P99) })
		add("latency max ms", func(x *report) string { return num(x.Latency.Max) })
		add("ack p99 ms", func(x *report) string { return num(x.AckLatency.P99) })
		if r.LatencyAll != nil {
			whole := func(f func(latency) float64) func(*report) string {
				return func(x *report) string {
					if x.LatencyAll == nil {
						return "-"
					}
					return num(f(*x.LatencyAll))
				}
			}
			add("with warm-up: p50 ms", whole(func(l latency) float64 { return l.P50 }))
			add("with warm-up: p99 ms", whole(func(l latency) float64 { return l.P99 }))
			add("with warm-up: max ms", whole(func(l latency) float64 { return l.Max }))
		}
	}
	for _, name := range cpuNames(r) {
		add("cpu cores "+name, func(x *report) string {
			if v, ok := x.CPU[name]; ok {
				return fmt.Sprintf("%.2f", v)
			}
			return "-"
		})
	}
	if r.Connect != nil {
		add("connections", func(x *report) string { return fmt.Sprint(x.Connect.N) })
		add("connects/s", func(x *report) string { return num(x.Connect.PerS) })
		if r.Connect.RSSAfterKB > 0 {
			add("server RSS KB", func(x *report) string { return fmt.Sprintf("%d -> %d", x.Connect.RSSBeforeKB, x.Connect.RSSAfterKB) })
			add("RSS KB/conn", func(x *report) string { return num(x.Connect.RSSPerConnKB) })
		}
	}
	if len(r.LastFollowerMs) > 0 {
		add("last follower ms", func(x *report) string {
			parts := make([]string, len(x.LastFollowerMs))
			for i, v := range x.LastFollowerMs {
				parts[i] = num(v)
			}
			return strings.Join(parts, " ")
		})
	}
	if r.Storm != nil {
		add("dropped+pushed ms", func(x *report) string { return num(x.Storm.PushedMs) })
		add("all back ms", func(x *report) string { return num(x.Storm.AllBackMs) })
		add("all synced ms", func(x *report) string { return num(x.Storm.AllSyncedMs) })
	}
	in := func(f func(integrity) int64) func(*report) string {
		return func(x *report) string { return fmt.Sprint(f(x.Integrity)) }
	}
	add("integrity: sent", in(func(i integrity) int64 { return i.Sent }))
	add("  acked (sent frame)", in(func(i integrity) int64 { return i.Acked }))
	add("  stored (read back)", func(x *report) string {
		if x.Integrity.Stored < 0 {
			return "-"
		}
		return fmt.Sprint(x.Integrity.Stored)
	})
	add("  not stored", in(func(i integrity) int64 { return i.StoredMissing }))
	add("  deliveries owed", in(func(i integrity) int64 { return i.Expected }))
	add("  delivered", in(func(i integrity) int64 { return i.Delivered }))
	add("  missing", in(func(i integrity) int64 { return i.Missing }))
	add("  duplicates", in(func(i integrity) int64 { return i.Duplicates }))
	add("    of acked seqs", in(func(i integrity) int64 { return i.DupAfterAck }))
	add("  echoed to sender", in(func(i integrity) int64 { return i.Echoed }))
	add("  not owed", in(func(i integrity) int64 { return i.Unowed }))
	add("  errors", in(func(i integrity) int64 { return i.Errors }))
	add("  ok", func(x *report) string { return fmt.Sprint(x.Integrity.OK) })

	fmt.Fprintf(w, "%s %s\n", r.Workload, paramString(r.Params))
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for _, row := range rows {
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Ratio) > 0 {
		fmt.Fprintf(w, "ratio to baseline:")
		for _, k := range sortedKeys(r.Ratio) {
			fmt.Fprintf(w, " %s %.3g", k, r.Ratio[k])
		}
		fmt.Fprintln(w)
	}
	if r.Soak != nil {
		for _, row := range soakRows(r.Soak) {
			fmt.Fprintln(w, row)
		}
	}
	for _, x := range []*report{r, r.Baseline} {
		if x != nil {
			for _, p := range x.Integrity.Problems {
				fmt.Fprintf(w, "%s: %s\n", x.Target, p)
			}
		}
	}
	return nil
}

// cpuNames are the processes of the stack's and the baseline's CPU
// figures, total last.
func cpuNames(r *report) []string {
	set := map[string]bool{}
	for _, x := range []*report{r, r.Baseline} {
		if x != nil {
			for k := range x.CPU {
				set[k] = true
			}
		}
	}
	delete(set, "total")
	names := slices.Sorted(maps.Keys(set))
	if len(names) > 0 {
		names = append(names, "total")
	}
	return names
}

func paramString(p map[string]any) string {
	var parts []string
	for _, k := range sortedKeys(p) {
		parts = append(parts, fmt.Sprintf("%s=%v", k, p[k]))
	}
	return strings.Join(parts, " ")
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
