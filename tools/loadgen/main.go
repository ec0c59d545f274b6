// Command loadgen measures a PrivateIM stack with real WebSocket clients
// and checks, in the same run, that no message was lost or doubled.
//
//	loadgen <idle|p2p|group|broadcast|storm|soak|faults> [flags]
//
// Against a running stack (`make run`; the flags' defaults are its
// addresses), or with --local against a stack it builds and starts itself
// on free ports and a fresh MySQL database (dropped afterwards), so one
// command measures on any machine. --baseline runs the same workload
// against a minimal in-process gorilla/websocket relay that stores nothing
// and prints the ratio. docs/benchmarks.md explains the workloads.
//
// Exit status: 0 when integrity holds (missing, duplicates and not-stored
// all 0), 1 when it does not, 2 on any other failure.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/privateim/privateim/foundation/tlsconfig/devpki"
)

// config is every setting of a run, from flags and MYSQL_DSN.
type config struct {
	workload string

	local    bool
	root     string
	bin      string
	mysqlDSN string
	userURL  string
	wsURL    string
	msgGRPC  string
	dataGRPC string
	certs    string
	pid      int
	fast     bool
	baseline bool
	onlyBase bool
	jsonOut  bool
	quiet    bool

	workers        int // sign-up and relation requests at once
	connectWorkers int // WebSocket dials at once
	drain          time.Duration
	settle         time.Duration
	warmup         time.Duration // p2p, group: left out of the latency figures

	n          int
	pairs      int
	rate       float64
	duration   time.Duration
	window     int
	members    int
	publishers int
	followers  int
	posts      int
	soak       soakConfig
	faults     string // faults: the phases, comma-separated
	sendQueue  int    // faults: SEND_QUEUE of the nodes

	// drop, set only by tests, loses deliveries in the clients.
	drop func(u *user, conv string, seq int64) bool
}

const usage = `usage: loadgen <workload> [flags]

workloads:
  idle       -n N                      N users connected; server RSS per connection, connect rate
  p2p        --pairs P --rate R --duration D [--window W] [--warmup D]
                                       P friend pairs, open loop at R msg/s (closed loop with --window)
  group      --members M --publishers K --rate R --duration D [--window W]
  broadcast  --followers F --posts N   a subscription post to F online followers
  storm      -n N                      N clients drop and reconnect at once; a notice waits for each
  soak       --duration D --interval I p2p + group traffic and connection churn for D; the servers'
                                       goroutines and memory, sampled every I, must stay flat
  faults     --pairs P --members M --rate R --duration D
                                       a 3-node cluster on 3 NATS servers under p2p + group load: one
                                       phase per fault (node SIGKILL, DataService, NATS, MariaDB restart,
                                       slow reader); integrity and "serves again" (<= 10 s) per fault

Run 'loadgen <workload> -h' for the flags.
`

