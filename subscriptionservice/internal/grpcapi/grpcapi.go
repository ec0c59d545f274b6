// Package grpcapi is the subscriptionservice's internal gRPC API for other
// teams' services, served with mutual TLS: privateim.subscription.v1
// Subscriptions (CreateArticle, Publish, ListArticles, with the rules of the
// HTTP API for the acting user the caller names), the gRPC health service
// and server reflection when on (foundation/grpcserver). Errors become gRPC codes
// here, once, by grpcserver.Status; causes of internal errors go to the log
// only.
//
// It may import grpc, the protos and the features; never an adapter.
package grpcapi

import (
	"context"
	"log/slog"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	subscriptionv1 "github.com/privateim/privateim/protos/subscription/v1"

	"github.com/privateim/privateim/foundation/grpcserver"
	"github.com/privateim/privateim/subscriptionservice/internal/article"
)

// Access is who may call each method. Its callers are other teams'
// services, which no certificate of ours names yet: the operator's
// certificate (tlsconfig.Operator) may call them all, and a new caller gets
// its identity listed here. A new RPC goes here in the same commit
// (TestAccessNamesEveryMethod).
var Access = grpcserver.Allow{
	subscriptionv1.Subscriptions_CreateArticle_FullMethodName: {},
	subscriptionv1.Subscriptions_Publish_FullMethodName:       {},
	subscriptionv1.Subscriptions_ListArticles_FullMethodName:  {},
}

// NewServer builds the server with Subscriptions registered behind Access,
// reflection when asked for; it reports NOT_SERVING until SetServing(true).
// opts add to the server's (metrics and tracing interceptors).
func NewServer(log *slog.Logger, articles *article.Service, creds credentials.TransportCredentials, reflection bool, opts ...grpc.ServerOption) *grpcserver.Server {
	s := grpcserver.New(creds, grpcserver.Options{Allow: Access, Log: log, Reflection: reflection, Server: opts})
	subscriptionv1.RegisterSubscriptionsServer(s, &subscriptionsServer{log: log, articles: articles})
	return s
}

type subscriptionsServer struct {
	subscriptionv1.UnimplementedSubscriptionsServer
	log      *slog.Logger
	articles *article.Service
}

func positive(field string, v int64) error {
	if v <= 0 {
		return status.Error(codes.InvalidArgument, field+": required, > 0")
	}
	return nil
}

func (s *subscriptionsServer) CreateArticle(ctx context.Context, r *subscriptionv1.CreateArticleRequest) (*subscriptionv1.Article, error) {
	if err := positive("acting_user_id", r.GetActingUserId()); err != nil {
		return nil, err
	}
	if err := positive("subscription_id", r.GetSubscriptionId()); err != nil {
		return nil, err
	}
	a, err := s.articles.Create(ctx, r.GetActingUserId(), r.GetSubscriptionId(),
		article.Input{Title: r.GetTitle(), Body: r.GetBody(), CoverURL: r.GetCoverUrl()})
	if err != nil {
		return nil, grpcserver.Status(ctx, s.log, "create article", err)
	}
	return articlePB(a), nil
}

func (s *subscriptionsServer) Publish(ctx context.Context, r *subscriptionv1.PublishRequest) (*subscriptionv1.Article, error) {
	for _, f := range []struct {
		name string
		v    int64
	}{{"acting_user_id", r.GetActingUserId()}, {"subscription_id", r.GetSubscriptionId()}, {"article_id", r.GetArticleId()}} {
		if err := positive(f.name, f.v); err != nil {
			return nil, err
		}
	}
	a, err := s.articles.Publish(ctx, r.GetActingUserId(), r.GetSubscriptionId(), r.GetArticleId())
	if err != nil {
		return nil, grpcserver.Status(ctx, s.log, "publish", err)
	}
	return articlePB(a), nil
}

func (s *subscriptionsServer) ListArticles(ctx context.Context, r *subscriptionv1.ListArticlesRequest) (*subscriptionv1.ListArticlesResponse, error) {
	if err := positive("acting_user_id", r.GetActingUserId()); err != nil {
		return nil, err
	}
	if err := positive("subscription_id", r.GetSubscriptionId()); err != nil {
		return nil, err
	}
	limit := int(r.GetLimit())
	if limit == 0 {
		limit = 20
	}
	if limit < 0 || limit > 100 {
		return nil, status.Error(codes.InvalidArgument, "limit: 0..100")
	}
	as, next, err := s.articles.List(ctx, r.GetActingUserId(), r.GetSubscriptionId(), article.Page{Limit: limit, Token: r.GetPageToken()})
	if err != nil {
		return nil, grpcserver.Status(ctx, s.log, "list articles", err)
	}
	out := &subscriptionv1.ListArticlesResponse{NextPageToken: next}
	for _, a := range as {
		out.Articles = append(out.Articles, articlePB(a))
	}
	return out, nil
}

func articlePB(a article.Article) *subscriptionv1.Article {
	out := &subscriptionv1.Article{
		Id: a.ID, SubscriptionId: a.SubscriptionID, AuthorId: a.AuthorID, Title: a.Title, Body: a.Body,
		CoverUrl: a.CoverURL, State: subscriptionv1.ArticleState(a.State), RejectReason: a.RejectReason,
		CreatedAt: timestamppb.New(a.CreatedAt), UpdatedAt: timestamppb.New(a.UpdatedAt), Pushed: a.Pushed,
	}
	if !a.PublishedAt.IsZero() {
		out.PublishedAt = timestamppb.New(a.PublishedAt)
	}
	return out
}
