// Package server wires the userservice from a Config: the DataService
// client, the features, the public HTTP API and the internal gRPC API. The
// binary (cmd/userservice) and the tests (usertest) both start it here, so
// what is tested is what runs.
//
// Shutdown order: /readyz reports not ready, HTTP Shutdown waits for the
// requests in flight, gRPC reports NOT_SERVING and stops gracefully, then
// the features and clients close (queued mails sent, DataService connection
// closed), all within ShutdownTimeout.
package server

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/gin-gonic/gin"
	"strings"

	"github.com/privateim/privateim/foundation/audit"
	"github.com/privateim/privateim/foundation/tlsconfig"

	"github.com/privateim/privateim/foundation/fileurl"
	"github.com/privateim/privateim/foundation/httpkit"
	"github.com/privateim/privateim/foundation/metrics"
	"github.com/privateim/privateim/foundation/runner"
	"github.com/privateim/privateim/userservice/internal/account"
	"github.com/privateim/privateim/userservice/internal/config"
	"github.com/privateim/privateim/userservice/internal/datastore"
	"github.com/privateim/privateim/userservice/internal/grpcapi"
	"github.com/privateim/privateim/userservice/internal/httpapi"
	"github.com/privateim/privateim/userservice/internal/mailer"
	"github.com/privateim/privateim/userservice/internal/media"
	"github.com/privateim/privateim/userservice/internal/ratelimit"
)

// Server is one userservice, listening once New returns.
type Server struct {
	runner.APIs // the servers, their listeners and the closers (run in reverse order after the servers stop)
	cfg         config.Config
	log         *slog.Logger
	data        *datastore.Client
	accounts    *account.Service
	api         *httpkit.API
	rel         relations // search index and relation events (relations.go)
	reg         *metrics.Registry
	metrics     *metrics.Server // nil unless METRICS_ADDR is set
}

// New builds everything and opens both listeners; Run serves. On error
// whatever was opened is closed.
func New(cfg config.Config, log *slog.Logger) (_ *Server, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{APIs: runner.APIs{Timeout: cfg.ShutdownTimeout, Log: log}, cfg: cfg, log: log}
	defer s.CloseOnError(&err)

	s.reg = metrics.New("userservice")
	if s.metrics, err = metrics.Start(cfg.MetricsAddr, s.reg, log); err != nil {
		return nil, err
	}
	s.Closers.Add("metrics", s.metrics.Close) // the last to close

	if s.data, err = datastore.Dial(cfg.DataAddr, cfg.DataTLS, s.reg.GRPCDialOptions()...); err != nil {
		return nil, err
	}
	s.Closers.Add("dataservice client", func(context.Context) error { return s.data.Close() })

	if err := s.openRelations(context.Background()); err != nil {
		return nil, err
	}

	mail, err := mailer.New(mailer.Options{Addr: cfg.SMTPAddr, User: cfg.SMTPUser, Password: cfg.SMTPPassword,
		From: cfg.MailFrom, Mode: mailer.Mode(cfg.SMTPTLS), CAFile: cfg.SMTPTLSCA})
	if err != nil {
		return nil, err
	}
	s.accounts, err = account.New(account.Deps{Store: s.data, Mailer: mail, Log: log, Changed: s.indexUser, Revoked: s.revokeSessions}, account.Config{
		JWTSecret:  []byte(cfg.JWTSecret),
		TokenTTL:   cfg.JWTTTL,
		BcryptCost: cfg.BcryptCost,
		ResetTTL:   cfg.ResetTTL,
		ResetURL:   strings.TrimRight(cfg.PublicURL, "/") + "/reset-password",
		VerifyTTL:  cfg.VerifyTTL,
		VerifyURL:  strings.TrimRight(cfg.PublicURL, "/") + "/verify-email",
	})
	if err != nil {
		return nil, err
	}
	s.Closers.Add("accounts", s.accounts.Close)

	fileKey := []byte(cfg.FileURLSecret)
	if cfg.FileURLSecret == "" {
		fileKey = fileurl.DeriveKey(cfg.JWTSecret)
	}
	files, err := fileurl.New(fileKey, cfg.FileURLTTL, nil)
	if err != nil {
		return nil, err
	}
	storage, err := s.openStorage(context.Background())
	if err != nil {
		return nil, err
	}
	mediaSvc, err := media.New(s.data, log, media.Config{Storage: storage, PublicURL: cfg.PublicURL, Files: files,
		Quota: cfg.UploadQuota, QRDecoders: cfg.QRDecoders, AvatarDecoders: cfg.AvatarDecoders, PerUserDecodes: cfg.DecodesPerUser})
	if err != nil {
		return nil, err
	}

	// Features register their HTTP routes here, one value each.
	features := []httpkit.Feature{
		httpapi.Media{Svc: mediaSvc},
		httpapi.QRCode{Svc: mediaSvc},
		httpkit.OpenAPI{Doc: httpapi.OpenAPIDoc},
		httpapi.Account{Svc: s.accounts, Limits: httpapi.Limits{
			SigninPerEmail: limiter(cfg.SigninPerEmail, cfg.RateKeys),
			SigninPerIP:    limiter(cfg.SigninPerIP, cfg.RateKeys),
			SignupPerIP:    limiter(cfg.SignupPerIP, cfg.RateKeys),
			SignupAll:      limiter(cfg.SignupAll, 1),
			ForgotPerEmail: limiter(cfg.ForgotPerEmail, cfg.RateKeys),
			ForgotPerIP:    limiter(cfg.ForgotPerIP, cfg.RateKeys),
			ResetPerIP:     limiter(cfg.ResetPerIP, cfg.RateKeys),
			ResetAll:       limiter(cfg.ResetAll, 1),
			VerifyPerUser:  limiter(cfg.VerifyPerUser, cfg.RateKeys),
		}},
	}
	features = append(features, s.relationFeatures(log, mediaSvc)...)
	s.api, err = httpkit.New(httpkit.Deps{
		Log:            log,
		Auth:           s.accounts,
		Ready:          s.data.Check,
		TrustedProxies: cfg.TrustedProxies,
		Features:       features,
		Outer:          []gin.HandlerFunc{httpkit.Metrics(s.reg)},
	})
	if err != nil {
		return nil, fmt.Errorf("http api: %w", err)
	}
	s.SetReady = s.api.SetReady
	s.HTTP = s.api.Server(cfg.HTTP)

	creds, err := tlsconfig.ServerCredentials(cfg.TLS)
	if err != nil {
		return nil, fmt.Errorf("server tls: %w", err)
	}
	s.GRPC = grpcapi.NewServer(log, grpcapi.Deps{Accounts: s.accounts, Directory: s.rel.follows, Groups: s.rel.groups,
		AuditLog: s.data, Audit: audit.New(log, s.data, tlsconfig.UserService)}, creds, cfg.Reflection, s.reg.GRPCServerOptions()...)

	if err := s.Listen(cfg.HTTPAddr, cfg.GRPCAddr); err != nil {
		return nil, err
	}
	return s, nil
}

func limiter(r config.Rate, keys int) *ratelimit.Limiter { return ratelimit.New(r.N, r.Per, keys) }

// MetricsAddr is where GET /metrics listens ("" when METRICS_ADDR is not set).
func (s *Server) MetricsAddr() string { return s.metrics.Addr() }
