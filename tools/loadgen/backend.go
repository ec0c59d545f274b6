package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"

	"github.com/privateim/privateim/foundation/tlsconfig"
	datav1 "github.com/privateim/privateim/protos/data/v1"
	messagev1 "github.com/privateim/privateim/protos/message/v1"
)

// backend is what a workload runs against: the real stack, or the baseline
// relay. Both speak the same WebSocket frames, so the same clients drive
// them; they differ in how the population is made and in what they store.
type backend interface {
	name() string
	wsURL() string
	// signUp makes n users (with receivers), concurrently.
	signUp(ctx context.Context, n int) ([]*user, error)
	// befriend makes each pair friends.
	befriend(ctx context.Context, pairs [][2]*user) error
	// newGroup makes a group of owner with members; returns its id.
	newGroup(ctx context.Context, owner *user, members []*user) (string, error)
	// newSubscription makes a subscription account of owner that the
	// followers follow; returns its id.
	newSubscription(ctx context.Context, owner *user, followers []*user) (string, error)
	// broadcast posts content to the subscription's followers: its seq.
	broadcast(ctx context.Context, sub string, owner *user, clientMsgID string, content []byte) (int64, error)
	// push stores a notice in each user's sys: conversation: their seqs.
	push(ctx context.Context, users []*user, clientMsgID string, content []byte) ([]int64, error)
	// stores says whether messages are stored (sync reads them back,
	// offline users get them on connect).
	stores() bool
	// rss is the server's resident memory in bytes; ok false when unknown.
	rss() (int64, bool)
	// procs are the server processes on this machine whose CPU time a
	// report shows, by name (none for the in-process relay).
	procs() map[string]int
}

// stackBackend is the real PrivateIM stack: sign-ups and relations through
// the userservice's public HTTP API, Broadcast and Push through the
// messageservice's internal gRPC, subscription accounts made in the
// DataService (the subscriptionservice needs a reviewer to publish), and,
// with fast set, relations written to the DataService directly.
type stackBackend struct {
	userURL  string // http://host:port
	ws       string
	pid      int            // of the messageservice; 0 when unknown
	others   map[string]int // pids of the other services, by name (--local)
	mysql    int            // pid of the MySQL server, when found on this machine
	fast     bool
	workers  int
	http     *http.Client
	msg      messagev1.MessageServiceClient
	friends  datav1.FriendsClient
	groups   datav1.GroupsClient
	subs     datav1.SubscriptionsClient
	conns    []*grpc.ClientConn
	runID    string
	password string
}

func newStackBackend(userURL, wsURL, msgAddr, dataAddr string, certs tlsconfig.Files, pid int, fast bool, workers int) (*stackBackend, error) {
	creds, err := tlsconfig.ClientCredentials(certs, "")
	if err != nil {
		return nil, fmt.Errorf("client certificate: %w", err)
	}
	b := &stackBackend{
		userURL: strings.TrimSuffix(userURL, "/"), ws: wsURL, pid: pid, fast: fast, workers: max(workers, 1),
		http:  &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: max(workers, 1)}},
		runID: strings.ToLower(rand.Text()[:8]), password: "loadgen-" + rand.Text()[:12],
	}
	mc, err := grpc.NewClient(msgAddr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, fmt.Errorf("message gRPC %s: %w", msgAddr, err)
	}
	dc, err := grpc.NewClient(dataAddr, grpc.WithTransportCredentials(creds))
	if err != nil {
		mc.Close()
		return nil, fmt.Errorf("data gRPC %s: %w", dataAddr, err)
	}
	b.conns = []*grpc.ClientConn{mc, dc}
	b.msg = messagev1.NewMessageServiceClient(mc)
	b.friends = datav1.NewFriendsClient(dc)
	b.groups, b.subs = datav1.NewGroupsClient(dc), datav1.NewSubscriptionsClient(dc)
	return b, nil
}

func (b *stackBackend) close() {
	for _, c := range b.conns {
		c.Close()
	}
}

func (b *stackBackend) name() string  { return "stack" }
func (b *stackBackend) wsURL() string { return b.ws }
func (b *stackBackend) stores() bool  { return true }
func (b *stackBackend) rss() (int64, bool) {
	if b.pid == 0 {
		return 0, false
	}
	v, err := readRSS(b.pid)
	return v, err == nil
}

func (b *stackBackend) procs() map[string]int {
	out := maps.Clone(b.others)
	if out == nil {
		out = map[string]int{}
	}
	if b.pid != 0 {
		out["messageservice"] = b.pid
	}
	if b.mysql != 0 {
		out["mysql"] = b.mysql
	}
	return out
}

