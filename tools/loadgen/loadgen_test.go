package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// runJSON runs loadgen with args (plus --json --quiet) and decodes the
// report; it returns the exit status too.
func runJSON(t *testing.T, drop func(u *user, conv string, seq int64) bool, args ...string) (*report, int) {
	t.Helper()
	cfg, err := parseConfig(append(args, "--json", "--quiet"), os.Stderr, os.Getenv)
	if err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	cfg.drop = drop
	var out, errOut bytes.Buffer
	log := slog.New(slog.NewTextHandler(&errOut, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	code := runConfig(ctx, cfg, log, &out, &errOut)
	if code == 2 {
		t.Fatalf("loadgen %v failed:\n%s", args, errOut.String())
	}
	var rep report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report %q: %v\n%s", out.String(), err, errOut.String())
	}
	return &rep, code
}

// checkIntegrity asserts nothing was lost or doubled and the counts add
// up: every message sent was acked, stored (when the target stores) and
// delivered to each receiver once.
func checkIntegrity(t *testing.T, rep *report, wantSent, wantOwed int64) {
	t.Helper()
	in := rep.Integrity
	if !in.OK || in.Missing != 0 || in.Duplicates != 0 || in.Echoed != 0 || in.Unowed != 0 || in.StoredMissing != 0 || in.Errors != 0 {
		t.Errorf("%s %s integrity = %+v", rep.Target, rep.Workload, in)
	}
	if in.Sent != wantSent || in.Acked != wantSent || in.Unacked != 0 {
		t.Errorf("%s: sent %d acked %d unacked %d, want %d each acked", rep.Target, in.Sent, in.Acked, in.Unacked, wantSent)
	}
	if in.Expected != wantOwed || in.Delivered != wantOwed {
		t.Errorf("%s: deliveries owed %d delivered %d, want %d; %q", rep.Target, in.Expected, in.Delivered, wantOwed, in.Problems)
	}
	if rep.Target == "stack" && in.Stored != wantSent {
		t.Errorf("stored %d, want %d", in.Stored, wantSent)
	}
	if rep.Target == "baseline" && in.Stored != -1 {
		t.Errorf("baseline stored %d, want -1 (stores nothing)", in.Stored)
	}
}

// TestWorkloadsLocal runs every workload end to end with --local (the real
// binaries on a fresh database) at tiny sizes.
func TestWorkloadsLocal(t *testing.T) {
	t.Run("p2p open loop", func(t *testing.T) {
		rep, code := runJSON(t, nil, "p2p", "--local", "--pairs", "5", "--rate", "50", "--duration", "2s")
		// 5 pairs at 10 msg/s each for 2 s.
		checkIntegrity(t, rep, 100, 100)
		if code != 0 || rep.Latency.Count != 100 || rep.AckLatency.Count != 100 || rep.Latency.P99 <= 0 {
			t.Errorf("exit %d, latency %+v, ack latency %+v", code, rep.Latency, rep.AckLatency)
		}
		// The send window's CPU of each child process and of loadgen; the
		// total is their sum.
		sum := 0.0
		for _, name := range []string{"messageservice", "dataservice", "userservice", "loadgen"} {
			v, ok := rep.CPU[name]
			if !ok || v < 0 {
				t.Errorf("cpu %s = %v, %v; report %v", name, v, ok, rep.CPU)
			}
			sum += v
		}
		if rep.CPU["total"] < sum-0.05 {
			t.Errorf("cpu %v: total below the sum of the processes", rep.CPU)
		}
	})
	t.Run("p2p warm-up", func(t *testing.T) {
		// 4 pairs at 10 msg/s each for 2 s, the first second left out of
		// the latency figures: 40 of the 80 deliveries count, all 80 are
		// checked and in the whole window's figures.
		rep, code := runJSON(t, nil, "p2p", "--local", "--pairs", "4", "--rate", "40", "--duration", "2s", "--warmup", "1s")
		checkIntegrity(t, rep, 80, 80)
		all := rep.LatencyAll
		if code != 0 || all == nil || all.Count != 80 || rep.Latency.Count != 40 || rep.AckLatency.Count != 40 || rep.Params["warmup"] != "1s" {
			t.Errorf("exit %d, latency %+v, whole window %+v, ack latency %+v, params %v", code, rep.Latency, all, rep.AckLatency, rep.Params)
		}
	})
	t.Run("p2p closed loop", func(t *testing.T) {
		rep, code := runJSON(t, nil, "p2p", "--local", "--pairs", "3", "--window", "2", "--duration", "1s")
		if code != 0 || rep.Sent == 0 || rep.Params["window"] != float64(2) {
			t.Fatalf("exit %d, report %+v", code, rep)
		}
		checkIntegrity(t, rep, rep.Sent, rep.Sent)
	})
	t.Run("group", func(t *testing.T) {
		rep, code := runJSON(t, nil, "group", "--local", "--members", "10", "--publishers", "3", "--rate", "30", "--duration", "1s")
		// 30 messages, each owed to the 9 other members.
		checkIntegrity(t, rep, 30, 30*9)
		if code != 0 {
			t.Errorf("exit %d", code)
		}
	})
	t.Run("broadcast", func(t *testing.T) {
		rep, code := runJSON(t, nil, "broadcast", "--local", "--followers", "20", "--posts", "2")
		checkIntegrity(t, rep, 2, 2*20)
		if code != 0 || len(rep.LastFollowerMs) != 2 || rep.LastFollowerMs[0] <= 0 {
			t.Errorf("exit %d, last follower %v", code, rep.LastFollowerMs)
		}
	})
	t.Run("storm", func(t *testing.T) {
		rep, code := runJSON(t, nil, "storm", "--local", "-n", "20")
		// One notice pushed to each while they were away.
		checkIntegrity(t, rep, 20, 20)
		if code != 0 || rep.Storm == nil || rep.Storm.N != 20 || rep.Storm.AllSyncedMs < rep.Storm.AllBackMs {
			t.Errorf("exit %d, storm %+v", code, rep.Storm)
		}
	})
	t.Run("fast path", func(t *testing.T) {
		// Relations written to the DataService directly: the messageservice
		// reads them on its first cache miss.
		rep, code := runJSON(t, nil, "group", "--local", "--fast", "--members", "6", "--publishers", "2", "--rate", "20", "--duration", "1s")
		checkIntegrity(t, rep, 20, 20*5)
		if code != 0 || rep.Params["fast"] != true {
			t.Errorf("exit %d, params %v", code, rep.Params)
		}
	})
	t.Run("idle", func(t *testing.T) {
		rep, code := runJSON(t, nil, "idle", "--local", "-n", "20", "--duration", "0s")
		checkIntegrity(t, rep, 0, 0)
		c := rep.Connect
		if code != 0 || c == nil || c.N != 20 || c.PerS <= 0 || c.RSSAfterKB <= 0 {
			t.Errorf("exit %d, connect %+v", code, c)
		}
	})
}

// TestBaseline: the relay with the same clients, alone and next to the
// stack (the ratio is reported).
func TestBaseline(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		sent, owed int64
	}{
		{[]string{"p2p", "--pairs", "4", "--rate", "40", "--duration", "1s"}, 40, 40},
		{[]string{"group", "--members", "10", "--publishers", "2", "--rate", "20", "--duration", "1s"}, 20, 20 * 9},
		{[]string{"broadcast", "--followers", "15", "--posts", "2"}, 2, 30},
		{[]string{"storm", "-n", "15"}, 15, 15},
		{[]string{"idle", "-n", "15", "--duration", "0s"}, 0, 0},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			rep, code := runJSON(t, nil, append(tc.args, "--baseline-only")...)
			if code != 0 || rep.Target != "baseline" {
				t.Fatalf("exit %d, target %s", code, rep.Target)
			}
			checkIntegrity(t, rep, tc.sent, tc.owed)
		})
	}
	t.Run("next to the stack", func(t *testing.T) {
		rep, code := runJSON(t, nil, "p2p", "--local", "--baseline", "--pairs", "3", "--rate", "30", "--duration", "1s")
		if code != 0 || rep.Baseline == nil || rep.Baseline.Target != "baseline" {
			t.Fatalf("exit %d, baseline %+v", code, rep.Baseline)
		}
		checkIntegrity(t, rep, 30, 30)
		checkIntegrity(t, rep.Baseline, 30, 30)
		if rep.Ratio["latency_p50"] <= 0 || rep.Ratio["delivered_per_s"] <= 0 {
			t.Errorf("ratio = %v", rep.Ratio)
		}
	})
}

