package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"testing"
	"time"
)

// TestFaults runs the faults workload at a small size: its own MariaDB,
// DataService, userservice, three NATS servers and three messageservice
// nodes, every fault in turn under p2p and group load. Every phase must
// serve again within 10 s and integrity must hold.
func TestFaults(t *testing.T) {
	cfg, err := parseConfig([]string{"faults", "--pairs", "6", "--members", "6", "--publishers", "2",
		"--rate", "40", "--duration", "2s", "--drain", "15s", "--json", "--quiet"}, os.Stderr, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	log := slog.New(slog.NewTextHandler(&errOut, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	code := runFaults(ctx, cfg, log, &out, &errOut)
	var rep faultsReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("exit %d, report %q: %v\n%s", code, out.String(), err, errOut.String())
	}
	if code != 0 || !rep.OK {
		t.Errorf("exit %d, ok %v:\n%s\n%s", code, rep.OK, out.String(), errOut.String())
	}
	if len(rep.Phases) != len(allFaults) {
		t.Fatalf("phases %d, want %d", len(rep.Phases), len(allFaults))
	}
	for _, p := range rep.Phases {
		if !p.OK || p.ServesAgainS < 0 || p.ServesAgainS > serveLimit.Seconds() {
			t.Errorf("phase %s: %+v", p.Fault, p)
		}
	}
	kill, slow := rep.Phases[0], rep.Phases[4]
	if kill.Reconnects == 0 || kill.RecoveredS <= 0 {
		t.Errorf("kill-node: no client reconnected or the node did not come back: %+v", kill)
	}
	if slow.ClosedS <= 0 || slow.RecoveredS <= 0 {
		t.Errorf("slow-reader: not closed or not back: %+v", slow)
	}
	in := rep.Integrity
	if in.Missing != 0 || in.Duplicates != 0 || in.StoredMissing != 0 || in.Unacked != 0 || in.Refused != 0 {
		t.Errorf("integrity %+v", in)
	}
	if in.Acked == 0 || in.Expected < in.Acked || in.Stored != in.Acked {
		t.Errorf("counts do not add up: acked %d, deliveries owed %d, stored %d", in.Acked, in.Expected, in.Stored)
	}
}

// TestFaultsClassify feeds one device's frames through the classifier:
// a copy on the same connection after its ack was applied is a duplicate,
// one before is in flight, one on a later connection is redelivered, and
// its own message echoed on the sending connection is a duplicate.
func TestFaultsClassify(t *testing.T) {
	r := &faultRun{led: newLedger(), ackedIDs: map[string]string{}, ids: map[string]bool{}, refused: map[string]bool{}}
	fu := &fUser{u: &user{id: "7"}, pending: map[string]*fSend{}, convs: map[string]*fConv{}}
	c1, c2 := &client{}, &client{}
	r.attach(fu, c1)
	msg := func(c *client, seq int64) { r.onMessage(fu, c, &inFrame{Conversation: "g:1", Seq: seq}, time.Now()) }
	msg(c1, 1)
	msg(c1, 2)
	msg(c1, 1) // not acked yet
	if r.in.InFlight != 1 || r.in.Duplicates != 0 {
		t.Fatalf("before the ack: %+v", r.in)
	}
	fu.applied["g:1"] = 2 // a pong answered the ping after "ack 2"
	msg(c1, 2)
	if r.in.Duplicates != 1 || r.in.SameConn != 1 {
		t.Fatalf("after the applied ack: %+v", r.in)
	}
	r.attach(fu, c2) // a reconnect: a new connection knows no acks
	msg(c2, 2)
	msg(c2, 3)
	if r.in.Redelivered != 1 || r.in.Duplicates != 1 {
		t.Fatalf("after the reconnect: %+v", r.in)
	}
	r.onSent(fu, c2, &inFrame{ClientMsgID: "a", Conversation: "g:1", Seq: 4})
	msg(c2, 4)
	if r.in.Duplicates != 2 {
		t.Fatalf("own message echoed: %+v", r.in)
	}
	r.onSent(fu, c2, &inFrame{ClientMsgID: "a", Conversation: "g:1", Seq: 5})
	if r.in.StoredTwice != 1 || r.in.Duplicates != 3 {
		t.Fatalf("one client_msg_id at two seqs: %+v", r.in)
	}
	if got := fu.convs["g:1"].contiguous(); got != 5 {
		t.Fatalf("contiguous %d, want 5", got)
	}
}
