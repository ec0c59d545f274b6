package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// runner is one workload against one backend. The workload goroutine owns
// it; the atomics and hists are written by the clients' read goroutines.
type runner struct {
	cfg                              config
	b                                backend
	log                              *slog.Logger
	stderr                           io.Writer
	led                              *ledger
	lat                              hist         // scheduled send (or post) -> delivery, after the warm-up
	latAll                           hist         // the same over the whole send window
	steadyFrom                       atomic.Int64 // unix ns: sends scheduled from then on are past the warm-up
	ackLat                           hist         // scheduled send -> sent frame
	sent                             atomic.Int64
	errs                             atomic.Int64
	firstSend, lastDelivery, lastAck atomic.Int64 // unix ns
	pending                          sync.Map     // client_msg_id -> scheduled time, until its sent frame
	windows                          sync.Map     // closed loop: user id -> its window of unacked sends
	h                                handlers
	mu                               sync.Mutex // guards clients
	clients                          []*client
}

func newRunner(cfg config, b backend, log *slog.Logger, stderr io.Writer) *runner {
	r := &runner{cfg: cfg, b: b, log: log, stderr: stderr, led: newLedger()}
	r.h = handlers{
		sent: func(c *client, f *inFrame, at time.Time) {
			r.led.ack(f.Conversation, f.Seq, c.u.idx)
			storeMax(&r.lastAck, at.UnixNano())
			if v, ok := r.pending.LoadAndDelete(f.ClientMsgID); ok && r.steady(v.(time.Time)) {
				r.ackLat.Record(at.Sub(v.(time.Time)))
			}
			if w, ok := r.windows.Load(c.u.id); ok {
				select {
				case <-w.(chan struct{}):
				default:
				}
			}
		},
		message: func(c *client, f *inFrame, at time.Time, dup bool) {
			storeMax(&r.lastDelivery, at.UnixNano())
			if dup {
				return
			}
			if t, ok := f.sentAt(); ok {
				r.latAll.Record(at.Sub(t))
				if r.steady(t) {
					r.lat.Record(at.Sub(t))
				}
			}
		},
		err: func(c *client, f *inFrame) {
			if w, ok := r.windows.Load(c.u.id); ok && f.ClientMsgID != "" {
				r.pending.Delete(f.ClientMsgID)
				select {
				case <-w.(chan struct{}):
				default:
				}
			}
			if r.errs.Add(1) <= 5 {
				r.log.Warn("error frame", "user", c.u.id, "code", f.Code, "message", f.Message, "client_msg_id", f.ClientMsgID)
			}
		},
		closed: func(c *client, err error) {
			if r.errs.Add(1) <= 5 {
				r.log.Warn("connection ended by the server", "user", c.u.id, "err", err)
			}
		},
		drop: cfg.drop,
	}
	return r
}

// cpuPIDs are the processes whose CPU a send window reports: the
// backend's servers and loadgen itself (which holds the relay).
func (r *runner) cpuPIDs() map[string]int {
	pids := r.b.procs()
	if pids == nil {
		pids = map[string]int{}
	}
	pids["loadgen"] = os.Getpid()
	return pids
}

// steady reports whether a send scheduled at t is past the warm-up
// (--warmup), so that its latency counts.
func (r *runner) steady(t time.Time) bool { return t.UnixNano() >= r.steadyFrom.Load() }

func storeMax(a *atomic.Int64, v int64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}

func (r *runner) all() []*client {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.clients)
}

// connect dials every user (cfg.workers at a time) and returns the
// clients in users' order.
func (r *runner) connect(ctx context.Context, users []*user) ([]*client, error) {
	cs := make([]*client, len(users))
	err := parallel(ctx, r.cfg.connectWorkers, len(users), func(ctx context.Context, i int) error {
		c, err := dial(ctx, r.b.wsURL(), users[i], &r.h)
		if err != nil {
			return err
		}
		cs[i] = c
		return nil
	})
	r.mu.Lock()
	for _, c := range cs {
		if c != nil {
			r.clients = append(r.clients, c)
		}
	}
	r.mu.Unlock()
	return cs, err
}

func (r *runner) closeAll() {
	r.mu.Lock()
	cs := r.clients
	r.clients = nil
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Go(c.close)
	}
	wg.Wait()
}

