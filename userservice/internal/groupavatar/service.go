package groupavatar

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Member is what the picture shows of one member.
type Member struct {
	UserID int64
	Name   string
	Avatar string // URL; "" when none
}

// Source is where the picture's inputs come from.
type Source interface {
	// Members returns the group's uploaded avatar URL ("" when none) and,
	// when there is none, its first n members. Errors are the group
	// feature's (unknown group: a not-found *errs.Error).
	Members(ctx context.Context, groupID int64, n int) (uploaded string, members []Member, err error)
	// Avatar decodes a member's avatar; any error shows their initial.
	Avatar(ctx context.Context, url string) (image.Image, error)
}

// Config of the feature.
type Config struct {
	// Debounce is the least time between two drawings of one group's
	// picture: changes in between are drawn once it has passed (the
	// stale picture is served meanwhile). 0 means 10 s.
	Debounce time.Duration
	// MaxGroups bounds the pictures kept; the least recently drawn is
	// dropped first. 0 means 10,000 (about 20 KiB each).
	MaxGroups int
	Now       func() time.Time // time.Now when nil
}

// Picture is a group's avatar: an uploaded one's URL, or a drawn PNG.
type Picture struct {
	Uploaded string // URL of the uploaded avatar; PNG and ETag are empty then
	PNG      []byte
	ETag     string // changes with the members drawn
}

// Service draws and keeps the pictures. Safe for concurrent use.
//
// mu guards cache and is never held while drawing; draw (a one-slot
// semaphore) lets one picture be drawn at a time, each decoding up to nine
// avatars, so drawing never takes more than one picture's memory.
type Service struct {
	src  Source
	log  *slog.Logger
	cfg  Config
	draw chan struct{}

	mu    sync.Mutex
	cache map[int64]*drawn
}

type drawn struct {
	sig  string // the members and avatars it shows
	png  []byte
	etag string
	at   time.Time
}

// New returns the feature.
func New(src Source, log *slog.Logger, cfg Config) *Service {
	if cfg.Debounce <= 0 {
		cfg.Debounce = 10 * time.Second
	}
	if cfg.MaxGroups <= 0 {
		cfg.MaxGroups = 10000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{src: src, log: log, cfg: cfg, draw: make(chan struct{}, 1), cache: map[int64]*drawn{}}
}

// Picture returns the group's avatar: the uploaded one, or the picture of
// its first MaxCells members, drawn again when they (or their names or
// avatars) changed and the last drawing is at least Debounce old.
func (s *Service) Picture(ctx context.Context, groupID int64) (Picture, error) {
	uploaded, members, err := s.src.Members(ctx, groupID, MaxCells)
	if err != nil {
		return Picture{}, err
	}
	if uploaded != "" {
		return Picture{Uploaded: uploaded}, nil
	}
	sig := signature(members)
	now := s.cfg.Now()
	s.mu.Lock()
	d := s.cache[groupID]
	s.mu.Unlock()
	if d != nil && (d.sig == sig || now.Sub(d.at) < s.cfg.Debounce) {
		return Picture{PNG: d.png, ETag: d.etag}, nil
	}
	select {
	case s.draw <- struct{}{}:
	case <-ctx.Done():
		return Picture{}, ctx.Err()
	}
	defer func() { <-s.draw }()
	cells := make([]Cell, len(members))
	for i, m := range members {
		cells[i] = Cell{UserID: m.UserID, Name: m.Name}
		if m.Avatar == "" {
			continue
		}
		if img, err := s.src.Avatar(ctx, m.Avatar); err == nil {
			cells[i].Image = img
		} else {
			s.log.DebugContext(ctx, "group avatar: member avatar unreadable", "group", groupID, "user", m.UserID, "err", err)
		}
	}
	png, err := Encode(cells)
	if err != nil {
		return Picture{}, fmt.Errorf("draw avatar of group %d: %w", groupID, err)
	}
	sum := sha256.Sum256([]byte(sig))
	d = &drawn{sig: sig, png: png, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, at: now}
	s.mu.Lock()
	if len(s.cache) >= s.cfg.MaxGroups && s.cache[groupID] == nil {
		s.evictOldest()
	}
	s.cache[groupID] = d
	s.mu.Unlock()
	return Picture{PNG: d.png, ETag: d.etag}, nil
}

// evictOldest drops the least recently drawn picture; mu held. A scan:
// it runs only when the cache is full, once per new group drawn.
func (s *Service) evictOldest() {
	var oldest int64
	var at time.Time
	first := true
	for id, d := range s.cache {
		if first || d.at.Before(at) {
			oldest, at, first = id, d.at, false
		}
	}
	delete(s.cache, oldest)
}

// signature names what a picture shows.
func signature(ms []Member) string {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(strconv.FormatInt(m.UserID, 10))
		b.WriteByte(0)
		b.WriteString(m.Name)
		b.WriteByte(0)
		b.WriteString(m.Avatar)
		b.WriteByte(0)
	}
	return b.String()
}