// TestInjectedFault: a client that loses one delivery must make the
// integrity check fail, name the receiver and seq, and exit 1.
func TestInjectedFault(t *testing.T) {
	var receiver atomic.Value // string: the id of the user losing it
	drop := func(u *user, conv string, seq int64) bool {
		if u.idx == 1 && seq == 3 { // pair 0's receiver loses seq 3, every time
			receiver.Store(u.id)
			return true
		}
		return false
	}
	for _, target := range []string{"--local", "--baseline-only"} {
		t.Run(target, func(t *testing.T) {
			receiver.Store("")
			rep, code := runJSON(t, drop, "p2p", target, "--pairs", "2", "--rate", "20", "--duration", "1s", "--drain", "2s")
			in := rep.Integrity
			if code != 1 || in.OK || in.Missing != 1 || in.Duplicates != 0 {
				t.Fatalf("exit %d, integrity %+v", code, in)
			}
			if len(in.Problems) != 1 || !strings.Contains(in.Problems[0], "missing: user "+receiver.Load().(string)+" ") || !strings.HasSuffix(in.Problems[0], " seq 3") {
				t.Errorf("problems = %q (receiver %s)", in.Problems, receiver)
			}
		})
	}
}

func TestDuplicateCounted(t *testing.T) {
	// A receiver that got a seq twice is reported, by seq.
	l := newLedger()
	a, b := &user{idx: 0, id: "1", rx: newReceiver()}, &user{idx: 1, id: "2", rx: newReceiver()}
	l.conv("u:1:2", []*user{a, b})
	l.ack("u:1:2", 1, 0)
	l.ack("u:1:2", 2, 0)
	l.ack("u:1:2", 2, 0) // a re-sent client_msg_id: owed once
	b.rx.record("u:1:2", 1)
	b.rx.record("u:1:2", 2)
	b.rx.record("u:1:2", 2)
	in := l.check(context.Background(), 3, 0, nil)
	if in.OK || in.Duplicates != 1 || in.Missing != 0 || in.Expected != 2 || in.Delivered != 3 || in.Acked != 2 {
		t.Fatalf("integrity = %+v", in)
	}
	if len(in.Problems) != 1 || in.Problems[0] != "duplicate: user 2 u:1:2 seq 2 received 2 times" {
		t.Errorf("problems = %q", in.Problems)
	}
}

