package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/grpcdial"
	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/userservice/internal/usertest"
)

// benchConversations gives a user of e 1,000 conversations with one
// message each, written through the DataService as the operator: 500
// friends' 1:1s (the friend sent the last message) and 500 groups (the
// user owns them; half of the last messages are the user's).
func benchConversations(b *testing.B, e *usertest.Env) usertest.Account {
	b.Helper()
	ctx := context.Background()
	u := e.NewAccount(b, "Bench")
	uid, _ := strconv.ParseInt(u.ID, 10, 64)
	conn, err := grpcdial.Dial("dataservice", e.Data.Addr, e.Certs.Client)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	users, friends, groups, msgs := datav1.NewUsersClient(conn), datav1.NewFriendsClient(conn), datav1.NewGroupsClient(conn), datav1.NewMessagesClient(conn)
	var appends []*datav1.AppendMessageRequest
	text := func(i int) []byte {
		return fmt.Appendf(nil, `{"kind":"text","text":"message number %d, long enough to look like chat"}`, i)
	}
	for i := range 500 {
		f, err := users.CreateUser(ctx, &datav1.CreateUserRequest{Email: fmt.Sprintf("bench%d-%d@example.com", i, uid), Name: fmt.Sprint("Friend ", i), PasswordHash: "x"})
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range [][2]int64{{uid, f.GetId()}, {f.GetId(), uid}} {
			if _, err := friends.PutFriendship(ctx, &datav1.PutFriendshipRequest{SelfId: p[0], FriendId: p[1], Accepted: true}); err != nil {
				b.Fatal(err)
			}
		}
		lo, hi := min(uid, f.GetId()), max(uid, f.GetId())
		appends = append(appends, &datav1.AppendMessageRequest{Conversation: fmt.Sprintf("u:%d:%d", lo, hi), SenderId: f.GetId(), ClientMsgId: fmt.Sprint("d", i), Kind: "text", Content: text(i)})
		g, err := groups.CreateGroupPlus(ctx, &datav1.CreateGroupPlusRequest{Name: fmt.Sprint("Group ", i), OwnerId: uid, MemberIds: []int64{f.GetId()}})
		if err != nil {
			b.Fatal(err)
		}
		sender := uid
		if i%2 == 0 {
			sender = f.GetId()
		}
		appends = append(appends, &datav1.AppendMessageRequest{Conversation: fmt.Sprint("g:", g.GetGroup().GetId()), SenderId: sender, ClientMsgId: fmt.Sprint("g", i), Kind: "text", Content: text(i)})
	}
	res, err := msgs.AppendMessagesPlus(ctx, &datav1.AppendMessagesPlusRequest{Messages: appends})
	if err != nil {
		b.Fatal(err)
	}
	// The messageservice's cursor writer moves a sender's read seq to their
	// own message (AdvanceCursorsPlus sent); do what it would.
	var sent []*datav1.SentSeq
	for _, r := range res.GetResults() {
		if m := r.GetMessage(); m.GetSenderId() == uid {
			sent = append(sent, &datav1.SentSeq{UserId: uid, Conversation: m.GetConversation(), Seq: m.GetSeq()})
		}
	}
	if _, err := msgs.AdvanceCursorsPlus(ctx, &datav1.AdvanceCursorsPlusRequest{Sent: sent, NoResult: true}); err != nil {
		b.Fatal(err)
	}
	return u
}

// latencies runs get b.N times and reports the 50th and 99th percentile
// latencies in ms.
func latencies(b *testing.B, name string, get func() error) {
	var ds []time.Duration
	for b.Loop() {
		start := time.Now()
		if err := get(); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(start))
	}
	slices.Sort(ds)
	at := func(q float64) float64 { return float64(ds[min(len(ds)-1, int(q*float64(len(ds))))]) / 1e6 }
	b.ReportMetric(at(0.50), name+"-p50-ms")
	b.ReportMetric(at(0.99), name+"-p99-ms")
}

// BenchmarkConversationList: a user with 1,000 conversations reads the
// first page of 50 and the unread total over HTTP, through the userservice
// and the DataService (TLS, MariaDB). Run with -benchtime=500x for stable
// percentiles; docs/benchmarks.md has the figures.
func BenchmarkConversationList(b *testing.B) {
	e := usertest.Start(b)
	u := benchConversations(b, e)
	get := func(path string, check func([]byte) error) func() error {
		return func() error {
			req, _ := http.NewRequest(http.MethodGet, e.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+u.Token)
			resp, err := e.Client.Do(req)
			if err != nil {
				return err
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				return fmt.Errorf("GET %s: %d %s %v", path, resp.StatusCode, body, err)
			}
			return check(body)
		}
	}
	b.Run("first page of 50", func(b *testing.B) {
		latencies(b, "page", get("/api/v1/conversations?limit=50", func(body []byte) error {
			if len(body) < 50*200 {
				return fmt.Errorf("a short page: %s", body)
			}
			return nil
		}))
	})
	b.Run("unread total", func(b *testing.B) {
		// 500 1:1s with one unread each; 500 groups (created without a
		// notice) of which half have the friend's message unread.
		latencies(b, "unread", get("/api/v1/conversations/unread", func(body []byte) error {
			if string(body) != `{"total":750}` {
				return fmt.Errorf("unread %s, want 750", body)
			}
			return nil
		}))
	})
}
