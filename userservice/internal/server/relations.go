package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/privateim/privateim/foundation/httpkit"
	"github.com/privateim/privateim/userservice/internal/account"
	"github.com/privateim/privateim/userservice/internal/conversation"
	"github.com/privateim/privateim/userservice/internal/events"
	"github.com/privateim/privateim/userservice/internal/follow"
	"github.com/privateim/privateim/userservice/internal/friend"
	"github.com/privateim/privateim/userservice/internal/group"
	"github.com/privateim/privateim/userservice/internal/groupavatar"
	"github.com/privateim/privateim/userservice/internal/httpapi"
	"github.com/privateim/privateim/userservice/internal/media"
	"github.com/privateim/privateim/userservice/internal/messenger"
	"github.com/privateim/privateim/userservice/internal/relation"
	"github.com/privateim/privateim/userservice/internal/search"
	"github.com/privateim/privateim/userservice/internal/search/bleve"
	"github.com/privateim/privateim/userservice/internal/search/elastic"
)

// relations is what the people, group and follow features share: the
// search index and the relation-event publisher.
type relations struct {
	index  search.Index
	events relation.Publisher
	// flush waits until the events published so far reached NATS (a
	// no-op without NATS).
	flush   func(context.Context) error
	follows *follow.Service // set by relationFeatures; also served as gRPC Directory
	groups  *group.Service  // set by relationFeatures; also served as gRPC Admin/DismissGroup
	// deliverer hands group system messages to devices: the MessageService
	// when MESSAGE_ADDR is set, else nobody (devices catch up).
	deliverer group.Deliverer
	// notifier mirrors conversation settings to the user's devices: the
	// MessageService when MESSAGE_ADDR is set, else nobody.
	notifier conversation.Notifier
	marker   conversation.Marker // reads (POST .../read): the MessageService, else refused
}

// openRelations opens the search index (Elasticsearch when ES_URL is set,
// else bleve in SEARCH_DIR) and the relation-event publisher (NATS when
// NATS_URL is set, else one that drops events), registering their closers.
func (s *Server) openRelations(ctx context.Context) error {
	if s.cfg.ESURL != "" {
		x, err := elastic.New(ctx, elastic.Options{URL: s.cfg.ESURL, Log: s.log})
		if err != nil {
			return fmt.Errorf("search index: %w", err)
		}
		s.rel.index = x
	} else {
		x, err := bleve.Open(s.cfg.SearchDir)
		if err != nil {
			return fmt.Errorf("search index: %w", err)
		}
		s.rel.index = x
	}
	s.Closers.Add("search index", func(context.Context) error { return s.rel.index.Close() })

	s.rel.deliverer = group.NoDelivery{}
	s.rel.notifier, s.rel.marker = conversation.NoNotifier{}, conversation.NoMarker{}
	if s.cfg.MessageAddr != "" {
		m, err := messenger.Dial(s.cfg.MessageAddr, s.cfg.DataTLS, s.reg.GRPCDialOptions()...)
		if err != nil {
			return fmt.Errorf("messageservice client: %w", err)
		}
		s.rel.deliverer, s.rel.notifier, s.rel.marker = m, m, m
		s.Closers.Add("messageservice client", func(context.Context) error { return m.Close() })
	}

	if s.cfg.NATSURL == "" {
		s.rel.events = events.NewLogging(s.log)
		s.rel.flush = func(context.Context) error { return nil }
		return nil
	}
	p, err := events.Connect(s.cfg.NATSClient(), s.log)
	if err != nil {
		return fmt.Errorf("relation events: %w", err)
	}
	s.rel.events = p
	s.rel.flush = p.Flush
	s.Closers.Add("relation events", p.Close)
	return nil
}

// indexUser keeps a user's search document current (account.Deps.Changed):
// deleted users leave the index. The account is stored already, so a
// failure is logged, not returned.
func (s *Server) indexUser(ctx context.Context, u account.User) {
	var err error
	if u.Deleted {
		err = s.rel.index.Delete(ctx, search.KindUser, u.ID)
	} else {
		err = s.rel.index.Put(ctx, search.Doc{Kind: search.KindUser, ID: u.ID, Name: u.Name, Email: u.Email})
	}
	if err != nil {
		s.log.ErrorContext(ctx, "index user", "user", u.ID, "err", err)
	}
}

// revokeSessions announces that a user's tokens were revoked
// (account.Deps.Revoked): every message node holds that user's live
// messages, checks their connections again and closes those whose token no
// longer passes. The event is flushed before the request is answered, so
// a message sent after the answer finds the nodes holding already.
func (s *Server) revokeSessions(ctx context.Context, userID int64) {
	s.rel.events.Publish(ctx, relation.Event{Kind: relation.SessionsRevoked, UserID: userID, At: time.Now()})
	fctx, cancel := context.WithTimeout(ctx, revokeFlushTimeout)
	defer cancel()
	if err := s.rel.flush(fctx); err != nil {
		s.log.WarnContext(ctx, "sessions revoked: event not confirmed by nats", "user", userID, "err", err)
	}
}

// revokeFlushTimeout bounds the wait for NATS in revokeSessions: the
// change is stored, so a slow NATS delays the answer at most this much.
const revokeFlushTimeout = time.Second

// relationFeatures are the HTTP features of people, groups and follows.
func (s *Server) relationFeatures(log *slog.Logger, mediaSvc *media.Service) []httpkit.Feature {
	s.rel.follows = follow.New(follow.Deps{Store: s.data, Index: s.rel.index, Events: s.rel.events, Log: log})
	s.rel.groups = group.New(group.Deps{Store: s.data, Index: s.rel.index, Events: s.rel.events, Log: log,
		Deliverer: s.rel.deliverer, MemberLimit: s.cfg.GroupMemberLimit, MaxAdmins: s.cfg.GroupMaxAdmins})
	groups := s.rel.groups
	return []httpkit.Feature{
		httpapi.People{Svc: friend.New(friend.Deps{Store: s.data, Index: s.rel.index, Events: s.rel.events, Log: log})},
		httpapi.Groups{Svc: groups},
		httpapi.GroupAvatars{Groups: groups, Media: mediaSvc,
			Pictures: groupavatar.New(avatarSource{groups: groups, media: mediaSvc}, log, groupavatar.Config{Debounce: s.cfg.GroupAvatarDebounce})},
		httpapi.Follows{Svc: s.rel.follows},
		httpapi.Conversations{Svc: conversation.New(conversation.Deps{Store: s.data, Notifier: s.rel.notifier, Marker: s.rel.marker, Log: log, ReadersMaxMembers: s.cfg.GroupReceiptsMax})},
	}
}