// background runs fn in a goroutine until the returned stop is called; stop
// cancels fn's context and waits for fn to return, so nothing it writes
// (the progress line to stderr) can land after stop. stop may be called
// more than once.
func background(ctx context.Context, fn func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// progress prints a line to stderr every second until ctx ends.
func (r *runner) progress(ctx context.Context, name string) {
	if r.cfg.quiet {
		return
	}
	start := time.Now()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var lastSent, lastGot int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		sent, got := r.sent.Load(), r.delivered()
		fmt.Fprintf(r.stderr, "[%s %s] %4.0fs  sent %d (%d/s)  acked %d  delivered %d (%d/s)  p99 %.1fms\n",
			name, r.b.name(), time.Since(start).Seconds(), sent, sent-lastSent, r.led.acked.Load(), got, got-lastGot,
			float64(r.lat.Quantile(.99))/1e6)
		lastSent, lastGot = sent, got
	}
}

// delivered counts first deliveries over all users' receivers.
func (r *runner) delivered() int64 {
	var n int64
	seen := map[*receiver]bool{}
	for _, c := range r.all() {
		if !seen[c.u.rx] {
			seen[c.u.rx] = true
			n += c.u.rx.got.Load()
		}
	}
	return n
}

// drain waits until every sent message has its sent frame and every owed
// delivery arrived, or nothing more arrived for cfg.drain (an overloaded
// server still working off its backlog is waited for).
func (r *runner) drain(ctx context.Context, users []*user) {
	var last int64 = -1
	quietSince := time.Now()
	for ctx.Err() == nil {
		var got int64
		for _, u := range users {
			got += u.rx.got.Load()
		}
		acked := r.led.acked.Load()
		if acked >= r.sent.Load() && got >= r.led.expected.Load() {
			return
		}
		if progress := got + acked; progress != last {
			last, quietSince = progress, time.Now()
		} else if time.Since(quietSince) > r.cfg.drain {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readBack reads a conversation's stored seqs with sync over the
// connection of one of its members.
func (r *runner) readBack(byUser map[*user]*client) func(ctx context.Context, conv string, members []*user) ([]int64, error) {
	if !r.b.stores() {
		return nil
	}
	return func(ctx context.Context, conv string, members []*user) ([]int64, error) {
		for _, m := range members {
			if c := byUser[m]; c != nil {
				return c.sync(ctx, conv)
			}
		}
		return nil, errors.New("no connected member")
	}
}

// sender is one stream of messages: a client sending to a user or group.
type sender struct {
	c        *client
	kind, to string
}

// drive sends from every sender for cfg.duration: open loop (cfg.rate
// messages per second in all, each at its scheduled time; latency counts
// from the schedule, so a stalled server cannot hide its backlog) or, with
// cfg.window > 0, closed loop (each sender keeps window messages without
// their sent frame in flight).
func (r *runner) drive(ctx context.Context, senders []sender) {
	start := time.Now().Add(50 * time.Millisecond)
	end := start.Add(r.cfg.duration)
	r.firstSend.Store(start.UnixNano())
	r.steadyFrom.Store(start.Add(r.cfg.warmup).UnixNano())
	var wg sync.WaitGroup
	if r.cfg.window > 0 {
		for _, s := range senders {
			r.windows.Store(s.c.u.id, make(chan struct{}, r.cfg.window))
		}
		for i, s := range senders {
			v, _ := r.windows.Load(s.c.u.id)
			w := v.(chan struct{})
			wg.Go(func() {
				stop := time.NewTimer(time.Until(end))
				defer stop.Stop()
				for k := 0; ; k++ {
					select {
					case w <- struct{}{}:
					case <-ctx.Done():
						return
					case <-stop.C: // the window stayed full to the end
						return
					case <-s.c.done: // the server closed the connection
						return
					}
					now := time.Now()
					if now.After(end) {
						return
					}
					r.send(s, fmt.Sprintf("w%d-%d", i, k), now)
				}
			})
		}
		wg.Wait()
		return
	}
	interval := time.Duration(float64(time.Second) * float64(len(senders)) / r.cfg.rate)
	for i, s := range senders {
		offset := interval * time.Duration(i) / time.Duration(len(senders))
		wg.Go(func() {
			t := time.NewTimer(0)
			defer t.Stop()
			<-t.C
			for k := 0; ; k++ {
				sched := start.Add(offset + time.Duration(k)*interval)
				if !sched.Before(end) {
					return
				}
				if d := time.Until(sched); d > 0 {
					t.Reset(d)
					select {
					case <-t.C:
					case <-ctx.Done():
						return
					}
				}
				r.send(s, fmt.Sprintf("o%d-%d", i, k), sched)
			}
		})
	}
	wg.Wait()
}

func (r *runner) send(s sender, clientMsgID string, sched time.Time) {
	r.pending.Store(clientMsgID, sched)
	if err := s.c.sendText(clientMsgID, s.kind, s.to, sched); err != nil {
		r.pending.Delete(clientMsgID)
		if r.errs.Add(1) <= 5 {
			r.log.Warn("send", "user", s.c.u.id, "err", err)
		}
		return
	}
	r.sent.Add(1)
}

// result fills the throughput part of a report from the counters.
func (r *runner) result(rep *report, sendWindow time.Duration) {
	rep.Sent, rep.Acked = r.sent.Load(), r.led.acked.Load()
	first := time.Unix(0, r.firstSend.Load())
	if rep.Sent > 0 && sendWindow > 0 {
		rep.SentPerS = round1(float64(rep.Sent) / sendWindow.Seconds())
	}
	if la := r.lastAck.Load(); la > 0 {
		rep.AckedPerS = round1(float64(rep.Acked) / time.Unix(0, la).Sub(first).Seconds())
	}
	if ld := r.lastDelivery.Load(); ld > 0 {
		rep.DeliveredPerS = round1(float64(r.latAll.Count()) / time.Unix(0, ld).Sub(first).Seconds())
	}
	rep.Latency, rep.AckLatency = r.lat.summary(), r.ackLat.summary()
	if r.cfg.warmup > 0 {
		all := r.latAll.summary()
		rep.LatencyAll = &all
	}
}

func round1(v float64) float64 { return float64(int64(v*10+.5)) / 10 }

func convName(a, b *user) string {
	x, y := a.id, b.id
	if id64(x) > id64(y) {
		x, y = y, x
	}
	return "u:" + x + ":" + y
}

// p2p: pairs of friends, the first of each sending to the second.
func (r *runner) p2p(ctx context.Context, rep *report) error {
	us, err := r.b.signUp(ctx, 2*r.cfg.pairs)
	if err != nil {
		return fmt.Errorf("sign up: %w", err)
	}
	pairs := make([][2]*user, r.cfg.pairs)
	for i := range pairs {
		pairs[i] = [2]*user{us[2*i], us[2*i+1]}
		r.led.conv(convName(us[2*i], us[2*i+1]), []*user{us[2*i], us[2*i+1]})
	}
	if err := r.b.befriend(ctx, pairs); err != nil {
		return fmt.Errorf("befriend: %w", err)
	}
	cs, err := r.connect(ctx, us)
	if err != nil {
		return err
	}
	senders := make([]sender, len(pairs))
	for i, p := range pairs {
		senders[i] = sender{c: cs[2*i], kind: "user", to: p[1].id}
	}
	return r.measure(ctx, rep, "p2p", us, cs, senders)
}

// group: one group of cfg.members; the first cfg.publishers send.
func (r *runner) group(ctx context.Context, rep *report) error {
	if r.cfg.publishers < 1 || r.cfg.publishers > r.cfg.members {
		return fmt.Errorf("--publishers must be 1..--members")
	}
	us, err := r.b.signUp(ctx, r.cfg.members)
	if err != nil {
		return fmt.Errorf("sign up: %w", err)
	}
	gid, err := r.b.newGroup(ctx, us[0], us)
	if err != nil {
		return fmt.Errorf("group: %w", err)
	}
	r.led.conv("g:"+gid, us)
	cs, err := r.connect(ctx, us)
	if err != nil {
		return err
	}
	senders := make([]sender, r.cfg.publishers)
	for i := range senders {
		senders[i] = sender{c: cs[i], kind: "group", to: gid}
	}
	return r.measure(ctx, rep, "group", us, cs, senders)
}

// measure runs the senders with the acker and progress line, drains, and
// checks integrity.
func (r *runner) measure(ctx context.Context, rep *report, name string, us []*user, cs []*client, senders []sender) error {
	stopAck := background(ctx, func(ctx context.Context) { acker(ctx, 100*time.Millisecond, r.all) })
	defer stopAck()
	stopProgress := background(ctx, func(ctx context.Context) { r.progress(ctx, name) })
	defer stopProgress()
	// The server catches each new connection up in the background; sending
	// during it is legal but measures connect time, not steady state.
	select {
	case <-time.After(r.cfg.settle):
	case <-ctx.Done():
	}
	cpu := startCPU(r.cpuPIDs())
	start := time.Now()
	r.drive(ctx, senders)
	window := time.Since(start)
	rep.CPU = cpu.cores()
	r.drain(ctx, us)
	stopProgress()
	r.result(rep, window)
	byUser := map[*user]*client{}
	for _, c := range cs {
		byUser[c.u] = c
	}
	rep.Integrity = r.led.check(ctx, r.sent.Load(), r.errs.Load(), r.readBack(byUser))
	return ctx.Err()
}

// broadcast: cfg.followers online followers of one subscription; cfg.posts
// posts, one after another, each timed until the last follower has it.
func (r *runner) broadcast(ctx context.Context, rep *report) error {
	us, err := r.b.signUp(ctx, r.cfg.followers+1)
	if err != nil {
		return fmt.Errorf("sign up: %w", err)
	}
	owner, followers := us[0], us[1:]
	sid, err := r.b.newSubscription(ctx, owner, followers)
	if err != nil {
		return fmt.Errorf("subscription: %w", err)
	}
	conv := "s:" + sid
	r.led.conv(conv, followers)
	connStart := time.Now()
	cs, err := r.connect(ctx, followers)
	if err != nil {
		return err
	}
	rep.Connect = &connectStats{N: len(cs), Seconds: round3(time.Since(connStart).Seconds())}
	rep.Connect.PerS = round1(float64(len(cs)) / time.Since(connStart).Seconds())
	stopAck := background(ctx, func(ctx context.Context) { acker(ctx, 100*time.Millisecond, r.all) })
	defer stopAck()
	stopProgress := background(ctx, func(ctx context.Context) { r.progress(ctx, "broadcast") })
	defer stopProgress()
	r.firstSend.Store(time.Now().UnixNano())
	for p := range r.cfg.posts {
		before := r.led.expected.Load()
		t0 := time.Now()
		seq, err := r.b.broadcast(ctx, sid, owner, "lg-post-"+strconv.Itoa(p), fmt.Appendf(nil, `{"t":%d}`, t0.UnixNano()))
		if err != nil {
			return err
		}
		r.sent.Add(1)
		r.led.ack(conv, seq, serverSender)
		// The last follower's time: poll until every follower holds it.
		deadline := time.Now().Add(r.cfg.drain)
		for {
			done := 0
			for _, f := range followers {
				if f.rx.count(conv, seq) > 0 {
					done++
				}
			}
			if int64(done) >= r.led.expected.Load()-before || time.Now().After(deadline) {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		rep.LastFollowerMs = append(rep.LastFollowerMs, round3(float64(time.Unix(0, r.lastDelivery.Load()).Sub(t0))/1e6))
	}
	r.drain(ctx, followers)
	stopProgress()
	r.result(rep, 0)
	byUser := map[*user]*client{}
	for _, c := range cs {
		byUser[c.u] = c
	}
	rep.Integrity = r.led.check(ctx, r.sent.Load(), r.errs.Load(), r.readBack(byUser))
	return nil
}

// storm: n users online; all drop at once (no close frame); a notice is
// pushed to each while they are away (when the target stores); all
// reconnect at once. Timed until every one is back, and until every one
// has the notice.
func (r *runner) storm(ctx context.Context, rep *report) error {
	us, err := r.b.signUp(ctx, r.cfg.n)
	if err != nil {
		return fmt.Errorf("sign up: %w", err)
	}
	for _, u := range us {
		r.led.conv("sys:"+u.id, []*user{u})
	}
	cs, err := r.connect(ctx, us)
	if err != nil {
		return err
	}
	stopAck := background(ctx, func(ctx context.Context) { acker(ctx, 100*time.Millisecond, r.all) })
	defer stopAck()
	stopProgress := background(ctx, func(ctx context.Context) { r.progress(ctx, "storm") })
	defer stopProgress()

	pushAll := func() error {
		seqs, err := r.b.push(ctx, us, "lg-storm", fmt.Appendf(nil, `{"t":%d}`, time.Now().UnixNano()))
		if err != nil {
			return err
		}
		r.sent.Add(int64(len(seqs)))
		for i, s := range seqs {
			r.led.ack("sys:"+us[i].id, s, serverSender)
		}
		return nil
	}
	cpu := startCPU(r.cpuPIDs())
	t0 := time.Now()
	r.firstSend.Store(t0.UnixNano())
	r.mu.Lock()
	r.clients = nil
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Go(c.drop)
	}
	wg.Wait()
	if r.b.stores() {
		if err := pushAll(); err != nil {
			return err
		}
	}
	pushed := time.Since(t0)
	// Everyone reconnects at once: no worker limit.
	back := make([]*client, len(us))
	var backErr atomic.Pointer[error]
	for i, u := range us {
		wg.Go(func() {
			var c *client
			err := retry(ctx, 10, func() error {
				var err error
				c, err = dial(ctx, r.b.wsURL(), u, &r.h)
				return err
			})
			if err != nil {
				backErr.CompareAndSwap(nil, &err)
				return
			}
			back[i] = c
			// The acker acks it from now on, as a client acks what it
			// gets at once: a client first acked when the last of the
			// storm was back would see the 5 s redelivery of its notice.
			r.mu.Lock()
			r.clients = append(r.clients, c)
			r.mu.Unlock()
		})
	}
	wg.Wait()
	allBack := time.Since(t0)
	if p := backErr.Load(); p != nil {
		return fmt.Errorf("reconnect: %w", *p)
	}
	if !r.b.stores() {
		if err := pushAll(); err != nil {
			return err
		}
	}
	r.drain(ctx, us)
	stopProgress()
	rep.CPU = cpu.cores()
	rep.Storm = &stormStats{N: len(us), PushedMs: round3(float64(pushed) / 1e6), AllBackMs: round3(float64(allBack) / 1e6), AllSyncedMs: round3(float64(time.Unix(0, r.lastDelivery.Load()).Sub(t0)) / 1e6)}
	r.result(rep, 0)
	byUser := map[*user]*client{}
	for _, c := range back {
		byUser[c.u] = c
	}
	rep.Integrity = r.led.check(ctx, r.sent.Load(), r.errs.Load(), r.readBack(byUser))
	return nil
}

// retry calls fn up to n times, 100 ms apart, while it fails.
func retry(ctx context.Context, n int, fn func() error) error {
	var err error
	for range n {
		if err = fn(); err == nil || ctx.Err() != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// idle: n users connected and doing nothing; the server's RSS per
// connection and the connect rate.
func (r *runner) idle(ctx context.Context, rep *report) error {
	us, err := r.b.signUp(ctx, r.cfg.n)
	if err != nil {
		return fmt.Errorf("sign up: %w", err)
	}
	rss0, rssOK := r.b.rss()
	cpu := startCPU(r.cpuPIDs())
	start := time.Now()
	cs, err := r.connect(ctx, us)
	if err != nil {
		return err
	}
	took := time.Since(start)
	rep.CPU = cpu.cores()
	rep.Connect = &connectStats{N: len(cs), Seconds: round3(took.Seconds()), PerS: round1(float64(len(cs)) / took.Seconds())}
	// Let the server finish the sessions' catch-up and settle its heap.
	hold := max(r.cfg.duration, 2*time.Second)
	stop := background(ctx, func(ctx context.Context) { r.progress(ctx, "idle") })
	defer stop()
	select {
	case <-time.After(hold):
	case <-ctx.Done():
	}
	stop()
	if rssOK {
		if rss1, ok := r.b.rss(); ok {
			rep.Connect.RSSBeforeKB, rep.Connect.RSSAfterKB = rss0>>10, rss1>>10
			rep.Connect.RSSPerConnKB = round1(float64(rss1-rss0) / 1024 / float64(len(cs)))
		}
	}
	r.result(rep, 0)
	rep.Integrity = r.led.check(ctx, 0, r.errs.Load(), nil)
	if r.b.stores() {
		rep.Integrity.Stored = 0
	}
	return ctx.Err()
}

func round3(v float64) float64 { return float64(int64(v*1000+.5)) / 1000 }
