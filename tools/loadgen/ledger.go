package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// ledger is the run's record of what the server acknowledged: per
// conversation, who should receive it and, per seq, who sent it. The
// integrity check compares it with the receivers. mu guards convs and each
// convLog. Lock order: receiver.mu -> ledger.mu (check reads a receiver
// and asks the ledger about each seq); nothing else holds two locks.
type ledger struct {
	mu       sync.Mutex
	convs    map[string]*convLog
	expected atomic.Int64 // deliveries owed for what was acked so far
	acked    atomic.Int64
	strange  atomic.Int64 // sent frames of conversations the run did not make
}

type convLog struct {
	members []*user
	senders []int32 // index seq: sender idx+1, serverSender, or 0 when not acked
	acked   int64
}

// serverSender marks a seq stored by the server (broadcast, push): every
// member is owed it.
const serverSender = -1

func newLedger() *ledger { return &ledger{convs: map[string]*convLog{}} }

// conv registers a conversation and its receivers.
func (l *ledger) conv(name string, members []*user) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.convs[name] = &convLog{members: members}
}

// ack notes that seq of conv was stored, sent by sender (a user idx or
// serverSender). A repeated ack of one seq (a re-sent client_msg_id)
// counts once.
func (l *ledger) ack(conv string, seq int64, sender int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.convs[conv]
	if c == nil || seq <= 0 {
		l.strange.Add(1)
		return
	}
	if seq >= int64(len(c.senders)) {
		grown := make([]int32, max(2*len(c.senders), int(seq)+1, 16))
		copy(grown, c.senders)
		c.senders = grown
	}
	if c.senders[seq] != 0 {
		return
	}
	v := int32(serverSender)
	if sender != serverSender {
		v = int32(sender + 1)
	}
	c.senders[seq] = v
	c.acked++
	l.acked.Add(1)
	owed := int64(len(c.members))
	if sender != serverSender && slices.ContainsFunc(c.members, func(u *user) bool { return u.idx == sender }) {
		owed--
	}
	l.expected.Add(owed)
}

type owedKind int

const (
	owedYes owedKind = iota
	owedNot          // never acked to the run: informational (a sent frame may be lost with its connection)
	owedOwn          // m sent it on its only connection, which had it from its sent frame
)

// owed says whether seq of conv is owed to m. It takes l.mu, so the lock
// order is receiver.mu -> ledger.mu.
func (l *ledger) owed(conv string, seq int64, m *user) owedKind {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.convs[conv]
	if c == nil || seq >= int64(len(c.senders)) || c.senders[seq] == 0 {
		return owedNot
	}
	if int(c.senders[seq]) == m.idx+1 {
		return owedOwn
	}
	return owedYes
}

// integrity is the report's end: what was sent, acknowledged, stored and
// delivered, and what is missing or doubled per receiver by seq.
type integrity struct {
	Sent          int64    `json:"sent"`
	Acked         int64    `json:"acked"`
	Unacked       int64    `json:"unacked"` // sent without a sent frame (not owed to anyone)
	Stored        int64    `json:"stored"`  // -1: the target stores nothing
	StoredMissing int64    `json:"stored_missing"`
	Expected      int64    `json:"expected_deliveries"`
	Delivered     int64    `json:"delivered"`          // message frames received, duplicates included
	Unowed        int64    `json:"delivered_not_owed"` // deliveries of seqs never acked to the run
	Echoed        int64    `json:"echoed"`             // a sender's own message delivered back to its (only) connection: a duplicate for that device
	Missing       int64    `json:"missing"`
	Duplicates    int64    `json:"duplicates"`
	DupAfterAck   int64    `json:"duplicates_after_ack"` // of those, copies of a seq the receiver had already acked
	Errors        int64    `json:"errors"`               // error frames and strange acks
	Problems      []string `json:"problems,omitempty"`
	OK            bool     `json:"ok"`
}

func (in *integrity) problem(format string, args ...any) {
	if len(in.Problems) < 20 {
		in.Problems = append(in.Problems, fmt.Sprintf(format, args...))
	}
}

// check computes the integrity numbers: every receiver of every
// conversation must hold each acked seq that it did not send exactly once.
// stored, when non-nil, reads back a conversation's stored seqs.
func (l *ledger) check(ctx context.Context, sent, errs int64, stored func(ctx context.Context, conv string, members []*user) ([]int64, error)) integrity {
	in := integrity{Sent: sent, Acked: l.acked.Load(), Expected: l.expected.Load(), Errors: errs + l.strange.Load()}
	in.Unacked = max(sent-in.Acked, 0)
	if stored == nil {
		in.Stored = -1
	}
	l.mu.Lock()
	names := make([]string, 0, len(l.convs))
	for name := range l.convs {
		names = append(names, name)
	}
	l.mu.Unlock()
	slices.Sort(names)
	seenRx := map[*receiver]bool{}
	for _, name := range names {
		l.mu.Lock()
		c := l.convs[name]
		senders := slices.Clone(c.senders)
		members := c.members
		l.mu.Unlock()
		for _, m := range members {
			for seq, s := range senders {
				if s == 0 || int(s) == m.idx+1 {
					continue
				}
				if m.rx.count(name, int64(seq)) == 0 {
					in.Missing++
					in.problem("missing: user %s %s seq %d", m.id, name, seq)
				}
			}
			if !seenRx[m.rx] {
				seenRx[m.rx] = true
				in.DupAfterAck += m.rx.afterAck.Load()
				m.rx.duplicates(func(conv string, seq int64, n int) {
					in.Duplicates += int64(n - 1)
					in.problem("duplicate: user %s %s seq %d received %d times", m.id, conv, seq, n)
				})
				m.rx.mu.Lock()
				for conv, cr := range m.rx.convs {
					for seq, n := range cr.counts {
						if n == 0 || cr.system[int64(seq)] {
							continue
						}
						in.Delivered += int64(n)
						switch l.owed(conv, int64(seq), m) {
						case owedNot:
							in.Unowed++
						case owedOwn:
							in.Echoed++
							in.problem("echoed: user %s got its own %s seq %d back on the sending connection", m.id, conv, seq)
						}
					}
				}
				m.rx.mu.Unlock()
			}
		}
		if stored == nil || c.acked == 0 {
			continue
		}
		seqs, err := stored(ctx, name, members)
		if err != nil {
			in.Errors++
			in.problem("read back %s: %v", name, err)
			continue
		}
		in.Stored += int64(len(seqs))
		have := map[int64]bool{}
		for _, s := range seqs {
			have[s] = true
		}
		for seq, s := range senders {
			if s != 0 && !have[int64(seq)] {
				in.StoredMissing++
				in.problem("not stored: %s seq %d", name, seq)
			}
		}
	}
	in.OK = in.Missing == 0 && in.Duplicates == 0 && in.Echoed == 0 && in.StoredMissing == 0
	return in
}
