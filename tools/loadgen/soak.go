package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	messagev1 "github.com/privateim/privateim/protos/message/v1"
)

// soakConfig is the soak workload's own settings; it shares --pairs,
// --members, --rate, --duration and --settle with p2p and group.
type soakConfig struct {
	interval   time.Duration // sample the servers this often
	warmup     time.Duration // samples before this are not judged
	churn      int           // users connecting, syncing and closing over and over
	churnEvery time.Duration // a churn wave starts this often
}

func soakFlags(fs *flag.FlagSet, c *config) {
	fs.IntVar(&c.pairs, "pairs", 50, "friend pairs; the first of each sends to the second")
	fs.IntVar(&c.members, "members", 20, "members of the group; two of them send")
	fs.Float64Var(&c.rate, "rate", 100, "messages per second in all (open loop), p2p and group")
	fs.DurationVar(&c.duration, "duration", 30*time.Minute, "how long the load runs")
	fs.DurationVar(&c.settle, "settle", 500*time.Millisecond, "pause between connecting and sending")
	fs.IntVar(&c.soak.churn, "churn", 20, "users that connect, sync their notices and close, wave after wave")
	fs.DurationVar(&c.soak.churnEvery, "churn-every", 2*time.Second, "a churn wave starts this often")
	fs.DurationVar(&c.soak.interval, "interval", time.Minute, "sample the servers this often")
	fs.DurationVar(&c.soak.warmup, "warmup", 0, "samples before this are not judged (default: a fifth of --duration)")
}

func (s *soakConfig) check(c *config) error {
	switch {
	case c.pairs < 1 || c.members < 2 || s.churn < 0:
		return errors.New("soak: --pairs >= 1, --members >= 2, --churn >= 0")
	case c.rate <= 0 || c.duration <= 0:
		return errors.New("soak: --rate and --duration must be positive")
	case s.interval <= 0 || s.churnEvery <= 0 || s.warmup < 0:
		return errors.New("soak: --interval and --churn-every must be positive, --warmup not negative")
	case c.baseline || c.onlyBase:
		return errors.New("soak samples the stack's servers: no --baseline")
	}
	if s.warmup == 0 {
		s.warmup = c.duration / 5
	}
	return nil
}

func (s soakConfig) params(c config, p map[string]any) {
	p["pairs"], p["members"], p["rate"], p["duration"] = c.pairs, c.members, c.rate, c.duration.String()
	p["churn"], p["churn_every"], p["interval"], p["warmup"] = s.churn, s.churnEvery.String(), s.interval.String(), s.warmup.String()
}

// soakStats is what a soak run reports: the servers sampled every
// interval, and whether goroutines and memory stayed flat.
type soakStats struct {
	Interval string       `json:"interval"`
	Warmup   string       `json:"warmup"`
	Samples  []soakSample `json:"samples"`
	Trends   []trend      `json:"trends"`
	Flat     bool         `json:"flat"`
}

// soakSample is one reading of the servers. The messageservice's own
// figures come from its Stats RPC; the others' RSS from /proc (--local).
type soakSample struct {
	AtS         float64            `json:"at_s"` // since the load started
	Goroutines  int64              `json:"goroutines"`
	HeapMB      float64            `json:"heap_mb"`
	RSSMB       float64            `json:"rss_mb"`
	Connections int64              `json:"connections"`
	OtherRSSMB  map[string]float64 `json:"other_rss_mb,omitempty"` // dataservice, userservice
	Sent        int64              `json:"sent"`
	Delivered   int64              `json:"delivered"`
	Cycles      int64              `json:"churn_cycles"` // connect, sync, close of the churn users so far
}

// trend is one series after the warm-up: the median of its first and of
// its last third, the growth between them, the growth allowed and the
// least-squares slope per minute (informational).
type trend struct {
	Series    string  `json:"series"`
	First     float64 `json:"first_third_median"`
	Last      float64 `json:"last_third_median"`
	Growth    float64 `json:"growth"`
	Allowed   float64 `json:"allowed"`
	PerMinute float64 `json:"slope_per_minute"`
	Flat      bool    `json:"flat"`
}