// do calls the HTTP API; out, when set, gets the JSON answer.
func (b *stackBackend) do(ctx context.Context, method, path, token string, in any, want int, out any) error {
	var body io.Reader
	if in != nil {
		j, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.userURL+"/api/v1"+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: HTTP %d %s", method, path, resp.StatusCode, bytes.TrimSpace(raw))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

// parallel runs fn(i) for i in [0, n) on workers goroutines and returns
// the first error (the others stop taking work).
func parallel(ctx context.Context, workers, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

func (b *stackBackend) signUp(ctx context.Context, n int) ([]*user, error) {
	us := make([]*user, n)
	err := parallel(ctx, b.workers, n, func(ctx context.Context, i int) error {
		var out struct {
			Token string `json:"token"`
			User  struct {
				ID string `json:"id"`
			} `json:"user"`
		}
		email := fmt.Sprintf("lg-%s-%d@example.com", b.runID, i)
		if err := b.do(ctx, http.MethodPost, "/auth/signup", "", map[string]string{"name": "lg " + strconv.Itoa(i), "email": email, "password": b.password}, http.StatusCreated, &out); err != nil {
			return err
		}
		us[i] = &user{idx: i, id: out.User.ID, token: out.Token, rx: newReceiver()}
		return nil
	})
	return us, err
}

func id64(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }

func (b *stackBackend) befriend(ctx context.Context, pairs [][2]*user) error {
	return parallel(ctx, b.workers, len(pairs), func(ctx context.Context, i int) error {
		a, r := pairs[i][0], pairs[i][1]
		if b.fast {
			for _, p := range [][2]*user{{a, r}, {r, a}} {
				if _, err := b.friends.PutFriendship(ctx, &datav1.PutFriendshipRequest{SelfId: id64(p[0].id), FriendId: id64(p[1].id), Accepted: true}); err != nil {
					return fmt.Errorf("put friendship %s-%s: %w", p[0].id, p[1].id, err)
				}
			}
			return nil
		}
		if err := b.do(ctx, http.MethodPost, "/friends/requests", a.token, map[string]string{"user_id": r.id}, http.StatusCreated, nil); err != nil {
			return err
		}
		return b.do(ctx, http.MethodPost, "/friends/requests/"+a.id+"/accept", r.token, map[string]string{}, http.StatusOK, nil)
	})
}

func (b *stackBackend) newGroup(ctx context.Context, owner *user, members []*user) (string, error) {
	if b.fast {
		ids := make([]int64, 0, len(members))
		for _, m := range members {
			if m != owner {
				ids = append(ids, id64(m.id))
			}
		}
		resp, err := b.groups.CreateGroupPlus(ctx, &datav1.CreateGroupPlusRequest{Name: "lg " + b.runID, OwnerId: id64(owner.id), MemberIds: ids})
		if err != nil {
			return "", fmt.Errorf("create group: %w", err)
		}
		return strconv.FormatInt(resp.GetGroup().GetId(), 10), nil
	}
	var g struct {
		ID string `json:"id"`
	}
	if err := b.do(ctx, http.MethodPost, "/groups", owner.token, map[string]any{"name": "lg " + b.runID, "member_ids": []string{}}, http.StatusCreated, &g); err != nil {
		return "", err
	}
	if err := b.do(ctx, http.MethodPatch, "/groups/"+g.ID+"/access", owner.token, map[string]string{"join_policy": "open"}, http.StatusOK, nil); err != nil {
		return "", err
	}
	err := parallel(ctx, b.workers, len(members), func(ctx context.Context, i int) error {
		if members[i] == owner {
			return nil
		}
		return b.do(ctx, http.MethodPost, "/groups/"+g.ID+"/join", members[i].token, nil, http.StatusOK, nil)
	})
	return g.ID, err
}

func (b *stackBackend) newSubscription(ctx context.Context, owner *user, followers []*user) (string, error) {
	sub, err := b.subs.CreateSubscription(ctx, &datav1.CreateSubscriptionRequest{Name: "lg " + b.runID + " " + strings.ToLower(rand.Text()[:6]), OwnerId: id64(owner.id)})
	if err != nil {
		return "", fmt.Errorf("create subscription: %w", err)
	}
	sid := strconv.FormatInt(sub.GetId(), 10)
	err = parallel(ctx, b.workers, len(followers), func(ctx context.Context, i int) error {
		if b.fast {
			if _, err := b.subs.Follow(ctx, &datav1.FollowRequest{SubscriptionId: sub.GetId(), UserId: id64(followers[i].id)}); err != nil {
				return fmt.Errorf("follow: %w", err)
			}
			return nil
		}
		return b.do(ctx, http.MethodPost, "/subscriptions/"+sid+"/follow", followers[i].token, nil, http.StatusOK, nil)
	})
	return sid, err
}

func (b *stackBackend) broadcast(ctx context.Context, sub string, owner *user, clientMsgID string, content []byte) (int64, error) {
	resp, err := b.msg.Broadcast(ctx, &messagev1.BroadcastRequest{SubscriptionId: id64(sub), SenderId: id64(owner.id), ClientMsgId: clientMsgID, Kind: "article", Content: content})
	if err != nil {
		return 0, fmt.Errorf("broadcast: %w", err)
	}
	return resp.GetStored().GetSeq(), nil
}

func (b *stackBackend) push(ctx context.Context, users []*user, clientMsgID string, content []byte) ([]int64, error) {
	seqs := make([]int64, 0, len(users))
	for start := 0; start < len(users); start += 1000 {
		chunk := users[start:min(start+1000, len(users))]
		ids := make([]int64, len(chunk))
		for i, u := range chunk {
			ids[i] = id64(u.id)
		}
		resp, err := b.msg.Push(ctx, &messagev1.PushRequest{UserIds: ids, ClientMsgId: clientMsgID, Kind: "notice", Content: content})
		if err != nil {
			return seqs, fmt.Errorf("push: %w", err)
		}
		for _, r := range resp.GetResults() {
			seqs = append(seqs, r.GetSeq())
		}
	}
	return seqs, nil
}
