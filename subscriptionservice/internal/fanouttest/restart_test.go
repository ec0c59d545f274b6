package fanouttest

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/poll"
)

var (
	followersFlag = flag.Int("followers", 2000, "followers of the account in TestRestartDuringBroadcast")
	onlineFlag    = flag.Int("online", 500, "of them, connected over WebSocket when the article is published")
)

// TestRestartDuringBroadcast: the messageservice is killed (SIGKILL) while
// it fans an article out to the account's followers (-followers, 2,000 by
// default; -online of them connected), as soon as the first connected
// follower has the frame. It is started again on the same ports, every
// follower connects (the online ones again, the offline ones for the first
// time), and each gets the article exactly once: deduplicated by seq
// across connections as a client does, no follower without it, no frame of
// a seq that the follower had acked (on the same connection, or stored in
// the DataService before it reconnected), and one stored message.
func TestRestartDuringBroadcast(t *testing.T) {
	n, online := *followersFlag, min(*onlineFlag, *followersFlag)
	start := time.Now()
	s := startStack(t)
	s.startMessageService(t)
	fans := s.newFollowers(t, n)
	s.signIn(t, fans)
	aid := s.approvedArticle(t, "To every follower")
	t.Logf("set-up of %d followers: %s", n, time.Since(start).Round(time.Millisecond))

	r := newReaders(t)
	r.connectAll(t, s.ms.URL(), s.conv, fans[:online], 60*time.Second)

	pub := make(chan published, 1)
	go func() { pub <- s.publish(aid) }()
	var early *published
	select {
	case <-r.first:
	case p := <-pub:
		// Broadcast answered before any frame was read: kill now, the
		// fan-out's writes are still in flight.
		early = &p
	case <-time.After(60 * time.Second):
		t.Fatal("no follower received the article within 60s of publishing")
	}
	before := r.frames.Load() // frames read when the kill is sent
	s.ms.Kill()
	killedAt := time.Now()
	had := 0
	for _, f := range fans[:online] {
		if f.hasArticle() {
			had++
		}
	}
	p := early
	if p == nil {
		got := <-pub
		p = &got
	}
	if p.err != nil || p.status != http.StatusOK {
		t.Fatalf("publish: %d %s %v", p.status, p.body, p.err)
	}
	t.Logf("killed the messageservice when %d of %d online followers had read the article (%d once it was dead: frames in flight); publish answered pushed=%v",
		before, online, had, p.pushed)

	s.startMessageService(t)
	t.Logf("messageservice up again after %s", time.Since(killedAt).Round(time.Millisecond))
	// What each device acked durably before it connects again: a frame of
	// such a seq on the new connection is a duplicate after an ack.
	if err := parallel(online, func(i int) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		acked, err := s.ackedSeq(ctx, fans[i])
		if err != nil {
			return err
		}
		fans[i].mu.Lock()
		fans[i].durable = acked
		fans[i].mu.Unlock()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	closeAll(fans[:online])
	r.connectAll(t, s.ms.URL(), s.conv, fans, 60*time.Second)

	poll.Eventually(t, 90*time.Second, func() error {
		missing := 0
		for _, f := range fans {
			if !f.hasArticle() {
				missing++
			}
		}
		if missing > 0 {
			return fmt.Errorf("%d of %d followers without the article", missing, n)
		}
		return nil
	})
	seq := fans[0].articleSeq
	s.waitAcked(t, fans, seq, 90*time.Second)
	closeAll(fans)
	r.wg.Wait()

	dups, redelivered := 0, 0
	for _, f := range fans {
		f.mu.Lock()
		if f.articleSeq != seq || len(f.articleIDs) != 1 || !f.articleIDs[aid] {
			t.Errorf("follower %d: article at seq %d (want %d), article ids %v (want %s)", f.id, f.articleSeq, seq, f.articleIDs, aid)
		}
		if len(f.got) != 1 {
			t.Errorf("follower %d: seqs %v, want only %d", f.id, f.got, seq)
		}
		dups += f.dupAfter
		if f.got[seq] > 1 {
			redelivered++
		}
		f.mu.Unlock()
	}
	if dups > 0 {
		t.Errorf("%d frames of a seq the follower had already acked", dups)
	}
	if m := s.storedMessages(t); m != 1 {
		t.Errorf("%d messages stored in %s, want 1", m, s.conv)
	}
	t.Logf("%d followers have the article once (deduplicated by seq; %d got it again after the restart, unacked before it; %d frames in all); %s in all",
		n, redelivered, r.frames.Load(), time.Since(start).Round(time.Millisecond))
}