func TestParseConfig(t *testing.T) {
	env := func(string) string { return "" }
	for _, bad := range [][]string{{}, {"nope"}, {"p2p", "--pairs", "0"}, {"p2p", "--rate", "0"}, {"group", "--members", "1"}, {"idle", "extra"}, {"p2p", "--warmup", "10s"}, {"group", "--duration", "2s", "--warmup", "-1s"}} {
		var out bytes.Buffer
		if _, err := parseConfig(bad, &out, env); err == nil && len(bad) > 0 {
			t.Errorf("parseConfig(%q) accepted", bad)
		}
	}
	c, err := parseConfig([]string{"p2p", "--pairs", "7", "--window", "3", "--rate", "0"}, &bytes.Buffer{}, func(k string) string {
		if k == "MYSQL_DSN" {
			return "u@tcp(db:3306)/"
		}
		return ""
	})
	if err != nil || c.pairs != 7 || c.window != 3 || c.mysqlDSN != "u@tcp(db:3306)/" || c.wsURL != "ws://127.0.0.1:8081/ws" {
		t.Fatalf("config = %+v, %v", c, err)
	}
}

// TestRunTable: the command line as a person types it, the human table on
// stdout, exit 0; a bad flag exits 2.
func TestRunTable(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"p2p", "--baseline-only", "--pairs", "2", "--rate", "20", "--duration", "1500ms", "--settle", "0"}, &out, &errOut, func(string) string { return "" })
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut.String())
	}
	for _, want := range []string{"p2p duration=1.5s pairs=2 rate=20", "latency p99 ms", "  missing             0", "  ok                  true"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(errOut.String(), "[p2p baseline]") {
		t.Errorf("no progress line on stderr: %q", errOut.String())
	}
	if code := run(context.Background(), []string{"p2p", "--pairs", "x"}, &out, &errOut, func(string) string { return "" }); code != 2 {
		t.Errorf("bad flag: exit %d, want 2", code)
	}
}