func parseConfig(args []string, stderr io.Writer, getenv func(string) string) (config, error) {
	var c config
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		return c, flag.ErrHelp
	}
	c.workload = args[0]
	switch c.workload {
	case "idle", "p2p", "group", "broadcast", "storm", "soak", "faults":
	default:
		fmt.Fprint(stderr, usage)
		return c, fmt.Errorf("unknown workload %q", c.workload)
	}
	fs := flag.NewFlagSet("loadgen "+c.workload, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&c.local, "local", false, "build and start the whole stack on free ports and a fresh database (MYSQL_DSN names the server)")
	fs.StringVar(&c.root, "root", ".", "a directory inside the repository (for --local and the default --certs)")
	fs.StringVar(&c.bin, "bin", "", "with --local: take the service binaries from this directory instead of building them")
	fs.StringVar(&c.userURL, "user-url", "http://127.0.0.1:8080", "userservice HTTP API")
	fs.StringVar(&c.wsURL, "ws", "ws://127.0.0.1:8081/ws", "messageservice WebSocket")
	fs.StringVar(&c.msgGRPC, "msg-grpc", "127.0.0.1:9091", "messageservice internal gRPC (Broadcast, Push)")
	fs.StringVar(&c.dataGRPC, "data-grpc", "127.0.0.1:9090", "DataService gRPC (subscription accounts; relations with --fast)")
	fs.StringVar(&c.certs, "certs", "", "directory of the dev certificates (default <repo>/certs)")
	fs.IntVar(&c.pid, "pid", 0, "pid of the messageservice, for its RSS (known with --local)")
	fs.BoolVar(&c.fast, "fast", false, "make relations (friendships, group members, follows) in the DataService directly instead of the HTTP API")
	fs.BoolVar(&c.baseline, "baseline", false, "also run against an in-process relay that stores nothing, and print the ratio")
	fs.BoolVar(&c.onlyBase, "baseline-only", false, "run only against the baseline relay (no stack needed)")
	fs.BoolVar(&c.jsonOut, "json", false, "print the report as JSON")
	fs.BoolVar(&c.quiet, "quiet", false, "no progress line")
	fs.IntVar(&c.workers, "workers", 16, "sign-up and relation requests at once")
	fs.IntVar(&c.connectWorkers, "connect-workers", 64, "WebSocket dials at once")
	fs.DurationVar(&c.drain, "drain", 10*time.Second, "at the end, stop waiting for outstanding sent frames and deliveries once none arrived for this long")
	switch c.workload {
	case "idle":
		fs.IntVar(&c.n, "n", 1000, "users connected")
		fs.DurationVar(&c.duration, "duration", 2*time.Second, "how long they stay connected before RSS is read")
	case "storm":
		fs.IntVar(&c.n, "n", 1000, "users dropping and reconnecting")
	case "p2p":
		fs.IntVar(&c.pairs, "pairs", 100, "friend pairs; the first of each sends to the second")
	case "group":
		fs.IntVar(&c.members, "members", 100, "members of the group")
		fs.IntVar(&c.publishers, "publishers", 10, "members that send")
	case "broadcast":
		fs.IntVar(&c.followers, "followers", 1000, "online followers")
		fs.IntVar(&c.posts, "posts", 3, "posts, one after another")
	case "soak":
		soakFlags(fs, &c)
	}
	if c.workload == "faults" {
		faultFlags(fs, &c)
	}
	if c.workload == "p2p" || c.workload == "group" {
		fs.DurationVar(&c.settle, "settle", 500*time.Millisecond, "pause between connecting and sending, so the sessions' catch-up is over (0: send at once)")
		fs.Float64Var(&c.rate, "rate", 1000, "messages per second in all (open loop)")
		fs.DurationVar(&c.duration, "duration", 10*time.Second, "how long to send")
		fs.IntVar(&c.window, "window", 0, "closed loop: messages in flight per sender instead of --rate")
		fs.DurationVar(&c.warmup, "warmup", 0, "leave messages scheduled in the first D of the send window out of the latency figures (they are still sent and checked; the report adds the whole window's latency)")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	if c.workload == "soak" {
		if err := c.soak.check(&c); err != nil {
			return c, err
		}
	}
	if c.mysqlDSN = getenv("MYSQL_DSN"); c.mysqlDSN == "" {
		c.mysqlDSN = "root@tcp(127.0.0.1:3306)/"
	}
	switch {
	case (c.workload == "idle" || c.workload == "storm") && c.n < 1,
		c.workload == "p2p" && c.pairs < 1,
		c.workload == "group" && c.members < 2,
		c.workload == "broadcast" && (c.followers < 1 || c.posts < 1):
		return c, errors.New("sizes must be positive")
	case c.workload == "faults" && (c.pairs < 1 || c.members < 2 || c.publishers < 1 || c.publishers > c.members || c.rate <= 0 || c.sendQueue < 16):
		return c, errors.New("faults: --pairs >= 1, --members >= 2, --publishers 1..members, --rate > 0, --send-queue >= 16")
	case c.workload == "faults" && validFaults(c.faults) != nil:
		return c, validFaults(c.faults)
	case (c.workload == "p2p" || c.workload == "group") && c.window == 0 && c.rate <= 0:
		return c, errors.New("--rate must be positive (or use --window)")
	case c.warmup < 0 || (c.warmup > 0 && c.warmup >= c.duration):
		return c, errors.New("--warmup must be shorter than --duration")
	}
	return c, nil
}

func (c config) params() map[string]any {
	p := map[string]any{}
	switch c.workload {
	case "idle":
		p["n"], p["duration"] = c.n, c.duration.String()
	case "storm":
		p["n"] = c.n
	case "p2p":
		p["pairs"] = c.pairs
	case "group":
		p["members"], p["publishers"] = c.members, c.publishers
	case "broadcast":
		p["followers"], p["posts"] = c.followers, c.posts
	case "soak":
		c.soak.params(c, p)
	}
	if c.workload == "p2p" || c.workload == "group" {
		p["duration"] = c.duration.String()
		if c.warmup > 0 {
			p["warmup"] = c.warmup.String()
		}
		if c.window > 0 {
			p["window"] = c.window
		} else {
			p["rate"] = c.rate
		}
	}
	if c.fast {
		p["fast"] = true
	}
	return p
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run is the whole command; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg, err := parseConfig(args, stderr, getenv)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		log.Error("loadgen", "err", err)
		return 2
	}
	return runConfig(ctx, cfg, log, stdout, stderr)
}

