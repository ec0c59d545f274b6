package grpcapi_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/privateim/privateim/foundation/poll"
	"github.com/privateim/privateim/foundation/tlsconfig"
	datav1 "github.com/privateim/privateim/protos/data/v1"
	userv1 "github.com/privateim/privateim/protos/user/v1"

	"github.com/privateim/privateim/userservice/internal/usertest"
)

// searcher finds subscription accounts through the public HTTP API, the way
// a client of the userservice does.
type searcher struct {
	e  *usertest.Env
	as usertest.Account
}

// find returns "id name" of every account the search finds.
func (s searcher) find(t *testing.T, q string) []string {
	t.Helper()
	r := s.e.Do(t, http.MethodGet, "/api/v1/subscriptions/search?q="+url.QueryEscape(q), s.as.Token, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("search %q: %d %s", q, r.Status, r.Body)
	}
	var out struct {
		Subscriptions []struct{ ID, Name string }
	}
	r.Decode(t, &out)
	found := make([]string, 0, len(out.Subscriptions))
	for _, sub := range out.Subscriptions {
		found = append(found, sub.ID+" "+sub.Name)
	}
	return found
}

// eventually polls until the search for each query finds exactly want
// ("id name" entries; none for nothing): index writes may show late.
func (s searcher) eventually(t *testing.T, want []string, queries ...string) {
	t.Helper()
	for _, q := range queries {
		poll.Eventually(t, 10*time.Second, func() error {
			if got := s.find(t, q); !slices.Equal(got, want) {
				return fmt.Errorf("search %q found %q, want %q", q, got, want)
			}
			return nil
		})
	}
}

// dataSubscriptions is a client of the DataService's Subscriptions: the
// test stands in for the subscription service, which writes accounts there
// and then calls Directory.
func dataSubscriptions(t *testing.T, e *usertest.Env) datav1.SubscriptionsClient {
	t.Helper()
	return datav1.NewSubscriptionsClient(dial(t, e.Data.Addr, mtls(t, e.Certs.Client)))
}

func wantStatus(t *testing.T, what string, err error, c codes.Code, msg string) {
	t.Helper()
	if st := status.Convert(err); st.Code() != c || (msg != "" && st.Message() != msg) {
		t.Errorf("%s: %v; want %v %q", what, err, c, msg)
	}
}

