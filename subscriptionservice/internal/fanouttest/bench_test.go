package fanouttest

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/privateim/privateim/foundation/tlsconfig"
	messagev1 "github.com/privateim/privateim/protos/message/v1"
)

var (
	benchFollowers = flag.Int("bench-followers", 10000, "followers of the account in BenchmarkPublish")
	benchOnline    = flag.Int("bench-online", 300, "of them, connected over WebSocket in BenchmarkPublish")
)

// round is one publication the readers count arrivals of.
type round struct {
	articleID string
	need      int64
	got       atomic.Int64
	last      atomic.Int64 // unix ns when the last connected follower got it
	done      chan struct{}
}

// BenchmarkPublish publishes articles of an account with -bench-followers
// followers (10,000), -bench-online of them (300) connected over
// WebSocket, through the real stack. One op is the owner's publish call
// (POST .../publish: approved -> published, one Broadcast, pushed set);
// publish_ms is its latency, last_frame_ms the time from the call's start
// until the last connected follower has the message frame (each acks it,
// as a client does). warm: the messageservice has the account's followers
// cached (the usual case: CACHE_TTL 1m, kept current by follow events);
// cold: its caches are pruned before each publish, so the Broadcast loads
// the 10,000 followers from the DataService first.
//
//	go test -run '^$' -bench Publish -benchtime 10x -count 3 ./internal/fanouttest/
func BenchmarkPublish(b *testing.B) {
	n, online := *benchFollowers, min(*benchOnline, *benchFollowers)
	s := startStack(b)
	s.msgEnv = append(s.msgEnv, "PRUNE_MAX_AGE=1ms") // a Prune call drops every cached node
	s.startMessageService(b)
	fans := s.newFollowers(b, n)
	s.signIn(b, fans[:online])

	creds, err := tlsconfig.ClientCredentials(s.e.Certs.Client, "")
	if err != nil {
		b.Fatal(err)
	}
	conn, err := grpc.NewClient(s.ms.GRPCAddr, grpc.WithTransportCredentials(creds))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	msgs := messagev1.NewMessageServiceClient(conn)

	var cur atomic.Pointer[round]
	r := newReaders(b)
	r.onArticle = func(aid string) {
		rd := cur.Load()
		if rd == nil || rd.articleID != aid {
			return
		}
		if rd.got.Add(1) == rd.need {
			rd.last.Store(time.Now().UnixNano())
			close(rd.done)
		}
	}
	r.connectAll(b, s.ms.URL(), s.conv, fans[:online], 60*time.Second)
	b.Cleanup(func() { closeAll(fans[:online]) })

	// publishOne publishes an approved article and returns the call's
	// latency and the time until the last connected follower had it.
	publishOne := func(b *testing.B, title string, cold bool) (call, last time.Duration) {
		b.StopTimer()
		aid := s.approvedArticle(b, title)
		if cold {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, err := msgs.Prune(ctx, &messagev1.PruneRequest{})
			cancel()
			if err != nil {
				b.Fatalf("prune: %v", err)
			}
		}
		rd := &round{articleID: aid, need: int64(online), done: make(chan struct{})}
		cur.Store(rd)
		b.StartTimer()
		start := time.Now()
		p := s.publish(aid)
		call = time.Since(start)
		b.StopTimer()
		if p.err != nil || p.status != http.StatusOK || !p.pushed {
			b.Fatalf("publish: %d %s %v", p.status, p.body, p.err)
		}
		select {
		case <-rd.done:
		case <-time.After(60 * time.Second):
			b.Fatalf("%d of %d connected followers got article %s within 60s", rd.got.Load(), online, aid)
		}
		b.StartTimer()
		return call, time.Duration(rd.last.Load() - start.UnixNano())
	}
	publishOne(b, "Warm-up", false)

	for _, mode := range []string{"warm", "cold"} {
		b.Run(fmt.Sprintf("followers=%d/online=%d/%s", n, online, mode), func(b *testing.B) {
			var calls, lasts []float64
			for i := range b.N {
				call, last := publishOne(b, fmt.Sprintf("%s %d", mode, i), mode == "cold")
				calls = append(calls, ms(call))
				lasts = append(lasts, ms(last))
			}
			b.ReportMetric(median(calls), "publish_ms")
			b.ReportMetric(slices.Max(calls), "publish_max_ms")
			b.ReportMetric(median(lasts), "last_frame_ms")
			b.ReportMetric(slices.Max(lasts), "last_frame_max_ms")
		})
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