// flatness judges a series sampled after the warm-up: flat when the
// median of its last third exceeds the median of its first third by no
// more than max(frac of the first, abs). A leak grows steadily, so its last
// third sits above its first by the leak's rate times two thirds of the
// run; medians ignore a single spike (a GC cycle, a churn wave in flight).
func flatness(name string, at, v []float64, frac, abs float64) trend {
	t := trend{Series: name, Flat: true}
	n := len(v)
	if n < 3 {
		return t // too short to judge: the caller requires 3 samples
	}
	k := max(n/3, 1)
	t.First, t.Last = median(v[:k]), median(v[n-k:])
	t.Growth = t.Last - t.First
	t.Allowed = math.Max(frac*t.First, abs)
	t.Flat = t.Growth <= t.Allowed
	t.PerMinute = slope(at, v) * 60
	t.First, t.Last, t.Growth, t.Allowed, t.PerMinute = round1(t.First), round1(t.Last), round1(t.Growth), round1(t.Allowed), round3(t.PerMinute)
	return t
}

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// slope is the least-squares slope of v over x.
func slope(x, v []float64) float64 {
	n := float64(len(v))
	var sx, sv, sxx, sxv float64
	for i := range v {
		sx, sv, sxx, sxv = sx+x[i], sv+v[i], sxx+x[i]*x[i], sxv+x[i]*v[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxv - sx*sv) / d
}

// statsSource reads the messageservice's Stats; the stack backend has one.
type statsSource interface {
	stats(ctx context.Context) (*messagev1.StatsResponse, error)
	otherPIDs() map[string]int
}

func (b *stackBackend) stats(ctx context.Context) (*messagev1.StatsResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return b.msg.Stats(ctx, &messagev1.StatsRequest{})
}

func (b *stackBackend) otherPIDs() map[string]int { return b.others }

// pids are the stack's children other than the messageservice, by name.
func (s *localStack) pids() map[string]int {
	out := map[string]int{}
	for _, p := range s.procs {
		if p.cmd.Process != nil && p.cmd.Process.Pid != s.msgPID {
			out[p.name] = p.cmd.Process.Pid
		}
	}
	return out
}

// soak runs steady p2p and group traffic for cfg.duration while churn
// users connect, sync and close over and over, and samples the servers
// every cfg.interval: goroutines, heap and RSS must stay flat (no leak per
// message, per connection or per cycle), and integrity must hold.
func (r *runner) soak(ctx context.Context, rep *report) error {
	src, ok := r.b.(statsSource)
	if !ok {
		return errors.New("soak needs the stack (its Stats RPC), not the relay")
	}
	nUsers := 2*r.cfg.pairs + r.cfg.members + r.cfg.soak.churn
	us, err := r.b.signUp(ctx, nUsers)
	if err != nil {
		return fmt.Errorf("sign up: %w", err)
	}
	pairUsers, groupUsers, churnUsers := us[:2*r.cfg.pairs], us[2*r.cfg.pairs:2*r.cfg.pairs+r.cfg.members], us[2*r.cfg.pairs+r.cfg.members:]
	pairs := make([][2]*user, r.cfg.pairs)
	for i := range pairs {
		pairs[i] = [2]*user{pairUsers[2*i], pairUsers[2*i+1]}
		r.led.conv(convName(pairs[i][0], pairs[i][1]), pairs[i][:])
	}
	if err := r.b.befriend(ctx, pairs); err != nil {
		return fmt.Errorf("befriend: %w", err)
	}
	gid, err := r.b.newGroup(ctx, groupUsers[0], groupUsers)
	if err != nil {
		return fmt.Errorf("group: %w", err)
	}
	r.led.conv("g:"+gid, groupUsers)
	steady := append(slices.Clone(pairUsers), groupUsers...)
	cs, err := r.connect(ctx, steady)
	if err != nil {
		return err
	}
	senders := make([]sender, 0, len(pairs)+2)
	for i, p := range pairs {
		senders = append(senders, sender{c: cs[2*i], kind: "user", to: p[1].id})
	}
	for i := range min(2, len(groupUsers)) {
		senders = append(senders, sender{c: cs[len(pairUsers)+i], kind: "group", to: gid})
	}

	stopAck := background(ctx, func(ctx context.Context) { acker(ctx, 100*time.Millisecond, r.all) })
	defer stopAck()
	select {
	case <-time.After(r.cfg.settle):
	case <-ctx.Done():
	}

	var (
		mu      sync.Mutex
		samples []soakSample
		cycles  atomic.Int64
	)
	start := time.Now()
	sample := func(ctx context.Context) error {
		st, err := src.stats(ctx)
		if err != nil {
			return fmt.Errorf("stats: %w", err)
		}
		s := soakSample{
			AtS: round3(time.Since(start).Seconds()), Goroutines: st.GetGoroutines(),
			HeapMB: round1(float64(st.GetHeapBytes()) / (1 << 20)), RSSMB: round1(float64(st.GetRssBytes()) / (1 << 20)),
			Connections: st.GetConnections(), Sent: r.sent.Load(), Delivered: r.delivered(), Cycles: cycles.Load(),
		}
		for name, pid := range src.otherPIDs() {
			if v, err := readRSS(pid); err == nil {
				if s.OtherRSSMB == nil {
					s.OtherRSSMB = map[string]float64{}
				}
				s.OtherRSSMB[name] = round1(float64(v) / (1 << 20))
			}
		}
		mu.Lock()
		samples = append(samples, s)
		mu.Unlock()
		if !r.cfg.quiet {
			fmt.Fprintf(r.stderr, "[soak] %6.0fs  goroutines %d  heap %.1f MB  rss %.1f MB  others %v  conns %d  sent %d  delivered %d  churn cycles %d\n",
				s.AtS, s.Goroutines, s.HeapMB, s.RSSMB, s.OtherRSSMB, s.Connections, s.Sent, s.Delivered, s.Cycles)
		}
		return nil
	}
	var sampleErr error
	stopSampler := background(ctx, func(ctx context.Context) {
		t := time.NewTicker(r.cfg.soak.interval)
		defer t.Stop()
		for {
			if err := sample(ctx); err != nil {
				if ctx.Err() == nil {
					sampleErr = err
				}
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	defer stopSampler()
	stopChurn := background(ctx, func(ctx context.Context) { r.churn(ctx, churnUsers, &cycles) })
	defer stopChurn()

	r.drive(ctx, senders)
	window := time.Since(start)
	stopChurn()
	stopSampler()
	if sampleErr != nil {
		return sampleErr
	}
	r.drain(ctx, steady)
	r.result(rep, window)
	byUser := map[*user]*client{}
	for _, c := range cs {
		byUser[c.u] = c
	}
	rep.Integrity = r.led.check(ctx, r.sent.Load(), r.errs.Load(), r.readBack(byUser))
	rep.Soak = judgeSoak(samples, r.cfg.soak.interval, r.cfg.soak.warmup, r.cfg.soak.churn)
	return ctx.Err()
}

// judgeSoak drops the samples of the warm-up and judges the rest.
func judgeSoak(samples []soakSample, interval, warmup time.Duration, churn int) *soakStats {
	st := &soakStats{Interval: interval.String(), Warmup: warmup.String(), Samples: samples, Flat: true}
	var at, gor, heap, rss []float64
	others := map[string][]float64{}
	for _, s := range samples {
		if s.AtS < warmup.Seconds() {
			continue
		}
		at, gor, heap, rss = append(at, s.AtS), append(gor, float64(s.Goroutines)), append(heap, s.HeapMB), append(rss, s.RSSMB)
		for name, v := range s.OtherRSSMB {
			others[name] = append(others[name], v)
		}
	}
	if len(at) < 3 {
		st.Flat = false
		st.Trends = append(st.Trends, trend{Series: fmt.Sprintf("too few samples after the warm-up (%d; need 3)", len(at))})
		return st
	}
	// Churn users connect and leave all the time: each connection in
	// flight holds a few goroutines, so a sample may catch up to all of
	// them open (4 each is generous).
	st.Trends = append(st.Trends,
		flatness("messageservice goroutines", at, gor, 0.10, float64(10+4*churn)),
		flatness("messageservice heap MB", at, heap, 0.25, 8),
		flatness("messageservice RSS MB", at, rss, 0.20, 16))
	for _, name := range slices.Sorted(maps.Keys(others)) {
		if v := others[name]; len(v) == len(at) {
			st.Trends = append(st.Trends, flatness(name+" RSS MB", at, v, 0.20, 16))
		}
	}
	for _, t := range st.Trends {
		st.Flat = st.Flat && t.Flat
	}
	return st
}

// churn connects every churn user, has it sync its notices and closes it,
// over and over until ctx ends: connection set-up and tear-down, the user
// node's removal, presence and a history read, thousands of times in a soak.
func (r *runner) churn(ctx context.Context, us []*user, cycles *atomic.Int64) {
	if len(us) == 0 {
		return
	}
	t := time.NewTicker(r.cfg.soak.churnEvery)
	defer t.Stop()
	for {
		var wg sync.WaitGroup
		for _, u := range us {
			wg.Go(func() {
				c, err := dial(ctx, r.b.wsURL(), u, &r.h)
				if err != nil {
					if ctx.Err() == nil && r.errs.Add(1) <= 5 {
						r.log.Warn("churn dial", "user", u.id, "err", err)
					}
					return
				}
				defer c.close()
				if _, err := c.sync(ctx, "sys:"+u.id); err != nil {
					if ctx.Err() == nil && r.errs.Add(1) <= 5 {
						r.log.Warn("churn sync", "user", u.id, "err", err)
					}
					return
				}
				cycles.Add(1)
			})
		}
		wg.Wait()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// soakRows are the samples and the verdict, one line each.
func soakRows(s *soakStats) []string {
	rows := []string{fmt.Sprintf("soak: sample every %s, warm-up %s", s.Interval, s.Warmup)}
	for _, x := range s.Samples {
		others := ""
		for _, name := range slices.Sorted(maps.Keys(x.OtherRSSMB)) {
			others += fmt.Sprintf("  %s %.1f MB", name, x.OtherRSSMB[name])
		}
		rows = append(rows, fmt.Sprintf("  %7ss  goroutines %5d  heap %7.1f MB  rss %7.1f MB%s  conns %d  sent %d  delivered %d  churn cycles %d",
			strconv.FormatFloat(x.AtS, 'f', 0, 64), x.Goroutines, x.HeapMB, x.RSSMB, others, x.Connections, x.Sent, x.Delivered, x.Cycles))
	}
	for _, t := range s.Trends {
		rows = append(rows, fmt.Sprintf("  %-32s first %.1f  last %.1f  growth %.1f (allowed %.1f)  slope %.3g/min  flat %v",
			t.Series, t.First, t.Last, t.Growth, t.Allowed, t.PerMinute, t.Flat))
	}
	rows = append(rows, fmt.Sprintf("  flat: %v", s.Flat))
	return rows
}