func TestDirectory(t *testing.T) {
	t.Parallel()
	e := usertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := userv1.NewDirectoryClient(dial(t, e.GRPCAddr, mtls(t, e.Certs.Client)))
	data := dataSubscriptions(t, e)
	owner := e.NewAccount(t, "Publisher")
	ownerID, err := strconv.ParseInt(owner.ID, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	s := searcher{e: e, as: e.NewAccount(t, "Reader")}

	const name, renamed = "Daily 张伟明 Notes", "Weekly 李雷 Letters"
	sub, err := data.CreateSubscription(ctx, &datav1.CreateSubscriptionRequest{Name: name, OwnerId: ownerID})
	if err != nil {
		t.Fatal(err)
	}
	id := sub.GetId()
	entry := func(n string) []string { return []string{strconv.FormatInt(id, 10) + " " + n} }
	index := func(t *testing.T, n string) {
		t.Helper()
		if _, err := dir.IndexSubscription(ctx, &userv1.IndexSubscriptionRequest{SubscriptionId: id, Name: n}); err != nil {
			t.Fatalf("index %q: %v", n, err)
		}
	}
	remove := func(t *testing.T) {
		t.Helper()
		if _, err := dir.RemoveSubscription(ctx, &userv1.RemoveSubscriptionRequest{SubscriptionId: id}); err != nil {
			t.Fatalf("remove: %v", err)
		}
	}

	// Words inside the name are found by the index only: the DataService's
	// fallback matches name prefixes, and a search that reaches it by a
	// prefix would index the account itself.
	t.Run("not indexed before the call", func(t *testing.T) {
		s.eventually(t, nil, "notes", "伟明")
	})

	t.Run("client without a certificate is refused", func(t *testing.T) {
		pool, err := tlsconfig.Client(e.Certs.Client, "")
		if err != nil {
			t.Fatal(err)
		}
		noCert := credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool.RootCAs})
		c := userv1.NewDirectoryClient(dial(t, e.GRPCAddr, noCert))
		cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
		defer ccancel()
		_, err = c.IndexSubscription(cctx, &userv1.IndexSubscriptionRequest{SubscriptionId: id, Name: name})
		wantStatus(t, "index without a certificate", err, codes.Unavailable, "")
		_, err = c.RemoveSubscription(cctx, &userv1.RemoveSubscriptionRequest{SubscriptionId: id})
		wantStatus(t, "remove without a certificate", err, codes.Unavailable, "")
		s.eventually(t, nil, "notes")
	})

	t.Run("health", func(t *testing.T) {
		h := healthpb.NewHealthClient(dial(t, e.GRPCAddr, mtls(t, e.Certs.Client)))
		resp, err := h.Check(ctx, &healthpb.HealthCheckRequest{Service: userv1.Directory_ServiceDesc.ServiceName})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("health of Directory = %v, %v; want SERVING", resp, err)
		}
	})

	t.Run("index finds it by prefix and CJK", func(t *testing.T) {
		index(t, name)
		index(t, name) // idempotent: still one document
		s.eventually(t, entry(name), "notes", "dai", "伟明", "张", "张伟明", "Daily 张伟明 Notes", "ＤＡＩＬＹ")
		s.eventually(t, nil, "明伟", "otes")
	})

	t.Run("rename", func(t *testing.T) {
		if _, err := data.UpdateSubscription(ctx, &datav1.UpdateSubscriptionRequest{Id: id, Name: proto.String(renamed)}); err != nil {
			t.Fatal(err)
		}
		index(t, renamed)
		s.eventually(t, entry(renamed), "letters", "wee", "李雷")
		s.eventually(t, nil, "notes", "daily", "伟明")
	})

	t.Run("a late call with the old name indexes the stored one", func(t *testing.T) {
		index(t, name)
		s.eventually(t, entry(renamed), "letters", "李雷")
		s.eventually(t, nil, "notes", "伟明")
	})

	t.Run("remove takes it out of the index", func(t *testing.T) {
		remove(t)
		remove(t) // idempotent
		s.eventually(t, nil, "letters", "李雷")
		index(t, renamed)
		s.eventually(t, entry(renamed), "letters")
	})

	t.Run("delete", func(t *testing.T) {
		if _, err := data.DeleteSubscriptionPlus(ctx, &datav1.DeleteSubscriptionPlusRequest{Id: id}); err != nil {
			t.Fatal(err)
		}
		remove(t)
		// "weekly" is a prefix: the DataService fallback leaves deleted
		// accounts out too.
		s.eventually(t, nil, "letters", "李雷", "weekly")
		_, err := dir.IndexSubscription(ctx, &userv1.IndexSubscriptionRequest{SubscriptionId: id, Name: renamed})
		wantStatus(t, "index a deleted account", err, codes.FailedPrecondition, "the subscription account is deleted")
		s.eventually(t, nil, "letters", "weekly")
		remove(t)
	})

	t.Run("unknown id", func(t *testing.T) {
		_, err := dir.IndexSubscription(ctx, &userv1.IndexSubscriptionRequest{SubscriptionId: 1 << 62, Name: "Nobody"})
		wantStatus(t, "index an unknown id", err, codes.NotFound, "no such subscription account")
		if _, err := dir.RemoveSubscription(ctx, &userv1.RemoveSubscriptionRequest{SubscriptionId: 1 << 62}); err != nil {
			t.Errorf("remove an unknown id: %v; want OK", err)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		long := strings.Repeat("伟", 65)
		for _, tc := range []struct {
			name string
			req  *userv1.IndexSubscriptionRequest
			code codes.Code
			msg  string
		}{
			{"no id", &userv1.IndexSubscriptionRequest{Name: "x"}, codes.InvalidArgument, "subscription_id: required"},
			{"negative id", &userv1.IndexSubscriptionRequest{SubscriptionId: -1, Name: "x"}, codes.InvalidArgument, "subscription_id: must be positive"},
			{"id checked first", &userv1.IndexSubscriptionRequest{}, codes.InvalidArgument, "subscription_id: required"},
			{"no name", &userv1.IndexSubscriptionRequest{SubscriptionId: id}, codes.InvalidArgument, "name: required"},
			{"blank name", &userv1.IndexSubscriptionRequest{SubscriptionId: id, Name: " \t "}, codes.InvalidArgument, "name: required"},
			{"name of 65 characters", &userv1.IndexSubscriptionRequest{SubscriptionId: id, Name: long}, codes.InvalidArgument, "name: at most 64 characters"},
			{"control character in name", &userv1.IndexSubscriptionRequest{SubscriptionId: id, Name: "a\x00b"}, codes.InvalidArgument, "name: control, invisible or blank-looking characters (U+0000) are not allowed"},
			{"hangul filler name", &userv1.IndexSubscriptionRequest{SubscriptionId: id, Name: "\u3164"}, codes.InvalidArgument, "name: control, invisible or blank-looking characters (U+1160) are not allowed"}, // NFKC maps U+3164 to U+1160
			// 64 characters of 3 bytes each pass: the limit counts characters.
			{"name of 64 characters", &userv1.IndexSubscriptionRequest{SubscriptionId: 1 << 62, Name: long[len("伟"):]}, codes.NotFound, "no such subscription account"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := dir.IndexSubscription(ctx, tc.req)
				wantStatus(t, "index", err, tc.code, tc.msg)
			})
		}
		for _, tc := range []struct {
			name string
			id   int64
			msg  string
		}{
			{"remove without id", 0, "subscription_id: required"},
			{"remove negative id", -5, "subscription_id: must be positive"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := dir.RemoveSubscription(ctx, &userv1.RemoveSubscriptionRequest{SubscriptionId: tc.id})
				wantStatus(t, "remove", err, codes.InvalidArgument, tc.msg)
			})
		}
	})
}
