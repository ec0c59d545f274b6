// Package grpcapi is the subscriptionservice's internal gRPC API for other
// teams' services, served with mutual TLS: privateim.subscription.v1
// Subscriptions (CreateArticle, Publish, ListArticles, with the rules of the
// HTTP API for the acting user the caller names), the gRPC health service
// and server reflection. Errors become gRPC codes here, once (codeOf);
// causes of internal errors go to the log only.
//
// It may import grpc, the protos and the features; never an adapter.
package grpcapi

import (
	"context"
	"errors"
	"log/slog"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	subscriptionv1 "github.com/privateim/privateim/protos/subscription/v1"

	"github.com/privateim/privateim/subscriptionservice/internal/article"
	"github.com/privateim/privateim/foundation/errs"
)

// Server is the gRPC server with its health service.
type Server struct {
	grpc   *grpc.Server
	health *health.Server
}

// NewServer builds the server; it reports NOT_SERVING until SetServing(true).
func NewServer(log *slog.Logger, articles *article.Service, creds credentials.TransportCredentials) *Server {
	s := &Server{grpc: grpc.NewServer(grpc.Creds(creds)), health: health.NewServer()}
	subscriptionv1.RegisterSubscriptionsServer(s.grpc, &subscriptionsServer{log: log, articles: articles})
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)
	s.SetServing(false)
	return s
}

// Serve accepts on lis until Shutdown.
func (s *Server) Serve(lis net.Listener) error {
	if err := s.grpc.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

// SetServing sets the health status of every service.
func (s *Server) SetServing(ok bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if ok {
		st = healthpb.HealthCheckResponse_SERVING
	}
	s.health.SetServingStatus("", st)
	s.health.SetServingStatus(subscriptionv1.Subscriptions_ServiceDesc.ServiceName, st)
}

// Shutdown reports NOT_SERVING, then stops gracefully; when ctx ends first
// the calls still running are cut.
func (s *Server) Shutdown(ctx context.Context) {
	s.health.Shutdown()
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.grpc.Stop()
		<-done
	}
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
		return nil, statusOf(ctx, s.log, "create article", err)
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
		return nil, statusOf(ctx, s.log, "publish", err)
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
		return nil, statusOf(ctx, s.log, "list articles", err)
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

// codeOf is the one table from error kinds to gRPC codes.
var codeOf = map[errs.Kind]codes.Code{
	errs.KindInvalid:          codes.InvalidArgument,
	errs.KindUnauthenticated:  codes.Unauthenticated,
	errs.KindForbidden:        codes.PermissionDenied,
	errs.KindNotFound:         codes.NotFound,
	errs.KindConflict:         codes.AlreadyExists,
	errs.KindState:            codes.FailedPrecondition,
	errs.KindTooLarge:         codes.InvalidArgument,
	errs.KindUnsupportedMedia: codes.InvalidArgument,
	errs.KindUnavailable:      codes.Unavailable,
}

// statusOf turns err into a status: an *errs.Error of a known kind keeps
// its message (prefixed by the field at fault, "title: required"); anything
// else is logged and answered Internal.
func statusOf(ctx context.Context, log *slog.Logger, op string, err error) error {
	if e, ok := errs.As(err); ok {
		if c, ok := codeOf[e.Kind]; ok {
			if e.Field != "" {
				return status.Error(c, e.Field+": "+e.Message)
			}
			return status.Error(c, e.Message)
		}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	}
	log.ErrorContext(ctx, "call failed", "op", op, "err", err)
	return status.Error(codes.Internal, "internal error")
}
