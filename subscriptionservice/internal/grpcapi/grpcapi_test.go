package grpcapi_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/privateim/privateim/foundation/tlsconfig"
	subscriptionv1 "github.com/privateim/privateim/protos/subscription/v1"

	"github.com/privateim/privateim/subscriptionservice/internal/subtest"
)

func id(t *testing.T, s string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func wantCode(t *testing.T, what string, err error, code codes.Code, msg string) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != code || !strings.Contains(st.Message(), msg) {
		t.Fatalf("%s: %v, want %s containing %q", what, err, code, msg)
	}
}

// TestSubscriptionsAPI: CreateArticle, Publish and ListArticles over mutual
// TLS follow the HTTP API's rules for the acting user.
func TestSubscriptionsAPI(t *testing.T) {
	e := subtest.Start(t)
	owner := e.NewAccount(t, "Owner")
	fan := e.NewAccount(t, "Fan")
	stranger := e.NewAccount(t, "Stranger")
	reviewer := e.Reviewer(t)
	r := e.Do(t, http.MethodPost, "/api/v1/subscriptions", owner.Token, map[string]string{"name": "gRPC " + rand.Text()[:8]})
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var sub struct {
		ID string `json:"id"`
	}
	r.Decode(t, &sub)
	if r := e.UserDo(t, http.MethodPost, "/api/v1/subscriptions/"+sub.ID+"/follow", fan.Token, nil); r.Status != http.StatusOK {
		t.Fatalf("follow: %d %s", r.Status, r.Body)
	}

	creds, err := tlsconfig.ClientCredentials(e.Certs.Client, "")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(e.GRPCAddr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := subscriptionv1.NewSubscriptionsClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sid, oid := id(t, sub.ID), id(t, owner.ID)

	_, err = c.CreateArticle(ctx, &subscriptionv1.CreateArticleRequest{ActingUserId: id(t, stranger.ID), SubscriptionId: sid, Title: "x"})
	wantCode(t, "create by a stranger", err, codes.PermissionDenied, "owner")
	_, err = c.CreateArticle(ctx, &subscriptionv1.CreateArticleRequest{ActingUserId: oid, SubscriptionId: sid, Title: strings.Repeat("t", 121)})
	wantCode(t, "title too long", err, codes.InvalidArgument, "title:")
	_, err = c.CreateArticle(ctx, &subscriptionv1.CreateArticleRequest{SubscriptionId: sid, Title: "x"})
	wantCode(t, "no acting user", err, codes.InvalidArgument, "acting_user_id")
	_, err = c.CreateArticle(ctx, &subscriptionv1.CreateArticleRequest{ActingUserId: oid, SubscriptionId: 987654321, Title: "x"})
	wantCode(t, "unknown account", err, codes.NotFound, "")

	a, err := c.CreateArticle(ctx, &subscriptionv1.CreateArticleRequest{ActingUserId: oid, SubscriptionId: sid, Title: "Over gRPC", Body: "hello"})
	if err != nil || a.GetState() != subscriptionv1.ArticleState_ARTICLE_STATE_DRAFT || a.GetAuthorId() != oid {
		t.Fatalf("CreateArticle = %v, %v", a, err)
	}
	_, err = c.Publish(ctx, &subscriptionv1.PublishRequest{ActingUserId: oid, SubscriptionId: sid, ArticleId: a.GetId()})
	wantCode(t, "publish a draft", err, codes.FailedPrecondition, "is draft")

	aid := strconv.FormatInt(a.GetId(), 10)
	for _, step := range []struct{ token, path string }{
		{owner.Token, "/api/v1/subscriptions/" + sub.ID + "/articles/" + aid + "/submit"},
		{reviewer.Token, "/api/v1/review/articles/" + aid + "/approve"},
	} {
		if r := e.Do(t, http.MethodPost, step.path, step.token, nil); r.Status != http.StatusOK {
			t.Fatalf("POST %s: %d %s", step.path, r.Status, r.Body)
		}
	}
	_, err = c.Publish(ctx, &subscriptionv1.PublishRequest{ActingUserId: id(t, fan.ID), SubscriptionId: sid, ArticleId: a.GetId()})
	wantCode(t, "publish by a follower", err, codes.PermissionDenied, "owner")
	p, err := c.Publish(ctx, &subscriptionv1.PublishRequest{ActingUserId: oid, SubscriptionId: sid, ArticleId: a.GetId()})
	if err != nil || p.GetState() != subscriptionv1.ArticleState_ARTICLE_STATE_PUBLISHED || p.GetPublishedAt() == nil || p.GetPushed() {
		t.Fatalf("Publish = %v, %v; want published, queued (the message service is down)", p, err)
	}
	if _, err := c.CreateArticle(ctx, &subscriptionv1.CreateArticleRequest{ActingUserId: oid, SubscriptionId: sid, Title: "Draft"}); err != nil {
		t.Fatal(err)
	}

	l, err := c.ListArticles(ctx, &subscriptionv1.ListArticlesRequest{ActingUserId: oid, SubscriptionId: sid})
	if err != nil || len(l.GetArticles()) != 2 {
		t.Fatalf("owner's ListArticles = %v, %v; want both", l, err)
	}
	l, err = c.ListArticles(ctx, &subscriptionv1.ListArticlesRequest{ActingUserId: id(t, fan.ID), SubscriptionId: sid, Limit: 10})
	if err != nil || len(l.GetArticles()) != 1 || l.GetArticles()[0].GetId() != a.GetId() {
		t.Fatalf("follower's ListArticles = %v, %v; want the published one", l, err)
	}
	_, err = c.ListArticles(ctx, &subscriptionv1.ListArticlesRequest{ActingUserId: id(t, stranger.ID), SubscriptionId: sid})
	wantCode(t, "list by a stranger", err, codes.PermissionDenied, "")
	_, err = c.ListArticles(ctx, &subscriptionv1.ListArticlesRequest{ActingUserId: oid, SubscriptionId: sid, Limit: 101})
	wantCode(t, "limit too big", err, codes.InvalidArgument, "limit")

	// Without a client certificate the server refuses the connection.
	cfg, err := tlsconfig.Client(e.Certs.Client, "")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Certificates = nil
	noCert, err := grpc.NewClient(e.GRPCAddr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	defer noCert.Close()
	sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
	defer scancel()
	if _, err := subscriptionv1.NewSubscriptionsClient(noCert).ListArticles(sctx,
		&subscriptionv1.ListArticlesRequest{ActingUserId: oid, SubscriptionId: sid}); err == nil {
		t.Fatal("a client without a certificate was served")
	}
}