// runConfig runs a parsed configuration and writes the report.
func runConfig(ctx context.Context, cfg config, log *slog.Logger, stdout, stderr io.Writer) int {
	if cfg.workload == "faults" {
		return runFaults(ctx, cfg, log, stdout, stderr)
	}
	rep, err := measure(ctx, cfg, log, stderr)
	if err != nil {
		log.Error("loadgen", "workload", cfg.workload, "err", err)
		return 2
	}
	if cfg.jsonOut {
		err = writeJSON(stdout, rep)
	} else {
		err = writeTable(stdout, rep)
	}
	if err != nil {
		log.Error("write report", "err", err)
		return 2
	}
	if !rep.Integrity.OK || (rep.Baseline != nil && !rep.Baseline.Integrity.OK) {
		log.Error("integrity check failed", "missing", rep.Integrity.Missing, "duplicates", rep.Integrity.Duplicates, "not_stored", rep.Integrity.StoredMissing)
		return 1
	}
	if rep.Soak != nil && !rep.Soak.Flat {
		log.Error("soak: goroutines or memory grew (see the trends)")
		return 1
	}
	return 0
}

// measure runs the workload against the target (and the baseline).
func measure(ctx context.Context, cfg config, log *slog.Logger, stderr io.Writer) (_ *report, err error) {
	if cfg.onlyBase {
		rl, err := startRelay()
		if err != nil {
			return nil, fmt.Errorf("baseline relay: %w", err)
		}
		defer rl.close()
		return runWorkload(ctx, cfg, relayBackend{rl}, log, stderr)
	}
	root, rootErr := repoRoot(cfg.root)
	var target backend
	if cfg.local {
		if rootErr != nil && cfg.bin == "" {
			return nil, rootErr
		}
		st, err := startLocal(ctx, log, root, cfg.bin, cfg.mysqlDSN, nil)
		if err != nil {
			return nil, fmt.Errorf("local stack: %w", err)
		}
		defer func() {
			if stopErr := st.stop(); stopErr != nil && err == nil {
				err = stopErr
			}
		}()
		sb, err := newStackBackend(st.userURL, st.msgWS, st.msgGRPC, st.dataAddr, st.certs.Client, st.msgPID, cfg.fast, cfg.workers)
		if err != nil {
			return nil, err
		}
		defer sb.close()
		sb.others, sb.mysql = st.pids(), mysqlPID(cfg.mysqlDSN)
		target = sb
	} else {
		certs := cfg.certs
		if certs == "" {
			if rootErr != nil {
				return nil, fmt.Errorf("--certs: %w", rootErr)
			}
			certs = filepath.Join(root, "certs")
		}
		sb, err := newStackBackend(cfg.userURL, cfg.wsURL, cfg.msgGRPC, cfg.dataGRPC, devpki.Paths(certs).Client, cfg.pid, cfg.fast, cfg.workers)
		if err != nil {
			return nil, err
		}
		defer sb.close()
		sb.mysql = mysqlPID(cfg.mysqlDSN)
		target = sb
	}
	rep, err := runWorkload(ctx, cfg, target, log, stderr)
	if err != nil {
		return nil, err
	}
	if cfg.baseline {
		rl, err := startRelay()
		if err != nil {
			return nil, fmt.Errorf("baseline relay: %w", err)
		}
		defer rl.close()
		base, err := runWorkload(ctx, cfg, relayBackend{rl}, log, stderr)
		if err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		rep.Baseline, rep.Ratio = base, ratios(rep, base)
	}
	return rep, nil
}

func runWorkload(ctx context.Context, cfg config, b backend, log *slog.Logger, stderr io.Writer) (*report, error) {
	r := newRunner(cfg, b, log, stderr)
	defer r.closeAll()
	rep := &report{Workload: cfg.workload, Target: b.name(), Params: cfg.params()}
	start := time.Now()
	var err error
	switch cfg.workload {
	case "idle":
		err = r.idle(ctx, rep)
	case "p2p":
		err = r.p2p(ctx, rep)
	case "group":
		err = r.group(ctx, rep)
	case "broadcast":
		err = r.broadcast(ctx, rep)
	case "storm":
		err = r.storm(ctx, rep)
	case "soak":
		err = r.soak(ctx, rep)
	}
	rep.Seconds = round3(time.Since(start).Seconds())
	return rep, err
}
